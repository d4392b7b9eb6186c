/* SPDX-License-Identifier: MIT */
/*
 * test_two_step.c - the two-step IOVA API against the contract of
 * shared/reference/kernel-dma-semantics.md §1 and the invariants of §9
 * (items 1-6 and 8-11; each test names the item it checks), with real
 * transfers by the emulated device through the emulated VT-d.
 */
#include "fixture.h"

#define G 4096UL

/* §9.1: try_alloc zeroes the state; true => addr % granule == phys % granule */
static void test_9_1_try_alloc_state(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st = { .addr = 0x1234, .__size = DMA_IOVA_USE_SWIOTLB | 5 };

	assert_true(dma_iova_try_alloc(f->dev, &st, 0x10000a00, 3 * G));
	assert_true(dma_use_iova(&st));
	assert_int_equal(st.addr % G, 0xa00);
	assert_int_equal(dma_iova_size(&st), 3 * G);
	assert_false(st.__size & DMA_IOVA_USE_SWIOTLB);
	dma_iova_free(f->dev, &st);

	/* a failing call (IOVA exhausted) leaves a zeroed state */
	st.addr = 0x1234;
	st.__size = 77;
	assert_false(dma_iova_try_alloc(f->dev, &st, 0, 1ULL << 62));
	assert_false(dma_use_iova(&st));
	assert_int_equal(st.addr, 0);
}

/* §9.2: no IOMMU => false, no warning */
static void test_9_2_no_iommu_no_warning(void **state)
{
	struct fx_opts o = { .no_iommu = true };
	struct fx *f = fx_create(&o);
	struct dma_iova_state st;

	(void)state;
	dml_test_log_reset();
	assert_false(dma_iova_try_alloc(f->dev, &st, 0, G));
	assert_false(dma_use_iova(&st));
	assert_int_equal(dml_test_log.count, 0);
	fx_destroy(f);
}

/*
 * §9.2: size 0 and sizes with bit 63 set fail, with a warning (WARN_ONCE:
 * once per site and process, so this is the test that first reaches them)
 */
static void test_9_2_bad_sizes_warn(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;
	u64 w = dml_warn_count();

	assert_false(dma_iova_try_alloc(f->dev, &st, 0, 0));
	assert_int_equal(dml_warn_count(), w + 1);
	assert_false(dma_iova_try_alloc(f->dev, &st, 0, (size_t)1 << 63));
	assert_int_equal(dml_warn_count(), w + 2);
	assert_false(dma_iova_try_alloc(f->dev, &st, 0, SIZE_MAX));
	assert_int_equal(dml_warn_count(), w + 2);
	assert_false(dma_use_iova(&st));
}

/* §9.2: never IOVA 0; PCI devices get 32-bit IOVA first; the mask holds */
static void test_9_2_never_zero_32bit_first(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st[64];
	int i;

	for (i = 0; i < 64; i++) {
		assert_true(dma_iova_try_alloc(f->dev, &st[i], 0, 64 * G));
		assert_true(st[i].addr != 0);
		assert_true(st[i].addr + 64 * G - 1 <= 0xffffffffULL);
	}
	for (i = 0; i < 64; i++)
		dma_iova_free(f->dev, &st[i]);
}

/* §9.2: exhaustion under a narrow mask makes try_alloc fail; the
 * dma_map_phys fallback still maps and the device still moves bytes */
static void test_9_2_exhaustion_fallback(void **state)
{
	struct fx_opts o = { .dma_mask = DMA_BIT_MASK(28) };
	struct fx *f = fx_create(&o);
	struct dma_iova_state st, big;
	dma_addr_t a[4];
	u8 buf[G];
	int i;

	(void)state;
	/*
	 * 256 MiB of IOVA.  Reservations are size-aligned (§9.3), so 100 MiB
	 * needs a 128 MiB-aligned start: 0 is never handed out, and the big
	 * reservation holds 128 MiB.
	 */
	assert_true(dma_iova_try_alloc(f->dev, &big, 0, 128UL << 20));
	assert_true(big.addr + (128UL << 20) - 1 <= DMA_BIT_MASK(28));
	assert_false(dma_iova_try_alloc(f->dev, &st, 0, 100UL << 20));
	assert_false(dma_use_iova(&st));
	for (i = 0; i < 4; i++) {
		phys_addr_t phys = 0x30000000ULL + (u64)i * 3 * G;

		fx_fill(f, phys, G, (u8)i);
		a[i] = dma_map_phys(f->dev, phys, G, DMA_TO_DEVICE, 0);
		assert_int_equal(dma_mapping_error(f->dev, a[i]), 0);
		assert_true(a[i] <= DMA_BIT_MASK(28));
		assert_int_equal(dml_dev_dma_read(f->dev, a[i], buf, G), 0);
		assert_memory_equal(buf, dml_kmap_local_phys(f->p, phys, G), G);
	}
	for (i = 0; i < 4; i++)
		dma_unmap_phys(f->dev, a[i], G, DMA_TO_DEVICE, 0);
	dma_iova_free(f->dev, &big);
	/* freed: the other reservation fits now */
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 100UL << 20));
	dma_iova_free(f->dev, &st);
	assert_int_equal(fx_faults(f), 0);
	fx_destroy(f);
}

/* §9.3: the reservation is round_up(size + pad) and size-aligned */
static void test_9_3_reservation_alignment(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;
	struct dml_dev_stats s0, s1;

	/* 5 granules + pad -> 6 granules -> rounded to 8, aligned to 32 KiB */
	assert_true(dma_iova_try_alloc(f->dev, &st, 0x800, 5 * G + 0x100));
	assert_int_equal((st.addr - 0x800) % (8 * G), 0);
	/* a link may use the whole rounded tail, but not one granule more */
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000800, 0, 5 * G + 0x100,
				       DMA_BIDIRECTIONAL, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x50000000, 6 * G, G,
				       DMA_BIDIRECTIONAL, 0), -EINVAL);
	dml_dev_get_stats(f->dev, &s0);
	dma_iova_destroy(f->dev, &st, 5 * G + 0x100, DMA_BIDIRECTIONAL, 0);
	dml_dev_get_stats(f->dev, &s1);
	assert_int_equal(s1.iova_frees - s0.iova_frees, 1);
}

/* §9.4: an unaligned phys may only be linked at offset 0 (-EIO) */
static void test_9_4_unaligned_middle_eio(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 4 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000010, G, G,
				       DMA_TO_DEVICE, 0), -EIO);
	dma_iova_free(f->dev, &st);
}

/* §9.4: overlapping links are detected and change nothing */
static void test_9_4_overlap_eexist(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;
	u8 buf[64];

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 4 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 2 * G,
				       DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x50000000, G, 2 * G,
				       DMA_TO_DEVICE, 0), -EEXIST);
	/* the refused link left [2G, 3G) unmapped and [0, 2G) as it was */
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, 2 * G), 0);
	fx_fill(f, 0x40000000, 2 * G, 9);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr + G, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, dml_kmap_local_phys(f->p, 0x40000000 + G, 64), 64);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr + 2 * G, buf, 8), -EFAULT);
	dma_iova_destroy(f->dev, &st, 2 * G, DMA_TO_DEVICE, 0);
}

/* §9.4: links beyond the reservation, bad direction, unallocated state */
static void test_9_4_link_bounds(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st = { 0 };

	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G,
				       DMA_TO_DEVICE, 0), -EINVAL);
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 2 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, G, 2 * G,
				       DMA_TO_DEVICE, 0), -EINVAL);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 0,
				       DMA_TO_DEVICE, 0), -EINVAL);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G,
				       (enum dma_data_direction)7, 0), -EINVAL);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, SIZE_MAX - 10, G,
				       DMA_TO_DEVICE, 0), -EINVAL);
	assert_int_equal(dma_iova_sync(f->dev, &st, G, 2 * G), -EINVAL);
	dma_iova_free(f->dev, &st);
}

/* §9.4: a link whose granule-rounded start is not a granule is refused */
static void test_9_4_link_misaligned(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;
	u8 buf[8];

	dml_test_expect_dma_debug(DML_DMA_DEBUG_IOVA_LINK_ALIGN);
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_LINKED);
	assert_true(dma_iova_try_alloc(f->dev, &st, 0x800, 4 * G));
	/* at offset 0, a pad other than the state's */
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000100, 0, G,
				       DMA_TO_DEVICE, 0), -EINVAL);
	/* further on, an offset that leaves the link off a granule */
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, G, G,
				       DMA_TO_DEVICE, 0), -EINVAL);
	/* nothing was linked: the device faults */
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, 8), -EFAULT);
	/* the offset that reaches the next granule links */
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, G - 0x800, G,
				       DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_unlink(f->dev, &st, G - 0x800, G,
					 DMA_TO_DEVICE, 0), 0);
	dma_iova_free(f->dev, &st);
}

/* §9.5: in caching mode a link is invisible until dma_iova_sync */
static void test_9_5_link_needs_sync(void **state)
{
	struct fx_opts o = { .caching_mode = true };
	struct fx *f = fx_create(&o);
	struct dma_iova_state st;
	u8 buf[256];

	(void)state;
	fx_fill(f, 0x40000000, G, 3);
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G,
				       DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(fx_faults(f), 1);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, G), 0);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, dml_kmap_local_phys(f->p, 0x40000000, 256), 256);
	dma_iova_destroy(f->dev, &st, G, DMA_TO_DEVICE, 0);
	fx_destroy(f);
}

/* §9.6: direction gives protection; the refused access changes nothing */
static void test_9_6_direction_protection(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state to, from;
	u8 buf[128];
	struct dml_fault fl;

	memset(buf, 0x5a, sizeof(buf));
	fx_fill(f, 0x40000000, G, 1);
	fx_fill(f, 0x40010000, G, 2);
	assert_true(dma_iova_try_alloc(f->dev, &to, 0, G));
	assert_true(dma_iova_try_alloc(f->dev, &from, 0, G));
	assert_int_equal(dma_iova_link(f->dev, &to, 0x40000000, 0, G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &from, 0x40010000, 0, G, DMA_FROM_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &to, 0, G), 0);
	assert_int_equal(dma_iova_sync(f->dev, &from, 0, G), 0);

	assert_int_equal(dml_dev_dma_write(f->dev, to.addr, buf, sizeof(buf)), -EFAULT);
	assert_true(fx_check(f, 0x40000000, G, 1));
	assert_int_equal(dml_iommu_fault_get(f->iommu, 0, &fl), 0);
	assert_int_equal(fl.reason, DML_FAULT_WRITE_DENIED);
	assert_true(fl.write);
	assert_int_equal(fl.source_id, 0x0100);

	assert_int_equal(dml_dev_dma_read(f->dev, from.addr, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(dml_iommu_fault_get(f->iommu, 1, &fl), 0);
	assert_int_equal(fl.reason, DML_FAULT_READ_DENIED);

	/* and the allowed directions work */
	assert_int_equal(dml_dev_dma_read(f->dev, to.addr, buf, sizeof(buf)), 0);
	assert_int_equal(dml_dev_dma_write(f->dev, from.addr, buf, sizeof(buf)), 0);
	dma_iova_destroy(f->dev, &to, G, DMA_TO_DEVICE, 0);
	dma_iova_destroy(f->dev, &from, G, DMA_FROM_DEVICE, 0);
	/* the CPU looks only once the device has given the buffer back */
	assert_memory_equal(dml_kmap_local_phys(f->p, 0x40010000, 128), buf, 128);
}

/* A buffer of separately allocated ranges becomes one contiguous DMA range */
static void test_multi_range_transfer(void **state)
{
	struct fx *f = *state;
	static const phys_addr_t ph[] = { 0x40007000, 0x40003000, 0x50000000,
					  0x40001000 };
	static const size_t len[] = { G, 2 * G, G, 700 };
	struct dma_iova_state st;
	u8 out[5 * G], in[5 * G];
	size_t off = 0, total = 4 * G + 700;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		fx_fill(f, ph[i], len[i], (u8)(i * 40));
		memcpy(out + off, dml_kmap_local_phys(f->p, ph[i], len[i]), len[i]);
		off += len[i];
	}
	assert_true(dma_iova_try_alloc(f->dev, &st, ph[0], total));
	for (i = 0, off = 0; i < 4; i++) {
		assert_int_equal(dma_iova_link(f->dev, &st, ph[i], off, len[i],
					       DMA_BIDIRECTIONAL, 0), 0);
		off += len[i];
	}
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, total), 0);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, in, total), 0);
	assert_memory_equal(in, out, total);
	/* and back: the device writes the reversed buffer across boundaries */
	for (i = 0; i < total; i++)
		in[i] = out[total - 1 - i];
	assert_int_equal(dml_dev_dma_write(f->dev, st.addr, in, total), 0);
	for (i = 0, off = 0; i < 4; i++) {
		assert_memory_equal(dml_kmap_local_phys(f->p, ph[i], len[i]),
				    in + off, len[i]);
		off += len[i];
	}
	dma_iova_destroy(f->dev, &st, total, DMA_BIDIRECTIONAL, 0);
	assert_int_equal(fx_faults(f), 0);
}

/* §9.8: unlink is synchronous, keeps the IOVA, and the same offsets relink */
static void test_9_8_unlink_relink(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;
	struct dml_iommu_stats s0, s1;
	u8 buf[64];

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 4 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 2 * G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40100000, 2 * G, 2 * G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, 4 * G), 0);
	/* warm the IOTLB so a missing invalidation would show as stale */
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr + 2 * G, buf, 64), 0);
	s0 = fx_stats(f);
	assert_int_equal(dma_iova_unlink(f->dev, &st, 2 * G, 2 * G, DMA_TO_DEVICE, 0), 0);
	s1 = fx_stats(f);
	assert_true(s1.inv_range + s1.inv_global > s0.inv_range + s0.inv_global);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr + 2 * G, buf, 64), -EFAULT);
	assert_int_equal(fx_stats(f).stale_hits, 0);
	/* the first link is untouched, the IOVA is kept: relink the offsets */
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, 64), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40200000, 2 * G, 2 * G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 2 * G, 2 * G), 0);
	fx_fill(f, 0x40200000, 2 * G, 77);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr + 2 * G, buf, 64), 0);
	assert_memory_equal(buf, dml_kmap_local_phys(f->p, 0x40200000, 64), 64);
	dma_iova_destroy(f->dev, &st, 4 * G, DMA_TO_DEVICE, 0);
}

/* §9.8 and the VFIO rule: unlink may not split a link or cover holes */
static void test_9_8_unlink_whole_links_only(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;
	u8 buf[16];

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 8 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 4 * G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40100000, 4 * G, 2 * G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, 6 * G), 0);
	/* the middle, the head, and a range that ends inside a link */
	assert_int_equal(dma_iova_unlink(f->dev, &st, G, 2 * G, DMA_TO_DEVICE, 0), -ENOENT);
	assert_int_equal(dma_iova_unlink(f->dev, &st, 0, G, DMA_TO_DEVICE, 0), -ENOENT);
	assert_int_equal(dma_iova_unlink(f->dev, &st, 0, 5 * G, DMA_TO_DEVICE, 0), -ENOENT);
	/* a range reaching past the links into unlinked space */
	assert_int_equal(dma_iova_unlink(f->dev, &st, 4 * G, 4 * G, DMA_TO_DEVICE, 0), -ENOENT);
	/* nothing changed: every granule still translates */
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr + G, buf, 16), 0);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr + 5 * G, buf, 16), 0);
	/* two whole links at once are fine */
	assert_int_equal(dma_iova_unlink(f->dev, &st, 0, 6 * G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_unlink(f->dev, &st, 0, 4 * G, DMA_TO_DEVICE, 0), -ENOENT);
	dma_iova_free(f->dev, &st);
	assert_int_equal(fx_pt_pages(f), 1);
}

/* §9.9: destroy(0) is free; destroy(N) is unlink(0, N) + free */
static void test_9_9_destroy(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st, again;
	struct dml_dev_stats s0, s1;
	dma_addr_t first;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 16 * G));
	first = st.addr;
	dml_dev_get_stats(f->dev, &s0);
	dma_iova_destroy(f->dev, &st, 0, DMA_TO_DEVICE, 0);
	dml_dev_get_stats(f->dev, &s1);
	assert_int_equal(s1.iova_frees, s0.iova_frees + 1);

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 16 * G));
	assert_int_equal(st.addr, first);	/* strict: reused at once */
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 16 * G, DMA_TO_DEVICE, 0), 0);
	dma_iova_destroy(f->dev, &st, 16 * G, DMA_TO_DEVICE, 0);
	assert_int_equal(fx_pt_pages(f), 1);
	assert_true(dma_iova_try_alloc(f->dev, &again, 0, 16 * G));
	assert_int_equal(again.addr, first);
	dma_iova_free(f->dev, &again);
}

/*
 * §9.9: lazy mode defers the IOVA's reuse until the batched flush: an IOVA
 * handed out again must have seen a domain-wide flush after its destroy.
 * (The queue also flushes when its oldest entry is 10 ms old, so how many
 * flushes happen depends on speed; that they are batched does not.)
 */
static void test_9_9_lazy_defers_reuse(void **state)
{
	struct fx_opts o = { .lazy = true };
	struct fx *f = fx_create(&o);
	struct dma_iova_state st;
	dma_addr_t seen[300];
	u64 flushed_at_alloc[300], flushed_at_destroy[300];
	struct dml_iommu_stats s0, s1;
	int i, j, reused = 0;

	(void)state;
	s0 = fx_stats(f);
	for (i = 0; i < 300; i++) {
		assert_true(dma_iova_try_alloc(f->dev, &st, 0, G));
		flushed_at_alloc[i] = fx_stats(f).inv_global;
		assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G, DMA_TO_DEVICE, 0), 0);
		seen[i] = st.addr;
		dma_iova_destroy(f->dev, &st, G, DMA_TO_DEVICE, 0);
		flushed_at_destroy[i] = fx_stats(f).inv_global;
	}
	s1 = fx_stats(f);
	/* destroys do no range invalidation; flushes are batched */
	assert_int_equal(s1.inv_range, s0.inv_range);
	assert_true(s1.inv_global - s0.inv_global >= 1);
	assert_true((s1.inv_global - s0.inv_global) * 4 < 300);
	for (i = 1; i < 300; i++) {
		for (j = 0; j < i; j++) {
			if (seen[i] != seen[j])
				continue;
			assert_true(flushed_at_alloc[i] > flushed_at_destroy[j]);
			reused++;
		}
	}
	assert_true(reused > 0);	/* after a flush the IOVA does come back */
	fx_destroy(f);
}

/* §9.10: free with links outstanding is detected; nothing is reused */
static void test_9_10_free_with_links(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st, other;
	u64 w = dml_warn_count();
	u8 buf[8];

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 2 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G, DMA_TO_DEVICE, 0), 0);
	dma_iova_free(f->dev, &st);
	assert_true(dml_warn_count() > w);
	assert_true(strstr(dml_test_log.last, "links outstanding") != NULL);
	/* the reservation was kept: a new one does not overlap it */
	assert_true(dma_iova_try_alloc(f->dev, &other, 0, 2 * G));
	assert_true(other.addr != st.addr);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, 8), 0);
	dma_iova_free(f->dev, &other);
	dma_iova_destroy(f->dev, &st, G, DMA_TO_DEVICE, 0);
}

/* §9.11: without an IOMMU link and sync are -EOPNOTSUPP, the rest no-ops */
static void test_9_11_no_iommu_stubs(void **state)
{
	struct fx_opts o = { .no_iommu = true };
	struct fx *f = fx_create(&o);
	struct dma_iova_state st = { 0 };

	(void)state;
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G, DMA_TO_DEVICE, 0),
			 -EOPNOTSUPP);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, G), -EOPNOTSUPP);
	dma_iova_destroy(f->dev, &st, 0, DMA_TO_DEVICE, 0);
	dma_iova_free(f->dev, &st);
	assert_int_equal(dma_get_merge_boundary(f->dev), 0);
	/* the harness runs with the checker on: then unmaps are needed */
	assert_true(dml_dma_debug_enabled());
	assert_true(dma_need_unmap(f->dev));
	assert_false(dml_test_need_unmap_unchecked(f->dev));
	fx_destroy(f);
}

/* merge boundary of an IOMMU device is granule - 1 (§1.2) */
static void test_merge_boundary(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dma_get_merge_boundary(f->dev), G - 1);
	assert_true(dma_need_unmap(f->dev));
}

/* 5-level tables: the same cycle works with a 57-bit aperture */
static void test_five_level(void **state)
{
	struct fx_opts o = { .levels = 5 };
	struct fx *f = fx_create(&o);
	struct dma_iova_state st;
	u8 buf[32];

	(void)state;
	fx_fill(f, 0x40000000, G, 4);
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, G), 0);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, 32), 0);
	assert_memory_equal(buf, dml_kmap_local_phys(f->p, 0x40000000, 32), 32);
	dma_iova_destroy(f->dev, &st, G, DMA_TO_DEVICE, 0);
	fx_destroy(f);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_9_1_try_alloc_state, fx_setup, fx_teardown),
	cmocka_unit_test(test_9_2_no_iommu_no_warning),
	cmocka_unit_test_setup_teardown(test_9_2_bad_sizes_warn, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_2_never_zero_32bit_first, fx_setup, fx_teardown),
	cmocka_unit_test(test_9_2_exhaustion_fallback),
	cmocka_unit_test_setup_teardown(test_9_3_reservation_alignment, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_4_unaligned_middle_eio, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_4_overlap_eexist, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_4_link_misaligned, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_4_link_bounds, fx_setup, fx_teardown),
	cmocka_unit_test(test_9_5_link_needs_sync),
	cmocka_unit_test_setup_teardown(test_9_6_direction_protection, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_multi_range_transfer, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_8_unlink_relink, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_8_unlink_whole_links_only, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_9_destroy, fx_setup, fx_teardown),
	cmocka_unit_test(test_9_9_lazy_defers_reuse),
	cmocka_unit_test_setup_teardown(test_9_10_free_with_links, fx_setup, fx_teardown),
	cmocka_unit_test(test_9_11_no_iommu_stubs),
	cmocka_unit_test_setup_teardown(test_merge_boundary, fx_setup, fx_teardown),
	cmocka_unit_test(test_five_level),
};

DML_TEST_MAIN(tests)
