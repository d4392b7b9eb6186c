/* SPDX-License-Identifier: MIT */
/*
 * domain.h - an IOMMU DMA domain as dma-iommu sees it: an IOVA space, a
 * geometry, a flush queue for lazy mode, and the ops a backend implements
 * (struct dml_iommu_ops: the emulated VT-d in src/iommu/emu/, VFIO type1 in
 * src/vfio/).  dma-iommu.c knows only this header (shared/DESIGN.md).
 *
 * Backends embed struct dml_domain as the first member of their own domain
 * and recover it with container_of().
 */
#ifndef DML_IOMMU_DOMAIN_H
#define DML_IOMMU_DOMAIN_H

#include "../base/base.h"
#include "../iova/iova.h"

/* Protection bits, include/linux/iommu.h values. */
#define IOMMU_READ	(1 << 0)
#define IOMMU_WRITE	(1 << 1)
#define IOMMU_CACHE	(1 << 2)	/* coherent: snoop CPU caches */
#define IOMMU_NOEXEC	(1 << 3)
#define IOMMU_MMIO	(1 << 4)	/* device memory, never cacheable */
#define IOMMU_PRIV	(1 << 5)

/* ops->map flags */
#define DML_MAP_LINK_HEAD (1u << 0) /* first mapping of a link: unlink may start here */
#define DML_MAP_LINK_TAIL (1u << 1) /* last mapping of a link: unlink may end here */
#define DML_MAP_LINK (DML_MAP_LINK_HEAD | DML_MAP_LINK_TAIL) /* a whole link */

/* ops->unmap flags */
#define DML_UNMAP_EXACT (1u << 0) /* whole links only, else -ENOENT and no change */

struct dml_domain;
struct dml_fq;

/*
 * struct dml_iommu_ops - what a backend implements.  All ranges are granule
 * aligned (iova, phys, size) and do not wrap.  None does IOTLB maintenance
 * unless its name says so.  All may be called concurrently for disjoint
 * ranges of one domain, from any number of threads, as in the kernel: the
 * caller owns its range, and the emulated backend takes no domain-wide
 * lock on map, unmap, iotlb_sync and iotlb_sync_map (src/iommu/emu/emu.h).
 * flush_iotlb_all may also free page-table pages; it waits for the map and
 * unmap calls running on the domain, so it must not be called from inside
 * one.
 *
 * @map: map [iova, +size) -> [phys, +size) with @prot (IOMMU_*), choosing
 *	the largest page size alignment allows.  @flags: DML_MAP_LINK_HEAD
 *	records that a link starts at @iova, DML_MAP_LINK_TAIL that one
 *	ends at @iova + @size (a link mapped in one call passes both,
 *	DML_MAP_LINK).  Return 0; -EEXIST if part of
 *	the range is mapped (nothing changed); -ENOMEM (nothing left mapped
 *	by this call); -EINVAL outside the aperture.
 * @unmap: unmap [iova, +size); *@unmapped gets the bytes unmapped.
 *	With DML_UNMAP_EXACT the call first checks that the range is fully
 *	mapped, starts where a link started and ends where a link ended:
 *	else -ENOENT, nothing changed.  (The emulated backend reads the
 *	range's own first and last leaves for HEAD and TAIL, never a
 *	neighbour's, whose entries another thread may be writing; VFIO's
 *	records give the same answer.)
 *	Without it, unmapped holes are skipped.  Tables left empty are freed.
 *	Return 0 or -ENOENT.
 * @iotlb_sync: page-selective invalidation of [iova, +size).
 * @flush_iotlb_all: domain-wide invalidation.
 * @iotlb_sync_map: after maps, make them visible (caching mode; the VFIO
 *	kernel already did it).  May be NULL.
 * @iova_to_phys: translation of one IOVA, 0 when not mapped.
 * @translate: one access of an emulated device at @iova, as the unit's
 *	hardware makes it (IOTLB, then the page walk): *@phys gets the
 *	address and *@contig the bytes from @iova to the end of the
 *	translated page.  Return 0; -EFAULT after logging and counting a
 *	fault.  NULL for backends whose devices are real (VFIO).
 * @free: release the backend domain (after every mapping is gone).
 */
struct dml_iommu_ops {
	int (*map)(struct dml_domain *d, dml_iova_t iova, phys_addr_t phys,
		   size_t size, int prot, unsigned int flags);
	int (*unmap)(struct dml_domain *d, dml_iova_t iova, size_t size,
		     unsigned int flags, size_t *unmapped);
	void (*iotlb_sync)(struct dml_domain *d, dml_iova_t iova, size_t size);
	void (*flush_iotlb_all)(struct dml_domain *d);
	int (*iotlb_sync_map)(struct dml_domain *d, dml_iova_t iova, size_t size);
	phys_addr_t (*iova_to_phys)(struct dml_domain *d, dml_iova_t iova);
	int (*translate)(struct dml_domain *d, u16 source_id, dml_iova_t iova,
			 bool write, phys_addr_t *phys, u64 *contig);
	void (*free)(struct dml_domain *d);
};

/*
 * struct dml_domain - the generic part of a DMA domain
 * @ops: backend
 * @pgsize_bitmap: page sizes the backend maps (bit n: 2^n bytes)
 * @granule: smallest page size, bytes; @granule_shift its log2
 * @aperture_start, @aperture_end: usable IOVA, inclusive
 * @iovad: the IOVA space (created by dml__domain_init)
 * @fq: flush queue, non-NULL in lazy mode
 */
struct dml_domain {
	const struct dml_iommu_ops *ops;
	u64 pgsize_bitmap;
	unsigned long granule;
	unsigned int granule_shift;
	dml_iova_t aperture_start;
	dml_iova_t aperture_end;
	struct dml_iova_domain *iovad;
	struct dml_fq *fq;
};

/*
 * dml__domain_init - fill the generic part after the backend set @ops,
 * @pgsize_bitmap and the aperture: IOVA space from max(granule,
 * aperture_start), the x86 MSI window 0xfee00000-0xfeefffff reserved,
 * a flush queue when @lazy.  Return: 0; -EINVAL; -ENOMEM.
 */
int dml__domain_init(struct dml_domain *d, bool lazy);

/* dml__domain_fini - release what dml__domain_init() made (drains the fq) */
void dml__domain_fini(struct dml_domain *d);

/* dml__domain_destroy - dml__domain_fini(), then the backend's @free */
void dml__domain_destroy(struct dml_domain *d);

/* ---- flush queue (src/iommu/fq.c): lazy invalidation, ref §1.3 ---- */

/*
 * dml__this_cpu - a small number of the calling thread, the user-space
 * stand-in for smp_processor_id(): live threads have distinct numbers
 * below DML_NR_CPUS, the lowest free one taken at a thread's first call
 * and freed when it exits; beyond DML_NR_CPUS live threads the others all
 * get DML_NR_CPUS.  Per-thread rings and slots are indexed with it.
 */
#define DML_NR_CPUS 4096
extern _Thread_local unsigned int dml__cpu_plus1 DML_TLS_HOT;
unsigned int dml__this_cpu_slow(void);

static inline unsigned int dml__this_cpu(void)
{
	unsigned int c = dml__cpu_plus1;

	return likely(c) ? c - 1 : dml__this_cpu_slow();
}

/* dml__fq_create - an empty queue; NULL when out of memory */
struct dml_fq *dml__fq_create(void);
/* dml__fq_destroy - flush what is queued and free @d's queue */
void dml__fq_destroy(struct dml_domain *d);

/*
 * dml__fq_queue - defer the release of IOVA [pfn, +pages) until a
 * domain-wide IOTLB flush that starts after this call has finished
 * (queue_iova() in dma-iommu.c).  The range goes to the calling thread's
 * ring (the kernel's per-CPU rings), so threads queueing at once touch no
 * common cache line; a ring flushes the IOTLB when it is full (128
 * entries: half the kernel's IOVA_DEFAULT_FQ_SIZE, see fq.c) or its
 * oldest entry is 10 ms old (IOVA_DEFAULT_FQ_TIMEOUT), and frees every entry that some finished flush
 * covers, whichever ring started it.  Safe from any number of threads.
 */
void dml__fq_queue(struct dml_domain *d, unsigned long pfn, unsigned long pages);

/* dml__fq_flush - flush the IOTLB once and release every queued range */
void dml__fq_flush(struct dml_domain *d);

#endif /* DML_IOMMU_DOMAIN_H */
