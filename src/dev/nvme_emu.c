/* SPDX-License-Identifier: MIT */
/*
 * nvme_emu.c - the emulated NVMe controller (NVMe Base 2.0, NVM command
 * set): BAR0 registers (CAP, VS, CC, CSTS, AQA, ASQ, ACQ), doorbells, the
 * admin commands a driver needs to bring it up (identify controller and
 * namespace, set features number of queues, create and delete I/O SQs and
 * CQs) and read, write and flush on namespace 1, 512-byte blocks held in
 * host memory.  Queue entries, PRP lists, SGLs and data all move by the
 * device's DMA (dma_engine.c), so an unmapped or stale IOVA becomes a
 * command error (Data Transfer Error), or, for a queue entry, Controller
 * Fatal Status.
 *
 * Processing is synchronous: an SQ tail doorbell write runs every command
 * up to the new tail before it returns, posting each completion (with the
 * phase tag) while the CQ has room; a CQ head doorbell write resumes SQs
 * that waited for room.  The model is deterministic; no thread runs.
 */
#include <string.h>
#include <sys/mman.h>

#include <dmalink/dmalink.h>

#include "../base/base.h"
#include "nvme_emu.h"

#define STATUS(sc) NVME_EMU_STATUS(0, sc)
#define QSTATUS(sc) NVME_EMU_STATUS(NVME_SCT_CMD_SPECIFIC, sc)
#define EMU_MQES 1023		/* entries - 1 */
#define EMU_CAP_TO 1		/* 500 ms */

static void fatal(struct dml_nvme_emu *c, const char *why)
{
	if (!(c->csts & NVME_CSTS_CFS))
		dml__warn("%s: nvme: controller fatal: %s", c->dev->name, why);
	c->csts |= NVME_CSTS_CFS;
}

/* post a completion for @sqid; false when the CQ is full */
static bool post(struct dml_nvme_emu *c, u16 sqid, u16 cid, u32 result,
		 u16 status)
{
	struct dml_nvme_emu_sq *sq = &c->sq[sqid];
	struct dml_nvme_emu_cq *cq = &c->cq[sq->cqid];
	struct nvme_completion e = {
		.result = result,
		.sq_head = sq->head,
		.sq_id = sqid,
		.command_id = cid,
	};

	if ((u16)((cq->tail + 1) % cq->size) == cq->head)
		return false;
	if (status)
		status |= 1U << NVME_SC_DNR_SHIFT;
	e.status = (u16)(status << 1 | cq->phase);
	if (dml_dev_dma_write(c->dev, cq->base + (u64)cq->tail * sizeof(e),
			      &e, sizeof(e))) {
		fatal(c, "completion queue entry write faulted");
		return true;
	}
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase ^= 1;
	}
	if (status)
		c->errors++;
	c->completed++;
	return true;
}

static u16 identify(struct dml_nvme_emu *c, const struct nvme_command *cmd)
{
	u8 id[NVME_IDENTIFY_SIZE] = { 0 };
	u32 nn = 1, sgls = 1, lbaf = DML_NVME_EMU_LBA_SHIFT << 16;

	switch (cmd->cdw10 & 0xff) {
	case NVME_ID_CNS_CTRL:
		memcpy(id, "\x36\x1b\x36\x1b", 4);	/* VID, SSVID: QEMU's */
		memcpy(id + 4, "DMLNVME0            ", 20);
		memcpy(id + 24, "dmalink emulated NVMe controller        ", 40);
		memcpy(id + 64, "1.0     ", 8);
		id[NVME_ID_CTRL_MDTS] = DML_NVME_EMU_MDTS;
		id[NVME_ID_CTRL_SQES] = 0x66;
		id[NVME_ID_CTRL_CQES] = 0x44;
		memcpy(id + NVME_ID_CTRL_NN, &nn, 4);
		memcpy(id + NVME_ID_CTRL_SGLS, &sgls, 4);
		break;
	case NVME_ID_CNS_NS:
		if (cmd->nsid != 1)
			return STATUS(NVME_SC_INVALID_NS);
		memcpy(id + NVME_ID_NS_NSZE, &c->nsze, 8);
		memcpy(id + NVME_ID_NS_NCAP, &c->nsze, 8);
		memcpy(id + NVME_ID_NS_NUSE, &c->nsze, 8);
		memcpy(id + NVME_ID_NS_LBAF0, &lbaf, 4);
		break;
	default:
		return STATUS(NVME_SC_INVALID_FIELD);
	}
	return dml__nvme_emu_xfer(c, cmd, id, sizeof(id), true);
}

/* the queue's memory: PRP1, page aligned, physically contiguous only */
static u16 queue_args(const struct nvme_command *cmd, u16 *qid, u16 *size)
{
	*qid = cmd->cdw10 & 0xffff;
	*size = (u16)(cmd->cdw10 >> 16);
	if (!(cmd->cdw11 & NVME_QUEUE_PHYS_CONTIG) || NVME_CMD_PSDT(cmd))
		return STATUS(NVME_SC_INVALID_FIELD);
	if (cmd->dptr.prp1 & (NVME_CTRL_PAGE_SIZE - 1))
		return STATUS(NVME_SC_PRP_INVALID_OFFSET);
	if (!*size || *size > EMU_MQES)
		return QSTATUS(NVME_SC_QUEUE_SIZE);
	*size += 1;
	return 0;
}

static bool io_qid_ok(struct dml_nvme_emu *c, u16 qid)
{
	return qid && qid < DML_NVME_EMU_QUEUES && qid <= c->nr_io_queues + 1u;
}

static u16 create_cq(struct dml_nvme_emu *c, const struct nvme_command *cmd)
{
	u16 qid, size, st;

	if (!io_qid_ok(c, cmd->cdw10 & 0xffff) || c->cq[cmd->cdw10 & 0xffff].valid)
		return QSTATUS(NVME_SC_QID_INVALID);
	st = queue_args(cmd, &qid, &size);
	if (st)
		return st;
	c->cq[qid] = (struct dml_nvme_emu_cq){ .base = cmd->dptr.prp1,
		.size = size, .phase = 1, .valid = true };
	return 0;
}

static u16 create_sq(struct dml_nvme_emu *c, const struct nvme_command *cmd)
{
	u16 qid, size, st, cqid = (u16)(cmd->cdw11 >> 16);

	if (!io_qid_ok(c, cmd->cdw10 & 0xffff) || c->sq[cmd->cdw10 & 0xffff].valid)
		return QSTATUS(NVME_SC_QID_INVALID);
	if (!cqid || cqid >= DML_NVME_EMU_QUEUES || !c->cq[cqid].valid)
		return QSTATUS(NVME_SC_CQ_INVALID);
	st = queue_args(cmd, &qid, &size);
	if (st)
		return st;
	c->sq[qid] = (struct dml_nvme_emu_sq){ .base = cmd->dptr.prp1,
		.size = size, .cqid = cqid, .valid = true };
	return 0;
}

static u16 delete_queue(struct dml_nvme_emu *c, const struct nvme_command *cmd)
{
	u16 qid = cmd->cdw10 & 0xffff, i;

	if (!qid || qid >= DML_NVME_EMU_QUEUES)
		return QSTATUS(NVME_SC_QID_INVALID);
	if (cmd->opcode == nvme_admin_delete_sq) {
		if (!c->sq[qid].valid)
			return QSTATUS(NVME_SC_QID_INVALID);
		c->sq[qid].valid = false;
		return 0;
	}
	if (!c->cq[qid].valid)
		return QSTATUS(NVME_SC_QID_INVALID);
	for (i = 1; i < DML_NVME_EMU_QUEUES; i++)
		if (c->sq[i].valid && c->sq[i].cqid == qid)
			return QSTATUS(NVME_SC_QUEUE_DELETE);
	c->cq[qid].valid = false;
	return 0;
}

static u16 set_features(struct dml_nvme_emu *c, const struct nvme_command *cmd,
			u32 *result)
{
	u16 nsqr = cmd->cdw11 & 0xffff, ncqr = (u16)(cmd->cdw11 >> 16);
	u16 want;

	if ((cmd->cdw10 & 0xff) != NVME_FEAT_NUM_QUEUES ||
	    nsqr == 0xffff || ncqr == 0xffff)
		return STATUS(NVME_SC_INVALID_FIELD);
	want = nsqr > ncqr ? nsqr : ncqr;
	c->nr_io_queues = want < DML_NVME_EMU_QUEUES - 2 ? want :
			  DML_NVME_EMU_QUEUES - 2;
	*result = (u32)c->nr_io_queues << 16 | c->nr_io_queues;
	return 0;
}

static u16 admin(struct dml_nvme_emu *c, const struct nvme_command *cmd,
		 u32 *result)
{
	switch (cmd->opcode) {
	case nvme_admin_identify:
		return identify(c, cmd);
	case nvme_admin_set_features:
		return set_features(c, cmd, result);
	case nvme_admin_create_cq:
		return create_cq(c, cmd);
	case nvme_admin_create_sq:
		return create_sq(c, cmd);
	case nvme_admin_delete_sq:
	case nvme_admin_delete_cq:
		return delete_queue(c, cmd);
	default:
		return STATUS(NVME_SC_INVALID_OPCODE);
	}
}

static u16 io_rw(struct dml_nvme_emu *c, const struct nvme_command *cmd)
{
	u64 slba = cmd->cdw10 | (u64)cmd->cdw11 << 32;
	u32 nlb = (cmd->cdw12 & 0xffff) + 1;
	u32 len = nlb << DML_NVME_EMU_LBA_SHIFT;
	u8 *blk;

	if (cmd->nsid != 1)
		return STATUS(NVME_SC_INVALID_NS);
	if (slba >= c->nsze || nlb > c->nsze - slba)
		return STATUS(NVME_SC_LBA_RANGE);
	if (len > NVME_CTRL_PAGE_SIZE << DML_NVME_EMU_MDTS)
		return STATUS(NVME_SC_INVALID_FIELD);
	blk = c->ns + (slba << DML_NVME_EMU_LBA_SHIFT);
	/* straight between host memory and the blocks: a write lands whole */
	return dml__nvme_emu_xfer(c, cmd, blk, len, cmd->opcode == nvme_cmd_read);
}

static u16 io(struct dml_nvme_emu *c, const struct nvme_command *cmd)
{
	switch (cmd->opcode) {
	case nvme_cmd_read:
	case nvme_cmd_write:
		return io_rw(c, cmd);
	case nvme_cmd_flush:
		return cmd->nsid == 1 || cmd->nsid == 0xffffffff ? 0 :
		       STATUS(NVME_SC_INVALID_NS);
	default:
		return STATUS(NVME_SC_INVALID_OPCODE);
	}
}

/* run @sqid's commands up to its tail while its CQ has room */
static void process_sq(struct dml_nvme_emu *c, u16 sqid)
{
	struct dml_nvme_emu_sq *sq = &c->sq[sqid];

	while (sq->valid && sq->head != sq->tail &&
	       !(c->csts & NVME_CSTS_CFS)) {
		struct dml_nvme_emu_cq *cq = &c->cq[sq->cqid];
		struct nvme_command cmd;
		u32 result = 0;
		u16 st;

		if ((u16)((cq->tail + 1) % cq->size) == cq->head)
			return;	/* resumed by the CQ head doorbell */
		if (dml_dev_dma_read(c->dev, sq->base + (u64)sq->head * sizeof(cmd),
				     &cmd, sizeof(cmd))) {
			fatal(c, "submission queue entry read faulted");
			return;
		}
		sq->head = (u16)((sq->head + 1) % sq->size);
		if (c->drop_commands)
			continue;
		if (cmd.flags & 3)	/* fused operations: not supported */
			st = STATUS(NVME_SC_INVALID_FIELD);
		else if (sqid)
			st = io(c, &cmd);
		else if (NVME_CMD_PSDT(&cmd))	/* admin: PRPs only (PCIe) */
			st = STATUS(NVME_SC_INVALID_FIELD);
		else
			st = admin(c, &cmd, &result);
		post(c, sqid, cmd.command_id, result, st);
	}
}

static void reset(struct dml_nvme_emu *c)
{
	memset(c->sq, 0, sizeof(c->sq));
	memset(c->cq, 0, sizeof(c->cq));
	c->nr_io_queues = 0;
	c->csts = 0;
}

static void enable(struct dml_nvme_emu *c)
{
	u16 sqs = NVME_AQA_ASQS(c->aqa) + 1, cqs = NVME_AQA_ACQS(c->aqa) + 1;

	if (sqs < 2 || cqs < 2 || (c->asq | c->acq) & (NVME_CTRL_PAGE_SIZE - 1) ||
	    (c->cc >> NVME_CC_MPS_SHIFT & 0xf)) {
		fatal(c, "bad admin queue or page size at enable");
		return;
	}
	c->sq[0] = (struct dml_nvme_emu_sq){ .base = c->asq, .size = sqs,
		.valid = true };
	c->cq[0] = (struct dml_nvme_emu_cq){ .base = c->acq, .size = cqs,
		.phase = 1, .valid = true };
	if (!c->never_ready)
		c->csts |= NVME_CSTS_RDY;
}

static void write_cc(struct dml_nvme_emu *c, u32 val)
{
	u32 old = c->cc;

	c->cc = val;
	if ((old & NVME_CC_EN) && !(val & NVME_CC_EN))
		reset(c);
	else if (!(old & NVME_CC_EN) && (val & NVME_CC_EN))
		enable(c);
	if ((val & NVME_CC_SHN_MASK) && (c->csts & NVME_CSTS_RDY))
		c->csts = (c->csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_CMPLT;
}

static void doorbell(struct dml_nvme_emu *c, u32 off, u32 val)
{
	u32 idx = (off - NVME_REG_DBS) / 4, q = idx / 2, i;

	if (!(c->csts & NVME_CSTS_RDY) || q >= DML_NVME_EMU_QUEUES)
		return;
	if (!(idx & 1)) {
		if (!c->sq[q].valid || val >= c->sq[q].size)
			return;	/* invalid doorbell write: ignored */
		c->sq[q].tail = (u16)val;
		process_sq(c, (u16)q);
		return;
	}
	if (!c->cq[q].valid || val >= c->cq[q].size)
		return;
	c->cq[q].head = (u16)val;
	for (i = 0; i < DML_NVME_EMU_QUEUES; i++)
		if (c->sq[i].valid && c->sq[i].cqid == q)
			process_sq(c, (u16)i);
}

static u32 reg_read32(void *ctx, u32 off)
{
	struct dml_nvme_emu *c = ctx;

	switch (off) {
	case NVME_REG_CAP: return (u32)c->cap;
	case NVME_REG_CAP + 4: return (u32)(c->cap >> 32);
	case NVME_REG_VS: return 0x00020000;	/* 2.0 */
	case NVME_REG_CC: return c->cc;
	case NVME_REG_CSTS: return c->csts;
	case NVME_REG_AQA: return c->aqa;
	case NVME_REG_ASQ: return (u32)c->asq;
	case NVME_REG_ASQ + 4: return (u32)(c->asq >> 32);
	case NVME_REG_ACQ: return (u32)c->acq;
	case NVME_REG_ACQ + 4: return (u32)(c->acq >> 32);
	default: return 0;
	}
}

static u64 reg_read64(void *ctx, u32 off)
{
	return reg_read32(ctx, off) | (u64)reg_read32(ctx, off + 4) << 32;
}

static void set_half(u64 *reg, bool high, u32 val)
{
	*reg = high ? (*reg & 0xffffffffULL) | (u64)val << 32
		    : (*reg & ~0xffffffffULL) | val;
}

static void reg_write32(void *ctx, u32 off, u32 val)
{
	struct dml_nvme_emu *c = ctx;

	if (off >= NVME_REG_DBS) {
		doorbell(c, off, val);
		return;
	}
	/* AQA, ASQ, ACQ are read-only while enabled */
	switch (off) {
	case NVME_REG_CC:
		write_cc(c, val);
		break;
	case NVME_REG_AQA:
		if (!(c->cc & NVME_CC_EN))
			c->aqa = val;
		break;
	case NVME_REG_ASQ:
	case NVME_REG_ASQ + 4:
		if (!(c->cc & NVME_CC_EN))
			set_half(&c->asq, off != NVME_REG_ASQ, val);
		break;
	case NVME_REG_ACQ:
	case NVME_REG_ACQ + 4:
		if (!(c->cc & NVME_CC_EN))
			set_half(&c->acq, off != NVME_REG_ACQ, val);
		break;
	default:
		break;
	}
}

static void reg_write64(void *ctx, u32 off, u64 val)
{
	reg_write32(ctx, off, (u32)val);
	reg_write32(ctx, off + 4, (u32)(val >> 32));
}

static void account_data(void *ctx, u64 *ns)
{
	struct dml_nvme_emu *c = ctx;

	c->data_ns = ns;
}

void dml__nvme_emu_bar(struct dml_nvme_emu *c, struct dml_nvme_bar *bar)
{
	*bar = (struct dml_nvme_bar){ .ctx = c, .read32 = reg_read32,
		.read64 = reg_read64, .write32 = reg_write32,
		.write64 = reg_write64, .account_data = account_data };
}

/*
 * the namespace's media: zeroed memory, in huge pages where the host
 * gives them (a command's blocks are one TLB entry, not one per 4 KiB:
 * the data copies of the replay touch random blocks of 64 MiB and more)
 */
static u8 *ns_alloc(size_t bytes)
{
	void *p = dml__vm_zalloc(bytes);

	if (p)
		madvise(p, bytes, MADV_HUGEPAGE);	/* a hint: 4 KiB pages also do */
	return p;
}

int dml__nvme_emu_create(struct dml_device *dev, u64 blocks,
			 struct dml_nvme_emu **out)
{
	struct dml_nvme_emu *c;

	if (!dev || !out || !blocks || blocks > (1ULL << 31) >> DML_NVME_EMU_LBA_SHIFT)
		return -EINVAL;
	c = dml__zalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->nsze = blocks;
	c->ns = ns_alloc(blocks << DML_NVME_EMU_LBA_SHIFT);
	if (!c->ns) {
		dml__nvme_emu_destroy(c);
		return -ENOMEM;
	}
	c->dev = dev;
	c->cap = EMU_MQES | NVME_CAP_CQR | (u64)EMU_CAP_TO << NVME_CAP_TO_SHIFT |
		 NVME_CAP_CSS_NVM;
	*out = c;
	return 0;
}

void dml__nvme_emu_destroy(struct dml_nvme_emu *c)
{
	if (!c)
		return;
	dml__vm_free(c->ns, c->nsze << DML_NVME_EMU_LBA_SHIFT);
	dml__free(c);
}
