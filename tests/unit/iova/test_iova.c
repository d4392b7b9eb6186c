// SPDX-License-Identifier: MIT
/*
 * test_iova.c - the IOVA allocator (src/iova/iova.c) against the kernel's
 * semantics (reference/kernel-dma-semantics.md §1.2 and §9 items 2 and 3):
 * size alignment, limits, reserved windows, pfn 0, exhaustion, top-down
 * order (against a brute-force oracle), fragmentation at 300k live ranges,
 * the cache flush on exhaustion, concurrent use and fault injection.
 * Every test checks results against a shadow map of the granules it holds
 * and ends with dml__iova_check().  No test asserts a timing.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "iova/iova.h"

#define G4K 4096UL
#define LIMIT32 0xfffffUL	/* last pfn below 4 GiB with 4 KiB granules */
#define MSI_LO 0xfee00UL	/* the x86 MSI window, 0xfee00000-0xfeefffff */
#define MSI_HI 0xfeeffUL

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static u64 rng_state;

static u64 rnd(void)
{
	/* xorshift64*: deterministic per test */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void rnd_seed(u64 s)
{
	rng_state = s ? s : 1;
}

static struct dml_iova_domain *mkdom(unsigned long start_pfn)
{
	struct dml_iova_domain *d = NULL;

	assert_int_equal(dml__iova_domain_create(G4K, start_pfn, &d), 0);
	assert_non_null(d);
	return d;
}

/* one byte per granule below the test's limit */
struct shadow {
	unsigned long n;
	_Atomic unsigned char *b;
};

static void shadow_init(struct shadow *s, unsigned long npfn)
{
	s->n = npfn;
	s->b = calloc(npfn, 1);
	assert_non_null(s->b);
}

static void shadow_fini(struct shadow *s)
{
	free((void *)s->b);
}

/* mark [pfn, pfn + size) held; false if any granule already was */
static bool shadow_claim(struct shadow *s, unsigned long pfn,
			 unsigned long size)
{
	bool ok = pfn + size <= s->n;

	for (unsigned long i = 0; ok && i < size; i++)
		if (atomic_exchange(&s->b[pfn + i], 1))
			ok = false;
	return ok;
}

static bool shadow_release(struct shadow *s, unsigned long pfn,
			   unsigned long size)
{
	bool ok = true;

	for (unsigned long i = 0; i < size; i++)
		if (!atomic_exchange(&s->b[pfn + i], 0))
			ok = false;
	return ok;
}

static unsigned long pow2_up(unsigned long x)
{
	unsigned long p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

/*
 * The oracle: the highest start <= limit - size + 1, aligned as asked,
 * whose granules are all free in the shadow and >= start_pfn, or 0.
 */
static unsigned long oracle(struct shadow *s, unsigned long start_pfn,
			    unsigned long size, unsigned long limit,
			    bool aligned)
{
	unsigned long a = aligned ? pow2_up(size) : 1, p, i;

	if (limit + 1 < size + start_pfn)
		return 0;
	for (p = (limit - size + 1) & ~(a - 1);; p -= a) {
		if (p < start_pfn)
			return 0;
		for (i = 0; i < size && !s->b[p + i]; i++)
			;
		if (i == size)
			return p;
		if (p < a)
			return 0;
	}
}

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

/*
 * A reservation flushes the caches first: a range parked in a cache inside
 * the window is not handed out again.  A range allocated when the window
 * is reserved stays its owner's and becomes free when freed (as with the
 * kernel's reserve_iova(), which merges into an existing node).
 */
static void test_reserve_vs_cached_and_allocated_ranges(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	struct dml_iova_stats st;
	unsigned long cached, held, pfn;

	(void)state;
	cached = dml__iova_alloc(d, 4, LIMIT32, true);
	held = dml__iova_alloc(d, 4, LIMIT32, true);
	dml__iova_free(d, cached, 4);		/* parked in this thread */
	assert_int_equal(dml__iova_reserve(d, held, cached + 3), 0);
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.ranges, 2);		/* @held and the freed piece */
	pfn = dml__iova_alloc(d, 4, LIMIT32, true);
	assert_true(pfn + 3 < held);
	dml__iova_free_nocache(d, held, 4);
	/* @held is free again; the rest of the window is not */
	assert_int_equal(dml__iova_alloc_nocache(d, 4, cached + 3, true),
			 held);
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

static void test_free_then_alloc_reuses(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	unsigned long a, b, c;

	(void)state;
	a = dml__iova_alloc(d, 8, LIMIT32, true);
	b = dml__iova_alloc(d, 8, LIMIT32, true);
	assert_int_not_equal(a, b);
	dml__iova_free(d, a, 8);
	assert_int_equal(dml__iova_alloc(d, 8, LIMIT32, true), a);
	/* uncached sizes come back from the tree at the same place */
	c = dml__iova_alloc(d, 100, LIMIT32, true);
	dml__iova_free(d, c, 100);
	assert_int_equal(dml__iova_alloc(d, 100, LIMIT32, true), c);
	dml__iova_free(d, b, 8);
	dml__iova_free(d, a, 8);
	dml__iova_free(d, c, 100);
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
/* caches                                                              */
/* ------------------------------------------------------------------ */

/* fill what the tree has left below @limit with single granules */
static unsigned long fill_tree(struct dml_iova_domain *d, unsigned long limit)
{
	unsigned long n = 0;

	while (dml__iova_alloc_nocache(d, 1, limit, false))
		n++;
	return n;
}

struct parker {
	struct dml_iova_domain *d;
	unsigned long pfn;
	pthread_barrier_t *bar;	/* NULL: exit after parking */
};

static void *park_range(void *arg)
{
	struct parker *p = arg;

	p->pfn = dml__iova_alloc(p->d, 4, 255, true);
	dml__iova_free(p->d, p->pfn, 4);	/* into this thread's cache */
	if (p->bar) {
		pthread_barrier_wait(p->bar);	/* parked */
		pthread_barrier_wait(p->bar);	/* main is done */
	}
	return NULL;
}

/*
 * A range parked in a thread cache is found when the tree is full
 * (alloc_iova_fast: flush the rcaches and retry once): this thread's own
 * cache, a live thread's cache, and the cache of a thread that exited.
 */
static void test_cache_flush_on_exhaustion(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	pthread_barrier_t bar;
	struct parker p;
	pthread_t t;
	unsigned long pfn;
	int round;

	(void)state;
	/* own cache: a 4-granule range parked, then a 2-granule request */
	pfn = dml__iova_alloc(d, 4, 255, true);
	dml__iova_free(d, pfn, 4);
	fill_tree(d, 255);
	assert_int_equal(dml__iova_alloc_nocache(d, 2, 255, true), 0);
	assert_int_equal(dml__iova_alloc(d, 2, 255, true), pfn + 2);
	assert_true(dml__iova_check(d));
	dml__iova_domain_destroy(d);

	pthread_barrier_init(&bar, NULL, 2);
	for (round = 0; round < 2; round++) {
		d = mkdom(1);
		p.d = d;
		p.bar = round ? NULL : &bar;
		pthread_create(&t, NULL, park_range, &p);
		if (round)
			pthread_join(t, NULL);	/* the thread is gone */
		else
			pthread_barrier_wait(&bar);	/* alive, idle */
		assert_int_equal(fill_tree(d, 255), 255 - 4);
		assert_int_equal(dml__iova_alloc_nocache(d, 4, 255, true), 0);
		/* this thread's cache is empty: the other one is flushed */
		assert_int_equal(dml__iova_alloc(d, 4, 255, true), p.pfn);
		assert_true(dml__iova_check(d));
		if (!round) {
			pthread_barrier_wait(&bar);
			pthread_join(t, NULL);
		}
		dml__iova_domain_destroy(d);
	}
	pthread_barrier_destroy(&bar);
}

/* the depot: many more frees than two magazines hold, all found again */
static void test_cache_bursts_through_depot(void **state)
{
	enum { N = 5000 };
	struct dml_iova_domain *d = mkdom(1);
	static unsigned long pfns[N];
	struct dml_iova_stats st;
	struct shadow sh;
	int i, round;

	(void)state;
	shadow_init(&sh, LIMIT32 + 1);
	for (round = 0; round < 4; round++) {
		for (i = 0; i < N; i++) {
			pfns[i] = dml__iova_alloc(d, 2, LIMIT32, true);
			assert_int_not_equal(pfns[i], 0);
			assert_true(shadow_claim(&sh, pfns[i], 2));
		}
		for (i = 0; i < N; i++) {
			assert_true(shadow_release(&sh, pfns[i], 2));
			dml__iova_free(d, pfns[i], 2);
		}
		assert_true(dml__iova_check(d));
	}
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.allocs, 4 * N);
	assert_int_equal(st.frees, 4 * N);
	assert_true(st.cache_hits > 2 * N);
	/* a limit below every cached range: served by the tree */
	assert_int_equal(dml__iova_alloc(d, 2, 0xfff, true), 0xffe);
	/* everything comes back: the whole space below the limit in one */
	assert_int_equal(dml__iova_alloc(d, LIMIT32 - 0xfff, LIMIT32, false),
			 0x1000);
	shadow_fini(&sh);
	dml__iova_domain_destroy(d);
}

static void test_stats_and_bad_frees(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	struct dml_iova_stats st;
	unsigned long a, b;
	unsigned int warns;

	(void)state;
	a = dml__iova_alloc(d, 1, LIMIT32, true);
	b = dml__iova_alloc(d, 64, LIMIT32, true);
	dml__iova_free(d, a, 1);
	assert_int_equal(dml__iova_alloc(d, 1, LIMIT32, true), a);
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.allocs, 3);
	assert_int_equal(st.frees, 1);
	assert_int_equal(st.cache_hits, 1);
	assert_int_equal(st.ranges, 2);

	/* freeing free space, or outside the space: reported, ignored */
	dml_test_log_reset();
	warns = dml_test_log.count;
	dml__iova_free_nocache(d, 0x1000, 4);
	dml__iova_free_nocache(d, b, 128);	/* runs into free space */
	dml__iova_free_nocache(d, 0, 1);
	dml__iova_free(d, 0, 1);
	dml__iova_free(d, 5, 0);
	assert_true(dml_test_log.count >= warns + 5);
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.frees, 1);
	assert_int_equal(st.ranges, 2);
	assert_true(dml__iova_check(d));
	dml__iova_free_nocache(d, b, 64);
	dml__iova_free_nocache(d, b, 64);	/* double free */
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.frees, 2);
	assert_int_equal(st.ranges, 1);
	assert_true(dml__iova_check(d));
	dml__iova_domain_destroy(d);
}

/* ------------------------------------------------------------------ */
/* concurrency                                                         */
/* ------------------------------------------------------------------ */

struct worker {
	struct dml_iova_domain *d;
	struct shadow *sh;
	unsigned long limit;
	unsigned int seed, ops, max_live;
	bool nocache;		/* tree only: alloc_iova()/free_iova() */
	atomic_uint *errors;
	atomic_uint *failures;
};

static void *worker_run(void *arg)
{
	static const unsigned long sizes[] = { 1, 1, 1, 2, 4, 8, 16, 32, 3,
					       64, 100 };
	struct worker *w = arg;
	unsigned long pfn[512], size[512];
	unsigned int n = 0, i;
	u64 x = w->seed;

	for (i = 0; i < w->ops; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (n && (x % 2 || n == w->max_live)) {
			unsigned int j = (x >> 8) % n;

			if (!shadow_release(w->sh, pfn[j], size[j]))
				atomic_fetch_add(w->errors, 1);
			if ((x >> 20) % 4 && !w->nocache)
				dml__iova_free(w->d, pfn[j], size[j]);
			else
				dml__iova_free_nocache(w->d, pfn[j], size[j]);
			pfn[j] = pfn[--n];
			size[j] = size[n];
		} else {
			unsigned long sz = sizes[(x >> 8) % ARRAY_SIZE(sizes)];
			bool aligned = (x >> 24) % 4;
			unsigned long p = w->nocache ?
				dml__iova_alloc_nocache(w->d, sz, w->limit,
							aligned) :
				dml__iova_alloc(w->d, sz, w->limit, aligned);

			if (!p) {
				atomic_fetch_add(w->failures, 1);
				continue;
			}
			if (p + sz - 1 > w->limit ||
			    !shadow_claim(w->sh, p, sz))
				atomic_fetch_add(w->errors, 1);
			pfn[n] = p;
			size[n++] = sz;
		}
	}
	while (n--) {
		shadow_release(w->sh, pfn[n], size[n]);
		dml__iova_free(w->d, pfn[n], size[n]);
	}
	return NULL;
}

static void run_workers(unsigned int nthreads, unsigned long limit,
			unsigned int max_live, unsigned int ops,
			bool expect_failures, bool nocache)
{
	struct dml_iova_domain *d = mkdom(1);
	struct worker w[4];
	pthread_t t[4];
	struct shadow sh;
	atomic_uint errors = 0, failures = 0;
	struct dml_iova_stats st;
	unsigned int i;

	shadow_init(&sh, limit + 1);
	/* this thread uses the tree alone first */
	for (i = 0; i < 1000; i++)
		dml__iova_free_nocache(d, dml__iova_alloc_nocache(d, 3, limit,
								  false), 3);
	for (i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .d = d, .sh = &sh, .limit = limit,
					.seed = 1234 + i * 77, .ops = ops,
					.max_live = max_live,
					.nocache = nocache,
					.errors = &errors,
					.failures = &failures };
		assert_int_equal(pthread_create(&t[i], NULL, worker_run,
						&w[i]), 0);
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&errors), 0);
	if (!expect_failures)
		assert_int_equal(atomic_load(&failures), 0);
	assert_true(dml__iova_check(d));
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.allocs, st.frees);
	/* nothing leaked: after the flush the whole space is one range */
	assert_int_equal(dml__iova_alloc(d, limit, limit, false), 1);
	assert_true(dml__iova_check(d));
	shadow_fini(&sh);
	dml__iova_domain_destroy(d);
}

static void test_concurrent_alloc_free_no_overlap(void **state)
{
	(void)state;
	run_workers(2, 0xfffff, 500, 200000, false, false);
	run_workers(4, 0xfffff, 500, 100000, false, false);
}

/* a space so small that threads exhaust it and flush each other's caches */
#define MANY 300	/* more threads than the registry's 256 slots */

struct many {
	struct dml_iova_domain *d;
	struct shadow *sh;
	pthread_barrier_t *bar;
	atomic_uint *errors;
};

static void *many_run(void *arg)
{
	struct many *m = arg;
	unsigned long p[4];
	int i;

	for (i = 0; i < 4; i++) {
		p[i] = dml__iova_alloc(m->d, 1UL << i, LIMIT32, true);
		if (!p[i] || !shadow_claim(m->sh, p[i], 1UL << i))
			atomic_fetch_add(m->errors, 1);
	}
	pthread_barrier_wait(m->bar);	/* all MANY threads alive at once */
	for (i = 0; i < 4; i++) {
		shadow_release(m->sh, p[i], 1UL << i);
		dml__iova_free(m->d, p[i], 1UL << i);
	}
	return NULL;
}

/*
 * More live threads than cache slots: the ones without a slot use the
 * tree under its lock; slots of exited threads go to the next wave.
 */
static void test_more_threads_than_cache_slots(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	static pthread_t t[MANY];
	struct dml_iova_stats st;
	pthread_barrier_t bar;
	atomic_uint errors = 0;
	struct shadow sh;
	struct many m;
	int wave, i;

	(void)state;
	shadow_init(&sh, LIMIT32 + 1);
	m = (struct many){ .d = d, .sh = &sh, .bar = &bar, .errors = &errors };
	for (wave = 0; wave < 2; wave++) {
		pthread_barrier_init(&bar, NULL, MANY);
		for (i = 0; i < MANY; i++)
			assert_int_equal(pthread_create(&t[i], NULL, many_run,
							&m), 0);
		for (i = 0; i < MANY; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&bar);
		assert_int_equal(atomic_load(&errors), 0);
		assert_true(dml__iova_check(d));
	}
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.allocs, 2 * 4 * MANY);
	assert_int_equal(st.frees, 2 * 4 * MANY);
	assert_int_equal(dml__iova_alloc(d, LIMIT32, LIMIT32, false), 1);
	shadow_fini(&sh);
	dml__iova_domain_destroy(d);
}

static void test_concurrent_exhaustion_and_flush(void **state)
{
	(void)state;
	run_workers(4, 2047, 200, 50000, true, false);
	run_workers(3, 511, 100, 50000, true, false);
}

/*
 * Tree-only traffic from several threads after this thread used the tree
 * alone: the tree lock must never let two threads into the tree at once.
 */
static void test_concurrent_tree_lock_handoff(void **state)
{
	(void)state;
	run_workers(2, 0xfffff, 300, 100000, false, true);
	run_workers(4, 0xffff, 300, 50000, false, true);
}

/* ------------------------------------------------------------------ */
/* fault injection (reference/style.md C11)                            */
/* ------------------------------------------------------------------ */

struct held {
	unsigned long pfn, size;
};

/*
 * Run a fixed sequence with the @n-th allocation failing.  Each failure
 * must be clean (0 or -ENOMEM, only the injected one), leave the domain
 * consistent (check, stats, shadow), and the same step must succeed when
 * retried.  Returns whether the injected failure was reached.
 */
static bool fail_nth_step(long n)
{
	static const unsigned long sizes[] = { 1, 2, 32, 64, 1, 4, 100, 8 };
	struct dml_iova_domain *d = NULL;
	struct dml_iova_stats st;
	static struct held h[1200];
	unsigned int nh = 0, i, failed = 0;
	struct shadow sh;
	u64 allocs = 0, frees = 0;
	bool hit;
	int rc;

	dml_fail_nth(n);
	rc = dml__iova_domain_create(G4K, 1, &d);
	if (rc) {
		hit = dml_fail_nth_hit();
		dml_fail_nth(0);
		assert_int_equal(rc, -ENOMEM);
		assert_null(d);
		assert_true(hit);
		d = mkdom(1);	/* the retry */
		dml__iova_domain_destroy(d);
		return true;
	}
	shadow_init(&sh, LIMIT32 + 1);
	rc = dml__iova_reserve(d, MSI_LO, MSI_HI);
	if (rc) {
		assert_int_equal(rc, -ENOMEM);
		assert_true(dml_fail_nth_hit());
		failed++;
		dml__iova_get_stats(d, &st);
		assert_int_equal(st.ranges, 0);
		assert_int_equal(dml__iova_reserve(d, MSI_LO, MSI_HI), 0);
	}
	for (i = 0; i < 1100; i++) {
		unsigned long sz = sizes[i % ARRAY_SIZE(sizes)];
		unsigned long pfn;

		if (i % 3 == 2 && nh) {
			/* frees never fail; they may take the tree path */
			nh--;
			assert_true(shadow_release(&sh, h[nh].pfn, h[nh].size));
			dml__iova_free(d, h[nh].pfn, h[nh].size);
			frees++;
			continue;
		}
		pfn = dml__iova_alloc(d, sz, LIMIT32, true);
		if (!pfn) {
			assert_true(dml_fail_nth_hit());
			assert_int_equal(failed, 0);
			failed++;
			dml__iova_get_stats(d, &st);
			assert_int_equal(st.allocs, allocs);
			assert_true(dml__iova_check(d));
			pfn = dml__iova_alloc(d, sz, LIMIT32, true);
			assert_int_not_equal(pfn, 0);
		}
		assert_true(pfn < MSI_LO || pfn > MSI_HI);
		assert_true(shadow_claim(&sh, pfn, sz));
		h[nh].pfn = pfn;
		h[nh++].size = sz;
		allocs++;
	}
	hit = dml_fail_nth_hit();
	dml_fail_nth(0);
	assert_true(dml__iova_check(d));
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.allocs, allocs);
	assert_int_equal(st.frees, frees);
	assert_true(st.ranges >= nh + 1);
	while (nh--)
		dml__iova_free(d, h[nh].pfn, h[nh].size);
	/* and nothing was lost: the space below the window is whole again */
	assert_int_equal(dml__iova_alloc(d, MSI_LO - 1, MSI_LO - 1, false), 1);
	assert_true(dml__iova_check(d));
	shadow_fini(&sh);
	dml__iova_domain_destroy(d);
	return hit;
}

static void test_fault_injection_sweep(void **state)
{
	long n;

	(void)state;
	for (n = 1; n < 10000; n++)
		if (!fail_nth_step(n))
			break;
	/* at least the domain, a slot, magazines and a few node chunks */
	assert_true(n > 8);
	assert_true(n < 10000);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_create_rejects_bad_arguments),
	cmocka_unit_test(test_size_aligned_allocations_ref9_item3),
	cmocka_unit_test(test_limit_respected_ref9_item2),
	cmocka_unit_test(test_reserved_msi_window_never_handed_out),
	cmocka_unit_test(test_reserve_vs_cached_and_allocated_ranges),
	cmocka_unit_test(test_pfn0_never_handed_out_ref9_item2),
	cmocka_unit_test(test_exhaustion_returns_0_and_free_makes_room),
	cmocka_unit_test(test_free_then_alloc_reuses),
	cmocka_unit_test(test_top_down_order),
	cmocka_unit_test(test_top_down_matches_oracle),
	cmocka_unit_test(test_fragmentation_300k_random_free_alloc),
	cmocka_unit_test(test_fragmentation_150k_holes),
	cmocka_unit_test(test_cache_flush_on_exhaustion),
	cmocka_unit_test(test_cache_bursts_through_depot),
	cmocka_unit_test(test_stats_and_bad_frees),
	cmocka_unit_test(test_concurrent_alloc_free_no_overlap),
	cmocka_unit_test(test_concurrent_exhaustion_and_flush),
	cmocka_unit_test(test_concurrent_tree_lock_handoff),
	cmocka_unit_test(test_more_threads_than_cache_slots),
	cmocka_unit_test(test_fault_injection_sweep),
};

DML_TEST_MAIN(tests)
