/* SPDX-License-Identifier: MIT */
/*
 * blk.h - what the block files share: the walk of a request's physical
 * segments (request.c), which the DMA iterator (blk-mq-dma.c) steps.
 */
#ifndef DML_BLK_H
#define DML_BLK_H

#include <dmalink/blk-mq-dma.h>

/*
 * dml__blk_map_iter_next - the next physical segment of a walk: the rest
 * of the current piece capped at the limits' max segment size and segment
 * boundary for its address, then the following pieces (across bios) while
 * they continue it physically and fit the cap (block/blk-mq-dma.c
 * blk_map_iter_next()).  Returns false at the end.
 */
bool dml__blk_map_iter_next(const struct queue_limits *lim,
			    struct blk_map_iter *it, phys_addr_t *paddr,
			    u32 *len);

#endif /* DML_BLK_H */
