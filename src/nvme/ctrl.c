/* SPDX-License-Identifier: MIT */
/*
 * ctrl.c - the NVMe driver's controller: reset and enable with the CAP.TO
 * timeout (drivers/nvme/host/core.c: nvme_disable_ctrl(),
 * nvme_enable_ctrl(), nvme_wait_ready()), the admin queue
 * (pci.c: nvme_pci_configure_admin_queue()), identify, and the I/O queue
 * pairs (pci.c: nvme_create_queue(), nvme_delete_queue();
 * core.c: nvme_set_queue_count()).  Every queue is coherent memory freed
 * when the controller is destroyed or a step fails, so nothing stays
 * mapped (dma_free_coherent()).
 */
#include <string.h>

#include <dmalink/dma-mapping.h>

#include "nvme.h"

#define ADMIN_DEPTH 32

static u32 rd32(struct dml_nvme_ctrl *ctrl, u32 off)
{
	return ctrl->bar.read32(ctrl->bar.ctx, off);
}

static void wr32(struct dml_nvme_ctrl *ctrl, u32 off, u32 val)
{
	ctrl->bar.write32(ctrl->bar.ctx, off, val);
}

/* wait for CSTS.RDY == @rdy; -ENODEV on CSTS.CFS, -ETIMEDOUT past CAP.TO */
static int wait_ready(struct dml_nvme_ctrl *ctrl, bool rdy)
{
	u64 deadline = dml__now_ns() + ctrl->ready_timeout_ns;

	for (;;) {
		u32 csts = rd32(ctrl, NVME_REG_CSTS);

		if (csts == ~0u || (rdy && (csts & NVME_CSTS_CFS))) {
			dml__warn("%s: nvme: controller fatal status while %s",
				  ctrl->dev->name, rdy ? "enabling" : "disabling");
			return -ENODEV;
		}
		if (!!(csts & NVME_CSTS_RDY) == rdy)
			return 0;
		if (dml__now_ns() > deadline) {
			dml__warn("%s: nvme: CSTS.RDY did not become %d within CAP.TO (%llu ms)",
				  ctrl->dev->name, rdy,
				  (unsigned long long)(ctrl->ready_timeout_ns / 1000000));
			return -ETIMEDOUT;
		}
	}
}

static int disable(struct dml_nvme_ctrl *ctrl)
{
	wr32(ctrl, NVME_REG_CC, rd32(ctrl, NVME_REG_CC) & ~NVME_CC_EN);
	return wait_ready(ctrl, false);
}

static int enable(struct dml_nvme_ctrl *ctrl)
{
	u32 aqa = (ADMIN_DEPTH - 1) << 16 | (ADMIN_DEPTH - 1);

	wr32(ctrl, NVME_REG_AQA, aqa);
	ctrl->bar.write64(ctrl->bar.ctx, NVME_REG_ASQ, ctrl->admin.sq_dma);
	ctrl->bar.write64(ctrl->bar.ctx, NVME_REG_ACQ, ctrl->admin.cq_dma);
	wr32(ctrl, NVME_REG_CC, NVME_CC_CSS_NVM | NVME_CC_AMS_RR |
	     0u << NVME_CC_MPS_SHIFT | 6u << NVME_CC_IOSQES_SHIFT |
	     4u << NVME_CC_IOCQES_SHIFT | NVME_CC_EN);
	return wait_ready(ctrl, true);
}

/*
 * dml__nvme_ctrl_create - reset the controller behind @bar, set up the
 * admin queue and enable it: 0 with *out, -EINVAL for bad arguments or a
 * controller without the NVM command set or 4 KiB pages, -ENOMEM,
 * -ETIMEDOUT when CSTS.RDY does not follow CC.EN within CAP.TO, -ENODEV
 * on controller fatal status.  On failure nothing stays allocated.
 */
int dml__nvme_ctrl_create(struct dml_device *dev,
			  const struct dml_nvme_bar *bar,
			  struct dml_nvme_ctrl **out)
{
	struct dml_nvme_ctrl *ctrl;
	int ret;

	if (!dev || !bar || !out)
		return -EINVAL;
	ctrl = dml__zalloc(sizeof(*ctrl));
	if (!ctrl)
		return -ENOMEM;
	ctrl->dev = dev;
	ctrl->bar = *bar;
	ctrl->cap = bar->read64(bar->ctx, NVME_REG_CAP);
	ctrl->ready_timeout_ns = ((u64)NVME_CAP_TO(ctrl->cap) + 1) * 500000000ULL;
	ctrl->cmd_timeout_ns = DML_NVME_CMD_TIMEOUT_NS;
	if (ctrl->cap == ~0ULL || !(ctrl->cap & NVME_CAP_CSS_NVM) ||
	    NVME_CAP_MPSMIN(ctrl->cap) || NVME_CAP_MQES(ctrl->cap) < 1) {
		dml__warn("%s: nvme: unsupported controller (CAP %#llx)",
			  dev->name, (unsigned long long)ctrl->cap);
		ret = -EINVAL;
		goto free;
	}
	ret = disable(ctrl);
	if (ret)
		goto free;
	ret = dml__nvme_queue_alloc(ctrl, &ctrl->admin, 0, ADMIN_DEPTH);
	if (ret)
		goto free;
	ret = enable(ctrl);
	if (ret)
		goto disable;
	ctrl->admin.live = true;
	*out = ctrl;
	return 0;
disable:
	disable(ctrl);	/* the controller lets go of the admin queue first */
	dml__nvme_queue_free(ctrl, &ctrl->admin);
free:
	dml__free(ctrl);
	return ret;
}

static void id_get(const u8 *id, unsigned int off, void *v, size_t n)
{
	memcpy(v, id + off, n);
}

/*
 * dml__nvme_identify - identify the controller and namespace 1: fills
 * nn, max_xfer, sgl, nsze and lba_shift.  0, -ENOMEM, or the error of
 * dml__nvme_submit_wait(); -EINVAL for a block size the driver cannot use.
 */
int dml__nvme_identify(struct dml_nvme_ctrl *ctrl)
{
	struct nvme_completion cqe;
	struct nvme_command cmd;
	dma_addr_t dma;
	u32 sgls, lbaf;
	u8 *id, mdts;
	int ret;

	id = dma_alloc_coherent(ctrl->dev, NVME_IDENTIFY_SIZE, &dma, GFP_KERNEL);
	if (!id)
		return -ENOMEM;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_identify;
	cmd.dptr.prp1 = dma;
	cmd.cdw10 = NVME_ID_CNS_CTRL;
	ret = dml__nvme_submit_wait(ctrl, 0, &cmd, &cqe);
	if (ret)
		goto out;
	id_get(id, NVME_ID_CTRL_NN, &ctrl->nn, 4);
	id_get(id, NVME_ID_CTRL_SGLS, &sgls, 4);
	mdts = id[NVME_ID_CTRL_MDTS];
	ctrl->sgl = sgls & 3;
	ctrl->max_xfer = mdts && mdts < 20 ? NVME_CTRL_PAGE_SIZE << mdts : 0;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_identify;
	cmd.nsid = 1;
	cmd.dptr.prp1 = dma;
	cmd.cdw10 = NVME_ID_CNS_NS;
	ret = dml__nvme_submit_wait(ctrl, 0, &cmd, &cqe);
	if (ret)
		goto out;
	id_get(id, NVME_ID_NS_NSZE, &ctrl->nsze, 8);
	id_get(id, NVME_ID_NS_LBAF0 + 4 * (id[NVME_ID_NS_FLBAS] & 0xf), &lbaf, 4);
	ctrl->lba_shift = (lbaf >> 16) & 0xff;
	if (ctrl->lba_shift < 9 || ctrl->lba_shift > 16)
		ret = -EINVAL;
out:
	dma_free_coherent(ctrl->dev, NVME_IDENTIFY_SIZE, id, dma);
	return ret;
}

static int admin_cmd(struct dml_nvme_ctrl *ctrl, u8 opcode, u64 prp1,
		     u32 cdw10, u32 cdw11, u32 *result)
{
	struct nvme_command cmd = { .opcode = opcode, .cdw10 = cdw10,
				    .cdw11 = cdw11 };
	struct nvme_completion cqe;
	int ret;

	cmd.dptr.prp1 = prp1;
	ret = dml__nvme_submit_wait(ctrl, 0, &cmd, &cqe);
	if (!ret && result)
		*result = cqe.result;
	if (ret == -EIO)
		dml__warn("%s: nvme: admin command %#x failed: status %#x",
			  ctrl->dev->name, opcode, cqe.status >> 1);
	return ret;
}

static int create_pair(struct dml_nvme_ctrl *ctrl, u16 qid, u16 depth)
{
	struct dml_nvme_queue *q = &ctrl->io[qid - 1];
	u32 size = (u32)(depth - 1) << 16 | qid;
	int ret;

	ret = dml__nvme_queue_alloc(ctrl, q, qid, depth);
	if (ret)
		return ret;
	ret = admin_cmd(ctrl, nvme_admin_create_cq, q->cq_dma, size,
			NVME_QUEUE_PHYS_CONTIG, NULL);
	if (ret)
		goto free;
	ret = admin_cmd(ctrl, nvme_admin_create_sq, q->sq_dma, size,
			(u32)qid << 16 | NVME_QUEUE_PHYS_CONTIG, NULL);
	if (ret) {
		admin_cmd(ctrl, nvme_admin_delete_cq, 0, qid, 0, NULL);
		goto free;
	}
	q->live = true;
	ctrl->nr_io = qid;
	return 0;
free:
	/* after a timeout the controller may still own the rings: disable */
	if (ctrl->dead)
		disable(ctrl);
	dml__nvme_queue_free(ctrl, q);
	return ret;
}

/*
 * dml__nvme_create_io_queues - ask for @nr I/O queue pairs (set features,
 * number of queues) and create as many as granted, up to @nr, of @depth
 * entries each: 0, -EINVAL (@nr or @depth out of range, queues already
 * created), -ENOMEM, or the error of dml__nvme_submit_wait(); on error the
 * pairs already created stay, dml__nvme_delete_io_queues() removes them.
 */
int dml__nvme_create_io_queues(struct dml_nvme_ctrl *ctrl, unsigned int nr,
			       u16 depth)
{
	u32 result;
	unsigned int got, i;
	int ret;

	if (!ctrl || !nr || nr > DML_NVME_MAX_IO_QUEUES || ctrl->nr_io ||
	    depth < 2 || depth > NVME_CAP_MQES(ctrl->cap) + 1u)
		return -EINVAL;
	ret = admin_cmd(ctrl, nvme_admin_set_features, 0, NVME_FEAT_NUM_QUEUES,
			(nr - 1) << 16 | (nr - 1), &result);
	if (ret)
		return ret;
	got = min(result & 0xffff, result >> 16) + 1;
	for (i = 1; i <= min(nr, got); i++) {
		ret = create_pair(ctrl, (u16)i, depth);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * dml__nvme_delete_io_queues - delete every I/O queue pair, SQ before CQ,
 * and free the rings: 0, or the first error of a delete command (the
 * rings are freed all the same once the controller is disabled).
 */
int dml__nvme_delete_io_queues(struct dml_nvme_ctrl *ctrl)
{
	int ret = 0, err;

	while (ctrl->nr_io) {
		struct dml_nvme_queue *q = &ctrl->io[ctrl->nr_io - 1];

		err = admin_cmd(ctrl, nvme_admin_delete_sq, 0, q->qid, 0, NULL);
		if (!err)
			err = admin_cmd(ctrl, nvme_admin_delete_cq, 0, q->qid, 0,
					NULL);
		if (err && !ret) {
			ret = err;
			disable(ctrl);	/* it must not touch the rings we free */
		}
		dml__nvme_queue_free(ctrl, q);
		ctrl->nr_io--;
	}
	return ret;
}

/*
 * dml__nvme_ctrl_destroy - delete the I/O queues, shut the controller down
 * (CC.EN cleared; drivers/nvme/host/core.c: nvme_disable_ctrl()) and free
 * every ring: nothing the driver mapped stays mapped.
 */
void dml__nvme_ctrl_destroy(struct dml_nvme_ctrl *ctrl)
{
	if (!ctrl)
		return;
	dml__nvme_delete_io_queues(ctrl);
	disable(ctrl);
	dml__nvme_queue_free(ctrl, &ctrl->admin);
	dml__free(ctrl);
}
