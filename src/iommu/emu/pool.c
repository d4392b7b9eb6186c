/* SPDX-License-Identifier: MIT */
/*
 * pool.c - the table pages of one emulated VT-d unit.  Page tables live in
 * the platform's emulated RAM, as they would on a real machine, so their
 * memory is counted: pages are carved from the top of the first RAM region
 * in 2 MiB chunks (dml__mem_carve) and never given back to RAM; freed table
 * pages go on this pool's free list and are reused.
 *
 * Invariants:
 *  - a page on the free list is all zeros except word 0, the link to the
 *    next free page (only empty tables are ever freed, and an empty table
 *    is all zeros: a non-present entry is exactly 0);
 *  - host address - physical address is the same for every chunk
 *    (@delta), so a table entry converts to a host pointer with one add;
 *  - @in_use counts pages handed out and not freed (pt_pages);
 *  - word 0 of a table page is written with atomic stores when it becomes
 *    or stops being a link: a device walk that raced with the trim which
 *    freed the page may still read it (emu.h).
 * Locking: pool->lock guards the pool; it nests inside a domain's locks and
 * takes the memory map's lock (carving) inside itself.
 * Fault injection: every page allocation asks dml__should_fail() first
 * (reference/style.md C11); carving a new chunk asks it again.
 * emu_pt_free() cannot fail.
 */
#include <string.h>

#include "emu.h"

#define POOL_CHUNK SZ_2M

/**
 * emu_pool_init - an empty pool over @mem
 * @pool: the pool, zeroed by the caller
 * @mem: the platform's physical address space
 *
 * Return: 0 (nothing is carved until the first allocation).
 */
int emu_pool_init(struct emu_pool *pool, struct dml_mem *mem)
{
	dml_spin_init(&pool->lock);
	pool->mem = mem;
	return 0;
}

/* carve one more chunk into the bump area; pool lock held */
static int pool_grow(struct emu_pool *pool)
{
	struct dml_mem_region *r;
	phys_addr_t phys;
	void *host;
	s64 delta;
	int ret;

	ret = dml__mem_carve(pool->mem, POOL_CHUNK, ~0ULL, &phys, &host);
	if (ret)
		return ret;
	delta = (s64)((uintptr_t)host - (uintptr_t)phys);
	if (!pool->have_delta) {
		r = dml__mem_find(pool->mem, phys, POOL_CHUNK);
		if (DML_WARN_ON(!r))
			return -ENOMEM;
		pool->delta = delta;
		pool->lo = r->base;
		pool->hi = r->base + r->size;
		pool->have_delta = true;
	} else if (DML_WARN_ON(delta != pool->delta ||
			       phys < pool->lo || phys >= pool->hi)) {
		/* not from the first RAM region: unusable, leave it carved */
		return -ENOMEM;
	}
	pool->bump = host;
	pool->bump_left = POOL_CHUNK / SZ_4K;
	pool->chunks++;
	return 0;
}

/**
 * emu_pt_alloc - a zeroed 4 KiB table page from the unit's pool
 * @iommu: unit
 * @table: out: host address of the page (its emulated physical address is
 *	emu_table_phys())
 *
 * Counts the page in pt_pages (and the peak).
 * Return: 0; -ENOMEM when fault injection says so or RAM cannot give a
 * new 2 MiB chunk.
 */
int emu_pt_alloc(struct dml_iommu *iommu, u64 **table)
{
	struct emu_pool *pool = &iommu->pool;
	u64 *t;
	int ret;

	if (dml__should_fail())
		return -ENOMEM;
	dml_spin_lock(&pool->lock);
	t = pool->free;
	if (t) {
		pool->free = (u64 *)(uintptr_t)__atomic_load_n(&t[0], __ATOMIC_RELAXED);
		emu_pte_write(&t[0], 0);
	} else {
		if (!pool->bump_left) {
			ret = pool_grow(pool);
			if (ret) {
				dml_spin_unlock(&pool->lock);
				return ret;
			}
		}
		t = (u64 *)pool->bump;
		pool->bump += SZ_4K;
		pool->bump_left--;
		memset(t, 0, SZ_4K);
	}
	if (++pool->in_use > pool->peak)
		pool->peak = pool->in_use;
	dml_spin_unlock(&pool->lock);
	*table = t;
	return 0;
}

/**
 * emu_pt_free - give an empty table page back to the pool
 * @iommu: unit
 * @table: from emu_pt_alloc(), all entries 0
 */
void emu_pt_free(struct dml_iommu *iommu, u64 *table)
{
	struct emu_pool *pool = &iommu->pool;

#ifdef DML_DEBUG
	for (unsigned int i = 0; i < EMU_PTES; i++)
		DML_WARN_ON(emu_pte_read(&table[i]));
#endif
	atomic_fetch_add_explicit(&pool->gen, 1, memory_order_release);
	dml_spin_lock(&pool->lock);
	emu_pte_write(&table[0], (u64)(uintptr_t)pool->free);
	pool->free = table;
	pool->in_use--;
	dml_spin_unlock(&pool->lock);
}
