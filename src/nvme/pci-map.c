/* SPDX-License-Identifier: MIT */
/*
 * pci-map.c - nvme-pci's data mapping (drivers/nvme/host/pci.c, Linux
 * 6.17+): the simple single-segment path, PRP lists and SGLs built from
 * the request DMA iterator, the descriptor pools, and the unmap that
 * mirrors the map from what the iod recorded.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "base/base.h"
#include "blk/blk.h"
#include "nvme/pci-map.h"

#define CTRL_PAGE NVME_CTRL_PAGE_SIZE

enum use_sgl { SGL_UNSUPPORTED, SGL_SUPPORTED, SGL_FORCED };

int dml__nvme_map_ctx_init(struct dml_nvme_map_ctx *ctx, struct dml_device *dev,
			   bool sgl_supported, enum dml_nvme_sgl_policy sgl)
{
	if (!ctx || !dev)
		return -EINVAL;
	memset(ctx, 0, sizeof(*ctx));
	ctx->dev = dev;
	ctx->sgl_supported = sgl_supported;
	ctx->sgl = sgl;
	ctx->sgl_threshold = DML_NVME_SGL_THRESHOLD;
	ctx->small_pool = dma_pool_create("nvme small", dev, DML_NVME_SMALL_POOL_SIZE,
					  DML_NVME_SMALL_POOL_SIZE, 0);
	ctx->large_pool = dma_pool_create("nvme large", dev, CTRL_PAGE, CTRL_PAGE, 0);
	if (!ctx->small_pool || !ctx->large_pool) {
		dml__nvme_map_ctx_fini(ctx);
		return -ENOMEM;
	}
	return 0;
}

void dml__nvme_map_ctx_fini(struct dml_nvme_map_ctx *ctx)
{
	if (!ctx)
		return;
	dma_pool_destroy(ctx->small_pool);
	dma_pool_destroy(ctx->large_pool);
	ctx->small_pool = ctx->large_pool = NULL;
}

static void set_psdt(struct nvme_command *cmd, unsigned int psdt)
{
	cmd->flags = (u8)((cmd->flags & 0x3f) | NVME_CMD_FLAGS_PSDT(psdt));
}

/* one SGL data descriptor, written whole (its reserved bytes zero) */
static inline void sgl_set_data(struct nvme_sgl_desc *d, dma_addr_t addr, u32 len)
{
	*d = (struct nvme_sgl_desc){
		.addr = addr,
		.length = len,
		.type = NVME_SGL_TYPE(NVME_SGL_FMT_DATA_DESC, NVME_SGL_FMT_ADDRESS),
	};
}

void *dml__nvme_desc_alloc(struct dml_nvme_map_ctx *ctx, unsigned int *nr,
			   void **va, dma_addr_t *dmas, bool small,
			   dma_addr_t *dma, blk_status_t *st)
{
	void *d;

	if (*nr == DML_NVME_MAX_DESCS) {
		*st = BLK_STS_IOERR;
		return NULL;
	}
	d = dma_pool_alloc(small ? ctx->small_pool : ctx->large_pool, GFP_ATOMIC, dma);
	if (!d) {
		*st = BLK_STS_RESOURCE;
		return NULL;
	}
	va[*nr] = d;
	dmas[(*nr)++] = *dma;
	return d;
}

void dml__nvme_desc_free(struct dml_nvme_map_ctx *ctx, unsigned int nr,
			 void *const *va, const dma_addr_t *dmas, bool small)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		dma_pool_free(i == 0 && small ? ctx->small_pool : ctx->large_pool,
			      va[i], dmas[i]);
}

/* a new descriptor page; the first of a command may be a small one */
static void *desc_alloc(struct dml_nvme_map_ctx *ctx, struct dml_nvme_iod *iod,
			bool small, dma_addr_t *dma, blk_status_t *st)
{
	void *d = dml__nvme_desc_alloc(ctx, &iod->nr_descriptors, iod->descriptors,
				       iod->descriptor_dma, small, dma, st);

	if (d && small)
		iod->flags |= DML_IOD_SMALL_DESCRIPTOR;
	return d;
}

/*
 * keep a segment for the unmap (pci.c dma_vecs), when iod->dma_vecs is
 * set; one too many is malformed
 */
static bool record_segment(struct dml_nvme_map_ctx *ctx, struct dml_nvme_iod *iod,
			   struct blk_dma_iter *iter)
{
	if (iod->nr_dma_vecs == iod->req->nr_phys_segments) {
		dma_unmap_phys(ctx->dev, iter->addr, iter->len, iod->req->dir,
			       iod->map == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE ? DMA_ATTR_MMIO : 0);
		iter->status = BLK_STS_IOERR;
		return false;
	}
	iod->dma_vecs[iod->nr_dma_vecs].addr = iter->addr;
	iod->dma_vecs[iod->nr_dma_vecs++].len = iter->len;
	return true;
}

/* the next segment, recorded; the common case (nothing to record) inline */
static inline bool next_segment(struct dml_nvme_map_ctx *ctx, struct dml_nvme_iod *iod,
				struct blk_dma_iter *iter)
{
	if (!blk_rq_dma_map_iter_next(iod->req, ctx->dev, &iod->dma_state, iter))
		return false;
	return likely(!iod->dma_vecs) || record_segment(ctx, iod, iter);
}

/*
 * pci.c nvme_pci_setup_data_prp(), in one pass over the iterator's
 * segments.  PRP1 is the first address, the only one that may start
 * mid-page; every later entry is one controller page, so a segment after
 * the first must start on a page, and each entry's page must lie in its
 * segment (so a segment that does not hold the rest of the data ends on
 * a page).  The cursor (@addr, @left) lives in registers, entries go
 * straight into the list page, and the iterator is called only when a
 * segment is used up.  The last slot of a full list links the next one
 * and the entry it held moves there.
 */
static blk_status_t setup_prp(struct dml_nvme_map_ctx *ctx, struct dml_nvme_iod *iod,
			      struct nvme_command *cmd, struct blk_dma_iter *iter)
{
	u32 length = iod->req->data_len, left = iter->len, n;
	dma_addr_t prp1 = iter->addr, prp2 = 0, addr = iter->addr, dma;
	blk_status_t st = BLK_STS_OK;
	unsigned int i = 0;
	u64 *list = NULL;

	n = min(length, CTRL_PAGE - (u32)(addr & (CTRL_PAGE - 1)));
	for (;;) {
		if (unlikely(left < n))
			goto malformed;
		addr += n;
		left -= n;
		length -= n;
		if (!length)
			break;
		if (!left) {
			if (!next_segment(ctx, iod, iter)) {
				st = iter->status ? iter->status : BLK_STS_IOERR;
				break;
			}
			addr = iter->addr;
			left = iter->len;
			if (unlikely(addr & (CTRL_PAGE - 1)))
				goto malformed;
		}
		n = min(length, CTRL_PAGE);
		if (likely(list)) {
			if (unlikely(i == DML_NVME_PRPS_PER_PAGE)) {
				u64 *next = desc_alloc(ctx, iod, false, &dma, &st);

				if (!next)
					break;
				next[0] = list[i - 1];
				list[i - 1] = dma;
				list = next;
				i = 1;
			}
			list[i++] = addr;
		} else if (length <= CTRL_PAGE) {	/* PRP2 is the second page itself */
			prp2 = addr;
		} else {
			list = desc_alloc(ctx, iod, DIV_ROUND_UP(length, CTRL_PAGE) <=
					  DML_NVME_SMALL_POOL_SIZE / 8, &prp2, &st);
			if (!list)
				break;
			list[i++] = addr;
		}
	}
done:
	cmd->dptr.prp1 = prp1;
	cmd->dptr.prp2 = prp2;
	set_psdt(cmd, NVME_CMD_PSDT_PRP);
	iod->total_len = iod->req->data_len - length;
	return st;
malformed:
	dml__warn_once("nvme: incorrectly formed request for PRPs\n");
	st = BLK_STS_IOERR;
	goto done;
}

/* pci.c nvme_pci_setup_data_sgl() */
static blk_status_t setup_sgl(struct dml_nvme_map_ctx *ctx, struct dml_nvme_iod *iod,
			      struct nvme_command *cmd, struct blk_dma_iter *iter)
{
	unsigned int entries = iod->req->nr_phys_segments, mapped = 0;
	blk_status_t st = BLK_STS_OK;
	u32 total = 0;
	struct nvme_sgl_desc *list;
	dma_addr_t dma;

	iod->flags |= DML_IOD_SGL;
	set_psdt(cmd, NVME_CMD_PSDT_SGL_MPTR_CONTIG);
	if (entries == 1 || blk_rq_dma_map_coalesce(&iod->dma_state)) {
		sgl_set_data(&cmd->dptr.sgl, iter->addr, iter->len);
		iod->total_len = iter->len;
		return BLK_STS_OK;
	}
	if (entries > DML_NVME_SGLS_PER_PAGE)
		return BLK_STS_IOERR;
	list = desc_alloc(ctx, iod, entries <= DML_NVME_SMALL_POOL_SIZE /
			  sizeof(*list), &dma, &st);
	if (!list)
		return st;
	do {
		if (unlikely(mapped == entries)) {
			iter->status = BLK_STS_IOERR;
			break;
		}
		sgl_set_data(&list[mapped++], iter->addr, iter->len);
		total += iter->len;
	} while (next_segment(ctx, iod, iter));
	iod->total_len = total;
	cmd->dptr.sgl = (struct nvme_sgl_desc){
		.addr = dma,
		.length = mapped * (u32)sizeof(*list),
		.type = NVME_SGL_TYPE(NVME_SGL_FMT_LAST_SEG_DESC, NVME_SGL_FMT_ADDRESS),
	};
	return iter->status;
}

/*
 * pci.c nvme_pci_setup_data_simple(): one segment of host RAM, one
 * dma_map_phys().  Returns false when the request is not for this path.
 */
static bool map_simple(struct dml_nvme_map_ctx *ctx, struct dml_nvme_iod *iod,
		       struct nvme_command *cmd, enum use_sgl use, blk_status_t *st)
{
	struct request *req = iod->req;
	struct blk_map_iter it = { .bio = req->bio };
	struct pci_p2pdma_map_state p2p = { 0 };
	phys_addr_t p;
	u32 len, first;
	bool prp;
	dma_addr_t a;

	/* the one segment is data_len bytes: PRPs need it within two pages */
	if (use == SGL_UNSUPPORTED && req->data_len > 2 * CTRL_PAGE)
		return false;
	if (!dml__blk_map_iter_next(req->limits, &it, &p, &len))
		return false;
	prp = (p & (CTRL_PAGE - 1)) + len <= 2 * CTRL_PAGE;
	/* as pci.c: the PRP test first, P2P memory (a lookup) after */
	if ((!prp && use == SGL_UNSUPPORTED) ||
	    pci_p2pdma_state(&p2p, ctx->dev, p) != PCI_P2PDMA_MAP_NONE)
		return false;
	a = dma_map_phys(ctx->dev, p, len, req->dir, 0);
	if (dma_mapping_error(ctx->dev, a)) {
		*st = BLK_STS_RESOURCE;
		return true;
	}
	iod->flags |= DML_IOD_SINGLE_SEGMENT;
	iod->single_dma = a;
	iod->total_len = len;
	if (use == SGL_FORCED || !prp) {
		iod->flags |= DML_IOD_SGL;
		set_psdt(cmd, NVME_CMD_PSDT_SGL_MPTR_CONTIG);
		sgl_set_data(&cmd->dptr.sgl, a, len);
	} else {
		first = CTRL_PAGE - (u32)(a & (CTRL_PAGE - 1));
		set_psdt(cmd, NVME_CMD_PSDT_PRP);
		cmd->dptr.prp1 = a;
		cmd->dptr.prp2 = len > first ? a + first : 0;
	}
	*st = BLK_STS_OK;
	return true;
}

/* the data: the simple path, or the iterator and PRPs or SGLs */
static blk_status_t map_payload(struct dml_nvme_map_ctx *ctx, struct dml_nvme_iod *iod,
				struct nvme_command *cmd, enum use_sgl use)
{
	struct request *req = iod->req;
	struct blk_dma_iter iter;
	blk_status_t st;

	if (req->nr_phys_segments == 1 && map_simple(ctx, iod, cmd, use, &st))
		return st;
	if (!blk_rq_dma_map_iter_start(req, ctx->dev, &iod->dma_state, &iter))
		return iter.status ? iter.status : BLK_STS_IOERR;
	if (iter.p2pdma.mem)
		iod->map = iter.p2pdma.map;
	if (!dma_use_iova(&iod->dma_state) && iod->map != PCI_P2PDMA_MAP_BUS_ADDR &&
	    dma_need_unmap(ctx->dev)) {
		iod->dma_vecs = dml__zalloc(req->nr_phys_segments * sizeof(*iod->dma_vecs));
		if (!iod->dma_vecs) {
			dma_unmap_phys(ctx->dev, iter.addr, iter.len, req->dir,
				       iod->map == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE ?
				       DMA_ATTR_MMIO : 0);
			return BLK_STS_RESOURCE;
		}
	}
	if (iod->dma_vecs)
		record_segment(ctx, iod, &iter);	/* the first always fits */
	if (use == SGL_FORCED || (use == SGL_SUPPORTED && ctx->sgl_threshold &&
	    DIV_ROUND_UP(req->data_len, req->nr_phys_segments) >= ctx->sgl_threshold))
		return setup_sgl(ctx, iod, cmd, &iter);
	return setup_prp(ctx, iod, cmd, &iter);
}

/* pci.c nvme_map_metadata(): MPTR, or a metadata SGL for several segments */
static blk_status_t map_metadata(struct dml_nvme_map_ctx *ctx, struct dml_nvme_iod *iod,
				 struct nvme_command *cmd)
{
	struct request *req = iod->req;
	unsigned int entries = req->nr_integrity_segments, i = 0;
	bool sgl = entries > 1 && (iod->flags & DML_IOD_SGL) && ctx->meta_sgl_supported;
	struct nvme_sgl_desc *list;
	struct blk_dma_iter iter;

	if (!req->integrity_len)
		return BLK_STS_OK;
	if ((entries > 1 && !sgl) ||
	    entries >= DML_NVME_SMALL_POOL_SIZE / sizeof(*list))
		return BLK_STS_IOERR;
	if (!blk_rq_integrity_dma_map_iter_start(req, ctx->dev, &iod->meta_state, &iter))
		return iter.status ? iter.status : BLK_STS_IOERR;
	iod->flags |= DML_IOD_META;
	iod->meta_map = iter.p2pdma.mem ? iter.p2pdma.map : PCI_P2PDMA_MAP_NONE;
	iod->meta_dma = iter.addr;
	iod->meta_total = iter.len;
	cmd->metadata = iter.addr;
	if (!sgl)
		return BLK_STS_OK;
	list = dma_pool_alloc(ctx->small_pool, GFP_ATOMIC, &iod->meta_list_dma);
	if (!list)
		return BLK_STS_RESOURCE;
	iod->meta_list = list;
	iod->meta_total = 0;
	do {
		if (i == entries) {
			iter.status = BLK_STS_IOERR;
			break;
		}
		sgl_set_data(&list[++i], iter.addr, iter.len);
		iod->meta_nr = i;
		iod->meta_total += iter.len;
	} while (blk_rq_integrity_dma_map_iter_next(req, ctx->dev, &iod->meta_state, &iter));
	memset(&list[0], 0, sizeof(list[0]));
	list[0].addr = iod->meta_list_dma + sizeof(*list);
	list[0].length = i * (u32)sizeof(*list);
	list[0].type = NVME_SGL_TYPE(NVME_SGL_FMT_LAST_SEG_DESC, NVME_SGL_FMT_ADDRESS);
	cmd->metadata = iod->meta_list_dma;
	set_psdt(cmd, NVME_CMD_PSDT_SGL_MPTR_SGL);
	return iter.status;
}

static void unmap_metadata(struct dml_nvme_map_ctx *ctx, struct dml_nvme_iod *iod)
{
	unsigned long attrs = iod->meta_map == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE ?
			      DMA_ATTR_MMIO : 0;
	unsigned int i;

	if (!(iod->flags & DML_IOD_META))
		return;
	if (!blk_rq_dma_unmap(iod->req, ctx->dev, &iod->meta_state,
			      dma_iova_size(&iod->meta_state), iod->meta_map)) {
		if (!iod->meta_list)
			dma_unmap_phys(ctx->dev, iod->meta_dma, iod->meta_total,
				       iod->req->dir, attrs);
		for (i = 1; iod->meta_list && i <= iod->meta_nr; i++)
			dma_unmap_phys(ctx->dev, iod->meta_list[i].addr,
				       iod->meta_list[i].length, iod->req->dir, attrs);
	}
	if (iod->meta_list)
		dma_pool_free(ctx->small_pool, iod->meta_list, iod->meta_list_dma);
}

#define IOD_SPAN(from, to) \
	(offsetof(struct dml_nvme_iod, to) - offsetof(struct dml_nvme_iod, from))

/*
 * zero @iod but its descriptor slots, of which only the first
 * nr_descriptors are ever read, in pieces short enough for the compiler to
 * write as plain stores (a memset of the whole iod is a rep stos, whose
 * start-up and stalled store forwarding cost more than the rest of a
 * command's bookkeeping)
 */
static inline void iod_clear(struct dml_nvme_iod *iod)
{
	memset(iod, 0, IOD_SPAN(req, descriptors));
	memset(&iod->dma_vecs, 0, IOD_SPAN(dma_vecs, meta_state));
	memset(&iod->meta_state, 0, sizeof(*iod) - offsetof(struct dml_nvme_iod, meta_state));
}

blk_status_t dml__nvme_map_data(struct dml_nvme_map_ctx *ctx,
				struct dml_nvme_iod *iod, struct request *req,
				struct nvme_command *cmd)
{
	enum use_sgl use;
	blk_status_t st;

	if (!ctx || !ctx->dev || !iod || !req || !req->limits || !cmd || !req->data_len)
		return BLK_STS_INVAL;
	iod_clear(iod);
	iod->req = req;
	iod->map = PCI_P2PDMA_MAP_NONE;
	use = !ctx->sgl_supported || ctx->sgl == DML_NVME_SGL_NEVER ? SGL_UNSUPPORTED :
	      ctx->sgl == DML_NVME_SGL_ALWAYS ? SGL_FORCED : SGL_SUPPORTED;
	st = map_payload(ctx, iod, cmd, use);
	if (!st)
		st = map_metadata(ctx, iod, cmd);
	if (st)
		dml__nvme_unmap_data(ctx, iod);
	return st;
}

void dml__nvme_unmap_data(struct dml_nvme_map_ctx *ctx, struct dml_nvme_iod *iod)
{
	struct request *req = iod->req;
	unsigned int i;

	if (iod->flags & DML_IOD_SINGLE_SEGMENT) {
		dma_unmap_phys(ctx->dev, iod->single_dma, iod->total_len, req->dir, 0);
	} else if (!blk_rq_dma_unmap(req, ctx->dev, &iod->dma_state,
				     dma_iova_size(&iod->dma_state), iod->map)) {
		for (i = 0; i < iod->nr_dma_vecs; i++)
			dma_unmap_phys(ctx->dev, iod->dma_vecs[i].addr, iod->dma_vecs[i].len,
				       req->dir, iod->map == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE ?
				       DMA_ATTR_MMIO : 0);
	}
	dml__nvme_desc_free(ctx, iod->nr_descriptors, iod->descriptors,
			    iod->descriptor_dma, iod->flags & DML_IOD_SMALL_DESCRIPTOR);
	dml__free(iod->dma_vecs);
	unmap_metadata(ctx, iod);
	iod_clear(iod);
}
