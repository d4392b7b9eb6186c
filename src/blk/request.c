/* SPDX-License-Identifier: MIT */
/*
 * request.c - the block request model: walking a request's bio chain as
 * physical segments under the queue limits (block/blk-mq-dma.c
 * blk_map_iter_next(), block/blk-merge.c get_max_segment_size() and
 * biovec_phys_mergeable()), and building a request from a bio chain with
 * the checks the kernel's bio splitting guarantees a driver.
 */
#include <errno.h>
#include <stdint.h>

#include "blk.h"

#define BLK_MAX_SEGMENT_SIZE 65536u	/* include/linux/blkdev.h */

static const struct bio_vec *bio_pieces(const struct bio *bio, bool integrity,
					unsigned int *cnt)
{
	if (!integrity) {
		*cnt = bio->bi_vcnt;
		return bio->bi_io_vec;
	}
	*cnt = bio->bi_integrity ? bio->bi_integrity->bip_vcnt : 0;
	return bio->bi_integrity ? bio->bi_integrity->bip_vec : NULL;
}

/* the unreturned rest of the current piece, moving to the next bio as needed */
static bool iter_peek(struct blk_map_iter *it, struct bio_vec *bv)
{
	while (it->bio) {
		unsigned int cnt;
		const struct bio_vec *v = bio_pieces(it->bio, it->is_integrity, &cnt);

		if (it->idx < cnt) {
			bv->bv_phys = v[it->idx].bv_phys + it->done;
			bv->bv_len = v[it->idx].bv_len - it->done;
			return true;
		}
		it->bio = it->bio->bi_next;
		it->idx = 0;
		it->done = 0;
	}
	return false;
}

static void iter_advance(struct blk_map_iter *it, u32 bytes)
{
	unsigned int cnt;
	const struct bio_vec *v = bio_pieces(it->bio, it->is_integrity, &cnt);

	it->done += bytes;
	if (it->done == v[it->idx].bv_len) {
		it->idx++;
		it->done = 0;
	}
}

/* get_max_segment_size(): the cap of a segment starting at @p */
static u32 max_segment(const struct queue_limits *lim, phys_addr_t p)
{
	u64 max = lim->max_segment_size ? lim->max_segment_size : BLK_MAX_SEGMENT_SIZE;
	u64 m = lim->seg_boundary_mask;

	if (m && m - (p & m) + 1 != 0 && m - (p & m) + 1 < max)
		max = m - (p & m) + 1;
	return (u32)max;
}

/* biovec_phys_mergeable(): @b continues @a and both fit one boundary */
static bool phys_mergeable(const struct queue_limits *lim,
			   const struct bio_vec *a, const struct bio_vec *b)
{
	u64 m = lim->seg_boundary_mask;

	if (a->bv_phys + a->bv_len != b->bv_phys)
		return false;
	return !m || (a->bv_phys | m) == ((b->bv_phys + b->bv_len - 1) | m);
}

bool dml__blk_map_iter_next(const struct queue_limits *lim,
			    struct blk_map_iter *it, phys_addr_t *paddr,
			    u32 *len)
{
	struct bio_vec bv, next;
	u32 max;

	if (!iter_peek(it, &bv))
		return false;
	max = max_segment(lim, bv.bv_phys);
	if (bv.bv_len > max)
		bv.bv_len = max;
	iter_advance(it, bv.bv_len);
	/* only a piece used up to its end merges with what follows */
	while (!it->done && iter_peek(it, &next)) {
		if ((u64)bv.bv_len + next.bv_len > max ||
		    !phys_mergeable(lim, &bv, &next))
			break;
		bv.bv_len += next.bv_len;
		iter_advance(it, next.bv_len);
	}
	*paddr = bv.bv_phys;
	*len = bv.bv_len;
	return true;
}

/* the kernel's bio splitting: pieces aligned, no gap at the virt boundary */
static int check_pieces(const struct queue_limits *lim, struct bio *bio,
			bool integrity, u64 *bytes)
{
	u64 vb = integrity ? 0 : lim->virt_boundary_mask;
	u64 align = integrity ? 0 : lim->dma_alignment;
	const struct bio_vec *prev = NULL;

	*bytes = 0;
	for (; bio; bio = bio->bi_next) {
		unsigned int cnt, i;
		const struct bio_vec *v = bio_pieces(bio, integrity, &cnt);

		if (cnt && !v)
			return -EINVAL;
		for (i = 0; i < cnt; i++) {
			if (!v[i].bv_len || ((v[i].bv_phys | v[i].bv_len) & align) ||
			    v[i].bv_phys + v[i].bv_len < v[i].bv_phys)
				return -EINVAL;
			if (prev && prev->bv_phys + prev->bv_len != v[i].bv_phys &&
			    (((prev->bv_phys + prev->bv_len) | v[i].bv_phys) & vb))
				return -EINVAL;
			*bytes += v[i].bv_len;
			prev = &v[i];
		}
	}
	return *bytes > UINT32_MAX ? -EINVAL : 0;
}

/* segments after merging and splitting, and the OR of where they meet */
static unsigned int count_segments(const struct queue_limits *lim,
				   struct bio *bio, bool integrity, u64 *gap)
{
	struct blk_map_iter it = { .bio = bio, .is_integrity = integrity };
	unsigned int n = 0;
	phys_addr_t p, end = 0;
	u32 len;

	*gap = 0;
	while (dml__blk_map_iter_next(lim, &it, &p, &len)) {
		if (n++)
			*gap |= end | p;
		end = p + len;
	}
	return n;
}

int dml_blk_rq_init(struct request *rq, const struct queue_limits *lim,
		    enum dma_data_direction dir, struct bio *bio)
{
	u64 data, meta;

	if (!rq || !lim || (dir != DMA_TO_DEVICE && dir != DMA_FROM_DEVICE))
		return -EINVAL;
	if (check_pieces(lim, bio, false, &data) ||
	    check_pieces(lim, bio, true, &meta))
		return -EINVAL;
	rq->bio = bio;
	rq->limits = lim;
	rq->dir = dir;
	rq->data_len = (u32)data;
	rq->integrity_len = (u32)meta;
	rq->nr_phys_segments = count_segments(lim, bio, false, &rq->gap_mask);
	rq->nr_integrity_segments = count_segments(lim, bio, true,
						   &rq->integrity_gap_mask);
	return 0;
}
