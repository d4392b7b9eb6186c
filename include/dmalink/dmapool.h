/* SPDX-License-Identifier: MIT */
/*
 * dmalink/dmapool.h - pools of small coherent DMA blocks
 * (include/linux/dmapool.h, mm/dmapool.c): NVMe PRP lists and SGL
 * segments, command descriptors, anything smaller than a page that a
 * device reads or writes by DMA address.  Blocks are carved from pages of
 * dma_alloc_coherent() memory, so they need no sync, on non-coherent
 * devices too.
 */
#ifndef DMALINK_DMAPOOL_H
#define DMALINK_DMAPOOL_H

#include <dmalink/dma-mapping.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

struct dma_pool;

/**
 * dma_pool_create - create a pool of coherent blocks
 * @name: label for messages (copied; at most 31 characters kept)
 * @dev: device that will do the DMA
 * @size: block size in bytes, > 0; raised to 16 and rounded up to @align
 * @align: block alignment in bytes, a power of two; 0 means 1
 * @boundary: no block crosses a multiple of this many bytes (a power of
 *	two, at least @size); 0 means only the pool's page limit, which is
 *	max(@size, 4 KiB)
 *
 * Blocks live in "pages" of max(@size, 4 KiB) bytes from
 * dma_alloc_coherent(), allocated when the pool runs out (mm/dmapool.c).
 * Return: the pool, or NULL for @size 0 or above INT_MAX, an @align that
 * is not a power of two, a @boundary below @size or not a power of two,
 * a NULL @dev, or when out of memory.
 */
struct dma_pool *dma_pool_create(const char *name, struct dml_device *dev,
				 size_t size, size_t align, size_t boundary);

/**
 * dma_pool_destroy - destroy a pool and return its pages
 * @pool: pool, may be NULL
 *
 * Every block must have been freed.  If some are still in use the kernel's
 * "dma_pool_destroy <name> busy" error is printed and the pages are kept
 * (leaked, as the kernel does, so a device still using a block cannot
 * corrupt reused memory); the pool itself is freed either way.
 */
void dma_pool_destroy(struct dma_pool *pool);

/**
 * dma_pool_alloc - take a block
 * @pool: pool
 * @mem_flags: GFP_* (GFP_KERNEL, GFP_ATOMIC: no difference here, nothing
 *	sleeps); __GFP_ZERO zeroes the block
 * @handle: out: the block's DMA address for the pool's device
 *
 * Blocks are reused last-freed first.  The CPU address lies in emulated
 * RAM (dml_kmap_local_phys() space).
 * Return: the block's CPU address, or NULL (with *@handle set to
 * DMA_MAPPING_ERROR) when a new page cannot be allocated.
 */
void *dma_pool_alloc(struct dma_pool *pool, gfp_t mem_flags,
		     dma_addr_t *handle);

/** dma_pool_zalloc - dma_pool_alloc() with __GFP_ZERO */
static inline void *dma_pool_zalloc(struct dma_pool *pool, gfp_t mem_flags,
				    dma_addr_t *handle)
{
	return dma_pool_alloc(pool, mem_flags | __GFP_ZERO, handle);
}

/**
 * dma_pool_free - give a block back
 * @pool: the pool it came from
 * @vaddr: its CPU address, from dma_pool_alloc(); NULL is ignored
 * @dma: its DMA address, from dma_pool_alloc()
 *
 * A block that is not from @pool, whose @dma does not match, or that is
 * already free is reported (the messages of mm/dmapool.c's debug checks:
 * "bad vaddr", "bad dma", "already free") and nothing changes.
 */
void dma_pool_free(struct dma_pool *pool, void *vaddr, dma_addr_t dma);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_DMAPOOL_H */
