/* SPDX-License-Identifier: MIT */
/*
 * queue.c - the NVMe driver's queue pairs: the submission and completion
 * rings in DMA memory, the SQ tail and CQ head doorbells,
 * and polled completions by phase tag (drivers/nvme/host/pci.c:
 * nvme_sq_copy_cmd(), nvme_poll_cq(), nvme_cqe_pending()).  One command is
 * in flight per call: submit, then poll until its completion arrives or the
 * command timeout passes.
 *
 * The rings and the identify buffer are dma_alloc_coherent() memory, on
 * the vfio backend too (where it is anonymous pages mapped with
 * dma_map_phys(), coherent on x86 all the same: src/dma/coherent.c).
 */
#include <errno.h>
#include <string.h>

#include <dmalink/dma-mapping.h>

#include "nvme.h"

/* doorbell offsets with CAP.DSTRD (Base 3.1.4.24) */
static u32 sq_db(const struct dml_nvme_ctrl *ctrl, u16 qid)
{
	return NVME_REG_DBS + (2u * qid << (2 + NVME_CAP_DSTRD(ctrl->cap)));
}

static u32 cq_db(const struct dml_nvme_ctrl *ctrl, u16 qid)
{
	return NVME_REG_DBS + ((2u * qid + 1) << (2 + NVME_CAP_DSTRD(ctrl->cap)));
}

int dml__nvme_queue_alloc(struct dml_nvme_ctrl *ctrl, struct dml_nvme_queue *q,
			  u16 qid, u16 depth)
{
	memset(q, 0, sizeof(*q));
	q->sq = dma_alloc_coherent(ctrl->dev, (size_t)depth * sizeof(*q->sq),
				   &q->sq_dma, GFP_KERNEL);
	if (!q->sq)
		return -ENOMEM;
	q->cq = dma_alloc_coherent(ctrl->dev, (size_t)depth * sizeof(*q->cq),
				   &q->cq_dma, GFP_KERNEL);
	if (!q->cq) {
		dma_free_coherent(ctrl->dev, (size_t)depth * sizeof(*q->sq),
				  q->sq, q->sq_dma);
		q->sq = NULL;
		return -ENOMEM;
	}
	q->qid = qid;
	q->depth = depth;
	q->phase = 1;
	return 0;
}

void dml__nvme_queue_free(struct dml_nvme_ctrl *ctrl, struct dml_nvme_queue *q)
{
	if (!q->sq)
		return;
	dma_free_coherent(ctrl->dev, (size_t)q->depth * sizeof(*q->sq), q->sq,
			  q->sq_dma);
	dma_free_coherent(ctrl->dev, (size_t)q->depth * sizeof(*q->cq), q->cq,
			  q->cq_dma);
	memset(q, 0, sizeof(*q));
}

static struct dml_nvme_queue *queue_get(struct dml_nvme_ctrl *ctrl, u16 qid)
{
	if (!qid)
		return &ctrl->admin;
	if (qid > ctrl->nr_io || !ctrl->io[qid - 1].live)
		return NULL;
	return &ctrl->io[qid - 1];
}

/* the controller stopped: CSTS.CFS set, or the register reads all ones */
static bool ctrl_failed(struct dml_nvme_ctrl *ctrl)
{
	u32 csts = ctrl->bar.read32(ctrl->bar.ctx, NVME_REG_CSTS);

	return csts == ~0u || (csts & NVME_CSTS_CFS);
}

/*
 * dml__nvme_sq_submit - copy a prepared command into queue @qid's SQ
 * with a command id of ours, and write the SQ tail doorbell when @ring
 * (several commands may go with one doorbell: the last rings).  0;
 * -EBUSY when the SQ already holds depth - 1 commands not yet completed;
 * -EINVAL for a queue that does not exist; -ENODEV when the controller
 * needs a reset.
 */
int dml__nvme_sq_submit(struct dml_nvme_ctrl *ctrl, u16 qid, struct nvme_command *cmd,
			bool ring)
{
	struct dml_nvme_queue *q = queue_get(ctrl, qid);

	if (!q)
		return -EINVAL;
	if (ctrl->dead)
		return -ENODEV;
	if (q->inflight == q->depth - 1)
		return -EBUSY;
	cmd->command_id = q->next_cid++;
	memcpy(&q->sq[q->sq_tail], cmd, sizeof(*cmd));
	q->sq_tail = (u16)((q->sq_tail + 1) % q->depth);
	q->inflight++;
	if (ring) {
		atomic_thread_fence(memory_order_release);	/* entries before doorbell */
		ctrl->bar.write32(ctrl->bar.ctx, sq_db(ctrl, qid), q->sq_tail);
	}
	return 0;
}

/*
 * dml__nvme_cq_wait - the next completion of queue @qid into @cqe, its
 * CQ head doorbell written: 0; -ETIMEDOUT when none comes before
 * @deadline (ns of dml__now_ns()) and -ENODEV on controller fatal status
 * (either way the controller then needs a reset); -EINVAL for a queue
 * that does not exist.
 */
int dml__nvme_cq_wait(struct dml_nvme_ctrl *ctrl, u16 qid, struct nvme_completion *cqe,
		      u64 deadline)
{
	struct dml_nvme_queue *q = queue_get(ctrl, qid);

	if (!q)
		return -EINVAL;
	for (;;) {
		volatile struct nvme_completion *e = &q->cq[q->cq_head];

		if ((e->status & 1) == q->phase) {
			atomic_thread_fence(memory_order_acquire);
			memcpy(cqe, (const void *)e, sizeof(*cqe));
			if (++q->cq_head == q->depth) {
				q->cq_head = 0;
				q->phase ^= 1;
			}
			ctrl->bar.write32(ctrl->bar.ctx, cq_db(ctrl, qid), q->cq_head);
			q->inflight--;
			return 0;
		}
		if (ctrl_failed(ctrl)) {
			dml__warn("%s: nvme: controller fatal status (CSTS.CFS) on queue %u",
				  ctrl->dev->name, qid);
			ctrl->dead = true;
			return -ENODEV;
		}
		if (dml__now_ns() > deadline) {
			dml__warn("%s: nvme: a command on queue %u timed out; the controller needs a reset",
				  ctrl->dev->name, qid);
			ctrl->dead = true;
			return -ETIMEDOUT;
		}
	}
}

/*
 * dml__nvme_submit_wait - run one prepared command on queue @qid and wait
 * for its completion: 0 when it succeeded, -EIO with the entry in @cqe when
 * the controller completed it with an error status, -ETIMEDOUT when no
 * completion came within ctrl->cmd_timeout_ns, -ENODEV when the controller
 * is failed (CSTS.CFS) or an earlier timeout left it needing a reset,
 * -EBUSY when the queue is full, -EINVAL for a queue that does not exist.
 * The command id is ours.
 */
int dml__nvme_submit_wait(struct dml_nvme_ctrl *ctrl, u16 qid,
			  struct nvme_command *cmd, struct nvme_completion *cqe)
{
	int ret;

	if (!ctrl || !cmd || !cqe)
		return -EINVAL;
	ret = dml__nvme_sq_submit(ctrl, qid, cmd, true);
	if (!ret)
		ret = dml__nvme_cq_wait(ctrl, qid, cqe, dml__now_ns() + ctrl->cmd_timeout_ns);
	if (ret)
		return ret;
	if (cqe->command_id != cmd->command_id) {
		dml__warn("%s: nvme: completion for command %u on queue %u, expected %u",
			  ctrl->dev->name, cqe->command_id, qid, cmd->command_id);
		ctrl->dead = true;
		return -EIO;
	}
	return cqe->status >> 1 ? -EIO : 0;
}
