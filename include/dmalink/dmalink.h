/* SPDX-License-Identifier: MIT */
/*
 * dmalink/dmalink.h - dmalink's own objects: the platform (an emulated
 * machine or the VFIO host), its memory, IOMMU units and devices, the
 * emulated DMA engine, physical layouts, fault logs, statistics and the
 * message log.  Everything here has no kernel twin, hence the dml_ prefix.
 * The kernel's DMA API itself is in dmalink/dma-mapping.h.
 *
 * Ownership: a platform owns its
 * memory, IOMMU units and devices; nothing is global.  Long-lived objects are
 * opaque handles created with dml_*_create() and released with the matching
 * dml_*_destroy(), which cannot fail.  Options structs start with their size
 * (DML_SIZEOF) so they can grow at the end.
 */
#ifndef DMALINK_DMALINK_H
#define DMALINK_DMALINK_H

#include <dmalink/types.h>
#include <dmalink/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

struct dml_platform;
struct dml_iommu;
struct dml_device;
struct dml_layout;
struct dml_pci_dev;

/*
 * DML_SIZEOF - the size of an options struct up to and including @field, for
 * the leading size member of every dml_*_opts: fields the caller does not
 * cover take their defaults, a non-zero field beyond what the library knows
 * is -E2BIG (as include/linux/uaccess.h copy_struct_from_user()).  A size
 * of 0 with any field set is -EINVAL (the fields would be ignored); every
 * refusal logs a line naming the struct.
 */
#define DML_SIZEOF(ptr, field) \
	(offsetof(__typeof__(*(ptr)), field) + sizeof((ptr)->field))

/* ------------------------------------------------------------------ */
/* Platform                                                            */
/* ------------------------------------------------------------------ */

/**
 * struct dml_emu_opts - shape of an emulated machine
 * @size: DML_SIZEOF(opts, last field used); 0 only with every field 0
 *	(all defaults), else -EINVAL
 * @ram_size: bytes of RAM with a memmap at physical 0 (default 4 GiB);
 *	host memory is reserved lazily (mmap MAP_NORESERVE), so a large size
 *	costs nothing until touched.  Must be a multiple of 2 MiB.
 * @seed: seed of the physical page allocator's layout policies (0 = 1)
 * @swiotlb_size: bytes of the swiotlb bounce-buffer pool, a multiple of
 *	2 MiB and at most @ram_size (0 = DML_SWIOTLB_DEFAULT_SIZE, the
 *	kernel's 64 MiB).  The pool is carved from the top of the RAM below
 *	4 GiB on first use, so that 32-bit devices reach it (kernel/dma/
 *	swiotlb.c swiotlb_init_remap(), memblock_alloc_low()); no pool (and
 *	bouncing fails) when that RAM has no room for it.
 * @swiotlb_off: no pool at all (the kernel without swiotlb, or
 *	swiotlb=noforce with no memory for it): whatever would bounce fails
 * @cpu_vendor: the CPU's vendor, DML_CPU_* of dmalink/pci.h (default
 *	DML_CPU_OTHER)
 * @cpu_family: the CPU's x86 family number: an AMD CPU of family 0x17
 *	(Zen) or later lets peer-to-peer DMA through any host bridge
 *	(cpu_supports_p2pdma() in drivers/pci/p2pdma.c)
 */
struct dml_emu_opts {
	size_t size;
	u64 ram_size;
	u64 seed;
	u64 swiotlb_size;
	bool swiotlb_off;
	unsigned int cpu_vendor;
	unsigned int cpu_family;
};

/* DML_SWIOTLB_DEFAULT_SIZE - IO_TLB_DEFAULT_SIZE, bytes */
#define DML_SWIOTLB_DEFAULT_SIZE (64ULL << 20)

/**
 * dml_platform_create_emu - create an emulated machine
 * @opts: shape, or NULL for the defaults
 * @out: the new platform on success
 *
 * The machine has one RAM region [0, @ram_size) with a memmap; add more
 * with dml_ram_add() and device BARs with dml_mmio_add().
 * Return: 0; -EINVAL for a bad @opts (misaligned size or swiotlb_size,
 * swiotlb_size above ram_size; unknown non-zero tail: -E2BIG); -ENOMEM
 * when host memory cannot be reserved.
 */
int dml_platform_create_emu(const struct dml_emu_opts *opts,
			    struct dml_platform **out);

/**
 * dml_platform_destroy - destroy a platform and everything it owns
 * @p: platform, may be NULL
 *
 * Devices, IOMMU units and memory are released.  Mappings still present are
 * reported by the checker (dmalink/dma-debug.h) and then dropped.
 */
void dml_platform_destroy(struct dml_platform *p);

/*
 * Flags of dml_ram_add().  DML_RAM_NO_MEMMAP: RAM without struct page
 * (e.g. mem=, CXL): dma_map_phys(), the two-step API, device DMA and
 * dml_kmap_local_phys() use it like any RAM; what needs a page refuses it
 * (dma_map_page_attrs(), dma_map_single_attrs(), dma_map_sg_attrs()).
 */
#define DML_RAM_NO_MEMMAP (1u << 0)

/**
 * dml_ram_add - add a RAM region to an emulated platform
 * @p: platform
 * @base: emulated physical base, 2 MiB aligned
 * @size: bytes, a multiple of 2 MiB
 * @flags: DML_RAM_*
 *
 * Return: 0; -EINVAL if misaligned or overlapping another region or if the
 * platform is not emulated; -ENOSPC if the region table is full; -ENOMEM.
 */
int dml_ram_add(struct dml_platform *p, phys_addr_t base, u64 size,
		unsigned int flags);

/**
 * dml_mmio_add - add an MMIO region (a device BAR) to an emulated platform
 * @p: platform
 * @base: emulated physical base, 4 KiB aligned
 * @size: bytes, a multiple of 4 KiB
 * @name: label used in messages (copied, at most 31 characters kept)
 *
 * The region is backed by host memory so emulated devices can really DMA
 * to it (peer-to-peer), but it is never handed out as RAM and
 * dml_phys_is_ram() is false for it.
 * Return: 0; -EINVAL on misalignment or overlap; -ENOSPC; -ENOMEM.
 */
int dml_mmio_add(struct dml_platform *p, phys_addr_t base, u64 size,
		 const char *name);

/**
 * dml_phys_is_ram - whether [@phys, @phys + @len) lies in one RAM region
 * @p: platform
 * @phys: emulated physical address
 * @len: bytes
 */
bool dml_phys_is_ram(struct dml_platform *p, phys_addr_t phys, u64 len);

/**
 * dml_kmap_local_phys - CPU pointer to emulated physical memory
 * @p: platform
 * @phys: emulated physical address (RAM or MMIO)
 * @len: bytes the caller will touch; the range must lie in one region
 *
 * The twin of the kernel's kmap_local_page()/phys_to_virt() for memory with
 * or without a memmap.  The pointer stays valid until the platform is
 * destroyed.  It is the host CPU's mapping: private MMIO, a memory BAR of
 * a device whose TDISP interface is in RUN (dmalink/cc.h), has none.
 * Return: the pointer, or NULL if the range is not backed or is private
 * MMIO.
 */
void *dml_kmap_local_phys(struct dml_platform *p, phys_addr_t phys, u64 len);

/* ------------------------------------------------------------------ */
/* Physical page allocator and layout policies                         */
/* ------------------------------------------------------------------ */

/**
 * struct dml_phys_range - a physically contiguous range
 * @phys: start (emulated physical address)
 * @len: bytes
 */
struct dml_phys_range {
	phys_addr_t phys;
	u64 len;
};

/**
 * dml_layout_create - a physical page allocator with a layout policy
 * @p: emulated platform; pages come from its first RAM region
 * @spec: "4k-random" (fragmented: each 4 KiB page anywhere),
 *	"4k-descending" (runs of pages in descending physical order, as Linux
 *	hands out anonymous memory),
 *	"thp" (2 MiB-aligned runs of 512 pages) or "file:PATH" (a layout
 *	captured by `dmalink layout capture`, replayed in order, cycling)
 * @out: the allocator
 *
 * Return: 0; -EINVAL for an unknown @spec or a malformed layout file (a
 * message names the file and line); -ENOENT if the file cannot be opened;
 * -ENOMEM.
 */
int dml_layout_create(struct dml_platform *p, const char *spec,
		      struct dml_layout **out);

/** dml_layout_destroy - release an allocator (its pages return to RAM) */
void dml_layout_destroy(struct dml_layout *l);

/**
 * dml_layout_alloc - allocate a buffer of @bytes with the layout's policy
 * @l: allocator
 * @bytes: buffer length in bytes (> 0); rounded up to 4 KiB pages
 * @ranges: out: the buffer's physically contiguous runs, in buffer order
 *	(adjacent pages that happen to be contiguous are merged)
 * @max_ranges: capacity of @ranges
 * @nr: out: runs written
 *
 * The buffer starts page aligned; the last run is trimmed to @bytes.
 * Return: 0; -EINVAL for @bytes == 0; -ENOSPC if @max_ranges is too small
 * (nothing allocated); -ENOMEM when RAM is exhausted (nothing allocated).
 */
int dml_layout_alloc(struct dml_layout *l, u64 bytes,
		     struct dml_phys_range *ranges, unsigned int max_ranges,
		     unsigned int *nr);

/**
 * dml_layout_free - free a buffer from dml_layout_alloc()
 * @l: allocator
 * @ranges, @nr: what dml_layout_alloc() returned
 *
 * The frames go back to the allocator and the host memory behind them to
 * the host (madvise MADV_DONTNEED of the host pages wholly inside each
 * range), so a program holds only the buffers it has not freed; a frame
 * reads as zeros when next handed out.
 */
void dml_layout_free(struct dml_layout *l, const struct dml_phys_range *ranges,
		     unsigned int nr);

/*
 * Captured layouts: the text file `dmalink layout capture` writes and
 * dml_layout_create("file:PATH") replays.  It is one buffer's physical
 * layout as the kernel gave it (read from /proc/self/pagemap, see the
 * kernel's Documentation/admin-guide/mm/pagemap.rst): the PFNs of its
 * 4 KiB pages in virtual-address order, as runs of contiguous frames.
 *
 * Format, version 1 (text, one item per line):
 *
 *	# dmalink layout 1		required, the first line
 *	# mode: 4k|thp			required
 *	# bytes: <N>			required: buffer size in bytes, which
 *					must equal the runs' pages * 4096
 *	# machine: <free text>		optional
 *	# date: YYYY-MM-DD		optional
 *	0x<pfn hex> <npages decimal>	one per run, at least one
 *
 * A run is a maximal stretch of pages whose PFNs ascend by one; pages in
 * descending physical order therefore appear as many 1-page runs.  PFNs
 * fit in 55 bits (pagemap bits 0-54).  Other lines starting with '#' are
 * comments, blank lines are ignored, lines are at most 1023 bytes.
 */

/* The first line of every layout file. */
#define DML_LAYOUT_FILE_MAGIC "# dmalink layout 1"

/* Width of a PFN in a layout file, in bits: pagemap bits 0-54. */
#define DML_LAYOUT_PFN_BITS 55

/**
 * struct dml_layout_file - a loaded layout file
 * @pfn: first frame number of each run (4 KiB frames)
 * @npages: length of each run in 4 KiB pages (>= 1)
 * @nr_runs: entries in @pfn and @npages (>= 1)
 * @total_pages: sum of @npages; the "# bytes:" header divided by 4096
 * @max_pfn: the highest frame any run covers (inclusive: pfn + npages - 1)
 * @mode: "4k" or "thp", NUL-terminated
 */
struct dml_layout_file {
	u64 *pfn;
	u32 *npages;
	unsigned int nr_runs;
	u64 total_pages;
	u64 max_pfn;
	char mode[8];
};

/**
 * dml_layout_file_load - read a layout file written by `dmalink layout
 * capture`, checking every line
 * @path: the file
 * @out: filled on success; zeroed on failure (so dml_layout_file_free()
 *	is always safe on it)
 *
 * Every problem is reported once through the message log (dml_set_log) as
 * "PATH:LINE: what"; a problem of the whole file (no runs, no mode) names
 * the last line, a bytes header that does not match the runs names the
 * header's line, and a file that cannot be opened or read gives
 * "PATH: what".  No kernel twin: the pagemap reader is user space.
 *
 * Return: 0; -ENOENT if @path cannot be opened or read (the message gives
 * the reason from errno); -EINVAL for a malformed file: a missing or wrong
 * first line, a missing, repeated or unknown mode, a missing, repeated or
 * malformed bytes header, a bytes value that does not match the runs, a
 * run line that is not "0x<hex pfn> <decimal npages>", a PFN range past
 * 55 bits, 0 pages, more than U32_MAX pages in a run, no runs, more than
 * UINT_MAX runs, a line longer than 1023 bytes or holding a NUL byte;
 * -ENOMEM.
 */
int dml_layout_file_load(const char *path, struct dml_layout_file *out);

/**
 * dml_layout_file_free - release what dml_layout_file_load() allocated
 * @lf: a loaded or zeroed layout; zeroed on return (a second call is a no-op)
 */
void dml_layout_file_free(struct dml_layout_file *lf);

/* ------------------------------------------------------------------ */
/* Emulated IOMMU units                                                */
/* ------------------------------------------------------------------ */

/**
 * struct dml_iommu_opts - an emulated VT-d unit
 * @size: DML_SIZEOF(opts, last field used); 0 only with every field 0
 *	(all defaults), else -EINVAL
 * @levels: page-table levels, 4 (48-bit IOVA, default) or 5 (57-bit)
 * @iotlb_sets: IOTLB sets (power of two; default 64)
 * @iotlb_ways: IOTLB ways (default 8)
 * @caching_mode: behave as a virtualised IOMMU (VT-d CM=1): new
 *	translations are invisible to devices until an iotlb_sync_map, so a
 *	dma_iova_link() without dma_iova_sync() makes the device fault
 * @lazy: lazy (flush-queue) invalidation for dma_unmap_* and
 *	dma_iova_destroy(); default strict
 * @superpages: allow 2 MiB and 1 GiB leaves (default true when @size is 0;
 *	set explicitly otherwise)
 * @pt_reclaim: free the page-table pages that unmaps leave empty soon
 *	after, as the kernel frees the table pages it gathered once the
 *	IOTLB flush is done (iommu_iotlb_gather, iommu_put_pages_list() in
 *	drivers/iommu/): at the next domain-wide flush (lazy mode's flush
 *	queue) or once a bounded number are waiting, so page-table memory
 *	follows what is mapped.  Each such trim holds every thread mapping on
 *	the domain back for a moment, which costs throughput when many
 *	threads share one device.  Default false: emptied tables stay linked
 *	and are reused by the next mapping there, and dml_iommu_trim() (or
 *	the domain's end) frees them.
 */
struct dml_iommu_opts {
	size_t size;
	unsigned int levels;
	unsigned int iotlb_sets;
	unsigned int iotlb_ways;
	bool caching_mode;
	bool lazy;
	bool superpages;
	bool pt_reclaim;
};

/**
 * dml_iommu_create - add an emulated IOMMU unit to an emulated platform
 * @p: platform
 * @opts: options or NULL for defaults
 * @out: the unit
 *
 * Page-table pages come from the platform's emulated RAM, so page-table
 * memory is counted (struct dml_iommu_stats.pt_pages).
 * Return: 0; -EINVAL for bad options or a non-emulated platform; -ENOMEM.
 */
int dml_iommu_create(struct dml_platform *p, const struct dml_iommu_opts *opts,
		     struct dml_iommu **out);

/**
 * struct dml_iommu_stats - counters of one IOMMU unit, since creation
 * @inv_range: page-selective (range) IOTLB invalidations
 * @inv_global: global (domain-wide) IOTLB invalidations
 * @sync_map: iotlb_sync_map calls (caching mode invalidations of new entries)
 * @iotlb_hits: device translations served by the IOTLB
 * @iotlb_misses: translations that walked the page table
 * @stale_hits: translations that hit an IOTLB entry no longer in the page
 *	table (use after unmap without invalidation; reported as a fault too)
 * @faults: faults logged
 * @pt_pages: page-table pages held now (4 KiB each), including the empty
 *	tables unmap leaves linked for reuse until dml_iommu_trim() frees
 *	them all (or, with struct dml_iommu_opts.pt_reclaim, a domain-wide
 *	flush those unmap found empty)
 * @pt_pages_peak: high-water mark of @pt_pages
 * @pt_pages_touched: page-table pages written by map/unmap (summed per call)
 */
struct dml_iommu_stats {
	u64 inv_range;
	u64 inv_global;
	u64 sync_map;
	u64 iotlb_hits;
	u64 iotlb_misses;
	u64 stale_hits;
	u64 faults;
	u64 pt_pages;
	u64 pt_pages_peak;
	u64 pt_pages_touched;
};

/**
 * dml_iommu_get_stats - copy the unit's counters into @st
 * @iommu: unit
 * @st: out
 *
 * Reading changes nothing: empty tables kept for reuse stay (and count in
 * @st->pt_pages); dml_iommu_trim() frees them.
 */
void dml_iommu_get_stats(struct dml_iommu *iommu, struct dml_iommu_stats *st);

/**
 * dml_iommu_trim - free every empty page table the unit keeps for reuse
 * @iommu: unit
 *
 * Unmap leaves emptied tables linked so the next map there allocates
 * nothing; with struct dml_iommu_opts.pt_reclaim the tables it finds
 * empty wait on a short per-domain list, freed when the list fills and by
 * a domain-wide IOTLB flush (the kernel frees gathered tables after the
 * flush); domain destroy frees all.  This
 * call frees every empty table, listed or not: after everything is
 * unmapped and trimmed, pt_pages is back to one root per domain.  It waits
 * for the map and unmap calls running on the unit's domains (from other
 * threads) and holds new ones back meanwhile.  Cannot fail.
 */
void dml_iommu_trim(struct dml_iommu *iommu);

/** enum dml_fault_reason - why a device access faulted */
enum dml_fault_reason {
	DML_FAULT_NOT_PRESENT,	/* no translation (or not yet synced) */
	DML_FAULT_READ_DENIED,	/* read of a mapping without read permission */
	DML_FAULT_WRITE_DENIED,	/* write of a mapping without write permission */
	DML_FAULT_STALE_IOTLB,	/* reached a page through a stale IOTLB entry */
	DML_FAULT_BEYOND_MASK,	/* address beyond the device's DMA mask */
	DML_FAULT_NO_MEMORY,	/* translated to an address no memory backs */
};

/**
 * struct dml_fault - one fault log entry
 * @source_id: requester id of the device (PCI bus/dev/fn)
 * @addr: DMA address (IOVA) the device used
 * @write: true for a device write (to memory)
 * @reason: why
 */
struct dml_fault {
	u16 source_id;
	dma_addr_t addr;
	bool write;
	enum dml_fault_reason reason;
};

/**
 * dml_iommu_fault_count - faults logged by a unit since creation
 * (direct devices log into the platform's log: dml_platform_fault_count)
 */
u64 dml_iommu_fault_count(struct dml_iommu *iommu);

/**
 * dml_iommu_fault_get - read fault @idx (0 = oldest kept)
 * @iommu: unit
 * @idx: index; the log keeps the last 256 faults
 * @f: out
 * Return: 0, or -ENOENT if @idx is not kept.
 */
int dml_iommu_fault_get(struct dml_iommu *iommu, u64 idx, struct dml_fault *f);

/** dml_fault_reason_str - short text for a fault reason */
const char *dml_fault_reason_str(enum dml_fault_reason r);

/* ------------------------------------------------------------------ */
/* Devices                                                             */
/* ------------------------------------------------------------------ */

/**
 * struct dml_device_opts - a DMA-capable device
 * @size: DML_SIZEOF(opts, last field used); 0 only with every field 0
 *	(all defaults), else -EINVAL
 * @name: label for messages (copied)
 * @source_id: PCI requester id (bus << 8 | devfn)
 * @pci: a PCI device (tries 32-bit IOVA first, as the kernel does)
 * @dma_mask: streaming DMA mask (default DMA_BIT_MASK(64))
 * @coherent_dma_mask: coherent mask (default DMA_BIT_MASK(64))
 * @max_segment_size: largest DMA segment the device takes, bytes
 *	(default 64 KiB, the kernel's default)
 * @seg_boundary_mask: DMA segments may not cross a multiple of mask + 1
 *	(default 0xffffffff)
 * @iommu: emulated IOMMU unit the device sits behind, NULL for dma-direct
 * @non_coherent: the device does not snoop CPU caches: the platform models
 *	the CPU cache for it, so CPU writes reach it only after
 *	dma_sync_*_for_device() (or the map) and its writes reach the CPU
 *	only after dma_sync_*_for_cpu() (or the unmap)
 * @untrusted: external-facing device behind an IOMMU: ranges that are not
 *	granule aligned are bounced through swiotlb (dev_use_swiotlb())
 * @force_bounce: dma-direct only: every streaming mapping is bounced
 *	through swiotlb (is_swiotlb_force_bounce(); swiotlb=force,
 *	restricted-dma-pool, confidential guests); DMA_ATTR_MMIO mappings
 *	then fail
 * @dma_min_align_mask: the device's dma_min_align_mask (NVMe: 4 KiB - 1):
 *	a bounce buffer keeps the original address's bits under it
 * @pci_dev: the endpoint function of the platform's PCI topology that
 *	this device is (dmalink/pci.h; at most one device per function); it
 *	implies @pci and sets the requester id @source_id to the function's
 *	bus/devfn.  NULL: a PCI device is placed as an integrated endpoint
 *	at bus/devfn @source_id on the root bus of the first host bridge
 *	(one with ids 0000:0000, on no P2PDMA whitelist, is made at
 *	0000:00 if the platform has none yet); bus/devfn is not checked for
 *	uniqueness there
 */
struct dml_device_opts {
	size_t size;
	const char *name;
	u16 source_id;
	bool pci;
	u64 dma_mask;
	u64 coherent_dma_mask;
	unsigned int max_segment_size;
	unsigned long seg_boundary_mask;
	struct dml_iommu *iommu;
	bool non_coherent;
	bool untrusted;
	bool force_bounce;
	unsigned int dma_min_align_mask;
	struct dml_pci_dev *pci_dev;
};

/**
 * dml_device_create - add a device to an emulated platform
 * @p: platform
 * @opts: options (NULL: a direct, coherent PCI device with a 64-bit mask)
 * @out: the device
 *
 * A device behind an IOMMU gets its own DMA domain, whose IOVA space is
 * [granule, min(aperture, mask)] minus the reserved regions (the x86 MSI
 * window 0xfee00000-0xfeefffff).
 * Return: 0; -EINVAL for bad options (a @pci_dev that is not an endpoint
 * of @p); -EBUSY if @pci_dev already has a device; -ENOMEM.
 */
int dml_device_create(struct dml_platform *p, const struct dml_device_opts *opts,
		      struct dml_device **out);

/** dml_device_destroy - remove a device; its domain and mappings go too */
void dml_device_destroy(struct dml_device *dev);

/** dml_device_name - the device's label */
const char *dml_device_name(const struct dml_device *dev);

/** dml_device_iommu - the IOMMU unit of @dev, NULL for dma-direct */
struct dml_iommu *dml_device_iommu(const struct dml_device *dev);

/* ------------------------------------------------------------------ */
/* The emulated DMA engine                                             */
/* ------------------------------------------------------------------ */

/**
 * dml_dev_dma_read - the device reads memory (a DMA to the device)
 * @dev: an emulated device
 * @addr: DMA address handed to the device
 * @buf: where the device puts what it read
 * @len: bytes
 *
 * Every access is translated: through the IOTLB and the page walk behind an
 * IOMMU (permission checked), or as a bus address for dma-direct (mask
 * checked).  First the PCI fabric routes it as the switches would now: a
 * peer's BAR that answers @addr below a common switch with no ACS
 * redirect on the way takes it directly (no IOMMU); anything else goes up
 * to the root complex, which passes what lands in a peer's BAR on only if
 * it routes peer-to-peer traffic (AMD Zen or later, or a whitelisted host
 * bridge) and otherwise drops it with a warning.  A fault is logged and
 * stops the transfer; nothing crashes.
 * Return: 0; -EFAULT on a fault or a dropped request (bytes before the
 * faulting page may have been read); -EINVAL if @dev is not emulated.
 */
int dml_dev_dma_read(struct dml_device *dev, dma_addr_t addr, void *buf,
		     size_t len);

/**
 * dml_dev_dma_write - the device writes memory (a DMA from the device)
 * @dev: an emulated device
 * @addr: DMA address
 * @buf: bytes to write
 * @len: bytes
 *
 * As dml_dev_dma_read(), in the other direction.
 * Return: 0; -EFAULT on a fault; -EINVAL if @dev is not emulated.
 */
int dml_dev_dma_write(struct dml_device *dev, dma_addr_t addr, const void *buf,
		      size_t len);

/**
 * struct dml_dev_stats - what an emulated device moved
 * @bytes_read: bytes read from memory by the device
 * @bytes_written: bytes written to memory by the device
 * @faults: accesses that faulted
 * @iova_allocs: IOVA allocations in the device's domain (0 for direct)
 * @iova_frees: IOVA releases in the device's domain
 */
struct dml_dev_stats {
	u64 bytes_read;
	u64 bytes_written;
	u64 faults;
	u64 iova_allocs;
	u64 iova_frees;
};

/** dml_dev_get_stats - copy the device's counters into @st */
void dml_dev_get_stats(struct dml_device *dev, struct dml_dev_stats *st);

/**
 * dml_platform_fault_count - faults of dma-direct devices on @p
 * (out of mask, or an address no memory backs)
 */
u64 dml_platform_fault_count(struct dml_platform *p);

/* ------------------------------------------------------------------ */
/* swiotlb                                                             */
/* ------------------------------------------------------------------ */

/**
 * struct dml_swiotlb_stats - the platform's bounce-buffer pool
 * @phys: emulated physical start of the pool (0 until first used)
 * @nslabs: 2 KiB slots in the pool
 * @nareas: areas, each with its own lock
 * @used: slots in use now (summed without locks, so approximate while
 *	other threads bounce, as the kernel's mem_used())
 * @maps: successful bounce mappings since creation
 * @bounced_bytes: bytes copied between buffers and bounce buffers (map,
 *	sync and unmap, both directions)
 * @full: mappings refused because no run of slots fitted
 */
struct dml_swiotlb_stats {
	phys_addr_t phys;
	u64 nslabs;
	unsigned int nareas;
	u64 used;
	u64 maps;
	u64 bounced_bytes;
	u64 full;
};

/**
 * dml_swiotlb_get_stats - copy the counters of @p's swiotlb pool into @st
 * Return: 0 (all zero but @nslabs before the pool's first use); -ENODEV
 * if @p has no pool (swiotlb_off, or not emulated); -EINVAL.
 */
int dml_swiotlb_get_stats(struct dml_platform *p, struct dml_swiotlb_stats *st);

/* ------------------------------------------------------------------ */
/* Fault injection (the kernel's fail-nth, fault-injection.rst)       */
/* ------------------------------------------------------------------ */

/**
 * dml_fail_nth - fail the @n-th next allocation or backend call
 * @n: 1 fails the very next one; 0 disarms
 *
 * Every allocation and backend call (page-table page, IOVA node, swiotlb
 * slot, ioctl) passes through one hook; the armed call fails as it would
 * when out of memory (-ENOMEM) or as the ioctl would.  Per thread.
 */
void dml_fail_nth(long n);

/** dml_fail_nth_hit - whether the armed failure happened (then disarmed) */
bool dml_fail_nth_hit(void);

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

/**
 * dml_log_fn - a sink for the kernel-style messages dmalink prints
 * (warnings such as "DMA addr ... overflow"); @level is 0 (error),
 * 1 (warning) or 2 (info).
 */
typedef void (*dml_log_fn)(void *arg, int level, const char *msg);

/**
 * dml_set_log - route messages to @fn (NULL: back to stderr, the default)
 * The sink is process-wide; it is called with no dmalink lock held.
 */
void dml_set_log(dml_log_fn fn, void *arg);

/**
 * dml_warn_count - messages at warning level or worse printed so far
 * (the WARN/WARN_ONCE sites of the kernel code we mirror), process-wide
 */
u64 dml_warn_count(void);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_DMALINK_H */
