/* SPDX-License-Identifier: MIT */
/*
 * replay_cc.c - `dmalink replay --cc sev|tdx TRACE`: what TEE-IO is worth.
 * The trace is replayed in an emulated confidential guest (dmalink/cc.h)
 * on two PCI endpoints of one guest, each request's buffer laid out once
 * in private (encrypted) RAM and handed to both in turn:
 *   shared   a device that is not accepted into the TVM: it reaches only
 *            shared memory, so every mapping of the private buffer is
 *            bounced through the swiotlb pool, which is shared
 *   private  a device the TSM bound, started (TDISP RUN) and the TVM
 *            accepted: it maps the private buffer directly, with the
 *            encrypted encoding
 * Each side runs every strategy of --strategy with replay.c's own engine
 * (dml_replay_run_one()): the same caller cost views, the same device
 * transfer and the same byte-for-byte verification.  Ranges are split at
 * the shared side's dma_max_mapping_size() (one bounce buffer), and both
 * sides map the same pieces, so the sides differ only by acceptance.
 * Behind an IOMMU the two-step API cannot bounce a link whole:
 * dma_iova_link() of private memory for the shared device fails with
 * -EPERM (dmalink/dma-mapping.h DMA_ATTR_CC_SHARED), and those requests
 * are counted as refused, not as failures.  Without an IOMMU
 * dma_iova_try_alloc() says no and iova falls back to dma_map_phys.
 *
 * The table sets the two sides side by side per strategy: bounce bytes
 * per request (swiotlb's copies) and the caller's cost per request, and
 * the ratio shared / private of the mean caller ns.
 */
#include <dmalink/cc.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay.h"
#include "trace.h"

/* the sides' max DMA segment, bytes, as replay.c's device */
#define CC_MAX_SEGMENT 65536U

enum { SIDE_SHARED, SIDE_PRIVATE, SIDE_NR };
static const char *const side_name[SIDE_NR] = { "shared", "private" };

struct cc_replay {
	struct replay side[SIDE_NR];	/* one platform, layout and buffers */
	u64 refused[SIDE_NR][S_NR];	/* -EPERM: the two-step API refused */
	u64 failed;			/* other mapping failures */
	struct dml_tvm *tvm;
};

int dml_replay_cc_opt(struct replay_opts *o, const char *arg)
{
	if (!strcmp(arg, "sev")) {
		o->cc = DML_CC_SEV;
	} else if (!strcmp(arg, "tdx")) {
		o->cc = DML_CC_TDX;
	} else {
		fprintf(stderr, "dmalink replay: unknown --cc flavour '%s'\n", arg);
		return -EINVAL;
	}
	return 0;
}

void dml_replay_cc_usage(FILE *f)
{
	fprintf(f,
		"      --cc sev|tdx         a confidential guest (SEV-like C-bit, TDX-like\n"
		"                           shared bit): the trace is replayed on a device\n"
		"                           not accepted into the TVM (bounced through the\n"
		"                           shared swiotlb) and on one accepted in TDISP RUN\n"
		"                           (direct), side by side (not with --target p2p,\n"
		"                           --bounce or --plot)\n");
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

/* one endpoint of @hb at device @slot and its DMA device */
static int cc_add_dev(struct cc_replay *c, struct dml_pci_dev *hb, int side,
		      unsigned int slot, struct dml_pci_dev **pdev)
{
	struct replay *r = &c->side[side];
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, pci_dev),
		.name = side_name[side],
		.max_segment_size = CC_MAX_SEGMENT,
		.iommu = r->iommu,
	};
	int ret;

	ret = dml_pci_dev_add(hb, DML_PCI_ENDPOINT, (u8)(slot << 3), 0x1b36,
			      0x0010, side_name[side], pdev);
	if (ret)
		return ret;
	dop.pci_dev = *pdev;
	return dml_device_create(r->p, &dop, &r->dev);
}

/*
 * The guest: the platform made confidential before any device, the IOMMU
 * unless --no-iommu, a host bridge with the two endpoints, the TVM with
 * the private side bound, started and accepted, and the layout.
 */
static int cc_setup(struct cc_replay *c)
{
	struct replay *r = &c->side[SIDE_SHARED];
	const struct replay_opts *o = &r->o;
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, swiotlb_size),
		.ram_size = 64ULL << 30,	/* reserved lazily */
		.seed = o->seed,
		/* room for a whole request bounced at once, in 2 MiB */
		.swiotlb_size = max(DML_SWIOTLB_DEFAULT_SIZE,
				    (2 * o->max_request + (2ULL << 20) - 1) &
				    ~((2ULL << 20) - 1)),
	};
	struct dml_iommu_opts io = {
		.size = DML_SIZEOF(&io, superpages),
		.levels = o->levels,
		.caching_mode = o->caching_mode,
		.lazy = o->lazy,
		.superpages = true,
	};
	struct dml_pci_dev *hb, *shared, *priv;
	int ret;

	ret = dml_platform_create_emu(&eo, &r->p);
	if (!ret)
		ret = dml_cc_platform_init(r->p, (enum dml_cc_flavour)o->cc, 0);
	if (!ret && !o->no_iommu)
		ret = dml_iommu_create(r->p, &io, &r->iommu);
	if (ret)
		return ret;
	c->side[SIDE_PRIVATE].p = r->p;
	c->side[SIDE_PRIVATE].iommu = r->iommu;
	ret = dml_pci_host_bridge_add(r->p, 0, 0, 0x8086, 0x2020, NULL, &hb);
	if (!ret)
		ret = cc_add_dev(c, hb, SIDE_SHARED, 1, &shared);
	if (!ret)
		ret = cc_add_dev(c, hb, SIDE_PRIVATE, 2, &priv);
	if (!ret)
		ret = dml_tvm_create(r->p, &c->tvm);
	if (!ret)
		ret = dml_tsm_bind(c->tvm, priv);
	if (!ret)
		ret = dml_tdisp_start(priv);
	if (!ret)
		ret = dml_tsm_accept(c->tvm, priv);
	if (!ret)
		ret = dml_layout_create(r->p, o->layout, &r->layout);
	if (ret)
		return ret;
	r->max_ranges = (unsigned int)(o->max_request / 4096) + 1;
	r->ranges = calloc(r->max_ranges, sizeof(*r->ranges));
	if (!r->ranges)
		return -ENOMEM;
	dml_tool_clock_cost(&r->clock_caller_ns, &r->clock_map_ns);
	c->side[SIDE_PRIVATE].layout = r->layout;
	c->side[SIDE_PRIVATE].ranges = r->ranges;
	c->side[SIDE_PRIVATE].max_ranges = r->max_ranges;
	c->side[SIDE_PRIVATE].clock_caller_ns = r->clock_caller_ns;
	c->side[SIDE_PRIVATE].clock_map_ns = r->clock_map_ns;
	return 0;
}

static void cc_teardown(struct cc_replay *c)
{
	struct replay *r = &c->side[SIDE_SHARED];

	dml_tvm_destroy(c->tvm);
	dml_layout_destroy(r->layout);
	dml_platform_destroy(r->p);
	free(r->ranges);
	free(r->devbuf);
	free(r->expect);
}

/* both sides' flat buffers: the shared side's, grown to @bytes */
static int cc_size_bufs(struct cc_replay *c, u64 bytes)
{
	struct replay *a = &c->side[SIDE_SHARED], *b = &c->side[SIDE_PRIVATE];
	int ret = dml_replay_size_bufs(a, bytes);

	b->devbuf = a->devbuf;
	b->expect = a->expect;
	b->buf_bytes = a->buf_bytes;
	return ret;
}

/* strategy @s of one request on side @side; failures counted */
static void cc_run(struct cc_replay *c, int side, enum strategy s,
		   unsigned int nr, const struct dml_trace_req *req, u64 seed)
{
	struct replay *r = &c->side[side];
	int ret = dml_replay_run_one(r, s, nr, req->bytes, req->write, seed);

	if (ret == -EPERM && s == S_IOVA) {
		c->refused[side][s]++;
	} else if (ret) {
		c->failed++;
		r->st[s].mismatches++;
	}
}

static double per_req(u64 v, u64 n)
{
	return n ? (double)v / (double)n : 0;
}

static void cc_report_json(const struct cc_replay *c, const char *path,
			   const char *fmt, double secs)
{
	const struct replay_opts *o = &c->side[SIDE_SHARED].o;
	int side, s;

	printf("{\"trace\":\"%s\",\"format\":\"%s\",\"cc\":\"%s\",\"layout\":\"%s\","
	       "\"iommu\":%s,\"mode\":\"%s\",\"seconds\":%.3f,"
	       "\"clock_ns_subtracted\":{\"caller\":%llu,\"map_unmap\":%llu},"
	       "\"sides\":[", path, fmt, o->cc == DML_CC_SEV ? "sev" : "tdx",
	       o->layout, o->no_iommu ? "false" : "true",
	       o->lazy ? "lazy" : "strict", secs,
	       (unsigned long long)c->side[SIDE_SHARED].clock_caller_ns,
	       (unsigned long long)c->side[SIDE_SHARED].clock_map_ns);
	for (side = 0; side < SIDE_NR; side++) {
		bool first = true;

		printf("%s{\"name\":\"%s\",\"accepted\":%s,\"strategies\":[",
		       side ? "," : "", side_name[side],
		       side == SIDE_PRIVATE ? "true" : "false");
		for (s = 0; s < S_NR; s++) {
			const struct strat_stats *st = &c->side[side].st[s];
			struct summary sum = dml_replay_summarize(&st->caller_ns);
			struct summary map = dml_replay_summarize(&st->map_ns);

			if (!(o->strategies & (1u << s)))
				continue;
			printf("%s{\"name\":\"%s\",\"requests\":%llu,\"bytes\":%llu,"
			       "\"bounced_bytes\":%llu,\"caller_ns_mean\":%.1f,"
			       "\"caller_ns_p50\":%.0f,\"caller_ns_p99\":%.0f,"
			       "\"map_unmap_ns_mean\":%.1f,\"segments_per_req\":%.3f,"
			       "\"fallbacks\":%llu,\"refused\":%llu,\"faults\":%llu,"
			       "\"verified\":%llu,\"mismatches\":%llu}",
			       first ? "" : ",", dml_replay_strategy_name[s],
			       (unsigned long long)st->requests,
			       (unsigned long long)st->bytes,
			       (unsigned long long)st->bounced, sum.mean, sum.p50,
			       sum.p99, map.mean, per_req(st->segments, st->requests),
			       (unsigned long long)st->fallbacks,
			       (unsigned long long)c->refused[side][s],
			       (unsigned long long)st->faults,
			       (unsigned long long)st->verified,
			       (unsigned long long)st->mismatches);
			first = false;
		}
		printf("]}");
	}
	printf("]}\n");
}

static void cc_report(const struct cc_replay *c, const char *path,
		      const char *fmt, double secs)
{
	const struct replay_opts *o = &c->side[SIDE_SHARED].o;
	int side, s;

	if (o->json) {
		cc_report_json(c, path, fmt, secs);
		return;
	}
	printf("trace    %s (%s)\n", path, fmt);
	printf("platform emulated confidential guest (%s), layout %s, %s%s%s\n",
	       o->cc == DML_CC_SEV ? "SEV-like C-bit 51" : "TDX-like shared bit 47",
	       o->layout, o->no_iommu ? "no IOMMU (dma-direct)" :
	       o->lazy ? "VT-d IOMMU, lazy (flush queue)" : "VT-d IOMMU, strict",
	       o->levels == 5 ? ", 5-level" : "",
	       o->caching_mode ? ", caching mode" : "");
	printf("sides    shared: not accepted into the TVM, every mapping bounced through\n"
	       "         the shared swiotlb pool; private: TDISP RUN and accepted, direct\n");
	printf("ratios   x: shared's ns / private's ns, same run; > 1 means acceptance is cheaper\n");
	printf("\n%-8s %-8s %9s %9s %10s %9s %8s %8s %9s %7s %9s %8s\n",
	       "strategy", "side", "requests", "MiB", "bounce KiB", "caller ns",
	       "p50 ns", "p99 ns", "map+unmap", "faults", "verified", "refused");
	for (s = 0; s < S_NR; s++) {
		if (!(o->strategies & (1u << s)))
			continue;
		for (side = 0; side < SIDE_NR; side++) {
			const struct strat_stats *st = &c->side[side].st[s];
			struct summary sum = dml_replay_summarize(&st->caller_ns);
			struct summary map = dml_replay_summarize(&st->map_ns);

			printf("%-8s %-8s %9llu %9.1f %10.1f %9.0f %8.0f %8.0f %9.0f %7llu %9llu %8llu\n",
			       dml_replay_strategy_name[s], side_name[side],
			       (unsigned long long)st->requests,
			       (double)st->bytes / (1 << 20),
			       per_req(st->bounced, st->requests) / 1024, sum.mean,
			       sum.p50, sum.p99, map.mean,
			       (unsigned long long)st->faults,
			       (unsigned long long)st->verified,
			       (unsigned long long)c->refused[side][s]);
		}
	}
	printf("\nbounce KiB: swiotlb's copies per request; caller ns: the caller's whole\n"
	       "cost per request (structure + map + unmap, as `dmalink replay` measures;\n"
	       "the clock reads' own %llu ns subtracted), mean, p50, p99; refused: the\n"
	       "two-step API cannot bounce a link of private memory (-EPERM).\n",
	       (unsigned long long)c->side[SIDE_SHARED].clock_caller_ns);
	printf("Every byte moved by the emulated device %s and checked (%.2f s).\n",
	       o->no_iommu ? "with no IOMMU (dma-direct)" : "through the IOMMU", secs);
	for (s = 0; s < S_NR; s++) {
		const struct strat_stats *a = &c->side[SIDE_SHARED].st[s];
		const struct strat_stats *b = &c->side[SIDE_PRIVATE].st[s];
		struct summary sa = dml_replay_summarize(&a->caller_ns);
		struct summary sb = dml_replay_summarize(&b->caller_ns);

		if (!(o->strategies & (1u << s)) || !a->requests || !b->requests ||
		    sb.mean <= 0)
			continue;
		printf("%s: shared %.0f ns, private %.0f ns per request: %.2fx for the caller\n"
		       "  (p50 %.2fx); bounced %.1f KiB per request (%.2f x the request) against %.1f KiB\n",
		       dml_replay_strategy_name[s], sa.mean, sb.mean, sa.mean / sb.mean,
		       sb.p50 > 0 ? sa.p50 / sb.p50 : 0.0,
		       per_req(a->bounced, a->requests) / 1024,
		       per_req(a->bounced, a->bytes),
		       per_req(b->bounced, b->requests) / 1024);
	}
}

/* refuse what --cc does not take; Return: 0 or -EINVAL (printed) */
static int cc_check(const struct replay_opts *o)
{
	if (!o->bounce && !o->plot)
		return 0;
	fprintf(stderr, "dmalink replay: --cc takes no --bounce or --plot\n");
	return -EINVAL;
}

int dml_replay_cc(const struct replay_opts *o, const char *trace)
{
	struct cc_replay c = { 0 };
	struct dml_trace *t = NULL;
	struct dml_trace_req req;
	u64 start = now_ns(), n = 0;
	char err[512];
	int ret, side, s, k;

	if (cc_check(o))
		return 2;
	for (side = 0; side < SIDE_NR; side++) {
		c.side[side].o = *o;
		/* count swiotlb's copies in each request (dml_replay_run_one()) */
		c.side[side].o.bounce = true;
	}
	ret = dml_trace_open_format(trace, o->p2p.format, o->max_request, &t,
				    err, sizeof(err));
	if (ret) {
		fprintf(stderr, "dmalink replay: %s\n", err);
		return 2;
	}
	ret = cc_setup(&c);
	if (ret) {
		fprintf(stderr, "dmalink replay: cannot set up the confidential guest: %s\n",
			strerror(-ret));
		ret = 2;
		goto out;
	}
	while (!o->limit || n < o->limit) {
		struct replay *r = &c.side[SIDE_SHARED];
		unsigned int nr;

		ret = dml_trace_next(t, &req, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "dmalink replay: %s\n", err);
			ret = 2;
			goto out;
		}
		if (!ret)
			break;
		ret = cc_size_bufs(&c, req.bytes);
		if (!ret)
			ret = dml_layout_alloc(r->layout, req.bytes, r->ranges,
					       r->max_ranges, &nr);
		if (ret) {
			fprintf(stderr, "dmalink replay: line %llu: cannot allocate %llu bytes: %s\n",
				(unsigned long long)req.line,
				(unsigned long long)req.bytes, strerror(-ret));
			ret = 2;
			goto out;
		}
		/* the shared side's bounce-buffer limit, for both sides */
		nr = dml_replay_split_ranges(r, nr);
		/* the first request once through everything, uncounted (replay.c) */
		for (k = 0; !n && k < S_NR * SIDE_NR; k++) {
			struct replay *w = &c.side[k % SIDE_NR];
			struct strat_stats saved = w->st[k / SIDE_NR];

			if (!(o->strategies & (1u << (k / SIDE_NR))))
				continue;
			dml_replay_run_one(w, (enum strategy)(k / SIDE_NR), nr,
					   req.bytes, req.write, (u64)k);
			w->st[k / SIDE_NR] = saved;
		}
		/* strategies and sides in turn: none is always first */
		for (k = 0; k < S_NR * SIDE_NR; k++) {
			s = (int)((n + k / SIDE_NR) % S_NR);
			side = (int)((n + k) % SIDE_NR);
			if (o->strategies & (1u << s))
				cc_run(&c, side, (enum strategy)s, nr, &req,
				       (n * S_NR + s) * SIDE_NR + side);
		}
		dml_layout_free(r->layout, r->ranges, nr);
		n++;
	}
	cc_report(&c, trace, dml_trace_format_name(t),
		  (double)(now_ns() - start) / 1e9);
	ret = 0;
	for (side = 0; side < SIDE_NR; side++)
		for (s = 0; s < S_NR; s++)
			if (c.side[side].st[s].faults || c.side[side].st[s].mismatches)
				ret = 1;
	if (c.failed)
		fprintf(stderr, "dmalink replay: %llu mappings failed\n",
			(unsigned long long)c.failed);
out:
	dml_trace_close(t);
	cc_teardown(&c);
	return ret;
}
