// SPDX-License-Identifier: MIT
/*
 * iova-threads.c - alloc+free pairs on ONE shared IOVA domain from 1..N
 * threads (reference/perf-anchors.md G1, G3, G4): sizes of 1, 8, 64 and
 * 512 granules (4 KiB), size-aligned, below a 32-bit and a 48-bit limit.
 * Prints ns per alloc+free pair per thread (the median and the best of the
 * runs, each run the mean over its threads) and the efficiency of N
 * threads from the medians, ops(N) / (N * ops(T)) with T the first thread
 * count of -t (1 by default).  The machine's other load makes the numbers
 * noisy: repeat runs (-r).
 *
 *   iova-threads [-t 1,2,...] [-n pairs per thread] [-r runs]
 *                [-s 1,8,...] [-l 32,48] [-p 32|0] [-F] [-k keep] [-x]
 *
 * -p 32 emulates dma-iommu's PCI workaround (iommu_dma_alloc_iova()): try
 * below 4 GiB first without the flush (dml__iova_try_alloc()), then the
 * full limit, and stop trying below 4 GiB after the first failure (one
 * flag per run, as per device).  -F makes that first try with
 * dml__iova_alloc(), which flushes every cache and retries when the space
 * below 4 GiB is short (what dma-iommu did before dml__iova_try_alloc()).
 * -k keeps that many ranges of the size live per thread around the pairs
 * (a working set).  -x pairs the threads (an even count): one allocates
 * and hands each range through a ring to the other, which frees it, as
 * submission and completion do.
 */
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iova/iova.h"

#define MAX_THREADS 64
#define MAX_LIST 16
#define RING 256		/* -x: ranges in flight per thread pair */

/* -x: a single-producer single-consumer ring of pfns */
struct ring {
	alignas(128) atomic_ulong head;	/* written by the producer */
	alignas(128) atomic_ulong tail;	/* written by the consumer */
	unsigned long pfn[RING];
};

struct run {
	struct dml_iova_domain *d;
	unsigned long size, limit, first_limit, pairs, keep;
	atomic_bool try_first;	/* dev->pci_32bit_workaround */
	bool first_flushes;	/* -F: first try with dml__iova_alloc() */
	bool cross;		/* -x: even threads allocate, odd ones free */
	pthread_barrier_t bar;
};

struct thr {
	struct run *r;
	pthread_t t;
	struct ring *ring;	/* -x: shared with the pair's other thread */
	bool producer;
	double ns;		/* per pair */
	int err;
};

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

/* iommu_dma_alloc_iova(): below 4 GiB first until that fails once */
static inline unsigned long alloc_one(struct run *r)
{
	unsigned long pfn = 0;

	if (r->first_limit &&
	    atomic_load_explicit(&r->try_first, memory_order_relaxed)) {
		pfn = r->first_flushes ?
			dml__iova_alloc(r->d, r->size, r->first_limit, true) :
			dml__iova_try_alloc(r->d, r->size, r->first_limit, true);
		if (!pfn)
			atomic_store(&r->try_first, false);
	}
	if (!pfn)
		pfn = dml__iova_alloc(r->d, r->size, r->limit, true);
	return pfn;
}

/*
 * -x: the producer allocates and hands each range to its consumer, which
 * frees it (submission and completion on different threads).
 */
static void cross_run(struct thr *t)
{
	struct run *r = t->r;
	struct ring *q = t->ring;
	unsigned long i, h, pfn;

	for (i = 0; i < r->pairs; i++) {
		if (t->producer) {
			pfn = alloc_one(r);
			if (!pfn)
				t->err = -ENOSPC;
			h = atomic_load_explicit(&q->head, memory_order_relaxed);
			while (h - atomic_load_explicit(&q->tail,
					memory_order_acquire) == RING)
				;
			q->pfn[h % RING] = pfn;
			atomic_store_explicit(&q->head, h + 1,
					      memory_order_release);
		} else {
			h = atomic_load_explicit(&q->tail, memory_order_relaxed);
			while (atomic_load_explicit(&q->head,
					memory_order_acquire) == h)
				;
			pfn = q->pfn[h % RING];
			atomic_store_explicit(&q->tail, h + 1,
					      memory_order_release);
			if (pfn)
				dml__iova_free(r->d, pfn, r->size);
		}
	}
}

static void *thr_run(void *arg)
{
	struct thr *t = arg;
	struct run *r = t->r;
	unsigned long *kept = calloc(r->keep + 1, sizeof(*kept));
	unsigned long i, pfn;
	u64 t0;

	if (!kept) {
		t->err = -ENOMEM;
		pthread_barrier_wait(&r->bar);
		return NULL;
	}
	for (i = 0; i < r->keep; i++)
		kept[i] = alloc_one(r);
	/* warm this thread's caches before the clock starts */
	for (i = 0; i < 1000; i++) {
		pfn = alloc_one(r);
		if (pfn)
			dml__iova_free(r->d, pfn, r->size);
	}
	pthread_barrier_wait(&r->bar);
	t0 = now_ns();
	if (r->cross)
		cross_run(t);
	for (i = 0; !r->cross && i < r->pairs; i++) {
		pfn = alloc_one(r);
		if (!pfn) {
			t->err = -ENOSPC;
			break;
		}
		__asm__ volatile("" : : "r"(pfn) : "memory");
		dml__iova_free(r->d, pfn, r->size);
	}
	t->ns = (double)(now_ns() - t0) / (double)r->pairs;
	for (i = 0; i < r->keep; i++)
		if (kept[i])
			dml__iova_free(r->d, kept[i], r->size);
	free(kept);
	return NULL;
}

/*
 * One run of @n threads with the parameters of @tmpl on a new domain: the
 * mean ns per pair over the threads, or a negative errno.
 */
static double run_once(const struct run *tmpl, unsigned int n)
{
	struct thr t[MAX_THREADS];
	struct run r = { .size = tmpl->size, .limit = tmpl->limit,
			 .first_limit = tmpl->first_limit,
			 .first_flushes = tmpl->first_flushes,
			 .pairs = tmpl->pairs, .keep = tmpl->keep,
			 .cross = tmpl->cross, .try_first = true };
	struct ring *rings = NULL;
	double sum = 0;
	unsigned int i;
	int err = 0;

	if (r.cross && (n % 2 ||
			!(rings = aligned_alloc(128, n / 2 * sizeof(*rings)))))
		return -EINVAL;
	if (dml__iova_domain_create(4096, 1, &r.d)) {
		free(rings);
		return -ENOMEM;
	}
	if (rings)
		memset(rings, 0, n / 2 * sizeof(*rings));
	pthread_barrier_init(&r.bar, NULL, n);
	for (i = 0; i < n; i++) {
		t[i] = (struct thr){ .r = &r, .producer = !(i % 2),
				     .ring = rings ? &rings[i / 2] : NULL };
		if (pthread_create(&t[i].t, NULL, thr_run, &t[i]))
			abort();
	}
	for (i = 0; i < n; i++) {
		pthread_join(t[i].t, NULL);
		sum += t[i].ns;
		if (t[i].err)
			err = t[i].err;
	}
	pthread_barrier_destroy(&r.bar);
	free(rings);
	if (!err && !dml__iova_check(r.d))
		err = -EIO;
	dml__iova_domain_destroy(r.d);
	return err ? err : sum / n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static unsigned int parse_list(const char *s, unsigned long *out)
{
	unsigned int n = 0;
	char *end;

	while (*s && n < MAX_LIST) {
		out[n++] = strtoul(s, &end, 0);
		if (*end != ',')
			break;
		s = end + 1;
	}
	return n;
}

int main(int argc, char **argv)
{
	unsigned long threads[MAX_LIST] = { 1, 2 }, sizes[MAX_LIST] = { 1, 8, 64, 512 };
	unsigned long bits[MAX_LIST] = { 32, 48 };
	unsigned int nthr = 2, nsz = 4, nbits = 2, runs = 5, i, j, k, x;
	unsigned long pairs = 2000000, keep = 0, pci = 0;
	double res[32], base = 0;
	bool flushes = false, cross = false;
	int c;

	while ((c = getopt(argc, argv, "t:n:r:s:l:p:Fk:x")) != -1) {
		switch (c) {
		case 't': nthr = parse_list(optarg, threads); break;
		case 'n': pairs = strtoul(optarg, NULL, 0); break;
		case 'r': runs = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 's': nsz = parse_list(optarg, sizes); break;
		case 'l': nbits = parse_list(optarg, bits); break;
		case 'p': pci = strtoul(optarg, NULL, 0); break;
		case 'F': flushes = true; break;
		case 'x': cross = true; break;
		case 'k': keep = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr,
				"usage: %s [-t 1,2] [-n pairs] [-r runs] [-s 1,8,64,512]\n"
				"       [-l 32,48] [-p 32] [-F] [-k keep] [-x]\n",
				argv[0]);
			return 2;
		}
	}
	if (!pairs || runs < 1 || runs > ARRAY_SIZE(res))
		return 2;
	printf("%-6s %-6s %-8s %12s %9s %12s %10s\n", "limit", "size",
	       "threads", "ns/pair/thr", "best", "Mpairs/s", "efficiency");
	for (k = 0; k < nbits; k++) {
		unsigned long limit = (1UL << (bits[k] - 12)) - 1;
		unsigned long first = pci && pci < bits[k] ?
			(1UL << (pci - 12)) - 1 : 0;

		for (j = 0; j < nsz; j++) {
			for (i = 0; i < nthr; i++) {
				unsigned int n = (unsigned int)threads[i];
				struct run tmpl = {
					.size = sizes[j], .limit = limit,
					.first_limit = first, .pairs = pairs,
					.keep = keep, .first_flushes = flushes,
					.cross = cross,
				};
				double med, thr;

				if (n < 1 || n > MAX_THREADS)
					return 2;
				for (x = 0; x < runs; x++) {
					res[x] = run_once(&tmpl, n);
					if (res[x] < 0) {
						fprintf(stderr, "run failed: %d\n",
							(int)res[x]);
						return 1;
					}
				}
				qsort(res, runs, sizeof(res[0]), cmp_double);
				med = res[runs / 2];
				thr = n * 1000.0 / med;
				if (i == 0)
					base = thr / n;
				printf("%-6lu %-6lu %-8u %12.2f %9.2f %12.1f %10.2f\n",
				       bits[k], sizes[j], n, med, res[0], thr,
				       thr / (n * base));
				fflush(stdout);
			}
		}
	}
	return 0;
}
