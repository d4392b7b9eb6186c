/* SPDX-License-Identifier: MIT */
/*
 * bench.h - the micro-benchmark framework behind `dmalink bench`: a case
 * is a setup, a run of N operations, a teardown; the framework times
 * batches (never single calls: clock_gettime costs ~19 ns), repeats them
 * and prints mean +- stddev in ns per operation, plus the ratio to the
 * case's baseline measured in the same run (reference/perf-anchors.md §8,
 * the kernel's dma_map_benchmark columns where they overlap).
 *
 * Cases are grouped in tables, one per source file (bench_*.c), each a
 * NULL-terminated array registered in bench.c.
 */
#ifndef DML_BENCH_H
#define DML_BENCH_H

#include <dmalink/dma-mapping.h>

/*
 * struct dml_bench_case - one benchmark
 * @name: short id, e.g. "iova-1" (also the --filter key)
 * @what: one line for the table
 * @goal: perf-anchors.md goal it answers ("G1"), or NULL
 * @anchor_ns: the anchor's number in ns per op, 0 if none
 * @baseline: @name of the case this one is compared with in the same run,
 *	or NULL (then the ratio column shows the anchor ratio)
 * @setup: build what the case needs (per thread); return 0 or -errno
 * @run: do @iters operations; return 0 or -errno (a failure aborts the case)
 * @teardown: release what setup built
 */
struct dml_bench_case {
	const char *name;
	const char *what;
	const char *goal;
	double anchor_ns;
	const char *baseline;
	int (*setup)(void **priv);
	int (*run)(void *priv, unsigned long iters);
	void (*teardown)(void *priv);
};

extern const struct dml_bench_case dml_bench_iova_cases[];
extern const struct dml_bench_case dml_bench_pgtable_cases[];
extern const struct dml_bench_case dml_bench_dma_cases[];
extern const struct dml_bench_case dml_bench_swiotlb_cases[];

/* Keep the compiler from optimising a benchmarked value away. */
#define dml_bench_keep(x) __asm__ volatile("" : : "r"(x) : "memory")

#endif /* DML_BENCH_H */
