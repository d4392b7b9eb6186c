/* SPDX-License-Identifier: MIT */
/*
 * iommu.h - IOMMU units as the rest of the library sees them: creating and
 * destroying the emulated VT-d unit (src/iommu/emu/) and allocating a DMA
 * domain on it.  Everything a domain does afterwards goes through
 * struct dml_iommu_ops (domain.h), so nothing outside src/iommu/ knows the
 * unit's internals.
 */
#ifndef DML_IOMMU_IOMMU_H
#define DML_IOMMU_IOMMU_H

#include "domain.h"

/* The emulated VT-d unit (kernel-doc at the definitions, src/iommu/emu/emu.c) */
int dml__emu_iommu_create(struct dml_platform *p, const struct dml_iommu_opts *o,
			  struct dml_iommu **out);
void dml__emu_iommu_destroy(struct dml_iommu *iommu);
/* a DMA domain on @iommu; released with dml__domain_destroy() */
int dml__emu_domain_alloc(struct dml_iommu *iommu, struct dml_domain **out);

#endif /* DML_IOMMU_IOMMU_H */
