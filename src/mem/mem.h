/* SPDX-License-Identifier: MIT */
/*
 * mem.h - the emulated physical address space, internal side: regions of
 * RAM (with or without memmap) and MMIO backed by lazily reserved host
 * memory, frame ownership, and carving contiguous RAM for internal users
 * (page-table pools, swiotlb).  Public side: dml_ram_add(), dml_mmio_add(),
 * dml_kmap_local_phys(), dml_layout_*() in dmalink.h.
 */
#ifndef DML_MEM_H
#define DML_MEM_H

#include "../base/device.h"

#define DML_MAX_REGIONS 16

#define DML_REGION_RAM (1u << 0)
#define DML_REGION_MMIO (1u << 1)
#define DML_REGION_NO_MEMMAP (1u << 2)

/*
 * struct dml_mem_region - one region of the emulated physical space
 * @base, @size: bytes
 * @host: host mapping of the whole region (MAP_NORESERVE)
 * @frames: RAM only: one bit per 4 KiB frame, set when owned
 * @carve_top: RAM only: carving goes down from here (2 MiB chunks)
 */
struct dml_mem_region {
	phys_addr_t base;
	u64 size;
	u8 *host;
	unsigned int flags;
	char name[32];
	atomic_ullong *frames;
	u64 carve_top;
	atomic_ullong *shared; /* RAM of a CC guest: one bit per frame, set when shared */
	atomic_bool mmio_private; /* MMIO: a BAR of a TDI in TDISP RUN (encrypt.c) */
};

/* struct dml_mem - all regions of a platform, sorted by base */
struct dml_mem {
	struct dml_mem_region r[DML_MAX_REGIONS];
	unsigned int nr;
	dml_spinlock_t lock; /* adding regions, carving */
	u64 cc_enc; /* confidential guest: bit a private DMA address carries */
	u64 cc_dec; /* confidential guest: bit a shared DMA address carries */
	atomic_uint nr_mmio_private; /* regions with mmio_private set */
};

/* dml__mem_create - an empty physical address space; 0 or -ENOMEM */
int dml__mem_create(struct dml_mem **out);
/* dml__mem_destroy - unmap every region and free @m (NULL: nothing) */
void dml__mem_destroy(struct dml_mem *m);
/*
 * dml__mem_add - a region of @size bytes at @base (RAM: 2 MiB aligned,
 * MMIO: 4 KiB), DML_REGION_* @flags.  Return: 0; -EINVAL (misaligned,
 * empty, wrapping or overlapping); -ENOSPC (DML_MAX_REGIONS); -ENOMEM.
 */
int dml__mem_add(struct dml_mem *m, phys_addr_t base, u64 size,
		 unsigned int flags, const char *name);
struct dml_mem_region *dml__mem_find(struct dml_mem *m, phys_addr_t phys, u64 len);

/* host pointer for [phys, +len) within one region, NULL if unbacked */
static inline void *dml__mem_host(struct dml_mem *m, phys_addr_t phys, u64 len)
{
	struct dml_mem_region *r = &m->r[0];

	/* fast path: RAM at 0 holds almost everything */
	if (likely(m->nr && phys >= r->base && len <= r->size &&
		   phys - r->base <= r->size - len))
		return r->host + (phys - r->base);
	r = dml__mem_find(m, phys, len);
	return r ? r->host + (phys - r->base) : NULL;
}

/*
 * dml__mem_carve - take @bytes (a multiple of 2 MiB) of contiguous RAM from
 * the top of the first RAM region, ending at or below @limit (bytes;
 * ~0ULL: anywhere), for internal use (page tables, swiotlb).
 * Return: 0 with *@phys and *@host set; -ENOMEM.
 */
int dml__mem_carve(struct dml_mem *m, u64 bytes, phys_addr_t limit,
		   phys_addr_t *phys, void **host);

/*
 * dml__mem_has_page - whether [@phys, +@len) is RAM with a memmap, the
 * only memory a struct page could describe (page_to_phys(),
 * virt_to_page(), sg_page() users refuse the rest)
 */
bool dml__mem_has_page(struct dml_mem *m, phys_addr_t phys, u64 len);

/*
 * dml__mem_virt_to_phys - the emulated physical address of host pointer
 * @ptr when [@ptr, +@len) lies in one region's host mapping (the inverse
 * of dml__mem_host()).  Return: true with *@phys set; false otherwise.
 */
bool dml__mem_virt_to_phys(struct dml_mem *m, const void *ptr, u64 len,
			   phys_addr_t *phys);

/* frame ownership for the page allocator (src/mem/layout.c) */
bool dml__frame_take(struct dml_mem_region *r, u64 frame);
void dml__frame_put(struct dml_mem_region *r, u64 frame);

/*
 * dml__cpu_access_hook - called by dml_kmap_local_phys() for every CPU
 * mapping of emulated memory while it is set (by the DMA checker while it
 * is on, to catch CPU access to memory a device owns); NULL otherwise.
 */
typedef void (*dml_cpu_access_fn)(struct dml_platform *p, phys_addr_t phys,
				  u64 len);
extern _Atomic(dml_cpu_access_fn) dml__cpu_access_hook
	__attribute__((visibility("hidden")));

/* ---- confidential-computing memory encryption (src/mem/encrypt.c) ---- */

/* whether @m is a confidential guest's memory (some page may be private) */
static inline bool dml__mem_cc(const struct dml_mem *m)
{
	return (m->cc_enc | m->cc_dec) != 0;
}

/*
 * dml__cc_encode - the DMA address of @phys in the private (@shared
 * false) or shared encoding: one AND and one OR, identity without
 * encryption (__sme_set()/__sme_clr(), dma_addr_unencrypted())
 */
static inline dma_addr_t dml__cc_encode(const struct dml_mem *m,
					phys_addr_t phys, bool shared)
{
	return (dma_addr_t)(((u64)phys & ~(m->cc_enc | m->cc_dec)) |
			    (shared ? m->cc_dec : m->cc_enc));
}

/*
 * dml__mem_cc_init - make @m a confidential guest's memory: @enc and @dec
 * are the bits of the private and shared encodings (one of them 0), above
 * every region; every RAM page becomes private.
 * Return: 0; -EINVAL (a region reaches the bit); -EBUSY (already one);
 * -ENOMEM.
 */
int dml__mem_cc_init(struct dml_mem *m, u64 enc, u64 dec);

/* the page-state bitmap of RAM region @r of a CC guest; 0 or -ENOMEM */
int dml__mem_cc_region(struct dml_mem_region *r);

/*
 * dml__mem_cc_shared - whether [@phys, +@len) is all shared: RAM pages
 * converted by set_memory_decrypted(), or MMIO that is not private (a BAR
 * of a device in TDISP RUN); always true without encryption; false
 * outside every region
 */
bool dml__mem_cc_shared(struct dml_mem *m, phys_addr_t phys, u64 len);

/*
 * dml__mem_mmio_set_private - make the MMIO region starting at @base
 * private (@on: a BAR of a device whose TDI entered TDISP RUN) or not (it
 * left RUN); nothing for a base where no MMIO region starts
 */
void dml__mem_mmio_set_private(struct dml_mem *m, phys_addr_t base, bool on);

bool dml__mem_mmio_private_slow(struct dml_mem *m, phys_addr_t phys, u64 len);

/*
 * dml__mem_mmio_private - whether [@phys, +@len) lies in private MMIO; one
 * load while no region is private (outside a confidential guest, always)
 */
static inline bool dml__mem_mmio_private(struct dml_mem *m, phys_addr_t phys,
					 u64 len)
{
	return atomic_load_explicit(&m->nr_mmio_private, memory_order_acquire) &&
	       dml__mem_mmio_private_slow(m, phys, len);
}

#endif /* DML_MEM_H */
