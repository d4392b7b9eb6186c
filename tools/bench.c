/* SPDX-License-Identifier: MIT */
/*
 * bench.c - the benchmark framework behind `dmalink bench` (the cases of
 * tools/bench_*.c) and bench/dml-bench-internal (the white-box cases of
 * bench/): runs the case tables it is given and prints, per case:
 *   ns/op   per-thread latency: mean +- stddev over threads and samples
 *   ops/s   aggregate throughput of all threads
 *   eff     scaling efficiency ops(N) / (N x ops(1)), ops(1) measured in
 *           the same run (1.00: N threads do N times the work of one)
 *   cpu-eff the threads' CPU time per operation at 1 thread over that at
 *           N (CLOCK_THREAD_CPUTIME_ID): what the threads cost each other
 *           (spinning, cache lines bouncing) even on a machine with fewer
 *           idle cores than threads, where eff cannot reach 1
 *   ratio   the baseline's ns / this case's ns when the case has a
 *           baseline in this run, else the published anchor's ns / this
 *           case's ns (reference/perf-anchors.md); > 1: this case is faster.
 *           Against a baseline the case is measured in rounds, one sample
 *           of the baseline and one of the case in each, and the ratio is
 *           the median of the rounds' ratios: a machine whose speed drifts
 *           (a shared or throttled host) moves both sides of a round alike,
 *           where two runs one after the other would each catch a
 *           different speed.  The efficiencies of the thread count asked
 *           for are measured the same way, against one thread in rounds
 * Each sample is a batch of operations sized to last --seconds / --repeat,
 * so clock reads never dominate.  With --threads N, as the kernel's
 * dma_map_benchmark does, the case's shared setup runs once (one platform,
 * one IOMMU unit, one device) and N threads run the same batches on it,
 * each sample started in all threads at once by a barrier; the sample's
 * throughput is the threads' operations over the slowest thread's time.
 * --sweep measures N = 1, 2, 4, ... up to the core count (or --threads),
 * and --plot FILE.svg draws throughput against threads with gnuplot.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "plot.h"
#include "tools.h"

#define MAX_REPEAT 64
#define MAX_THREADS 1024
#define MAX_POINTS 13		/* 1, 2, 4, ... 512, and a top of up to 1024 */
#define MAX_CASES 128

struct bench_opts {
	double seconds;
	unsigned int repeat;
	unsigned int threads;	/* --threads, or the top of a sweep */
	bool threads_set;
	bool sweep;
	const char *plot;
	const char *filter;
	bool json;
	bool list;
	bool verbose;		/* -v: one line per case on stderr */
	bool progress;		/* a \r line on stderr: it is a terminal */
};

/* one case measured at one thread count */
struct point {
	unsigned int threads;
	double mean, sd;	/* ns per operation per thread */
	double ops;		/* operations per second, all threads */
	double eff;		/* ops / (threads x ops at 1 thread) */
	double cpu;		/* thread CPU ns per operation, mean */
	double cpu_eff;		/* cpu at 1 thread / cpu */
	int err;
};

struct result {
	const struct dml_bench_case *c;
	struct point pt[MAX_POINTS];	/* pt[0] is 1 thread */
	unsigned int npts;
	double paired;			/* the median round ratio, or 0 */
	int err;			/* the first point's error, or 0 */
};

/* what the threads of one measurement share */
struct run_ctx {
	const struct dml_bench_case *c;
	const struct bench_opts *o;
	void *shared;
	pthread_mutex_t lock;		/* the gate: every thread was created */
	pthread_cond_t cond;
	int gate;			/* 0 closed, 1 go, -1 abort */
	pthread_barrier_t bar;
};

struct worker {
	struct run_ctx *ctx;
	unsigned int idx;
	unsigned long iters;		/* operations per sample */
	double secs[MAX_REPEAT];	/* one per sample */
	double cpu_secs[MAX_REPEAT];	/* the thread's CPU time in each */
	int err;
};

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * time @iters operations; returns seconds, *@cpu the thread's CPU seconds
 * (may be NULL), *@err the run's result
 */
static double timed_run(const struct dml_bench_case *c, void *priv,
			unsigned long iters, double *cpu, int *err)
{
	double c0 = cpu ? clock_s(CLOCK_THREAD_CPUTIME_ID) : 0;
	double t0 = clock_s(CLOCK_MONOTONIC), t;

	*err = c->run(priv, iters);
	t = clock_s(CLOCK_MONOTONIC) - t0;
	if (cpu)
		*cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	return t;
}

/*
 * One thread: past the gate, its own state, a calibration, then the
 * samples.  A thread that failed still meets every barrier, so the others
 * never wait forever.
 */
static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct run_ctx *ctx = w->ctx;
	const struct dml_bench_case *c = ctx->c;
	const struct bench_opts *o = ctx->o;
	double t = 0, target = o->seconds / o->repeat;
	void *priv = ctx->shared;
	unsigned long iters = 1;
	unsigned int i;
	int err = 0, gate;

	pthread_mutex_lock(&ctx->lock);
	while (!ctx->gate)
		pthread_cond_wait(&ctx->cond, &ctx->lock);
	gate = ctx->gate;
	pthread_mutex_unlock(&ctx->lock);
	if (gate < 0)
		return NULL;
	if (c->thread_setup)
		err = c->thread_setup(ctx->shared, w->idx, &priv);
	pthread_barrier_wait(&ctx->bar);
	/*
	 * Calibrate: double until a batch lasts 2 ms, time that batch once
	 * more and scale by the faster of the two, so one preemption during
	 * calibration does not shrink every sample to a handful of operations.
	 */
	while (!err) {
		t = timed_run(c, priv, iters, NULL, &err);
		if (err || t > 0.002 || iters > (1UL << 40))
			break;
		iters *= 2;
	}
	if (!err)
		t = fmin(t, timed_run(c, priv, iters, NULL, &err));
	if (!err) {
		iters = (unsigned long)((double)iters * target / fmax(t, 1e-9));
		if (!iters)
			iters = 1;
	}
	for (i = 0; i < o->repeat; i++) {
		/* every sample starts in all threads at once */
		pthread_barrier_wait(&ctx->bar);
		if (!err)
			w->secs[i] = timed_run(c, priv, iters,
					       &w->cpu_secs[i], &err);
	}
	w->iters = iters;
	w->err = err;
	if (c->thread_setup && c->thread_teardown && priv)
		c->thread_teardown(priv);
	return NULL;
}

/* run @c with @threads threads on one shared setup */
static struct point measure(const struct dml_bench_case *c,
			    const struct bench_opts *o, unsigned int threads)
{
	struct worker *w = calloc(threads, sizeof(*w));
	pthread_t *tid = calloc(threads, sizeof(*tid));
	struct point p = { .threads = threads };
	struct run_ctx ctx = {
		.c = c, .o = o,
		.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
	};
	double sum = 0, sq = 0, ops = 0, cpu = 0;
	unsigned int i, j, n = 0, started;

	if (!w || !tid) {
		p.err = -ENOMEM;
		goto out;
	}
	if (c->setup) {
		p.err = c->setup(threads, &ctx.shared);
		if (p.err)
			goto out;
	}
	pthread_barrier_init(&ctx.bar, NULL, threads);
	for (started = 0; started < threads; started++) {
		w[started].ctx = &ctx;
		w[started].idx = started;
		if (pthread_create(&tid[started], NULL, worker_fn, &w[started]))
			break;
	}
	/* the barrier counts every thread: all of them, or none goes on */
	pthread_mutex_lock(&ctx.lock);
	ctx.gate = started == threads ? 1 : -1;
	pthread_cond_broadcast(&ctx.cond);
	pthread_mutex_unlock(&ctx.lock);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&ctx.bar);
	if (started < threads)
		p.err = -EAGAIN;
	if (c->teardown)
		c->teardown(ctx.shared);
	for (i = 0; i < started; i++)
		if (w[i].err && !p.err)
			p.err = w[i].err;
	if (p.err)
		goto out;
	for (j = 0; j < o->repeat; j++) {
		double slowest = 0, total = 0;

		for (i = 0; i < threads; i++) {
			double ns = w[i].secs[j] * 1e9 / (double)w[i].iters;

			sum += ns;
			sq += ns * ns;
			cpu += w[i].cpu_secs[j] * 1e9 / (double)w[i].iters;
			n++;
			total += (double)w[i].iters;
			slowest = fmax(slowest, w[i].secs[j]);
		}
		ops += total / fmax(slowest, 1e-9);
	}
	p.mean = sum / n;
	p.cpu = cpu / n;
	p.sd = n > 1 ? sqrt(fmax(0, (sq - sum * sum / n) / (n - 1))) : 0;
	p.ops = ops / o->repeat;
out:
	free(w);
	free(tid);
	return p;
}

/* the thread counts to measure: 1 first, the one asked for last */
static unsigned int thread_counts(const struct bench_opts *o,
				  unsigned int counts[MAX_POINTS])
{
	unsigned int n = 0, t;

	counts[n++] = 1;
	if (o->sweep)
		for (t = 2; t < o->threads; t *= 2)
			counts[n++] = t;
	if (o->threads > 1)
		counts[n++] = o->threads;
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* the median of @v[0..@n), sorted in place */
static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * @c at @threads > 1, or against its baseline @b (may be NULL), in
 * rounds: each round one sample of @c at 1 thread (when @threads > 1),
 * one of @b at @threads (when @b) and one of @c at @threads.  Returns
 * @c's point pooled over the rounds (sd: over the rounds' means) with
 * eff and cpu_eff the medians of the rounds' own, and *@ratio the median
 * of the rounds' @b ns / @c ns (0 without @b).
 */
static struct point measure_rounds(const struct dml_bench_case *c,
				   const struct dml_bench_case *b,
				   const struct bench_opts *o,
				   unsigned int threads, double *ratio)
{
	double r[MAX_REPEAT], e[MAX_REPEAT], ce[MAX_REPEAT], sum = 0, sq = 0;
	struct point p = { .threads = threads }, p1 = { 0 }, pb = { 0 }, pc;
	struct bench_opts one = *o;
	unsigned int k, n = o->repeat;

	one.repeat = 1;
	one.seconds = o->seconds / o->repeat;
	*ratio = 0;
	for (k = 0; k < n; k++) {
		if (threads > 1)
			p1 = measure(c, &one, 1);
		if (b)
			pb = measure(b, &one, threads);
		pc = measure(c, &one, threads);
		p.err = pc.err ?: pb.err ?: p1.err;
		if (p.err)
			return p;
		r[k] = b ? pb.mean / pc.mean : 0;
		e[k] = threads > 1 ? pc.ops / (threads * p1.ops) : 1;
		ce[k] = threads > 1 && pc.cpu > 0 ? p1.cpu / pc.cpu : 1;
		sum += pc.mean;
		sq += pc.mean * pc.mean;
		p.ops += pc.ops / n;
		p.cpu += pc.cpu / n;
	}
	p.mean = sum / n;
	p.sd = n > 1 ? sqrt(fmax(0, (sq - sum * sum / n) / (n - 1))) : 0;
	p.eff = median(e, n);
	p.cpu_eff = median(ce, n);
	if (b)
		*ratio = median(r, n);
	return p;
}

/* @b: the baseline when it is in this run (its last point measured), or NULL */
static struct result run_case(const struct dml_bench_case *c,
			      const struct dml_bench_case *b,
			      const struct bench_opts *o)
{
	unsigned int counts[MAX_POINTS], i;
	struct result r = { .c = c };

	r.npts = thread_counts(o, counts);
	for (i = 0; i < r.npts; i++) {
		if (o->progress)
			fprintf(stderr, "\r%-24s %4u thread%s  ", c->name, counts[i],
				counts[i] > 1 ? "s" : "");
		else if (o->verbose && !i)
			fprintf(stderr, "bench: %s\n", c->name);
		if (i == r.npts - 1 && (b || counts[i] > 1)) {
			r.pt[i] = measure_rounds(c, b, o, counts[i], &r.paired);
		} else {
			r.pt[i] = measure(c, o, counts[i]);
			r.pt[i].eff = r.pt[0].ops > 0 ?
				      r.pt[i].ops / (counts[i] * r.pt[0].ops) : 0;
			r.pt[i].cpu_eff = r.pt[i].cpu > 0 ?
					  r.pt[0].cpu / r.pt[i].cpu : 0;
		}
		if (r.pt[i].err) {
			r.err = r.pt[i].err;
			r.npts = i + 1;
			break;
		}
	}
	return r;
}

static const struct result *find(const struct result *res, unsigned int n,
				 const char *name)
{
	unsigned int i;

	for (i = 0; name && i < n; i++)
		if (!strcmp(res[i].c->name, name))
			return &res[i];
	return NULL;
}

/* "12.3M": operations per second in 5 characters or so */
static const char *fmt_rate(double v, char buf[16])
{
	static const char unit[] = " kMGT";
	unsigned int u = 0;

	while (v >= 999.5 && u < sizeof(unit) - 2) {
		v /= 1000;
		u++;
	}
	snprintf(buf, 16, "%.*f%c", v < 9.995 ? 2 : v < 99.95 ? 1 : 0, v,
		 unit[u]);
	return buf;
}

/*
 * The ratio of @r's last point: to its baseline's point at the same thread
 * count when it has one in this run, else to the anchor; 0 when neither.
 */
static double ratio_of(const struct result *r, const struct result *res,
		       unsigned int n, char *vs, size_t vs_len)
{
	const struct result *b = find(res, n, r->c->baseline);
	const struct point *p = &r->pt[r->npts - 1];

	vs[0] = 0;
	if (p->mean <= 0)
		return 0;
	if (b && r->paired > 0) {
		snprintf(vs, vs_len, "%s (paired rounds)", b->c->name);
		return r->paired;
	}
	if (r->c->anchor_ns > 0) {
		snprintf(vs, vs_len, "anchor %.1f ns%s%s", r->c->anchor_ns,
			 r->c->goal ? ", " : "", r->c->goal ? r->c->goal : "");
		return r->c->anchor_ns / p->mean;
	}
	return 0;
}

static void print_json(const struct bench_opts *o, const struct result *res,
		       unsigned int n)
{
	unsigned int i, k, printed = 0;
	char vs[64];

	printf("{\"threads\":%u,\"sweep\":%s,\"seconds\":%.3f,\"repeat\":%u,"
	       "\"cases\":[", o->threads, o->sweep ? "true" : "false",
	       o->seconds, o->repeat);
	for (i = 0; i < n; i++) {
		const struct result *r = &res[i];
		const struct point *p = &r->pt[r->npts - 1];
		char ratio[32] = "null";	/* no baseline, no anchor */
		double v;

		if (r->err)
			continue;
		v = ratio_of(r, res, n, vs, sizeof(vs));
		if (v > 0)
			snprintf(ratio, sizeof(ratio), "%.3f", v);
		printf("%s{\"name\":\"%s\",\"what\":\"%s\",\"threads\":%u,"
		       "\"mean_ns\":%.3f,\"stddev_ns\":%.3f,\"ops_per_s\":%.1f,"
		       "\"efficiency\":%.3f,\"cpu_efficiency\":%.3f,"
		       "\"ratio\":%s,\"vs\":\"%s\",\"points\":[",
		       printed++ ? "," : "", r->c->name, r->c->what, p->threads,
		       p->mean, p->sd, p->ops, p->eff, p->cpu_eff, ratio, vs);
		for (k = 0; k < r->npts; k++)
			printf("%s{\"threads\":%u,\"mean_ns\":%.3f,\"stddev_ns\":%.3f,"
			       "\"ops_per_s\":%.1f,\"efficiency\":%.3f,"
			       "\"cpu_efficiency\":%.3f}",
			       k ? "," : "", r->pt[k].threads, r->pt[k].mean,
			       r->pt[k].sd, r->pt[k].ops, r->pt[k].eff,
			       r->pt[k].cpu_eff);
		printf("]}");
	}
	printf("]}\n");
}

static void print_table(const struct bench_opts *o, const struct result *res,
			unsigned int n)
{
	unsigned int i, k;
	char vs[64], rate[16];

	printf("%-17s %-46s %7s %10s %8s %8s %5s %7s %9s  %s\n", "case",
	       "what", "threads", "ns/op", "stddev", "ops/s", "eff", "cpu-eff",
	       "ratio", "vs");
	for (i = 0; i < n; i++) {
		const struct result *r = &res[i];
		double ratio;

		if (r->err) {
			printf("%-17s %-46s failed: %s\n", r->c->name, r->c->what,
			       strerror(-r->err));
			continue;
		}
		/* a sweep shows every point, otherwise the one asked for */
		for (k = o->sweep ? 0 : r->npts - 1; k < r->npts; k++) {
			const struct point *p = &r->pt[k];

			printf("%-17s %-46s %7u %10.2f %8.2f %8s %5.2f %7.2f",
			       k && o->sweep ? "" : r->c->name,
			       k && o->sweep ? "" : r->c->what, p->threads,
			       p->mean, p->sd, fmt_rate(p->ops, rate), p->eff,
			       p->cpu_eff);
			if (k != r->npts - 1) {
				printf("\n");
				continue;
			}
			ratio = ratio_of(r, res, n, vs, sizeof(vs));
			if (ratio > 0)
				printf(" %8.2fx  %s\n", ratio, vs);
			else
				printf(" %9s\n", "-");
		}
	}
	printf("\nns/op: per-thread latency, mean and stddev over threads and samples.\n"
	       "ops/s: all threads together, all on one platform, IOMMU unit and device.\n"
	       "eff:   ops/s(N) / (N x ops/s(1)), ops/s(1) from this run; 1.00 is perfect.\n"
	       "cpu-eff: CPU ns/op at 1 thread / at N: what threads cost each other,\n"
	       "       valid with fewer idle cores than threads (eff is not).\n"
	       "ratio: the baseline's ns/op (same threads) or the anchor's, divided by\n"
	       "       this case's; > 1: this case is faster.  Against a baseline: the\n"
	       "       median of rounds that each measure the baseline, then the case.\n");
}

/*
 * --plot: throughput against threads, one line per case, drawn by gnuplot
 * into an SVG (plot.c).  Return: 0 or -errno (printed).
 */
static int plot(const char *prog, const char *path, const struct result *res,
		unsigned int n)
{
	static const struct dml_plot_opts po = {
		.title = "aggregate throughput, all threads on one device",
		.xlabel = "threads", .ylabel = "operations/s",
		.logx = 2, .logy = 10, .yformat = "%.1s%c",
		.with = "linespoints",
	};
	struct dml_plot *p;
	unsigned int i, k;
	int ret;

	ret = dml_plot_open(&po, &p);
	if (ret) {
		fprintf(stderr, "%s: cannot plot: %s\n", prog, strerror(-ret));
		return ret;
	}
	for (i = 0; i < n; i++) {
		if (res[i].err)
			continue;
		dml_plot_series(p, res[i].c->name);
		for (k = 0; k < res[i].npts; k++)
			dml_plot_point(p, res[i].pt[k].threads, res[i].pt[k].ops);
	}
	return dml_plot_draw(p, prog, path);
}

static unsigned int nr_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned int)n;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [options]\n"
		"  Micro-benchmarks: per-thread ns per operation (mean +- stddev over\n"
		"  samples), aggregate ops/s of all threads on one device, scaling\n"
		"  efficiency, and the ratio to the in-run baseline or to the published\n"
		"  kernel figure the case answers (ratio > 1: this case is faster).\n"
		"  -s, --seconds S    time per case and thread count, split over the\n"
		"                     samples (default 1.0)\n"
		"  -r, --repeat N     samples per case (default 5, at most %d)\n"
		"  -t, --threads N    threads on the one device (default 1); ops/s(1)\n"
		"                     is measured too, for the efficiency\n"
		"  -w, --sweep        N = 1, 2, 4, ... up to the core count (or -t N)\n"
		"  -p, --plot FILE    with --sweep: draw ops/s against threads into the\n"
		"                     SVG FILE with gnuplot (Debian: gnuplot-nox)\n"
		"  -f, --filter STR   only cases whose name contains STR\n"
		"  -l, --list         list the cases\n"
		"  -j, --json         one JSON object on stdout\n"
		"  -v, --verbose      name each case on stderr as it starts (on a\n"
		"                     terminal a progress line does that without -v)\n",
		prog, MAX_REPEAT);
}

static int parse_opts(const char *prog, int argc, char **argv,
		      struct bench_opts *o)
{
	static const struct option lo[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 't' },
		{ "sweep", no_argument, NULL, 'w' },
		{ "plot", required_argument, NULL, 'p' },
		{ "filter", required_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char *end;
	u64 v;
	int c;

	*o = (struct bench_opts){ .seconds = 1.0, .repeat = 5, .threads = 1 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:r:t:wp:f:ljvh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->seconds = strtod(optarg, &end);
			if (*end || !(o->seconds > 0 && o->seconds <= 300))
				goto bad;
			break;
		case 'r':
		case 't':
			if (dml_tool_parse_u64(optarg, 10, &v) || v < 1 ||
			    v > (c == 'r' ? MAX_REPEAT : MAX_THREADS))
				goto bad;
			if (c == 'r') {
				o->repeat = (unsigned int)v;
			} else {
				o->threads = (unsigned int)v;
				o->threads_set = true;
			}
			break;
		case 'w':
			o->sweep = true;
			break;
		case 'p':
			/* it goes into a quoted gnuplot string */
			if (!*optarg || strpbrk(optarg, "'\n"))
				goto bad;
			o->plot = optarg;
			break;
		case 'f':
			o->filter = optarg;
			break;
		case 'l':
			o->list = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout, prog);
			exit(0);
		default:
			usage(stderr, prog);
			return -EINVAL;
		}
	}
	if (optind != argc || (o->plot && !o->sweep)) {
		if (o->plot && !o->sweep)
			fprintf(stderr, "%s: --plot draws a --sweep\n", prog);
		usage(stderr, prog);
		return -EINVAL;
	}
	if (o->sweep && !o->threads_set)
		o->threads = nr_cores();
	/* \r only redraws a terminal; in a file or a pipe it is noise */
	o->progress = !o->json && !o->verbose && isatty(STDERR_FILENO);
	return 0;
bad:
	fprintf(stderr, "%s: bad value '%s'\n", prog, optarg);
	return -EINVAL;
}

int dml_bench_main(const char *prog, int argc, char **argv,
		   const struct dml_bench_case *const *tables,
		   unsigned int nr_tables)
{
	struct bench_opts o;
	struct result *res;
	unsigned int n = 0, i, t;
	const struct dml_bench_case *c;
	const struct result *b;
	int ret = 0;

	if (parse_opts(prog, argc, argv, &o))
		return 2;
	/* refused before the sweep, not after it */
	if (o.plot && dml_plot_check(prog))
		return 1;
	res = calloc(MAX_CASES, sizeof(*res));
	if (!res)
		return 1;
	for (t = 0; t < nr_tables; t++) {
		for (c = tables[t]; c->name && n < MAX_CASES; c++) {
			if (o.filter && !strstr(c->name, o.filter))
				continue;
			if (o.list) {
				printf("%-18s %s\n", c->name, c->what);
				continue;
			}
			b = find(res, n, c->baseline);
			res[n] = run_case(c, b && !b->err ? b->c : NULL, &o);
			n++;
		}
	}
	if (o.list)
		goto out;
	if (o.progress)
		fprintf(stderr, "\r%50s\r", "");
	if (o.json)
		print_json(&o, res, n);
	else
		print_table(&o, res, n);
	for (i = 0; i < n; i++)
		if (res[i].err)
			ret = 1;
	if (o.plot && plot(prog, o.plot, res, n))
		ret = 1;
out:
	free(res);
	return ret;
}
