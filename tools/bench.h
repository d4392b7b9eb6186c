/* SPDX-License-Identifier: MIT */
/*
 * bench.h - the micro-benchmark framework behind `dmalink bench`: a case
 * is a shared setup (platform, IOMMU unit, device: once), a per-thread
 * state, a run of N operations and the teardowns; the framework times
 * batches (never single calls: clock_gettime costs ~19 ns), repeats them
 * and prints mean +- stddev in ns per operation per thread, the aggregate
 * throughput of all threads in ops/s and the scaling efficiency, plus the
 * ratio to the case's baseline measured in the same run
 * (reference/perf-anchors.md §8, the kernel's dma_map_benchmark columns
 * where they overlap: like it, all threads map on one device).
 *
 * Cases are grouped in tables, one per source file, each a NULL-terminated
 * array: tools/bench_*.c for `dmalink bench` (public API only), bench/ for
 * the white-box benchmarks of internals.  Each program passes its tables
 * to dml_bench_main(); the framework (bench.c) is linked by both.
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
 * @setup: build what every thread shares (the platform, its IOMMU unit,
 *	the one device), once per thread count measured, before any thread
 *	starts; @threads is how many will run.  NULL: nothing is shared.
 *	Return 0 or -errno.
 * @teardown: release what @setup built, after every thread is done
 * @thread_setup: build thread @idx's own state (0 to threads - 1), in
 *	that thread, from the shared one; NULL: the thread runs on the shared
 *	state itself.  Return 0 or -errno.
 * @thread_teardown: release what @thread_setup built, in the thread
 * @run: do @iters operations on a thread's state; return 0 or -errno (a
 *	failure aborts the case)
 */
struct dml_bench_case {
	const char *name;
	const char *what;
	const char *goal;
	double anchor_ns;
	const char *baseline;
	int (*setup)(unsigned int threads, void **shared);
	void (*teardown)(void *shared);
	int (*thread_setup)(void *shared, unsigned int idx, void **priv);
	void (*thread_teardown)(void *priv);
	int (*run)(void *priv, unsigned long iters);
};

/* The tables of `dmalink bench`: tools/bench_dma.c, tools/bench_swiotlb.c,
 * tools/bench_hmm.c. */
extern const struct dml_bench_case dml_bench_dma_cases[];
extern const struct dml_bench_case dml_bench_swiotlb_cases[];
extern const struct dml_bench_case dml_bench_hmm_cases[];
extern const struct dml_bench_case dml_bench_dmabuf_cases[];
extern const struct dml_bench_case dml_bench_cc_cases[];

/**
 * dml_bench_main - parse a benchmark program's options, run its cases and
 * print the table (or --json), and with --plot draw the sweep
 * @prog: the program's name for usage and messages ("dmalink bench")
 * @argc: number of entries in @argv
 * @argv: argv[0] is the program or subcommand name, then the options
 * @tables: the case tables, run in order
 * @nr_tables: entries in @tables
 *
 * Return: the exit status: 0; 1 when a case failed (its setup or run
 * returned an error) or gnuplot could not draw the plot; 2 for bad usage.
 */
int dml_bench_main(const char *prog, int argc, char **argv,
		   const struct dml_bench_case *const *tables,
		   unsigned int nr_tables);

/* Keep the compiler from optimising a benchmarked value away. */
#define dml_bench_keep(x) __asm__ volatile("" : : "r"(x) : "memory")

#endif /* DML_BENCH_H */
