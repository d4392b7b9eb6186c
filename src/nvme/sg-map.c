/* SPDX-License-Identifier: MIT */
/*
 * sg-map.c - nvme-pci's data mapping before the request DMA iterator
 * (drivers/nvme/host/pci.c of Linux 6.16: nvme_map_data(),
 * nvme_pci_setup_prps(), nvme_pci_setup_sgls(), nvme_unmap_data()): the
 * request's physical segments go into a scatterlist (blk_rq_map_sg()),
 * which dma_map_sgtable() maps, and PRPs or SGLs are built from the
 * mapped list.  Descriptors come from the same pools as the iterator's
 * path (pci-map.h).  Requests of one segment take the simple path, which
 * both kernels share, in pci-map.c.
 */
#include <errno.h>
#include <string.h>

#include <dmalink/scatterlist.h>

#include "base/base.h"
#include "blk/blk.h"
#include "nvme/sg-map.h"

#define CTRL_PAGE NVME_CTRL_PAGE_SIZE

/* blk_rq_map_sg(): one entry per physical segment, as the iterator walks them */
static int map_sg(struct request *req, struct sg_table *sgt)
{
	struct blk_map_iter it = { .bio = req->bio };
	struct scatterlist *sg = NULL;
	unsigned int n = 0;
	phys_addr_t p;
	u32 len;
	int ret;

	ret = sg_alloc_table(sgt, req->nr_phys_segments);
	if (ret)
		return ret;
	while (dml__blk_map_iter_next(req->limits, &it, &p, &len)) {
		if (n == req->nr_phys_segments)
			return -EINVAL;
		sg = sg ? sg_next(sg) : sgt->sgl;
		sg_set_phys(sg, p, len);
		n++;
	}
	return n == req->nr_phys_segments ? 0 : -EINVAL;
}

static void *desc_alloc(struct dml_nvme_map_ctx *ctx, struct dml_nvme_sg_iod *iod,
			bool small, dma_addr_t *dma, blk_status_t *st)
{
	void *d = dml__nvme_desc_alloc(ctx, &iod->nr_descriptors, iod->descriptors,
				       iod->descriptor_dma, small, dma, st);

	if (d && iod->nr_descriptors == 1)
		iod->small = small;
	return d;
}

/* 6.16 nvme_pci_setup_prps(): walk the mapped list a controller page at a time */
static blk_status_t setup_prps(struct dml_nvme_map_ctx *ctx, struct dml_nvme_sg_iod *iod,
			       struct request *req, struct nvme_command *cmd)
{
	struct scatterlist *sg = iod->sgt.sgl;
	dma_addr_t addr = sg_dma_address(sg), prp2 = 0, dma;
	s64 length = req->data_len, seg = sg_dma_len(sg);
	u32 first = CTRL_PAGE - (u32)(addr & (CTRL_PAGE - 1));
	blk_status_t st = BLK_STS_OK;
	unsigned int i = 0, left = iod->sgt.nents - 1;
	u64 *list;

	cmd->dptr.prp1 = addr;
	length -= first;
	if (length <= 0)
		goto done;
	seg -= first;
	addr += first;
	if (seg < 0)
		goto bad;
	if (!seg) {
		if (!left)
			goto bad;
		sg = sg_next(sg);
		left--;
		addr = sg_dma_address(sg);
		seg = sg_dma_len(sg);
	}
	if (length <= CTRL_PAGE) {
		prp2 = addr;
		goto check;
	}
	list = desc_alloc(ctx, iod, DIV_ROUND_UP(length, CTRL_PAGE) <=
			  DML_NVME_SMALL_POOL_SIZE / 8, &prp2, &st);
	if (!list)
		goto done;
	for (;;) {
		if (i == DML_NVME_PRPS_PER_PAGE) {
			/* chain: the last entry moves to the new list */
			u64 *next = desc_alloc(ctx, iod, false, &dma, &st);

			if (!next)
				goto done;
			next[0] = list[i - 1];
			list[i - 1] = dma;
			list = next;
			i = 1;
		}
		if (addr & (CTRL_PAGE - 1))
			goto bad;
		list[i++] = addr;
		iod->desc_bytes += 8;
		seg -= CTRL_PAGE;
		addr += CTRL_PAGE;
		length -= CTRL_PAGE;
		if (length <= 0)
			break;
		if (seg > 0)
			continue;
		if (seg < 0 || !left)
			goto bad;
		sg = sg_next(sg);
		left--;
		addr = sg_dma_address(sg);
		seg = sg_dma_len(sg);
	}
	iod->desc_bytes += 8 * (iod->nr_descriptors - 1);	/* chain pointers */
	goto done;
check:
	if (!(addr & (CTRL_PAGE - 1)) && seg >= length)
		goto done;
bad:
	dml__warn_once("nvme: invalid scatterlist for PRPs: %u segments, %u bytes\n",
		       iod->sgt.nents, req->data_len);
	st = BLK_STS_IOERR;
done:
	cmd->dptr.prp2 = prp2;
	cmd->flags = (u8)((cmd->flags & 0x3f) | NVME_CMD_FLAGS_PSDT(NVME_CMD_PSDT_PRP));
	return st;
}

static void sgl_set(struct nvme_sgl_desc *d, dma_addr_t addr, u32 len, u8 type)
{
	memset(d, 0, sizeof(*d));
	d->addr = addr;
	d->length = len;
	d->type = NVME_SGL_TYPE(type, NVME_SGL_FMT_ADDRESS);
}

/* 6.16 nvme_pci_setup_sgls(): one inline descriptor, or one list */
static blk_status_t setup_sgls(struct dml_nvme_map_ctx *ctx, struct dml_nvme_sg_iod *iod,
			       struct nvme_command *cmd)
{
	unsigned int n = iod->sgt.nents, i;
	blk_status_t st = BLK_STS_OK;
	struct nvme_sgl_desc *list;
	struct scatterlist *sg;
	dma_addr_t dma;

	iod->sgl = true;
	cmd->flags = (u8)((cmd->flags & 0x3f) |
			  NVME_CMD_FLAGS_PSDT(NVME_CMD_PSDT_SGL_MPTR_CONTIG));
	if (n == 1) {
		sgl_set(&cmd->dptr.sgl, sg_dma_address(iod->sgt.sgl),
			sg_dma_len(iod->sgt.sgl), NVME_SGL_FMT_DATA_DESC);
		return BLK_STS_OK;
	}
	if (n > DML_NVME_SGLS_PER_PAGE)
		return BLK_STS_IOERR;
	list = desc_alloc(ctx, iod, n <= DML_NVME_SMALL_POOL_SIZE / sizeof(*list), &dma, &st);
	if (!list)
		return st;
	for_each_sg(iod->sgt.sgl, sg, n, i)
		sgl_set(&list[i], sg_dma_address(sg), sg_dma_len(sg), NVME_SGL_FMT_DATA_DESC);
	iod->desc_bytes = n * (u32)sizeof(*list);
	sgl_set(&cmd->dptr.sgl, dma, iod->desc_bytes, NVME_SGL_FMT_LAST_SEG_DESC);
	return BLK_STS_OK;
}

blk_status_t dml__nvme_map_sg(struct dml_nvme_map_ctx *ctx, struct dml_nvme_sg_iod *iod,
			      struct request *req, struct nvme_command *cmd)
{
	bool sgl;
	blk_status_t st;
	int ret;

	if (!ctx || !ctx->dev || !iod || !req || !req->limits || !cmd ||
	    !req->data_len || !req->nr_phys_segments)
		return BLK_STS_INVAL;
	memset(iod, 0, sizeof(*iod));
	iod->req = req;
	ret = map_sg(req, &iod->sgt);
	if (ret) {
		sg_free_table(&iod->sgt);
		return ret == -ENOMEM ? BLK_STS_RESOURCE : BLK_STS_IOERR;
	}
	ret = dma_map_sgtable(ctx->dev, &iod->sgt, req->dir, 0);
	if (ret) {
		sg_free_table(&iod->sgt);
		return ret == -ENOMEM ? BLK_STS_RESOURCE :
		       ret == -EREMOTEIO ? BLK_STS_INVAL : BLK_STS_IOERR;
	}
	iod->mapped = true;
	/* 6.16 nvme_pci_use_sgls(): the average over the request's segments */
	sgl = ctx->sgl_supported && ctx->sgl != DML_NVME_SGL_NEVER &&
	      (ctx->sgl == DML_NVME_SGL_ALWAYS ||
	       (ctx->sgl_threshold && DIV_ROUND_UP(req->data_len, req->nr_phys_segments) >=
		ctx->sgl_threshold));
	st = sgl ? setup_sgls(ctx, iod, cmd) : setup_prps(ctx, iod, req, cmd);
	if (st)
		dml__nvme_unmap_sg(ctx, iod);
	return st;
}

void dml__nvme_unmap_sg(struct dml_nvme_map_ctx *ctx, struct dml_nvme_sg_iod *iod)
{
	if (iod->mapped)
		dma_unmap_sgtable(ctx->dev, &iod->sgt, iod->req->dir, 0);
	dml__nvme_desc_free(ctx, iod->nr_descriptors, iod->descriptors,
			    iod->descriptor_dma, iod->small);
	sg_free_table(&iod->sgt);
	memset(iod, 0, sizeof(*iod));
}
