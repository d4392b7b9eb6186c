/* SPDX-License-Identifier: MIT */
/*
 * threads-one-device.c - how the DMA API scales with threads on ONE device:
 * one emulated platform, one VT-d unit, one device, N threads, through the
 * public API only.  Cases:
 *   two-step   dma_iova_try_alloc(128 KiB) + 32 x dma_iova_link of
 *              scattered 4 KiB pages + dma_iova_sync + dma_iova_destroy
 *              (lazy and strict)
 *   map-phys   dma_map_phys + dma_unmap_phys of one 4 KiB page (lazy and
 *              strict)
 * For each case and each thread count of the list it prints the total
 * operations per second, the efficiency ops(N) / (N * ops(1)) (ops(1)
 * measured in the same run), and per thread the CPU time per operation
 * (CLOCK_THREAD_CPUTIME_ID / its own operations), with its own efficiency
 * cpu(1) / mean cpu(N).  The wall-clock efficiency needs N idle cores; the
 * CPU-time one does not (time a thread is not running is not counted), so
 * on a loaded machine with few cores it is the better sign of what the
 * threads cost each other: spinning, cache lines bouncing.  Nothing is
 * asserted.
 *
 * usage: threads-one-device [-s seconds] [-t 1,2,4,...] [-c case]
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dmalink/dma-mapping.h>
#include <dmalink/dmalink.h>

#define PAGE 4096UL
#define LINKS 32
#define MAX_THREADS 64

struct env {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
};

struct worker {
	pthread_t tid;
	struct env *env;
	unsigned int id;
	int (*fn)(struct worker *w);
	unsigned long ops;
	u64 cpu_ns;
	int err;
	char pad[64];
};

struct run {
	pthread_barrier_t start;
	volatile int stop;
};

static struct run run;

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

/* the i-th scattered page of thread @id: every other page, 64 MiB each */
static phys_addr_t page_of(unsigned int id, unsigned long i)
{
	return 0x10000000ULL + ((u64)id << 26) + (i % 4096) * 2 * PAGE;
}

static int two_step(struct worker *w)
{
	struct dml_device *dev = w->env->dev;
	struct dma_iova_state st;
	unsigned int i;
	int ret;

	memset(&st, 0, sizeof(st));
	if (!dma_iova_try_alloc(dev, &st, 0, LINKS * PAGE))
		return -ENOMEM;
	for (i = 0; i < LINKS; i++) {
		ret = dma_iova_link(dev, &st, page_of(w->id, w->ops * LINKS + i),
				    i * PAGE, PAGE, DMA_BIDIRECTIONAL, 0);
		if (ret)
			return ret;
	}
	ret = dma_iova_sync(dev, &st, 0, LINKS * PAGE);
	if (ret)
		return ret;
	dma_iova_destroy(dev, &st, LINKS * PAGE, DMA_BIDIRECTIONAL, 0);
	return 0;
}

static int map_phys(struct worker *w)
{
	struct dml_device *dev = w->env->dev;
	dma_addr_t a;

	a = dma_map_phys(dev, page_of(w->id, w->ops), PAGE, DMA_BIDIRECTIONAL, 0);
	if (dma_mapping_error(dev, a))
		return -ENOMEM;
	dma_unmap_phys(dev, a, PAGE, DMA_BIDIRECTIONAL, 0);
	return 0;
}

static u64 cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	u64 c0;

	pthread_barrier_wait(&run.start);
	c0 = cpu_now_ns();
	while (!__atomic_load_n(&run.stop, __ATOMIC_RELAXED)) {
		w->err = w->fn(w);
		if (w->err)
			break;
		w->ops++;
	}
	w->cpu_ns = cpu_now_ns() - c0;
	return NULL;
}

static int env_up(struct env *e, bool lazy)
{
	struct dml_iommu_opts io = {
		.size = DML_SIZEOF(&io, superpages),
		.lazy = lazy,
		.superpages = true,
	};
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, iommu),
		.name = "threads",
		.pci = true,
		.max_segment_size = 1U << 30,
	};
	int ret;

	ret = dml_platform_create_emu(NULL, &e->p);
	if (ret)
		return ret;
	ret = dml_iommu_create(e->p, &io, &e->iommu);
	dop.iommu = e->iommu;
	if (!ret)
		ret = dml_device_create(e->p, &dop, &e->dev);
	if (ret)
		dml_platform_destroy(e->p);
	return ret;
}

/* one measurement: total ops/s of @n threads over @secs; per-thread CPU ns out */
static double measure(int (*fn)(struct worker *), bool lazy, unsigned int n,
		      double secs, double *ns_per_op)
{
	struct worker w[MAX_THREADS];
	struct env e;
	unsigned long total = 0;
	struct timespec ts;
	unsigned int i;
	u64 t0, t1;

	if (env_up(&e, lazy)) {
		fprintf(stderr, "cannot set up the platform\n");
		exit(1);
	}
	memset(w, 0, sizeof(w));
	run.stop = 0;
	pthread_barrier_init(&run.start, NULL, n + 1);
	for (i = 0; i < n; i++) {
		w[i].env = &e;
		w[i].id = i;
		w[i].fn = fn;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i])) {
			fprintf(stderr, "pthread_create failed\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&run.start);
	t0 = now_ns();
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
	__atomic_store_n(&run.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++)
		pthread_join(w[i].tid, NULL);
	t1 = now_ns();
	for (i = 0; i < n; i++) {
		if (w[i].err) {
			fprintf(stderr, "thread %u: error %d\n", i, w[i].err);
			exit(1);
		}
		total += w[i].ops;
		ns_per_op[i] = w[i].ops ? (double)w[i].cpu_ns / (double)w[i].ops : 0;
	}
	pthread_barrier_destroy(&run.start);
	dml_device_destroy(e.dev);
	dml_platform_destroy(e.p);
	return (double)total * 1e9 / (double)(t1 - t0);
}

static const struct bcase {
	const char *name;
	int (*fn)(struct worker *);
	bool lazy;
} cases[] = {
	{ "two-step-lazy", two_step, true },
	{ "two-step-strict", two_step, false },
	{ "map-phys-lazy", map_phys, true },
	{ "map-phys-strict", map_phys, false },
};

int main(int argc, char **argv)
{
	unsigned int threads[16] = { 1, 2, 4 }, nt = 3, i, k, c;
	const char *only = NULL;
	double secs = 0.5;
	int opt;

	while ((opt = getopt(argc, argv, "s:t:c:")) != -1) {
		char *s, *tok;

		switch (opt) {
		case 's':
			secs = atof(optarg);
			break;
		case 't':
			nt = 0;
			s = optarg;
			while ((tok = strsep(&s, ",")) && nt < 16) {
				threads[nt] = (unsigned int)atoi(tok);
				if (!threads[nt] || threads[nt] > MAX_THREADS) {
					fprintf(stderr, "threads: 1..%d\n", MAX_THREADS);
					return 2;
				}
				nt++;
			}
			break;
		case 'c':
			only = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-s seconds] [-t 1,2,4] [-c case]\n",
				argv[0]);
			return 2;
		}
	}
	printf("%-16s %3s %12s %6s %8s  %s\n", "case", "N", "ops/s", "eff",
	       "cpu-eff", "CPU ns/op of each thread");
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		double ops1 = 0, cpu1, ns1[1], ns[MAX_THREADS];

		if (only && !strstr(cases[c].name, only))
			continue;
		ops1 = measure(cases[c].fn, cases[c].lazy, 1, secs, ns1);
		cpu1 = ns1[0];
		for (i = 0; i < nt; i++) {
			double ops, mean = 0;

			if (threads[i] == 1) {
				ops = ops1;
				ns[0] = cpu1;
			} else {
				ops = measure(cases[c].fn, cases[c].lazy,
					      threads[i], secs, ns);
			}
			for (k = 0; k < threads[i]; k++)
				mean += ns[k] / threads[i];
			printf("%-16s %3u %12.0f %6.2f %8.2f ", cases[c].name,
			       threads[i], ops, ops / (threads[i] * ops1),
			       mean > 0 ? cpu1 / mean : 0);
			for (k = 0; k < threads[i]; k++)
				printf(" %.0f", ns[k]);
			printf("\n");
			fflush(stdout);
		}
	}
	return 0;
}
