/* SPDX-License-Identifier: MIT */
/*
 * replay_report.c - the results of `dmalink replay` (target ram): the
 * table with its header, legend and footer, or one JSON object; --plot's
 * latency CDFs; and the percentiles read from the fixed-size latency
 * histograms replay.c fills.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "plot.h"
#include "replay.h"

/* the middle of bucket @b */
static double hist_value(unsigned int b)
{
	unsigned int e = b / HIST_SUB + HIST_SUB_BITS - 1;
	u64 low, width;

	if (b < HIST_SUB)
		return b;
	width = 1ULL << (e - HIST_SUB_BITS);
	low = (u64)(HIST_SUB + b % HIST_SUB) * width;
	return (double)low + (double)(width - 1) / 2;
}

/* the value of the sample at rank @k (0 = smallest) */
static double hist_rank(const struct ns_hist *h, u64 k)
{
	u64 seen = 0;
	unsigned int b;

	for (b = 0; b < HIST_BUCKETS; b++) {
		seen += h->count[b];
		if (seen > k)
			return hist_value(b);
	}
	return 0;
}

struct summary dml_replay_summarize(const struct ns_hist *h)
{
	struct summary sum = { 0 };

	if (!h->n)
		return sum;
	sum.mean = h->total / (double)h->n;
	sum.p50 = hist_rank(h, h->n / 2);
	sum.p99 = hist_rank(h, (h->n * 99) / 100);
	return sum;
}

/* the process's peak resident set so far, KiB (getrusage(2) ru_maxrss) */
static long peak_rss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_maxrss;
}

static double per_req(u64 v, u64 n)
{
	return n ? (double)v / (double)n : 0;
}

void dml_replay_report(const struct replay *r, const char *path, const char *fmt,
		   double secs)
{
	struct summary sum[S_NR], map[S_NR];
	bool first = true, ratios;
	int s;

	for (s = 0; s < S_NR; s++) {
		sum[s] = dml_replay_summarize(&r->st[s].caller_ns);
		map[s] = dml_replay_summarize(&r->st[s].map_ns);
	}
	if (r->o.json) {
		printf("{\"trace\":\"%s\",\"format\":\"%s\",\"layout\":\"%s\","
		       "\"iommu\":%s,\"mode\":\"%s\",\"caching_mode\":%s,"
		       "\"levels\":%u,\"bounce\":%s,\"seconds\":%.3f,"
		       "\"peak_rss_kib\":%ld,\"clock_ns_subtracted\":"
		       "{\"caller\":%llu,\"map_unmap\":%llu},\"strategies\":[",
		       path, fmt, r->o.layout, r->o.no_iommu ? "false" : "true",
		       r->o.lazy ? "lazy" : "strict",
		       r->o.caching_mode ? "true" : "false", r->o.levels,
		       r->o.bounce ? "true" : "false", secs, peak_rss_kib(),
		       (unsigned long long)r->clock_caller_ns,
		       (unsigned long long)r->clock_map_ns);
		for (s = 0; s < S_NR; s++) {
			const struct strat_stats *st = &r->st[s];

			if (!(r->o.strategies & (1u << s)))
				continue;
			printf("%s{\"name\":\"%s\",\"requests\":%llu,\"bytes\":%llu,"
			       "\"caller_ns_mean\":%.1f,\"caller_ns_p50\":%.0f,"
			       "\"caller_ns_p99\":%.0f,\"map_unmap_ns_mean\":%.1f,"
			       "\"map_unmap_ns_p50\":%.0f,\"map_unmap_ns_p99\":%.0f,"
			       "\"invalidations_per_req\":%.3f,\"iova_allocs_per_req\":%.3f,"
			       "\"pt_pages_touched_per_req\":%.3f,\"meta_bytes_per_req\":%.1f,"
			       "\"segments_per_req\":%.3f,\"fallbacks\":%llu,\"faults\":%llu,"
			       "\"verified\":%llu,\"mismatches\":%llu,"
			       "\"bounced_bytes_per_req\":%.1f}",
			       first ? "" : ",", dml_replay_strategy_name[s],
			       (unsigned long long)st->requests,
			       (unsigned long long)st->bytes, sum[s].mean, sum[s].p50,
			       sum[s].p99, map[s].mean, map[s].p50, map[s].p99,
			       per_req(st->inval, st->requests),
			       per_req(st->iova_allocs, st->requests),
			       per_req(st->pt_touched, st->requests),
			       per_req(st->meta_bytes, st->requests),
			       per_req(st->segments, st->requests),
			       (unsigned long long)st->fallbacks,
			       (unsigned long long)st->faults,
			       (unsigned long long)st->verified,
			       (unsigned long long)st->mismatches,
			       per_req(st->bounced, st->requests));
			first = false;
		}
		printf("]}\n");
		return;
	}
	ratios = (r->o.strategies & 7) == 7 && sum[S_IOVA].mean > 0 &&
		 map[S_IOVA].mean > 0;
	printf("trace    %s (%s)\n", path, fmt);
	printf("platform emulated, layout %s, %s%s%s\n", r->o.layout,
	       r->o.bounce ? "no IOMMU (dma-direct), every mapping bounced through swiotlb" :
	       r->o.no_iommu ? "no IOMMU (dma-direct)" :
	       r->o.lazy ? "VT-d IOMMU, lazy (flush queue)" : "VT-d IOMMU, strict",
	       r->o.levels == 5 ? ", 5-level" : "", r->o.caching_mode ? ", caching mode" : "");
	/* the ratios' reading, stated once, for the footer's ratios */
	if (ratios)
		printf("ratios   x: the other's ns / iova's ns, same run; > 1 means two-step is cheaper\n");
	printf("\n%-8s %9s %9s %9s %8s %8s %9s %9s %8s %8s %9s %8s %7s %9s\n",
	       "strategy", "requests", "MiB", "caller ns", "p50 ns", "p99 ns",
	       "map+unmap", "inval/rq", "iova/rq", "pt/rq", "meta B/rq",
	       "segs/rq", "faults", "verified");
	for (s = 0; s < S_NR; s++) {
		const struct strat_stats *st = &r->st[s];

		if (!(r->o.strategies & (1u << s)))
			continue;
		printf("%-8s %9llu %9.1f %9.0f %8.0f %8.0f %9.0f %9.2f %8.2f %8.2f %9.1f %8.2f %7llu %9llu\n",
		       dml_replay_strategy_name[s], (unsigned long long)st->requests,
		       (double)st->bytes / (1 << 20), sum[s].mean, sum[s].p50,
		       sum[s].p99, map[s].mean, per_req(st->inval, st->requests),
		       per_req(st->iova_allocs, st->requests),
		       per_req(st->pt_touched, st->requests),
		       per_req(st->meta_bytes, st->requests),
		       per_req(st->segments, st->requests),
		       (unsigned long long)st->faults,
		       (unsigned long long)st->verified);
	}
	printf("\n");
	dml_replay_legend(stdout);
	printf("\nEvery byte moved by the emulated device %s and checked (%.2f s).\n"
	       "The clock reads' own cost, %llu ns of caller and %llu ns of\n"
	       "map+unmap (the median of the same reads around no work, this run),\n"
	       "is subtracted from every request.\n"
	       "Peak RSS of the replay: %.1f MiB.\n",
	       r->o.no_iommu ? "with no IOMMU (dma-direct)" : "through the IOMMU", secs,
	       (unsigned long long)r->clock_caller_ns,
	       (unsigned long long)r->clock_map_ns, (double)peak_rss_kib() / 1024);
	if (ratios)
		printf("two-step (iova) vs page, sg: %.2fx, %.2fx for the caller; %.2fx, %.2fx\n"
		       "in map+unmap alone (mean ns; x as the header reads it)\n",
		       sum[S_PAGE].mean / sum[S_IOVA].mean,
		       sum[S_SG].mean / sum[S_IOVA].mean,
		       map[S_PAGE].mean / map[S_IOVA].mean,
		       map[S_SG].mean / map[S_IOVA].mean);
	for (s = 0; r->o.bounce && s < S_NR; s++)
		if (r->o.strategies & (1u << s))
			printf("%s: swiotlb copied %.1f KiB per request (%.2f x the request)\n",
			       dml_replay_strategy_name[s],
			       per_req(r->st[s].bounced, r->st[s].requests) / 1024,
			       per_req(r->st[s].bounced, r->st[s].bytes));
	if (r->st[S_IOVA].fallbacks)
		printf("iova: %llu requests fell back to dma_map_phys per range\n",
		       (unsigned long long)r->st[S_IOVA].fallbacks);
}

int dml_replay_plot(const struct replay *r, const char *trace)
{
	struct dml_plot_opts po = {
		.xlabel = "caller ns per request (structure + map + unmap)",
		.ylabel = "fraction of requests", .logx = 10, .ymax = 1,
		.with = "steps",
	};
	char title[256];
	struct dml_plot *p;
	unsigned int b;
	int s, ret;

	snprintf(title, sizeof(title), "latency CDF per strategy, %s", trace);
	po.title = title;
	ret = dml_plot_open(&po, &p);
	if (ret) {
		fprintf(stderr, "dmalink replay: cannot plot: %s\n", strerror(-ret));
		return ret;
	}
	for (s = 0; s < S_NR; s++) {
		const struct ns_hist *h = &r->st[s].caller_ns;
		u64 seen = 0;

		if (!(r->o.strategies & (1u << s)) || !h->n)
			continue;
		dml_plot_series(p, dml_replay_strategy_name[s]);
		for (b = 0; b < HIST_BUCKETS; b++) {
			seen += h->count[b];
			/* a log axis has no 0 ns: those requests count in the next step */
			if (h->count[b] && hist_value(b) > 0)
				dml_plot_point(p, hist_value(b), (double)seen / (double)h->n);
		}
	}
	return dml_plot_draw(p, "dmalink replay", r->o.plot);
}
