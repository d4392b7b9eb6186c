/* SPDX-License-Identifier: MIT */
/*
 * replay_nvme.c - `dmalink replay --device nvme TRACE`: the main job
 * through a storage stack.  The replaying device is an emulated NVMe
 * controller behind the emulated IOMMU, driven by <dmalink/nvme.h>; every
 * request of the trace gets a buffer from the layout policy, is cut into
 * commands of at most the controller's MDTS and 128 KiB (as the block
 * layer splits at max_hw_sectors), each a block request mapped as nvme-pci maps it with
 * each strategy in turn:
 *   iova  the request DMA iterator (Linux 6.17+): one dma_map_phys() for
 *         one segment, else one IOVA range when the IOMMU can merge
 *   page  the iterator's per-segment path: one dma_map_phys() per segment
 *   sg    the scatterlist of Linux 6.16: blk_rq_map_sg(), dma_map_sgtable()
 * and then PRPs or SGLs (--sgl).  The commands of one request are in
 * flight together (dml_nvme_rw_many(), up to 63, one doorbell), except
 * those whose blocks overlap, which go in turn.  A write carries a pattern that differs
 * per request, strategy and byte, which the CPU also writes into a shadow
 * of the namespace; a read lands in a poisoned buffer and the CPU compares
 * every byte with the shadow.  The namespace is 64 MiB; a request's
 * offset is taken modulo its size.  The namespace is written once with
 * zeros before the replay, uncounted (warm_namespace()).
 *
 * Costs, per command, from dml_nvme_rw(): mapping (map and unmap with the
 * strategy's own structures: the caller's whole cost), the controller
 * (CPU time inside its registers: the emulated controller runs the
 * command when its doorbell is written), split into its own work and the
 * device data (moving the bytes, which a real controller's DMA engine
 * does without the CPU), and the driver (the rest: building the command,
 * the rings, polling).  Exit 1 on any fault, error
 * or mismatch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <dmalink/nvme.h>
#include <dmalink/vfio.h>

#include "replay.h"
#include "trace.h"

#define POISON 0xa5
#define BATCH 63			/* commands in flight: the I/O queue holds 64 */
#define DEFAULT_NS_BYTES (64ULL << 20)
#define MAX_CMD_BYTES (128u << 10)	/* a command moves at most this, or MDTS */

struct nvme_stats {
	u64 requests, commands, bytes, read_bytes, verified, mismatches, errors;
	u64 path[DML_NVME_PATH_SG + 1];
	u64 sgl, desc_bytes;
	u64 map_ns, dev_ns, data_ns, total_ns;
};

/* one command of a batch */
struct nvme_cmd {
	struct bio_vec *vecs;		/* its pieces */
	struct bio b;
	struct request rq;
	u8 *buf;			/* its bytes, CPU side */
	u64 nsoff;			/* bytes into the namespace */
	u32 len;
};

struct nvme_replay {
	const struct replay_opts *o;
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
	struct dml_nvme *n;
	struct dml_nvme_ns_info info;
	u64 ns_bytes;			/* the part of the namespace replayed */
	u8 *pool;			/* --vfio: the buffers' pages */
	u64 pool_bytes;
	struct dml_layout *layout;
	struct dml_phys_range *ranges;
	unsigned int max_ranges;
	struct nvme_cmd *cmds;		/* the batch of commands in flight */
	struct request *rqs[BATCH];
	struct dml_nvme_io ios[BATCH];
	unsigned int nr_cmds;
	u8 *shadow;			/* what the namespace holds */
	struct nvme_stats st[S_NR];
};

static const enum dml_nvme_map_strategy nvme_strategy[S_NR] = {
	[S_PAGE] = DML_NVME_MAP_PAGE, [S_SG] = DML_NVME_MAP_SG,
	[S_IOVA] = DML_NVME_MAP_IOVA,
};
static const char *const sgl_name[] = { "auto", "always", "never" };

/* nvme-pci's queue limits (drivers/nvme/host/core.c nvme_set_ctrl_limits) */
static const struct queue_limits nvme_limits = {
	.max_segment_size = 0xffffffffu,
	.virt_boundary_mask = 4095,
	.dma_alignment = 3,
};

int dml_replay_nvme_opt(struct dml_replay_nvme_opts *o, int c, const char *arg)
{
	unsigned int i;

	if (c == 'd') {
		if (strcmp(arg, "dma") && strcmp(arg, "nvme")) {
			fprintf(stderr, "dmalink replay: unknown device '%s'\n", arg);
			return -EINVAL;
		}
		o->device = !strcmp(arg, "nvme");
		return 0;
	}
	if (c == 'V') {
		o->vfio = arg;
		return 0;
	}
	if (c == 'Y') {
		o->image = arg;
		return 0;
	}
	if (c == 'N') {
		if (dml_tool_parse_u64(arg, 0, &o->ns_bytes) || o->ns_bytes < (1ULL << 20) ||
		    o->ns_bytes > (2ULL << 30) || o->ns_bytes % 4096) {
			fprintf(stderr, "dmalink replay: bad value '%s'\n", arg);
			return -EINVAL;
		}
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(sgl_name); i++) {
		if (!strcmp(arg, sgl_name[i])) {
			o->sgl = (enum dml_nvme_sgl_mode)i;
			o->sgl_given = true;
			return 0;
		}
	}
	fprintf(stderr, "dmalink replay: unknown --sgl '%s'\n", arg);
	return -EINVAL;
}

void dml_replay_nvme_usage(FILE *f)
{
	fprintf(f,
		"      --device dma|nvme    the replaying device (default dma, the DMA\n"
		"                           engine); nvme: an emulated NVMe controller, each\n"
		"                           request as Read/Write commands mapped as nvme-pci\n"
		"                           does (iova: the request DMA iterator, page: per\n"
		"                           segment, sg: the scatterlist); writes carry a\n"
		"                           pattern, reads are verified against them; CPU\n"
		"                           shares: map%% mapping, drv%% driver, ctrl%% the\n"
		"                           controller's own work, data%% moving the data\n"
		"                           bytes (a real controller's DMA engine)\n"
		"      --sgl auto|always|never       nvme: data pointer as SGLs (default\n"
		"                           auto: average segment >= 32 KiB) or PRPs\n"
		"      --namespace BYTES    nvme: bytes of namespace 1 replayed, from 0\n"
		"                           (default 64 MiB; 1 MiB to 2 GiB); offsets wrap\n"
		"      --vfio BDF           nvme: the real controller at BDF, bound to\n"
		"                           vfio-pci, instead of the emulated one; buffers\n"
		"                           are 4 KiB pages in descending order\n"
		"      --image FILE         nvme: write what the namespace must hold at the\n"
		"                           end (--namespace bytes) to FILE\n");
}

static int nvme_check(const struct replay_opts *o)
{
	const char *why = NULL;

	if (!o->nvme.device)
		why = "--sgl, --namespace, --vfio and --image need --device nvme";
	else if (o->bounce || o->plot)
		why = "--device nvme takes no --bounce or --plot";
	else if (o->nvme.vfio && (o->no_iommu || o->lazy || o->caching_mode))
		why = "--vfio takes no --no-iommu, --lazy or --caching-mode";
	if (!why)
		return 0;
	fprintf(stderr, "dmalink replay: %s\n", why);
	return -EINVAL;
}

/* the emulated machine: an NVMe controller behind an IOMMU (or not) */
static int setup_emu(struct nvme_replay *r, struct dml_nvme_opts *no)
{
	const struct replay_opts *o = r->o;
	struct dml_emu_opts eo = { .size = DML_SIZEOF(&eo, seed),
				   .ram_size = 64ULL << 30, .seed = o->seed };
	struct dml_iommu_opts io = { .size = DML_SIZEOF(&io, superpages),
				     .levels = o->levels, .caching_mode = o->caching_mode,
				     .lazy = o->lazy, .superpages = true };
	struct dml_device_opts dop = { .size = DML_SIZEOF(&dop, dma_min_align_mask),
				       .name = "nvme0", .source_id = 0x0100, .pci = true,
				       .max_segment_size = 0xffffffffu,
				       .dma_min_align_mask = 4095 };
	int ret;

	no->emu_blocks = r->ns_bytes / 512;
	ret = dml_platform_create_emu(&eo, &r->p);
	if (!ret && !o->no_iommu) {
		ret = dml_iommu_create(r->p, &io, &r->iommu);
		dop.iommu = r->iommu;
	}
	if (!ret)
		ret = dml_device_create(r->p, &dop, &r->dev);
	if (!ret)
		ret = dml_layout_create(r->p, o->layout, &r->layout);
	return ret;
}

/* --vfio: the controller at that address, buffers from an anonymous pool */
static int setup_vfio(struct nvme_replay *r)
{
	int ret;

	ret = dml_platform_create_vfio(NULL, &r->p);
	if (!ret)
		ret = dml_vfio_device_open(r->p, r->o->nvme.vfio, &r->dev);
	if (!ret)
		ret = dma_set_mask_and_coherent(r->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	r->pool_bytes = 2 * (r->o->max_request + 4096);
	r->pool = mmap(NULL, r->pool_bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->pool == MAP_FAILED) {
		r->pool = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int nvme_setup(struct nvme_replay *r)
{
	const struct replay_opts *o = r->o;
	struct dml_nvme_opts no = { .size = DML_SIZEOF(&no, account_time),
				    .sgl = o->nvme.sgl, .queue_depth = BATCH + 1,
				    .account_time = true };
	unsigned int i;
	int ret;

	r->ns_bytes = o->nvme.ns_bytes ? o->nvme.ns_bytes : DEFAULT_NS_BYTES;
	ret = o->nvme.vfio ? setup_vfio(r) : setup_emu(r, &no);
	if (!ret)
		ret = dml_nvme_open(r->dev, &no, &r->n);
	if (!ret)
		ret = dml_nvme_ns_info(r->n, &r->info);
	if (ret)
		return ret;
	r->ns_bytes = min(r->ns_bytes, r->info.blocks * r->info.block_size);
	if (r->ns_bytes < r->info.max_transfer)
		return -ENOSPC;	/* one command must fit */
	/* the same commands on every controller, so --image is comparable */
	if (!r->info.max_transfer || r->info.max_transfer > MAX_CMD_BYTES)
		r->info.max_transfer = MAX_CMD_BYTES;
	r->max_ranges = (unsigned int)(o->max_request / 4096) + 1;
	r->ranges = calloc(r->max_ranges, sizeof(*r->ranges));
	r->shadow = calloc(1, r->ns_bytes);
	r->cmds = calloc(BATCH, sizeof(*r->cmds));
	if (!r->ranges || !r->shadow || !r->cmds)
		return -ENOMEM;
	for (i = 0; i < BATCH; i++) {
		r->cmds[i].vecs = calloc(r->info.max_transfer / 4096 + 1, sizeof(struct bio_vec));
		r->cmds[i].buf = malloc(r->info.max_transfer);
		if (!r->cmds[i].vecs || !r->cmds[i].buf)
			return -ENOMEM;
	}
	return 0;
}

/* --image: what the namespace must now hold, for a check from outside */
static int write_image(const struct nvme_replay *r, const char *path)
{
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(r->shadow, 1, r->ns_bytes, f) == r->ns_bytes;

	if (f && fclose(f))
		ok = false;
	if (!ok)
		fprintf(stderr, "dmalink replay: cannot write %s: %s\n", path, strerror(errno));
	return ok ? 0 : -EIO;
}

/*
 * A buffer of @bytes: from the layout policy on emu; on vfio its 4 KiB
 * pages in descending order with a page between each two in the pool
 * (the 4k-descending layout, never merged), phys_addr_t being the
 * process's virtual address there.
 */
static int buf_alloc(struct nvme_replay *r, u64 bytes, unsigned int *nr)
{
	unsigned int n = (unsigned int)DIV_ROUND_UP(bytes, 4096), i;

	if (!r->pool)
		return dml_layout_alloc(r->layout, bytes, r->ranges, r->max_ranges, nr);
	if (n > r->max_ranges || 2ULL * n * 4096 > r->pool_bytes)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		r->ranges[i].phys = (phys_addr_t)(uintptr_t)(r->pool + 2ULL * (n - 1 - i) * 4096);
		r->ranges[i].len = min(4096ULL, bytes - (u64)i * 4096);
	}
	*nr = n;
	return 0;
}

static void buf_free(struct nvme_replay *r, unsigned int nr)
{
	if (!r->pool)
		dml_layout_free(r->layout, r->ranges, nr);
}

static u8 *cpu_ptr(struct nvme_replay *r, phys_addr_t phys, u32 len)
{
	return r->pool ? (u8 *)(uintptr_t)phys : dml_kmap_local_phys(r->p, phys, len);
}

/* the pieces of [@off, +@len) of the request's buffer into @c */
static void pieces(struct nvme_replay *r, struct nvme_cmd *c, unsigned int nr, u64 off,
		   u64 len)
{
	unsigned short n = 0;
	unsigned int i;

	for (i = 0; i < nr && len; i++) {
		u64 take;

		if (off >= r->ranges[i].len) {
			off -= r->ranges[i].len;
			continue;
		}
		take = min(r->ranges[i].len - off, len);
		c->vecs[n].bv_phys = r->ranges[i].phys + off;
		c->vecs[n++].bv_len = (u32)take;
		len -= take;
		off = 0;
	}
	c->b = (struct bio){ .bi_io_vec = c->vecs, .bi_vcnt = n };
}

/* CPU copy between @c's pieces and its flat buffer */
static int cpu_copy(struct nvme_replay *r, struct nvme_cmd *c, bool to_mem)
{
	u8 *b = c->buf;
	unsigned short i;

	for (i = 0; i < c->b.bi_vcnt; i++) {
		u8 *host = cpu_ptr(r, c->vecs[i].bv_phys, c->vecs[i].bv_len);

		if (!host)
			return -EFAULT;
		if (to_mem)
			memcpy(host, b, c->vecs[i].bv_len);
		else
			memcpy(b, host, c->vecs[i].bv_len);
		b += c->vecs[i].bv_len;
	}
	return 0;
}

/* the batch's commands to the controller, all in flight, then each checked */
static void flush(struct nvme_replay *r, enum strategy s, bool write)
{
	struct nvme_stats *st = &r->st[s];
	unsigned int i;

	if (!r->nr_cmds)
		return;
	dml_nvme_rw_many(r->n, r->rqs, r->ios, r->nr_cmds);
	for (i = 0; i < r->nr_cmds; i++) {
		struct nvme_cmd *c = &r->cmds[i];
		struct dml_nvme_io *io = &r->ios[i];

		st->commands++;
		if (io->result) {
			if (!st->errors++)
				fprintf(stderr, "dmalink replay: %s: %s of %u bytes at LBA %llu: %s (status %#x)\n",
					dml_replay_strategy_name[s], write ? "write" : "read",
					c->len, (unsigned long long)io->slba,
					strerror(-io->result), io->status);
			continue;
		}
		st->path[io->path]++;
		st->sgl += io->sgl;
		st->desc_bytes += io->desc_bytes;
		st->map_ns += io->map_ns;
		st->dev_ns += io->dev_ns;
		st->data_ns += io->data_ns;
		st->total_ns += io->total_ns;
		if (write) {
			memcpy(r->shadow + c->nsoff, c->buf, c->len);	/* it landed */
			continue;
		}
		st->read_bytes += c->len;
		if (cpu_copy(r, c, false) || memcmp(c->buf, r->shadow + c->nsoff, c->len)) {
			if (!st->mismatches++)
				fprintf(stderr, "dmalink replay: %s: read of %u bytes at LBA %llu differs from what was written\n",
					dml_replay_strategy_name[s], c->len,
					(unsigned long long)io->slba);
			continue;
		}
		st->verified += c->len;
	}
	r->nr_cmds = 0;
}

/* does [@nsoff, +@len) overlap a command of the batch? */
static bool overlaps(const struct nvme_replay *r, u64 nsoff, u32 len)
{
	unsigned int i;

	for (i = 0; i < r->nr_cmds; i++)
		if (nsoff < r->cmds[i].nsoff + r->cmds[i].len && r->cmds[i].nsoff < nsoff + len)
			return true;
	return false;
}

/* one command into the batch: [@off, +@len) of the buffer at byte @nsoff */
static void add_cmd(struct nvme_replay *r, enum strategy s, unsigned int nr, u64 off,
		    u32 len, u64 nsoff, bool write, u64 seed)
{
	struct nvme_cmd *c;
	u32 p;

	if (r->nr_cmds == BATCH || overlaps(r, nsoff, len))
		flush(r, s, write);	/* commands in flight are not ordered */
	c = &r->cmds[r->nr_cmds];
	c->nsoff = nsoff;
	c->len = len;
	pieces(r, c, nr, off, len);
	/* per 4 KiB of the request: the same bytes whatever the command size */
	for (p = 0; write && p < len; p += 4096)
		dml_replay_pattern(c->buf + p, min(4096u, len - p), seed + (off + p) / 4096);
	if (!write)
		memset(c->buf, POISON, len);
	r->ios[r->nr_cmds] = (struct dml_nvme_io){ .slba = nsoff / r->info.block_size,
						   .strategy = nvme_strategy[s],
						   .result = -EINVAL };
	r->rqs[r->nr_cmds] = &c->rq;
	if (cpu_copy(r, c, true) ||
	    dml_blk_rq_init(&c->rq, &nvme_limits, write ? DMA_TO_DEVICE : DMA_FROM_DEVICE,
			    &c->b)) {
		r->st[s].commands++;
		r->st[s].errors++;
		return;
	}
	r->nr_cmds++;
}

/*
 * A request as commands of at most MDTS, with strategy @s, in flight
 * together (up to BATCH; nvme-pci has the pieces of a split bio in flight
 * at once too).
 */
static void run_request(struct nvme_replay *r, enum strategy s, unsigned int nr,
			const struct dml_trace_req *req, u64 bytes, u64 seed)
{
	u64 ns_bytes = r->ns_bytes, off;
	u32 bs = r->info.block_size;

	r->st[s].requests++;
	r->st[s].bytes += bytes;
	for (off = 0; off < bytes; off += r->info.max_transfer) {
		u32 len = (u32)min((u64)r->info.max_transfer, bytes - off);
		u64 nsoff = (req->offset / bs * bs + off) % ns_bytes;

		if (nsoff + len > ns_bytes)
			nsoff = ns_bytes - len;
		add_cmd(r, s, nr, off, len, nsoff, req->write, seed << 20);
	}
	flush(r, s, req->write);
}

/*
 * Write zeros over the whole namespace once, uncounted: the emulated
 * controller's media is memory its first write to each page faults in,
 * which a real controller's media does not do (it cost 90% of the
 * replay's CPU time on a cold namespace).  The shadow is zero already.
 */
static int warm_namespace(struct nvme_replay *r)
{
	u64 ns_bytes = r->ns_bytes, off;
	unsigned int nr;
	int ret;

	ret = buf_alloc(r, r->info.max_transfer, &nr);
	if (ret)
		return ret;
	for (off = 0; !ret && off < ns_bytes; off += r->info.max_transfer) {
		u32 len = (u32)min((u64)r->info.max_transfer, ns_bytes - off);
		struct nvme_cmd *c = &r->cmds[0];
		struct dml_nvme_io io = { .slba = off / r->info.block_size };

		pieces(r, c, nr, 0, len);
		ret = dml_blk_rq_init(&c->rq, &nvme_limits, DMA_TO_DEVICE, &c->b);
		if (!ret)
			ret = dml_nvme_rw(r->n, &c->rq, &io);
	}
	buf_free(r, nr);
	return ret;
}

/* the shares of the CPU time, %: they add up to 100 */
struct cpu_share {
	double map, drv, ctrl, data;
};

static struct cpu_share share(const struct nvme_stats *st)
{
	double t = st->total_ns ? (double)st->total_ns : 1.0;
	struct cpu_share c = {
		.map = 100.0 * (double)st->map_ns / t,
		.ctrl = 100.0 * (double)(st->dev_ns - st->data_ns) / t,
		.data = 100.0 * (double)st->data_ns / t,
	};

	c.drv = st->total_ns ? 100.0 - c.map - c.ctrl - c.data : 0.0;
	return c;
}

static void nvme_report(const struct nvme_replay *r, const char *trace, const char *fmt,
			u64 faults)
{
	const struct replay_opts *o = r->o;
	struct cpu_share c;
	int s, k;

	if (o->json) {
		printf("{\"trace\":\"%s\",\"format\":\"%s\",\"device\":\"nvme\",\"sgl\":\"%s\","
		       "\"vfio\":%s,\"sgl_supported\":%s,\"iommu\":%s,\"faults\":%llu,"
		       "\"strategies\":[", trace, fmt, sgl_name[o->nvme.sgl],
		       o->nvme.vfio ? "true" : "false", r->info.sgl_supported ? "true" : "false",
		       r->iommu || o->nvme.vfio ? "true" : "false", (unsigned long long)faults);
		for (s = 0, k = 0; s < S_NR; s++) {
			const struct nvme_stats *st = &r->st[s];

			if (!(o->strategies & (1u << s)))
				continue;
			c = share(st);
			printf("%s{\"name\":\"%s\",\"requests\":%llu,\"commands\":%llu,"
			       "\"bytes\":%llu,\"commands_per_s\":%.0f,"
			       "\"paths\":{\"simple\":%llu,\"iova\":%llu,\"page\":%llu,\"sg\":%llu},"
			       "\"sgl_commands\":%llu,\"desc_bytes\":%llu,"
			       "\"cpu_share\":{\"mapping\":%.1f,\"driver\":%.1f,\"controller\":%.1f,"
			       "\"device_data\":%.1f},"
			       "\"read_bytes\":%llu,\"verified\":%llu,\"mismatches\":%llu,"
			       "\"errors\":%llu}", k++ ? "," : "", dml_replay_strategy_name[s],
			       (unsigned long long)st->requests, (unsigned long long)st->commands,
			       (unsigned long long)st->bytes,
			       st->total_ns ? (double)st->commands * 1e9 / (double)st->total_ns : 0.0,
			       (unsigned long long)st->path[0], (unsigned long long)st->path[1],
			       (unsigned long long)st->path[2], (unsigned long long)st->path[3],
			       (unsigned long long)st->sgl, (unsigned long long)st->desc_bytes,
			       c.map, c.drv, c.ctrl, c.data, (unsigned long long)st->read_bytes,
			       (unsigned long long)st->verified,
			       (unsigned long long)st->mismatches, (unsigned long long)st->errors);
		}
		printf("]}\n");
		return;
	}
	printf("replay %s (%s) --device nvme: %s%s, %llu KiB of the namespace,\n"
	       "  MDTS %u KiB, SGLs %ssupported, --sgl %s, %s, layout %s\n", trace, fmt,
	       o->nvme.vfio ? "VFIO controller " : "emulated controller",
	       o->nvme.vfio ? o->nvme.vfio : "", (unsigned long long)(r->ns_bytes >> 10),
	       r->info.max_transfer >> 10, r->info.sgl_supported ? "" : "not ",
	       sgl_name[o->nvme.sgl], o->nvme.vfio ? "VFIO IOMMU" : r->iommu ? "IOMMU" :
	       "no IOMMU", o->nvme.vfio ? "4k-descending" : o->layout);
	printf("%-8s %9s %9s %10s %-23s %6s %9s %6s %6s %6s %6s %10s %6s\n", "strategy",
	       "requests", "commands", "cmds/s", "paths simple/iova/page/sg", "sgl%",
	       "desc B/rq", "map%", "drv%", "ctrl%", "data%", "mismatches", "errors");
	for (s = 0; s < S_NR; s++) {
		const struct nvme_stats *st = &r->st[s];
		char paths[64];

		if (!(o->strategies & (1u << s)))
			continue;
		c = share(st);
		snprintf(paths, sizeof(paths), "%llu/%llu/%llu/%llu",
			 (unsigned long long)st->path[0], (unsigned long long)st->path[1],
			 (unsigned long long)st->path[2], (unsigned long long)st->path[3]);
		printf("%-8s %9llu %9llu %10.0f %-23s %6.1f %9.1f %6.1f %6.1f %6.1f %6.1f %10llu %6llu\n",
		       dml_replay_strategy_name[s], (unsigned long long)st->requests,
		       (unsigned long long)st->commands,
		       st->total_ns ? (double)st->commands * 1e9 / (double)st->total_ns : 0.0,
		       paths, st->commands ? 100.0 * (double)st->sgl / (double)st->commands : 0.0,
		       st->requests ? (double)st->desc_bytes / (double)st->requests : 0.0,
		       c.map, c.drv, c.ctrl, c.data, (unsigned long long)st->mismatches,
		       (unsigned long long)st->errors);
	}
	printf("cmds/s: commands per second of CPU time in dml_nvme_rw(); its shares,\n"
	       "adding up to 100: map%%: mapping (map + unmap, the strategy's structures\n"
	       "included); drv%%: the driver (command, rings, polling); ctrl%%: the\n"
	       "emulated controller's own work (command fetch, PRP/SGL walk,\n"
	       "completion); data%%: the emulated device moving the data bytes (each\n"
	       "piece translated by the emulated IOMMU and copied), which a real\n"
	       "controller's DMA engine does without the CPU.  desc B/rq: PRP or SGL\n"
	       "list bytes per request.  faults: %llu; bytes read and verified:",
	       (unsigned long long)faults);
	for (s = 0; s < S_NR; s++)
		if (o->strategies & (1u << s))
			printf(" %s %llu", dml_replay_strategy_name[s],
			       (unsigned long long)r->st[s].verified);
	printf("\n");
}

int dml_replay_nvme(const struct replay_opts *o, const char *trace)
{
	struct nvme_replay r = { .o = o };
	struct dml_trace *t = NULL;
	struct dml_trace_req req;
	u64 n = 0, faults;
	char err[512];
	int ret, s, k;

	if (nvme_check(o))
		return 2;
	ret = dml_trace_open_format(trace, o->p2p.format, o->max_request, &t, err,
				    sizeof(err));
	if (ret) {
		fprintf(stderr, "dmalink replay: %s\n", err);
		return 2;
	}
	ret = nvme_setup(&r);
	if (!ret)
		ret = warm_namespace(&r);
	if (ret) {
		fprintf(stderr, "dmalink replay: cannot set up the NVMe controller: %s\n",
			strerror(-ret));
		ret = 2;
		goto out;
	}
	while (!o->limit || n < o->limit) {
		unsigned int nr;
		u64 bytes;

		ret = dml_trace_next(t, &req, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "dmalink replay: %s\n", err);
			ret = 2;
			goto out;
		}
		if (!ret)
			break;
		/* whole blocks, as the block layer sends them */
		bytes = DIV_ROUND_UP(req.bytes, r.info.block_size) * r.info.block_size;
		ret = buf_alloc(&r, bytes, &nr);
		if (ret) {
			fprintf(stderr, "dmalink replay: line %llu: cannot allocate %llu bytes: %s\n",
				(unsigned long long)req.line, (unsigned long long)bytes,
				strerror(-ret));
			ret = 2;
			goto out;
		}
		/* each request starts with the next strategy: none is always first */
		for (k = 0; k < S_NR; k++) {
			s = (int)((n + k) % S_NR);
			if (o->strategies & (1u << s))
				run_request(&r, (enum strategy)s, nr, &req, bytes, n * S_NR + s);
		}
		buf_free(&r, nr);
		n++;
	}
	faults = o->nvme.vfio ? 0 : r.iommu ? dml_iommu_fault_count(r.iommu) :
		 dml_platform_fault_count(r.p);
	nvme_report(&r, trace, dml_trace_format_name(t), faults);
	ret = faults ? 1 : 0;
	if (o->nvme.image && write_image(&r, o->nvme.image))
		ret = 1;
	for (s = 0; s < S_NR; s++)
		if (r.st[s].mismatches || r.st[s].errors)
			ret = 1;
out:
	dml_trace_close(t);
	dml_nvme_close(r.n);
	dml_layout_destroy(r.layout);
	dml_platform_destroy(r.p);
	for (s = 0; r.cmds && s < BATCH; s++) {
		free(r.cmds[s].vecs);
		free(r.cmds[s].buf);
	}
	free(r.cmds);
	free(r.ranges);
	free(r.shadow);
	if (r.pool)
		munmap(r.pool, r.pool_bytes);
	return ret;
}
