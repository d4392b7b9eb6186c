/* SPDX-License-Identifier: MIT */
/*
 * test_pgtable_threads.c - the emulated VT-d page table with threads and
 * the freeing of empty tables (src/iommu/emu/pgtable.c, reclaim.c):
 * concurrent map/unmap of disjoint ranges sharing tables, trims racing
 * with them, and empty tables: reused in place, bounded, freed by trim,
 * the domain-wide flush and destroy.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "pt_env.h"

/* ---- concurrency: disjoint ranges, one domain ---- */

struct worker {
	struct env *e;
	u64 base;
	unsigned int id;
	int err;
};

struct trimmer {
	struct env *e;
	int *done;
	unsigned long rounds;
	int bad_stats;		/* a stats read saw an impossible count */
};

/* trims, flushes and reads the unit's counters while the workers map */
static void *trimmer_fn(void *arg)
{
	struct trimmer *tr = arg;
	struct dml_iommu_stats st;

	while (!__atomic_load_n(tr->done, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&tr->rounds, __ATOMIC_RELAXED) % 2)
			dml_iommu_trim(tr->e->iommu);
		else
			tr->e->d->ops->flush_iotlb_all(tr->e->d);
		dml_iommu_get_stats(tr->e->iommu, &st);
		/* the root is held throughout, whatever else comes and goes */
		if (st.pt_pages < 1)
			__atomic_store_n(&tr->bad_stats, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&tr->rounds, 1, __ATOMIC_RELEASE);
		sched_yield();
	}
	return NULL;
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct dml_domain *d = w->e->d;
	unsigned int i, j;
	size_t n;

	for (i = 0; i < 20000 && !w->err; i++) {
		/* pages interleaved with the other thread's in one leaf table,
		 * plus whole 2 MiB leaves and windows of its own */
		u64 a = w->base + (u64)(i % 64) * 2 * SZ_4K + w->id * SZ_4K;
		u64 b = w->base + SZ_1G * (1 + w->id) + (u64)(i % 8) * SZ_2M;
		u64 c = (u64)(2 + w->id + 2 * (i % 4)) << 39;

		if (d->ops->map(d, a, 0x1000, SZ_4K, RW, LINK) ||
		    d->ops->map(d, b, 0x200000, SZ_2M, RW, LINK) ||
		    d->ops->map(d, c, 0x3000, SZ_4K, RW, LINK))
			w->err = 1;
		for (j = 0; j < 3 && !w->err; j++) {
			u64 v = j == 0 ? a : j == 1 ? b : c;

			if (d->ops->iova_to_phys(d, v) != (j == 0 ? 0x1000 : j == 1 ? 0x200000 : 0x3000))
				w->err = 2;
		}
		if (d->ops->unmap(d, a, SZ_4K, DML_UNMAP_EXACT, &n) || n != SZ_4K ||
		    d->ops->unmap(d, b, SZ_2M, DML_UNMAP_EXACT, &n) || n != SZ_2M ||
		    d->ops->unmap(d, c, SZ_4K, DML_UNMAP_EXACT, &n) || n != SZ_4K)
			w->err = 3;
	}
	return NULL;
}

/* two workers on disjoint ranges; @trimmer: a third thread trims meanwhile */
static void run_concurrent(bool trimmer)
{
	struct trimmer tr;
	struct worker w[2];
	pthread_t t[2], tt;
	struct env e;
	unsigned int i;
	int done = 0;

	env_up(&e, 4, true);
	tr = (struct trimmer){ .e = &e, .done = &done };
	if (trimmer) {
		/* trimming before the workers start, until they are done */
		assert_int_equal(pthread_create(&tt, NULL, trimmer_fn, &tr), 0);
		while (!__atomic_load_n(&tr.rounds, __ATOMIC_ACQUIRE))
			sched_yield();
	}
	for (i = 0; i < 2; i++) {
		w[i] = (struct worker){ .e = &e, .base = 4 * SZ_1G, .id = i };
		assert_int_equal(pthread_create(&t[i], NULL, worker_fn, &w[i]), 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	if (trimmer) {
		__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
		pthread_join(tt, NULL);
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(w[i].err, 0);
	assert_int_equal(tr.bad_stats, 0);
	assert_int_equal(pt_pages(&e), 1);
	env_down(&e);
}

static void test_concurrent(void **state)
{
	(void)state;
	run_concurrent(false);
}

/*
 * Trims (all empty tables, and the gathered ones through the domain-wide
 * flush) while two threads map and unmap in tables that keep going empty.
 */
static void test_trim_race(void **state)
{
	(void)state;
	run_concurrent(true);
}

/* ---- idle tables: bounded, reused, trimmed ---- */

/* empty tables that may linger: the gather list and their ancestors */
#define IDLE_BOUND(levels) ((u64)EMU_GATHER * ((levels) - 1))
/* 1 GiB windows per third of test_idle_bound's range */
#define WINDOWS 64

static void test_idle_reuse(void **state)
{
	struct env e;
	u64 held;
	size_t n;

	(void)state;
	env_up(&e, 4, true);
	/* unmapping the only page keeps its tables linked, all empty */
	assert_int_equal(map(&e, SZ_1G, 0x1000, SZ_4K, LINK), 0);
	assert_int_equal(raw_pages(&e), 4);
	assert_int_equal(unmap(&e, SZ_1G, SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, SZ_4K);
	held = raw_pages(&e);
	assert_true(held > 1 && held <= 1 + IDLE_BOUND(4));
	assert_int_equal(e.d->ops->iova_to_phys(e.d, SZ_1G), 0);
	/* the next map there reuses them: no new page */
	assert_int_equal(map(&e, SZ_1G + SZ_4K, 0x2000, SZ_4K, LINK), 0);
	assert_int_equal(raw_pages(&e), held);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, SZ_1G + SZ_4K), 0x2000);
	assert_int_equal(unmap(&e, SZ_1G + SZ_4K, SZ_4K, DML_UNMAP_EXACT, &n), 0);
	/* a 2 MiB leaf takes the place of the idle leaf table */
	assert_int_equal(map(&e, SZ_1G, SZ_2M, SZ_2M, LINK), 0);
	assert_int_equal(leaf_shift(&e, SZ_1G), 21);
	assert_int_equal(raw_pages(&e), 3);
	assert_int_equal(unmap(&e, SZ_1G, SZ_2M, DML_UNMAP_EXACT, &n), 0);
	/* a 1 GiB leaf takes the place of the idle level-2 table */
	assert_int_equal(map(&e, SZ_1G + SZ_4K, 0x2000, SZ_4K, LINK), 0);
	assert_int_equal(unmap(&e, SZ_1G + SZ_4K, SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(map(&e, SZ_1G, SZ_1G, SZ_1G, LINK), 0);
	assert_int_equal(leaf_shift(&e, SZ_1G + 0x1234000), 30);
	assert_int_equal(raw_pages(&e), 2);
	assert_int_equal(unmap(&e, SZ_1G, SZ_1G, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, SZ_1G);
	/* trimming frees every idle table: back to the root */
	emu_pt_trim(to_emu(e.d));
	assert_int_equal(raw_pages(&e), 1);
	env_down(&e);
}

/* many windows and leaf tables emptied: what lingers is bounded */
static void test_idle_bound(void **state)
{
	static const unsigned int levels[] = { 4, 5 };
	unsigned int k, w, t;
	struct env e;
	size_t n;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(levels); k++) {
		env_up(&e, levels[k], true);
		/* 3 windows per stripe, 8 leaf tables per window */
		for (w = 0; w < 3 * WINDOWS; w++)
			for (t = 0; t < 8; t++)
				assert_int_equal(map(&e, ((u64)w << 30) + t * SZ_2M + SZ_4K,
						     0x1000, SZ_4K, LINK), 0);
		assert_int_equal(raw_pages(&e), 1 + 1 + 3 * WINDOWS * 9 +
						(levels[k] == 5));
		for (w = 0; w < 3 * WINDOWS; w++) {
			for (t = 0; t < 8; t++) {
				assert_int_equal(unmap(&e, ((u64)w << 30) + t * SZ_2M + SZ_4K,
						       SZ_4K, DML_UNMAP_EXACT, &n), 0);
				assert_int_equal(n, SZ_4K);
				assert_true(raw_pages(&e) <= 1 + 1 + (levels[k] == 5) +
					    (3 * WINDOWS - w) * 9 +
					    IDLE_BOUND(levels[k]));
			}
		}
		assert_true(raw_pages(&e) <= 1 + IDLE_BOUND(levels[k]));
		assert_true(raw_pages(&e) > 1);
		/* the domain-wide flush reclaims them all */
		e.d->ops->flush_iotlb_all(e.d);
		assert_int_equal(raw_pages(&e), 1);
		/* and so does reading the statistics */
		assert_int_equal(map(&e, SZ_4K, 0x1000, SZ_4K, LINK), 0);
		assert_int_equal(unmap(&e, SZ_4K, SZ_4K, DML_UNMAP_EXACT, &n), 0);
		assert_true(raw_pages(&e) > 1);
		assert_int_equal(pt_pages(&e), 1);
		assert_int_equal(raw_pages(&e), 1);
		/* destroying a domain with idle tables leaks nothing */
		assert_int_equal(map(&e, SZ_4K, 0x1000, SZ_4K, LINK), 0);
		assert_int_equal(unmap(&e, SZ_4K, SZ_4K, DML_UNMAP_EXACT, &n), 0);
		dml__domain_destroy(e.d);
		assert_int_equal(raw_pages(&e), 0);
		dml_platform_destroy(e.p);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_concurrent),
	cmocka_unit_test(test_trim_race),
	cmocka_unit_test(test_idle_reuse),
	cmocka_unit_test(test_idle_bound),
};

DML_TEST_MAIN(tests)
