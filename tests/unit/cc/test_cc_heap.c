/* SPDX-License-Identifier: MIT */
/*
 * test_cc_heap.c - the decrypted system heap of a confidential guest
 * (issue 10 item 5, ref §7.5: Jiri Pirko's proposed system_cc_decrypted
 * heap, "pages decrypted via set_memory_decrypted, re-encrypted or leaked
 * on free"; DMA_ATTR_CC_SHARED / _CC_DECRYPTED: "the caller has already
 * arranged for the memory to be decrypted ... map directly using the
 * unencrypted physical address rather than bounce buffering"): its pages
 * are shared while the buffer lives and private again after it; an
 * importer whose device is not accepted gets them in the unencrypted
 * encoding, bit for bit, with no bounce, and its DMA moves the bytes;
 * only SGT is offered; a platform that is not a confidential guest has
 * no such heap.
 */
#include <dmalink/cc.h>
#include <dmalink/dma-buf-exporter.h>
#include <dmalink/dma-buf-importer.h>
#include <dmalink/dma-resv.h>
#include <dmalink/scatterlist.h>
#include <string.h>

#include "fixture_guest.h"

#define LEN	(64 * 1024)
#define NPG	(LEN / PAGE_SIZE)

static void swiotlb_untouched(struct cc_fx *f)
{
	struct dml_swiotlb_stats st;

	assert_int_equal(dml_swiotlb_get_stats(f->p, &st), 0);
	assert_int_equal(st.maps, 0);
	assert_int_equal(st.bounced_bytes, 0);
}

/* the CPU writes page @pg's pattern @seed through the exporter's mmap */
static void cpu_fill(struct dma_buf *buf, u8 seed)
{
	unsigned int pg, i;
	u8 *m;

	assert_int_equal(dma_buf_begin_cpu_access(buf, DMA_TO_DEVICE), 0);
	for (pg = 0; pg < NPG; pg++) {
		assert_int_equal(dma_buf_mmap(buf, pg, PAGE_SIZE, (void **)&m), 0);
		for (i = 0; i < PAGE_SIZE; i++)
			m[i] = (u8)(seed + pg * 31 + i);
	}
	assert_int_equal(dma_buf_end_cpu_access(buf, DMA_TO_DEVICE), 0);
}

/*
 * Map the heap for the device by hand (the exporter's sg table) and check
 * every page: shared while the buffer lives, its DMA address the shared
 * encoding of its physical address bit for bit (SEV: C-bit clear, the
 * address is the physical one; TDX: the shared bit set on top of it),
 * nothing bounced.  Records the pages in @phys for the release check.
 */
static void check_sgt_shared(struct cc_fx *f, struct dma_buf *buf,
			     phys_addr_t *phys, bool direct)
{
	struct dma_buf_attachment *a;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i, n = 0;

	assert_int_equal(dma_buf_attach(buf, f->dev, &a), 0);
	assert_int_equal(a->map_type, DMA_BUF_MAPPING_SGT);
	dma_resv_lock(buf->resv, NULL);
	assert_int_equal(dma_buf_map_attachment(a, DMA_BIDIRECTIONAL, &sgt), 0);
	for_each_sg(sgt->sgl, sg, sgt->orig_nents, i) {
		u64 off;

		assert_true(dml_cc_phys_shared(f->p, sg_phys(sg), sg->length));
		for (off = 0; off < sg->length; off += PAGE_SIZE)
			phys[n++] = sg_phys(sg) + off;
		if (!direct)
			continue;
		assert_int_equal(sg_dma_address(sg),
				 phys_to_dma_unencrypted(f->dev, sg_phys(sg)));
		if (f->bit == 1ULL << DML_CC_TDX_SHARED_DEFAULT)
			assert_int_equal(sg_dma_address(sg), sg_phys(sg) | f->bit);
		else
			assert_int_equal(sg_dma_address(sg), sg_phys(sg));
	}
	assert_int_equal(n, NPG);
	dma_buf_unmap_attachment(a, sgt, DMA_BIDIRECTIONAL);
	dma_resv_unlock(buf->resv);
	dma_buf_detach(buf, a);
	swiotlb_untouched(f);
}

/* the device reads the buffer through @imp, finds @seed, then writes 0xd7 */
static void device_moves_bytes(struct cc_fx *f, struct dma_buf *buf,
			       struct dml_dma_buf_importer *imp, u8 seed)
{
	u8 *got = malloc(LEN), *m;
	u64 off = 0, n;
	dma_addr_t dma;
	unsigned int i;

	assert_non_null(got);
	while (off < LEN) {
		assert_int_equal(dml_dma_buf_importer_dma(imp, off, &dma, &n), 0);
		n = min(n, LEN - off);
		assert_int_equal(dml_dev_dma_read(f->dev, dma, got + off, n), 0);
		memset(got + off, 0xd7, min(n, (u64)16));
		assert_int_equal(dml_dev_dma_write(f->dev, dma, got + off, 16), 0);
		off += n;
	}
	for (i = 16; i < LEN; i++)
		if ((i % PAGE_SIZE) >= 16)
			assert_int_equal(got[i], (u8)(seed + (i / PAGE_SIZE) * 31 +
						      i % PAGE_SIZE));
	assert_int_equal(dma_buf_mmap(buf, 0, PAGE_SIZE, (void **)&m), 0);
	assert_int_equal(m[0], 0xd7);
	assert_int_equal(m[15], 0xd7);
	free(got);
	swiotlb_untouched(f);
}

/*
 * A device that is not accepted (or, with @accept, one accepted into the
 * TVM: the memory is shared either way) imports the heap: the static
 * importer and the RDMA importer both get SGT, the iommufd importer (PAL
 * only) cannot attach; every page is shared and reached directly; the
 * device reads what the CPU wrote and the CPU sees what it wrote back.
 * Releasing the buffer makes every page private again.
 */
static void check_heap(enum dml_cc_flavour flavour, bool iommu, bool accept)
{
	struct cc_fx *f = cc_fx_build(flavour, false, iommu);
	struct dml_dma_buf_importer *st, *rdma, *iommufd = NULL;
	phys_addr_t phys[NPG];
	struct dma_buf *buf;
	unsigned int i;

	if (accept)
		cc_fx_accept(f);
	assert_int_equal(dml_system_cc_decrypted_heap_alloc(f->p, "4k-random",
							    LEN, &buf), 0);
	check_sgt_shared(f, buf, phys, !iommu);
	cpu_fill(buf, 5);
	assert_int_equal(dml_dma_buf_import(buf, f->dev, DML_DMA_BUF_IMPORTER_STATIC,
					    DMA_BIDIRECTIONAL, &st), 0);
	device_moves_bytes(f, buf, st, 5);
	dml_dma_buf_importer_destroy(st);

	cpu_fill(buf, 9);
	assert_int_equal(dml_dma_buf_import(buf, f->dev, DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_BIDIRECTIONAL, &rdma), 0);
	assert_int_equal(dml_dma_buf_importer_attachment(rdma)->map_type,
			 DMA_BUF_MAPPING_SGT);
	device_moves_bytes(f, buf, rdma, 9);
	dml_dma_buf_importer_destroy(rdma);
	assert_int_equal(dml_dma_buf_import(buf, f->dev, DML_DMA_BUF_IMPORTER_IOMMUFD,
					    DMA_BIDIRECTIONAL, &iommufd), -EOPNOTSUPP);
	assert_null(iommufd);

	/* set_memory_encrypted() at release: private again, scrubbed */
	dma_buf_put(buf);
	for (i = 0; i < NPG; i++) {
		u8 *m = dml_kmap_local_phys(f->p, phys[i], PAGE_SIZE);

		assert_false(dml_cc_phys_shared(f->p, phys[i], PAGE_SIZE));
		assert_int_equal(m[0], 0);
		assert_int_equal(m[PAGE_SIZE - 1], 0);
	}
	cc_fx_free(f);
}

static void test_sev_direct(void **state)
{
	(void)state;
	check_heap(DML_CC_SEV, false, false);
}

static void test_tdx_direct(void **state)
{
	(void)state;
	check_heap(DML_CC_TDX, false, false);
}

static void test_tdx_iommu(void **state)
{
	(void)state;
	check_heap(DML_CC_TDX, true, false);
}

static void test_sev_accepted(void **state)
{
	(void)state;
	check_heap(DML_CC_SEV, false, true);
}

/*
 * "On non-CoCo VMs, the system_cc_decrypted heap is not registered":
 * -ENODEV; bad arguments -EINVAL; the plain system heap still works there
 */
static void test_refused(void **state)
{
	struct dml_platform *p;
	struct dma_buf *buf = NULL;
	struct cc_fx *f;

	(void)state;
	assert_int_equal(dml_platform_create_emu(NULL, &p), 0);
	assert_int_equal(dml_system_cc_decrypted_heap_alloc(p, NULL, LEN, &buf),
			 -ENODEV);
	assert_null(buf);
	assert_int_equal(dml_system_heap_alloc(p, NULL, LEN, &buf), 0);
	dma_buf_put(buf);
	dml_platform_destroy(p);
	assert_int_equal(dml_system_cc_decrypted_heap_alloc(NULL, NULL, LEN, &buf),
			 -EINVAL);

	f = cc_fx_build(DML_CC_SEV, false, false);
	buf = NULL;
	assert_int_equal(dml_system_cc_decrypted_heap_alloc(f->p, NULL, 0, &buf),
			 -EINVAL);
	assert_int_equal(dml_system_cc_decrypted_heap_alloc(f->p, "bogus", LEN,
							    &buf), -EINVAL);
	assert_int_equal(dml_system_cc_decrypted_heap_alloc(f->p, NULL, LEN, NULL),
			 -EINVAL);
	assert_null(buf);
	cc_fx_free(f);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_sev_direct),
	cmocka_unit_test(test_tdx_direct),
	cmocka_unit_test(test_tdx_iommu),
	cmocka_unit_test(test_sev_accepted),
	cmocka_unit_test(test_refused),
};

DML_TEST_MAIN(tests)
