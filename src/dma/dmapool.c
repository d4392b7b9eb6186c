/* SPDX-License-Identifier: MIT */
/*
 * dmapool.c - pools of small coherent blocks (mm/dmapool.c semantics,
 * written fresh): dma_pool_create(), dma_pool_alloc(), dma_pool_free(),
 * dma_pool_destroy().
 *
 * A pool hands out blocks of @size bytes from "pages" of @allocation =
 * max(size, 4 KiB) bytes of dma_alloc_coherent() memory.  Inside a page,
 * blocks sit back to back and none crosses a multiple of @boundary: a
 * block that would is moved to the next boundary (pool_initialise_page).
 * The block layout is the same in every page, so block i of a page is at
 * offset (i / per_chunk) * boundary + (i % per_chunk) * size.
 *
 * Book-keeping lives in host memory, not in the blocks (the kernel keeps
 * its free list inside free blocks, where a stray device write corrupts
 * it; here a stray write can only corrupt data): a LIFO stack of free
 * block numbers (page * blocks_per_page + block) and a bit per block, set
 * while it is in use, to catch double frees.  Both grow when a page is
 * added, which is the only place that allocates, so dma_pool_free() never
 * fails.
 *
 * Locking: pool->lock, a spinlock held only for the few instructions of a
 * push or a pop (spin_lock_irqsave in mm/dmapool.c).  As there, a new page
 * is allocated outside the lock and added under it; two callers that run
 * out at once may each add one.  Offsets are computed in 32 bits (a page
 * is at most INT_MAX bytes).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <dmalink/dmapool.h>

#include "dma.h"

struct pool_page {
	u8 *vaddr;
	dma_addr_t dma;
};

struct dma_pool {
	struct dml_device *dev;
	char name[32];
	u32 size;		/* block size, aligned */
	u32 allocation;		/* bytes per page */
	u32 boundary;
	unsigned int per_chunk;	/* blocks per boundary chunk */
	unsigned int per_page;	/* blocks per page */
	dml_spinlock_t lock;
	struct pool_page *pages;
	unsigned int nr_pages, cap_pages;
	u32 *free_stack;	/* block numbers, top at [nr_free - 1] */
	unsigned int nr_free;
	u64 *busy;		/* bit per block */
	unsigned long nr_active;
};

struct dma_pool *dma_pool_create(const char *name, struct dml_device *dev,
				 size_t size, size_t align, size_t boundary)
{
	struct dma_pool *pool;
	size_t allocation, off, next;
	unsigned int n;

	if (!dev)
		return NULL;
	if (!align)
		align = 1;
	else if (!dml__is_pow2(align))
		return NULL;
	if (!size || size > INT_MAX)
		return NULL;
	/* the kernel's minimum, the size of its in-block free-list entry */
	if (size < 16)
		size = 16;
	size = ALIGN(size, align);
	allocation = max(size, (size_t)PAGE_SIZE);
	if (!boundary)
		boundary = allocation;
	else if (boundary < size || !dml__is_pow2(boundary))
		return NULL;
	boundary = min(boundary, allocation);

	/* count the blocks of one page as pool_initialise_page() lays them */
	for (n = 0, off = 0, next = boundary; off + size <= allocation;) {
		if (off + size > next) {
			off = next;
			next += boundary;
			continue;
		}
		n++;
		off += size;
	}
	pool = dml__zalloc(sizeof(*pool));
	if (!pool)
		return NULL;
	pool->dev = dev;
	snprintf(pool->name, sizeof(pool->name), "%s", name ? name : "");
	/* allocation <= max(INT_MAX, PAGE_SIZE): the fields are 32 bits */
	pool->size = (u32)size;
	pool->allocation = (u32)allocation;
	pool->boundary = (u32)boundary;
	pool->per_chunk = (unsigned int)(boundary / size);
	pool->per_page = n;
	dml_spin_init(&pool->lock);
	return pool;
}

static u32 block_offset(const struct dma_pool *pool, unsigned int b)
{
	return (b / pool->per_chunk) * pool->boundary +
	       (b % pool->per_chunk) * pool->size;
}

/*
 * add page @pg (allocated by the caller, outside the lock) and push its
 * blocks; pool->lock held.  Return 0 or -ENOMEM (then @pg is not added)
 */
static int pool_add_page(struct dma_pool *pool, const struct pool_page *pg)
{
	unsigned int total = (pool->nr_pages + 1) * pool->per_page, i;
	u32 *stack = NULL;
	u64 *busy = NULL;

	if (pool->nr_pages == pool->cap_pages) {
		unsigned int cap = pool->cap_pages ? pool->cap_pages * 2 : 4;
		struct pool_page *pages = dml__zalloc(cap * sizeof(*pages));

		if (!pages)
			return -ENOMEM;
		if (pool->nr_pages)
			memcpy(pages, pool->pages, pool->nr_pages * sizeof(*pages));
		dml__free(pool->pages);
		pool->pages = pages;
		pool->cap_pages = cap;
	}
	stack = dml__zalloc(total * sizeof(*stack));
	busy = dml__zalloc(DIV_ROUND_UP(total, 64) * sizeof(*busy));
	if (!stack || !busy)
		goto err_free;
	if (pool->nr_pages) {
		memcpy(stack, pool->free_stack, pool->nr_free * sizeof(*stack));
		memcpy(busy, pool->busy,
		       DIV_ROUND_UP(pool->nr_pages * pool->per_page, 64) *
		       sizeof(*busy));
	}
	dml__free(pool->free_stack);
	dml__free(pool->busy);
	pool->free_stack = stack;
	pool->busy = busy;
	/* push in reverse so the page's first block is handed out first */
	for (i = pool->per_page; i-- > 0;)
		stack[pool->nr_free++] = pool->nr_pages * pool->per_page + i;
	pool->pages[pool->nr_pages++] = *pg;
	return 0;

err_free:
	dml__free(stack);
	dml__free(busy);
	return -ENOMEM;
}

/* out of blocks: a new page, allocated unlocked; false when none can be had */
static bool pool_grow(struct dma_pool *pool)
{
	struct pool_page pg;

	dml_spin_unlock(&pool->lock);
	pg.vaddr = dma_alloc_coherent(pool->dev, pool->allocation, &pg.dma,
				      GFP_KERNEL);
	if (!pg.vaddr)
		return false;
	dml_spin_lock(&pool->lock);
	if (pool_add_page(pool, &pg)) {
		dml_spin_unlock(&pool->lock);
		dma_free_coherent(pool->dev, pool->allocation, pg.vaddr, pg.dma);
		return false;
	}
	return true;
}

void *dma_pool_alloc(struct dma_pool *pool, gfp_t mem_flags, dma_addr_t *handle)
{
	unsigned int nr, pg, b;
	u32 off;
	u8 *vaddr;

	if (handle)
		*handle = DMA_MAPPING_ERROR;
	if (!pool || !handle)
		return NULL;
	dml_spin_lock(&pool->lock);
	if (unlikely(!pool->nr_free) && !pool_grow(pool))
		return NULL;	/* unlocked by pool_grow() */
	nr = pool->free_stack[--pool->nr_free];
	pool->busy[nr / 64] |= 1ULL << (nr % 64);
	pool->nr_active++;
	pg = nr / pool->per_page;
	b = nr % pool->per_page;
	off = block_offset(pool, b);
	vaddr = pool->pages[pg].vaddr + off;
	*handle = pool->pages[pg].dma + off;
	dml_spin_unlock(&pool->lock);
	if (mem_flags & __GFP_ZERO)
		memset(vaddr, 0, pool->size);
	return vaddr;
}

void dma_pool_free(struct dma_pool *pool, void *vaddr, dma_addr_t dma)
{
	unsigned int pg, b, nr;
	u32 off = 0, in_chunk;

	if (!pool || !vaddr)
		return;
	dml_spin_lock(&pool->lock);
	for (pg = 0; pg < pool->nr_pages; pg++) {
		u8 *base = pool->pages[pg].vaddr;

		if ((u8 *)vaddr >= base && (u8 *)vaddr < base + pool->allocation) {
			off = (u32)((u8 *)vaddr - base);
			break;
		}
	}
	in_chunk = off % pool->boundary;
	b = (off / pool->boundary) * pool->per_chunk + in_chunk / pool->size;
	if (pg == pool->nr_pages || in_chunk % pool->size ||
	    in_chunk / pool->size >= pool->per_chunk || b >= pool->per_page) {
		dml__log(0, "%s: dma_pool_free %s, %p/%#llx (bad vaddr)",
			 pool->dev->name, pool->name, vaddr,
			 (unsigned long long)dma);
		goto out_unlock;
	}
	if (pool->pages[pg].dma + off != dma) {
		dml__log(0, "%s: dma_pool_free %s, %p (bad dma %#llx)",
			 pool->dev->name, pool->name, vaddr,
			 (unsigned long long)dma);
		goto out_unlock;
	}
	nr = pg * pool->per_page + b;
	if (!(pool->busy[nr / 64] & (1ULL << (nr % 64)))) {
		dml__log(0, "%s: dma_pool_free %s, dma %#llx already free",
			 pool->dev->name, pool->name, (unsigned long long)dma);
		goto out_unlock;
	}
	pool->busy[nr / 64] &= ~(1ULL << (nr % 64));
	pool->free_stack[pool->nr_free++] = nr;
	pool->nr_active--;
out_unlock:
	dml_spin_unlock(&pool->lock);
}

void dma_pool_destroy(struct dma_pool *pool)
{
	unsigned int i;

	if (!pool)
		return;
	if (pool->nr_active)
		dml__log(0, "%s: dma_pool_destroy %s busy", pool->dev->name,
			 pool->name);
	else
		for (i = 0; i < pool->nr_pages; i++)
			dma_free_coherent(pool->dev, pool->allocation,
					  pool->pages[i].vaddr, pool->pages[i].dma);
	dml__free(pool->pages);
	dml__free(pool->free_stack);
	dml__free(pool->busy);
	dml__free(pool);
}
