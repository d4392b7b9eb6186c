/* SPDX-License-Identifier: MIT */
/*
 * phys.c - the emulated physical address space: RAM and MMIO regions, each
 * backed by one host mapping reserved with MAP_NORESERVE (a machine with
 * 64 GiB of RAM costs nothing until its pages are touched), frame
 * ownership for RAM (one bit per 4 KiB frame, set while a layout allocator
 * or an internal user owns it) and carving of contiguous RAM for internal
 * users (page-table pools, swiotlb) from the top of the first RAM region.
 *
 * RAM without a memmap (DML_REGION_NO_MEMMAP) is RAM for everything that
 * works on physical addresses (dma_map_phys, the two-step API, device DMA,
 * CPU access through dml_kmap_local_phys(), the kmap_local_phys twin); it
 * has no struct page, so the paths that need one (page_to_phys(),
 * virt_to_page(), sg_page()) ask dml__mem_has_page() and refuse it.
 *
 * Invariants: regions never overlap and are sorted by base; r[0] is the RAM
 * at physical 0 on an emulated platform, which the fast path of
 * dml__mem_host() checks first.  Regions are only added, never removed,
 * until dml__mem_destroy(), so host pointers stay valid for the platform's
 * lifetime.  Locking: m->lock for adding regions and carving; frame bits
 * are atomic.
 */
#include "mem.h"

#include <stdio.h>
#include <string.h>


struct dml_mem_region *dml__mem_find(struct dml_mem *m, phys_addr_t phys, u64 len)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++) {
		struct dml_mem_region *r = &m->r[i];

		if (phys >= r->base && len <= r->size &&
		    phys - r->base <= r->size - len)
			return r;
	}
	return NULL;
}

int dml__mem_add(struct dml_mem *m, phys_addr_t base, u64 size,
		 unsigned int flags, const char *name)
{
	u64 align = (flags & DML_REGION_RAM) ? SZ_2M : SZ_4K;
	struct dml_mem_region *r;
	unsigned int i, pos;
	void *host;
	int ret = 0;

	if (!size || !IS_ALIGNED(base, align) || !IS_ALIGNED(size, align) ||
	    base + size < base)
		return -EINVAL;
	host = dml__vm_zalloc(size);
	if (!host)
		return -ENOMEM;

	dml_spin_lock(&m->lock);
	if (m->nr == DML_MAX_REGIONS) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	for (i = 0; i < m->nr; i++) {
		if (base < m->r[i].base + m->r[i].size &&
		    m->r[i].base < base + size) {
			ret = -EINVAL;
			goto out_unlock;
		}
	}
	/* a confidential guest's regions stay below its encryption bit */
	if (dml__mem_cc(m) && base + size > (m->cc_enc | m->cc_dec)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	/* keep r[0] the first region added (RAM at 0), the rest sorted */
	for (pos = m->nr; pos > 1 && m->r[pos - 1].base > base; pos--)
		;
	memmove(&m->r[pos + 1], &m->r[pos], (m->nr - pos) * sizeof(*r));
	r = &m->r[pos];
	memset(r, 0, sizeof(*r));
	r->base = base;
	r->size = size;
	r->host = host;
	r->flags = flags;
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	if (flags & DML_REGION_RAM) {
		r->frames = dml__zalloc(DIV_ROUND_UP(size >> PAGE_SHIFT, 64) * 8);
		if (r->frames && dml__mem_cc(m) && dml__mem_cc_region(r)) {
			dml__free(r->frames);
			r->frames = NULL;
		}
		if (!r->frames) {
			memmove(&m->r[pos], &m->r[pos + 1], (m->nr - pos) * sizeof(*r));
			ret = -ENOMEM;
			goto out_unlock;
		}
		r->carve_top = size;
	}
	m->nr++;
out_unlock:
	dml_spin_unlock(&m->lock);
	if (ret)
		dml__vm_free(host, size);
	return ret;
}

int dml__mem_create(struct dml_mem **out)
{
	struct dml_mem *m = dml__zalloc(sizeof(*m));

	if (!m)
		return -ENOMEM;
	dml_spin_init(&m->lock);
	*out = m;
	return 0;
}

void dml__mem_destroy(struct dml_mem *m)
{
	unsigned int i;

	if (!m)
		return;
	for (i = 0; i < m->nr; i++) {
		dml__vm_free(m->r[i].host, m->r[i].size);
		dml__free(m->r[i].frames);
		dml__free(m->r[i].shared);
	}
	dml__free(m);
}

bool dml__mem_has_page(struct dml_mem *m, phys_addr_t phys, u64 len)
{
	struct dml_mem_region *r = &m->r[0];

	/* fast path: RAM at 0, as in dml__mem_host() */
	if (unlikely(!m->nr || phys < r->base || len > r->size ||
		     phys - r->base > r->size - len))
		r = dml__mem_find(m, phys, len);
	return r && (r->flags & (DML_REGION_RAM | DML_REGION_NO_MEMMAP)) ==
		    DML_REGION_RAM;
}

bool dml__mem_virt_to_phys(struct dml_mem *m, const void *ptr, u64 len,
			   phys_addr_t *phys)
{
	uintptr_t p = (uintptr_t)ptr;
	unsigned int i;

	for (i = 0; i < m->nr; i++) {
		struct dml_mem_region *r = &m->r[i];
		uintptr_t host = (uintptr_t)r->host;

		if (p >= host && len <= r->size && p - host <= r->size - len) {
			*phys = r->base + (p - host);
			return true;
		}
	}
	return false;
}

bool dml__frame_take(struct dml_mem_region *r, u64 frame)
{
	u64 bit = 1ULL << (frame & 63);

	return !(atomic_fetch_or_explicit(&r->frames[frame >> 6], bit,
					  memory_order_relaxed) & bit);
}

void dml__frame_put(struct dml_mem_region *r, u64 frame)
{
	atomic_fetch_and_explicit(&r->frames[frame >> 6], ~(1ULL << (frame & 63)),
				  memory_order_relaxed);
}

int dml__mem_carve(struct dml_mem *m, u64 bytes, phys_addr_t limit,
		   phys_addr_t *phys, void **host)
{
	struct dml_mem_region *r = NULL;
	unsigned int i;
	u64 top, start, f, nframes;

	if (!bytes || !IS_ALIGNED(bytes, SZ_2M))
		return -EINVAL;
	if (dml__should_fail())
		return -ENOMEM;
	dml_spin_lock(&m->lock);
	for (i = 0; i < m->nr && !r; i++)
		if (m->r[i].flags & DML_REGION_RAM)
			r = &m->r[i];
	/* below @limit, a carve leaves carve_top (and the RAM above) alone */
	start = 0;
	if (r && limit > r->base)
		start = min(r->carve_top, ALIGN_DOWN(limit - r->base, SZ_2M));
	/* walk down from there until a free, unowned chunk is found */
	for (top = start; r && top >= bytes; top -= SZ_2M) {
		u64 first = (top - bytes) >> PAGE_SHIFT;

		nframes = bytes >> PAGE_SHIFT;
		for (f = 0; f < nframes; f++)
			if (!dml__frame_take(r, first + f))
				break;
		if (f == nframes) {
			if (start == r->carve_top)
				r->carve_top = top - bytes;
			*phys = r->base + (top - bytes);
			*host = r->host + (top - bytes);
			dml_spin_unlock(&m->lock);
			return 0;
		}
		while (f--)
			dml__frame_put(r, first + f);
	}
	dml_spin_unlock(&m->lock);
	return -ENOMEM;
}

/* ---- public ---- */

static bool mem_args_ok(struct dml_platform *p)
{
	return p && p->kind == DML_PLATFORM_EMU;
}

int dml_ram_add(struct dml_platform *p, phys_addr_t base, u64 size,
		unsigned int flags)
{
	if (!mem_args_ok(p) || (flags & ~DML_RAM_NO_MEMMAP))
		return -EINVAL;
	return dml__mem_add(p->mem, base, size, DML_REGION_RAM |
			    ((flags & DML_RAM_NO_MEMMAP) ? DML_REGION_NO_MEMMAP : 0),
			    "ram");
}

int dml_mmio_add(struct dml_platform *p, phys_addr_t base, u64 size,
		 const char *name)
{
	if (!mem_args_ok(p))
		return -EINVAL;
	return dml__mem_add(p->mem, base, size, DML_REGION_MMIO, name);
}

bool dml_phys_is_ram(struct dml_platform *p, phys_addr_t phys, u64 len)
{
	struct dml_mem_region *r;

	if (!mem_args_ok(p))
		return false;
	r = dml__mem_find(p->mem, phys, len ? len : 1);
	return r && (r->flags & DML_REGION_RAM);
}

_Atomic(dml_cpu_access_fn) dml__cpu_access_hook;

/*
 * the CPU's host pointer: private MMIO (a BAR of a device in TDISP RUN,
 * encrypt.c) has none, only its TVM reaches it (dml_tvm_mmio_map())
 */
static inline void *cpu_host(struct dml_mem *m, phys_addr_t phys, u64 len)
{
	if (unlikely(dml__mem_mmio_private(m, phys, len)))
		return NULL;
	return dml__mem_host(m, phys, len);
}

/* out of line, so the unhooked path stays a tail call */
static __attribute__((noinline, cold)) void *
kmap_hooked(dml_cpu_access_fn hook, struct dml_platform *p, phys_addr_t phys,
	    u64 len)
{
	hook(p, phys, len);
	return cpu_host(p->mem, phys, len);
}

void *dml_kmap_local_phys(struct dml_platform *p, phys_addr_t phys, u64 len)
{
	dml_cpu_access_fn hook;

	if (!mem_args_ok(p))
		return NULL;
	hook = atomic_load_explicit(&dml__cpu_access_hook, memory_order_relaxed);
	if (unlikely(hook))
		return kmap_hooked(hook, p, phys, len ? len : 1);
	return cpu_host(p->mem, phys, len ? len : 1);
}
