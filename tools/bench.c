/* SPDX-License-Identifier: MIT */
/*
 * bench.c - the benchmark framework behind `dmalink bench` (the cases of
 * tools/bench_*.c) and bench/dml-bench-internal (the white-box cases of
 * bench/): runs the case tables it is given and prints ns per
 * operation as mean +- stddev over samples, with a ratio: to the case's
 * baseline measured in this same run when it has one, else to the
 * published anchor of reference/perf-anchors.md (> 1: we are faster).
 * Each sample is a batch of operations sized to last --seconds / --repeat,
 * so clock reads never dominate.  With --threads N every thread runs its
 * own setup and the same batches concurrently; the figure is the mean of
 * the threads' ns per operation (the kernel's dma_map_benchmark reports
 * per-thread latency the same way).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "tools.h"

struct bench_opts {
	double seconds;
	unsigned int repeat;
	unsigned int threads;
	const char *filter;
	bool json;
	bool list;
};

struct result {
	const struct dml_bench_case *c;
	double mean, sd;
	int err;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct worker {
	const struct dml_bench_case *c;
	const struct bench_opts *o;
	pthread_barrier_t *bar;
	double ns_per_op[64];		/* one per sample */
	int err;
};

/* time @iters operations; returns seconds, or a negative value on error */
static double timed_run(const struct dml_bench_case *c, void *priv,
			unsigned long iters, int *err)
{
	double t0 = now_s();

	*err = c->run(priv, iters);
	return now_s() - t0;
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	const struct bench_opts *o = w->o;
	unsigned long iters = 1;
	double t, target = o->seconds / o->repeat;
	void *priv = NULL;
	unsigned int i;
	int err = w->c->setup ? w->c->setup(&priv) : 0;

	pthread_barrier_wait(w->bar);
	if (err)
		goto out;
	/* calibrate: double until a batch lasts 2 ms, then scale */
	for (;;) {
		t = timed_run(w->c, priv, iters, &err);
		if (err)
			goto out;
		if (t > 0.002 || iters > (1UL << 40))
			break;
		iters *= 2;
	}
	iters = (unsigned long)((double)iters * target / t);
	if (!iters)
		iters = 1;
	for (i = 0; i < o->repeat; i++) {
		t = timed_run(w->c, priv, iters, &err);
		if (err)
			goto out;
		w->ns_per_op[i] = t * 1e9 / (double)iters;
	}
out:
	w->err = err;
	if (w->c->teardown && priv)
		w->c->teardown(priv);
	return NULL;
}

static struct result run_case(const struct dml_bench_case *c,
			      const struct bench_opts *o)
{
	struct worker *w = calloc(o->threads, sizeof(*w));
	pthread_t *tid = calloc(o->threads, sizeof(*tid));
	struct result r = { .c = c };
	pthread_barrier_t bar;
	double sum = 0, sq = 0;
	unsigned int i, j, n = 0;

	if (!w || !tid) {
		free(w);
		free(tid);
		r.err = -ENOMEM;
		return r;
	}
	pthread_barrier_init(&bar, NULL, o->threads);
	for (i = 0; i < o->threads; i++) {
		w[i].c = c;
		w[i].o = o;
		w[i].bar = &bar;
		pthread_create(&tid[i], NULL, worker_fn, &w[i]);
	}
	for (i = 0; i < o->threads; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&bar);
	for (i = 0; i < o->threads; i++) {
		if (w[i].err)
			r.err = w[i].err;
		for (j = 0; j < o->repeat; j++) {
			sum += w[i].ns_per_op[j];
			sq += w[i].ns_per_op[j] * w[i].ns_per_op[j];
			n++;
		}
	}
	r.mean = sum / n;
	r.sd = n > 1 ? sqrt(fmax(0, (sq - sum * sum / n) / (n - 1))) : 0;
	free(w);
	free(tid);
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

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [options]\n"
		"  Micro-benchmarks in ns per operation (mean +- stddev over samples),\n"
		"  each with its ratio to the in-run baseline or to the published anchor\n"
		"  of reference/perf-anchors.md (ratio > 1: dmalink is faster).\n"
		"  -s, --seconds S    time per case, split over the samples (default 1.0)\n"
		"  -r, --repeat N     samples per case (default 5, at most 64)\n"
		"  -t, --threads N    concurrent threads per case (default 1)\n"
		"  -f, --filter STR   only cases whose name contains STR\n"
		"  -l, --list         list the cases\n"
		"  -j, --json         one JSON object on stdout\n", prog);
}

static int parse_opts(const char *prog, int argc, char **argv,
		      struct bench_opts *o)
{
	static const struct option lo[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 't' },
		{ "filter", required_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char *end;
	u64 v;
	int c;

	*o = (struct bench_opts){ .seconds = 1.0, .repeat = 5, .threads = 1 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:r:t:f:ljh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->seconds = strtod(optarg, &end);
			if (*end || !(o->seconds > 0 && o->seconds <= 300))
				goto bad;
			break;
		case 'r':
		case 't':
			if (dml_tool_parse_u64(optarg, 10, &v) || v < 1 ||
			    v > (c == 'r' ? 64 : 1024))
				goto bad;
			if (c == 'r')
				o->repeat = (unsigned int)v;
			else
				o->threads = (unsigned int)v;
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
		case 'h':
			usage(stdout, prog);
			exit(0);
		default:
			usage(stderr, prog);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		usage(stderr, prog);
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "%s: bad value '%s'\n", prog, optarg);
	return -EINVAL;
}

int dml_bench_main(const char *prog, int argc, char **argv,
		   const struct dml_bench_case *const *tables,
		   unsigned int nr_tables)
{
	struct result res[128];
	struct bench_opts o;
	unsigned int n = 0, i, t, printed = 0;
	const struct dml_bench_case *c;
	int ret = 0;

	if (parse_opts(prog, argc, argv, &o))
		return 2;
	for (t = 0; t < nr_tables; t++) {
		for (c = tables[t]; c->name && n < 128; c++) {
			if (o.filter && !strstr(c->name, o.filter))
				continue;
			if (o.list) {
				printf("%-18s %s\n", c->name, c->what);
				continue;
			}
			if (!o.json)
				fprintf(stderr, "\r%-40s", c->name);
			res[n++] = run_case(c, &o);
		}
	}
	if (o.list)
		return 0;
	if (!o.json)
		fprintf(stderr, "\r%40s\r", "");

	if (o.json)
		printf("{\"threads\":%u,\"seconds\":%.3f,\"repeat\":%u,\"cases\":[",
		       o.threads, o.seconds, o.repeat);
	else
		printf("%-17s %-46s %10s %8s %9s  %s\n", "case", "what", "mean ns",
		       "stddev", "ratio", "vs");
	for (i = 0; i < n; i++) {
		const struct result *r = &res[i], *b = find(res, n, r->c->baseline);
		double ratio = 0;
		char vs[64] = "";

		if (r->err) {
			ret = 1;
			if (!o.json)
				printf("%-17s %-46s failed: %s\n", r->c->name, r->c->what,
				       strerror(-r->err));
			continue;
		}
		if (b && !b->err && r->mean > 0) {
			ratio = b->mean / r->mean;
			snprintf(vs, sizeof(vs), "%s (same run)", b->c->name);
		} else if (r->c->anchor_ns > 0 && r->mean > 0) {
			ratio = r->c->anchor_ns / r->mean;
			snprintf(vs, sizeof(vs), "anchor %.1f ns%s%s", r->c->anchor_ns,
				 r->c->goal ? ", " : "", r->c->goal ? r->c->goal : "");
		}
		if (o.json) {
			printf("%s{\"name\":\"%s\",\"what\":\"%s\",\"mean_ns\":%.3f,"
			       "\"stddev_ns\":%.3f,\"ratio\":%.3f,\"vs\":\"%s\"}",
			       printed++ ? "," : "", r->c->name, r->c->what, r->mean, r->sd,
			       ratio, vs);
		} else if (ratio > 0) {
			printf("%-17s %-46s %10.2f %8.2f %8.2fx  %s\n", r->c->name,
			       r->c->what, r->mean, r->sd, ratio, vs);
		} else {
			printf("%-17s %-46s %10.2f %8.2f %9s\n", r->c->name,
			       r->c->what, r->mean, r->sd, "-");
		}
	}
	if (o.json)
		printf("]}\n");
	return ret;
}
