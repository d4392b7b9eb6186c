/* SPDX-License-Identifier: MIT */
/*
 * nvme_emu.h - the emulated NVMe controller (nvme_emu.c, nvme_emu_data.c):
 * BAR0 registers and doorbells for the driver of src/nvme, one namespace
 * of 512-byte blocks; every byte it moves is device DMA of its struct
 * dml_device.  Commands run synchronously, on the SQ tail doorbell write.
 */
#ifndef DML_DEV_NVME_EMU_H
#define DML_DEV_NVME_EMU_H

#include "../nvme/nvme.h"
#include "dma_engine.h"

#define DML_NVME_EMU_QUEUES 17		/* admin + 16 I/O */
#define DML_NVME_EMU_LBA_SHIFT 9
#define DML_NVME_EMU_MDTS 5		/* 2^5 pages: 128 KiB */
#define DML_NVME_EMU_MAX_SGL_DESCS 256
/* a command's data segments: PRPs give at most 2^MDTS + 1, an SGL as many as descriptors */
#define DML_NVME_EMU_MAX_SEGS DML_NVME_EMU_MAX_SGL_DESCS
/*
 * their runs of emulated memory: a run ends at its segment's end or at a
 * 4 KiB page boundary (the smallest IOMMU page, the direct and cache
 * frames), and a segment crosses at most len / 4 KiB + 1 boundaries
 */
#define DML_NVME_EMU_MAX_RUNS (2 * DML_NVME_EMU_MAX_SEGS + (1u << DML_NVME_EMU_MDTS))

struct dml_nvme_emu_sq {
	u64 base;
	u16 size, head, tail, cqid;
	bool valid;
};

struct dml_nvme_emu_cq {
	u64 base;
	u16 size, head, tail;
	u8 phase;
	bool valid;
};

/* a piece of a command's data: (DMA address, bytes) */
struct dml_nvme_emu_seg {
	u64 addr;
	u32 len;
};

struct dml_nvme_emu {
	struct dml_device *dev;
	u64 cap, asq, acq;
	u32 cc, csts, aqa;
	u16 nr_io_queues;		/* granted by set features; 0-based */
	struct dml_nvme_emu_sq sq[DML_NVME_EMU_QUEUES];
	struct dml_nvme_emu_cq cq[DML_NVME_EMU_QUEUES];
	u8 *ns;				/* namespace 1 contents */
	u64 nsze;			/* blocks */
	/* the command being run: its data pointer walked, then resolved */
	struct dml_nvme_emu_seg segs[DML_NVME_EMU_MAX_SEGS];
	struct dml__dma_run runs[DML_NVME_EMU_MAX_RUNS];
	u64 *data_ns;			/* ns moving data go here, or NULL */
	/* test knobs */
	bool never_ready;		/* CC.EN=1 never sets CSTS.RDY */
	bool drop_commands;		/* fetch commands, never complete them */
	u64 completed, errors;
};

int dml__nvme_emu_create(struct dml_device *dev, u64 blocks,
			 struct dml_nvme_emu **out);
void dml__nvme_emu_destroy(struct dml_nvme_emu *c);
/* the accessors for dml__nvme_ctrl_create() */
void dml__nvme_emu_bar(struct dml_nvme_emu *c, struct dml_nvme_bar *bar);
/*
 * move @len bytes of @buf to (@to_host) or from the command's data: 0 or
 * a status; every translation is checked before the first byte moves, so
 * a command that fails moved nothing
 */
u16 dml__nvme_emu_xfer(struct dml_nvme_emu *c, const struct nvme_command *cmd,
		       void *buf, u32 len, bool to_host);

/* status field value (without the phase tag) */
#define NVME_EMU_STATUS(sct, sc) ((u16)((sct) << 8 | (sc)))

#endif
