/* SPDX-License-Identifier: MIT */
/*
 * nvme_emu_data.c - the emulated NVMe controller's data pointers: a
 * command's PRP entries or SGL (NVMe Base 2.0, 4.1.1 and 4.1.2) walked
 * into (address, length) segments, the PRP lists and SGL segments read by
 * device DMA; then every segment translated and checked by the DMA engine
 * (dml__dev_dma_resolve()) before one copy per run of emulated memory
 * moves the data straight between host memory and the caller's buffer
 * (the namespace's blocks), so a command that fails moved nothing.  Each malformed pointer
 * gets the spec's status: PRP Offset Invalid, SGL Descriptor Type Invalid,
 * Data SGL Length Invalid, Invalid SGL Segment Descriptor, Invalid Number
 * of SGL Descriptors; a translation fault anywhere is Data Transfer Error.
 */
#include <errno.h>
#include <string.h>

#include <dmalink/dmalink.h>

#include "../base/base.h"
#include "nvme_emu.h"

#define PAGE_MASK_NVME (NVME_CTRL_PAGE_SIZE - 1)
#define STATUS(sc) NVME_EMU_STATUS(0, sc)
/* list entries fetched at once: all a command of MDTS needs after PRP1 */
#define PRP_BURST (1u << DML_NVME_EMU_MDTS)

/* the segments of one command, in the controller's array */
struct seg_list {
	struct dml_nvme_emu_seg *s;
	unsigned int nr;
};

static u16 seg_add(struct seg_list *l, u64 addr, u32 len)
{
	if (!len)
		return 0;
	/* DML_NVME_EMU_MAX_SEGS bounds what prp_segs() and sgl_segs() add */
	if (DML_WARN_ON(l->nr == DML_NVME_EMU_MAX_SEGS))
		return STATUS(NVME_SC_INTERNAL);
	l->s[l->nr].addr = addr;
	l->s[l->nr].len = len;
	l->nr++;
	return 0;
}

/* PRP1 may carry a dword-aligned offset; every later entry is page aligned */
static u16 prp_segs(struct dml_nvme_emu *c, const struct nvme_command *cmd,
		    u32 len, struct seg_list *l)
{
	u64 prp1 = cmd->dptr.prp1, list = cmd->dptr.prp2;
	u32 first = NVME_CTRL_PAGE_SIZE - (u32)(prp1 & PAGE_MASK_NVME);
	u16 st;

	if (prp1 & 3)
		return STATUS(NVME_SC_PRP_INVALID_OFFSET);
	first = first < len ? first : len;
	st = seg_add(l, prp1, first);
	len -= first;
	if (st || !len)
		return st;
	if (len <= NVME_CTRL_PAGE_SIZE) {
		if (list & PAGE_MASK_NVME)
			return STATUS(NVME_SC_PRP_INVALID_OFFSET);
		return seg_add(l, list, len);
	}
	/* PRP2 is a list pointer: qword aligned, may start mid-page */
	if (list & 7)
		return STATUS(NVME_SC_PRP_INVALID_OFFSET);
	while (len) {
		/*
		 * fetched in bursts, as a controller does: the entries the
		 * data still needs that this list page holds (one translation,
		 * the page faults whole or not at all)
		 */
		u32 room = (NVME_CTRL_PAGE_SIZE - (u32)(list & PAGE_MASK_NVME)) / 8;
		u32 n = min(min(room, DIV_ROUND_UP(len, NVME_CTRL_PAGE_SIZE)),
			    PRP_BURST);
		u64 e[PRP_BURST];
		u32 i;

		if (dml_dev_dma_read(c->dev, list, e, n * sizeof(*e)))
			return STATUS(NVME_SC_DATA_XFER_ERROR);
		list += n * sizeof(*e);
		for (i = 0; i < n; i++) {
			if (e[i] & PAGE_MASK_NVME)
				return STATUS(NVME_SC_PRP_INVALID_OFFSET);
			/* a list page's last entry chains to the next list page */
			if (i == room - 1 && len > NVME_CTRL_PAGE_SIZE) {
				list = e[i];
				break;
			}
			st = seg_add(l, e[i], min(len, NVME_CTRL_PAGE_SIZE));
			if (st)
				return st;
			len -= l->s[l->nr - 1].len;
		}
	}
	return 0;
}

/*
 * an SGL: data block descriptors, each segment's last descriptor may point
 * to the next segment; a Last Segment holds data blocks only
 */
static u16 sgl_segs(struct dml_nvme_emu *c, const struct nvme_command *cmd,
		    u32 len, struct seg_list *l)
{
	struct nvme_sgl_desc d = cmd->dptr.sgl, seg[16];
	unsigned int descs = 0;
	u64 total = 0;
	bool last = false;

	for (;;) {
		unsigned int type = d.type >> 4, n, i;
		u64 addr = d.addr;

		if ((d.type & 0xf) != NVME_SGL_FMT_ADDRESS)
			return STATUS(NVME_SC_SGL_INVALID_TYPE);
		if (type == NVME_SGL_FMT_DATA_DESC) {
			/* the list's end: it must describe exactly @len bytes */
			total += d.length;
			if (total != len)
				return STATUS(NVME_SC_SGL_INVALID_DATA);
			return seg_add(l, d.addr, d.length);
		}
		if (type != NVME_SGL_FMT_SEG_DESC &&
		    type != NVME_SGL_FMT_LAST_SEG_DESC)
			return STATUS(NVME_SC_SGL_INVALID_TYPE);
		if (last)	/* a segment pointer inside a Last Segment */
			return STATUS(NVME_SC_SGL_INVALID_SEG);
		if (!d.length || d.length % sizeof(d))
			return STATUS(NVME_SC_SGL_INVALID_COUNT);
		last = type == NVME_SGL_FMT_LAST_SEG_DESC;
		n = d.length / sizeof(d);
		descs += n;
		if (descs > DML_NVME_EMU_MAX_SGL_DESCS)
			return STATUS(NVME_SC_SGL_INVALID_COUNT);
		/* every descriptor but the last: data blocks */
		for (i = 0; i < n; i++) {
			unsigned int k = i % 16;
			u16 st;

			if (!k && dml_dev_dma_read(c->dev, addr + i * sizeof(d),
						   seg, sizeof(d) *
						   (n - i < 16 ? n - i : 16)))
				return STATUS(NVME_SC_DATA_XFER_ERROR);
			if (i == n - 1) {
				d = seg[k];
				break;
			}
			if (seg[k].type >> 4 != NVME_SGL_FMT_DATA_DESC)
				return STATUS((seg[k].type >> 4 == NVME_SGL_FMT_SEG_DESC ||
					       seg[k].type >> 4 == NVME_SGL_FMT_LAST_SEG_DESC) ?
					      NVME_SC_SGL_INVALID_SEG :
					      NVME_SC_SGL_INVALID_TYPE);
			if (seg[k].type & 0xf)
				return STATUS(NVME_SC_SGL_INVALID_TYPE);
			total += seg[k].length;
			if (total > len)
				return STATUS(NVME_SC_SGL_INVALID_DATA);
			st = seg_add(l, seg[k].addr, seg[k].length);
			if (st)
				return st;
		}
		/* d, the segment's last descriptor, goes round again */
	}
}

/* one command's data pointer to (addr, len) segments: 0 or an NVMe status */
static u16 data_segs(struct dml_nvme_emu *c, const struct nvme_command *cmd,
		     u32 len, struct seg_list *l)
{
	switch (NVME_CMD_PSDT(cmd)) {
	case NVME_CMD_PSDT_PRP:
		return prp_segs(c, cmd, len, l);
	case NVME_CMD_PSDT_SGL_MPTR_CONTIG:
	case NVME_CMD_PSDT_SGL_MPTR_SGL:
		return sgl_segs(c, cmd, len, l);
	default:
		return STATUS(NVME_SC_INVALID_FIELD);
	}
}

/*
 * every segment resolved to runs of emulated memory, then one copy per
 * run: a fault anywhere moves no byte (a write lands whole, a read leaves
 * the host's buffer as it was).  The time from the first translation to
 * the last byte goes to *c->data_ns: what a real controller's DMA engine
 * and the IOMMU do without the CPU.
 */
u16 dml__nvme_emu_xfer(struct dml_nvme_emu *c, const struct nvme_command *cmd,
		       void *buf, u32 len, bool to_host)
{
	struct seg_list l = { .s = c->segs };
	unsigned int i, nr = 0;
	u64 t = 0;
	u8 *b = buf;
	u16 st = data_segs(c, cmd, len, &l);
	int ret = 0;

	if (st)
		return st;
	if (c->data_ns)
		t = dml__now_ns();
	for (i = 0; !ret && i < l.nr; i++)
		ret = dml__dev_dma_resolve(c->dev, l.s[i].addr, l.s[i].len,
					   to_host, c->runs, DML_NVME_EMU_MAX_RUNS,
					   &nr);
	for (i = 0; !ret && i < nr; i++) {
		if (to_host)
			memcpy(c->runs[i].host, b, c->runs[i].len);
		else
			memcpy(b, c->runs[i].host, c->runs[i].len);
		b += c->runs[i].len;
	}
	if (!ret)
		dml__dev_dma_moved(c->dev, len, to_host);
	if (c->data_ns)
		*c->data_ns += dml__now_ns() - t;
	if (ret == -EFAULT)
		return STATUS(NVME_SC_DATA_XFER_ERROR);
	return ret ? STATUS(NVME_SC_INTERNAL) : 0;
}
