/* SPDX-License-Identifier: MIT */
/*
 * dmalink/dma-mapping.h - the kernel's DMA-mapping API with its names,
 * argument order and return conventions (include/linux/dma-mapping.h,
 * kernel/dma/mapping.c, drivers/iommu/dma-iommu.c).
 *
 * struct device becomes struct dml_device.  phys_addr_t is the backend's
 * memory address: the emulated physical address on the emulated platform,
 * the process virtual address that VFIO pins on the vfio backend.
 *
 * Returns follow Documentation/process/coding-style.rst §16: 0 or -errno for actions, bool for
 * predicates, DMA_MAPPING_ERROR for addresses.  The one deliberate
 * difference: dma_iova_unlink() returns int, because an unlink that would
 * split an earlier link is refused on every backend (VFIO cannot split a
 * mapping); kernel callers that ignore the result compile unchanged.
 */
#ifndef DMALINK_DMA_MAPPING_H
#define DMALINK_DMA_MAPPING_H

#include <dmalink/dmalink.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

/** enum dma_data_direction - who writes the memory (kernel values) */
enum dma_data_direction {
	DMA_BIDIRECTIONAL = 0,
	DMA_TO_DEVICE = 1,	/* device reads: mapped read-only */
	DMA_FROM_DEVICE = 2,	/* device writes: mapped write-only */
	DMA_NONE = 3,		/* no access */
};

/* DMA_ATTR_* - attribute bits, kernel values (include/linux/dma-mapping.h). */
#define DMA_ATTR_WEAK_ORDERING		(1UL << 1)
#define DMA_ATTR_WRITE_COMBINE		(1UL << 2)
#define DMA_ATTR_NO_KERNEL_MAPPING	(1UL << 4)
#define DMA_ATTR_SKIP_CPU_SYNC		(1UL << 5)
#define DMA_ATTR_FORCE_CONTIGUOUS	(1UL << 6)
#define DMA_ATTR_ALLOC_SINGLE_PAGES	(1UL << 7)
#define DMA_ATTR_NO_WARN		(1UL << 8)
#define DMA_ATTR_PRIVILEGED		(1UL << 9)
#define DMA_ATTR_MMIO			(1UL << 10)
/*
 * DMA_ATTR_REQUIRE_COHERENT - the mapping must stay coherent with the CPU
 * without help: it fails wherever it would need swiotlb or CPU cache
 * maintenance (a non-coherent device, a bounce); for memory shared with
 * user space for the mapping's whole life (include/linux/dma-mapping.h,
 * Documentation/core-api/dma-attributes.rst).
 */
#define DMA_ATTR_REQUIRE_COHERENT	(1UL << 12)
/*
 * DMA_ATTR_CC_SHARED - Proposed (Aneesh Kumar K.V, "dma: add
 * DMA_ATTR_CC_SHARED", v1 Apr 2026 to v6 Jun 2026): in a confidential
 * guest the caller's memory is already shared (decrypted, dmalink/cc.h
 * set_memory_decrypted()): it is mapped with the unencrypted encoding
 * (phys_to_dma_unencrypted()) and never bounced.  DMA_ATTR_MMIO implies it,
 * but for private MMIO (a BAR of a device in TDISP RUN, dmalink/cc.h):
 * that is mapped with the encrypted encoding for a device accepted into
 * the same TVM and refused (DMA_MAPPING_ERROR) for any other.
 * Outside a confidential guest it changes nothing.  The bit is ours.
 *
 * The rules of a confidential guest for a device without an IOMMU
 * (dma_map_phys() and what calls it): without this attribute, a device
 * that is not accepted into its TVM (dmalink/cc.h dml_tsm_accepted())
 * bounces through the swiotlb pool, which is shared, and gets the
 * unencrypted encoding; the map fails where no bounce is possible (no
 * pool, DMA_ATTR_REQUIRE_COHERENT).  An accepted device in RUN maps
 * directly with the encrypted encoding (phys_to_dma_encrypted()).
 * Behind an IOMMU, dma_map_phys() bounces such a device's private memory
 * whole (granule aligned or not) and an accepted device maps it directly;
 * the IOVA itself carries no encoding.  The two-step API does not bounce
 * whole: dma_iova_link() of private memory for a device that is not
 * accepted fails with -EPERM, as a link that would bounce MMIO does.
 */
#define DMA_ATTR_CC_SHARED		(1UL << 13)

/* DMA_MAPPING_ERROR - the address every map call returns on failure. */
#define DMA_MAPPING_ERROR (~(dma_addr_t)0)

/**
 * dma_mapping_error - test an address returned by a map call
 * @dev: device
 * @dma_addr: the address
 * Return: -ENOMEM if @dma_addr is DMA_MAPPING_ERROR, else 0
 * (include/linux/dma-mapping.h dma_mapping_error()).
 */
int dma_mapping_error(struct dml_device *dev, dma_addr_t dma_addr);

/* ------------------------------------------------------------------ */
/* Masks and properties                                                */
/* ------------------------------------------------------------------ */

/**
 * dma_set_mask - set the streaming DMA mask
 * @dev: device
 * @mask: e.g. DMA_BIT_MASK(32)
 * Return: 0; -EIO if the device cannot work with @mask (narrower than 24
 * bits, the ISA floor the kernel's dma_supported() checks on x86).
 */
int dma_set_mask(struct dml_device *dev, u64 mask);

/** dma_set_coherent_mask - set the coherent mask; as dma_set_mask() */
int dma_set_coherent_mask(struct dml_device *dev, u64 mask);

/** dma_set_mask_and_coherent - both masks; as dma_set_mask() */
int dma_set_mask_and_coherent(struct dml_device *dev, u64 mask);

/** dma_get_mask - the streaming DMA mask of @dev */
u64 dma_get_mask(struct dml_device *dev);

/**
 * dma_get_merge_boundary - granule - 1 for IOMMU devices, 0 (cannot merge)
 * for dma-direct (kernel/dma/mapping.c dma_get_merge_boundary())
 */
unsigned long dma_get_merge_boundary(struct dml_device *dev);

/**
 * dma_need_unmap - whether the caller must keep DMA addresses to unmap
 * @dev: device
 *
 * False only for dma-direct devices that are coherent and have never
 * bounced, and only while the checker (dmalink/dma-debug.h) is off, as
 * the kernel's is with CONFIG_DMA_API_DEBUG (kernel/dma/mapping.c
 * dma_need_unmap()); callers may then
 * skip storing addresses.
 */
bool dma_need_unmap(struct dml_device *dev);

/* ------------------------------------------------------------------ */
/* Streaming mappings by physical address (6.18, kernel/dma/mapping.c) */
/* ------------------------------------------------------------------ */

/**
 * dma_map_phys - map a physical range for streaming DMA
 * @dev: device
 * @phys: start (emu: the emulated physical address; vfio: the process
 *	virtual address that VFIO pins)
 * @size: bytes, > 0
 * @dir: direction; the IOMMU mapping's protection follows it
 * @attrs: DMA_ATTR_MMIO for non-RAM (device BARs: no CPU sync, never
 *	bounced, IOMMU_MMIO), DMA_ATTR_SKIP_CPU_SYNC,
 *	DMA_ATTR_REQUIRE_COHERENT (never bounced, refused on a non-coherent
 *	device)
 *
 * dma-direct: DMA address = phys, checked against the mask (error and the
 * kernel's "DMA addr ... overflow" message when beyond it).  dma-iommu:
 * allocates iova_align(size + offset) of IOVA, maps it and returns
 * iova + offset, with one iotlb_sync_map.  A non-coherent device's
 * mapping that is not DMA_TO_DEVICE and whose @size a kmalloc() buffer
 * could have without being cache-line aligned (below 256 bytes, its
 * kmalloc size class not a multiple of 64) is bounced through swiotlb
 * when the platform has a pool, on both paths (behind an IOMMU only if
 * not granule aligned): dma_kmalloc_needs_bounce() of
 * include/linux/dma-map-ops.h, dev_use_swiotlb() of
 * drivers/iommu/dma-iommu.c.  RAM without a memmap is mapped like any
 * RAM: no struct page is needed here (kernel/dma/mapping.c
 * dma_map_phys()).
 * Return: the DMA address, or DMA_MAPPING_ERROR (@size 0 or an invalid
 * @dir, DMA_NONE included, on either path: a warning, where the kernel's
 * kernel/dma/mapping.c BUG_ON(!valid_dma_direction(dir)) stops; an
 * unreachable address; IOVA or page-table memory exhausted;
 * DMA_ATTR_REQUIRE_COHERENT on a non-coherent device or where a bounce
 * would be needed; DMA_ATTR_MMIO where a bounce would be needed).
 */
dma_addr_t dma_map_phys(struct dml_device *dev, phys_addr_t phys, size_t size,
			enum dma_data_direction dir, unsigned long attrs);

/**
 * dma_unmap_phys - undo dma_map_phys()
 * @dev, @size, @dir, @attrs: as given to dma_map_phys()
 * @addr: what dma_map_phys() returned
 *
 * dma-iommu: unmaps and invalidates the IOTLB (strict) or queues the range
 * in the flush queue (lazy); dma-direct: nothing to do.
 */
void dma_unmap_phys(struct dml_device *dev, dma_addr_t addr, size_t size,
		    enum dma_data_direction dir, unsigned long attrs);

/**
 * dma_map_page_attrs - map part of a page for streaming DMA
 * @dev: device
 * @page: the page, given by its physical address (page_to_phys() of the
 *	kernel's struct page: there are no struct pages here), 4 KiB aligned;
 *	emu: emulated physical address
 * @offset: bytes into the page
 * @size: bytes, > 0 (may run past the page, as in the kernel)
 * @dir: direction
 * @attrs: as dma_map_phys(); DMA_ATTR_MMIO is refused
 *
 * dma_map_phys(@page + @offset) for memory that has a struct page: RAM
 * with a memmap.  RAM added with DML_RAM_NO_MEMMAP has none, so it is
 * refused here as page_to_phys() could not name it (use dma_map_phys())
 * (kernel/dma/mapping.c dma_map_page_attrs()).
 * Return: the DMA address; DMA_MAPPING_ERROR for DMA_ATTR_MMIO, a @page
 * that is not 4 KiB aligned or not RAM with a memmap (emu), an @offset
 * that overflows, and every error of dma_map_phys().
 */
dma_addr_t dma_map_page_attrs(struct dml_device *dev, phys_addr_t page,
			      size_t offset, size_t size,
			      enum dma_data_direction dir, unsigned long attrs);

/**
 * dma_unmap_page_attrs - undo dma_map_page_attrs()
 * @dev, @size, @dir, @attrs: as given to dma_map_page_attrs()
 * @addr: what dma_map_page_attrs() returned
 *
 * dma_unmap_phys(); a call carrying DMA_ATTR_MMIO is ignored, since no
 * such mapping can exist (kernel/dma/mapping.c dma_unmap_page_attrs()).
 */
void dma_unmap_page_attrs(struct dml_device *dev, dma_addr_t addr, size_t size,
			  enum dma_data_direction dir, unsigned long attrs);

/**
 * dma_map_single_attrs - map a CPU buffer for streaming DMA
 * @dev: device (emulated platform)
 * @ptr: CPU address of the buffer: a pointer into emulated RAM with a
 *	memmap, as dml_kmap_local_phys() returns (the kernel's linear map)
 * @size: bytes, > 0; the buffer must lie in one region
 * @dir: direction
 * @attrs: as dma_map_page_attrs()
 *
 * dma_map_page_attrs() of the page holding @ptr and the offset in it
 * (include/linux/dma-mapping.h dma_map_single_attrs()).  A pointer the
 * linear map does not cover (outside emulated memory, into MMIO, or into
 * RAM without a memmap: the kernel's vmalloc/ioremap case) is rejected
 * with a warning.
 * Return: the DMA address; DMA_MAPPING_ERROR for a rejected @ptr and
 * every error of dma_map_page_attrs().
 */
dma_addr_t dma_map_single_attrs(struct dml_device *dev, void *ptr, size_t size,
				enum dma_data_direction dir,
				unsigned long attrs);

/**
 * dma_unmap_single_attrs - undo dma_map_single_attrs()
 * @dev, @size, @dir, @attrs: as given to dma_map_single_attrs()
 * @addr: what dma_map_single_attrs() returned
 *
 * dma_unmap_page_attrs() (include/linux/dma-mapping.h).
 */
void dma_unmap_single_attrs(struct dml_device *dev, dma_addr_t addr,
			    size_t size, enum dma_data_direction dir,
			    unsigned long attrs);

/** dma_map_page - dma_map_page_attrs() without attributes */
static inline dma_addr_t dma_map_page(struct dml_device *dev, phys_addr_t page,
				      size_t offset, size_t size,
				      enum dma_data_direction dir)
{
	return dma_map_page_attrs(dev, page, offset, size, dir, 0);
}

/** dma_unmap_page - dma_unmap_page_attrs() without attributes */
static inline void dma_unmap_page(struct dml_device *dev, dma_addr_t addr,
				  size_t size, enum dma_data_direction dir)
{
	dma_unmap_page_attrs(dev, addr, size, dir, 0);
}

/** dma_map_single - dma_map_single_attrs() without attributes */
static inline dma_addr_t dma_map_single(struct dml_device *dev, void *ptr,
					size_t size,
					enum dma_data_direction dir)
{
	return dma_map_single_attrs(dev, ptr, size, dir, 0);
}

/** dma_unmap_single - dma_unmap_single_attrs() without attributes */
static inline void dma_unmap_single(struct dml_device *dev, dma_addr_t addr,
				    size_t size, enum dma_data_direction dir)
{
	dma_unmap_single_attrs(dev, addr, size, dir, 0);
}

/**
 * dma_map_resource - dma_map_phys() with DMA_ATTR_MMIO
 * @phys: the BAR address (emu: emulated physical address; vfio: the process
 *	virtual address of the BAR's mmap, which VFIO maps)
 * Return: as dma_map_phys(); DMA_MAPPING_ERROR too if @phys is RAM.
 */
dma_addr_t dma_map_resource(struct dml_device *dev, phys_addr_t phys,
			    size_t size, enum dma_data_direction dir,
			    unsigned long attrs);

/** dma_unmap_resource - dma_unmap_phys() with DMA_ATTR_MMIO */
void dma_unmap_resource(struct dml_device *dev, dma_addr_t addr, size_t size,
			enum dma_data_direction dir, unsigned long attrs);

/* ------------------------------------------------------------------ */
/* The two-step IOVA API (6.16, drivers/iommu/dma-iommu.c)            */
/* ------------------------------------------------------------------ */

/**
 * struct dma_iova_state - caller-owned state of one IOVA reservation
 * @addr: IOVA base including the sub-granule offset of the phys given to
 *	dma_iova_try_alloc()
 * @__size: requested size; bit 63 (DMA_IOVA_USE_SWIOTLB) is private
 *
 * Two words, as in the kernel; it does not record the device, so every
 * call must pass the same @dev.
 */
struct dma_iova_state {
	dma_addr_t addr;
	u64 __size;
};

#define DMA_IOVA_USE_SWIOTLB (1ULL << 63)

/** dma_use_iova - true after a successful dma_iova_try_alloc() */
static inline bool dma_use_iova(const struct dma_iova_state *state)
{
	return state->__size != 0;
}

/** dma_iova_size - the size reserved by dma_iova_try_alloc(), bytes */
static inline size_t dma_iova_size(const struct dma_iova_state *state)
{
	return (size_t)(state->__size & ~DMA_IOVA_USE_SWIOTLB);
}

/**
 * dma_iova_try_alloc - reserve IOVA space for a transaction
 * @dev: device
 * @state: zeroed first, always; filled on success
 * @phys: only its offset within a granule is used (0 for aligned I/O);
 *	emu: emulated physical address, vfio: process virtual address
 * @size: bytes the transaction will link, > 0
 *
 * Reserves iova_align(size + iova_offset(phys)) bytes, size-aligned below
 * the device's limit (32-bit first for PCI); maps nothing
 * (drivers/iommu/dma-iommu.c dma_iova_try_alloc()).
 * Return: true on success (state->addr % granule == phys % granule); false
 * when the device has no IOMMU (no warning), for @size 0 or with bit 63 set
 * (warning), or when IOVA space is exhausted.  On false use
 * dma_map_phys() per range.
 */
bool dma_iova_try_alloc(struct dml_device *dev, struct dma_iova_state *state,
			phys_addr_t phys, size_t size);

/**
 * dma_iova_free - release an IOVA reservation
 * @dev: device
 * @state: from dma_iova_try_alloc(); every link must be unlinked first
 *
 * Frees exactly what dma_iova_try_alloc() reserved and zeroes @state, so a
 * later dma_iova_link() on it is -EINVAL instead of mapping freed IOVA
 * (the kernel leaves the state as it was).  Freeing with links outstanding
 * is a caller bug: it is refused with a warning and the reservation and
 * @state are kept (so no IOVA is reused while mapped).
 */
void dma_iova_free(struct dml_device *dev, struct dma_iova_state *state);

/**
 * dma_iova_link - link a physical range into reserved IOVA space
 * @dev: device
 * @state: from dma_iova_try_alloc()
 * @phys: start (emu: the emulated physical address; vfio: the process
 *	virtual address that VFIO pins)
 * @offset: offset into the IOVA space, bytes; merge-boundary aligned for
 *	every link but the first
 * @size: bytes; a multiple of the granule for every link but the last
 * @dir: direction (protection: TO_DEVICE read, FROM_DEVICE write)
 * @attrs: DMA_ATTR_MMIO for BARs, DMA_ATTR_SKIP_CPU_SYNC,
 *	DMA_ATTR_REQUIRE_COHERENT
 *
 * Maps IOVA [addr + offset - pad, +iova_align(size + pad)) to phys - pad,
 * pad = iova_offset(@phys), *without* making it visible: call
 * dma_iova_sync() before the device uses it
 * (drivers/iommu/dma-iommu.c dma_iova_link()).  An unaligned range that
 * must bounce (an untrusted device, or a small kmalloc-sized one of a
 * non-coherent device, see dma_map_phys()) has its partial head and tail
 * granules bounced; the bounce buffer keeps the bits of @phys under the
 * device's dma_min_align_mask only, so an unaligned head on a device
 * whose mask does not cover the granule offset cannot be linked (the
 * IOMMU refuses the misaligned mapping: -EINVAL), as in the kernel.
 *
 * A state released by dma_iova_free() or dma_iova_destroy() is zeroed,
 * so dma_use_iova() is false for it and a link through it fails with
 * -EINVAL, checker or not.  A copy of the state made before the release
 * still names the freed IOVA, which the state alone cannot tell (the
 * kernel's struct dma_iova_state holds only the address and the size):
 * with the DMA-API checker on (dmalink/dma-debug.h), such a link is
 * reported as a use after free and fails with -EINVAL, changing nothing
 * (so do dma_iova_sync() and dma_iova_unlink(); dma_iova_destroy() and
 * dma_iova_free() do nothing); with it off, the link maps into the freed
 * IOVA, as it would in the kernel.
 * Return: 0; -EIO if @phys is not granule aligned and @offset > 0;
 * -EOPNOTSUPP with DMA_ATTR_REQUIRE_COHERENT on a non-coherent device or
 * on a state an earlier link bounced (with a warning); -EPERM if the range
 * would have to bounce and carries DMA_ATTR_MMIO or
 * DMA_ATTR_REQUIRE_COHERENT; -ENOMEM if it would have to bounce and
 * swiotlb is off or full;
 * -EINVAL if the range lies outside the reservation, @size is 0, @dir is
 * invalid, @state was not allocated or was released (above); -EEXIST if
 * part of the range is already linked (nothing changed); -ENOMEM when
 * page-table memory runs out (nothing left mapped by this call);
 * -EOPNOTSUPP without an IOMMU.
 */
int dma_iova_link(struct dml_device *dev, struct dma_iova_state *state,
		  phys_addr_t phys, size_t offset, size_t size,
		  enum dma_data_direction dir, unsigned long attrs);

/**
 * dma_iova_sync - make linked IOVA visible to the device
 * @dev: device
 * @state: from dma_iova_try_alloc()
 * @offset: bytes
 * @size: bytes
 *
 * One IOTLB sync (iotlb_sync_map) for the whole range, however many links
 * it covers; on a non-coherent device the cache maintenance the links
 * issued is completed first (arch_sync_dma_flush()), once for all of them
 * (drivers/iommu/dma-iommu.c dma_iova_sync()).
 * Return: 0; -EINVAL if the range is outside the reservation;
 * -EOPNOTSUPP without an IOMMU.
 */
int dma_iova_sync(struct dml_device *dev, struct dma_iova_state *state,
		  size_t offset, size_t size);

/**
 * dma_iova_unlink - unlink whole earlier links, keeping the reservation
 * @dev: device
 * @state: from dma_iova_try_alloc()
 * @offset: bytes; must be where an earlier dma_iova_link() started
 * @size: bytes; the range must end where a link ended
 * @dir, @attrs: as given to dma_iova_link()
 *
 * Unmaps and invalidates the IOTLB synchronously (never deferred: the IOVA
 * may be relinked at once).  May not split a link: VFIO type1 cannot split
 * a mapping, and every backend refuses it alike.
 * Return: 0; -ENOENT if the range is not made of whole links or is not all
 * linked (nothing changed, a warning is printed); -EINVAL if the range is
 * outside the reservation; on vfio, the errno of a failing
 * VFIO_IOMMU_UNMAP_DMA.  (The kernel's version returns void.)
 */
int dma_iova_unlink(struct dml_device *dev, struct dma_iova_state *state,
		    size_t offset, size_t size, enum dma_data_direction dir,
		    unsigned long attrs);

/**
 * dma_iova_destroy - unlink [0, @mapped_len) and free the reservation
 * @dev: device
 * @state: from dma_iova_try_alloc()
 * @mapped_len: bytes linked from offset 0; 0 is dma_iova_free()
 * @dir, @attrs: as given to dma_iova_link()
 *
 * In lazy mode the invalidation and the IOVA release go through the flush
 * queue, so the IOVA is not reused before the batched flush
 * (drivers/iommu/dma-iommu.c dma_iova_destroy()).
 * @state is zeroed afterwards, as by dma_iova_free().  If [0, @mapped_len)
 * is not made of whole links, nothing is changed and a warning is printed.
 */
void dma_iova_destroy(struct dml_device *dev, struct dma_iova_state *state,
		      size_t mapped_len, enum dma_data_direction dir,
		      unsigned long attrs);

/* ------------------------------------------------------------------ */
/* Syncing streaming mappings (kernel/dma/mapping.c)                   */
/* ------------------------------------------------------------------ */

/**
 * dma_sync_single_for_cpu - give a streaming mapping back to the CPU
 * @dev: device
 * @addr: DMA address from dma_map_phys() (or inside its mapping)
 * @size: bytes, > 0
 * @dir: the mapping's direction (DMA_NONE is refused with a warning)
 *
 * Afterwards the CPU sees what the device wrote: on a non-coherent device
 * the CPU cache over the buffer is invalidated (not for DMA_TO_DEVICE); a
 * bounce buffer is copied back to the original for DMA_FROM_DEVICE and
 * DMA_BIDIRECTIONAL.  Nothing to do (and nothing done) for a coherent
 * device that has never bounced.  The mapping stays; hand it back with
 * dma_sync_single_for_device() before the device touches it again.
 */
void dma_sync_single_for_cpu(struct dml_device *dev, dma_addr_t addr,
			     size_t size, enum dma_data_direction dir);

/**
 * dma_sync_single_for_device - give a streaming mapping back to the device
 * @dev, @addr, @size, @dir: as dma_sync_single_for_cpu()
 *
 * Afterwards the device sees what the CPU wrote: the original is copied
 * into its bounce buffer (DMA_TO_DEVICE, DMA_BIDIRECTIONAL) and, on a
 * non-coherent device, the CPU cache over the buffer is cleaned (every
 * direction, as arm64 does, so no dirty line can later overwrite DMA data).
 */
void dma_sync_single_for_device(struct dml_device *dev, dma_addr_t addr,
				size_t size, enum dma_data_direction dir);

/** dma_sync_single_range_for_cpu - dma_sync_single_for_cpu(@addr + @offset) */
void dma_sync_single_range_for_cpu(struct dml_device *dev, dma_addr_t addr,
				   unsigned long offset, size_t size,
				   enum dma_data_direction dir);

/** dma_sync_single_range_for_device - dma_sync_single_for_device(@addr + @offset) */
void dma_sync_single_range_for_device(struct dml_device *dev, dma_addr_t addr,
				      unsigned long offset, size_t size,
				      enum dma_data_direction dir);

/* ------------------------------------------------------------------ */
/* Bounce buffers (kernel/dma/swiotlb.c)                              */
/* ------------------------------------------------------------------ */

/**
 * dma_max_mapping_size - the largest streaming mapping @dev can get, bytes
 *
 * 256 KiB (128 slots of 2 KiB) less the min_align_mask padding when the
 * mapping may be bounced: a force_bounce or addressing-limited dma-direct
 * device with a pool, an untrusted device behind an IOMMU, or a device of
 * a confidential guest that is not accepted into its TVM, with an IOMMU
 * or without (swiotlb_max_mapping_size(); a confidential guest forces
 * swiotlb, is_swiotlb_force_bounce()); SIZE_MAX otherwise, and for an
 * accepted device in TDISP RUN.
 */
size_t dma_max_mapping_size(struct dml_device *dev);

/**
 * dma_get_min_align_mask - the device's dma_min_align_mask (0: none)
 */
unsigned int dma_get_min_align_mask(struct dml_device *dev);

/**
 * dma_set_min_align_mask - set the bits of an address a bounce buffer keeps
 * @dev: device
 * @min_align_mask: e.g. NVME_CTRL_PAGE_SIZE - 1
 * Return: 0; -EIO for a NULL @dev (the kernel's "no dma_parms").
 */
int dma_set_min_align_mask(struct dml_device *dev, unsigned int min_align_mask);

/* ------------------------------------------------------------------ */
/* Coherent memory (kernel/dma/mapping.c dma_alloc_attrs)              */
/* ------------------------------------------------------------------ */

/*
 * gfp_t - allocation flags, accepted for the kernel's signatures.  Nothing
 * sleeps here, so GFP_KERNEL, GFP_ATOMIC and GFP_NOWAIT behave alike;
 * __GFP_ZERO zeroes a dma_pool block (coherent memory is always zeroed);
 * __GFP_NOWARN is DMA_ATTR_NO_WARN for dma_alloc_coherent().
 */
typedef unsigned int gfp_t;
#define GFP_KERNEL	0U
#define GFP_ATOMIC	(1U << 0)
#define GFP_NOWAIT	(1U << 1)
#define __GFP_NOWARN	(1U << 2)
#define __GFP_ZERO	(1U << 3)

/**
 * dma_alloc_attrs - allocate coherent DMA memory
 * @dev: device
 * @size: bytes, > 0; rounded up to a power of two of 4 KiB pages (emu),
 *	to 4 KiB pages (vfio)
 * @dma_handle: out: the DMA address for @dev (DMA_MAPPING_ERROR on failure)
 * @gfp: GFP_* (see gfp_t)
 * @attrs: DMA_ATTR_NO_WARN (no message on failure)
 *
 * Memory comes from the platform's emulated RAM, zeroed; the returned CPU
 * pointer is into it (dml_kmap_local_phys() space).  The CPU and DMA
 * addresses are aligned to the smallest power of two of pages at least
 * @size (Documentation/core-api/dma-api.rst).  dma-direct: the DMA address
 * is the physical address, within the coherent mask and bus limit
 * (dma_direct_alloc).  Behind an IOMMU: an IOVA below the coherent mask,
 * mapped read/write (iommu_dma_alloc).  On a non-coherent device the
 * memory is uncached, so neither side needs a sync.  On vfio, which has
 * no coherent allocator, the memory is zeroed anonymous pages (4 KiB
 * aligned, no more) mapped for both directions with dma_map_phys(),
 * coherent on x86 all the same.
 * Return: the CPU address, or NULL (@dev NULL, @size 0, no memory within
 * the mask, IOVA or page-table memory exhausted, a failed mapping).
 */
void *dma_alloc_attrs(struct dml_device *dev, size_t size,
		      dma_addr_t *dma_handle, gfp_t gfp, unsigned long attrs);

/**
 * dma_free_attrs - free memory from dma_alloc_attrs()
 * @dev, @size, @attrs: as given to dma_alloc_attrs()
 * @cpu_addr: what it returned; NULL is ignored
 * @dma_handle: what it stored in *dma_handle
 *
 * An address, size or handle that does not match an allocation is
 * reported and nothing is freed.
 */
void dma_free_attrs(struct dml_device *dev, size_t size, void *cpu_addr,
		    dma_addr_t dma_handle, unsigned long attrs);

/** dma_alloc_coherent - dma_alloc_attrs() (__GFP_NOWARN: DMA_ATTR_NO_WARN) */
static inline void *dma_alloc_coherent(struct dml_device *dev, size_t size,
				       dma_addr_t *dma_handle, gfp_t gfp)
{
	return dma_alloc_attrs(dev, size, dma_handle, gfp,
			       (gfp & __GFP_NOWARN) ? DMA_ATTR_NO_WARN : 0);
}

/** dma_free_coherent - dma_free_attrs() with no attributes */
static inline void dma_free_coherent(struct dml_device *dev, size_t size,
				     void *cpu_addr, dma_addr_t dma_handle)
{
	dma_free_attrs(dev, size, cpu_addr, dma_handle, 0);
}

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_DMA_MAPPING_H */
