// SPDX-License-Identifier: MIT
/*
 * bench_iova.c - benchmark cases of the IOVA allocator (src/iova/iova.c)
 * against reference/perf-anchors.md §1.3 and goals G1-G3, G5, G6.  Each
 * thread gets its own domain (a 4 KiB granule, a 48-bit space, allocations
 * below 4 GiB as a 32-bit PCI device's first try).
 *
 *   iova-1, iova-32   alloc+free pairs served by the thread cache (L1, L2)
 *   iova-512          alloc+free of an uncached size, tree only (L4/G3)
 *   iova-burst        1024 allocs then 1024 frees, per pair (L3/G2)
 *   iova-fill         allocs of one granule into an empty domain; every
 *                     300 000 the domain is recreated (inside the timing,
 *                     well under 1 ns per alloc) (L6/G6)
 *   iova-frag         300 000 live single granules, then per operation one
 *                     random free + one alloc, both on the tree as A11 and
 *                     L7 measure alloc_iova()/free_iova() (G5)
 *   iova-frag-holes   as iova-frag with 150 000 one-granule holes kept open
 *                     and each alloc below a random limit: every search
 *                     walks a 300k-node tree (no anchor: a harder G5)
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "iova/iova.h"

#define LIMIT32 0xfffffUL
#define FRAG_LIVE 300000UL
#define BURST 1024

struct ib {
	struct dml_iova_domain *d;
	unsigned long *pfns;
	unsigned long n;
	u64 rng;
};

static inline u64 ib_rand(struct ib *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return b->rng;
}

static void ib_teardown(void *priv)
{
	struct ib *b = priv;

	dml__iova_domain_destroy(b->d);
	free(b->pfns);
	free(b);
}

static int ib_setup_n(void **priv, unsigned long npfns)
{
	struct ib *b = calloc(1, sizeof(*b));
	int ret;

	if (!b)
		return -ENOMEM;
	b->rng = 0x9e3779b97f4a7c15ULL;
	ret = dml__iova_domain_create(4096, 1, &b->d);
	if (!ret && npfns) {
		b->pfns = calloc(npfns, sizeof(*b->pfns));
		if (!b->pfns)
			ret = -ENOMEM;
	}
	if (ret) {
		ib_teardown(b);
		return ret;
	}
	*priv = b;
	return 0;
}

static int ib_setup(void *shared, unsigned int idx, void **priv)
{
	(void)shared;
	(void)idx;
	return ib_setup_n(priv, BURST);
}

static inline int pair(struct ib *b, unsigned long size, unsigned long iters)
{
	unsigned long i, pfn;

	for (i = 0; i < iters; i++) {
		pfn = dml__iova_alloc(b->d, size, LIMIT32, true);
		if (!pfn)
			return -ENOSPC;
		dml_bench_keep(pfn);
		dml__iova_free(b->d, pfn, size);
	}
	return 0;
}

static int run_1(void *priv, unsigned long iters)
{
	return pair(priv, 1, iters);
}

static int run_32(void *priv, unsigned long iters)
{
	return pair(priv, 32, iters);
}

static int run_512(void *priv, unsigned long iters)
{
	return pair(priv, 512, iters);
}

static int run_burst(void *priv, unsigned long iters)
{
	struct ib *b = priv;
	unsigned long done = 0, n, i;

	while (done < iters) {
		n = min(iters - done, (unsigned long)BURST);
		for (i = 0; i < n; i++) {
			b->pfns[i] = dml__iova_alloc(b->d, 1, LIMIT32, true);
			if (!b->pfns[i])
				return -ENOSPC;
		}
		for (i = 0; i < n; i++)
			dml__iova_free(b->d, b->pfns[i], 1);
		done += n;
	}
	return 0;
}

static int fill_setup(void *shared, unsigned int idx, void **priv)
{
	(void)shared;
	(void)idx;
	return ib_setup_n(priv, 0);
}

static int run_fill(void *priv, unsigned long iters)
{
	struct ib *b = priv;
	unsigned long i, pfn;
	int ret;

	for (i = 0; i < iters; i++) {
		if (b->n == FRAG_LIVE) {
			dml__iova_domain_destroy(b->d);
			b->d = NULL;
			b->n = 0;
			ret = dml__iova_domain_create(4096, 1, &b->d);
			if (ret)
				return ret;
		}
		pfn = dml__iova_alloc(b->d, 1, LIMIT32, true);
		if (!pfn)
			return -ENOSPC;
		dml_bench_keep(pfn);
		b->n++;
	}
	return 0;
}

static int frag_fill(struct ib *b)
{
	unsigned long i;

	for (i = 0; i < FRAG_LIVE; i++) {
		b->pfns[i] = dml__iova_alloc_nocache(b->d, 1, LIMIT32, true);
		if (!b->pfns[i])
			return -ENOSPC;
	}
	return 0;
}

static int frag_setup(void *shared, unsigned int idx, void **priv)
{
	(void)shared;
	(void)idx;
	int ret = ib_setup_n(priv, FRAG_LIVE);

	if (!ret && (ret = frag_fill(*priv)))
		ib_teardown(*priv);
	return ret;
}

static int run_frag(void *priv, unsigned long iters)
{
	struct ib *b = priv;
	unsigned long i, j;

	for (i = 0; i < iters; i++) {
		j = ib_rand(b) % FRAG_LIVE;
		dml__iova_free_nocache(b->d, b->pfns[j], 1);
		b->pfns[j] = dml__iova_alloc_nocache(b->d, 1, LIMIT32, true);
		if (!b->pfns[j])
			return -ENOSPC;
	}
	return 0;
}

/* 300k singles, every other one freed: b->pfns[0..n) are the live ones */
static int holes_setup(void *shared, unsigned int idx, void **priv)
{
	struct ib *b;
	unsigned long i;
	int ret = frag_setup(shared, idx, priv);

	if (ret)
		return ret;
	b = *priv;
	for (i = 0; i < FRAG_LIVE; i++) {
		if (i % 2)
			dml__iova_free_nocache(b->d, b->pfns[i], 1);
		else
			b->pfns[b->n++] = b->pfns[i];
	}
	return 0;
}

static int run_frag_holes(void *priv, unsigned long iters)
{
	struct ib *b = priv;
	unsigned long i, j, limit, lo = LIMIT32 - FRAG_LIVE;

	for (i = 0; i < iters; i++) {
		j = ib_rand(b) % b->n;
		limit = lo + 2 + ib_rand(b) % FRAG_LIVE;
		dml__iova_free_nocache(b->d, b->pfns[j], 1);
		b->pfns[j] = dml__iova_alloc_nocache(b->d, 1, limit, true);
		if (!b->pfns[j])
			return -ENOSPC;
	}
	return 0;
}

/* every thread has its own domain: no shared setup */
#define IB_CASE(nm, wh, gl, an, tsu, rn)				\
	{ .name = nm, .what = wh, .goal = gl, .anchor_ns = an,		\
	  .thread_setup = tsu, .thread_teardown = ib_teardown, .run = rn }

const struct dml_bench_case dml_bench_iova_cases[] = {
	IB_CASE("iova-1", "IOVA alloc+free, 1 granule, cached", "G1", 14.5,
		ib_setup, run_1),
	IB_CASE("iova-32", "IOVA alloc+free, 32 granules, cached", NULL, 14.4,
		ib_setup, run_32),
	IB_CASE("iova-512", "IOVA alloc+free, 512 granules, uncached", "G3", 44,
		ib_setup, run_512),
	IB_CASE("iova-burst", "IOVA 1024 allocs then 1024 frees, per pair",
		"G2", 15.0, ib_setup, run_burst),
	IB_CASE("iova-fill", "IOVA fill 300k single granules, per alloc", "G6",
		110, fill_setup, run_fill),
	IB_CASE("iova-frag", "IOVA 300k live, random free+alloc, per op", "G5",
		226000, frag_setup, run_frag),
	IB_CASE("iova-frag-holes",
		"IOVA 150k holes, free+alloc below random limit", NULL, 0,
		holes_setup, run_frag_holes),
	{ .name = NULL }
};
