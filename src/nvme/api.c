/* SPDX-License-Identifier: MIT */
/*
 * api.c - the public NVMe driver of <dmalink/nvme.h> over the internal
 * one: the handle (controller, one I/O queue pair, the mapping context),
 * the namespace's geometry, and dml_nvme_rw(), one block request as one
 * Read or Write whose data is mapped by the strategy asked for
 * (pci-map.c: the iterator; sg-map.c: the scatterlist), submitted,
 * polled and unmapped (drivers/nvme/host/pci.c: nvme_queue_rq(),
 * nvme_map_data(), nvme_pci_complete_rq()).  Which backend built the
 * controller is core/'s business (src/core/nvme.c).
 */
#include <errno.h>
#include <string.h>

#include "base/base.h"
#include "nvme/nvme.h"

#define DEFAULT_DEPTH 64

/* BAR accessors that time the controller's own (opts.account_time) */
static u32 timed_read32(void *ctx, u32 off)
{
	struct dml_nvme *n = ctx;
	u64 t = dml__now_ns();
	u32 v = n->bar.read32(n->bar.ctx, off);

	n->dev_ns += dml__now_ns() - t;
	return v;
}

static u64 timed_read64(void *ctx, u32 off)
{
	struct dml_nvme *n = ctx;
	u64 t = dml__now_ns();
	u64 v = n->bar.read64(n->bar.ctx, off);

	n->dev_ns += dml__now_ns() - t;
	return v;
}

static void timed_write32(void *ctx, u32 off, u32 val)
{
	struct dml_nvme *n = ctx;
	u64 t = dml__now_ns();

	n->bar.write32(n->bar.ctx, off, val);
	n->dev_ns += dml__now_ns() - t;
}

static void timed_write64(void *ctx, u32 off, u64 val)
{
	struct dml_nvme *n = ctx;
	u64 t = dml__now_ns();

	n->bar.write64(n->bar.ctx, off, val);
	n->dev_ns += dml__now_ns() - t;
}

static const enum dml_nvme_sgl_policy sgl_policy[] = {
	[DML_NVME_SGL_MODE_AUTO] = DML_NVME_SGL_AUTO,
	[DML_NVME_SGL_MODE_ALWAYS] = DML_NVME_SGL_ALWAYS,
	[DML_NVME_SGL_MODE_NEVER] = DML_NVME_SGL_NEVER,
};

int dml__nvme_open(struct dml_device *dev, const struct dml_nvme_bar *bar,
		   const struct dml_nvme_opts *o, struct dml_nvme **out)
{
	struct dml_nvme_bar timed = { .read32 = timed_read32, .read64 = timed_read64,
				      .write32 = timed_write32, .write64 = timed_write64 };
	struct dml_nvme *n;
	int ret;

	if ((unsigned int)o->sgl > DML_NVME_SGL_MODE_NEVER || o->queue_depth == 1)
		return -EINVAL;
	n = dml__zalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->bar = *bar;
	timed.ctx = n;
	ret = dml__nvme_ctrl_create(dev, o->account_time ? &timed : bar, &n->ctrl);
	if (ret)
		goto free;
	if (o->timeout_ns)
		n->ctrl->cmd_timeout_ns = o->timeout_ns;
	ret = dml__nvme_identify(n->ctrl);
	if (!ret)
		ret = dml__nvme_create_io_queues(n->ctrl, 1, o->queue_depth ?
						 o->queue_depth : DEFAULT_DEPTH);
	if (!ret)
		ret = dml__nvme_map_ctx_init(&n->map, dev, n->ctrl->sgl, sgl_policy[o->sgl]);
	if (ret)
		goto destroy;
	*out = n;
	return 0;
destroy:
	dml__nvme_ctrl_destroy(n->ctrl);
free:
	dml__free(n);
	return ret;
}

void dml_nvme_close(struct dml_nvme *n)
{
	if (!n)
		return;
	dml__nvme_map_ctx_fini(&n->map);
	dml__nvme_ctrl_destroy(n->ctrl);
	if (n->backend_free)
		n->backend_free(n->backend);
	dml__free(n);
}

int dml_nvme_ns_info(const struct dml_nvme *n, struct dml_nvme_ns_info *info)
{
	if (!n || !info)
		return -EINVAL;
	info->blocks = n->ctrl->nsze;
	info->block_size = 1u << n->ctrl->lba_shift;
	info->max_transfer = n->ctrl->max_xfer;
	info->sgl_supported = n->ctrl->sgl;
	return 0;
}

static int blk_status_to_errno(blk_status_t st)
{
	return st == BLK_STS_RESOURCE ? -ENOMEM : -EINVAL;
}

/* what the iterator's path did, read back from its iod and the command */
static void iod_report(const struct dml_nvme_iod *iod, const struct nvme_command *cmd,
		       struct dml_nvme_io *io)
{
	u32 pages;

	io->sgl = iod->flags & DML_IOD_SGL;
	if (iod->flags & DML_IOD_SINGLE_SEGMENT)
		io->path = DML_NVME_PATH_SIMPLE;
	else if (dma_use_iova(&iod->dma_state))
		io->path = DML_NVME_PATH_IOVA;
	else
		io->path = DML_NVME_PATH_PAGE;
	io->dma_segments = io->path != DML_NVME_PATH_PAGE ? 1 :
			   iod->dma_vecs ? iod->nr_dma_vecs : iod->req->nr_phys_segments;
	if (!iod->nr_descriptors)
		return;
	if (io->sgl) {
		io->desc_bytes = cmd->dptr.sgl.length;
		return;
	}
	/* every page after PRP1's in the lists, and one pointer per chaining */
	pages = DIV_ROUND_UP((u32)(cmd->dptr.prp1 & (NVME_CTRL_PAGE_SIZE - 1)) +
			     iod->total_len, NVME_CTRL_PAGE_SIZE);
	io->desc_bytes = 8 * (pages - 1 + iod->nr_descriptors - 1);
}

/* map @rq's data into @cmd by @io->strategy; the path taken into @io */
static blk_status_t map(struct dml_nvme *n, struct request *rq,
			struct nvme_command *cmd, struct dml_nvme_io *io)
{
	blk_status_t st;

	if (io->strategy == DML_NVME_MAP_SG && rq->nr_phys_segments > 1) {
		st = dml__nvme_map_sg(&n->map, &n->sg_iod, rq, cmd);
		if (st)
			return st;
		io->path = DML_NVME_PATH_SG;
		io->sgl = n->sg_iod.sgl;
		io->desc_bytes = n->sg_iod.desc_bytes;
		io->dma_segments = n->sg_iod.sgt.nents;
		return BLK_STS_OK;
	}
	if (io->strategy == DML_NVME_MAP_PAGE) {
		/*
		 * The iterator takes its per-segment path when the request's
		 * gaps are not mergeable by the IOMMU (blk_rq_dma_map_iter_start());
		 * a copy of the request says so, the bios are the caller's.
		 */
		n->page_rq = *rq;
		n->page_rq.gap_mask |= dma_get_merge_boundary(n->map.dev);
		rq = &n->page_rq;
	}
	st = dml__nvme_map_data(&n->map, &n->iod, rq, cmd);
	if (!st)
		iod_report(&n->iod, cmd, io);
	return st;
}

static void unmap(struct dml_nvme *n, const struct dml_nvme_io *io)
{
	if (io->path == DML_NVME_PATH_SG)
		dml__nvme_unmap_sg(&n->map, &n->sg_iod);
	else
		dml__nvme_unmap_data(&n->map, &n->iod);
}

int dml_nvme_rw(struct dml_nvme *n, struct request *rq, struct dml_nvme_io *io)
{
	struct nvme_command cmd = { .nsid = 1 };
	struct nvme_completion cqe = { 0 };
	u64 t0 = dml__now_ns(), t1, t2, t3, nlb;
	blk_status_t st;
	int ret;

	if (!n || !rq || !io || !rq->limits || !rq->bio || !rq->data_len ||
	    (unsigned int)io->strategy > DML_NVME_MAP_SG ||
	    (rq->dir != DMA_TO_DEVICE && rq->dir != DMA_FROM_DEVICE) ||
	    rq->data_len & ((1u << n->ctrl->lba_shift) - 1) ||
	    (n->ctrl->max_xfer && rq->data_len > n->ctrl->max_xfer))
		return -EINVAL;
	nlb = rq->data_len >> n->ctrl->lba_shift;
	if (io->slba >= n->ctrl->nsze || nlb > n->ctrl->nsze - io->slba)
		return -EINVAL;
	io->path = DML_NVME_PATH_SIMPLE;
	io->sgl = false;
	io->desc_bytes = io->dma_segments = 0;
	io->status = 0;
	io->map_ns = io->dev_ns = io->total_ns = 0;
	n->dev_ns = 0;
	cmd.opcode = rq->dir == DMA_TO_DEVICE ? nvme_cmd_write : nvme_cmd_read;
	cmd.cdw10 = (u32)io->slba;
	cmd.cdw11 = (u32)(io->slba >> 32);
	cmd.cdw12 = (u32)(nlb - 1);
	st = map(n, rq, &cmd, io);
	t1 = dml__now_ns();
	if (st) {
		io->map_ns = t1 - t0;
		io->total_ns = t1 - t0;
		return blk_status_to_errno(st);
	}
	ret = dml__nvme_submit_wait(n->ctrl, 1, &cmd, &cqe);
	if (ret == -EIO)
		io->status = cqe.status >> 1;
	t2 = dml__now_ns();
	unmap(n, io);
	t3 = dml__now_ns();
	io->map_ns = (t1 - t0) + (t3 - t2);
	io->dev_ns = n->dev_ns;
	io->total_ns = t3 - t0;
	return ret;
}
