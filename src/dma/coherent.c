/* SPDX-License-Identifier: MIT */
/*
 * coherent.c - coherent DMA memory: dma_alloc_attrs() / dma_free_attrs()
 * and their dma_alloc_coherent() / dma_free_coherent() wrappers
 * (kernel/dma/mapping.c, kernel/dma/direct.c dma_direct_alloc,
 * drivers/iommu/dma-iommu.c iommu_dma_alloc), on the emulated platform.
 *
 * Memory.  Allocations come from the platform's emulated RAM, through an
 * arena of 2 MiB chunks taken from the top of the first RAM region (frame
 * bits taken, so layout allocators, page-table pools and swiotlb never
 * overlap them).  Inside a chunk a buddy-style bitmap hands out 2^order
 * pages naturally aligned, as alloc_pages() would: the CPU address and
 * the DMA address of an allocation are aligned to the smallest page order
 * at least its size (Documentation/core-api/dma-api.rst).  Requests above
 * 2 MiB get a block of their own, aligned the same way, whose frames go
 * back to RAM when it is freed; 2 MiB chunks stay in the arena.
 *
 * DMA address.  dma-direct: the physical address, which must lie within
 * the device's coherent mask (and bus limit): chunks are taken below it.
 * dma-iommu: an IOVA below the coherent mask mapped read/write.
 *
 * Coherency.  On a non-coherent device the kernel maps coherent memory
 * uncached; here its frames are marked uncached in the cache model
 * (src/mem/cache.c), so the device and the CPU see the same bytes with no
 * sync.  Memory is zeroed.
 *
 * The checker (src/dma/debug/) records each allocation after it is made and
 * checks each free before it happens (debug_dma_alloc_coherent and
 * debug_dma_free_coherent in kernel/dma/mapping.c).
 *
 * Locking: co->lock (a mutex) covers the chunk list and bitmaps; the
 * IOMMU map happens outside it, the unmap inside (so pages are never
 * handed out again while still mapped).
 */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "debug.h"
#include "swiotlb.h"
#include "../mem/cache.h"

#define CHUNK_SIZE SZ_2M
#define CHUNK_PAGES (CHUNK_SIZE >> PAGE_SHIFT)	/* 512 */
#define MAX_BUDDY_ORDER 9			/* 2 MiB */

/*
 * struct chunk - a 2 MiB buddy chunk or a dedicated large block
 * @used: buddy: bit per page, set when allocated
 * @order: buddy: order + 1 at the first page of each allocation
 */
struct chunk {
	phys_addr_t phys;
	u8 *host;
	u64 bytes;
	bool large;
	unsigned int nr_used;	/* pages */
	u64 used[CHUNK_PAGES / 64];
	u8 order[CHUNK_PAGES];
};

struct dml_coherent {
	pthread_mutex_t lock;
	struct chunk **chunks;
	unsigned int nr, cap;
};

static void *coherent_create(struct dml_platform *p)
{
	struct dml_coherent *co = dml__zalloc(sizeof(*co));

	(void)p;
	if (co)
		pthread_mutex_init(&co->lock, NULL);
	return co;
}

static void coherent_release(void *obj)
{
	struct dml_coherent *co = obj;
	unsigned int i;

	/* the frames go with the RAM region; only the bookkeeping is ours */
	for (i = 0; i < co->nr; i++)
		dml__free(co->chunks[i]);
	dml__free(co->chunks);
	pthread_mutex_destroy(&co->lock);
	dml__free(co);
}

/* ---- taking frames from RAM ---- */

static struct dml_mem_region *first_ram(struct dml_mem *m)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (m->r[i].flags & DML_REGION_RAM)
			return &m->r[i];
	return NULL;
}

/*
 * Take @bytes of free RAM aligned to @align, ending at or below @limit
 * (inclusive) and below the carved top, highest first.  Return: 0 with
 * *@phys and *@host set; -ENOMEM.
 */
static int take_frames(struct dml_mem *m, u64 bytes, u64 align, u64 limit,
		       phys_addr_t *phys, u8 **host)
{
	struct dml_mem_region *r;
	u64 top, cand, f, first, n = bytes >> PAGE_SHIFT;
	int ret = -ENOMEM;

	if (dml__should_fail())
		return -ENOMEM;
	dml_spin_lock(&m->lock);
	r = first_ram(m);
	if (!r || limit < r->base || bytes > r->carve_top)
		goto out;
	top = r->base + r->carve_top;		/* exclusive */
	if (limit - r->base < r->carve_top)
		top = limit + 1;
	if (top - r->base < bytes)
		goto out;
	for (cand = ALIGN_DOWN(top - bytes, align); cand >= r->base;
	     cand -= align) {
		first = (cand - r->base) >> PAGE_SHIFT;
		for (f = 0; f < n; f++)
			if (!dml__frame_take(r, first + f))
				break;
		if (f == n) {
			*phys = cand;
			*host = r->host + (cand - r->base);
			ret = 0;
			break;
		}
		while (f--)
			dml__frame_put(r, first + f);
		if (cand - r->base < align)
			break;
	}
out:
	dml_spin_unlock(&m->lock);
	return ret;
}

static void put_frames(struct dml_mem *m, phys_addr_t phys, u64 bytes)
{
	struct dml_mem_region *r = first_ram(m);
	u64 f, first = (phys - r->base) >> PAGE_SHIFT;

	for (f = 0; f < bytes >> PAGE_SHIFT; f++)
		dml__frame_put(r, first + f);
}

/* ---- the buddy bitmap of one chunk ---- */

/* 2^@order pages, naturally aligned: the first page index, or -1 */
static int chunk_take(struct chunk *ch, unsigned int order)
{
	unsigned int n = 1U << order, w, k;

	if (n <= 64) {
		u64 every = 0;

		for (k = 0; k < 64; k += n)
			every |= 1ULL << k;
		for (w = 0; w < CHUNK_PAGES / 64; w++) {
			u64 c = (u64)dml__bit_runs(~ch->used[w], n) & every;

			if (c) {
				k = dml__ffs64(c);
				ch->used[w] |= (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << k;
				return (int)(w * 64 + k);
			}
		}
		return -1;
	}
	for (w = 0; w < CHUNK_PAGES / 64; w += n / 64) {
		for (k = 0; k < n / 64 && !ch->used[w + k]; k++)
			;
		if (k == n / 64) {
			for (k = 0; k < n / 64; k++)
				ch->used[w + k] = ~0ULL;
			return (int)(w * 64);
		}
	}
	return -1;
}

static void chunk_put(struct chunk *ch, unsigned int first, unsigned int order)
{
	unsigned int n = 1U << order, i;

	for (i = first; i < first + n; i++)
		ch->used[i / 64] &= ~(1ULL << (i % 64));
}

/* ---- allocation ---- */

static unsigned int order_of(size_t size)
{
	u64 pages = DIV_ROUND_UP((u64)size, PAGE_SIZE);

	return dml__fls64(dml__roundup_pow2(pages)) - 1;
}

static int add_chunk(struct dml_coherent *co, struct chunk *ch)
{
	if (co->nr == co->cap) {
		unsigned int cap = co->cap ? co->cap * 2 : 8;
		struct chunk **n = dml__zalloc(cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		if (co->nr)
			memcpy(n, co->chunks, co->nr * sizeof(*n));
		dml__free(co->chunks);
		co->chunks = n;
		co->cap = cap;
	}
	co->chunks[co->nr++] = ch;
	return 0;
}

/*
 * Pages for an allocation of @order below @limit; co->lock held.
 * Return: 0 with *@phys, *@host; -ENOMEM.
 */
static int arena_alloc(struct dml_platform *p, struct dml_coherent *co,
		       unsigned int order, u64 limit, phys_addr_t *phys,
		       u8 **host)
{
	u64 bytes = (u64)PAGE_SIZE << order;
	struct chunk *ch;
	unsigned int i;
	int first;

	if (order <= MAX_BUDDY_ORDER) {
		for (i = 0; i < co->nr; i++) {
			ch = co->chunks[i];
			if (ch->large || ch->phys + CHUNK_SIZE - 1 > limit)
				continue;
			first = chunk_take(ch, order);
			if (first >= 0)
				goto found;
		}
	}
	ch = dml__zalloc(sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	ch->large = order > MAX_BUDDY_ORDER;
	ch->bytes = ch->large ? bytes : CHUNK_SIZE;
	if (add_chunk(co, ch)) {
		dml__free(ch);
		return -ENOMEM;
	}
	if (take_frames(p->mem, ch->bytes, ch->bytes, limit, &ch->phys,
			&ch->host)) {
		co->nr--;
		dml__free(ch);
		return -ENOMEM;
	}
	first = ch->large ? 0 : chunk_take(ch, order);
found:
	ch->order[first] = (u8)(order + 1);
	ch->nr_used += 1U << order;
	*phys = ch->phys + ((u64)first << PAGE_SHIFT);
	*host = ch->host + ((u64)first << PAGE_SHIFT);
	return 0;
}

/* the chunk holding CPU address @va and the page index in it; lock held */
static struct chunk *chunk_of(struct dml_coherent *co, const u8 *va,
			      unsigned int *idx, unsigned int *slot)
{
	unsigned int i;

	for (i = 0; i < co->nr; i++) {
		struct chunk *ch = co->chunks[i];

		if (va >= ch->host && va < ch->host + ch->bytes) {
			*idx = (unsigned int)((u64)(va - ch->host) >> PAGE_SHIFT);
			*slot = i;
			return ch;
		}
	}
	return NULL;
}

static void arena_free(struct dml_platform *p, struct dml_coherent *co,
		       struct chunk *ch, unsigned int slot, unsigned int first,
		       unsigned int order)
{
	ch->order[first] = 0;
	ch->nr_used -= 1U << order;
	if (!ch->large) {
		chunk_put(ch, first, order);
		return;
	}
	put_frames(p->mem, ch->phys, ch->bytes);
	co->chunks[slot] = co->chunks[--co->nr];
	dml__free(ch);
}

/*
 * VFIO has no coherent allocator: anonymous pages (phys_addr_t is their
 * virtual address there), zeroed, mapped for both directions with
 * dma_map_phys(), which is coherent on x86 all the same.
 */
static void *vfio_alloc(struct dml_device *dev, size_t size, dma_addr_t *dma_handle)
{
	size_t bytes = ALIGN(size, PAGE_SIZE);
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	dma_addr_t dma;

	if (p == MAP_FAILED)
		return NULL;
	dma = dma_map_phys(dev, (phys_addr_t)(uintptr_t)p, bytes, DMA_BIDIRECTIONAL, 0);
	if (dma_mapping_error(dev, dma)) {
		munmap(p, bytes);
		return NULL;
	}
	*dma_handle = dma;
	return p;
}

static void vfio_free(struct dml_device *dev, size_t size, void *cpu_addr,
		      dma_addr_t dma_handle)
{
	size_t bytes = ALIGN(size, PAGE_SIZE);

	dma_unmap_phys(dev, dma_handle, bytes, DMA_BIDIRECTIONAL, 0);
	munmap(cpu_addr, bytes);
}

void *dma_alloc_attrs(struct dml_device *dev, size_t size,
		      dma_addr_t *dma_handle, gfp_t gfp, unsigned long attrs)
{
	struct dml_platform *p;
	struct dml_coherent *co;
	unsigned int order;
	phys_addr_t phys;
	dma_addr_t dma;
	u64 limit, bytes;
	u8 *host;
	int ret;

	(void)gfp;
	if (dma_handle)
		*dma_handle = DMA_MAPPING_ERROR;
	if (!dev || !dma_handle || !size || size > (SIZE_MAX >> 1)) {
		dml__warn("dma_alloc_attrs: invalid arguments (dev %p, size %zu)",
			  (void *)dev, size);
		return NULL;
	}
	p = dev->plat;
	if (p->kind != DML_PLATFORM_EMU)
		return vfio_alloc(dev, size, dma_handle);
	order = order_of(size);
	bytes = (u64)PAGE_SIZE << order;
	limit = ~0ULL;
	if (!dml__use_dma_iommu(dev)) {
		/* dma_direct_alloc(): below the coherent mask and bus limit */
		limit = dev->coherent_dma_mask;
		if (dev->bus_dma_limit && dev->bus_dma_limit < limit)
			limit = dev->bus_dma_limit;
	}
	co = dml__platform_slot_get(p, DML_SLOT_COHERENT, coherent_create,
				    coherent_release);
	if (!co)
		goto err_warn;
	pthread_mutex_lock(&co->lock);
	ret = arena_alloc(p, co, order, limit, &phys, &host);
	pthread_mutex_unlock(&co->lock);
	if (ret)
		goto err_warn;

	memset(host, 0, bytes);
	if (dev->non_coherent && dml__cache_set_uncached(p, phys, bytes, true))
		goto err_free;
	dma = (dma_addr_t)phys;
	if (dml__use_dma_iommu(dev)) {
		dma = dml__iommu_map_coherent(dev, phys, bytes);
		if (dma == DMA_MAPPING_ERROR)
			goto err_cached;
	}
	*dma_handle = dma;
	if (dml__dma_debug_active())
		dml__dma_debug_alloc_coherent(dev, size, dma, host, false,
					      DMA_BIDIRECTIONAL);
	return host;

err_cached:
	if (dev->non_coherent)
		dml__cache_set_uncached(p, phys, bytes, false);
err_free:
	{
		unsigned int idx = 0, slot = 0;
		struct chunk *ch;

		pthread_mutex_lock(&co->lock);
		ch = chunk_of(co, host, &idx, &slot);
		if (!DML_WARN_ON(!ch))
			arena_free(p, co, ch, slot, idx, order);
		pthread_mutex_unlock(&co->lock);
	}
err_warn:
	if (!(attrs & DMA_ATTR_NO_WARN))
		dml__warn("%s: dma_alloc_attrs: no memory for %zu bytes of coherent memory",
			  dev->name, size);
	return NULL;
}

void dma_free_attrs(struct dml_device *dev, size_t size, void *cpu_addr,
		    dma_addr_t dma_handle, unsigned long attrs)
{
	struct dml_coherent *co;
	unsigned int idx, slot, order;
	struct chunk *ch;
	phys_addr_t phys;
	u64 bytes;

	(void)attrs;
	if (!cpu_addr)
		return;
	if (dev && dev->plat->kind != DML_PLATFORM_EMU) {
		vfio_free(dev, size, cpu_addr, dma_handle);
		return;
	}
	if (dev && dml__dma_debug_active())
		dml__dma_debug_free_coherent(dev, size, cpu_addr, dma_handle,
					     false, DMA_BIDIRECTIONAL);
	co = dev ? dml__platform_slot(dev->plat, DML_SLOT_COHERENT) : NULL;
	if (!co || !size) {
		dml__warn("dma_free_attrs: %p was not allocated by dma_alloc_attrs()",
			  cpu_addr);
		return;
	}
	order = order_of(size);
	bytes = (u64)PAGE_SIZE << order;
	pthread_mutex_lock(&co->lock);
	ch = chunk_of(co, cpu_addr, &idx, &slot);
	if (!ch || ch->order[idx] != order + 1 ||
	    (u8 *)cpu_addr != ch->host + ((u64)idx << PAGE_SHIFT)) {
		dml__warn("%s: dma_free_coherent: %p is not an allocation of %zu bytes; nothing freed",
			  dev->name, cpu_addr, size);
		goto out_unlock;
	}
	phys = ch->phys + ((u64)idx << PAGE_SHIFT);
	if (dml__use_dma_iommu(dev)) {
		struct dml_domain *d = dev->domain;

		if (d->ops->iova_to_phys(d, (dml_iova_t)dma_handle) != phys) {
			dml__warn("%s: dma_free_coherent: DMA address %#llx does not map %p; nothing freed",
				  dev->name, (unsigned long long)dma_handle, cpu_addr);
			goto out_unlock;
		}
		dml__iommu_unmap_phys(dev, dma_handle, bytes, DMA_BIDIRECTIONAL,
				      DMA_ATTR_SKIP_CPU_SYNC);
	} else if (dma_handle != (dma_addr_t)phys) {
		dml__warn("%s: dma_free_coherent: DMA address %#llx does not match %p; nothing freed",
			  dev->name, (unsigned long long)dma_handle, cpu_addr);
		goto out_unlock;
	}
	if (dev->non_coherent)
		dml__cache_set_uncached(dev->plat, phys, bytes, false);
	arena_free(dev->plat, co, ch, slot, idx, order);
out_unlock:
	pthread_mutex_unlock(&co->lock);
}
