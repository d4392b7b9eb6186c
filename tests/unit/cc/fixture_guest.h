/* SPDX-License-Identifier: MIT */
/*
 * fixture_guest.h - the confidential guest most cc tests start from
 * (test_cc_debug.c, test_cc_dma.c, test_cc_heap.c): an emulated platform
 * of one encryption flavour, a host bridge with one endpoint ("nic"), its
 * DMA device (dma-direct, or behind a VT-d unit), and one TVM.
 */
#ifndef DML_TEST_CC_FIXTURE_GUEST_H
#define DML_TEST_CC_FIXTURE_GUEST_H

#include <dmalink/cc.h>

#include "testutil.h"

struct cc_fx {
	struct dml_platform *p;
	struct dml_pci_dev *ep;
	struct dml_tvm *tvm;
	struct dml_device *dev;
	u64 bit;	/* the flavour's encryption bit; 0 for DML_CC_NONE */
};

/* @flavour may be DML_CC_NONE (no confidential guest) */
static inline struct cc_fx *cc_fx_build(enum dml_cc_flavour flavour,
					bool swiotlb_off, bool iommu)
{
	struct cc_fx *f = calloc(1, sizeof(*f));
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, swiotlb_off),
		.swiotlb_off = swiotlb_off,
	};
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
	struct dml_pci_dev *hb;

	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(&eo, &f->p), 0);
	if (flavour != DML_CC_NONE)
		assert_int_equal(dml_cc_platform_init(f->p, flavour, 0), 0);
	f->bit = flavour == DML_CC_SEV ? 1ULL << DML_CC_SEV_CBIT_DEFAULT :
		 flavour == DML_CC_TDX ? 1ULL << DML_CC_TDX_SHARED_DEFAULT : 0;
	assert_int_equal(dml_pci_host_bridge_add(f->p, 0, 0, 0, 0, NULL, &hb), 0);
	assert_int_equal(dml_pci_dev_add(hb, DML_PCI_ENDPOINT, 0x08, 0x15b3, 1,
					 "nic", &f->ep), 0);
	o.pci_dev = f->ep;
	if (iommu)
		assert_int_equal(dml_iommu_create(f->p, NULL, &o.iommu), 0);
	assert_int_equal(dml_device_create(f->p, &o, &f->dev), 0);
	assert_int_equal(dml_tvm_create(f->p, &f->tvm), 0);
	return f;
}

static inline void cc_fx_free(struct cc_fx *f)
{
	dml_tvm_destroy(f->tvm);
	dml_platform_destroy(f->p);
	free(f);
}

/* bind, start and accept the endpoint into the TVM (TDISP RUN) */
static inline void cc_fx_accept(struct cc_fx *f)
{
	assert_int_equal(dml_tsm_bind(f->tvm, f->ep), 0);
	assert_int_equal(dml_tdisp_start(f->ep), 0);
	assert_int_equal(dml_tsm_accept(f->tvm, f->ep), 0);
}

#endif /* DML_TEST_CC_FIXTURE_GUEST_H */
