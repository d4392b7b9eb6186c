/* SPDX-License-Identifier: MIT */
/*
 * fuzz_nvme_ctrl.c - libFuzzer harness: random 64-byte submission entries,
 * and PRP lists and SGLs in memory, fed to the emulated NVMe controller
 * (src/dev/nvme_emu*.c) through the driver (src/nvme) behind an emulated
 * VT-d unit.  Every entry must complete, with a status: the driver returns
 * 0 or -EIO, the controller's completion count moves by one, and it never
 * reports Controller Fatal Status (its rings are always mapped).
 *
 * Input.  Byte 0: how many 64-byte chunks of memory follow (mod 64); they
 * are copied to the start of a 64 KiB coherent buffer at IOVA `base`,
 * where PRP lists and SGL segments may lie.  Then each group of 65 bytes
 * is one command: a control byte (bit 0: the admin queue, else I/O queue
 * 1; bit 1: the data pointer's addresses are offsets into the buffer,
 * else IOVAs as they are) and the entry.  Admin commands that create or
 * delete queues are skipped: the driver owns its queues.
 *
 * Deterministic: one fresh platform per input, no threads; the command
 * timeout is there only to turn a missing completion into a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmalink/dma-mapping.h>

#include "fuzz.h"

#include "dev/nvme_emu.h"

#define BUF (64u << 10)
#define BLOCKS 256

#define FUZZ_CHECK(x)							\
	do {								\
		if (!(x)) {						\
			fprintf(stderr, "fuzz_nvme_ctrl:%d: %s\n",	\
				__LINE__, #x);				\
			abort();					\
		}							\
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dml_set_log(fuzz_quiet, NULL);
	return 0;
}

static bool queue_op(u8 opcode)
{
	return opcode == nvme_admin_create_sq || opcode == nvme_admin_create_cq ||
	       opcode == nvme_admin_delete_sq || opcode == nvme_admin_delete_cq;
}

static void run(struct dml_nvme_ctrl *ctrl, struct dml_nvme_emu *emu,
		dma_addr_t base, const uint8_t *data, size_t size)
{
	while (size >= 1 + sizeof(struct nvme_command)) {
		struct nvme_completion cqe;
		struct nvme_command cmd;
		u8 ctl = data[0];
		u16 qid = ctl & 1 ? 0 : 1;
		u64 done = emu->completed;
		int ret;

		memcpy(&cmd, data + 1, sizeof(cmd));
		data += 1 + sizeof(cmd);
		size -= 1 + sizeof(cmd);
		if (!qid && queue_op(cmd.opcode))
			continue;
		if (ctl & 2) {
			cmd.dptr.prp1 = base + cmd.dptr.prp1 % BUF;
			if (NVME_CMD_PSDT(&cmd) == NVME_CMD_PSDT_PRP)
				cmd.dptr.prp2 = base + cmd.dptr.prp2 % BUF;
		}
		ret = dml__nvme_submit_wait(ctrl, qid, &cmd, &cqe);
		FUZZ_CHECK(ret == 0 || ret == -EIO);
		FUZZ_CHECK(emu->completed == done + 1);
		FUZZ_CHECK(!(emu->csts & NVME_CSTS_CFS));
		FUZZ_CHECK(!ret == !(cqe.status >> 1));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dml_emu_opts eo = { .size = DML_SIZEOF(&eo, ram_size),
				   .ram_size = 64ULL << 20 };
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, iommu),
				     .name = "nvme0" };
	struct dml_nvme_ctrl *ctrl;
	struct dml_nvme_emu *emu;
	struct dml_nvme_bar bar;
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
	dma_addr_t base;
	size_t mem;
	u8 *buf;

	if (!size)
		return 0;
	FUZZ_CHECK(!dml_platform_create_emu(&eo, &p));
	FUZZ_CHECK(!dml_iommu_create(p, NULL, &iommu));
	o.iommu = iommu;
	FUZZ_CHECK(!dml_device_create(p, &o, &dev));
	FUZZ_CHECK(!dml__nvme_emu_create(dev, BLOCKS, &emu));
	dml__nvme_emu_bar(emu, &bar);
	FUZZ_CHECK(!dml__nvme_ctrl_create(dev, &bar, &ctrl));
	ctrl->cmd_timeout_ns = 1000000000ULL;
	FUZZ_CHECK(!dml__nvme_create_io_queues(ctrl, 1, 16));
	buf = dma_alloc_coherent(dev, BUF, &base, GFP_KERNEL);
	FUZZ_CHECK(buf);
	mem = (size_t)(data[0] % 64) * 64;
	data++;
	size--;
	mem = mem < size ? mem : size;
	memcpy(buf, data, mem);
	run(ctrl, emu, base, data + mem, size - mem);
	dma_free_coherent(dev, BUF, buf, base);
	dml__nvme_ctrl_destroy(ctrl);
	dml__nvme_emu_destroy(emu);
	dml_device_destroy(dev);
	dml_platform_destroy(p);
	return 0;
}
