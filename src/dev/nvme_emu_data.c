/* SPDX-License-Identifier: MIT */
/*
 * nvme_emu_data.c - the emulated NVMe controller's data pointers: a
 * command's PRP entries or SGL (NVMe Base 2.0, 4.1.1 and 4.1.2) walked
 * into (address, length) segments, the PRP lists and SGL segments read by
 * device DMA, then the data moved by device DMA.  Each malformed pointer
 * gets the spec's status: PRP Offset Invalid, SGL Descriptor Type Invalid,
 * Data SGL Length Invalid, Invalid SGL Segment Descriptor, Invalid Number
 * of SGL Descriptors; a translation fault anywhere is Data Transfer Error.
 */
#include <string.h>

#include <dmalink/dmalink.h>

#include "../base/base.h"
#include "nvme_emu.h"

#define PAGE_MASK_NVME (NVME_CTRL_PAGE_SIZE - 1)
#define STATUS(sc) NVME_EMU_STATUS(0, sc)

struct dml_nvme_emu_seg {
	u64 addr;
	u32 len;
};

/* the segments of one command: inline up to one per page of MDTS, plus one */
#define SEGS_INLINE ((1u << DML_NVME_EMU_MDTS) + 1)

struct seg_list {
	struct dml_nvme_emu_seg *s;	/* @inl, or a larger allocation */
	unsigned int nr, cap;
	struct dml_nvme_emu_seg inl[SEGS_INLINE];
};

static void seg_list_init(struct seg_list *l)
{
	l->s = l->inl;
	l->nr = 0;
	l->cap = SEGS_INLINE;
}

static void seg_list_fini(struct seg_list *l)
{
	if (l->s != l->inl)
		dml__free(l->s);
}

static u16 seg_add(struct seg_list *l, u64 addr, u32 len)
{
	if (!len)
		return 0;
	if (l->nr == l->cap) {
		unsigned int cap = l->cap * 2;
		struct dml_nvme_emu_seg *s = dml__zalloc(cap * sizeof(*s));

		if (!s)
			return STATUS(NVME_SC_INTERNAL);
		memcpy(s, l->s, l->nr * sizeof(*s));
		seg_list_fini(l);
		l->s = s;
		l->cap = cap;
	}
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
	unsigned int idx;
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
	idx = (unsigned int)(list & PAGE_MASK_NVME) / 8;
	while (len) {
		u64 e;

		if (dml_dev_dma_read(c->dev, list, &e, sizeof(e)))
			return STATUS(NVME_SC_DATA_XFER_ERROR);
		if (e & PAGE_MASK_NVME)
			return STATUS(NVME_SC_PRP_INVALID_OFFSET);
		/* the last entry of a list page chains to the next list page */
		if (++idx == NVME_CTRL_PAGE_SIZE / 8 && len > NVME_CTRL_PAGE_SIZE) {
			list = e;
			idx = 0;
			continue;
		}
		list += 8;
		st = seg_add(l, e, len < NVME_CTRL_PAGE_SIZE ? len :
			     NVME_CTRL_PAGE_SIZE);
		if (st)
			return st;
		len -= l->s[l->nr - 1].len;
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

u16 dml__nvme_emu_xfer(struct dml_nvme_emu *c, const struct nvme_command *cmd,
		       void *buf, u32 len, bool to_host)
{
	struct seg_list l;
	unsigned int i;
	u8 *b = buf;
	u16 st;

	seg_list_init(&l);
	st = data_segs(c, cmd, len, &l);
	for (i = 0; !st && i < l.nr; i++) {
		const struct dml_nvme_emu_seg *s = &l.s[i];
		int ret = to_host ? dml_dev_dma_write(c->dev, s->addr, b, s->len)
				  : dml_dev_dma_read(c->dev, s->addr, b, s->len);

		if (ret)
			st = STATUS(NVME_SC_DATA_XFER_ERROR);
		b += s->len;
	}
	seg_list_fini(&l);
	return st;
}
