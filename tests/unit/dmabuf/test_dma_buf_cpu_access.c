/* SPDX-License-Identifier: MIT */
/*
 * test_dma_buf_cpu_access.c - the checker's dma-buf category and the
 * proposed CPU-access capability (shared/reference/kernel-dma-semantics.md
 * §7.1 "importers must not touch the pages behind the sg_table ... CPU
 * access only through exporter-mediated calls", §9 item 22): an importer
 * that touches the memory behind its mapping (here the PAL's physical
 * addresses) is reported once per buffer and window; access inside
 * begin/end_cpu_access, before any mapping or after the last unmap is
 * not; an importer that asks for CPU access at attach gets it only from
 * an exporter that grants it, and then touches the memory without report.
 */
#include <dmalink/dma-buf-exporter.h>
#include <dmalink/dma-buf-importer.h>

#include "dmabuf/fixture_p2p.h"

#define LEN	(16 * 1024)

/* exactly @n reports so far, all of the dma-buf category; then forget */
static void dmabuf_reports(u64 n)
{
	assert_int_equal(dml_dma_debug_error_count(), n);
	assert_int_equal(dml_dma_debug_category_count(
				 DML_DMA_DEBUG_DMABUF_CPU_ACCESS), n);
	dml_dma_debug_clear_errors();
}

/* what an importer that misbehaves does: the CPU touches PAL memory */
static void touch(struct fxp *f, struct dma_buf_attachment *a)
{
	struct dma_buf_phys_list *pl;

	dma_resv_lock(a->dmabuf->resv, NULL);
	assert_int_equal(dma_buf_map_phys(a, &pl), 0);
	dma_resv_unlock(a->dmabuf->resv);
	assert_non_null(dml_kmap_local_phys(f->p, pl->phys[0].paddr, 64));
	dma_resv_lock(a->dmabuf->resv, NULL);
	dma_buf_unmap_phys(a, pl);
	dma_resv_unlock(a->dmabuf->resv);
}

/*
 * "importers must not touch the pages behind the sg_table (with
 * CONFIG_DMABUF_DEBUG the core scrambles page_link to catch this)"
 */
static void test_importer_touches_memory(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct dml_dma_buf_importer *imp;
	struct dma_buf *buf;
	void *m;

	*state = f;
	assert_int_equal(dml_system_heap_alloc(f->p, NULL, LEN, &buf), 0);
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_TO_DEVICE, &imp), 0);
	touch(f, dml_dma_buf_importer_attachment(imp));
	touch(f, dml_dma_buf_importer_attachment(imp));	/* once per window */
	dmabuf_reports(1);

	/* through the exporter: no report */
	assert_int_equal(dma_buf_begin_cpu_access(buf, DMA_TO_DEVICE), 0);
	touch(f, dml_dma_buf_importer_attachment(imp));
	assert_int_equal(dma_buf_mmap(buf, 0, 4096, &m), 0);
	memset(m, 1, 4096);
	assert_int_equal(dma_buf_end_cpu_access(buf, DMA_TO_DEVICE), 0);
	dmabuf_reports(0);

	/* the window closed: the next touch is reported again */
	touch(f, dml_dma_buf_importer_attachment(imp));
	dmabuf_reports(1);
	dml_dma_buf_importer_destroy(imp);
	dma_buf_put(buf);
}

/* memory no importer has mapped is the exporter's: no report */
static void test_unmapped_memory_is_free(void **state)
{
	static const enum dma_buf_mapping_type pal[] = { DMA_BUF_MAPPING_PAL };
	static const struct dma_buf_attach_ops ops = {
		.allow_peer2peer = true,
		.invalidate_mappings = invalidate_nop,
	};
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct dma_buf_phys_list *pl;
	struct dma_buf_attachment *a;
	struct dma_buf *buf;
	phys_addr_t phys;

	*state = f;
	assert_int_equal(dml_system_heap_alloc(f->p, NULL, LEN, &buf), 0);
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, pal, 1, &ops,
						NULL, &a), 0);
	dma_resv_lock(buf->resv, NULL);
	assert_int_equal(dma_buf_map_phys(a, &pl), 0);
	phys = pl->phys[0].paddr;
	dma_buf_unmap_phys(a, pl);
	dma_resv_unlock(buf->resv);
	assert_non_null(dml_kmap_local_phys(f->p, phys, 64));	/* unmapped */
	dmabuf_reports(0);
	touch(f, a);	/* mapped around the access */
	dmabuf_reports(1);
	dma_buf_detach(buf, a);
	dma_buf_put(buf);
	dmabuf_reports(0);
}

/*
 * the proposed capability: "if the importer needs CPU access and the
 * exporter cannot provide it, the attachment fails"; granted, the
 * importer may touch the memory
 */
static void test_cpu_access_granted_at_attach(void **state)
{
	static const enum dma_buf_mapping_type pal[] = { DMA_BUF_MAPPING_PAL };
	static const struct dma_buf_attach_ops cpu_ops = {
		.allow_peer2peer = true,
		.invalidate_mappings = invalidate_nop,
		.needs_cpu_access = true,
	};
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct dma_buf_attachment *a = NULL;
	struct dma_buf *heap, *bar;
	struct phys_vec v[4];

	*state = f;
	bar = lib_bar_export(f, f->ssd, SSD_BAR, v);
	assert_int_equal(dma_buf_mapping_attach(bar, f->nic_dev, pal, 1,
						&cpu_ops, NULL, &a),
			 -EOPNOTSUPP);
	assert_null(a);
	assert_int_equal(dml_system_heap_alloc(f->p, NULL, LEN, &heap), 0);
	assert_int_equal(dma_buf_mapping_attach(heap, f->nic_dev, pal, 1,
						&cpu_ops, NULL, &a), 0);
	touch(f, a);
	dmabuf_reports(0);
	dma_buf_detach(heap, a);
	dma_buf_put(heap);
	dma_buf_put(bar);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_teardown(test_importer_touches_memory, fxp_teardown),
	cmocka_unit_test_teardown(test_unmapped_memory_is_free, fxp_teardown),
	cmocka_unit_test_teardown(test_cpu_access_granted_at_attach,
				  fxp_teardown),
};

DML_TEST_MAIN(tests)
