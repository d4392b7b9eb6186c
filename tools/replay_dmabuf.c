/* SPDX-License-Identifier: MIT */
/*
 * replay_dmabuf.c - `dmalink replay --target dmabuf TRACE`: each request's
 * buffer is a dma-buf from one of the library's exporters, and the device
 * reaches it only through one of the library's importers
 * (dmalink/dma-buf-exporter.h, dmalink/dma-buf-importer.h):
 *   exporters  heap   the system heap: RAM with a memmap, 4k-descending
 *              ram    RAM without a memmap, bump-placed in its own region
 *              vram   device memory of a peer (stays in VRAM: the
 *                     replaying device takes peer memory)
 *              bar    the VFIO-BAR-like exporter of one range of the BAR
 *   importers  rdma   dynamic, PAL mapped with the two-step API
 *              iommufd pinned, one range at its own IOVA
 *              static dma_buf_attach, SGT, pinned while mapped
 * The peer sits behind another root port of a whitelisted host bridge, so
 * its memory is mapped through the IOMMU (THRU_HOST_BRIDGE).  A request:
 * the CPU fills the buffer (a write) through begin_cpu_access and
 * dma_buf_mmap, the importer maps it, the device moves the bytes at the
 * addresses the importer gives, the importer is destroyed, and the CPU
 * checks the buffer (a read) the same way.  The cost reported is the
 * importer's: import and map, the address lookups, unmap and destroy, in
 * ns per request (mean, standard deviation), as the kernel's
 * dma_map_benchmark reports it; the exporter's allocation is not in it.
 * A pair the exporter refuses (a static importer of the BAR, iommufd of a
 * buffer of many ranges) counts as refused.
 *
 * --dmabuf-move N (vram only): every N-th request's buffer moves to the
 * other memory (VRAM or system) after a third of its bytes went and back
 * after two thirds, with dml_vram_dma_buf_migrate(), while imported.  The
 * importer must have been told (one more invalidation, no mapping left);
 * before its next address lookup it maps again (counted as a re-map, in
 * its cost), and the rest of the bytes go to the new place; the CPU still
 * checks every byte.  A pinned importer (iommufd; static while mapped)
 * makes the exporter refuse the move with -EBUSY: the move is counted as
 * busy, the buffer stays where it is and the request goes on there.  The
 * moves themselves are the exporter's cost, not in the importer's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dmalink/dma-buf-exporter.h>
#include <dmalink/dma-buf-importer.h>

#include "replay.h"
#include "trace.h"

enum { E_HEAP, E_RAM, E_VRAM, E_BAR, E_NR };
static const char *const exporter_name[E_NR] = { "heap", "ram", "vram", "bar" };
static const char *const importer_name[] = { "rdma", "iommufd", "static" };

#define PG		4096ULL	/* the pages dma_buf_mmap() counts in */
#define NOMAP_BASE	0x100000000ULL
#define PEER_BAR	0x3000000000ULL

static const char dmabuf_topology[] =
	"cpu intel 6\n"
	"host     hb0  0000:00  8086:2020\n"
	"rootport rp0  hb0  01.0  8086:2030\n"
	"rootport rp1  hb0  02.0  8086:2030\n"
	"endpoint replay-dma  rp0  00.0  1b36:0010\n"
	"endpoint peer        rp1  00.0  10de:20b0\n"
	"bar peer 0 0x3000000000 256M\n";

struct dmabuf_stats {
	u64 requests, bytes, segments, verified, mismatches, refused, faults;
	u64 moves, moves_to_vram, move_busy, remaps;
	u64 timed;
	double ns, ns2;		/* sum and sum of squares of the cost */
};

struct rd {
	const struct dml_replay_dmabuf_opts *o;
	int exp, imp;
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
	struct dml_pci_dev *peer;
	u64 region;		/* bytes of the bump-placed region (ram, vram, bar) */
	u64 next;
	u64 bar_off;		/* bar: where the buffer lies in the BAR */
	u8 *devbuf, *expect;
	struct dmabuf_stats st;
};

static int pick(const char *arg, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(arg, names[i]))
			return i;
	return -1;
}

void dml_replay_dmabuf_usage(FILE *f)
{
	fprintf(f,
		"      --target dmabuf      buffers are dma-bufs from an exporter, mapped\n"
		"                           by an importer; every byte is verified\n"
		"      --dmabuf-exporter heap|ram|vram|bar  dmabuf: the exporter (heap)\n"
		"      --dmabuf-importer rdma|iommufd|static dmabuf: the importer (rdma)\n"
		"      --dmabuf-move N      dmabuf, vram: every N-th request's buffer moves\n"
		"                           to the other memory and back mid-transfer; the\n"
		"                           importer maps again (a pinned one: busy)\n");
}

int dml_replay_dmabuf_opt(struct dml_replay_dmabuf_opts *o, int c,
			  const char *arg)
{
	if (c == 'T') {
		o->target = !strcmp(arg, "dmabuf");
		return 0;
	}
	if (c == 'X' && pick(arg, exporter_name, E_NR) >= 0) {
		o->exporter = arg;
		return 0;
	}
	if (c == 'I' && pick(arg, importer_name, 3) >= 0) {
		o->importer = arg;
		return 0;
	}
	if (c == 'M') {
		if (!dml_tool_parse_u64(arg, 0, &o->move) && o->move)
			return 0;
		fprintf(stderr, "dmalink replay: bad --dmabuf-move '%s'\n", arg);
		return -EINVAL;
	}
	fprintf(stderr, "dmalink replay: unknown dma-buf %s '%s'\n",
		c == 'X' ? "exporter" : "importer", arg);
	return -EINVAL;
}

int dml_replay_dmabuf_check(const struct dml_replay_dmabuf_opts *o, bool other)
{
	const char *why = NULL;

	if (!o->target && (o->exporter || o->importer || o->move))
		why = "--dmabuf-exporter, --dmabuf-importer and --dmabuf-move need --target dmabuf";
	else if (o->target && other)
		why = "--target dmabuf takes no --layout, --levels, --lazy, --caching-mode, --bounce, --plot or --topology";
	else if (o->move && (!o->exporter || strcmp(o->exporter, "vram")))
		why = "--dmabuf-move needs --dmabuf-exporter vram (the exporter that migrates)";
	if (!why)
		return 0;
	fprintf(stderr, "dmalink replay: %s\n", why);
	return -EINVAL;
}

static u64 now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static u64 dev_faults(struct rd *r)
{
	struct dml_dev_stats ds;

	dml_dev_get_stats(r->dev, &ds);
	return ds.faults + (r->iommu ? dml_iommu_fault_count(r->iommu) : 0);
}

static int setup(struct rd *r)
{
	struct dml_emu_opts eo = { .size = DML_SIZEOF(&eo, ram_size),
				   .ram_size = 256ULL << 20 };
	struct dml_device_opts dop = { .size = DML_SIZEOF(&dop, pci_dev) };
	struct dml_pci_dev *client = NULL, *pdev;
	char err[512];
	int ret;

	r->region = (r->o->max_request + (2 << 20)) & ~((2ULL << 20) - 1);
	if (r->region > (256ULL << 20))
		r->region = 256ULL << 20;
	ret = dml_platform_create_emu(&eo, &r->p);
	if (!ret)
		ret = dml_pci_topology_parse(r->p, dmabuf_topology,
					     strlen(dmabuf_topology), "<built-in>",
					     err, sizeof(err));
	if (ret)
		goto fail;
	for (pdev = dml_pci_walk(r->p, NULL); pdev; pdev = dml_pci_walk(r->p, pdev)) {
		struct dml_pci_info in;

		dml_pci_get_info(pdev, &in);
		if (!strcmp(in.name, "replay-dma"))
			client = pdev;
		else if (!strcmp(in.name, "peer"))
			r->peer = pdev;
	}
	if (!r->o->no_iommu) {
		ret = dml_iommu_create(r->p, NULL, &r->iommu);
		if (ret)
			goto fail;
		dop.iommu = r->iommu;
	}
	dop.name = "replay-dma";
	dop.pci_dev = client;
	ret = dml_device_create(r->p, &dop, &r->dev);
	if (!ret)
		ret = pcim_p2pdma_init(r->peer);
	if (!ret && r->exp == E_RAM)
		ret = dml_ram_add(r->p, NOMAP_BASE, r->region, DML_RAM_NO_MEMMAP);
	if (!ret)
		return 0;
fail:
	fprintf(stderr, "dmalink replay: cannot set up the platform: %s\n",
		strerror(-ret));
	return ret;
}

/* bump placement of @bytes (page multiple) in the region, wrapping */
static u64 place(struct rd *r, u64 bytes)
{
	u64 off;

	if (r->next + bytes > r->region)
		r->next = 0;
	off = r->next;
	r->next += bytes;
	return off;
}

static int export(struct rd *r, u64 bytes, struct dma_buf **out)
{
	struct dml_dma_buf_range range;

	switch (r->exp) {
	case E_HEAP:
		return dml_system_heap_alloc(r->p, NULL, bytes, out);
	case E_RAM:
		return dml_ram_dma_buf_export(r->p, NOMAP_BASE + place(r, bytes),
					      bytes, out);
	case E_VRAM:
		return dml_vram_dma_buf_export(r->peer, 0, place(r, bytes), bytes,
					       out);
	default:
		r->bar_off = range.offset = place(r, bytes);
		range.length = bytes;
		return dml_pci_bar_dma_buf_export(r->peer, 0, &range, 1, out);
	}
}

/*
 * the CPU's side: copy @len bytes into the buffer (@to_buf) or compare
 * them with it, through the exporter (begin/end_cpu_access, a page at a
 * time through dma_buf_mmap); the BAR exporter has no mmap, like VFIO's,
 * and the device's owner reaches the BAR through its own mapping of it
 */
static bool cpu_access(struct rd *r, struct dma_buf *buf, u8 *data, u64 len,
		       bool to_buf)
{
	enum dma_data_direction dir = to_buf ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	bool same = true;
	u64 off;

	if (dma_buf_begin_cpu_access(buf, dir))
		return false;
	for (off = 0; off < len; off += PG) {
		u64 n = len - off < PG ? len - off : PG;
		void *m;

		if (r->exp == E_BAR)
			m = dml_kmap_local_phys(r->p, PEER_BAR + r->bar_off + off, n);
		else if (dma_buf_mmap(buf, off / PG, n, &m))
			m = NULL;
		if (!m) {
			same = false;
			break;
		}
		if (to_buf)
			memcpy(m, data + off, n);
		else if (memcmp(m, data + off, n))
			same = false;
	}
	dma_buf_end_cpu_access(buf, dir);
	return same;
}

/*
 * --dmabuf-move: move @buf to the other memory under @imp
 * Return: 1 moved and the importer was told (one more invalidation, its
 * mapping dropped); 0 the exporter refused for a pin (-EBUSY); -1 the
 * move failed or the importer was not told.
 */
static int move(struct rd *r, struct dma_buf *buf,
		struct dml_dma_buf_importer *imp)
{
	u64 inval = dml_dma_buf_importer_invalidations(imp);
	bool to_vram = !dml_vram_dma_buf_in_vram(buf);
	int ret = dml_vram_dma_buf_migrate(buf, to_vram);

	if (ret == -EBUSY) {
		r->st.move_busy++;
		return 0;
	}
	if (ret) {
		fprintf(stderr, "dmalink replay: move to %s: %s\n",
			to_vram ? "VRAM" : "system memory", strerror(-ret));
		return -1;
	}
	r->st.moves++;
	r->st.moves_to_vram += to_vram;
	if (dml_dma_buf_importer_invalidations(imp) == inval + 1 &&
	    !dml_dma_buf_importer_mapped(imp))
		return 1;
	fprintf(stderr, "dmalink replay: the importer was not told of a move\n");
	return -1;
}

/* one request: export, fill, import, transfer, destroy, verify */
static void run_one(struct rd *r, const struct dml_trace_req *req, u64 seed)
{
	enum dma_data_direction dir = req->write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	u64 bytes = (req->bytes + PG - 1) & ~(u64)(PG - 1);
	struct dmabuf_stats *st = &r->st;
	struct dml_dma_buf_importer *imp;
	u64 t0, t1, t2, t3, f0, off, n, segs = 0;
	/* --dmabuf-move: where the buffer moves away and back */
	u64 cut[2] = { req->bytes / 3, req->bytes / 3 * 2 };
	unsigned int k = r->o->move && (seed + 1) % r->o->move == 0 ? 0 : 2;
	struct dma_buf *buf;
	dma_addr_t dma;
	bool ok = true, remap = false;
	int ret;

	st->requests++;
	st->bytes += req->bytes;
	dml_replay_pattern(r->expect, req->bytes, seed);
	if (export(r, bytes, &buf)) {
		st->mismatches++;
		return;
	}
	if (req->write)
		ok = cpu_access(r, buf, r->expect, req->bytes, true);
	else
		memcpy(r->devbuf, r->expect, req->bytes);
	f0 = dev_faults(r);
	t0 = now();
	ret = dml_dma_buf_import(buf, r->dev, (enum dml_dma_buf_importer_type)r->imp,
				 dir, &imp);
	if (ret) {
		if (ret == -EOPNOTSUPP)
			st->refused++;
		else
			st->mismatches++;
		dma_buf_put(buf);
		return;
	}
	/* the device moves the bytes at each address the importer gives */
	for (off = 0; ok && off < req->bytes; off += n, segs++) {
		for (; ok && k < 2 && off >= cut[k]; k++) {
			t1 = now();
			ret = move(r, buf, imp);
			t0 += now() - t1;	/* the move is the exporter's */
			ok = ret >= 0;
			remap |= ret > 0;
		}
		if (ok && remap) {	/* as the RDMA importer's ODP fault */
			ok = !dml_dma_buf_importer_map(imp);
			st->remaps += ok;
			remap = false;
		}
		ok = ok && !dml_dma_buf_importer_dma(imp, off, &dma, &n);
		t1 = now();
		if (!ok)
			break;
		n = n < req->bytes - off ? n : req->bytes - off;
		if (k < 2 && n > cut[k] - off)
			n = cut[k] - off;
		ok = !(req->write ? dml_dev_dma_read(r->dev, dma, r->devbuf + off, n)
				  : dml_dev_dma_write(r->dev, dma, r->devbuf + off, n));
		t0 += now() - t1;	/* the transfer is not the importer's */
	}
	t2 = now();
	dml_dma_buf_importer_destroy(imp);
	t3 = now();
	st->faults += dev_faults(r) - f0;
	st->segments += segs;
	if (ok)
		ok = req->write ? !memcmp(r->devbuf, r->expect, req->bytes)
				: cpu_access(r, buf, r->expect, req->bytes, false);
	dma_buf_put(buf);
	if (ok)
		st->verified++;
	else
		st->mismatches++;
	st->timed++;
	st->ns += (double)(t2 - t0 + t3 - t2);
	st->ns2 += (double)(t2 - t0 + t3 - t2) * (double)(t2 - t0 + t3 - t2);
}

static void report(struct rd *r, const char *trace, const char *fmt)
{
	struct dmabuf_stats *st = &r->st;
	double mean = st->timed ? st->ns / (double)st->timed : 0.0;
	double var = st->timed ? st->ns2 / (double)st->timed - mean * mean : 0.0;
	double sd = var > 0 ? sqrt(var) : 0.0;
	double spr = st->requests ? (double)st->segments / (double)st->requests : 0;

	if (r->o->json) {
		printf("{\"trace\":\"%s\",\"format\":\"%s\",\"target\":\"dmabuf\","
		       "\"exporter\":\"%s\",\"importer\":\"%s\",\"iommu\":%s,"
		       "\"requests\":%llu,\"bytes\":%llu,\"segments\":%llu,"
		       "\"verified\":%llu,\"refused\":%llu,\"mismatches\":%llu,"
		       "\"faults\":%llu,\"moves\":%llu,\"moves_to_vram\":%llu,"
		       "\"move_busy\":%llu,\"remaps\":%llu,"
		       "\"importer_ns_mean\":%.1f,"
		       "\"importer_ns_sd\":%.1f}\n", trace, fmt,
		       exporter_name[r->exp], importer_name[r->imp],
		       r->iommu ? "true" : "false",
		       (unsigned long long)st->requests,
		       (unsigned long long)st->bytes,
		       (unsigned long long)st->segments,
		       (unsigned long long)st->verified,
		       (unsigned long long)st->refused,
		       (unsigned long long)st->mismatches,
		       (unsigned long long)st->faults,
		       (unsigned long long)st->moves,
		       (unsigned long long)st->moves_to_vram,
		       (unsigned long long)st->move_busy,
		       (unsigned long long)st->remaps, mean, sd);
		return;
	}
	printf("replay %s (%s) --target dmabuf: exporter %s, importer %s, %s\n",
	       trace, fmt, exporter_name[r->exp], importer_name[r->imp],
	       r->iommu ? "IOMMU" : "no IOMMU");
	printf("%-8s %-8s %9s %8s %9s %8s %10s %6s %17s", "exporter",
	       "importer", "requests", "seg/req", "verified", "refused",
	       "mismatches", "faults", "importer ns/req");
	if (r->o->move)
		printf(" %7s %7s %7s", "moves", "busy", "re-maps");
	printf("\n%-8s %-8s %9llu %8.2f %9llu %8llu %10llu %6llu %9.0f +- %-6.0f",
	       exporter_name[r->exp], importer_name[r->imp],
	       (unsigned long long)st->requests, spr,
	       (unsigned long long)st->verified, (unsigned long long)st->refused,
	       (unsigned long long)st->mismatches,
	       (unsigned long long)st->faults, mean, sd);
	if (r->o->move)
		printf(" %7llu %7llu %7llu", (unsigned long long)st->moves,
		       (unsigned long long)st->move_busy,
		       (unsigned long long)st->remaps);
	printf("\nimporter ns/req: import and map, address lookups, unmap and destroy\n"
	       "  (mean +- standard deviation); the exporter's allocation and the\n"
	       "  device's transfer are not in it\n");
	if (r->o->move)
		printf("moves: of the buffer under the importer, away and back in one\n"
		       "  request of every %llu (%llu to VRAM; not in the importer's cost);\n"
		       "  busy: moves a pinned importer refused; re-maps: the importer's\n"
		       "  maps after a move (in its cost)\n",
		       (unsigned long long)r->o->move,
		       (unsigned long long)st->moves_to_vram);
}

int dml_replay_dmabuf(const struct dml_replay_dmabuf_opts *o, const char *trace)
{
	struct rd r = { .o = o };
	struct dml_trace *t = NULL;
	struct dml_trace_req req;
	char err[512];
	u64 n = 0, maxb;
	int ret;

	r.exp = o->exporter ? pick(o->exporter, exporter_name, E_NR) : E_HEAP;
	r.imp = o->importer ? pick(o->importer, importer_name, 3) : 0;
	if (setup(&r)) {
		ret = 2;
		goto out;
	}
	maxb = o->max_request < r.region ? o->max_request : r.region;
	ret = dml_trace_open_format(trace, o->format, maxb, &t, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "dmalink replay: %s\n", err);
		ret = 2;
		goto out;
	}
	r.devbuf = malloc(maxb);
	r.expect = malloc(maxb);
	if (!r.devbuf || !r.expect) {
		fprintf(stderr, "dmalink replay: out of memory\n");
		ret = 2;
		goto out;
	}
	while (!o->limit || n < o->limit) {
		ret = dml_trace_next(t, &req, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "dmalink replay: %s\n", err);
			ret = 2;
			goto out;
		}
		if (!ret)
			break;
		run_one(&r, &req, n++);
	}
	report(&r, trace, dml_trace_format_name(t));
	ret = r.st.faults || r.st.mismatches ? 1 : 0;
out:
	dml_trace_close(t);
	dml_platform_destroy(r.p);
	free(r.devbuf);
	free(r.expect);
	return ret;
}
