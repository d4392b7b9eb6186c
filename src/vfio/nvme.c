/* SPDX-License-Identifier: MIT */
/*
 * nvme.c - a VFIO device's BAR0 as the NVMe driver's register accessors
 * (src/nvme/nvme.h): the region mmapped once, bus mastering on, 32-bit
 * volatile loads and stores (a 64-bit register as two halves, low first,
 * which NVMe allows: Base 3.1.2).
 */
#include <dmalink/vfio.h>

#include "../nvme/nvme.h"
#include "vfio.h"

static u32 bar_read32(void *ctx, u32 off)
{
	return *(volatile u32 *)((u8 *)ctx + off);
}

static u64 bar_read64(void *ctx, u32 off)
{
	u64 lo = bar_read32(ctx, off);

	return lo | (u64)bar_read32(ctx, off + 4) << 32;
}

static void bar_write32(void *ctx, u32 off, u32 val)
{
	*(volatile u32 *)((u8 *)ctx + off) = val;
}

static void bar_write64(void *ctx, u32 off, u64 val)
{
	bar_write32(ctx, off, (u32)val);
	bar_write32(ctx, off + 4, (u32)(val >> 32));
}

/*
 * dml__vfio_nvme_bar - BAR0 of the VFIO device @dev for
 * dml__nvme_ctrl_create(): 0; -ENXIO for a BAR0 too small to hold the
 * first doorbells; the error of dml_vfio_bar_map() or
 * dml_vfio_set_bus_master()
 */
int dml__vfio_nvme_bar(struct dml_device *dev, struct dml_nvme_bar *bar)
{
	void *addr;
	u64 size;
	int ret;

	ret = dml_vfio_bar_map(dev, 0, &addr, &size);
	if (ret)
		return ret;
	if (size < NVME_REG_DBS + 8)
		return -ENXIO;
	ret = dml_vfio_set_bus_master(dev, true);
	if (ret)
		return ret;
	*bar = (struct dml_nvme_bar){ .ctx = addr, .read32 = bar_read32,
		.read64 = bar_read64, .write32 = bar_write32,
		.write64 = bar_write64 };
	return 0;
}
