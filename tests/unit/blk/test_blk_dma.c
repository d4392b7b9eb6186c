/* SPDX-License-Identifier: MIT */
/*
 * test_blk_dma.c - the block request model and the request DMA iterator
 * (shared/reference/kernel-dma-semantics.md §3.1-3.2, §9 items 15, 16,
 * 18): empty requests, physical merging across bios, max segment size and
 * segment boundary splitting, the IOVA path only when the gap mask meets
 * the merge boundary, per-segment dma_map_phys() otherwise, its failure
 * as BLK_STS_RESOURCE, the integrity twins, and an unmap that mirrors the
 * map.  The device reads the bytes back through what the iterator gave.
 */
#include <dmalink/blk-mq-dma.h>

#include "dma/fixture.h"

#define RAM0 0x200000ULL

static const struct queue_limits nvme_lim = {
	.max_segment_size = 1u << 20,
	.virt_boundary_mask = 4095,
	.dma_alignment = 3,
};

struct seg {
	dma_addr_t addr;
	u32 len;
};

/* map all of @rq (payload or integrity); return segments, or -status */
static int map_all(struct fx *f, struct request *rq, bool integrity,
		   struct dma_iova_state *st, struct blk_dma_iter *it,
		   struct seg *segs, int max)
{
	bool more = integrity ? blk_rq_integrity_dma_map_iter_start(rq, f->dev, st, it)
			      : blk_rq_dma_map_iter_start(rq, f->dev, st, it);
	int n = 0;

	while (more) {
		assert_true(n < max);
		segs[n].addr = it->addr;
		segs[n++].len = it->len;
		more = integrity ? blk_rq_integrity_dma_map_iter_next(rq, f->dev, st, it)
				 : blk_rq_dma_map_iter_next(rq, f->dev, st, it);
	}
	return it->status == BLK_STS_OK ? n : -(int)it->status;
}

/* §3.1 blk_rq_dma_unmap(): per-segment unmap when it returns false */
static void unmap_all(struct fx *f, struct request *rq, struct dma_iova_state *st,
		      struct blk_dma_iter *it, const struct seg *segs, int n,
		      u32 total)
{
	int i;

	if (blk_rq_dma_unmap(rq, f->dev, st, total, it->p2pdma.map))
		return;
	for (i = 0; i < n; i++)
		dma_unmap_phys(f->dev, segs[i].addr, segs[i].len, rq->dir, 0);
}

/* the device reads the segments in order: the request's bytes, by piece */
static void device_reads(struct fx *f, const struct seg *segs, int n,
			 const struct bio_vec *v, int nv, u8 seed)
{
	size_t total = 0, off = 0;
	u8 *buf, *want;
	int i;

	for (i = 0; i < nv; i++)
		total += v[i].bv_len;
	buf = malloc(total);
	want = malloc(total);
	assert_non_null(buf);
	assert_non_null(want);
	for (i = 0; i < n; i++) {
		assert_int_equal(dml_dev_dma_read(f->dev, segs[i].addr, buf + off,
						  segs[i].len), 0);
		off += segs[i].len;
	}
	assert_int_equal(off, total);
	for (off = 0, i = 0; i < nv; i++) {
		u8 *p = dml_kmap_local_phys(f->p, v[i].bv_phys, v[i].bv_len);

		memcpy(want + off, p, v[i].bv_len);
		off += v[i].bv_len;
	}
	assert_memory_equal(buf, want, total);
	(void)seed;
	free(buf);
	free(want);
}

/* §9 item 15: an empty request (a flush) yields nothing, status OK */
static void test_empty_request(void **state)
{
	struct fx *f = *state;
	struct request rq;
	struct dma_iova_state st;
	struct blk_dma_iter it;

	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, NULL), 0);
	assert_int_equal(rq.data_len, 0);
	assert_false(blk_rq_dma_map_iter_start(&rq, f->dev, &st, &it));
	assert_int_equal(it.status, BLK_STS_OK);
	assert_false(blk_rq_dma_map_coalesce(&st));
}

/* what bio splitting guarantees is checked; a bad request is untouched */
static void test_rq_init_rejects(void **state)
{
	struct bio_vec zero = { RAM0, 0 }, odd = { RAM0 + 1, 512 };
	struct bio_vec gap[2] = { { RAM0, 2048 }, { RAM0 + 8192, 4096 } };
	struct bio b = { .bi_io_vec = &zero, .bi_vcnt = 1 };
	struct request rq = { .data_len = 77 };

	(void)state;
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b), -EINVAL);
	b.bi_io_vec = &odd;		/* dma_alignment 3 */
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b), -EINVAL);
	b.bi_io_vec = gap;		/* ends mid-page before a gap */
	b.bi_vcnt = 2;
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b), -EINVAL);
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_NONE, NULL), -EINVAL);
	assert_int_equal(dml_blk_rq_init(NULL, &nvme_lim, DMA_TO_DEVICE, NULL), -EINVAL);
	assert_int_equal(rq.data_len, 77);
}

/*
 * §3.2: pieces merge across bios while physically contiguous; without an
 * IOMMU each merged segment is one dma_map_phys().
 */
static void test_merge_across_bios(void **state)
{
	struct fx *f = fx_create(&(struct fx_opts){ .no_iommu = true });
	struct bio_vec a[2] = { { RAM0, 4096 }, { RAM0 + 4096, 4096 } };
	struct bio_vec b[2] = { { RAM0 + 8192, 4096 }, { RAM0 + 0x10000, 4096 } };
	struct bio b2 = { .bi_io_vec = b, .bi_vcnt = 2 };
	struct bio b1 = { .bi_next = &b2, .bi_io_vec = a, .bi_vcnt = 2 };
	struct bio_vec all[4] = { a[0], a[1], b[0], b[1] };
	struct request rq;
	struct dma_iova_state st;
	struct blk_dma_iter it;
	struct seg segs[8];
	int n;

	(void)state;
	fx_fill(f, RAM0, 0x20000, 3);
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b1), 0);
	assert_int_equal(rq.nr_phys_segments, 2);
	assert_int_equal(rq.data_len, 16384);
	n = map_all(f, &rq, false, &st, &it, segs, 8);
	assert_int_equal(n, 2);
	assert_int_equal(segs[0].len, 12288);
	assert_int_equal(segs[1].len, 4096);
	assert_false(blk_rq_dma_map_coalesce(&st));
	device_reads(f, segs, n, all, 4, 3);
	unmap_all(f, &rq, &st, &it, segs, n, rq.data_len);
	fx_destroy(f);
}

/* §3.2: a segment is capped by max_segment_size and the segment boundary */
static void test_split_limits(void **state)
{
	struct fx *f = fx_create(&(struct fx_opts){ .no_iommu = true });
	struct queue_limits lim = { .max_segment_size = 4096 };
	struct bio_vec v = { RAM0 + 0x800, 12288 };
	struct bio b = { .bi_io_vec = &v, .bi_vcnt = 1 };
	struct request rq;
	struct dma_iova_state st;
	struct blk_dma_iter it;
	struct seg segs[8];
	int n, i;

	(void)state;
	fx_fill(f, RAM0, 0x10000, 9);
	assert_int_equal(dml_blk_rq_init(&rq, &lim, DMA_TO_DEVICE, &b), 0);
	n = map_all(f, &rq, false, &st, &it, segs, 8);
	assert_int_equal(n, 3);
	assert_int_equal(rq.nr_phys_segments, 3);
	for (i = 0; i < n; i++)
		assert_int_equal(segs[i].len, 4096);
	device_reads(f, segs, n, &v, 1, 9);
	unmap_all(f, &rq, &st, &it, segs, n, rq.data_len);

	/* a 64 KiB boundary: 0x800 before it is one segment, the rest another */
	lim.max_segment_size = 1u << 20;
	lim.seg_boundary_mask = 0xffff;
	v.bv_phys = RAM0 + 0xf800;
	assert_int_equal(dml_blk_rq_init(&rq, &lim, DMA_TO_DEVICE, &b), 0);
	n = map_all(f, &rq, false, &st, &it, segs, 8);
	assert_int_equal(n, 2);
	assert_int_equal(segs[0].len, 0x800);
	assert_int_equal(segs[1].len, 12288 - 0x800);
	unmap_all(f, &rq, &st, &it, segs, n, rq.data_len);
	fx_destroy(f);
}

/*
 * §9 items 15, 16: behind an IOMMU, scattered page-aligned pieces (gap
 * mask within the merge boundary) become one IOVA segment of the whole
 * length; the device reads every byte through it; unmap destroys it.
 */
static void test_iova_one_segment(void **state)
{
	struct fx *f = *state;
	struct bio_vec v[8];
	struct bio b = { .bi_io_vec = v, .bi_vcnt = 8 };
	struct request rq;
	struct dma_iova_state st;
	struct blk_dma_iter it;
	struct seg segs[8];
	u8 byte;
	int i, n;

	for (i = 0; i < 8; i++) {
		v[i].bv_phys = RAM0 + (u64)(7 - i) * 0x3000;	/* backwards, apart */
		v[i].bv_len = 4096;
	}
	v[0].bv_phys += 512;		/* only the first may start mid-page */
	v[0].bv_len -= 512;
	v[7].bv_len = 1024;		/* and only the last end mid-page */
	fx_fill(f, RAM0, 0x20000, 5);
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b), 0);
	n = map_all(f, &rq, false, &st, &it, segs, 8);
	assert_int_equal(n, 1);
	assert_true(blk_rq_dma_map_coalesce(&st));
	assert_int_equal(segs[0].len, rq.data_len);
	assert_int_equal(segs[0].addr, st.addr);
	device_reads(f, segs, n, v, 8, 5);
	assert_true(blk_rq_dma_unmap(&rq, f->dev, &st, rq.data_len, it.p2pdma.map));
	assert_false(dma_use_iova(&st));
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	assert_int_not_equal(dml_dev_dma_read(f->dev, segs[0].addr, &byte, 1), 0);
}

/*
 * §9 item 16: pieces meeting mid-granule (512-byte aligned, no virt
 * boundary) may not share one IOVA range: one dma_map_phys() each, and
 * blk_rq_dma_unmap() leaves them to the caller.
 */
static void test_gap_forces_per_segment(void **state)
{
	struct fx *f = *state;
	struct queue_limits lim = { .dma_alignment = 511 };
	struct bio_vec v[3] = { { RAM0, 1536 }, { RAM0 + 0x4200, 2048 },
				{ RAM0 + 0x9000, 4096 } };
	struct bio b = { .bi_io_vec = v, .bi_vcnt = 3 };
	struct request rq;
	struct dma_iova_state st;
	struct blk_dma_iter it;
	struct seg segs[8];
	int n;

	fx_fill(f, RAM0, 0x10000, 11);
	assert_int_equal(dml_blk_rq_init(&rq, &lim, DMA_FROM_DEVICE, &b), 0);
	assert_int_not_equal(rq.gap_mask & dma_get_merge_boundary(f->dev), 0);
	rq.dir = DMA_BIDIRECTIONAL;	/* the device reads back what it sees */
	n = map_all(f, &rq, false, &st, &it, segs, 8);
	assert_int_equal(n, 3);
	assert_false(blk_rq_dma_map_coalesce(&st));
	device_reads(f, segs, n, v, 3, 11);
	assert_false(blk_rq_dma_unmap(&rq, f->dev, &st, rq.data_len, it.p2pdma.map));
	unmap_all(f, &rq, &st, &it, segs, n, rq.data_len);
}

/* §9 item 15: dma_map_phys() failing is BLK_STS_RESOURCE */
static void test_map_failure_resource(void **state)
{
	struct fx *f = fx_create(&(struct fx_opts){ .no_iommu = true,
		.dma_mask = DMA_BIT_MASK(24), .swiotlb_off = true });
	struct bio_vec v = { 0x2000000, 4096 };	/* above the 16 MiB mask */
	struct bio b = { .bi_io_vec = &v, .bi_vcnt = 1 };
	struct request rq;
	struct dma_iova_state st;
	struct blk_dma_iter it;

	(void)state;
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b), 0);
	assert_false(blk_rq_dma_map_iter_start(&rq, f->dev, &st, &it));
	assert_int_equal(it.status, BLK_STS_RESOURCE);
	fx_destroy(f);
}

/* §3.1: the integrity twins walk bi_integrity; IOVA length = its bytes */
static void test_integrity(void **state)
{
	struct fx *f = *state;
	struct bio_vec d[2] = { { RAM0, 4096 }, { RAM0 + 0x8000, 4096 } };
	struct bio_vec m1 = { RAM0 + 0x10000, 4096 }, m2 = { RAM0 + 0x12000, 64 };
	struct bio_integrity_payload p1 = { &m1, 1 }, p2 = { &m2, 1 };
	struct bio b2 = { .bi_io_vec = &d[1], .bi_vcnt = 1, .bi_integrity = &p2 };
	struct bio b1 = { .bi_next = &b2, .bi_io_vec = &d[0], .bi_vcnt = 1,
			  .bi_integrity = &p1 };
	struct bio_vec mv[2] = { m1, m2 };
	struct request rq;
	struct dma_iova_state st;
	struct blk_dma_iter it;
	struct seg segs[4];
	int n;

	fx_fill(f, RAM0, 0x20000, 13);
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b1), 0);
	assert_int_equal(rq.integrity_len, 4096 + 64);
	assert_int_equal(rq.nr_integrity_segments, 2);
	n = map_all(f, &rq, true, &st, &it, segs, 4);
	assert_int_equal(n, 1);
	assert_int_equal(segs[0].len, 4096 + 64);
	device_reads(f, segs, n, mv, 2, 13);
	unmap_all(f, &rq, &st, &it, segs, n, rq.integrity_len);
}

/* bad arguments: BLK_STS_INVAL, nothing mapped */
static void test_bad_arguments(void **state)
{
	struct fx *f = *state;
	struct request rq = { 0 };
	struct dma_iova_state st;
	struct blk_dma_iter it;

	assert_false(blk_rq_dma_map_iter_start(NULL, f->dev, &st, &it));
	assert_int_equal(it.status, BLK_STS_INVAL);
	assert_false(blk_rq_dma_map_iter_start(&rq, f->dev, &st, &it));
	assert_int_equal(it.status, BLK_STS_INVAL);
	assert_false(blk_rq_dma_map_iter_next(&rq, f->dev, &st, &it));
	assert_false(blk_rq_dma_map_iter_start(&rq, f->dev, &st, NULL));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_empty_request, fx_setup, fx_teardown),
	cmocka_unit_test(test_rq_init_rejects),
	cmocka_unit_test(test_merge_across_bios),
	cmocka_unit_test(test_split_limits),
	cmocka_unit_test_setup_teardown(test_iova_one_segment, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_gap_forces_per_segment, fx_setup, fx_teardown),
	cmocka_unit_test(test_map_failure_resource),
	cmocka_unit_test_setup_teardown(test_integrity, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_bad_arguments, fx_setup, fx_teardown),
};

DML_TEST_MAIN(tests)
