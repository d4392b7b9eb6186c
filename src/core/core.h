/* SPDX-License-Identifier: MIT */
/*
 * core.h - the platform and device objects behind the opaque handles of
 * dmalink.h.  A platform is an emulated machine or the VFIO host; a device
 * is what every DMA call takes (the kernel's struct device).  Mappings
 * belong to a domain, not to a device attach (shared/DESIGN.md).
 */
#ifndef DML_CORE_H
#define DML_CORE_H

#include <pthread.h>

#include "../base/base.h"
#include "../mem/mem.h"
#include "../iommu/domain.h"

enum dml_platform_kind {
	DML_PLATFORM_EMU,
	DML_PLATFORM_VFIO,
};

#define DML_MAX_IOMMUS 8

struct dml_platform {
	enum dml_platform_kind kind;
	struct dml_mem mem;		/* EMU: the physical address space */
	u64 seed;
	pthread_mutex_t lock;		/* device list, iommu list */
	struct dml_iommu *iommus[DML_MAX_IOMMUS];
	unsigned int nr_iommus;
	struct dml_device *devices;
	atomic_ullong direct_faults;
	void *backend;			/* VFIO: container state */
	void (*backend_fini)(struct dml_platform *p);
	/* EMU, created on first use, released by dml_platform_destroy() */
	u64 swiotlb_size;		/* bytes; 0: no bounce buffers */
	struct dml_swiotlb *_Atomic swiotlb;	/* src/dma/swiotlb.c */
	struct dml_cache *_Atomic cache;	/* src/mem/cache.c */
	struct dml_coherent *_Atomic coherent;	/* src/dma/coherent.c */
};

struct dml_device {
	struct dml_platform *plat;
	struct dml_device *next;
	char name[32];
	u16 source_id;
	bool pci;
	bool non_coherent;
	bool untrusted;
	bool force_bounce;		/* dma-direct: bounce every mapping */
	unsigned int min_align_mask;	/* dma_get_min_align_mask() */
	u64 dma_mask;
	u64 coherent_dma_mask;
	u64 bus_dma_limit;		/* 0: none */
	unsigned int max_segment_size;
	unsigned long seg_boundary_mask;
	struct dml_iommu *iommu;	/* EMU: unit; NULL for direct */
	struct dml_domain *domain;	/* NULL: dma-direct */
	bool owns_domain;
	atomic_bool pci_32bit_workaround;	/* try below 4 GiB first */
	atomic_bool dma_skip_sync_off;	/* dma_need_unmap(): ever bounced */
	atomic_ullong bytes_read;
	atomic_ullong bytes_written;
	atomic_ullong faults;
	void *backend;			/* VFIO: the device */
	void (*backend_fini)(struct dml_device *dev);
};

/*
 * dml__cpu_access_hook - called by dml_kmap_local_phys() for every CPU
 * mapping of emulated memory while it is set (by the DMA checker,
 * src/dma/debug.c, while it is on); NULL otherwise.
 */
typedef void (*dml_cpu_access_fn)(struct dml_platform *p, phys_addr_t phys,
				  u64 len);
extern _Atomic(dml_cpu_access_fn) dml__cpu_access_hook
	__attribute__((visibility("hidden")));

/* per-platform state torn down by dml_platform_destroy() */
void dml__swiotlb_destroy(struct dml_platform *p);
void dml__cache_destroy(struct dml_platform *p);
void dml__coherent_destroy(struct dml_platform *p);
int dml__cache_prepare(struct dml_platform *p);

/* dml__device_add - link a device the backend built into its platform */
void dml__device_add(struct dml_platform *p, struct dml_device *dev);
/* dml__domain_destroy - dml__domain_fini() then the backend's free */
void dml__domain_destroy(struct dml_domain *d);

/* ---- the emulated IOMMU (src/iommu/emu/) ---- */

int dml__emu_iommu_create(struct dml_platform *p, const struct dml_iommu_opts *o,
			  struct dml_iommu **out);
void dml__emu_iommu_destroy(struct dml_iommu *iommu);
/* a new DMA domain on @iommu with dml__domain_init() done */
int dml__emu_domain_alloc(struct dml_iommu *iommu, struct dml_domain **out);
/*
 * dml__emu_translate - a device access at @iova through the IOTLB and the
 * page walk.  On success *@phys is the address and *@contig the bytes from
 * @iova to the end of the translated page.  On a fault (not present, not
 * yet synced in caching mode, permission) the fault is logged and counted
 * and -EFAULT returned.  A hit on a stale IOTLB entry (unmapped without
 * invalidation) still translates, as hardware would, but is logged as a
 * DML_FAULT_STALE_IOTLB fault and counted in stale_hits.
 */
int dml__emu_translate(struct dml_iommu *iommu, struct dml_domain *d,
		       u16 source_id, dml_iova_t iova, bool write,
		       phys_addr_t *phys, u64 *contig);

#endif /* DML_CORE_H */
