/* SPDX-License-Identifier: MIT */
/*
 * fixture_run.h - what the tests of leaving TDISP RUN share
 * (test_cc_leave_run.c, test_cc_run_threads.c): a confidential guest
 * with a GPU whose BAR is exported as a dma-buf and an NVMe drive behind
 * a VT-d unit on another root port (P2P through the whitelisted host
 * bridge), both bound to one TVM; and a small dynamic importer of the
 * GPU's private BAR for the NVMe (the PAL_PRIVATE mapping type, mapped
 * with the two-step API and DMA_ATTR_MMIO, unmapped when the exporter
 * invalidates, as KVM's or a peer driver's importer would).
 *
 * The importer's state is guarded by the buffer's reservation lock: the
 * exporter invalidates with it held and every other path takes it.
 */
#ifndef DML_TEST_CC_FIXTURE_RUN_H
#define DML_TEST_CC_FIXTURE_RUN_H

#include <dmalink/cc.h>
#include <dmalink/dma-buf.h>
#include <dmalink/dma-resv.h>
#include <dmalink/pci-p2pdma.h>
#include <stdatomic.h>
#include <string.h>

#include "testutil.h"

static const char run_topo[] =
	"cpu intel 6\n"
	"host     hb0  0000:00  8086:2020\n"
	"rootport rp0  hb0  01.0  8086:2030\n"
	"rootport rp1  hb0  02.0  8086:2031\n"
	"endpoint gpu  rp0  00.0  10de:20b0\n"
	"endpoint nvme rp1  00.0  144d:a808\n"
	"bar gpu 0 0x3000000000 1M\n";

#define RUN_BAR		0x3000000000ULL
#define RUN_OFF		0x1000ULL	/* the exported range in the BAR */
#define RUN_LEN		0x4000ULL

struct run_fx {
	struct dml_platform *p;
	struct dml_pci_dev *gpu, *nvme;
	struct dml_iommu *iommu;
	struct dml_device *nvme_dev;
	struct dml_tvm *tvm;
	struct dma_buf *buf;
};

/* the private BAR's importer on the NVMe */
struct run_imp {
	struct run_fx *f;
	struct dma_buf_attachment *a;
	struct dma_buf_phys_list *list;
	struct dma_iova_state st;
	bool mapped;
	atomic_uint invalidations;
};

/* bind, start and accept @pdev into the fixture's TVM */
static inline void run_accept(struct run_fx *f, struct dml_pci_dev *pdev)
{
	assert_int_equal(dml_tsm_bind(f->tvm, pdev), 0);
	assert_int_equal(dml_tdisp_start(pdev), 0);
	assert_int_equal(dml_tsm_accept(f->tvm, pdev), 0);
}

/* the machine, with both devices accepted and the BAR range exported */
static inline struct run_fx *run_fx_build(enum dml_cc_flavour flavour)
{
	const struct dml_dma_buf_range r = { .offset = RUN_OFF, .length = RUN_LEN };
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
	struct run_fx *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(NULL, &f->p), 0);
	assert_int_equal(dml_cc_platform_init(f->p, flavour, 0), 0);
	assert_int_equal(dml_pci_topology_parse(f->p, run_topo, strlen(run_topo),
						"run", err, sizeof(err)), 0);
	f->gpu = dml_test_pci_find(f->p, "gpu");
	f->nvme = dml_test_pci_find(f->p, "nvme");
	assert_int_equal(dml_iommu_create(f->p, NULL, &f->iommu), 0);
	o.pci_dev = f->nvme;
	o.iommu = f->iommu;
	assert_int_equal(dml_device_create(f->p, &o, &f->nvme_dev), 0);
	assert_int_equal(pcim_p2pdma_init(f->gpu), 0);
	assert_int_equal(dml_tvm_create(f->p, &f->tvm), 0);
	assert_int_equal(dml_pci_bar_dma_buf_export(f->gpu, 0, &r, 1, &f->buf), 0);
	run_accept(f, f->gpu);
	run_accept(f, f->nvme);
	return f;
}

static inline void run_fx_free(struct run_fx *f)
{
	dma_buf_put(f->buf);
	dml_tvm_destroy(f->tvm);
	dml_platform_destroy(f->p);
	free(f);
}

/* unmap (lock held): unlink the range, free the IOVA, give the PAL back */
static inline void run_imp_unmap_locked(struct run_imp *imp)
{
	if (!imp->mapped)
		return;
	dma_iova_destroy(imp->f->nvme_dev, &imp->st, RUN_LEN, DMA_BIDIRECTIONAL,
			 DMA_ATTR_MMIO);
	dma_buf_unmap_phys(imp->a, imp->list);
	imp->mapped = false;
}

/* map (lock held): the PAL_PRIVATE range linked at one IOVA; 0 or -errno */
static inline int run_imp_map_locked(struct run_imp *imp)
{
	struct dml_device *dev = imp->f->nvme_dev;
	phys_addr_t phys;
	int ret;

	if (imp->mapped)
		return 0;
	ret = dma_buf_map_phys(imp->a, &imp->list);
	if (ret)
		return ret;
	assert_int_equal(imp->list->nr_ranges, 1);
	phys = imp->list->phys[0].paddr;
	if (!dma_iova_try_alloc(dev, &imp->st, phys, RUN_LEN)) {
		dma_buf_unmap_phys(imp->a, imp->list);
		return -EOPNOTSUPP;
	}
	ret = dma_iova_link(dev, &imp->st, phys, 0, RUN_LEN, DMA_BIDIRECTIONAL,
			    DMA_ATTR_MMIO);
	if (ret) {
		dma_iova_free(dev, &imp->st);
		dma_buf_unmap_phys(imp->a, imp->list);
		return ret;
	}
	ret = dma_iova_sync(dev, &imp->st, 0, RUN_LEN);
	if (ret) {
		dma_iova_destroy(dev, &imp->st, RUN_LEN, DMA_BIDIRECTIONAL,
				 DMA_ATTR_MMIO);
		dma_buf_unmap_phys(imp->a, imp->list);
		return ret;
	}
	imp->mapped = true;
	return 0;
}

static inline void run_imp_invalidate(struct dma_buf_attachment *a)
{
	struct run_imp *imp = a->importer_priv;

	atomic_fetch_add(&imp->invalidations, 1);
	run_imp_unmap_locked(imp);
}

static const struct dma_buf_attach_ops run_imp_ops = {
	.allow_peer2peer = true,
	.invalidate_mappings = run_imp_invalidate,
};

/* attach the NVMe as a PAL_PRIVATE importer: 0 or the attach error */
static inline int run_imp_attach(struct run_fx *f, struct run_imp *imp)
{
	static const enum dma_buf_mapping_type types[] = {
		DMA_BUF_MAPPING_PAL_PRIVATE,
	};

	memset(imp, 0, sizeof(*imp));
	imp->f = f;
	return dma_buf_mapping_attach(f->buf, f->nvme_dev, types,
				      ARRAY_SIZE(types), &run_imp_ops, imp,
				      &imp->a);
}

static inline int run_imp_map(struct run_imp *imp)
{
	int ret;

	dma_resv_lock(imp->f->buf->resv, NULL);
	ret = run_imp_map_locked(imp);
	dma_resv_unlock(imp->f->buf->resv);
	return ret;
}

static inline void run_imp_detach(struct run_imp *imp)
{
	dma_resv_lock(imp->f->buf->resv, NULL);
	run_imp_unmap_locked(imp);
	dma_resv_unlock(imp->f->buf->resv);
	dma_buf_detach(imp->f->buf, imp->a);
}

#endif /* DML_TEST_CC_FIXTURE_RUN_H */
