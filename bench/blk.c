/* SPDX-License-Identifier: MIT */
/*
 * blk.c - bench-blk: the request DMA iterator and nvme-pci's PRP/SGL
 * builder (src/blk, src/nvme/pci-map.c), with the options and output of
 * `dmalink bench`.  Each operation maps a request and unmaps it.
 *
 *  iter-iova-N   N scattered 4 KiB pages behind an IOMMU, one IOVA range
 *                (try_alloc, N links, one sync, destroy)
 *  iter-phys-N   the same request with its gap mask forced mid-granule,
 *                so the iterator maps each segment (N dma_map_phys and
 *                N dma_unmap_phys); baseline of iter-iova-N
 *  walk-128k     32 scattered pages, dma-direct: the iterator driven as
 *                dml__nvme_map_data() drives it (start, 31 next, each
 *                segment kept only when dma_need_unmap()) and the unmap;
 *                no descriptor.  What the builder is handed.
 *  pool-128k     one dma_pool_alloc() and dma_pool_free() of the nvme
 *                small pool (256 B), the list a 128 KiB command takes
 *  prp-128k      the walk-128k request through dml__nvme_map_data() and
 *                dml__nvme_unmap_data(): PRP1 + a 31-entry list from the
 *                small pool; baseline walk-128k
 *  sgl-128k      the same request as an SGL list of 32 descriptors;
 *                baseline walk-128k
 *  walk-1seg-128k  walk-128k over one physically contiguous 128 KiB piece:
 *                one segment, one dma_map_phys()
 *  prp-1seg-128k that request as PRPs (SGLs off, so not the simple path):
 *                a 31-entry list cut from one segment; baseline
 *                walk-1seg-128k.  The iterator costs little here, so the
 *                difference is measured with less noise than prp-128k's.
 *  prp-iova-128k the PRP list over one IOVA range; baseline iter-iova-32
 *                (so the ratio is the builder's share)
 *
 * The fair measure.  prp-128k and sgl-128k are what a caller pays per
 * command: the iterator's mapping and unmapping, the pool, the build.  The
 * builder cannot run without the iterator (it consumes segments as they
 * are mapped, as nvme-pci does), so the build is isolated by difference
 * with a baseline that does everything else, in paired rounds, and the
 * pool is measured alone:
 *   build + pool alloc/free = prp-128k - walk-128k
 *                           = prp-128k x (1 - ratio)
 *   build alone             = that - pool-128k
 * (likewise sgl-128k, and prp-1seg-128k against walk-1seg-128k).  "Build"
 * includes what dml__nvme_map_data() and dml__nvme_unmap_data() do around
 * the lists: choosing the path, the iod, the unmap's bookkeeping.
 * The checker (dma-debug) is off unless DMALINK_DMA_DEBUG asks for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "tools.h"

#include "nvme/pci-map.h"

#define PAGES_MAX 32
#define RAM0 0x1000000ULL

struct blk_bench {
	struct dml_platform *p;
	struct dml_device *dev;
	struct queue_limits lim;
	struct bio_vec v[PAGES_MAX];
	struct bio bio;
	struct request rq;
	struct dml_nvme_map_ctx ctx;
	bool per_segment;
};

static int blk_setup(unsigned int pages, bool contig, bool iommu, bool per_segment,
		     enum dml_nvme_sgl_policy sgl, void **out)
{
	struct blk_bench *b = calloc(1, sizeof(*b));
	struct dml_emu_opts eo = { .size = DML_SIZEOF(&eo, ram_size), .ram_size = 256ULL << 20 };
	struct dml_device_opts dop = { .size = DML_SIZEOF(&dop, iommu), .name = "nvme",
				       .source_id = 0x0100, .pci = true,
				       .dma_mask = DMA_BIT_MASK(64) };
	struct dml_iommu *unit;
	unsigned int i;

	if (!b || dml_platform_create_emu(&eo, &b->p))
		goto fail;
	if (iommu) {
		if (dml_iommu_create(b->p, NULL, &unit))
			goto fail;
		dop.iommu = unit;
	}
	if (dml_device_create(b->p, &dop, &b->dev))
		goto fail;
	b->lim = (struct queue_limits){ .max_segment_size = 1u << 20,
					.virt_boundary_mask = 4095, .dma_alignment = 3 };
	for (i = 0; i < pages; i++)
		b->v[i] = (struct bio_vec){ RAM0 + (u64)i * 3 * 4096, 4096 };
	if (contig)	/* one piece of all the pages, one segment */
		b->v[0].bv_len = pages * 4096;
	b->bio = (struct bio){ .bi_io_vec = b->v,
			       .bi_vcnt = contig ? 1 : (unsigned short)pages };
	if (dml_blk_rq_init(&b->rq, &b->lim, DMA_TO_DEVICE, &b->bio))
		goto fail;
	if (per_segment)
		b->rq.gap_mask |= 512;	/* as if two segments met mid-granule */
	if (dml__nvme_map_ctx_init(&b->ctx, b->dev, true, sgl))
		goto fail;
	b->per_segment = per_segment;
	*out = b;
	return 0;
fail:
	if (b && b->p)
		dml_platform_destroy(b->p);
	free(b);
	return -ENOMEM;
}

static void blk_teardown(void *shared)
{
	struct blk_bench *b = shared;

	dml__nvme_map_ctx_fini(&b->ctx);
	dml_platform_destroy(b->p);
	free(b);
}

static int run_iter(void *priv, unsigned long iters)
{
	struct blk_bench *b = priv;
	dma_addr_t addr[PAGES_MAX];
	u32 len[PAGES_MAX];
	struct dma_iova_state st;
	struct blk_dma_iter it;
	unsigned int n, i;
	bool more;

	while (iters--) {
		n = 0;
		for (more = blk_rq_dma_map_iter_start(&b->rq, b->dev, &st, &it); more;
		     more = blk_rq_dma_map_iter_next(&b->rq, b->dev, &st, &it)) {
			addr[n] = it.addr;
			len[n++] = it.len;
		}
		if (it.status)
			return -EIO;
		if (!blk_rq_dma_unmap(&b->rq, b->dev, &st, b->rq.data_len, it.p2pdma.map))
			for (i = 0; i < n; i++)
				dma_unmap_phys(b->dev, addr[i], len[i], b->rq.dir, 0);
	}
	return 0;
}

/* the iterator as dml__nvme_map_data() drives it, without building */
static int run_walk(void *priv, unsigned long iters)
{
	struct blk_bench *b = priv;
	bool keep = dma_need_unmap(b->dev), more;
	dma_addr_t addr[PAGES_MAX];
	struct dma_iova_state st;
	struct blk_dma_iter it;
	unsigned int n, i;
	u32 len[PAGES_MAX];

	while (iters--) {
		n = 0;
		for (more = blk_rq_dma_map_iter_start(&b->rq, b->dev, &st, &it); more;
		     more = blk_rq_dma_map_iter_next(&b->rq, b->dev, &st, &it))
			if (keep) {
				addr[n] = it.addr;
				len[n++] = it.len;
			}
		if (it.status)
			return -EIO;
		if (!blk_rq_dma_unmap(&b->rq, b->dev, &st, b->rq.data_len, it.p2pdma.map))
			for (i = 0; i < n; i++)
				dma_unmap_phys(b->dev, addr[i], len[i], b->rq.dir, 0);
	}
	return 0;
}

static int run_pool(void *priv, unsigned long iters)
{
	struct blk_bench *b = priv;
	dma_addr_t dma;
	void *list;

	while (iters--) {
		list = dma_pool_alloc(b->ctx.small_pool, GFP_ATOMIC, &dma);
		if (!list)
			return -ENOMEM;
		dma_pool_free(b->ctx.small_pool, list, dma);
	}
	return 0;
}

static int run_nvme(void *priv, unsigned long iters)
{
	struct blk_bench *b = priv;
	struct dml_nvme_iod iod;
	struct nvme_command cmd = { 0 };

	while (iters--) {
		if (dml__nvme_map_data(&b->ctx, &iod, &b->rq, &cmd))
			return -EIO;
		dml__nvme_unmap_data(&b->ctx, &iod);
	}
	return 0;
}

#define SETUP(name, pages, contig, iommu, per_seg, sgl)			\
	static int setup_##name(unsigned int threads, void **shared)	\
	{								\
		(void)threads;						\
		return blk_setup(pages, contig, iommu, per_seg, sgl, shared); \
	}
SETUP(iova1, 1, false, true, false, DML_NVME_SGL_NEVER)
SETUP(phys1, 1, false, true, true, DML_NVME_SGL_NEVER)
SETUP(iova8, 8, false, true, false, DML_NVME_SGL_NEVER)
SETUP(phys8, 8, false, true, true, DML_NVME_SGL_NEVER)
SETUP(iova32, 32, false, true, false, DML_NVME_SGL_NEVER)
SETUP(phys32, 32, false, true, true, DML_NVME_SGL_NEVER)
SETUP(prp, 32, false, false, false, DML_NVME_SGL_NEVER)
SETUP(sgl, 32, false, false, false, DML_NVME_SGL_ALWAYS)
SETUP(contig, 32, true, false, false, DML_NVME_SGL_NEVER)

#define CASE(n, w, base, s, r)						\
	{ .name = n, .what = w, .baseline = base, .setup = setup_##s,	\
	  .teardown = blk_teardown, .run = r }

static const struct dml_bench_case blk_cases[] = {
	CASE("iter-phys-1", "iterator, 1 page, dma_map_phys", NULL, phys1, run_iter),
	CASE("iter-iova-1", "iterator, 1 page, one IOVA range", "iter-phys-1", iova1, run_iter),
	CASE("iter-phys-8", "iterator, 8 pages, dma_map_phys each", NULL, phys8, run_iter),
	CASE("iter-iova-8", "iterator, 8 pages, one IOVA range", "iter-phys-8", iova8, run_iter),
	CASE("iter-phys-32", "iterator, 32 pages, dma_map_phys each", NULL, phys32, run_iter),
	CASE("iter-iova-32", "iterator, 32 pages, one IOVA range", "iter-phys-32", iova32, run_iter),
	CASE("prp-iova-128k", "nvme map+unmap, PRP list over one IOVA range", "iter-iova-32",
	     iova32, run_nvme),
	CASE("walk-128k", "iterator as nvme drives it, 32 pages direct", NULL, prp, run_walk),
	CASE("pool-128k", "nvme small pool alloc + free (a 128k list)", NULL, prp, run_pool),
	CASE("prp-128k", "nvme map+unmap, 32 pages direct, PRP list", "walk-128k", prp,
	     run_nvme),
	CASE("sgl-128k", "nvme map+unmap, 32 pages direct, SGL list", "walk-128k", sgl,
	     run_nvme),
	CASE("walk-1seg-128k", "walk-128k over 1 contiguous segment", NULL, contig, run_walk),
	CASE("prp-1seg-128k", "nvme map+unmap, 1 contiguous segment, PRP list", "walk-1seg-128k",
	     contig, run_nvme),
	{ 0 },
};

static const struct dml_bench_case *const tables[] = { blk_cases };

int main(int argc, char **argv)
{
	return dml_bench_main("bench-blk", argc, argv, tables, ARRAY_SIZE(tables));
}
