/* SPDX-License-Identifier: MIT */
/*
 * replay_p2p.c - `dmalink replay --target p2p TRACE`: each request's buffer
 * lies in a peer device's BAR (an NVMe CMB or GPU memory in real life)
 * instead of host RAM.  The buffer is placed contiguously, by a bump
 * pointer that wraps, in the provider's BAR; the layout policies are host
 * RAM only.  The client classifies the buffer with pci_p2pdma_state() and
 * maps it with each strategy as the kernel's callers do for that type
 * (blk_rq_dma_map_iter_start() in block/blk-mq-dma.c):
 *   BUS_ADDR          page, iova: pci_p2pdma_bus_addr_map(), no IOMMU and
 *                     nothing to unmap; sg: dma_map_sgtable() marks the
 *                     segments as bus addresses
 *   THRU_HOST_BRIDGE  page: dma_map_phys(DMA_ATTR_MMIO); iova: the
 *                     two-step API with DMA_ATTR_MMIO; sg: dma_map_sgtable()
 *   NOT_SUPPORTED     page, iova: refused with -EREMOTEIO by the caller;
 *                     sg: dma_map_sgtable() returns -EREMOTEIO
 * The emulated device then moves the bytes (the fabric routes bus
 * addresses to the BAR) and the CPU's view of the BAR is checked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmalink/pci-p2pdma.h>
#include <dmalink/scatterlist.h>

#include "replay.h"
#include "trace.h"

/* in the bit order of struct dml_replay_p2p_opts.strategies */
enum { P_PAGE, P_SG, P_IOVA, P_NR };
static const char *const p2p_strategy_name[P_NR] = { "page", "sg", "iova" };

/* the replay device's max DMA segment, bytes, as replay.c's */
#define P2P_MAX_SEGMENT 65536U

/*
 * The built-in topology: the replaying device and the peer below one
 * switch (no ACS), so the peer's BAR is reached by bus address.
 */
static const char p2p_default_topology[] =
	"cpu intel 6\n"
	"host     hb0  0000:00  8086:2020\n"
	"rootport rp0  hb0  01.0  8086:2030  acs=sv,rr,cr,uf\n"
	"switch   sw0  rp0  00.0  10b5:8747  2  acs=none\n"
	"endpoint replay-dma  sw0.d0  00.0  1b36:0010\n"
	"endpoint peer        sw0.d1  00.0  10de:20b0\n"
	"bar peer 2 0x3000000000 128M offset=0x1000000000\n";

struct p2p_stats {
	u64 requests, bytes, segments, verified, mismatches, refused, faults;
	enum pci_p2pdma_map_type map;	/* the type of the last request */
};

struct p2p {
	const struct dml_replay_p2p_opts *o;
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
	struct dml_pci_info cin, pin;
	int bar;
	phys_addr_t base;		/* the BAR, CPU physical */
	u64 size;			/* bytes */
	u64 next;			/* bump placement offset in the BAR */
	u8 *devbuf, *expect;
	u64 buf_bytes;
	struct p2p_stats st[P_NR];
};

void dml_replay_p2p_usage(FILE *f)
{
	fprintf(f,
		"      --target ram|p2p     where buffers lie (default ram); p2p: in a\n"
		"                           peer's BAR, contiguous, bump-placed; the table\n"
		"                           shows each strategy's P2P map type\n"
		"      --topology FILE      p2p: topology (docs/topology.md); default a\n"
		"                           switch with the replaying device and a peer\n"
		"      --p2p-client NAME|BDF         p2p: with --topology, the replayer\n"
		"      --p2p-provider NAME|BDF[/BAR] p2p: with --topology, the BAR's owner\n"
		"                           (--layout, --lazy, --caching-mode, --levels and\n"
		"                           --bounce apply to --target ram only)\n");
}

int dml_replay_p2p_opt(struct dml_replay_p2p_opts *o, int c, const char *arg)
{
	if (c == 'T' && strcmp(arg, "ram") && strcmp(arg, "p2p") &&
	    strcmp(arg, "dmabuf")) {
		fprintf(stderr, "dmalink replay: unknown target '%s'\n", arg);
		return -EINVAL;
	}
	if (c == 'P')
		o->topology = arg;
	else if (c == 'c')
		o->client = arg;
	else if (c == 'p')
		o->provider = arg;
	else if (c == 'F')
		o->format = arg;	/* checked when the trace opens */
	else
		o->target = !strcmp(arg, "p2p");
	return 0;
}

int dml_replay_p2p_check(const struct dml_replay_p2p_opts *o, bool ram_only)
{
	const char *why = NULL;

	if (!o->target && (o->topology || o->client || o->provider))
		why = "--topology, --p2p-client and --p2p-provider need --target p2p";
	else if (o->target && ram_only)
		why = "--target p2p takes no --layout, --levels, --lazy, --caching-mode, --bounce or --plot";
	else if (o->target && !o->topology != !o->client)
		why = "--topology and --p2p-client go together";
	else if (o->target && !o->topology != !o->provider)
		why = "--topology and --p2p-provider go together";
	if (!why)
		return 0;
	fprintf(stderr, "dmalink replay: %s\n", why);
	return -EINVAL;
}

static const char *map_name(enum pci_p2pdma_map_type m)
{
	switch (m) {
	case PCI_P2PDMA_MAP_NONE:
		return "NONE";
	case PCI_P2PDMA_MAP_NOT_SUPPORTED:
		return "NOT_SUPPORTED";
	case PCI_P2PDMA_MAP_BUS_ADDR:
		return "BUS_ADDR";
	case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
		return "THRU_HOST_BRIDGE";
	default:
		return "UNKNOWN";
	}
}

static struct dml_pci_dev *p2p_find(struct dml_platform *p, const char *name,
				    size_t len)
{
	struct dml_pci_dev *pdev;

	for (pdev = dml_pci_walk(p, NULL); pdev; pdev = dml_pci_walk(p, pdev)) {
		struct dml_pci_info in;

		dml_pci_get_info(pdev, &in);
		if ((strlen(in.name) == len && !strncmp(in.name, name, len)) ||
		    (strlen(in.bdf) == len && !strncmp(in.bdf, name, len)))
			return pdev;
	}
	return NULL;
}

static u64 dev_faults(struct p2p *r)
{
	struct dml_dev_stats ds;

	dml_dev_get_stats(r->dev, &ds);
	return ds.faults + (r->iommu ? dml_iommu_fault_count(r->iommu) : 0);
}

/* the platform, the topology, the client device and the provider's BAR */
static int p2p_setup(struct p2p *r)
{
	const struct dml_replay_p2p_opts *o = r->o;
	struct dml_emu_opts eo = { .size = DML_SIZEOF(&eo, ram_size),
				   .ram_size = 64ULL << 20 };
	struct dml_device_opts dop = { .size = DML_SIZEOF(&dop, pci_dev) };
	const char *cname = o->topology ? o->client : "replay-dma";
	const char *pname = o->topology ? o->provider : "peer";
	struct dml_pci_dev *client, *prov;
	const char *slash = strchr(pname, '/');
	char *buf = NULL, err[512];
	size_t len;
	u64 v;
	int ret, i;

	ret = dml_platform_create_emu(&eo, &r->p);
	if (ret)
		goto fail;
	if (o->topology) {
		ret = dml_tool_read_file(o->topology, &buf, &len);
		if (ret) {
			fprintf(stderr, "dmalink replay: %s: %s\n", o->topology,
				strerror(-ret));
			return ret;
		}
		ret = dml_pci_topology_parse(r->p, buf, len, o->topology, err,
					     sizeof(err));
		free(buf);
	} else {
		ret = dml_pci_topology_parse(r->p, p2p_default_topology,
					     strlen(p2p_default_topology),
					     "<built-in>", err, sizeof(err));
	}
	if (ret) {
		fprintf(stderr, "dmalink replay: %s\n", err);
		return ret;
	}
	client = p2p_find(r->p, cname, strlen(cname));
	prov = p2p_find(r->p, pname, slash ? (size_t)(slash - pname) : strlen(pname));
	if (!client || !prov) {
		fprintf(stderr, "dmalink replay: no function '%s' in the topology\n",
			client ? pname : cname);
		return -EINVAL;
	}
	dml_pci_get_info(client, &r->cin);
	dml_pci_get_info(prov, &r->pin);
	if (client == prov || r->cin.type != DML_PCI_ENDPOINT ||
	    r->pin.type != DML_PCI_ENDPOINT) {
		fprintf(stderr, "dmalink replay: client and provider must be two endpoints\n");
		return -EINVAL;
	}
	r->bar = -1;
	if (slash) {
		if (dml_tool_parse_u64(slash + 1, 10, &v) || v >= PCI_STD_NUM_BARS ||
		    !r->pin.bar[v].size) {
			fprintf(stderr, "dmalink replay: %s has no BAR '%s'\n",
				r->pin.name, slash + 1);
			return -EINVAL;
		}
		r->bar = (int)v;
	}
	for (i = 0; r->bar < 0 && i < PCI_STD_NUM_BARS; i++)
		if (r->pin.bar[i].size)
			r->bar = i;
	if (r->bar < 0) {
		fprintf(stderr, "dmalink replay: %s has no memory BAR\n", r->pin.name);
		return -EINVAL;
	}
	r->base = r->pin.bar[r->bar].phys;
	r->size = r->pin.bar[r->bar].size;
	if (!o->no_iommu) {
		ret = dml_iommu_create(r->p, NULL, &r->iommu);
		if (ret)
			goto fail;
		dop.iommu = r->iommu;
	}
	dop.name = r->cin.name;
	dop.pci_dev = client;
	ret = dml_device_create(r->p, &dop, &r->dev);
	if (!ret)
		ret = pcim_p2pdma_init(prov);
	if (!ret)
		return 0;
fail:
	fprintf(stderr, "dmalink replay: cannot set up the platform: %s\n",
		strerror(-ret));
	return ret;
}

/* bump placement of @bytes in the BAR, page aligned, wrapping at its end */
static phys_addr_t p2p_place(struct p2p *r, u64 bytes)
{
	phys_addr_t phys;

	if (r->next + bytes > r->size)
		r->next = 0;
	phys = r->base + r->next;
	r->next = (r->next + bytes + 4095) & ~4095ULL;
	return phys;
}

/*
 * Map [@phys, +@bytes) with strategy @s for @map into @addr/@len (at most
 * DIV_ROUND_UP(@bytes, P2P_MAX_SEGMENT) segments), let the device move
 * the bytes, unmap.
 * Return: 0; -EREMOTEIO refused; -errno a mapping or transfer failure.
 */
static int p2p_xfer(struct p2p *r, int s, enum pci_p2pdma_map_type map,
		    struct pci_p2pdma_map_state *ps, phys_addr_t phys, u64 bytes,
		    bool write, dma_addr_t *addr, u64 *len, unsigned int *nseg)
{
	enum dma_data_direction dir = write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	unsigned long attrs = map == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE ? DMA_ATTR_MMIO : 0;
	struct dma_iova_state ist;
	struct sg_table sgt = { 0 };
	struct scatterlist *sg;
	bool iova = false, mapped_phys = false;
	unsigned int i, n = 0;
	u8 *b = r->devbuf;
	int ret = 0;

	if (map != PCI_P2PDMA_MAP_BUS_ADDR && map != PCI_P2PDMA_MAP_THRU_HOST_BRIDGE &&
	    s != P_SG)
		return -EREMOTEIO;	/* the caller refuses, as blk-mq-dma does */
	if (s == P_SG) {
		unsigned int nents = (unsigned int)DIV_ROUND_UP(bytes, P2P_MAX_SEGMENT);

		if (sg_alloc_table(&sgt, nents))
			return -ENOMEM;
		for_each_sg(sgt.sgl, sg, nents, i)
			sg_set_phys(sg, phys + (u64)i * P2P_MAX_SEGMENT,
				    (unsigned int)min((u64)P2P_MAX_SEGMENT,
						      bytes - (u64)i * P2P_MAX_SEGMENT));
		ret = dma_map_sgtable(r->dev, &sgt, dir, 0);
		if (ret) {
			sg_free_table(&sgt);
			return ret;
		}
		for_each_sg(sgt.sgl, sg, sgt.nents, i) {
			/* a bus-address peer must come back marked, others not */
			if (sg_dma_is_bus_address(sg) != (map == PCI_P2PDMA_MAP_BUS_ADDR))
				ret = -EINVAL;
			addr[n] = sg_dma_address(sg);
			len[n++] = sg_dma_len(sg);
		}
	} else if (map == PCI_P2PDMA_MAP_BUS_ADDR) {
		/* page and iova alike: the bus address, no IOMMU, no unmap */
		addr[n] = pci_p2pdma_bus_addr_map(ps->mem, phys);
		len[n++] = bytes;
	} else if (s == P_IOVA && dma_iova_try_alloc(r->dev, &ist, phys, bytes)) {
		iova = true;
		ret = dma_iova_link(r->dev, &ist, phys, 0, bytes, dir, attrs);
		if (!ret)
			ret = dma_iova_sync(r->dev, &ist, 0, bytes);
		if (ret) {
			dma_iova_destroy(r->dev, &ist, 0, dir, attrs);
			return ret;
		}
		addr[n] = ist.addr;
		len[n++] = bytes;
	} else {
		/* page, and iova's fallback without an IOMMU */
		addr[n] = dma_map_phys(r->dev, phys, bytes, dir, attrs);
		if (dma_mapping_error(r->dev, addr[n]))
			return -ENOMEM;
		mapped_phys = true;
		len[n++] = bytes;
	}
	for (i = 0; !ret && i < n; b += len[i], i++)
		ret = write ? dml_dev_dma_read(r->dev, addr[i], b, len[i])
			    : dml_dev_dma_write(r->dev, addr[i], b, len[i]);
	if (s == P_SG) {
		dma_unmap_sgtable(r->dev, &sgt, dir, 0);
		sg_free_table(&sgt);
	} else if (iova) {
		dma_iova_destroy(r->dev, &ist, bytes, dir, attrs);
	} else if (mapped_phys) {
		dma_unmap_phys(r->dev, addr[0], bytes, dir, attrs);
	}
	*nseg = n;
	return ret;
}

/* one request with strategy @s: fill, map, transfer, unmap, verify */
static void p2p_run_one(struct p2p *r, int s, const struct dml_trace_req *req,
		       u64 seed, dma_addr_t *addr, u64 *len)
{
	struct p2p_stats *st = &r->st[s];
	struct pci_p2pdma_map_state ps = { 0 };
	phys_addr_t phys = p2p_place(r, req->bytes);
	u8 *bar = dml_kmap_local_phys(r->p, phys, req->bytes);
	u64 f0 = dev_faults(r);
	unsigned int nseg = 0;
	int ret;

	st->requests++;
	st->bytes += req->bytes;
	if (!bar) {
		st->mismatches++;
		return;
	}
	st->map = pci_p2pdma_state(&ps, r->dev, phys);
	dml_replay_pattern(r->expect, req->bytes, seed);
	if (req->write) {
		memcpy(bar, r->expect, req->bytes);
		memset(r->devbuf, 0, req->bytes);
	} else {
		memset(bar, 0, req->bytes);
		memcpy(r->devbuf, r->expect, req->bytes);
	}
	ret = p2p_xfer(r, s, st->map, &ps, phys, req->bytes, req->write, addr,
		       len, &nseg);
	st->faults += dev_faults(r) - f0;
	st->segments += nseg;
	if (ret == -EREMOTEIO)
		st->refused++;
	else if (!ret && !memcmp(req->write ? r->devbuf : bar, r->expect, req->bytes))
		st->verified++;
	else
		st->mismatches++;
}

static void p2p_report(struct p2p *r, const char *trace, const char *fmt)
{
	const struct dml_pci_bar_info *b = &r->pin.bar[r->bar];
	int s;

	if (r->o->json) {
		printf("{\"trace\":\"%s\",\"format\":\"%s\",\"target\":\"p2p\","
		       "\"client\":\"%s\",\"provider\":\"%s\",\"bar\":%d,"
		       "\"iommu\":%s,\"strategies\":[", trace, fmt, r->cin.bdf,
		       r->pin.bdf, r->bar, r->iommu ? "true" : "false");
		for (s = 0; s < P_NR; s++) {
			struct p2p_stats *st = &r->st[s];

			if (!(r->o->strategies & (1u << s)))
				continue;
			printf("%s{\"name\":\"%s\",\"map_type\":\"%s\",\"requests\":%llu,"
			       "\"bytes\":%llu,\"segments\":%llu,\"verified\":%llu,"
			       "\"refused\":%llu,\"mismatches\":%llu,\"faults\":%llu}",
			       s && (r->o->strategies & ((1u << s) - 1)) ? "," : "",
			       p2p_strategy_name[s], map_name(st->map),
			       (unsigned long long)st->requests,
			       (unsigned long long)st->bytes,
			       (unsigned long long)st->segments,
			       (unsigned long long)st->verified,
			       (unsigned long long)st->refused,
			       (unsigned long long)st->mismatches,
			       (unsigned long long)st->faults);
		}
		printf("]}\n");
		return;
	}
	printf("replay %s (%s) --target p2p: client %s (%s) -> provider %s (%s) BAR %d,\n"
	       "  phys 0x%llx, %llu MiB, bus offset 0x%llx, %s\n",
	       trace, fmt, r->cin.name, r->cin.bdf, r->pin.name, r->pin.bdf, r->bar,
	       (unsigned long long)b->phys, (unsigned long long)(b->size >> 20),
	       (unsigned long long)b->bus_offset, r->iommu ? "IOMMU" : "no IOMMU");
	printf("%-8s %-17s %9s %8s %9s %8s %10s %6s\n", "strategy", "map type",
	       "requests", "seg/req", "verified", "refused", "mismatches", "faults");
	for (s = 0; s < P_NR; s++) {
		struct p2p_stats *st = &r->st[s];

		if (!(r->o->strategies & (1u << s)))
			continue;
		printf("%-8s %-17s %9llu %8.2f %9llu %8llu %10llu %6llu\n",
		       p2p_strategy_name[s], map_name(st->map),
		       (unsigned long long)st->requests,
		       st->requests ? (double)st->segments / (double)st->requests : 0.0,
		       (unsigned long long)st->verified,
		       (unsigned long long)st->refused,
		       (unsigned long long)st->mismatches,
		       (unsigned long long)st->faults);
	}
}

int dml_replay_p2p(const struct dml_replay_p2p_opts *o, const char *trace)
{
	struct p2p r = { .o = o };
	struct dml_trace *t = NULL;
	struct dml_trace_req req;
	dma_addr_t *addr = NULL;
	u64 *len = NULL, n = 0, maxb;
	char err[512];
	int ret, s, k;

	if (p2p_setup(&r)) {
		ret = 2;
		goto out;
	}
	maxb = min(o->max_request, r.size);
	ret = dml_trace_open_format(trace, o->format, maxb, &t, err,
				    sizeof(err));
	if (ret) {
		fprintf(stderr, "dmalink replay: %s\n", err);
		ret = 2;
		goto out;
	}
	r.devbuf = malloc(maxb);
	r.expect = malloc(maxb);
	addr = calloc(DIV_ROUND_UP(maxb, P2P_MAX_SEGMENT), sizeof(*addr));
	len = calloc(DIV_ROUND_UP(maxb, P2P_MAX_SEGMENT), sizeof(*len));
	if (!r.devbuf || !r.expect || !addr || !len) {
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
		/* each request starts with the next strategy: none is always first */
		for (k = 0; k < P_NR; k++) {
			s = (int)((n + k) % P_NR);
			if (o->strategies & (1u << s))
				p2p_run_one(&r, s, &req, n * P_NR + s, addr, len);
		}
		n++;
	}
	p2p_report(&r, trace, dml_trace_format_name(t));
	ret = 0;
	for (s = 0; s < P_NR; s++)
		if (r.st[s].faults || r.st[s].mismatches)
			ret = 1;
out:
	dml_trace_close(t);
	dml_platform_destroy(r.p);
	free(r.devbuf);
	free(r.expect);
	free(addr);
	free(len);
	return ret;
}
