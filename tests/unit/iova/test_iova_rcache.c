// SPDX-License-Identifier: MIT
/*
 * test_iova_rcache.c - the IOVA allocator's per-thread caches
 * (src/iova/rcache.c) through the domain API, against the kernel's
 * semantics (reference/kernel-dma-semantics.md §1.2): reuse of freed
 * ranges, reservations vs cached ranges, the flush on exhaustion
 * (alloc_iova_fast with flush_rcache), the depot, statistics and bad
 * frees, concurrent use, more threads than cache slots, and fault
 * injection.  Every test checks results against a shadow map of the
 * granules it holds and ends with dml__iova_check().  No test asserts a
 * timing.
 */
#include "testutil.h"

#include "iova-test.h"

/* ------------------------------------------------------------------ */
/* caches                                                              */
/* ------------------------------------------------------------------ */

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

/*
 * The first try of a PCI device below 4 GiB (dml__iova_try_alloc(),
 * alloc_iova_fast() without flush_rcache) fails when only another thread's
 * cache holds room, and leaves that cache alone; dml__iova_alloc() then
 * flushes and finds the range.
 */
static void test_try_alloc_does_not_flush(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	pthread_barrier_t bar;
	struct parker p;
	pthread_t t;
	unsigned long own;

	(void)state;
	pthread_barrier_init(&bar, NULL, 2);
	p = (struct parker){ .d = d, .bar = &bar };
	pthread_create(&t, NULL, park_range, &p);
	pthread_barrier_wait(&bar);
	/* this thread's own cache serves it */
	own = dml__iova_try_alloc(d, 2, 255, true);
	assert_int_not_equal(own, 0);
	dml__iova_free(d, own, 2);
	assert_int_equal(dml__iova_try_alloc(d, 2, 255, true), own);
	fill_tree(d, 255);
	assert_int_equal(dml__iova_try_alloc(d, 4, 255, true), 0);
	assert_int_equal(dml__iova_alloc_nocache(d, 4, 255, true), 0);
	assert_int_equal(dml__iova_alloc(d, 4, 255, true), p.pfn);
	/* a try with room above the first limit, as dma-iommu's retry */
	assert_int_equal(dml__iova_try_alloc(d, 4, 0xfffff, true), 0xffffc);
	assert_true(dml__iova_check(d));
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&bar);
	dml__iova_domain_destroy(d);
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

/*
 * Lengths above the size classes are cached per thread with their exact
 * length: the newest one of that length below the limit is handed out
 * again (to aligned and unaligned requests); other lengths, lower limits
 * and misaligned ranges go to the tree; a thread keeps at most 16 ranges
 * and 8192 granules, moving its oldest ones to the depot, which keeps at
 * most 64 and 65536 granules and returns its oldest ones to the tree.
 */
static void test_large_ranges_cached_per_thread(void **state)
{
	struct dml_iova_domain *d = mkdom(1);
	struct dml_iova_stats st;
	unsigned long r[100], a, b, c, p;
	int i;

	(void)state;
	a = dml__iova_alloc(d, 512, LIMIT32, true);
	assert_int_equal(a, LIMIT32 + 1 - 512);
	dml__iova_free(d, a, 512);
	assert_int_equal(dml__iova_alloc(d, 512, LIMIT32, false), a);
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.cache_hits, 1);
	dml__iova_free(d, a, 512);
	/* a double free is reported and dropped, not handed out twice */
	dml_test_log_reset();
	dml__iova_free(d, a, 512);
	assert_int_equal(dml_test_log.count, 1);
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.frees, 2);
	assert_true(dml__iova_check(d));
	/* another length is not served from it, nor a limit below its end */
	b = dml__iova_alloc(d, 500, LIMIT32, true);
	assert_int_equal(b, a - 512);
	c = dml__iova_alloc(d, 512, a + 510, true);
	assert_int_equal(c, a - 1024);
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.cache_hits, 1);
	dml__iova_free(d, b, 500);
	dml__iova_free(d, c, 512);
	/* the newest of a length first */
	assert_int_equal(dml__iova_alloc(d, 512, LIMIT32, true), c);
	assert_int_equal(dml__iova_alloc(d, 512, LIMIT32, true), a);
	assert_int_equal(dml__iova_alloc(d, 500, LIMIT32, true), b);
	/* a misaligned large range goes back to the tree, where it was */
	p = dml__iova_alloc(d, 100, c - 1, false);
	assert_int_equal(p, c - 100);
	dml__iova_free(d, p, 100);
	assert_int_equal(dml__iova_alloc_nocache(d, 100, c - 1, false), p);
	dml__iova_free(d, p, 100);
	assert_true(dml__iova_check(d));
	dml__iova_domain_destroy(d);

	/*
	 * At most 16 ranges per thread: each time the list is full, its 8
	 * oldest move to the depot, which keeps 64 and returns its oldest to
	 * the tree.  Of 100 ranges freed in order, r[88..99] stay with the
	 * thread, r[24..87] in the depot, r[0..23] are free in the tree.
	 */
	d = mkdom(1);
	for (i = 0; i < 100; i++) {
		r[i] = dml__iova_alloc(d, 256, LIMIT32, true);
		assert_int_equal(r[i], LIMIT32 + 1 - 256 * (i + 1UL));
	}
	for (i = 0; i < 100; i++)
		dml__iova_free(d, r[i], 256);
	assert_true(dml__iova_check(d));
	assert_int_equal(dml__iova_alloc_nocache(d, 256, LIMIT32, true), r[0]);
	assert_int_equal(dml__iova_alloc_nocache(d, 23 * 256, LIMIT32, false),
			 r[23]);
	assert_int_equal(dml__iova_alloc_nocache(d, 256, LIMIT32, true),
			 r[99] - 256);
	for (i = 99; i >= 88; i--)	/* the thread's own, newest first */
		assert_int_equal(dml__iova_alloc(d, 256, LIMIT32, true), r[i]);
	for (i = 87; i >= 24; i--)	/* then the depot's, newest first */
		assert_int_equal(dml__iova_alloc(d, 256, LIMIT32, true), r[i]);
	dml__iova_get_stats(d, &st);
	assert_int_equal(st.cache_hits, 76);
	assert_true(dml__iova_check(d));
	dml__iova_domain_destroy(d);

	/*
	 * At most 8192 granules per thread and 65536 in the depot: of 40
	 * ranges of 4096 freed in order, r[38..39] stay with the thread,
	 * r[22..37] in the depot, r[0..21] are free in the tree.  Longer
	 * ranges are never cached.
	 */
	d = mkdom(1);
	for (i = 0; i < 40; i++)
		r[i] = dml__iova_alloc(d, 4096, LIMIT32, true);
	for (i = 0; i < 40; i++)
		dml__iova_free(d, r[i], 4096);
	assert_true(dml__iova_check(d));
	assert_int_equal(dml__iova_alloc_nocache(d, 4096, LIMIT32, true),
			 r[0]);
	for (i = 39; i >= 22; i--)
		assert_int_equal(dml__iova_alloc(d, 4096, LIMIT32, true), r[i]);
	assert_int_equal(dml__iova_alloc(d, 4096, LIMIT32, true), r[1]);
	p = dml__iova_alloc(d, 9000, LIMIT32, true);
	assert_int_equal(p % 16384, 0);
	dml__iova_free(d, p, 9000);
	assert_int_equal(dml__iova_alloc_nocache(d, 9000, LIMIT32, true), p);
	assert_true(dml__iova_check(d));
	dml__iova_domain_destroy(d);
}

#define PC_ROUNDS 20
#define PC_BATCH 64

struct pc {
	struct dml_iova_domain *d;
	pthread_barrier_t bar;
	struct shadow sh;
	unsigned long pfn[PC_BATCH];
	atomic_uint errors;
};

static void *pc_producer(void *arg)
{
	struct pc *pc = arg;
	int r, i;

	for (r = 0; r < PC_ROUNDS; r++) {
		for (i = 0; i < PC_BATCH; i++) {
			pc->pfn[i] = dml__iova_alloc(pc->d, 512, LIMIT32, true);
			if (!pc->pfn[i] || pc->pfn[i] % 512 ||
			    !shadow_claim(&pc->sh, pc->pfn[i], 512))
				atomic_fetch_add(&pc->errors, 1);
		}
		pthread_barrier_wait(&pc->bar);	/* handed over */
		pthread_barrier_wait(&pc->bar);	/* freed */
	}
	return NULL;
}

static void *pc_consumer(void *arg)
{
	struct pc *pc = arg;
	int r, i;

	for (r = 0; r < PC_ROUNDS; r++) {
		pthread_barrier_wait(&pc->bar);
		for (i = 0; i < PC_BATCH; i++) {
			if (!shadow_release(&pc->sh, pc->pfn[i], 512))
				atomic_fetch_add(&pc->errors, 1);
			dml__iova_free(pc->d, pc->pfn[i], 512);
		}
		pthread_barrier_wait(&pc->bar);
	}
	return NULL;
}

/*
 * One thread allocates large ranges, another frees them (submission and
 * completion): the freeing thread's full list goes to the depot in
 * batches and the allocating thread takes them from there, so from the
 * second round on most allocations are cache hits, not tree searches.
 */
static void test_large_ranges_cross_threads_via_depot(void **state)
{
	struct pc *pc = calloc(1, sizeof(*pc));
	struct dml_iova_stats st;
	pthread_t a, b;

	(void)state;
	assert_non_null(pc);
	pc->d = mkdom(1);
	shadow_init(&pc->sh, LIMIT32 + 1);
	pthread_barrier_init(&pc->bar, NULL, 2);
	assert_int_equal(pthread_create(&a, NULL, pc_producer, pc), 0);
	assert_int_equal(pthread_create(&b, NULL, pc_consumer, pc), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_barrier_destroy(&pc->bar);
	assert_int_equal(atomic_load(&pc->errors), 0);
	assert_true(dml__iova_check(pc->d));
	dml__iova_get_stats(pc->d, &st);
	assert_int_equal(st.allocs, PC_ROUNDS * PC_BATCH);
	assert_int_equal(st.frees, PC_ROUNDS * PC_BATCH);
	/* round 1 fills the depot with 48, later rounds with 64 */
	assert_true(st.cache_hits >= 48 * (PC_ROUNDS - 1));
	assert_int_equal(dml__iova_alloc(pc->d, LIMIT32, LIMIT32, false), 1);
	shadow_fini(&pc->sh);
	dml__iova_domain_destroy(pc->d);
	free(pc);
}

#define LARGE_LIMIT 0x3fffUL	/* a 64 MiB space */

struct large_parker {
	struct dml_iova_domain *d;
	unsigned long pfn[4];
	pthread_barrier_t *bar;	/* NULL: exit after parking */
};

static const unsigned long large_parked[4] = { 64, 512, 100, 4 };

static void *park_large(void *arg)
{
	struct large_parker *p = arg;
	int i;

	for (i = 0; i < 4; i++)
		p->pfn[i] = dml__iova_alloc(p->d, large_parked[i], LARGE_LIMIT,
					    true);
	for (i = 0; i < 4; i++)		/* into this thread's caches */
		dml__iova_free(p->d, p->pfn[i], large_parked[i]);
	if (p->bar) {
		pthread_barrier_wait(p->bar);	/* parked */
		pthread_barrier_wait(p->bar);	/* main is done */
	}
	return NULL;
}

/*
 * Exhaustion with large and small ranges parked in another thread's caches
 * (alive and idle, or exited): the failed search drains every cache into
 * the tree and retries, so each parked range is found again.
 */
static void test_large_cache_flush_on_exhaustion(void **state)
{
	struct large_parker p;
	pthread_barrier_t bar;
	pthread_t t;
	int round, i;

	(void)state;
	pthread_barrier_init(&bar, NULL, 2);
	for (round = 0; round < 2; round++) {
		p = (struct large_parker){ .d = mkdom(1),
					   .bar = round ? NULL : &bar };
		pthread_create(&t, NULL, park_large, &p);
		if (round)
			pthread_join(t, NULL);
		else
			pthread_barrier_wait(&bar);
		assert_int_equal(p.pfn[0], LARGE_LIMIT + 1 - 64);
		assert_int_equal(fill_tree(p.d, LARGE_LIMIT),
				 LARGE_LIMIT - 64 - 512 - 100 - 4);
		assert_true(dml__iova_check(p.d));
		/* the biggest first: its search fails, flushes, finds it */
		assert_int_equal(dml__iova_alloc(p.d, 512, LARGE_LIMIT, true),
				 p.pfn[1]);
		for (i = 0; i < 4; i++)
			if (i != 1)
				assert_int_equal(dml__iova_alloc_nocache(p.d,
						large_parked[i], LARGE_LIMIT,
						true), p.pfn[i]);
		assert_int_equal(dml__iova_alloc(p.d, 1, LARGE_LIMIT, false), 0);
		assert_true(dml__iova_check(p.d));
		if (!round) {
			pthread_barrier_wait(&bar);
			pthread_join(t, NULL);
		}
		dml__iova_domain_destroy(p.d);
	}
	pthread_barrier_destroy(&bar);
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

static void test_concurrent_alloc_free_no_overlap(void **state)
{
	(void)state;
	run_workers(2, 0xfffff, 500, 200000, 0);
	run_workers(4, 0xfffff, 500, 100000, 0);
}

/*
 * Block refill (dml__iova_set_block_refill(), as dma-iommu domains run):
 * the same churn, plain and exhausting the space, keeps every invariant,
 * balances the counters and gives all the space back.
 */
static void test_concurrent_block_refill(void **state)
{
	(void)state;
	run_workers(4, 0xfffff, 500, 100000, W_REFILL);
	run_workers(4, 2047, 200, 50000, W_EXPECT_FAILURES | W_REFILL);
	run_workers(3, 511, 100, 50000, W_EXPECT_FAILURES | W_REFILL);
}

#define LINE_THREADS 4
#define LINE_RANGES 48

struct line_worker {
	struct dml_iova_domain *d;
	pthread_barrier_t *bar;
	unsigned long pfn[LINE_RANGES], size[LINE_RANGES];
};

static void *line_run(void *arg)
{
	struct line_worker *w = arg;
	int i;

	/*
	 * In lock step: every thread's i-th allocation comes after all the
	 * (i-1)-th ones, so the threads' tree allocations are neighbours.
	 */
	for (i = 0; i < LINE_RANGES; i++) {
		pthread_barrier_wait(w->bar);
		w->size[i] = 1UL << (i % 3);		/* 1, 2, 4 granules */
		w->pfn[i] = dml__iova_alloc(w->d, w->size[i], LIMIT32, true);
	}
	return NULL;
}

/*
 * With block refill, ranges of 1, 2 and 4 granules that threads allocate
 * side by side never share an aligned block of 8 granules (one 64-byte
 * line of 4 KiB leaf entries) with another thread's; without it they do
 * (the kernel's exact-size allocation hands out neighbours).
 */
static void test_block_refill_threads_own_lines(void **state)
{
	struct line_worker w[LINE_THREADS];
	pthread_t t[LINE_THREADS];
	pthread_barrier_t bar;
	struct dml_iova_stats st;
	int on, i, j, a, b, shared;

	(void)state;
	for (on = 0; on < 2; on++) {
		struct dml_iova_domain *d = mkdom(1);

		dml__iova_set_block_refill(d, on);
		pthread_barrier_init(&bar, NULL, LINE_THREADS);
		for (i = 0; i < LINE_THREADS; i++) {
			w[i].d = d;
			w[i].bar = &bar;
			assert_int_equal(pthread_create(&t[i], NULL, line_run,
							&w[i]), 0);
		}
		for (i = 0; i < LINE_THREADS; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&bar);
		shared = 0;
		for (i = 0; i < LINE_THREADS; i++)
			for (j = i + 1; j < LINE_THREADS; j++)
				for (a = 0; a < LINE_RANGES; a++)
					for (b = 0; b < LINE_RANGES; b++)
						shared += w[i].pfn[a] / 8 ==
							  w[j].pfn[b] / 8;
		for (i = 0; i < LINE_THREADS; i++)
			for (a = 0; a < LINE_RANGES; a++) {
				assert_int_not_equal(w[i].pfn[a], 0);
				assert_int_equal(w[i].pfn[a] % w[i].size[a], 0);
				dml__iova_free(d, w[i].pfn[a], w[i].size[a]);
			}
		if (on)
			assert_int_equal(shared, 0);
		else
			assert_true(shared > 0);
		assert_true(dml__iova_check(d));
		dml__iova_get_stats(d, &st);
		assert_int_equal(st.allocs, LINE_THREADS * LINE_RANGES);
		assert_int_equal(st.frees, st.allocs);
		assert_int_equal(dml__iova_alloc(d, LIMIT32, LIMIT32, false), 1);
		dml__iova_domain_destroy(d);
	}
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
	run_workers(4, 2047, 200, 50000, W_EXPECT_FAILURES);
	run_workers(3, 511, 100, 50000, W_EXPECT_FAILURES);
}

/*
 * Many threads on ONE domain, mostly sizes above the size classes mixed
 * with cached ones, below a 32-bit and a 48-bit limit and in a space so
 * small that they exhaust it and flush each other's caches: no two live
 * ranges overlap, each is inside the limit and aligned as asked, the
 * invariants hold and all the space comes back.
 */
static void test_concurrent_large_and_cached_one_domain(void **state)
{
	(void)state;
	run_workers(4, LIMIT32, 64, 100000, W_LARGE);
	run_workers(3, (1UL << 36) - 1, 64, 100000, W_LARGE);
	run_workers(4, LARGE_LIMIT, 16, 50000, W_EXPECT_FAILURES | W_LARGE);
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
	cmocka_unit_test(test_reserve_vs_cached_and_allocated_ranges),
	cmocka_unit_test(test_free_then_alloc_reuses),
	cmocka_unit_test(test_cache_flush_on_exhaustion),
	cmocka_unit_test(test_try_alloc_does_not_flush),
	cmocka_unit_test(test_cache_bursts_through_depot),
	cmocka_unit_test(test_large_ranges_cached_per_thread),
	cmocka_unit_test(test_large_ranges_cross_threads_via_depot),
	cmocka_unit_test(test_large_cache_flush_on_exhaustion),
	cmocka_unit_test(test_stats_and_bad_frees),
	cmocka_unit_test(test_concurrent_alloc_free_no_overlap),
	cmocka_unit_test(test_concurrent_exhaustion_and_flush),
	cmocka_unit_test(test_concurrent_large_and_cached_one_domain),
	cmocka_unit_test(test_more_threads_than_cache_slots),
	cmocka_unit_test(test_concurrent_block_refill),
	cmocka_unit_test(test_block_refill_threads_own_lines),
	cmocka_unit_test(test_fault_injection_sweep),
};

DML_TEST_MAIN(tests)
