/* SPDX-License-Identifier: MIT */
/*
 * replay.c - `dmalink replay TRACE`: the main job.  Every request of a real
 * block trace gets a buffer laid out in physical memory by a layout policy,
 * and is then mapped with each strategy in turn:
 *   page  dma_map_phys per physically contiguous range (the fallback path)
 *   sg    a scatterlist and dma_map_sgtable (the legacy path)
 *   iova  dma_iova_try_alloc + one dma_iova_link per range + one
 *         dma_iova_sync, torn down by dma_iova_destroy (the two-step API)
 * The emulated device then really moves the bytes through the IOMMU: for a
 * write request it reads the buffer and the bytes are compared with what
 * the CPU wrote; for a read request it writes a pattern the CPU then
 * checks.  Faults must be 0 and every byte must verify.
 *
 * Cost, per request, in two views:
 *   caller    what the caller pays for the strategy as a whole: its own
 *             structure (sg: sg_alloc_table, filling the entries and
 *             sg_free_table; page: the array of (address, length) per
 *             range it must keep to unmap; iova: nothing beyond the
 *             two-word struct dma_iova_state on its stack) plus map plus
 *             unmap.  The kernel's callers pay exactly this.
 *   map+unmap the DMA API calls alone.
 * Each view is CPU time from clock reads around the work; every strategy
 * takes the same six reads.  Their own cost (~20 ns a read, several per
 * view) would add the same constant to every row and pull every ratio
 * towards 1, so it is measured at start-up (the median of the same six
 * reads around no work) and subtracted; the summary prints it.  Also counted: the
 * invalidations, IOVA allocations, page-table pages and metadata bytes
 * each strategy needed.
 *
 * Memory stays bounded by what is in flight, whatever the trace's
 * length: each request's buffer goes back to the layout allocator (and
 * its host pages to the host) once verified, the flat buffers are sized
 * to the largest request, and latencies go into fixed-size histograms
 * (mean exact; p50 and p99 to within 1/64 of their value).  The summary
 * prints the peak RSS (getrusage).
 * --target p2p: the buffers lie in a peer's BAR instead (replay_p2p.c).
 * --cc sev|tdx: a confidential guest, device not accepted and accepted
 * side by side (replay_cc.c).
 * The table and JSON are printed by replay_report.c.
 *
 * --bounce measures swiotlb: the device is a force_bounce dma-direct one
 * (swiotlb=force, a confidential guest), so every mapping is copied
 * through bounce buffers, and ranges are split at dma_max_mapping_size()
 * (256 KiB) as drivers do.  An untrusted device behind the IOMMU would
 * bounce nothing here, since layouts are page aligned.  The table then
 * also shows the bytes copied per request.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dmalink/scatterlist.h>

#include "plot.h"
#include "replay.h"
#include "tools.h"
#include "trace.h"

/* the replay device's max DMA segment, bytes (the kernel's 64 KiB default) */
#define REPLAY_MAX_SEGMENT 65536U
const char *const dml_replay_strategy_name[S_NR] = { "page", "sg", "iova" };

static unsigned int hist_bucket(u64 v)
{
	unsigned int e;

	if (v < HIST_SUB)
		return (unsigned int)v;
	e = 63U - (unsigned int)__builtin_clzll(v);
	return (e - HIST_SUB_BITS + 1) * HIST_SUB +
	       (unsigned int)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

static void hist_add(struct ns_hist *h, u64 v)
{
	h->count[hist_bucket(v)]++;
	h->n++;
	h->total += (double)v;
}

/* what the page strategy (and iova's fallback) keeps per range to unmap */
struct dma_vec {
	dma_addr_t addr;
	u64 len;
};

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

void dml_replay_pattern(u8 *buf, u64 len, u64 seed)
{
	u64 x = seed * 0x9E3779B97F4A7C15ULL + 1, i;

	for (i = 0; i < len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + i, &x, min(8ULL, len - i));
	}
}

/* CPU copy between a flat buffer and the request's physical ranges */
static int cpu_copy(struct replay *r, unsigned int nr, u8 *buf, bool to_mem)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		u8 *host = dml_kmap_local_phys(r->p, r->ranges[i].phys, r->ranges[i].len);

		if (!host)
			return -EFAULT;
		if (to_mem)
			memcpy(host, buf, r->ranges[i].len);
		else
			memcpy(buf, host, r->ranges[i].len);
		buf += r->ranges[i].len;
	}
	return 0;
}

/* the device transfers over DMA segments (addr, len) in order */
static int device_xfer(struct replay *r, const dma_addr_t *addr,
		       const u64 *len, unsigned int n, bool dev_reads)
{
	u8 *b = r->devbuf;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = dev_reads ? dml_dev_dma_read(r->dev, addr[i], b, len[i])
				: dml_dev_dma_write(r->dev, addr[i], b, len[i]);
		if (ret)
			return ret;
		b += len[i];
	}
	return 0;
}

static u64 sub_clamp(u64 a, u64 b)
{
	return a > b ? a - b : 0;
}

static void record_ns(struct replay *r, struct strat_stats *s, u64 caller_ns,
		      u64 map_ns)
{
	hist_add(&s->caller_ns, sub_clamp(caller_ns, r->clock_caller_ns));
	hist_add(&s->map_ns, sub_clamp(map_ns, r->clock_map_ns));
}

struct counters {
	u64 inval, allocs, pt_touched, faults, bounced;
};

static void read_counters(struct replay *r, struct counters *c)
{
	struct dml_dev_stats ds;

	dml_dev_get_stats(r->dev, &ds);
	c->allocs = ds.iova_allocs;
	c->faults = ds.faults;
	c->inval = c->pt_touched = c->bounced = 0;
	if (r->o.bounce) {
		struct dml_swiotlb_stats ss;

		if (!dml_swiotlb_get_stats(r->p, &ss))
			c->bounced = ss.bounced_bytes;
	}
	if (r->iommu) {
		struct dml_iommu_stats is;

		dml_iommu_get_stats(r->iommu, &is);
		c->inval = is.inv_range + is.inv_global;
		c->pt_touched = is.pt_pages_touched;
	}
}

/*
 * The scatterlist a block driver would build (blk_rq_map_sg): one entry per
 * physical range, split so no entry exceeds the device's max segment size.
 * Return: 0 or -ENOMEM.
 */
static int build_sgt(struct replay *r, unsigned int nr, struct sg_table *sgt)
{
	unsigned int i, n = 0, k = 0;
	u64 off;

	for (i = 0; i < nr; i++)
		n += (unsigned int)DIV_ROUND_UP(r->ranges[i].len, REPLAY_MAX_SEGMENT);
	if (sg_alloc_table(sgt, n))
		return -ENOMEM;
	for (i = 0; i < nr; i++)
		for (off = 0; off < r->ranges[i].len; off += REPLAY_MAX_SEGMENT)
			sg_set_phys(&sgt->sgl[k++], r->ranges[i].phys + off,
				    (unsigned int)min((u64)REPLAY_MAX_SEGMENT,
						      r->ranges[i].len - off));
	return 0;
}

/* dma_map_phys per range into @vec; on failure nothing stays mapped */
static int map_ranges(struct replay *r, unsigned int nr,
		      enum dma_data_direction dir, struct dma_vec *vec)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		vec[i].len = r->ranges[i].len;
		vec[i].addr = dma_map_phys(r->dev, r->ranges[i].phys, vec[i].len,
					   dir, 0);
		if (dma_mapping_error(r->dev, vec[i].addr)) {
			while (i--)
				dma_unmap_phys(r->dev, vec[i].addr, vec[i].len,
					       dir, 0);
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * Map the request's ranges with @s, let the device transfer, unmap.
 * Six clock reads, the same for every strategy:
 *   t0 caller's structure t1 map t2 | transfer | t3 unmap t4 caller's teardown t5
 * caller = (t2 - t0) + (t5 - t3), map+unmap = (t2 - t1) + (t4 - t3).
 * iova's fallback allocates its dma_vec array after dma_iova_try_alloc()
 * said no, so inside the map window.
 * Return: 0, or -errno when mapping failed (counted, not fatal).
 */
int dml_replay_run_one(struct replay *r, enum strategy s, unsigned int nr,
		       u64 bytes, bool write, u64 seed)
{
	enum dma_data_direction dir = write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	struct strat_stats *st = &r->st[s];
	struct dma_iova_state state;
	struct sg_table sgt = { 0 };
	struct dma_vec *vec = NULL;
	struct counters c0, c1;
	static dma_addr_t *seg_addr;
	static u64 *seg_len;
	static unsigned int seg_cap;
	unsigned int i, nseg = 0;
	u64 t0, t1, t2, t3, t4, t5, off;
	bool use_iova = false;
	int ret = 0, xfer;

	if (seg_cap < nr) {
		free(seg_addr);
		free(seg_len);
		seg_cap = r->max_ranges;
		seg_addr = malloc(seg_cap * sizeof(*seg_addr));
		seg_len = malloc(seg_cap * sizeof(*seg_len));
		if (!seg_addr || !seg_len)
			return -ENOMEM;
	}
	/* the CPU side before mapping: data to send, or a poisoned buffer */
	dml_replay_pattern(r->expect, bytes, seed);
	if (write) {
		cpu_copy(r, nr, r->expect, true);
	} else {
		memset(r->devbuf, 0xa5, bytes);
		cpu_copy(r, nr, r->devbuf, true);
		memcpy(r->devbuf, r->expect, bytes);
	}
	read_counters(r, &c0);

	t0 = now_ns();
	/* the caller's own structure (iova: the state on the stack) */
	if (s == S_SG)
		ret = build_sgt(r, nr, &sgt);
	else if (s == S_PAGE && !(vec = malloc(nr * sizeof(*vec))))
		ret = -ENOMEM;
	t1 = now_ns();
	if (ret)
		return ret;

	switch (s) {
	case S_IOVA:
		use_iova = dma_iova_try_alloc(r->dev, &state, r->ranges[0].phys, bytes);
		if (use_iova) {
			for (i = 0, off = 0; i < nr && !ret; i++) {
				ret = dma_iova_link(r->dev, &state, r->ranges[i].phys,
						    off, r->ranges[i].len, dir, 0);
				if (!ret)
					off += r->ranges[i].len;
			}
			if (!ret)
				ret = dma_iova_sync(r->dev, &state, 0, off);
			if (ret) {
				dma_iova_destroy(r->dev, &state, off, dir, 0);
				break;
			}
			seg_addr[0] = state.addr;
			seg_len[0] = bytes;
			nseg = 1;
			break;
		}
		st->fallbacks++;
		/* dma_map_phys per range, as the kernel's callers do */
		vec = malloc(nr * sizeof(*vec));
		if (!vec) {
			ret = -ENOMEM;
			break;
		}
		__attribute__((fallthrough));
	case S_PAGE:
		ret = map_ranges(r, nr, dir, vec);
		for (i = 0; !ret && i < nr; i++) {
			seg_addr[i] = vec[i].addr;
			seg_len[i] = vec[i].len;
		}
		nseg = ret ? 0 : nr;
		break;
	case S_SG:
		ret = dma_map_sgtable(r->dev, &sgt, dir, 0);
		for (i = 0; !ret && i < sgt.nents; i++) {
			seg_addr[i] = sg_dma_address(&sgt.sgl[i]);
			seg_len[i] = sg_dma_len(&sgt.sgl[i]);
		}
		nseg = ret ? 0 : sgt.nents;
		break;
	case S_NR:
		break;
	}
	t2 = now_ns();
	if (ret) {
		sg_free_table(&sgt);
		free(vec);
		return ret;
	}

	st->meta_bytes += s == S_SG ? sizeof(struct sg_table) +
				      sgt.orig_nents * sizeof(struct scatterlist) :
			  use_iova ? sizeof(struct dma_iova_state) :
				     nr * sizeof(struct dma_vec);
	xfer = device_xfer(r, seg_addr, seg_len, nseg, write);

	t3 = now_ns();
	if (use_iova) {
		dma_iova_destroy(r->dev, &state, bytes, dir, 0);
	} else if (s == S_SG) {
		dma_unmap_sgtable(r->dev, &sgt, dir, 0);
	} else {
		for (i = 0; i < nr; i++)
			dma_unmap_phys(r->dev, vec[i].addr, vec[i].len, dir, 0);
	}
	t4 = now_ns();
	sg_free_table(&sgt);
	free(vec);
	t5 = now_ns();
	read_counters(r, &c1);

	/* verify: what the device read, or what the CPU now sees */
	if (!xfer && !write)
		xfer = cpu_copy(r, nr, r->devbuf, false);
	if (!xfer && !memcmp(r->devbuf, r->expect, bytes))
		st->verified++;
	else
		st->mismatches++;

	st->requests++;
	st->bytes += bytes;
	st->segments += nseg;
	st->inval += c1.inval - c0.inval;
	st->iova_allocs += c1.allocs - c0.allocs;
	st->pt_touched += c1.pt_touched - c0.pt_touched;
	st->faults += c1.faults - c0.faults;
	st->bounced += c1.bounced - c0.bounced;
	record_ns(r, st, (t2 - t0) + (t5 - t3), (t2 - t1) + (t4 - t3));
	return 0;
}

static int parse_strategy(const char *s, unsigned int *mask)
{
	int i;

	if (!strcmp(s, "all")) {
		*mask = (1u << S_NR) - 1;
		return 0;
	}
	for (i = 0; i < S_NR; i++) {
		if (!strcmp(s, dml_replay_strategy_name[i])) {
			*mask = 1u << i;
			return 0;
		}
	}
	return -EINVAL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dmalink replay [options] TRACE\n"
		"  Replay a block trace (any format of --format) through the\n"
		"  emulated IOMMU with each mapping strategy; every byte is verified.\n"
		"  -s, --strategy page|sg|iova|all   mapping strategy (default all)\n"
		"  -l, --layout SPEC        4k-random, 4k-descending (default), thp, file:PATH\n"
		"  -n, --limit N            replay at most N requests\n"
		"      --lazy               lazy invalidation (flush queue); default strict\n"
		"      --caching-mode       virtualised IOMMU: unsynced links fault\n"
		"      --levels 4|5         page-table levels (default 4)\n"
		"      --no-iommu           dma-direct device (no translation)\n"
		"      --bounce             dma-direct device that bounces every mapping\n"
		"                           through swiotlb; reports the copies' cost\n"
		"      --max-request BYTES  largest request accepted (default 67108864)\n"
		"      --seed N             layout seed (default 1)\n"
		"  -j, --json               one JSON object on stdout\n"
		"  -q, --quiet              no progress line (drawn only when stderr is a\n"
		"                           terminal, and not with --json)\n"
		"      --plot FILE.svg      draw each strategy's latency CDF (caller ns per\n"
		"                           request, log x) with gnuplot (Debian: gnuplot-nox)\n");
	dml_trace_usage(f);
	dml_replay_legend(f);
	dml_replay_p2p_usage(f);
	dml_replay_dmabuf_usage(f);
	dml_replay_cc_usage(f);
	dml_replay_nvme_usage(f);
	fprintf(f, "exit: 0 all verified, 1 a fault or mismatch, 2 bad usage or input\n");
}

/* an option of `--device nvme` was given: the NVMe replay runs */
static bool nvme_mode(const struct replay_opts *o)
{
	return o->nvme.device || o->nvme.sgl_given || o->nvme.vfio ||
	       o->nvme.ns_bytes || o->nvme.image;
}

static int parse_opts(int argc, char **argv, struct replay_opts *o)
{
	static const struct option lo[] = {
		{ "strategy", required_argument, NULL, 's' },
		{ "layout", required_argument, NULL, 'l' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "lazy", no_argument, NULL, 'L' },
		{ "caching-mode", no_argument, NULL, 'C' },
		{ "levels", required_argument, NULL, 'v' },
		{ "no-iommu", no_argument, NULL, 'D' },
		{ "bounce", no_argument, NULL, 'B' },
		{ "max-request", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 'S' },
		{ "format", required_argument, NULL, 'F' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "plot", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ "target", required_argument, NULL, 'T' },
		{ "topology", required_argument, NULL, 'P' },
		{ "p2p-client", required_argument, NULL, 'c' },
		{ "p2p-provider", required_argument, NULL, 'p' },
		{ "dmabuf-exporter", required_argument, NULL, 'X' },
		{ "dmabuf-importer", required_argument, NULL, 'I' },
		{ "dmabuf-move", required_argument, NULL, 'M' },
		{ "cc", required_argument, NULL, 'K' },
		{ "device", required_argument, NULL, 'd' },
		{ "sgl", required_argument, NULL, 'g' },
		{ "vfio", required_argument, NULL, 'V' },
		{ "namespace", required_argument, NULL, 'N' },
		{ "image", required_argument, NULL, 'Y' },
		{ 0 }
	};
	u64 v;
	int c;

	memset(o, 0, sizeof(*o));
	o->strategies = (1u << S_NR) - 1;
	o->seed = 1;
	o->max_request = 64ULL << 20;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:l:n:jqh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_strategy(optarg, &o->strategies)) {
				fprintf(stderr, "dmalink replay: unknown strategy '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'l':
			o->layout = optarg;
			break;
		case 'n':
			if (dml_tool_parse_u64(optarg, 0, &o->limit))
				goto bad_number;
			break;
		case 'j':
			o->json = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'G':
			if (!*optarg)
				goto bad_number;
			o->plot = optarg;
			break;
		case 'L':
			o->lazy = true;
			break;
		case 'C':
			o->caching_mode = true;
			break;
		case 'v':
			if (dml_tool_parse_u64(optarg, 0, &v) || (v != 4 && v != 5))
				goto bad_number;
			o->levels = (unsigned int)v;
			break;
		case 'D':
			o->no_iommu = true;
			break;
		case 'B':
			o->bounce = o->no_iommu = true;
			break;
		case 'm':
			if (dml_tool_parse_u64(optarg, 0, &o->max_request) ||
			    o->max_request < 4096 || o->max_request > (1ULL << 30))
				goto bad_number;
			break;
		case 'S':
			if (dml_tool_parse_u64(optarg, 0, &o->seed))
				goto bad_number;
			break;
		case 'T': case 'P': case 'c': case 'p': case 'F':
			if (dml_replay_p2p_opt(&o->p2p, c, optarg))
				return -EINVAL;
			if (c != 'T')
				break;
			/* --target names the dmabuf target too */
			__attribute__((fallthrough));
		case 'X': case 'I': case 'M':
			if (dml_replay_dmabuf_opt(&o->dmabuf, c, optarg))
				return -EINVAL;
			break;
		case 'K':
			if (dml_replay_cc_opt(o, optarg))
				return -EINVAL;
			break;
		case 'd': case 'g': case 'V': case 'N': case 'Y':
			if (dml_replay_nvme_opt(&o->nvme, c, optarg))
				return -EINVAL;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return -EINVAL;
	}
	if (dml_replay_p2p_check(&o->p2p, o->layout || o->levels || o->lazy ||
				 o->caching_mode || o->bounce || o->plot))
		return -EINVAL;
	if (dml_replay_dmabuf_check(&o->dmabuf, o->layout || o->levels ||
				    o->lazy || o->caching_mode || o->bounce ||
				    o->plot || o->p2p.topology))
		return -EINVAL;
	o->dmabuf.limit = o->limit;
	o->dmabuf.max_request = o->max_request;
	o->dmabuf.format = o->p2p.format;
	o->dmabuf.json = o->json;
	o->dmabuf.no_iommu = o->no_iommu;
	o->layout = o->layout ? o->layout : "4k-descending";
	o->levels = o->levels ? o->levels : 4;
	o->p2p.strategies = o->strategies;
	o->p2p.limit = o->limit;
	o->p2p.max_request = o->max_request;
	o->p2p.json = o->json;
	o->p2p.no_iommu = o->no_iommu;
	return 0;
bad_number:
	fprintf(stderr, "dmalink replay: bad value '%s'\n", optarg);
	return -EINVAL;
}

static int setup(struct replay *r)
{
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, swiotlb_size),
		.ram_size = 64ULL << 30,	/* reserved lazily */
		.seed = r->o.seed,
		/* room for a whole request in flight, in 256 KiB pieces */
		.swiotlb_size = !r->o.bounce ? 0 :
			2 * r->o.max_request > DML_SWIOTLB_DEFAULT_SIZE ?
			(2 * r->o.max_request + (2ULL << 20) - 1) & ~((2ULL << 20) - 1) :
			DML_SWIOTLB_DEFAULT_SIZE,
	};
	struct dml_iommu_opts io = {
		.size = DML_SIZEOF(&io, superpages),
		.levels = r->o.levels,
		.caching_mode = r->o.caching_mode,
		.lazy = r->o.lazy,
		.superpages = true,
	};
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, force_bounce),
		.name = "replay-dma",
		.source_id = 0x0300,
		.pci = true,
		.max_segment_size = REPLAY_MAX_SEGMENT,
		.force_bounce = r->o.bounce,
	};
	int ret;

	ret = dml_platform_create_emu(&eo, &r->p);
	if (ret)
		return ret;
	if (!r->o.no_iommu) {
		ret = dml_iommu_create(r->p, &io, &r->iommu);
		if (ret)
			return ret;
		dop.iommu = r->iommu;
	}
	ret = dml_device_create(r->p, &dop, &r->dev);
	if (ret)
		return ret;
	ret = dml_layout_create(r->p, r->o.layout, &r->layout);
	if (ret)
		return ret;
	r->max_ranges = (unsigned int)(r->o.max_request / 4096) + 1;
	r->ranges = calloc(r->max_ranges, sizeof(*r->ranges));
	if (!r->ranges)
		return -ENOMEM;
	dml_tool_clock_cost(&r->clock_caller_ns, &r->clock_map_ns);
	return 0;
}

/*
 * The two flat buffers sized to the largest request so far, not to
 * --max-request: memory follows the trace's requests.  Return: 0 or -ENOMEM.
 */
int dml_replay_size_bufs(struct replay *r, u64 bytes)
{
	u8 *d, *e;

	if (bytes <= r->buf_bytes)
		return 0;
	d = realloc(r->devbuf, bytes);
	if (d)
		r->devbuf = d;
	e = realloc(r->expect, bytes);
	if (e)
		r->expect = e;
	if (!d || !e)
		return -ENOMEM;
	r->buf_bytes = bytes;
	return 0;
}

/*
 * --bounce: split ranges longer than what one bounce buffer holds
 * (dma_max_mapping_size()), as drivers cap their segments; the pieces of
 * a range stay in order, so dml_layout_free() frees the same pages.
 * There is room: a piece is at least 4 KiB of the request.
 */
unsigned int dml_replay_split_ranges(struct replay *r, unsigned int nr)
{
	u64 cap = dma_max_mapping_size(r->dev);
	unsigned int i, n = 0, out;

	for (i = 0; i < nr; i++)
		n += (unsigned int)((r->ranges[i].len + cap - 1) / cap);
	if (n == nr || n > r->max_ranges)
		return nr;
	out = n;
	for (i = nr; i-- > 0;) {
		struct dml_phys_range rg = r->ranges[i];
		u64 k = (rg.len + cap - 1) / cap;

		while (k--) {
			r->ranges[--n].phys = rg.phys + k * cap;
			r->ranges[n].len = min(cap, rg.len - k * cap);
		}
	}
	return out;
}

/*
 * The progress line on stderr when it is a terminal (not with --json or
 * --quiet): requests done / total, rate and ETA, first drawn once the
 * replay has run a second and redrawn with \r at most ten times a second;
 * the clock is read every PROGRESS_EVERY requests, never per request.  The
 * total is estimated from how far through its file the reader is (capped
 * by --limit); from a pipe only --limit gives one.
 */
#define PROGRESS_EVERY 1024
#define PROGRESS_DELAY_NS 1000000000ULL
#define PROGRESS_PERIOD_NS 100000000ULL

struct progress {
	bool on;
	u64 start, last;
	int width;			/* of the line drawn so far, to clear it */
};

static void progress_tick(struct progress *pg, const struct dml_trace *t,
			  u64 n, u64 limit)
{
	u64 now, done, size, total = 0;
	double secs, rate;
	char line[128];
	int w;

	if (!pg->on || n % PROGRESS_EVERY)
		return;
	now = now_ns();
	if (now - pg->start < PROGRESS_DELAY_NS || now - pg->last < PROGRESS_PERIOD_NS)
		return;
	pg->last = now;
	secs = (double)(now - pg->start) / 1e9;
	rate = (double)n / secs;
	if (!dml_trace_position(t, &done, &size) && done)
		total = (u64)((double)n * (double)size / (double)done);
	if (limit && (!total || limit < total))
		total = limit;
	if (total > n) {
		u64 eta = (u64)((double)(total - n) / rate);

		w = snprintf(line, sizeof(line),
			     "[replay] %llu / %s%llu requests, %.0f requests/s, ETA %llum%02llus",
			     (unsigned long long)n, total == limit ? "" : "~",
			     (unsigned long long)total, rate,
			     (unsigned long long)(eta / 60), (unsigned long long)(eta % 60));
	} else {
		w = snprintf(line, sizeof(line), "[replay] %llu requests, %.0f requests/s",
			     (unsigned long long)n, rate);
	}
	fprintf(stderr, "\r%-*s", pg->width, line);
	pg->width = w > pg->width ? w : pg->width;
}

/* clear the progress line, if one was drawn */
static void progress_end(struct progress *pg)
{
	if (pg->width)
		fprintf(stderr, "\r%*s\r", pg->width, "");
	pg->width = 0;
}

static void teardown(struct replay *r)
{
	dml_layout_destroy(r->layout);
	dml_platform_destroy(r->p);
	free(r->ranges);
	free(r->devbuf);
	free(r->expect);
}

int dml_cmd_replay(int argc, char **argv)
{
	struct replay r = { 0 };
	struct dml_trace *t = NULL;
	struct dml_trace_req req;
	struct progress pg = { 0 };
	u64 start = now_ns(), n = 0, bad = 0;
	char err[512];
	int ret, s, k;

	if (parse_opts(argc, argv, &r.o))
		return 2;
	if ((r.o.cc != 0) + nvme_mode(&r.o) + r.o.p2p.target + r.o.dmabuf.target > 1) {
		fprintf(stderr, "dmalink replay: --cc, --device nvme, --target p2p and --target dmabuf exclude each other\n");
		return 2;
	}
	if (r.o.cc)
		return dml_replay_cc(&r.o, argv[optind]);
	if (nvme_mode(&r.o))
		return dml_replay_nvme(&r.o, argv[optind]);
	if (r.o.p2p.target)
		return dml_replay_p2p(&r.o.p2p, argv[optind]);
	if (r.o.dmabuf.target)
		return dml_replay_dmabuf(&r.o.dmabuf, argv[optind]);
	/* refused before the replay, not after it */
	if (r.o.plot && dml_plot_check("dmalink replay"))
		return 1;
	pg.on = isatty(STDERR_FILENO) && !r.o.json && !r.o.quiet;
	pg.start = start;
	ret = dml_trace_open_format(argv[optind], r.o.p2p.format, r.o.max_request,
				    &t, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "dmalink replay: %s\n", err);
		return 2;
	}
	ret = setup(&r);
	if (ret) {
		fprintf(stderr, "dmalink replay: cannot set up the platform: %s\n",
			strerror(-ret));
		ret = 2;
		goto out;
	}
	while (!r.o.limit || n < r.o.limit) {
		unsigned int nr;

		ret = dml_trace_next(t, &req, err, sizeof(err));
		if (ret < 0) {
			progress_end(&pg);
			fprintf(stderr, "dmalink replay: %s\n", err);
			ret = 2;
			goto out;
		}
		if (!ret)
			break;
		ret = dml_replay_size_bufs(&r, req.bytes);
		if (!ret)
			ret = dml_layout_alloc(r.layout, req.bytes, r.ranges,
					       r.max_ranges, &nr);
		if (ret) {
			progress_end(&pg);
			fprintf(stderr, "dmalink replay: line %llu: cannot allocate %llu bytes: %s\n",
				(unsigned long long)req.line,
				(unsigned long long)req.bytes, strerror(-ret));
			ret = 2;
			goto out;
		}
		if (r.o.bounce)
			nr = dml_replay_split_ranges(&r, nr);
		/*
		 * The first request once through every strategy, uncounted:
		 * the buffers' first touch, the page tables' first tables and
		 * the caches' first misses would otherwise all land on
		 * whichever strategy ran first (a 10-request trace gave page
		 * a mean of 1.2 ms against a p50 of 180 ns).
		 */
		for (k = 0; !n && k < S_NR; k++) {
			struct strat_stats saved = r.st[k];

			if (!(r.o.strategies & (1u << k)))
				continue;
			dml_replay_run_one(&r, (enum strategy)k, nr, req.bytes,
					   req.write, (u64)k);
			r.st[k] = saved;
		}
		/* each request starts with the next strategy: none is always first */
		for (k = 0; k < S_NR; k++) {
			s = (int)((n + k) % S_NR);
			if (!(r.o.strategies & (1u << s)))
				continue;
			if (dml_replay_run_one(&r, s, nr, req.bytes, req.write,
					       n * S_NR + s)) {
				bad++;
				r.st[s].mismatches++;
			}
		}
		dml_layout_free(r.layout, r.ranges, nr);
		n++;
		progress_tick(&pg, t, n, r.o.limit);
	}
	progress_end(&pg);
	dml_replay_report(&r, argv[optind], dml_trace_format_name(t),
	       (double)(now_ns() - start) / 1e9);
	ret = r.o.plot && dml_replay_plot(&r, argv[optind]) ? 1 : 0;
	for (s = 0; s < S_NR; s++)
		if (r.st[s].faults || r.st[s].mismatches)
			ret = 1;
	if (bad)
		fprintf(stderr, "dmalink replay: %llu mappings failed\n",
			(unsigned long long)bad);
out:
	dml_trace_close(t);
	teardown(&r);
	return ret;
}
