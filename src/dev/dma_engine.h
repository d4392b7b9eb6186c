/* SPDX-License-Identifier: MIT */
/*
 * dma_engine.h - the emulated DMA engine (dma_engine.c) for the emulated
 * devices beside it: a transfer resolved to the emulated memory behind
 * it before any byte moves.
 */
#ifndef DML_DEV_DMA_ENGINE_H
#define DML_DEV_DMA_ENGINE_H

#include "../base/device.h"

/* a piece of a device transfer: the emulated memory that holds it */
struct dml__dma_run {
	void *host;
	size_t len;		/* bytes */
};

/*
 * dml__dev_dma_resolve - the runs of a device access of @len bytes at
 * @addr (@write: the device writes memory), appended to @runs from
 * @runs[*nr] (at most @max in all; a piece that continues the last run
 * in the emulated memory extends it), with every check dml_dev_dma_read()
 * and _write() make (checker hook, fabric routing, IOMMU or mask,
 * confidential guest), faults logged and counted as they count them; no
 * byte moves and nothing is counted as moved.  The caller copies each
 * run and then counts the bytes with dml__dev_dma_moved().
 * Return: 0; -EFAULT on a fault (runs before it stay in @runs);
 * -ENOSPC when @max runs are not enough; -EINVAL if @dev is not emulated.
 */
int dml__dev_dma_resolve(struct dml_device *dev, dma_addr_t addr, size_t len,
			 bool write, struct dml__dma_run *runs,
			 unsigned int max, unsigned int *nr);

/* count @bytes a device moved, as struct dml_dev_stats reports them */
void dml__dev_dma_moved(struct dml_device *dev, size_t bytes, bool write);

#endif
