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
	if (o->account_time && bar->account_data)
		bar->account_data(bar->ctx, &n->data_ns);
	ret = dml__nvme_identify(n->ctrl);
	n->depth = o->queue_depth ? o->queue_depth : DEFAULT_DEPTH;
	if (!ret)
		ret = dml__nvme_create_io_queues(n->ctrl, 1, n->depth);
	if (!ret) {
		n->slots = dml__zalloc(n->depth * sizeof(*n->slots));
		ret = n->slots ? 0 : -ENOMEM;
	}
	if (!ret)
		ret = dml__nvme_map_ctx_init(&n->map, dev, n->ctrl->sgl, sgl_policy[o->sgl]);
	if (ret)
		goto destroy;
	*out = n;
	return 0;
destroy:
	dml__free(n->slots);
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
	dml__free(n->slots);
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

/* map @rq's data into @sl's command by @io->strategy; the path taken into @io */
static blk_status_t map(struct dml_nvme *n, struct dml_nvme_slot *sl, struct request *rq,
			struct dml_nvme_io *io)
{
	blk_status_t st;

	if (io->strategy == DML_NVME_MAP_SG && rq->nr_phys_segments > 1) {
		st = dml__nvme_map_sg(&n->map, &sl->sg_iod, rq, &sl->cmd);
		if (st)
			return st;
		io->path = DML_NVME_PATH_SG;
		io->sgl = sl->sg_iod.sgl;
		io->desc_bytes = sl->sg_iod.desc_bytes;
		io->dma_segments = sl->sg_iod.sgt.nents;
		return BLK_STS_OK;
	}
	if (io->strategy == DML_NVME_MAP_PAGE) {
		/*
		 * The iterator takes its per-segment path when the request's
		 * gaps are not mergeable by the IOMMU (blk_rq_dma_map_iter_start());
		 * a copy of the request says so, the bios are the caller's.
		 */
		sl->page_rq = *rq;
		sl->page_rq.gap_mask |= dma_get_merge_boundary(n->map.dev);
		rq = &sl->page_rq;
	}
	st = dml__nvme_map_data(&n->map, &sl->iod, rq, &sl->cmd);
	if (!st)
		iod_report(&sl->iod, &sl->cmd, io);
	return st;
}

/* unmap a slot's data; its mapping time into @io */
static void unmap(struct dml_nvme *n, struct dml_nvme_slot *sl, struct dml_nvme_io *io)
{
	u64 t = dml__now_ns();

	if (io->path == DML_NVME_PATH_SG)
		dml__nvme_unmap_sg(&n->map, &sl->sg_iod);
	else
		dml__nvme_unmap_data(&n->map, &sl->iod);
	io->map_ns += dml__now_ns() - t;
}

/* the checks of dml_nvme_rw_many() that come before anything is mapped */
static bool rw_ok(const struct dml_nvme *n, const struct request *rq,
		  const struct dml_nvme_io *io)
{
	u64 nlb;

	if (!rq || !rq->limits || !rq->bio || !rq->data_len ||
	    (unsigned int)io->strategy > DML_NVME_MAP_SG ||
	    (rq->dir != DMA_TO_DEVICE && rq->dir != DMA_FROM_DEVICE) ||
	    rq->data_len & ((1u << n->ctrl->lba_shift) - 1) ||
	    (n->ctrl->max_xfer && rq->data_len > n->ctrl->max_xfer))
		return false;
	nlb = rq->data_len >> n->ctrl->lba_shift;
	return io->slba < n->ctrl->nsze && nlb <= n->ctrl->nsze - io->slba;
}

static void prepare(struct dml_nvme_slot *sl, const struct request *rq,
		    struct dml_nvme_io *io, u64 nlb)
{
	sl->cmd = (struct nvme_command){ .nsid = 1 };
	sl->cmd.opcode = rq->dir == DMA_TO_DEVICE ? nvme_cmd_write : nvme_cmd_read;
	sl->cmd.cdw10 = (u32)io->slba;
	sl->cmd.cdw11 = (u32)(io->slba >> 32);
	sl->cmd.cdw12 = (u32)(nlb - 1);
	sl->done = false;
	io->path = DML_NVME_PATH_SIMPLE;
	io->sgl = false;
	io->desc_bytes = io->dma_segments = 0;
	io->status = 0;
	io->result = -ECANCELED;
	io->map_ns = io->dev_ns = io->data_ns = io->total_ns = 0;
}

/* collect the completions of @nr commands submitted from slot 0 */
static int reap(struct dml_nvme *n, struct dml_nvme_io *ios, unsigned int nr)
{
	u64 deadline = dml__now_ns() + n->ctrl->cmd_timeout_ns;
	u16 first = n->slots[0].cmd.command_id;
	struct nvme_completion cqe;
	unsigned int left = nr, k;
	int ret;

	while (left) {
		ret = dml__nvme_cq_wait(n->ctrl, 1, &cqe, deadline);
		if (ret)
			return ret;
		k = (u16)(cqe.command_id - first);
		if (k >= nr || n->slots[k].done) {
			dml__warn("%s: nvme: completion for command %u, not one in flight",
				  n->ctrl->dev->name, cqe.command_id);
			n->ctrl->dead = true;
			return -EIO;
		}
		n->slots[k].done = true;
		ios[k].status = cqe.status >> 1;
		ios[k].result = ios[k].status ? -EIO : 0;
		left--;
	}
	return 0;
}

int dml_nvme_rw_many(struct dml_nvme *n, struct request *const *rqs,
		     struct dml_nvme_io *ios, unsigned int nr)
{
	unsigned int i, mapped;
	u64 t0, share, dev, data;
	blk_status_t st = BLK_STS_OK;
	bool submitted;
	int ret = 0;

	if (!n || !rqs || !ios || !nr || nr > n->depth - 1u)
		return -EINVAL;
	for (i = 0; i < nr; i++)
		if (!rw_ok(n, rqs[i], &ios[i]))
			return -EINVAL;
	n->dev_ns = n->data_ns = 0;
	for (mapped = 0; mapped < nr; mapped++) {
		struct dml_nvme_io *io = &ios[mapped];

		prepare(&n->slots[mapped], rqs[mapped], io,
			rqs[mapped]->data_len >> n->ctrl->lba_shift);
		t0 = dml__now_ns();
		st = map(n, &n->slots[mapped], rqs[mapped], io);
		io->map_ns = dml__now_ns() - t0;
		if (st) {
			io->result = blk_status_to_errno(st);
			ret = io->result;
			break;
		}
	}
	t0 = dml__now_ns();
	submitted = !ret;
	for (i = 0; !ret && i < nr; i++)
		ret = dml__nvme_sq_submit(n->ctrl, 1, &n->slots[i].cmd, i == nr - 1);
	if (!ret)
		ret = reap(n, ios, nr);
	share = (dml__now_ns() - t0) / nr;
	dev = n->dev_ns / nr;
	data = n->data_ns / nr;
	for (i = 0; i < mapped; i++) {
		unmap(n, &n->slots[i], &ios[i]);
		if (ios[i].result == -ECANCELED && submitted)
			ios[i].result = ret;	/* no completion: timeout, dead */
		ios[i].dev_ns = dev;
		ios[i].data_ns = data;
		ios[i].total_ns = ios[i].map_ns + share;
	}
	for (i = 0; !ret && i < nr; i++)
		ret = ios[i].result;
	return ret;
}

int dml_nvme_rw(struct dml_nvme *n, struct request *rq, struct dml_nvme_io *io)
{
	return dml_nvme_rw_many(n, &rq, io, 1);
}
