/* SPDX-License-Identifier: MIT */
/*
 * edu.h - QEMU's edu device driven from its BAR0 mmap, for the guest
 * programs (guest-*.c): QEMU docs/specs/edu.rst and
 * shared/reference/qemu-harness.md.  Registers 0x80 source, 0x88
 * destination, 0x90 count, 0x98 command (bit 0 start/busy, bit 1
 * edu-to-RAM); a 4 KiB buffer at device address 0x40000; 28-bit DMA;
 * ~100 ms per transfer, polled.
 */
#ifndef DML_QEMU_EDU_H
#define DML_QEMU_EDU_H

#include <errno.h>
#include <time.h>

#include <dmalink/dma-mapping.h>
#include <dmalink/vfio.h>

#define EDU_ID		0x00
#define EDU_CHECK	0x04
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_START	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUF		0x40000
#define EDU_BUF_LEN	4096

struct edu {
	volatile unsigned char *bar;
};

static inline u32 rd32(volatile unsigned char *bar, unsigned int off)
{
	return *(volatile u32 *)(bar + off);
}

static inline void wr32(volatile unsigned char *bar, unsigned int off, u32 v)
{
	*(volatile u32 *)(bar + off) = v;
}

static inline void wr64(volatile unsigned char *bar, unsigned int off, u64 v)
{
	*(volatile u64 *)(bar + off) = v;
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* a transfer takes ~100 ms of QEMU virtual time; give it 5 s */
static inline int edu_wait(struct edu *d)
{
	int i;

	for (i = 0; i < 5000; i++) {
		if (!(rd32(d->bar, EDU_DMA_CMD) & EDU_CMD_START))
			return 0;
		sleep_ms(1);
	}
	return -ETIMEDOUT;
}

/* one transfer of @len bytes from @src to @dst (one of them edu's buffer) */
static inline int edu_dma(struct edu *d, u64 src, u64 dst, u32 len, bool to_ram)
{
	int ret = edu_wait(d);

	if (ret)
		return ret;
	wr64(d->bar, EDU_DMA_SRC, src);
	wr64(d->bar, EDU_DMA_DST, dst);
	wr64(d->bar, EDU_DMA_CNT, len);
	wr64(d->bar, EDU_DMA_CMD, EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0));
	return edu_wait(d);
}

/*
 * edu_open - open edu @bdf through VFIO: 28-bit DMA mask, the ids checked
 * in config space, BAR0 mmapped, bus mastering on
 */
static inline int edu_open(struct dml_platform *p, const char *bdf,
			   struct dml_device **dev, struct edu *d)
{
	u16 ids[2];
	void *bar;
	int ret;

	ret = dml_vfio_device_open(p, bdf, dev);
	if (ret)
		return ret;
	ret = dma_set_mask_and_coherent(*dev, DMA_BIT_MASK(28));
	if (!ret)
		ret = dml_vfio_config_read(*dev, 0, ids, sizeof(ids));
	if (!ret && (ids[0] != 0x1234 || ids[1] != 0x11e8))
		ret = -ENODEV;
	if (!ret)
		ret = dml_vfio_bar_map(*dev, 0, &bar, NULL);
	if (!ret)
		ret = dml_vfio_set_bus_master(*dev, true);
	if (!ret)
		d->bar = bar;
	return ret;
}

#endif /* DML_QEMU_EDU_H */
