/* SPDX-License-Identifier: MIT */
/*
 * nvme.h - the user-space NVMe driver (internal): a controller is reached
 * through struct dml_nvme_bar, BAR0's register accessors (the emulated
 * controller of src/dev/nvme_emu.c, or a VFIO BAR0 mapping: src/vfio/
 * nvme.c), and does its DMA through the struct dml_device it was created
 * for.  Queues are dma_alloc_coherent() memory (on vfio too); completions
 * are polled with phase tags (drivers/nvme/host/pci.c, nvme_poll_cq()).  Commands are prepared by the
 * caller, data pointer included; the driver assigns the command id.
 */
#ifndef DML_NVME_NVME_H
#define DML_NVME_NVME_H

#include <dmalink/nvme.h>

#include "../base/device.h"
#include "spec.h"
#include "pci-map.h"
#include "sg-map.h"

/*
 * BAR0 register access; @ctx is the accessors' own.  @account_data, an
 * emulated controller's only (NULL for a real one, whose DMA engine moves
 * the data without the CPU): from then on add the CPU time it spends
 * moving data bytes, ns, to *@ns (NULL: stop).
 */
struct dml_nvme_bar {
	void *ctx;
	u32 (*read32)(void *ctx, u32 off);
	u64 (*read64)(void *ctx, u32 off);
	void (*write32)(void *ctx, u32 off, u32 val);
	void (*write64)(void *ctx, u32 off, u64 val);
	void (*account_data)(void *ctx, u64 *ns);
};

#define DML_NVME_MAX_IO_QUEUES 16

struct dml_nvme_queue {
	struct nvme_command *sq;
	struct nvme_completion *cq;
	dma_addr_t sq_dma, cq_dma;
	u16 qid, depth, sq_tail, cq_head, next_cid;
	u16 inflight;		/* submitted, completion not yet consumed */
	u8 phase;
	bool live;		/* created on the controller */
};

struct dml_nvme_ctrl {
	struct dml_device *dev;
	struct dml_nvme_bar bar;
	u64 cap;
	u64 ready_timeout_ns;	/* CAP.TO */
	u64 cmd_timeout_ns;
	bool dead;		/* a command timed out or CSTS.CFS: reset needed */
	struct dml_nvme_queue admin;
	struct dml_nvme_queue io[DML_NVME_MAX_IO_QUEUES];
	unsigned int nr_io;
	/* from identify */
	u32 nn;			/* namespaces */
	u32 max_xfer;		/* bytes, from MDTS; 0: no limit */
	bool sgl;		/* SGLs supported for I/O */
	u64 nsze;		/* namespace 1, blocks */
	u32 lba_shift;
};

/* the I/O command timeout unless the caller sets another (the kernel's 30 s) */
#define DML_NVME_CMD_TIMEOUT_NS (30ULL * 1000000000ULL)

int dml__nvme_ctrl_create(struct dml_device *dev,
			  const struct dml_nvme_bar *bar,
			  struct dml_nvme_ctrl **out);
void dml__nvme_ctrl_destroy(struct dml_nvme_ctrl *ctrl);
int dml__nvme_identify(struct dml_nvme_ctrl *ctrl);
int dml__nvme_create_io_queues(struct dml_nvme_ctrl *ctrl, unsigned int nr,
			       u16 depth);
int dml__nvme_delete_io_queues(struct dml_nvme_ctrl *ctrl);
/* queue.c */
int dml__nvme_queue_alloc(struct dml_nvme_ctrl *ctrl, struct dml_nvme_queue *q,
			  u16 qid, u16 depth);
void dml__nvme_queue_free(struct dml_nvme_ctrl *ctrl, struct dml_nvme_queue *q);
int dml__nvme_submit_wait(struct dml_nvme_ctrl *ctrl, u16 qid,
			  struct nvme_command *cmd,
			  struct nvme_completion *cqe);
int dml__nvme_sq_submit(struct dml_nvme_ctrl *ctrl, u16 qid, struct nvme_command *cmd,
			bool ring);
int dml__nvme_cq_wait(struct dml_nvme_ctrl *ctrl, u16 qid, struct nvme_completion *cqe,
		      u64 deadline);

/* api.c: what one command in flight of dml_nvme_rw_many() keeps */
struct dml_nvme_slot {
	struct nvme_command cmd;
	struct dml_nvme_iod iod;	/* the iterator's paths */
	struct dml_nvme_sg_iod sg_iod;	/* DML_NVME_MAP_SG */
	struct request page_rq;		/* DML_NVME_MAP_PAGE's copy of the request */
	bool done;			/* its completion came */
};

/* api.c: the public handle of <dmalink/nvme.h> */
struct dml_nvme {
	struct dml_nvme_ctrl *ctrl;
	struct dml_nvme_map_ctx map;
	struct dml_nvme_bar bar;	/* the controller's own accessors */
	u64 dev_ns;			/* in them, with account_time */
	u64 data_ns;			/* of which moving data (emulated) */
	struct dml_nvme_slot *slots;	/* one per command in flight */
	u16 depth;			/* of the I/O queue: depth - 1 in flight */
	/* what built the controller: dml_nvme_close() hands it back */
	void *backend;
	void (*backend_free)(void *backend);
};

/*
 * dml__nvme_open - dml_nvme_open() on the controller behind @bar, with
 * @o already copied and checked: 0 with *out, or its errors.
 */
int dml__nvme_open(struct dml_device *dev, const struct dml_nvme_bar *bar,
		   const struct dml_nvme_opts *o, struct dml_nvme **out);

#endif
