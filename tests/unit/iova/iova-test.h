/* SPDX-License-Identifier: MIT */
/*
 * iova-test.h - helpers shared by the IOVA allocator's tests
 * (test_iova_tree.c, test_iova_rcache.c): a deterministic random number
 * generator, a domain maker, a shadow map of held granules, the
 * brute-force top-down oracle, and threads doing random alloc/free
 * traffic on one domain.  Include after testutil.h.
 */
#ifndef DML_IOVA_TEST_H
#define DML_IOVA_TEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "iova/iova.h"

#define G4K 4096UL
#define LIMIT32 0xfffffUL	/* last pfn below 4 GiB with 4 KiB granules */
#define MSI_LO 0xfee00UL	/* the x86 MSI window, 0xfee00000-0xfeefffff */
#define MSI_HI 0xfeeffUL

/* one generator per test program; tests run one at a time */
static u64 rng_state;

static inline u64 rnd(void)
{
	/* xorshift64*: deterministic per test */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static inline void rnd_seed(u64 s)
{
	rng_state = s ? s : 1;
}

static inline struct dml_iova_domain *mkdom(unsigned long start_pfn)
{
	struct dml_iova_domain *d = NULL;

	assert_int_equal(dml__iova_domain_create(G4K, start_pfn, &d), 0);
	assert_non_null(d);
	return d;
}

/* one byte per granule of [base, base + n): below the test's limit */
struct shadow {
	unsigned long base, n;
	_Atomic unsigned char *b;	/* b[pfn - base] */
};

/* a shadow of the top @npfn granules at or below @limit */
static inline void shadow_init_below(struct shadow *s, unsigned long limit,
				     unsigned long npfn)
{
	s->base = limit + 1 - npfn;
	s->n = npfn;
	s->b = calloc(npfn, 1);
	assert_non_null(s->b);
}

/* a shadow of pfns [0, npfn) */
static inline void shadow_init(struct shadow *s, unsigned long npfn)
{
	shadow_init_below(s, npfn - 1, npfn);
}

static inline void shadow_fini(struct shadow *s)
{
	free((void *)s->b);
}

/* mark [pfn, pfn + size) held; false if any granule already was */
static inline bool shadow_claim(struct shadow *s, unsigned long pfn,
			 unsigned long size)
{
	bool ok = pfn >= s->base && pfn - s->base + size <= s->n;

	for (unsigned long i = 0; ok && i < size; i++)
		if (atomic_exchange(&s->b[pfn - s->base + i], 1))
			ok = false;
	return ok;
}

static inline bool shadow_release(struct shadow *s, unsigned long pfn,
			   unsigned long size)
{
	bool ok = pfn >= s->base && pfn - s->base + size <= s->n;

	for (unsigned long i = 0; ok && i < size; i++)
		if (!atomic_exchange(&s->b[pfn - s->base + i], 0))
			ok = false;
	return ok;
}

static inline unsigned long pow2_up(unsigned long x)
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
static inline unsigned long oracle(struct shadow *s, unsigned long start_pfn,
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

/*
 * run_workers - @nthreads threads doing random alloc/free of mixed sizes
 * (cached and not) on one domain below @limit, at most @max_live ranges
 * each; checks no overlap (shadow map of the top 4M granules below the
 * limit), the limit, alignment, the invariants, the stats, and that the
 * whole space comes back at the end.
 */
struct worker {
	struct dml_iova_domain *d;
	struct shadow *sh;
	unsigned long limit;
	unsigned int seed, ops, max_live;
	bool nocache;		/* tree only: alloc_iova()/free_iova() */
	bool large;		/* mostly sizes above the size classes */
	atomic_uint *errors;
	atomic_uint *failures;
};

static inline void *worker_run(void *arg)
{
	static const unsigned long small[] = { 1, 1, 1, 2, 4, 8, 16, 32, 3,
					       64, 100 };
	/* repeated large lengths, odd ones, and cached sizes between */
	static const unsigned long large[] = { 64, 64, 100, 512, 512, 33,
					       1000, 2048, 4096, 8192, 9000,
					       1, 8, 32 };
	struct worker *w = arg;
	const unsigned long *sizes = w->large ? large : small;
	unsigned int nsizes = w->large ? ARRAY_SIZE(large) : ARRAY_SIZE(small);
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
			unsigned long sz = sizes[(x >> 8) % nsizes];
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
			    (aligned && p % pow2_up(sz)) ||
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

/*
 * Operations per worker: a tenth under ThreadSanitizer (make check-tsan),
 * which runs these threads some hundred times slower on two cores; the
 * interleavings it checks come from the threads meeting, not the count.
 */
#ifdef __SANITIZE_THREAD__
#define WORKER_OPS(n) ((n) / 10)
#else
#define WORKER_OPS(n) (n)
#endif

/* how run_workers() runs them */
#define W_EXPECT_FAILURES 1U	/* the space is small: allocations may fail */
#define W_NOCACHE 2U		/* tree only: alloc_iova()/free_iova() */
#define W_LARGE 4U		/* mostly sizes above the size classes */
#define W_REFILL 8U		/* dml__iova_set_block_refill() on */

static inline void run_workers(unsigned int nthreads, unsigned long limit,
			unsigned int max_live, unsigned int ops,
			unsigned int how)
{
	struct dml_iova_domain *d = mkdom(1);
	bool expect_failures = how & W_EXPECT_FAILURES;
	struct worker w[4];
	pthread_t t[4];
	struct shadow sh;
	atomic_uint errors = 0, failures = 0;
	struct dml_iova_stats st;
	unsigned int i;

	dml__iova_set_block_refill(d, how & W_REFILL);
	shadow_init_below(&sh, limit, min(limit + 1, 1UL << 22));
	/* this thread uses the tree alone first */
	for (i = 0; i < 1000; i++)
		dml__iova_free_nocache(d, dml__iova_alloc_nocache(d, 3, limit,
								  false), 3);
	for (i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .d = d, .sh = &sh, .limit = limit,
					.seed = 1234 + i * 77,
					.ops = WORKER_OPS(ops),
					.max_live = max_live,
					.nocache = how & W_NOCACHE,
					.large = how & W_LARGE,
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

#endif /* DML_IOVA_TEST_H */
