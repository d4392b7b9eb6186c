/* SPDX-License-Identifier: MIT */
/*
 * swiotlb.c - bounce buffering (kernel/dma/swiotlb.c; ref §5 and §9 item
 * 20): a pool of 2 KiB slots in the platform's emulated RAM through which
 * dma-direct bounces addresses a device cannot reach (or every address for
 * a force_bounce device), and dma-iommu bounces the sub-granule pieces of
 * an untrusted device's buffers.  Written from the kernel's documented
 * semantics; the slot search is our own (bitmaps, below).
 *
 * Pool.  One per platform, carved from the top of the first RAM region
 * below 4 GiB (dml__mem_carve; 2 MiB aligned, never given back), created
 * on first use.  Low, as the kernel's memblock_alloc_low() places the
 * default pool in swiotlb_init_remap(), so that a device with a 32-bit
 * mask can reach its bounce buffers on a machine with more RAM.
 * nslabs slots are split into nareas areas (a power of two, at most the
 * CPU count rounded up, each at least one segment), each with its own
 * lock; a segment is IO_TLB_SEGSIZE (128) slots and no mapping crosses a
 * segment, which caps a mapping at 256 KiB.
 *
 * Slot search.  Each segment has a 128-bit free map (bit set: slot free).
 * A request for n slots reduces the map to "a run of n free slots starts
 * here" with log2(n) shift-and steps, then masks it with the positions
 * that satisfy the alignment rules, and takes the lowest: first fit from
 * the start of the area, so a hot pool reuses the same (cached) slots
 * (the kernel walks a rotating index instead; slot choice is not part of
 * its contract).  The rules, as in swiotlb_search_pool_area():
 *   - the first slot is aligned to alloc_align_mask + 1 (at least a slot);
 *   - the bits of the original address under min_align_mask above the slot
 *     offset are matched by the slot address; the bits below are kept by
 *     starting the data at the same offset in its slot (leading padding
 *     slots when min_align_mask exceeds a slot);
 *   - with neither mask, a request of PAGE_SIZE or more is page aligned;
 *   - the mapping does not cross the device's segment boundary.
 *
 * Data.  Map always copies the original into the bounce buffer, whatever
 * the direction; unmap and sync-for-CPU copy back for DMA_FROM_DEVICE and
 * DMA_BIDIRECTIONAL; sync-for-device copies in for DMA_TO_DEVICE and
 * DMA_BIDIRECTIONAL.  Copies use the CPU view (dml__mem_host); cache
 * maintenance of the bounce buffer for non-coherent devices is the
 * caller's, as in the kernel.
 *
 * Locking: an area's lock covers its free maps, used count, hint and
 * counters.  A thread searches its own area first (threads are numbered
 * on first use, area = number & (nareas - 1): the raw_smp_processor_id()
 * of user space) and then the others in turn, so concurrent bouncing from
 * different threads shares no lock.  Slot metadata of a live mapping is
 * written by its mapper before the address is returned and read by its
 * users only.  The counters are plain stores under the area lock, which
 * is taken before the copy on map and after it on unmap: a locked
 * instruction right after a 4 KiB memcpy would wait for its stores to
 * drain, which costs more than the copy (perf-anchors.md G16).
 */
#include <dmalink/cc.h>
#include <string.h>
#include <unistd.h>

#include "swiotlb.h"
#include "../mem/cache.h"

/*
 * struct dml_swiotlb_slot - a mapping's metadata (io_tlb_slot), kept in
 * its first data slot only; every other slot is all zero (@nslots 0),
 * so map and unmap each write one slot however long the mapping, and a
 * sync inside a mapping finds its first slot by walking back to the
 * nearest slot with @nslots set (a mapping never crosses a segment, so
 * at most IO_TLB_SEGSIZE - 1 steps).  The kernel keeps orig_addr and
 * alloc_size in every slot instead; the bytes a sync copies are the
 * same.  Writing 32 slots on map and clearing them on unmap, before the
 * area lock's xchg waited for those stores, was about half of what a
 * 64 KiB bounce spent beyond its copy (perf-anchors.md G17).
 * @orig: original address of the mapping's first byte (slot start + @off)
 * @size: bytes mapped
 * @off: offset of the data in its slots
 * @pad: padding slots allocated before this one
 * @nslots: slots of the allocation, padding included; 0: not a mapping's
 *	first data slot
 */
struct dml_swiotlb_slot {
	phys_addr_t orig;
	u32 size;
	u16 off;
	u8 pad;
	u8 nslots;
};

/*
 * struct dml_swiotlb_area - a lock and the segments it guards
 * @hint: every segment below it is full
 */
struct dml_swiotlb_area {
	dml_spinlock_t lock;
	unsigned int used;
	unsigned int hint;
	u128 *free;
	u64 maps;		/* under the lock */
	u64 bounced;		/* under the lock: map and unmap copies */
	atomic_ullong sync_bounced;
	atomic_ullong full;
} __attribute__((aligned(64)));

#define SEGS_PER_AREA(sw) ((sw)->area_nslabs / IO_TLB_SEGSIZE)

/* the area of slot @idx (area_nslabs is a power of two by default) */
static inline unsigned int area_nr(const struct dml_swiotlb *sw, u64 idx)
{
	if (likely(sw->area_shift))
		return (unsigned int)(idx >> sw->area_shift);
	return (unsigned int)((u32)idx / sw->area_nslabs);
}

/* a plain add to a counter read without the lock */
#define COUNTER_ADD(x, n) __atomic_store_n(&(x), (x) + (n), __ATOMIC_RELAXED)

static inline unsigned int nr_slots(u64 bytes)
{
	return (unsigned int)DIV_ROUND_UP(bytes, IO_TLB_SIZE);
}

static inline phys_addr_t slot_addr(const struct dml_swiotlb *sw, u64 idx)
{
	return sw->start + (idx << IO_TLB_SHIFT);
}

/* ------------------------------------------------------------------ */
/* The pool                                                            */
/* ------------------------------------------------------------------ */

static unsigned int default_nareas(unsigned long nslabs)
{
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	unsigned int n = (unsigned int)dml__roundup_pow2(cpus > 0 ? (u64)cpus : 1);

	while (n > 1 && nslabs / n < IO_TLB_SEGSIZE)
		n >>= 1;
	return n;
}

/* the end of the memory the pool comes from: ARCH_LOW_ADDRESS_LIMIT + 1 */
#define POOL_LIMIT (DMA_BIT_MASK(32) + 1)

/* the pool of struct dml_emu_opts.swiotlb_size bytes (a platform slot) */
static void *pool_create(struct dml_platform *p)
{
	u64 bytes = p->swiotlb_size;
	struct dml_swiotlb *sw;
	unsigned long i, nsegs;
	u128 *segs;
	void *host;
	phys_addr_t phys;

	sw = dml__zalloc(sizeof(*sw));
	if (!sw)
		return NULL;
	sw->nslabs = (unsigned long)(bytes >> IO_TLB_SHIFT);
	sw->nareas = default_nareas(sw->nslabs);
	sw->area_nslabs = (unsigned int)(sw->nslabs / sw->nareas);
	if (dml__is_pow2(sw->area_nslabs))
		sw->area_shift = dml__ffs64(sw->area_nslabs);
	nsegs = sw->nslabs / IO_TLB_SEGSIZE;
	sw->slots = dml__zalloc(sw->nslabs * sizeof(*sw->slots));
	sw->areas = dml__zalloc_aligned(64, sw->nareas * sizeof(*sw->areas));
	segs = dml__zalloc_aligned(64, nsegs * sizeof(u128));
	if (!sw->slots || !sw->areas || !segs)
		goto err_free;
	/* carve last: carved RAM is never given back */
	if (dml__mem_carve(p->mem, bytes, POOL_LIMIT, &phys, &host))
		goto err_free;
	/* swiotlb_update_mem_attributes(): a confidential guest's pool is shared */
	DML_WARN_ON(set_memory_decrypted(p, phys, (int)(bytes >> PAGE_SHIFT)));
	sw->start = phys;
	sw->end = phys + bytes;
	sw->host = host;
	for (i = 0; i < nsegs; i++)
		segs[i] = ~(u128)0;
	for (i = 0; i < sw->nareas; i++) {
		dml_spin_init(&sw->areas[i].lock);
		sw->areas[i].free = segs + i * SEGS_PER_AREA(sw);
	}
	return sw;

err_free:
	dml__free(segs);
	dml__free(sw->areas);
	dml__free(sw->slots);
	dml__free(sw);
	return NULL;
}

static void pool_release(void *obj)
{
	struct dml_swiotlb *sw = obj;

	if (sw->areas)
		dml__free(sw->areas[0].free);
	dml__free(sw->areas);
	dml__free(sw->slots);
	dml__free(sw);
}

struct dml_swiotlb *dml__swiotlb_create(struct dml_platform *p)
{
	if (p->kind != DML_PLATFORM_EMU || !p->swiotlb_size)
		return NULL;
	return dml__platform_slot_get(p, DML_SLOT_SWIOTLB, pool_create,
				      pool_release);
}

static unsigned long pool_used(const struct dml_swiotlb *sw)
{
	unsigned long used = 0;
	unsigned int i;

	/* unlocked, hence approximate under concurrency (mem_pool_used) */
	for (i = 0; i < sw->nareas; i++)
		used += __atomic_load_n(&sw->areas[i].used, __ATOMIC_RELAXED);
	return used;
}

/* ------------------------------------------------------------------ */
/* Slot search                                                         */
/* ------------------------------------------------------------------ */

/* the calling thread's number, the area it searches first */
static atomic_uint next_thread;
static _Thread_local unsigned int this_thread DML_TLS_HOT; /* number + 1, 0: unset */

static inline unsigned int thread_nr(void)
{
	if (unlikely(!this_thread))
		this_thread = atomic_fetch_add_explicit(&next_thread, 1,
							memory_order_relaxed) + 1;
	return this_thread - 1;
}

static inline unsigned int ctz128(u128 x)
{
	u64 lo = (u64)x;

	return lo ? dml__ffs64(lo) : 64 + dml__ffs64((u64)(x >> 64));
}

static inline u128 run_mask(unsigned int n)
{
	return n >= 128 ? ~(u128)0 : (((u128)1 << n) - 1);
}

/* bits 0, 2^k, 2 * 2^k, ... of a segment, for k = 0 .. 7 */
#define EVERY(lo) (((u128)(lo) << 64) | (u128)(lo))
static const u128 every_nth[8] = {
	EVERY(0xffffffffffffffffULL), EVERY(0x5555555555555555ULL),
	EVERY(0x1111111111111111ULL), EVERY(0x0101010101010101ULL),
	EVERY(0x0001000100010001ULL), EVERY(0x0000000100000001ULL),
	EVERY(0x0000000000000001ULL), (u128)1,
};

/*
 * What a search must satisfy, in slot terms.  The slot address must match
 * @target under @mask (alignment to alloc_align_mask + 1 and the
 * min_align_mask bits above the slot offset); for a mask of contiguous low
 * bits that is "index = @residue modulo @period".
 */
struct search {
	unsigned int nslots;
	u64 mask;
	u64 target;
	bool contiguous;
	u64 period;		/* slots, power of two */
	u64 residue;
	u128 every_period;	/* bits 0, period, 2 period, ... (period <= 128) */
	u128 boundary;		/* start positions not crossing the boundary */
};

static bool search_init(const struct dml_swiotlb *sw, struct search *q,
			const struct dml_device *dev, phys_addr_t orig,
			u64 alloc_size, unsigned int alloc_align_mask,
			unsigned int min_align_mask)
{
	u64 align = alloc_align_mask, iotlb = min_align_mask;
	unsigned long bmask = dev->seg_boundary_mask;
	u64 bslots;

	q->nslots = nr_slots(alloc_size);
	/* the historical page alignment of large streaming mappings */
	if (!align && !iotlb && alloc_size >= PAGE_SIZE)
		align = PAGE_SIZE - 1;
	align |= IO_TLB_SIZE - 1;
	iotlb &= ~align;
	q->mask = align | iotlb;
	q->target = orig & iotlb;
	q->contiguous = dml__is_pow2(q->mask + 1);
	q->period = 1;
	q->residue = 0;
	q->every_period = ~(u128)0;
	if (q->contiguous) {
		q->period = (q->mask + 1) >> IO_TLB_SHIFT;
		q->residue = ((q->target - sw->start) & q->mask) >> IO_TLB_SHIFT;
		if (q->period > 1 && q->period <= IO_TLB_SEGSIZE)
			q->every_period = every_nth[dml__ffs64(q->period)] <<
					  (q->residue & (q->period - 1));
	}
	/*
	 * The segment boundary, in slots: segments are 256 KiB aligned (the
	 * pool is 2 MiB aligned), so only boundaries below 256 KiB matter.
	 */
	q->boundary = ~(u128)0;
	bslots = ((u64)bmask >> IO_TLB_SHIFT) + 1;
	if (bslots < IO_TLB_SEGSIZE) {
		u128 unit;
		u64 k;

		if (q->nslots > bslots)
			return false;
		unit = run_mask((unsigned int)(bslots - q->nslots + 1));
		q->boundary = 0;
		for (k = 0; k < IO_TLB_SEGSIZE; k += bslots)
			q->boundary |= unit << k;
	}
	return q->nslots <= IO_TLB_SEGSIZE;
}

/* positions of global segment @g whose slot address satisfies @q */
static inline u128 align_positions(const struct search *q, u64 g)
{
	u64 p;

	if (q->period <= IO_TLB_SEGSIZE)
		return q->every_period;
	p = (q->residue - g * IO_TLB_SEGSIZE) & (q->period - 1);
	return p < IO_TLB_SEGSIZE ? (u128)1 << p : 0;
}

/* non-contiguous masks: check the candidates one by one */
static u128 filter_slow(const struct dml_swiotlb *sw, const struct search *q,
			u64 g, u128 cand)
{
	u128 ok = 0;

	while (cand) {
		unsigned int b = ctz128(cand);

		cand &= cand - 1;
		if ((slot_addr(sw, g * IO_TLB_SEGSIZE + b) & q->mask) == q->target)
			ok |= (u128)1 << b;
	}
	return ok;
}

/*
 * search area @ai; the index of the first allocated slot, or -1.  A found
 * mapping of @bytes is counted (its copy-in follows, certain).
 */
static long area_search(struct dml_swiotlb *sw, unsigned int ai,
			const struct search *q, size_t bytes)
{
	struct dml_swiotlb_area *a = &sw->areas[ai];
	unsigned int nsegs = SEGS_PER_AREA(sw), s, pos;
	u64 gbase = (u64)ai * nsegs;
	u128 cand = 0;

	dml_spin_lock(&a->lock);
	if (q->nslots > sw->area_nslabs - a->used)
		goto not_found;
	while (a->hint < nsegs && !a->free[a->hint])
		a->hint++;
	for (s = a->hint; s < nsegs; s++) {
		u128 w = a->free[s];

		if (!w)
			continue;
		cand = dml__bit_runs(w, q->nslots) & q->boundary &
		       align_positions(q, gbase + s);
		if (unlikely(!q->contiguous) && cand)
			cand = filter_slow(sw, q, gbase + s, cand);
		if (cand)
			break;
	}
	if (!cand)
		goto not_found;
	pos = ctz128(cand);
	a->free[s] &= ~(run_mask(q->nslots) << pos);
	COUNTER_ADD(a->used, q->nslots);
	COUNTER_ADD(a->maps, 1);
	COUNTER_ADD(a->bounced, bytes);
	dml_spin_unlock(&a->lock);
	return (long)((gbase + s) * IO_TLB_SEGSIZE + pos);

not_found:
	dml_spin_unlock(&a->lock);
	return -1;
}

static long find_slots(struct dml_swiotlb *sw, const struct search *q,
		       size_t bytes)
{
	unsigned int first = thread_nr() & (sw->nareas - 1), i = first;
	long idx;

	do {
		idx = area_search(sw, i, q, bytes);
		if (idx >= 0)
			return idx;
		i = (i + 1) & (sw->nareas - 1);
	} while (i != first);
	return -1;
}

/*
 * free @nslots from @head (the allocation, padding included; its first
 * data slot's metadata already cleared); @copied: bytes the unmap copied
 * back
 */
static void release_slots(struct dml_swiotlb *sw, unsigned long head,
			  unsigned int nslots, size_t copied)
{
	unsigned int ai = area_nr(sw, head);
	struct dml_swiotlb_area *a = &sw->areas[ai];
	unsigned long in_area = head - (unsigned long)ai * sw->area_nslabs;
	unsigned int s = (unsigned int)(in_area / IO_TLB_SEGSIZE);
	unsigned int pos = (unsigned int)(in_area % IO_TLB_SEGSIZE);

	dml_spin_lock(&a->lock);
	a->free[s] |= run_mask(nslots) << pos;
	__atomic_store_n(&a->used, a->used - nslots, __ATOMIC_RELAXED);
	COUNTER_ADD(a->bounced, copied);
	if (s < a->hint)
		a->hint = s;
	dml_spin_unlock(&a->lock);
}

/* ------------------------------------------------------------------ */
/* Map, unmap, sync                                                    */
/* ------------------------------------------------------------------ */

/* dev_warn_ratelimited(): at most 10 messages per 5 s, process-wide */
static bool warn_ratelimit(void)
{
	static atomic_ullong window;
	static atomic_uint printed;
	unsigned long long begin = atomic_load(&window);
	u64 now = dml__now_ns();

	if (now - begin > 5000000000ULL &&
	    atomic_compare_exchange_strong(&window, &begin, now))
		atomic_store(&printed, 0);
	return atomic_fetch_add(&printed, 1) < 10;
}

static struct dml_swiotlb_area *area_of(struct dml_swiotlb *sw, u64 idx)
{
	return &sw->areas[area_nr(sw, idx)];
}

phys_addr_t dml__swiotlb_tbl_map_single(struct dml_device *dev, phys_addr_t orig,
					size_t mapping_size,
					unsigned int alloc_align_mask,
					unsigned int min_align_mask,
					enum dma_data_direction dir,
					unsigned long attrs)
{
	struct dml_platform *p = dev->plat;
	struct dml_swiotlb *sw = dml__swiotlb_get(p);
	unsigned int offset, pad;
	struct dml_swiotlb_slot *s;
	struct search q;
	phys_addr_t tlb;
	size_t size;
	void *src;
	long idx;

	(void)dir;
	if (unlikely(!sw)) {
		if (warn_ratelimit())
			dml__warn("%s: Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer",
				  dev->name);
		return (phys_addr_t)DMA_MAPPING_ERROR;
	}
	src = mapping_size ? dml__mem_host(p->mem, orig, mapping_size) : NULL;
	if (unlikely(!src)) {
		dml__warn("%s: swiotlb: nothing backs %#llx+%zu", dev->name,
			  (unsigned long long)orig, mapping_size);
		return (phys_addr_t)DMA_MAPPING_ERROR;
	}
	offset = (unsigned int)(orig & min_align_mask &
				(alloc_align_mask | (IO_TLB_SIZE - 1)));
	size = ALIGN(mapping_size + offset, (size_t)alloc_align_mask + 1);
	idx = -1;
	if (size >= mapping_size && !dml__should_fail() &&
	    search_init(sw, &q, dev, orig, size, alloc_align_mask, min_align_mask))
		idx = find_slots(sw, &q, mapping_size);
	if (idx < 0) {
		atomic_fetch_add_explicit(&sw->areas[thread_nr() & (sw->nareas - 1)].full,
					  1, memory_order_relaxed);
		if (!(attrs & DMA_ATTR_NO_WARN) && warn_ratelimit())
			dml__warn("%s: swiotlb buffer is full (sz: %zu bytes), total %lu (slots), used %lu (slots)",
				  dev->name, size, sw->nslabs, pool_used(sw));
		return (phys_addr_t)DMA_MAPPING_ERROR;
	}

	/* dma_reset_need_sync(): this device's mappings now need syncing */
	if (!atomic_load_explicit(&dev->dma_skip_sync_off, memory_order_relaxed))
		atomic_store(&dev->dma_skip_sync_off, true);
	if (!atomic_load_explicit(&dev->dma_uses_io_tlb, memory_order_relaxed))
		atomic_store(&dev->dma_uses_io_tlb, true);

	pad = offset >> IO_TLB_SHIFT;
	offset &= IO_TLB_SIZE - 1;
	idx += pad;
	s = &sw->slots[idx];
	s->orig = orig;
	s->size = (u32)mapping_size;
	s->off = (u16)offset;
	s->pad = (u8)pad;
	s->nslots = (u8)q.nslots;
	tlb = slot_addr(sw, (u64)idx) + offset;

	/* always copy in, so bytes the device does not write come back */
	memcpy(sw->host + (tlb - sw->start), src, mapping_size);
	return tlb;
}

/*
 * copy between the bounce buffer at @tlb and its original
 * (swiotlb_bounce); Return: bytes copied
 */
static size_t bounce(struct dml_device *dev, struct dml_swiotlb *sw,
		     phys_addr_t tlb, size_t size, bool to_device)
{
	u64 idx = (tlb - sw->start) >> IO_TLB_SHIFT, h = idx;
	u64 first = ALIGN_DOWN(idx, IO_TLB_SEGSIZE);
	struct dml_swiotlb_slot *s;
	s64 delta, left;
	phys_addr_t orig;
	u8 *oh, *th;

	/* the mapping's first data slot: the nearest one back with @nslots */
	while (!sw->slots[h].nslots && h > first)
		h--;
	s = &sw->slots[h];
	if (!s->nslots || idx - h >= (u64)(s->nslots - s->pad) || !size)
		return 0;
	/* negative for an address in the first slot before the data */
	delta = (s64)(tlb - slot_addr(sw, h)) - s->off;
	orig = s->orig + (u64)delta;
	left = (s64)s->size - delta;
	if ((s64)size > left) {
		dml__warn_once("%s: Buffer overflow detected. Allocation size: %lld. Mapping size: %zu.",
			       dev->name, (long long)left, size);
		if (left <= 0)
			return 0;
		size = (size_t)left;
	}
	oh = dml__mem_host(dev->plat->mem, orig, size);
	if (!oh)
		return 0;
	th = sw->host + (tlb - sw->start);
	if (to_device)
		memcpy(th, oh, size);
	else
		memcpy(oh, th, size);
	return size;
}

static void sync_bounce(struct dml_device *dev, struct dml_swiotlb *sw,
			phys_addr_t tlb, size_t size, bool to_device)
{
	size_t n = bounce(dev, sw, tlb, size, to_device);

	if (n)
		atomic_fetch_add_explicit(&area_of(sw, (tlb - sw->start) >>
						   IO_TLB_SHIFT)->sync_bounced,
					  n, memory_order_relaxed);
}

void dml__swiotlb_tbl_unmap_single(struct dml_device *dev, phys_addr_t tlb,
				   size_t mapping_size,
				   enum dma_data_direction dir,
				   unsigned long attrs)
{
	struct dml_swiotlb *sw = dml__platform_slot(dev->plat, DML_SLOT_SWIOTLB);
	struct dml_swiotlb_slot *s;
	unsigned int pad, nslots;
	size_t copied = 0;
	u64 idx;

	if (!sw || tlb < sw->start || tlb >= sw->end)
		return;
	idx = (tlb - sw->start) >> IO_TLB_SHIFT;
	s = &sw->slots[idx];
	if (unlikely(!s->nslots || (tlb & (IO_TLB_SIZE - 1)) != s->off)) {
		dml__warn("%s: swiotlb: unmap of %#llx, which does not start a bounce buffer",
			  dev->name, (unsigned long long)tlb);
		return;
	}
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
	    (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		copied = bounce(dev, sw, tlb, mapping_size, false);
	pad = s->pad;
	nslots = s->nslots;
	*s = (struct dml_swiotlb_slot){ 0 };
	release_slots(sw, idx - pad, nslots, copied);
}

void dml__swiotlb_sync_for_device(struct dml_device *dev, phys_addr_t tlb,
				  size_t size, enum dma_data_direction dir)
{
	struct dml_swiotlb *sw = dml__platform_slot(dev->plat, DML_SLOT_SWIOTLB);

	if (sw && (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL))
		sync_bounce(dev, sw, tlb, size, true);
}

void dml__swiotlb_sync_for_cpu(struct dml_device *dev, phys_addr_t tlb,
			       size_t size, enum dma_data_direction dir)
{
	struct dml_swiotlb *sw = dml__platform_slot(dev->plat, DML_SLOT_SWIOTLB);

	if (sw && (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		sync_bounce(dev, sw, tlb, size, false);
}

dma_addr_t dml__swiotlb_map(struct dml_device *dev, phys_addr_t phys,
			    size_t size, enum dma_data_direction dir,
			    unsigned long attrs)
{
	phys_addr_t tlb;
	dma_addr_t dma;

	tlb = dml__swiotlb_tbl_map_single(dev, phys, size, 0,
					  dev->min_align_mask, dir, attrs);
	if (tlb == (phys_addr_t)DMA_MAPPING_ERROR)
		return DMA_MAPPING_ERROR;
	/* swiotlb_map(): the pool is shared memory in a confidential guest */
	dma = phys_to_dma_unencrypted(dev, tlb);
	/* the pool must be reachable by this device */
	if (unlikely(!dml__dma_capable(dev, dma, size))) {
		dml__swiotlb_tbl_unmap_single(dev, tlb, size, dir,
					      attrs | DMA_ATTR_SKIP_CPU_SYNC);
		dml__warn_once("%s: swiotlb addr %#llx+%zu overflow (mask %llx, bus limit %llx).",
			       dev->name, (unsigned long long)tlb, size,
			       (unsigned long long)dev->dma_mask,
			       (unsigned long long)dev->bus_dma_limit);
		return DMA_MAPPING_ERROR;
	}
	if (dev->non_coherent && !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		dml__arch_sync_dma_for_device(dev->plat, tlb, size, dir);
	return dma;
}

size_t dml__swiotlb_max_mapping_size(const struct dml_device *dev)
{
	size_t min_align = 0;

	if (dev->min_align_mask)
		min_align = ALIGN((size_t)dev->min_align_mask, (size_t)IO_TLB_SIZE);
	return (size_t)IO_TLB_SIZE * IO_TLB_SEGSIZE - min_align;
}

/* ------------------------------------------------------------------ */
/* Public                                                              */
/* ------------------------------------------------------------------ */

unsigned int dma_get_min_align_mask(struct dml_device *dev)
{
	return dev ? dev->min_align_mask : 0;
}

int dma_set_min_align_mask(struct dml_device *dev, unsigned int min_align_mask)
{
	if (!dev)
		return -EIO;
	dev->min_align_mask = min_align_mask;
	return 0;
}

/* the end of the highest RAM region: what a mask must reach */
static u64 ram_end(struct dml_platform *p)
{
	u64 end = 0;
	unsigned int i;

	for (i = 0; i < p->mem->nr; i++)
		if (p->mem->r[i].flags & DML_REGION_RAM)
			end = max(end, p->mem->r[i].base + p->mem->r[i].size);
	return end;
}

size_t dma_max_mapping_size(struct dml_device *dev)
{
	u64 limit;

	if (!dev || dev->plat->kind != DML_PLATFORM_EMU)
		return SIZE_MAX;
	/*
	 * a confidential guest's device that is not accepted bounces all
	 * private memory whole, with an IOMMU or without (swiotlb is forced
	 * in such a guest: is_swiotlb_force_bounce())
	 */
	if (dml__cc_must_bounce(dev, 0) && dml__swiotlb_active(dev->plat))
		return dml__swiotlb_max_mapping_size(dev);
	if (dml__use_dma_iommu(dev))
		return dev->untrusted ? dml__swiotlb_max_mapping_size(dev) : SIZE_MAX;
	/* dma_direct_max_mapping_size(): bounced or addressing limited */
	limit = dev->dma_mask;
	if (dev->bus_dma_limit && dev->bus_dma_limit < limit)
		limit = dev->bus_dma_limit;
	if ((dev->force_bounce || limit < ram_end(dev->plat) - 1) &&
	    dml__swiotlb_active(dev->plat))
		return dml__swiotlb_max_mapping_size(dev);
	return SIZE_MAX;
}

int dml_swiotlb_get_stats(struct dml_platform *p, struct dml_swiotlb_stats *st)
{
	struct dml_swiotlb *sw;
	unsigned int i;

	if (!p || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	sw = dml__platform_slot(p, DML_SLOT_SWIOTLB);
	if (!sw) {
		if (p->kind != DML_PLATFORM_EMU || !p->swiotlb_size)
			return -ENODEV;
		st->nslabs = p->swiotlb_size >> IO_TLB_SHIFT;
		return 0;
	}
	st->phys = sw->start;
	st->nslabs = sw->nslabs;
	st->nareas = sw->nareas;
	st->used = pool_used(sw);
	for (i = 0; i < sw->nareas; i++) {
		struct dml_swiotlb_area *a = &sw->areas[i];

		st->maps += __atomic_load_n(&a->maps, __ATOMIC_RELAXED);
		st->bounced_bytes += __atomic_load_n(&a->bounced, __ATOMIC_RELAXED) +
				     atomic_load(&a->sync_bounced);
		st->full += atomic_load(&a->full);
	}
	return 0;
}
