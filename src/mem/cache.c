/* SPDX-License-Identifier: MIT */
/*
 * cache.c - the CPU cache as a non-coherent device sees it, so that a
 * missing dma_sync_*() gives wrong data in a test as it does on real
 * non-coherent hardware (arm64, RISC-V SoCs).
 *
 * Model.  Every RAM region has three views of the same bytes:
 *   CPU view  the region's host mapping: what the CPU reads and writes
 *             (dml_kmap_local_phys()) and what coherent devices access,
 *             since they snoop the caches;
 *   memory    what a non-coherent device reads and writes (DRAM);
 *   snapshot  per line, the CPU's copy as it was when the line was last
 *             written back or filled from memory.
 * A line is CPU-dirty when its CPU view differs from its snapshot: the CPU
 * wrote it since the last clean, and a device does not see that write
 * until the line is cleaned.  A device write lands in memory and the CPU
 * does not see it until the line is invalidated.  Cache maintenance works
 * on whole 64-byte lines:
 *   clean (arch_sync_dma_for_device, every direction, as arm64 does):
 *     for CPU-dirty lines, memory = snapshot = CPU view;
 *   invalidate (arch_sync_dma_for_cpu unless DMA_TO_DEVICE):
 *     CPU view = snapshot = memory; a dirty line cut by the range is
 *     written back first (arm64 dcache_inval_poc cleans partial lines);
 *     a dirty line inside the range is discarded, as on hardware.
 * Nothing is evicted spontaneously: a dirty line stays invisible to
 * devices until a clean, which makes the model deterministic.  A CPU write
 * of the value a line already held is not seen as dirty (harmless: the
 * snapshot and the CPU view agree).
 *
 * Frames given out by dma_alloc_coherent() for a non-coherent device are
 * uncached (one bit per 4 KiB frame): devices use the CPU view there and
 * maintenance skips them.  MMIO is never cached.
 *
 * The memory and snapshot views are anonymous MAP_NORESERVE mappings the
 * size of the region, created when the first non-coherent device is
 * created (dml__cache_prepare) or, for regions added later, on first use;
 * untouched pages cost nothing.  Coherent devices never reach this file:
 * their fast path in dma_engine.c is unchanged.
 *
 * Locking: c->lock serialises creating views; a view, once published
 * (release store of c->nr), never moves until the platform releases its slots.
 * Maintenance of overlapping ranges from two threads at once is a caller
 * race, as on hardware; disjoint ranges need no lock.  Uncached bits are
 * atomic.
 */
#include <pthread.h>
#include <string.h>

#include "cache.h"

struct shadow {
	phys_addr_t base;
	u64 size;
	u8 *cpu;			/* the region's host mapping */
	u8 *mem;			/* memory view */
	u8 *snap;			/* snapshot view */
	atomic_ullong *uncached;	/* bit per 4 KiB frame */
};

struct dml_cache {
	pthread_mutex_t lock;		/* creating shadows */
	atomic_uint nr;
	struct shadow sh[DML_MAX_REGIONS];
	atomic_ullong written_back;
	atomic_ullong refilled;
	atomic_ullong discarded;
	atomic_ullong flushes;
};

static void *cache_create(struct dml_platform *p)
{
	struct dml_cache *c = dml__zalloc(sizeof(*c));

	(void)p;
	if (c)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

static void cache_release(void *obj)
{
	struct dml_cache *c = obj;
	unsigned int i;

	for (i = 0; i < atomic_load(&c->nr); i++) {
		dml__vm_free(c->sh[i].mem, c->sh[i].size);
		dml__vm_free(c->sh[i].snap, c->sh[i].size);
		dml__free(c->sh[i].uncached);
	}
	pthread_mutex_destroy(&c->lock);
	dml__free(c);
}

static struct shadow *find_shadow(struct dml_cache *c, phys_addr_t phys)
{
	unsigned int i, nr = atomic_load_explicit(&c->nr, memory_order_acquire);

	for (i = 0; i < nr; i++)
		if (phys >= c->sh[i].base && phys - c->sh[i].base < c->sh[i].size)
			return &c->sh[i];
	return NULL;
}

/* the shadow of RAM region @r, created if needed; NULL when out of memory */
static struct shadow *region_shadow(struct dml_platform *p,
				    struct dml_mem_region *r)
{
	struct dml_cache *c = dml__platform_slot_get(p, DML_SLOT_CACHE,
						     cache_create, cache_release);
	struct shadow *s;
	unsigned int nr;

	if (!c)
		return NULL;
	s = find_shadow(c, r->base);
	if (likely(s))
		return s;
	pthread_mutex_lock(&c->lock);
	s = find_shadow(c, r->base);
	nr = atomic_load_explicit(&c->nr, memory_order_relaxed);
	if (!s && nr < DML_MAX_REGIONS) {
		struct shadow *n = &c->sh[nr];

		n->mem = dml__vm_zalloc(r->size);
		n->snap = n->mem ? dml__vm_zalloc(r->size) : NULL;
		n->uncached = n->snap ?
			dml__zalloc(DIV_ROUND_UP(r->size >> PAGE_SHIFT, 64) * 8) :
			NULL;
		if (n->uncached) {
			n->base = r->base;
			n->size = r->size;
			n->cpu = r->host;
			atomic_store_explicit(&c->nr, nr + 1, memory_order_release);
			s = n;
		} else {
			dml__vm_free(n->snap, r->size);
			dml__vm_free(n->mem, r->size);
			memset(n, 0, sizeof(*n));
		}
	}
	pthread_mutex_unlock(&c->lock);
	return s;
}

/* the shadow holding @phys, creating it for RAM; NULL for MMIO/unbacked */
static struct shadow *shadow_for(struct dml_platform *p, phys_addr_t phys)
{
	struct dml_cache *c = dml__platform_slot(p, DML_SLOT_CACHE);
	struct dml_mem_region *r;
	struct shadow *s;

	if (likely(c) && (s = find_shadow(c, phys)))
		return s;
	r = dml__mem_find(p->mem, phys, 1);
	if (!r || !(r->flags & DML_REGION_RAM))
		return NULL;
	return region_shadow(p, r);
}

int dml__cache_prepare(struct dml_platform *p)
{
	unsigned int i;

	for (i = 0; i < p->mem->nr; i++) {
		struct dml_mem_region *r = &p->mem->r[i];

		if ((r->flags & DML_REGION_RAM) && !region_shadow(p, r))
			return -ENOMEM;
	}
	return 0;
}

static inline bool frame_uncached(const struct shadow *s, u64 off)
{
	u64 f = off >> PAGE_SHIFT;

	return atomic_load_explicit(&s->uncached[f >> 6], memory_order_relaxed) &
	       (1ULL << (f & 63));
}

/* two 64-byte lines differ (8-byte loads; host views are page aligned) */
static inline bool line_differs(const u8 *a, const u8 *b)
{
	u64 d = 0, x, y;
	unsigned int i;

	for (i = 0; i < DML_CACHE_LINE; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		d |= x ^ y;
	}
	return d != 0;
}

/* clean (write back) the lines [off, end) of one frame of @s */
static u64 clean_lines(struct shadow *s, u64 off, u64 end)
{
	u64 n = 0;

	/* fast path: nothing dirty (libc's memcmp is vectorised) */
	if (!memcmp(s->cpu + off, s->snap + off, end - off))
		return 0;
	for (; off < end; off += DML_CACHE_LINE) {
		if (line_differs(s->cpu + off, s->snap + off)) {
			memcpy(s->mem + off, s->cpu + off, DML_CACHE_LINE);
			memcpy(s->snap + off, s->cpu + off, DML_CACHE_LINE);
			n++;
		}
	}
	return n;
}

/*
 * invalidate the lines [off, end) of one frame of @s; @lo and @hi are the
 * range's exact ends (lines they cut are written back first if dirty)
 */
static void inval_lines(struct dml_cache *c, struct shadow *s, u64 off,
			u64 end, u64 lo, u64 hi)
{
	u64 wb = 0, dropped = 0, filled = 0;

	/* fast path: nothing dirty and memory unchanged */
	if (!memcmp(s->cpu + off, s->snap + off, end - off) &&
	    !memcmp(s->cpu + off, s->mem + off, end - off))
		return;
	for (; off < end; off += DML_CACHE_LINE) {
		u8 *cpu = s->cpu + off, *mem = s->mem + off, *snap = s->snap + off;

		if (line_differs(cpu, snap)) {
			if (off < lo || off + DML_CACHE_LINE > hi) {
				/* clean + invalidate: the bytes outside survive */
				memcpy(mem, cpu, DML_CACHE_LINE);
				wb++;
			} else {
				dropped++;
			}
		} else if (!line_differs(cpu, mem)) {
			continue;	/* clean and unchanged in memory */
		}
		if (line_differs(cpu, mem)) {
			memcpy(cpu, mem, DML_CACHE_LINE);
			filled++;
		}
		memcpy(snap, mem, DML_CACHE_LINE);
	}
	if (wb)
		atomic_fetch_add_explicit(&c->written_back, wb, memory_order_relaxed);
	if (dropped)
		atomic_fetch_add_explicit(&c->discarded, dropped, memory_order_relaxed);
	if (filled)
		atomic_fetch_add_explicit(&c->refilled, filled, memory_order_relaxed);
}

/*
 * Walk [phys, +size) rounded out to lines, one 4 KiB frame at a time
 * (uncached frames, MMIO and holes skipped): clean it, or invalidate it.
 */
static void maintain(struct dml_platform *p, phys_addr_t phys, size_t size,
		     bool inval)
{
	struct dml_cache *c;
	phys_addr_t end, line;
	u64 wb = 0;

	if (!size || phys + size < phys)
		return;
	end = phys + size;
	line = ALIGN_DOWN(phys, (phys_addr_t)DML_CACHE_LINE);
	while (line < end) {
		phys_addr_t stop = min(ALIGN(line + 1, (phys_addr_t)PAGE_SIZE),
				       ALIGN(end, (phys_addr_t)DML_CACHE_LINE));
		struct shadow *s = shadow_for(p, line);
		u64 off;

		if (s && stop > s->base + s->size)
			stop = s->base + s->size;
		if (!s || frame_uncached(s, line - s->base)) {
			line = stop;
			continue;
		}
		off = line - s->base;
		c = dml__platform_slot(p, DML_SLOT_CACHE);
		if (inval)
			inval_lines(c, s, off, stop - s->base,
				    phys > s->base ? phys - s->base : 0,
				    end - s->base);
		else
			wb += clean_lines(s, off, stop - s->base);
		line = stop;
	}
	if (wb) {
		c = dml__platform_slot(p, DML_SLOT_CACHE);
		atomic_fetch_add_explicit(&c->written_back, wb,
					  memory_order_relaxed);
	}
}

void dml__cache_clean(struct dml_platform *p, phys_addr_t phys, size_t size)
{
	maintain(p, phys, size, false);
}

void dml__cache_inval(struct dml_platform *p, phys_addr_t phys, size_t size)
{
	maintain(p, phys, size, true);
}

int dml__cache_set_uncached(struct dml_platform *p, phys_addr_t phys,
			    size_t size, bool uncached)
{
	phys_addr_t end = phys + size;

	if (!IS_ALIGNED(phys | size, PAGE_SIZE) || end < phys)
		return -EINVAL;
	while (phys < end) {
		struct shadow *s = shadow_for(p, phys);
		u64 off, f, bit;

		if (!s) {
			struct dml_mem_region *r = dml__mem_find(p->mem, phys, 1);

			if (r && (r->flags & DML_REGION_RAM))
				return -ENOMEM;
			phys += PAGE_SIZE;	/* MMIO: never cached */
			continue;
		}
		off = phys - s->base;
		f = off >> PAGE_SHIFT;
		bit = 1ULL << (f & 63);
		if (uncached) {
			atomic_fetch_or(&s->uncached[f >> 6], bit);
		} else {
			/* the frame leaves the uncached mapping: all agree */
			memcpy(s->mem + off, s->cpu + off, PAGE_SIZE);
			memcpy(s->snap + off, s->cpu + off, PAGE_SIZE);
			atomic_fetch_and(&s->uncached[f >> 6], ~bit);
		}
		phys += PAGE_SIZE;
	}
	return 0;
}

void *dml__cache_dev_host(struct dml_platform *p, phys_addr_t phys, size_t *len)
{
	size_t frame_left = PAGE_SIZE - (size_t)(phys & (PAGE_SIZE - 1));
	struct dml_mem_region *r;
	struct shadow *s;
	u64 off;

	if (*len > frame_left)
		*len = frame_left;
	s = shadow_for(p, phys);
	if (!s) {
		/* MMIO is uncached: the device sees what the CPU sees */
		r = dml__mem_find(p->mem, phys, *len);
		if (!r || (r->flags & DML_REGION_RAM))
			return NULL;
		return r->host + (phys - r->base);
	}
	off = phys - s->base;
	if (*len > s->size - off)
		return NULL;
	return frame_uncached(s, off) ? s->cpu + off : s->mem + off;
}

void dml__cache_get_stats(struct dml_platform *p, struct dml__cache_stats *st)
{
	struct dml_cache *c = dml__platform_slot(p, DML_SLOT_CACHE);

	memset(st, 0, sizeof(*st));
	if (!c)
		return;
	st->written_back = atomic_load(&c->written_back);
	st->refilled = atomic_load(&c->refilled);
	st->discarded = atomic_load(&c->discarded);
	st->flushes = atomic_load(&c->flushes);
}

void dml__arch_sync_dma_flush(struct dml_platform *p)
{
	struct dml_cache *c = dml__platform_slot(p, DML_SLOT_CACHE);

	if (c)
		atomic_fetch_add_explicit(&c->flushes, 1, memory_order_relaxed);
}
