/* SPDX-License-Identifier: MIT */
/*
 * test_nvme_ctrl.c - the user-space NVMe driver (src/nvme) against the
 * emulated controller (src/dev/nvme_emu*.c), behind the emulated IOMMU:
 * bring-up with CAP.TO, identify, I/O queue pairs, write then read back
 * through PRPs, a PRP list and SGLs with the bytes checked, every
 * malformed data pointer completed with the NVM Express Base 2.0 status
 * (4.6.1.2.1) and surfaced by the driver as -EIO, a DMA fault becoming a
 * Data Transfer Error with no byte moved, and the timeout paths leaving nothing mapped (the
 * checker reports a leak at platform destroy otherwise).
 */
#include <dmalink/dma-mapping.h>

#include "dev/nvme_emu.h"
#include "testutil.h"

#define BLOCKS 1024
#define BUF_SIZE (64u << 10)

struct fx {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
	struct dml_nvme_emu *emu;
	struct dml_nvme_ctrl *ctrl;
	u8 *buf;		/* BUF_SIZE of coherent memory at @dma */
	dma_addr_t dma;
};

static int setup_iommu(void **state, const struct dml_iommu_opts *io)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct dml_emu_opts eo = { .size = DML_SIZEOF(&eo, ram_size),
				   .ram_size = 64ULL << 20 };
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, iommu) };

	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(&eo, &f->p), 0);
	assert_int_equal(dml_iommu_create(f->p, io, &f->iommu), 0);
	o.iommu = f->iommu;
	o.name = "nvme0";
	assert_int_equal(dml_device_create(f->p, &o, &f->dev), 0);
	assert_int_equal(dml__nvme_emu_create(f->dev, BLOCKS, &f->emu), 0);
	*state = f;
	return 0;
}

static int setup_hw(void **state)
{
	return setup_iommu(state, NULL);
}

/* the controller up, identified, two I/O queue pairs, a data buffer */
static int setup_up(void **state, const struct dml_iommu_opts *io)
{
	struct dml_nvme_bar bar;
	struct fx *f;

	setup_iommu(state, io);
	f = *state;
	dml__nvme_emu_bar(f->emu, &bar);
	assert_int_equal(dml__nvme_ctrl_create(f->dev, &bar, &f->ctrl), 0);
	assert_int_equal(dml__nvme_identify(f->ctrl), 0);
	assert_int_equal(dml__nvme_create_io_queues(f->ctrl, 2, 64), 0);
	f->buf = dma_alloc_coherent(f->dev, BUF_SIZE, &f->dma, GFP_KERNEL);
	assert_non_null(f->buf);
	return 0;
}

static int setup(void **state)
{
	return setup_up(state, NULL);
}

/* behind a virtualised IOMMU (VT-d caching mode) */
static int setup_cm(void **state)
{
	struct dml_iommu_opts io = { .size = DML_SIZEOF(&io, caching_mode),
				     .caching_mode = true };

	return setup_up(state, &io);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->buf)
		dma_free_coherent(f->dev, BUF_SIZE, f->buf, f->dma);
	dml__nvme_ctrl_destroy(f->ctrl);
	dml__nvme_emu_destroy(f->emu);
	dml_device_destroy(f->dev);
	dml_platform_destroy(f->p);
	free(f);
	return 0;
}

static struct nvme_command rw(u8 opcode, u64 slba, u32 nlb)
{
	struct nvme_command c = { .opcode = opcode, .nsid = 1 };

	c.cdw10 = (u32)slba;
	c.cdw11 = (u32)(slba >> 32);
	c.cdw12 = nlb - 1;
	return c;
}

/* test input: PRP1/PRP2 for @len bytes at @dma, a list at @list if needed */
static void prps(struct nvme_command *c, dma_addr_t dma, u32 len, u64 *list,
		 dma_addr_t list_dma)
{
	u32 first = NVME_CTRL_PAGE_SIZE - (u32)(dma & (NVME_CTRL_PAGE_SIZE - 1));
	u32 i;

	c->dptr.prp1 = dma;
	if (len <= first)
		return;
	if (len - first <= NVME_CTRL_PAGE_SIZE) {
		c->dptr.prp2 = dma + first;
		return;
	}
	for (i = 0; first + i * NVME_CTRL_PAGE_SIZE < len; i++)
		list[i] = dma + first + (u64)i * NVME_CTRL_PAGE_SIZE;
	c->dptr.prp2 = list_dma;
}

static void sgl_data(struct nvme_command *c, dma_addr_t dma, u32 len)
{
	c->flags = NVME_CMD_FLAGS_PSDT(NVME_CMD_PSDT_SGL_MPTR_CONTIG);
	c->dptr.sgl.addr = dma;
	c->dptr.sgl.length = len;
	c->dptr.sgl.type = NVME_SGL_TYPE(NVME_SGL_FMT_DATA_DESC,
					 NVME_SGL_FMT_ADDRESS);
}

static int submit(struct fx *f, u16 qid, struct nvme_command *c, u16 *sc)
{
	struct nvme_completion cqe = { 0 };
	int ret = dml__nvme_submit_wait(f->ctrl, qid, c, &cqe);

	*sc = (cqe.status >> 1) & 0x7ff;
	if (ret == -EIO)	/* every error the emulator reports: DNR */
		assert_true((cqe.status >> 1) & NVME_STATUS_DNR);
	return ret;
}

/* NVMe Base 3.5.1: CC.EN 1 sets CSTS.RDY; identify reports the namespace */
static void test_bring_up_identify(void **state)
{
	struct fx *f = *state;

	assert_int_equal(f->ctrl->bar.read32(f->emu, NVME_REG_VS), 0x00020000);
	assert_true(f->ctrl->bar.read32(f->emu, NVME_REG_CSTS) & NVME_CSTS_RDY);
	assert_int_equal(f->ctrl->nn, 1);
	assert_int_equal(f->ctrl->nsze, BLOCKS);
	assert_int_equal(f->ctrl->lba_shift, 9);
	assert_true(f->ctrl->sgl);
	assert_int_equal(f->ctrl->max_xfer, 128u << 10);
	assert_int_equal(f->ctrl->nr_io, 2);
}

/* create/delete I/O queue rules (Base 5.4, 5.5, 5.6, 5.7) */
static void test_io_queues(void **state)
{
	struct fx *f = *state;
	struct nvme_command c = { .opcode = nvme_cmd_flush, .nsid = 1 };
	struct nvme_command a;
	u16 sc;

	assert_int_equal(submit(f, 1, &c, &sc), 0);
	assert_int_equal(submit(f, 2, &c, &sc), 0);
	assert_int_equal(submit(f, 3, &c, &sc), -EINVAL);	/* no such queue */
	/* a CQ with an SQ on it: Invalid Queue Deletion */
	a = (struct nvme_command){ .opcode = nvme_admin_delete_cq, .cdw10 = 1 };
	assert_int_equal(submit(f, 0, &a, &sc), -EIO);
	assert_int_equal(sc, NVME_EMU_STATUS(NVME_SCT_CMD_SPECIFIC, NVME_SC_QUEUE_DELETE));
	/* delete all, create again with another depth */
	assert_int_equal(dml__nvme_delete_io_queues(f->ctrl), 0);
	assert_int_equal(submit(f, 1, &c, &sc), -EINVAL);
	/* an SQ on a CQ that does not exist: Completion Queue Invalid */
	a = (struct nvme_command){ .opcode = nvme_admin_create_sq,
		.cdw10 = 7u << 16 | 1, .cdw11 = 9u << 16 | NVME_QUEUE_PHYS_CONTIG };
	a.dptr.prp1 = f->dma;
	assert_int_equal(submit(f, 0, &a, &sc), -EIO);
	assert_int_equal(sc, NVME_EMU_STATUS(NVME_SCT_CMD_SPECIFIC, NVME_SC_CQ_INVALID));
	/* a queue id beyond what set features granted: Invalid Queue Identifier */
	a.cdw10 = 7u << 16 | 3;
	assert_int_equal(submit(f, 0, &a, &sc), -EIO);
	assert_int_equal(sc, NVME_EMU_STATUS(NVME_SCT_CMD_SPECIFIC, NVME_SC_QID_INVALID));
	/* queue memory not page aligned: PRP Offset Invalid */
	a = (struct nvme_command){ .opcode = nvme_admin_create_cq,
		.cdw10 = 7u << 16 | 2, .cdw11 = NVME_QUEUE_PHYS_CONTIG };
	a.dptr.prp1 = f->dma + 64;
	assert_int_equal(submit(f, 0, &a, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_PRP_INVALID_OFFSET);
	assert_int_equal(dml__nvme_create_io_queues(f->ctrl, 4, 8), 0);
	assert_int_equal(f->ctrl->nr_io, 4);
	/* 20 commands through an 8-entry queue: the phase tag wraps */
	for (int i = 0; i < 20; i++)
		assert_int_equal(submit(f, 4, &c, &sc), 0);
}

static void fill(u8 *p, u32 len, u8 seed)
{
	for (u32 i = 0; i < len; i++)
		p[i] = (u8)(seed + i * 7 + (i >> 9));
}

/* write @len bytes from buf[0..] at @slba then read them to buf[32K..] */
static void write_read(struct fx *f, u64 slba, u32 len, bool sgl, u8 seed)
{
	u8 *src = f->buf, *dst = f->buf + BUF_SIZE / 2;
	u64 *list = (u64 *)(f->buf + BUF_SIZE / 2 - 256);
	dma_addr_t list_dma = f->dma + BUF_SIZE / 2 - 256;
	struct nvme_command c;
	u16 sc;

	fill(src, len, seed);
	memset(dst, 0, len);
	c = rw(nvme_cmd_write, slba, len >> 9);
	if (sgl)
		sgl_data(&c, f->dma, len);
	else
		prps(&c, f->dma, len, list, list_dma);
	assert_int_equal(submit(f, 1, &c, &sc), 0);
	c = rw(nvme_cmd_read, slba, len >> 9);
	if (sgl)
		sgl_data(&c, f->dma + BUF_SIZE / 2, len);
	else
		prps(&c, f->dma + BUF_SIZE / 2, len, list, list_dma);
	assert_int_equal(submit(f, 2, &c, &sc), 0);
	assert_memory_equal(src, dst, len);
	assert_memory_equal(f->emu->ns + (slba << 9), src, len);
}

/* Base 4.1.1 (PRP1 only, PRP1+PRP2, PRP list) and 4.1.2 (SGL) */
static void test_write_read_back(void **state)
{
	struct fx *f = *state;

	write_read(f, 0, 512, false, 1);
	write_read(f, 8, 8192, false, 2);		/* PRP2 a page */
	write_read(f, 100, 24576, false, 3);		/* PRP2 a list */
	write_read(f, BLOCKS - 16, 8192, true, 4);	/* one SGL data block */
}

/*
 * Base 4.1.1: a PRP list that starts two entries before its page's end;
 * the page's last entry points to the next list page
 */
static void test_prp_list_chain(void **state)
{
	struct fx *f = *state;
	u64 *tail = (u64 *)(f->buf + 32768 - 16), *next = (u64 *)(f->buf + 36864);
	struct nvme_command c = rw(nvme_cmd_read, 40, 48);	/* 24 KiB */
	u8 *dst = f->buf + 4096;
	u16 sc;

	fill(f->emu->ns + 40 * 512, 24576, 11);
	memset(dst, 0, 24576);
	c.dptr.prp1 = f->dma + 4096;
	c.dptr.prp2 = f->dma + 32768 - 16;
	tail[0] = f->dma + 8192;
	tail[1] = f->dma + 36864;			/* the chain */
	for (int i = 0; i < 4; i++)
		next[i] = f->dma + 12288 + i * 4096;
	assert_int_equal(submit(f, 1, &c, &sc), 0);
	assert_memory_equal(dst, f->emu->ns + 40 * 512, 24576);
}

/* Base 4.1.2.1: a Last Segment of data blocks, pointed to by the command */
static void test_sgl_segment(void **state)
{
	struct fx *f = *state;
	struct nvme_sgl_desc *d = (struct nvme_sgl_desc *)(f->buf + 60000);
	struct nvme_command c = rw(nvme_cmd_read, 0, 3);
	u16 sc;

	fill(f->emu->ns, 1536, 9);
	memset(f->buf, 0, 4096);
	d[0] = (struct nvme_sgl_desc){ .addr = f->dma + 1024, .length = 1000 };
	d[1] = (struct nvme_sgl_desc){ .addr = f->dma, .length = 536 };
	c.flags = NVME_CMD_FLAGS_PSDT(NVME_CMD_PSDT_SGL_MPTR_CONTIG);
	c.dptr.sgl = (struct nvme_sgl_desc){ .addr = f->dma + 60000,
		.length = 2 * sizeof(*d),
		.type = NVME_SGL_TYPE(NVME_SGL_FMT_LAST_SEG_DESC, 0) };
	assert_int_equal(submit(f, 1, &c, &sc), 0);
	assert_memory_equal(f->buf + 1024, f->emu->ns, 1000);
	assert_memory_equal(f->buf, f->emu->ns + 1000, 536);
	/* a Segment descriptor inside a Last Segment: Invalid SGL Segment */
	d[1].type = NVME_SGL_TYPE(NVME_SGL_FMT_SEG_DESC, 0);
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_SGL_INVALID_SEG);
	/* a segment length not a multiple of 16: Invalid Number of Descriptors */
	c.dptr.sgl.length = 20;
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_SGL_INVALID_COUNT);
}

/* Base 4.6.1.2.1: each malformed pointer gets its status; the blocks stay */
static void test_bad_descriptors(void **state)
{
	struct fx *f = *state;
	u64 *list = (u64 *)(f->buf + 40960);
	struct nvme_command c;
	u8 before[4096];
	u16 sc;

	fill(f->emu->ns, sizeof(before), 5);
	memcpy(before, f->emu->ns, sizeof(before));
	/* PRP1 offset not dword aligned */
	c = rw(nvme_cmd_write, 0, 1);
	c.dptr.prp1 = f->dma + 2;
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_PRP_INVALID_OFFSET);
	/* PRP2, a data page, with an offset */
	c = rw(nvme_cmd_write, 0, 8);
	c.dptr.prp1 = f->dma + 2048;
	c.dptr.prp2 = f->dma + 4096 + 512;
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_PRP_INVALID_OFFSET);
	/* a PRP list entry with an offset */
	c = rw(nvme_cmd_write, 0, 24);
	c.dptr.prp1 = f->dma;
	c.dptr.prp2 = f->dma + 40960;
	list[0] = f->dma + 4096;
	list[1] = f->dma + 8192 + 8;
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_PRP_INVALID_OFFSET);
	/* a reserved SGL descriptor type (0x5) */
	c = rw(nvme_cmd_write, 0, 1);
	sgl_data(&c, f->dma, 512);
	c.dptr.sgl.type = NVME_SGL_TYPE(0x5, 0);
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_SGL_INVALID_TYPE);
	/* SGL data shorter and longer than the blocks */
	sgl_data(&c, f->dma, 511);
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_SGL_INVALID_DATA);
	sgl_data(&c, f->dma, 1024);
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_SGL_INVALID_DATA);
	/* past the namespace's end; another namespace */
	c = rw(nvme_cmd_write, BLOCKS - 1, 2);
	c.dptr.prp1 = f->dma;
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_LBA_RANGE);
	c = rw(nvme_cmd_read, 0, 1);
	c.nsid = 2;
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_INVALID_NS);
	/* an unknown opcode */
	c = (struct nvme_command){ .opcode = 0x7f, .nsid = 1 };
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_INVALID_OPCODE);
	assert_memory_equal(f->emu->ns, before, sizeof(before));
	/* the queue still works */
	write_read(f, 0, 512, false, 6);
}

/* an IOVA with no mapping: the IOMMU faults, the command gets Data Transfer Error */
static void test_dma_fault(void **state)
{
	struct fx *f = *state;
	struct dml_iommu_stats before, after;
	struct nvme_command c;
	dma_addr_t gone;
	void *p;
	u16 sc;

	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	p = dma_alloc_coherent(f->dev, 4096, &gone, GFP_KERNEL);
	assert_non_null(p);
	dma_free_coherent(f->dev, 4096, p, gone);
	dml_iommu_get_stats(f->iommu, &before);
	c = rw(nvme_cmd_read, 0, 1);
	c.dptr.prp1 = gone;
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_DATA_XFER_ERROR);
	/* a write's fault leaves the blocks as they were */
	memset(f->emu->ns, 0xa5, 512);
	c = rw(nvme_cmd_write, 0, 2);
	c.dptr.prp1 = f->dma + 4096 - 512;	/* second page faults */
	c.dptr.prp2 = gone;
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_DATA_XFER_ERROR);
	assert_int_equal(f->emu->ns[0], 0xa5);
	dml_iommu_get_stats(f->iommu, &after);
	assert_true(after.faults >= before.faults + 2);
	write_read(f, 0, 4096, false, 7);
}

/*
 * Every translation is checked before the first byte moves: a read whose
 * last page faults leaves the host's first page as it was; a read into a
 * DMA_TO_DEVICE mapping (the device may not write it) is a permission
 * fault, Data Transfer Error, with the checker's wrong-direction report;
 * and a faulting command moves nothing the device counts
 */
static void test_fault_moves_nothing(void **state)
{
	struct fx *f = *state;
	struct dml_dev_stats before, after;
	const phys_addr_t phys = 0x3000000;
	struct nvme_command c;
	dma_addr_t gone, ro;
	void *p;
	u16 sc;

	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_WRONG_DIR);
	p = dma_alloc_coherent(f->dev, 4096, &gone, GFP_KERNEL);
	assert_non_null(p);
	dma_free_coherent(f->dev, 4096, p, gone);
	fill(f->emu->ns, 8192, 21);
	memset(f->buf, 0x5a, 8192);
	dml_dev_get_stats(f->dev, &before);
	c = rw(nvme_cmd_read, 0, 16);
	c.dptr.prp1 = f->dma;
	c.dptr.prp2 = gone;
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_DATA_XFER_ERROR);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(f->buf[i], 0x5a);
	/* the IOMMU's permission bits (VT-d second level: write not allowed) */
	memset(dml_kmap_local_phys(f->p, phys, 4096), 0x3c, 4096);
	ro = dma_map_phys(f->dev, phys, 4096, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, ro));
	c = rw(nvme_cmd_read, 0, 8);
	c.dptr.prp1 = ro;
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_DATA_XFER_ERROR);
	dma_unmap_phys(f->dev, ro, 4096, DMA_TO_DEVICE, 0);
	assert_int_equal(((u8 *)dml_kmap_local_phys(f->p, phys, 4096))[0], 0x3c);
	dml_dev_get_stats(f->dev, &after);
	assert_int_equal(after.faults, before.faults + 2);
	/* the two SQ entries read and two completions written, no data */
	assert_int_equal(after.bytes_written - before.bytes_written,
			 2 * sizeof(struct nvme_completion));
}

/*
 * Base 4.1.2: the most descriptors the controller takes
 * (DML_NVME_EMU_MAX_SGL_DESCS), each a data block of 2 bytes across a
 * page boundary of an IOVA range whose pages lie in descending physical
 * order, so each needs two translations and two runs of memory (the most
 * DML_NVME_EMU_MAX_RUNS allows for): every byte lands, in order
 */
static void test_sgl_most_descriptors(void **state)
{
	struct fx *f = *state;
	struct nvme_sgl_desc *d = (struct nvme_sgl_desc *)f->buf;
	struct nvme_command c = rw(nvme_cmd_write, 8, 1);
	const phys_addr_t phys = 0x3000000;
	struct dma_iova_state st;
	u8 want[512], *page[8];
	u16 sc;

	assert_true(dma_iova_try_alloc(f->dev, &st, phys, 8 * 4096));
	for (int k = 0; k < 8; k++) {
		phys_addr_t p = phys + (7 - k) * 4096;

		page[k] = dml_kmap_local_phys(f->p, p, 4096);
		fill(page[k], 4096, (u8)(31 + k));
		assert_int_equal(dma_iova_link(f->dev, &st, p, k * 4096, 4096,
					       DMA_TO_DEVICE, 0), 0);
	}
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, 8 * 4096), 0);
	for (int i = 0; i < DML_NVME_EMU_MAX_SGL_DESCS; i++) {
		int k = i % 7;

		d[i] = (struct nvme_sgl_desc){ .addr = st.addr + 4096 * (k + 1) - 1,
					       .length = 2 };
		want[2 * i] = page[k][4095];
		want[2 * i + 1] = page[k + 1][0];
	}
	c.flags = NVME_CMD_FLAGS_PSDT(NVME_CMD_PSDT_SGL_MPTR_CONTIG);
	c.dptr.sgl = (struct nvme_sgl_desc){ .addr = f->dma,
		.length = DML_NVME_EMU_MAX_SGL_DESCS * sizeof(*d),
		.type = NVME_SGL_TYPE(NVME_SGL_FMT_LAST_SEG_DESC, 0) };
	assert_int_equal(submit(f, 1, &c, &sc), 0);
	assert_memory_equal(f->emu->ns + 8 * 512, want, sizeof(want));
	dma_iova_destroy(f->dev, &st, 8 * 4096, DMA_TO_DEVICE, 0);
}

/*
 * a translation the IOMMU has not yet been told of (a dma_iova_link()
 * without dma_iova_sync() under caching mode, kernel-dma-semantics §9.5):
 * the controller's write faults and the read completes with Data Transfer
 * Error; after the sync the same command moves the bytes
 */
static void test_link_not_synced(void **state)
{
	struct fx *f = *state;
	const phys_addr_t phys = 0x3800000;
	struct dma_iova_state st;
	struct nvme_command c;
	u16 sc;

	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_SYNCED);
	fill(f->emu->ns, 8192, 13);
	memset(dml_kmap_local_phys(f->p, phys, 8192), 0, 8192);
	assert_true(dma_iova_try_alloc(f->dev, &st, phys, 8192));
	assert_int_equal(dma_iova_link(f->dev, &st, phys, 0, 8192,
				       DMA_FROM_DEVICE, 0), 0);
	c = rw(nvme_cmd_read, 0, 16);
	c.dptr.prp1 = st.addr;
	c.dptr.prp2 = st.addr + 4096;
	assert_int_equal(submit(f, 1, &c, &sc), -EIO);
	assert_int_equal(sc, NVME_SC_DATA_XFER_ERROR);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, 8192), 0);
	assert_int_equal(submit(f, 1, &c, &sc), 0);
	dma_iova_destroy(f->dev, &st, 8192, DMA_FROM_DEVICE, 0);
	/* the CPU reads the buffer once it is unmapped (ref §1.4) */
	assert_memory_equal(dml_kmap_local_phys(f->p, phys, 8192), f->emu->ns, 8192);
}

/* CC.EN without CSTS.RDY: -ETIMEDOUT after CAP.TO, nothing left allocated */
static void test_enable_timeout(void **state)
{
	struct fx *f = *state;
	struct dml_nvme_bar bar;

	f->emu->never_ready = true;
	dml__nvme_emu_bar(f->emu, &bar);
	assert_int_equal(dml__nvme_ctrl_create(f->dev, &bar, &f->ctrl), -ETIMEDOUT);
	assert_null(f->ctrl);
	/* the deadline was (CAP.TO + 1) * 500 ms, as nvme_wait_ready()'s */
	assert_int_equal(bar.read32(f->emu, NVME_REG_CSTS) & NVME_CSTS_RDY, 0);
	assert_non_null(strstr(dml_test_log.last, "CAP.TO (1000 ms)"));
}

/* a command never completed: -ETIMEDOUT, then -ENODEV until a reset */
static void test_command_timeout(void **state)
{
	struct fx *f = *state;
	struct nvme_command c = rw(nvme_cmd_read, 0, 1);
	u16 sc;

	c.dptr.prp1 = f->dma;
	f->ctrl->cmd_timeout_ns = 20000000;	/* 20 ms */
	f->emu->drop_commands = true;
	assert_int_equal(submit(f, 1, &c, &sc), -ETIMEDOUT);
	assert_non_null(strstr(dml_test_log.last, "timed out"));
	assert_int_equal(submit(f, 1, &c, &sc), -ENODEV);
	/* teardown frees every ring: the checker finds no leak */
}

/* a controller that cannot fetch its admin SQ: Controller Fatal Status */
static void test_controller_fatal(void **state)
{
	struct fx *f = *state;
	struct nvme_command c = { .opcode = nvme_cmd_flush, .nsid = 1 };
	u16 sc;

	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	f->emu->sq[1].base = 0xdead0000;	/* as if the ring were unmapped */
	assert_int_equal(submit(f, 1, &c, &sc), -ENODEV);
	assert_true(f->ctrl->bar.read32(f->emu, NVME_REG_CSTS) & NVME_CSTS_CFS);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_bring_up_identify, setup, teardown),
	cmocka_unit_test_setup_teardown(test_io_queues, setup, teardown),
	cmocka_unit_test_setup_teardown(test_write_read_back, setup, teardown),
	cmocka_unit_test_setup_teardown(test_prp_list_chain, setup, teardown),
	cmocka_unit_test_setup_teardown(test_sgl_segment, setup, teardown),
	cmocka_unit_test_setup_teardown(test_bad_descriptors, setup, teardown),
	cmocka_unit_test_setup_teardown(test_dma_fault, setup, teardown),
	cmocka_unit_test_setup_teardown(test_fault_moves_nothing, setup, teardown),
	cmocka_unit_test_setup_teardown(test_sgl_most_descriptors, setup, teardown),
	cmocka_unit_test_setup_teardown(test_link_not_synced, setup_cm, teardown),
	cmocka_unit_test_setup_teardown(test_enable_timeout, setup_hw, teardown),
	cmocka_unit_test_setup_teardown(test_command_timeout, setup, teardown),
	cmocka_unit_test_setup_teardown(test_controller_fatal, setup, teardown),
};

DML_TEST_MAIN(tests)
