// SPDX-License-Identifier: MIT
/*
 * test_iova_tree.c - the IOVA allocator's free space (src/iova/tree.c)
 * through the domain API, against the kernel's semantics
 * (reference/kernel-dma-semantics.md §1.2 and §9 items 2 and 3): size
 * alignment, limits, reserved windows, pfn 0, exhaustion, top-down order
 * (against a brute-force oracle), fragmentation at 300k live ranges and
 * the tree lock under concurrent tree-only traffic.  The caches are
 * tested in test_iova_rcache.c.  Every test checks results against a
 * shadow map of the granules it holds and ends with dml__iova_check().
 * No test asserts a timing.
 */
#include "testutil.h"

#include "iova-test.h"

/* ------------------------------------------------------------------ */
/* basic contract                                                      */
/* ------------------------------------------------------------------ */

static void test_create_rejects_bad_arguments(void **state)
{
	struct dml_iova_domain *d = (void *)1;

	(void)state;
	assert_int_equal(dml__iova_domain_create(2048, 1, &d), -EINVAL);
	assert_null(d);
	assert_int_equal(dml__iova_domain_create(3 * 4096, 1, &d), -EINVAL);
	/* IOVA 0 is never used, so the space cannot start at pfn 0 */
	assert_int_equal(dml__iova_domain_create(G4K, 0, &d), -EINVAL);
	assert_int_equal(dml__iova_domain_create(G4K, 1, NULL), -EINVAL);
	d = mkdom(1);
	assert_int_equal(dml__iova_granule(d), G4K);
	assert_int_equal(dml__iova_shift(d), 12);
	assert_int_equal(dml__iova_reserve(d, 10, 9), -EINVAL);
	assert_int_equal(dml__iova_alloc(d, 0, LIMIT32, true), 0);
	assert_true(dml__iova_check(d));
	dml__iova_domain_destroy(d);
	dml__iova_domain_destroy(NULL);
}

/* ref §9 item 3: the start is aligned to the next power of two >= size */
static void test_size_aligned_allocations_ref9_item3(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	struct shadow sh;
	unsigned long size, pfn, k;

	(void)state;
	shadow_init(&sh, LIMIT32 + 1);
	for (k = 0; k < 3; k++) {
		for (size = 1; size <= 300; size++) {
			pfn = dml__iova_alloc(d, size, LIMIT32, true);
			assert_int_not_equal(pfn, 0);
			assert_int_equal(pfn % pow2_up(size), 0);
			assert_true(shadow_claim(&sh, pfn, size));
			/* unaligned: anywhere, but inside the limit */
			pfn = dml__iova_alloc(d, size, LIMIT32, false);
			assert_int_not_equal(pfn, 0);
			assert_true(pfn + size - 1 <= LIMIT32);
			assert_true(shadow_claim(&sh, pfn, size));
		}
	}
	assert_true(dml__iova_check(d));
	shadow_fini(&sh);
	dml__iova_domain_destroy(d);
}

/* ref §9 item 2: allocations respect the DMA mask (limit_pfn) */
static void test_limit_respected_ref9_item2(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	unsigned long pfn, n = 0, limit;

	(void)state;
	/* a 48-bit space, a 32-bit device: nothing above the limit, ever */
	while ((pfn = dml__iova_alloc(d, 1024, LIMIT32, true))) {
		assert_true(pfn + 1023 <= LIMIT32);
		assert_int_equal(pfn % 1024, 0);
		n++;
	}
	/* block 0 holds pfn 0, which is never handed out */
	assert_int_equal(n, (LIMIT32 + 1) / 1024 - 1);
	/* a 64-bit device still gets room above */
	pfn = dml__iova_alloc(d, 1024, ~0UL, true);
	assert_true(pfn > LIMIT32);
	/* a limit above the space is clipped to it */
	assert_int_equal(pfn + 1023, ~0UL >> 12);
	/* odd limits */
	for (limit = LIMIT32 + 1; limit < LIMIT32 + 5000; limit += 777) {
		pfn = dml__iova_alloc(d, 3, limit, false);
		assert_int_not_equal(pfn, 0);
		assert_true(pfn + 2 <= limit);
	}
	/* a limit below the start of the space, or too small for the size */
	dml__iova_domain_destroy(d);
	d = mkdom(16);
	assert_int_equal(dml__iova_alloc(d, 1, 15, false), 0);
	assert_int_equal(dml__iova_alloc(d, 2, 16, false), 0);
	assert_int_equal(dml__iova_alloc(d, 1, 16, false), 16);
	assert_true(dml__iova_check(d));
	dml__iova_domain_destroy(d);
}

/* the MSI window, reserved as dma-iommu does, is never handed out */
static void test_reserved_msi_window_never_handed_out(void **state)
{
	struct dml_iova_domain *d = mkdom(0xfe000);
	struct dml_iova_stats st;
	unsigned long pfn, n = 0;

	(void)state;
	assert_int_equal(dml__iova_reserve(d, MSI_LO, MSI_HI), 0);
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.ranges, 1);
	/* reserving it again changes nothing */
	assert_int_equal(dml__iova_reserve(d, MSI_LO + 1, MSI_HI - 1), 0);
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.ranges, 1);
	while ((pfn = dml__iova_alloc(d, 1, LIMIT32, true))) {
		assert_true(pfn < MSI_LO || pfn > MSI_HI);
		assert_true(pfn >= 0xfe000 && pfn <= LIMIT32);
		n++;
	}
	assert_int_equal(n, LIMIT32 + 1 - 0xfe000 - 256);
	/* larger sizes neither, in a fresh domain */
	dml__iova_domain_destroy(d);
	d = mkdom(1);
	assert_int_equal(dml__iova_reserve(d, MSI_LO, MSI_HI), 0);
	n = 0;
	while ((pfn = dml__iova_alloc(d, 64, LIMIT32, false))) {
		assert_true(pfn + 63 < MSI_LO || pfn > MSI_HI);
		n++;
	}
	assert_true(n >= (LIMIT32 - 256) / 64 - 1);
	assert_true(dml__iova_check(d));
	dml__iova_domain_destroy(d);
}

/* ref §9 item 2: IOVA 0 is never handed out (0 means failure) */
static void test_pfn0_never_handed_out_ref9_item2(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	unsigned long pfn, seen = 0;

	(void)state;
	/* the only aligned block of 8 below the limit holds pfn 0 */
	assert_int_equal(dml__iova_alloc(d, 8, 7, true), 0);
	assert_int_equal(dml__iova_alloc(d, 4, 7, true), 4);
	assert_int_equal(dml__iova_alloc(d, 2, 7, true), 2);
	assert_int_equal(dml__iova_alloc(d, 2, 7, true), 0);
	assert_int_equal(dml__iova_alloc(d, 1, 7, true), 1);
	assert_int_equal(dml__iova_alloc(d, 1, 7, true), 0);
	dml__iova_domain_destroy(d);

	d = mkdom(1);
	while ((pfn = dml__iova_alloc(d, 1, 63, false))) {
		assert_true(pfn >= 1 && pfn <= 63);
		assert_false(seen & (1UL << pfn));
		seen |= 1UL << pfn;
	}
	assert_int_equal(seen, ~1UL);	/* 1..63, not 0 */
	assert_true(dml__iova_check(d));
	dml__iova_domain_destroy(d);
}

/* ref §9 item 2: try_alloc fails on IOVA exhaustion; a free makes room */
static void test_exhaustion_returns_0_and_free_makes_room(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	unsigned long pfns[255], pfn;
	int i;

	(void)state;
	for (i = 0; i < 255; i++) {
		pfns[i] = dml__iova_alloc(d, 1, 255, true);
		assert_int_not_equal(pfns[i], 0);
	}
	assert_int_equal(dml__iova_alloc(d, 1, 255, true), 0);
	assert_int_equal(dml__iova_alloc_nocache(d, 1, 255, true), 0);
	/* freed to the cache: found again */
	dml__iova_free(d, pfns[100], 1);
	assert_int_equal(dml__iova_alloc(d, 1, 255, true), pfns[100]);
	/* freed to the tree: found again */
	dml__iova_free_nocache(d, pfns[7], 1);
	assert_int_equal(dml__iova_alloc_nocache(d, 1, 255, true), pfns[7]);
	/* two neighbours freed: a size-2 range fits again */
	pfn = pfns[0] & ~1UL;	/* pfns[0] == 255: pfn 254, 255 */
	assert_int_equal(pfn, 254);
	dml__iova_free_nocache(d, 254, 1);
	dml__iova_free_nocache(d, 255, 1);
	assert_int_equal(dml__iova_alloc(d, 2, 255, true), 254);
	assert_true(dml__iova_check(d));
	dml__iova_domain_destroy(d);
}

static void test_top_down_order(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	unsigned long prev = LIMIT32 + 1, pfn;
	int i;

	(void)state;
	assert_int_equal(dml__iova_alloc(d, 1, LIMIT32, true), LIMIT32);
	assert_int_equal(dml__iova_alloc(d, 1, LIMIT32, true), LIMIT32 - 1);
	/* highest 4-aligned block ending at or below 0xffffd */
	assert_int_equal(dml__iova_alloc(d, 4, LIMIT32, true), 0xffff8);
	/* unaligned: right below, leaving no hole */
	assert_int_equal(dml__iova_alloc(d, 3, LIMIT32, false), 0xffff5);
	/* the hole 0xffffc..0xffffd left by the aligned block is reused */
	assert_int_equal(dml__iova_alloc(d, 2, LIMIT32, true), 0xffffc);
	prev = 0xffff5;
	for (i = 0; i < 1000; i++) {
		pfn = dml__iova_alloc(d, 1 + i % 40, LIMIT32, false);
		assert_true(pfn + (1 + i % 40) == prev);
		prev = pfn;
	}
	assert_true(dml__iova_check(d));
	dml__iova_domain_destroy(d);
}

/*
 * Top-down first fit is exact: against a brute-force oracle over a small
 * space, random sizes, limits and alignment, tree-only calls.  Power-of-two
 * and unaligned requests must land exactly where the oracle says;
 * other aligned ones must fit, and fail only when the oracle finds nothing.
 */
static void test_top_down_matches_oracle(void **state)
{
	const unsigned long space = 4096;
	struct dml_iova_domain *d = mkdom(1);
	struct {
		unsigned long pfn, size;
	} live[2048];
	unsigned int nlive = 0, it;
	struct shadow sh;

	(void)state;
	rnd_seed(42);
	shadow_init(&sh, space);
	assert_int_equal(dml__iova_reserve(d, 1000, 1100), 0);
	for (unsigned long p = 1000; p <= 1100; p++)
		sh.b[p] = 1;
	for (it = 0; it < 40000; it++) {
		if (nlive && (rnd() % 100 < 48 || nlive == 2048)) {
			unsigned int j = rnd() % nlive;

			assert_true(shadow_release(&sh, live[j].pfn,
						   live[j].size));
			dml__iova_free_nocache(d, live[j].pfn, live[j].size);
			live[j] = live[--nlive];
		} else {
			static const unsigned long sizes[] = {
				1, 1, 2, 4, 8, 16, 32, 3, 5, 7, 33, 40, 64, 100
			};
			unsigned long size = sizes[rnd() % ARRAY_SIZE(sizes)];
			unsigned long limit = rnd() % 8 ? space - 1 :
						rnd() % space;
			bool aligned = rnd() % 4 != 0;
			unsigned long want = oracle(&sh, 1, size, limit,
						    aligned);
			unsigned long pfn = dml__iova_alloc_nocache(d, size,
								limit, aligned);

			if (!aligned || (size & (size - 1)) == 0) {
				assert_int_equal(pfn, want);
			} else {
				assert_true(!want == !pfn);
				if (pfn)
					assert_int_equal(
						pfn % pow2_up(size), 0);
			}
			if (pfn) {
				assert_true(pfn + size - 1 <= limit);
				assert_true(shadow_claim(&sh, pfn, size));
				live[nlive].pfn = pfn;
				live[nlive++].size = size;
			}
		}
		if (it % 4096 == 0)
			assert_true(dml__iova_check(d));
	}
	assert_true(dml__iova_check(d));
	shadow_fini(&sh);
	dml__iova_domain_destroy(d);
}

/* ------------------------------------------------------------------ */
/* fragmentation (perf-anchors A11/A12)                                 */
/* ------------------------------------------------------------------ */

#define FRAG_LIVE 300000
#define FRAG_LIMIT 0x1ffffffUL	/* 128 GiB: 300k x ~23 granules fit */

/*
 * 300k live single granules, then random free + alloc of mixed sizes
 * through every entry point: keeps working, no overlap (shadow map),
 * alignment and limit hold, and the stats agree.
 */
static void test_fragmentation_300k_random_free_alloc(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	struct dml_iova_stats st;
	struct shadow sh;
	unsigned long *pfn, *size, i;
	u64 allocs = 0, frees = 0;

	(void)state;
	rnd_seed(7);
	shadow_init(&sh, FRAG_LIMIT + 1);
	pfn = calloc(FRAG_LIVE, sizeof(*pfn));
	size = calloc(FRAG_LIVE, sizeof(*size));
	for (i = 0; i < FRAG_LIVE; i++) {
		pfn[i] = dml__iova_alloc(d, 1, FRAG_LIMIT, true);
		assert_int_not_equal(pfn[i], 0);
		size[i] = 1;
		assert_true(shadow_claim(&sh, pfn[i], 1));
		allocs++;
	}
	assert_true(dml__iova_check(d));
	for (i = 0; i < 200000; i++) {
		static const unsigned long sizes[] = { 1, 1, 1, 2, 4, 32, 3, 64,
						       100 };
		unsigned long j = rnd() % FRAG_LIVE;
		unsigned long sz = sizes[rnd() % ARRAY_SIZE(sizes)];
		bool aligned = rnd() % 8 != 0, cached = rnd() % 2;

		assert_true(shadow_release(&sh, pfn[j], size[j]));
		if (cached)
			dml__iova_free(d, pfn[j], size[j]);
		else
			dml__iova_free_nocache(d, pfn[j], size[j]);
		frees++;
		pfn[j] = cached ? dml__iova_alloc(d, sz, FRAG_LIMIT, aligned) :
			dml__iova_alloc_nocache(d, sz, FRAG_LIMIT, aligned);
		assert_int_not_equal(pfn[j], 0);
		assert_true(pfn[j] + sz - 1 <= FRAG_LIMIT);
		if (aligned)
			assert_int_equal(pfn[j] % pow2_up(sz), 0);
		assert_true(shadow_claim(&sh, pfn[j], sz));
		size[j] = sz;
		allocs++;
	}
	assert_true(dml__iova_check(d));
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.allocs, allocs);
	assert_int_equal(st.frees, frees);
	assert_true(st.ranges >= FRAG_LIVE);
	free(pfn);
	free(size);
	shadow_fini(&sh);
	dml__iova_domain_destroy(d);
}

/*
 * The kernel's pathology: a hole-riddled space (150k one-granule holes)
 * and requests that fit none of them.  They must come from the big free
 * run at the bottom, and single granules from the highest hole, both by
 * an O(log n) search (no assertion on time; this one just has to be
 * right).
 */
static void test_fragmentation_150k_holes(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	unsigned long top = LIMIT32, i, pfn, lowest;

	(void)state;
	for (i = 0; i < FRAG_LIVE; i++)
		assert_int_equal(dml__iova_alloc_nocache(d, 1, top, true),
				 top - i);
	lowest = top - FRAG_LIVE + 1;
	for (i = 0; i < FRAG_LIVE; i += 2)
		dml__iova_free_nocache(d, top - i, 1);
	assert_true(dml__iova_check(d));
	/* no hole holds two granules */
	pfn = dml__iova_alloc_nocache(d, 2, top, true);
	assert_int_equal(pfn, (lowest - 2) & ~1UL);
	pfn = dml__iova_alloc_nocache(d, 2, top, false);
	assert_int_equal(pfn, ((lowest - 2) & ~1UL) - 2);
	pfn = dml__iova_alloc_nocache(d, 100, top, true);
	assert_int_equal(pfn % 128, 0);
	assert_true(pfn + 99 < lowest);
	/* a single granule takes the highest hole */
	assert_int_equal(dml__iova_alloc_nocache(d, 1, top, true), top);
	assert_int_equal(dml__iova_alloc_nocache(d, 1, top, true), top - 2);
	/* and one below a limit inside the riddled part */
	assert_int_equal(dml__iova_alloc_nocache(d, 1, top - 1001, true),
			 top - 1002);
	assert_true(dml__iova_check(d));
	dml__iova_domain_destroy(d);
}

/* ------------------------------------------------------------------ */
/* concurrency                                                         */
/* ------------------------------------------------------------------ */

/*
 * Tree-only traffic from several threads after this thread used the tree
 * alone: the tree lock must never let two threads into the tree at once.
 */
static void test_concurrent_tree_lock_handoff(void **state)
{
	(void)state;
	run_workers(2, 0xfffff, 300, 100000, W_NOCACHE);
	run_workers(4, 0xffff, 300, 50000, W_NOCACHE);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_create_rejects_bad_arguments),
	cmocka_unit_test(test_size_aligned_allocations_ref9_item3),
	cmocka_unit_test(test_limit_respected_ref9_item2),
	cmocka_unit_test(test_reserved_msi_window_never_handed_out),
	cmocka_unit_test(test_pfn0_never_handed_out_ref9_item2),
	cmocka_unit_test(test_exhaustion_returns_0_and_free_makes_room),
	cmocka_unit_test(test_top_down_order),
	cmocka_unit_test(test_top_down_matches_oracle),
	cmocka_unit_test(test_fragmentation_300k_random_free_alloc),
	cmocka_unit_test(test_fragmentation_150k_holes),
	cmocka_unit_test(test_concurrent_tree_lock_handoff),
};

DML_TEST_MAIN(tests)
