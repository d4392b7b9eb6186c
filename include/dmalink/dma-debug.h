/* SPDX-License-Identifier: MIT */
/*
 * dmalink/dma-debug.h - the DMA-API checker: dmalink's twin of the kernel's
 * CONFIG_DMA_API_DEBUG (kernel/dma/debug.c, Documentation/core-api/
 * dma-api.rst "Part II - DMA-API debugging").
 *
 * While the checker is on, every mapping made through the DMA API is
 * tracked per device (dma_map_phys and dma_map_resource, scatterlists,
 * coherent allocations, and the two-step IOVA API: each reservation and
 * each link in it), with a short backtrace of where it was made.  Each
 * unmap, sync and free is matched against what was mapped, best fit first
 * as dma-debug does (DMA address, then size, type, direction and sg count),
 * and every misuse is reported in the kernel's words with the mapping's
 * backtrace ("Mapped at:") and the offending call's ("Called at:").
 *
 * Beyond the kernel, which has no hooks in the dma_iova_* calls
 * (drivers/iommu/dma-iommu.c dma_iova_link() and the rest call no
 * debug_dma_* function), the checker follows the two-step state machine, and on the
 * emulated platform it watches the device and the CPU at the moment they
 * touch memory: a device access outside what it was given, to reserved
 * IOVA not linked or not yet synced, against the mapping's direction; a
 * CPU access to a DMA_FROM_DEVICE buffer the device still owns.
 *
 * Scope: the checker watches the devices created while it is on, so turn
 * it on before creating devices (the environment variable does that at
 * program start).  Reports go to the message log (dml_set_log()) at
 * warning level; like the kernel, only the first one is printed unless
 * told otherwise (dml_dma_debug_set_show()), and all are counted and kept
 * for dml_dma_debug_error_get().  When off, the DMA API pays one
 * predictable branch per call.
 *
 * Environment: DMALINK_DMA_DEBUG=1 turns the checker on at program start;
 * options may follow, comma separated: "all" (print every report), "abort"
 * (abort() after the first report), "notrace" (no backtraces: several
 * times cheaper).  Example: DMALINK_DMA_DEBUG=1,all.  "0" or "off" leaves
 * it off.  DML_DMA_DEBUG is read when DMALINK_DMA_DEBUG is not set.
 *
 * Cost when on: a few microseconds per mapping call, nearly all of it
 * glibc's backtrace() (`dmalink bench --filter cycle-128k`).
 */
#ifndef DMALINK_DMA_DEBUG_H
#define DMALINK_DMA_DEBUG_H

#include <dmalink/dma-mapping.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

/**
 * enum dml_dma_debug_category - what a report is about
 *
 * Kernel classes (kernel/dma/debug.c err_printk() and its callers; the message starts with the
 * kernel's words, given here):
 * @DML_DMA_DEBUG_FREE_NOT_ALLOCATED: "device driver tries to free DMA
 *	memory it has not allocated" (no mapping at that DMA address, or
 *	several and none fits exactly)
 * @DML_DMA_DEBUG_FREE_INVALID_ADDR: "device driver tries to free an invalid
 *	DMA memory address" (DMA_MAPPING_ERROR)
 * @DML_DMA_DEBUG_FREE_WRONG_SIZE: "device driver frees DMA memory with
 *	different size"
 * @DML_DMA_DEBUG_FREE_WRONG_FUNCTION: "device driver frees DMA memory with
 *	wrong function" (mapped as one type, unmapped as another)
 * @DML_DMA_DEBUG_FREE_WRONG_CPU_ADDR: "device driver frees DMA memory with
 *	different CPU address" (coherent memory)
 * @DML_DMA_DEBUG_FREE_WRONG_SG_COUNT: "device driver frees DMA sg list with
 *	different entry count"
 * @DML_DMA_DEBUG_FREE_WRONG_DIR: "device driver frees DMA memory with
 *	different direction"
 * @DML_DMA_DEBUG_MAP_ERROR_NOT_CHECKED: "device driver failed to check map
 *	error" (a dma_map_phys() address unmapped without dma_mapping_error()
 *	having been called on it)
 * @DML_DMA_DEBUG_MAP_BAD_MEMORY: mapping memory DMA may not use: "device
 *	driver maps memory from invalid area" (nothing backs it, or it is
 *	MMIO mapped without DMA_ATTR_MMIO), "... from kernel text or rodata"
 *	(our twin: memory the DMA layer itself owns, such as page-table
 *	pages), "... from stack" (vfio backend).  Never for DMA_ATTR_MMIO.
 * @DML_DMA_DEBUG_SYNC_NOT_ALLOCATED: "device driver tries to sync DMA
 *	memory it has not allocated"
 * @DML_DMA_DEBUG_SYNC_OUTSIDE: "device driver syncs DMA memory outside
 *	allocated range"
 * @DML_DMA_DEBUG_SYNC_WRONG_DIR: "device driver syncs DMA memory with
 *	different direction"
 * @DML_DMA_DEBUG_SYNC_RO_FOR_CPU: "device driver syncs device read-only
 *	DMA memory for cpu"
 * @DML_DMA_DEBUG_SYNC_WO_TO_DEVICE: "device driver syncs device write-only
 *	DMA memory to device"
 * @DML_DMA_DEBUG_SYNC_WRONG_SG_COUNT: "device driver syncs DMA sg list with
 *	different entry count"
 * @DML_DMA_DEBUG_SG_TOO_LONG: "mapping sg segment longer than device claims
 *	to support" (CONFIG_DMA_API_DEBUG_SG)
 * @DML_DMA_DEBUG_SG_BOUNDARY: "mapping sg segment across boundary"
 * @DML_DMA_DEBUG_CACHELINE_OVERLAP: "cacheline tracking EEXIST, overlapping
 *	mappings aren't supported" (two live mappings other than
 *	DMA_TO_DEVICE share a 64-byte cache line; not for DMA_ATTR_MMIO or
 *	DMA_ATTR_SKIP_CPU_SYNC)
 * @DML_DMA_DEBUG_LEAK: "device driver has pending DMA allocations while
 *	released from device" (at dml_device_destroy() or
 *	dml_platform_destroy(); the report lists what is still mapped)
 *
 * The two-step API (no kernel twin; the caller contract of
 * Documentation/core-api/dma-api.rst "Part Ie"):
 * @DML_DMA_DEBUG_IOVA_BAD_STATE: a dma_iova_* call with a state that
 *	dma_iova_try_alloc() did not fill for this device
 * @DML_DMA_DEBUG_IOVA_USE_AFTER_FREE: a dma_iova_* call with a state
 *	already released by dma_iova_free() or dma_iova_destroy(): the
 *	state itself (which the release zeroed) or a copy made before (the
 *	call is then refused and changes nothing)
 * @DML_DMA_DEBUG_IOVA_LINK_OVERLAP: dma_iova_link() over an offset already
 *	linked
 * @DML_DMA_DEBUG_IOVA_LINK_OUTSIDE: dma_iova_link() outside the reserved
 *	size, or of 0 bytes ("device driver links zero bytes of IOVA")
 * @DML_DMA_DEBUG_IOVA_LINK_ALIGN: a link other than the first that does not
 *	start on the merge boundary, or whose granule-rounded footprint
 *	overlaps a neighbour's (the caller contract of dma-api.rst "Part Ie")
 * @DML_DMA_DEBUG_IOVA_SYNC_OUTSIDE: dma_iova_sync() outside the reserved
 *	size, or of 0 bytes
 * @DML_DMA_DEBUG_IOVA_NOT_LINKED: dma_iova_unlink() or dma_iova_destroy()
 *	of a range that is not (all) linked, or an unlink of 0 bytes
 * @DML_DMA_DEBUG_IOVA_SPLIT: dma_iova_unlink() or dma_iova_destroy() of a
 *	range that starts or ends inside a link
 * @DML_DMA_DEBUG_IOVA_FREE_LINKED: dma_iova_free() (or a destroy that does
 *	not cover them) with links outstanding
 * @DML_DMA_DEBUG_IOVA_WRONG_DIR: unlink or destroy with a direction other
 *	than the link's
 *
 * Checked when memory is touched (emulated platform):
 * @DML_DMA_DEBUG_DEV_NOT_MAPPED: the device accesses a DMA address it was
 *	not given (never mapped, or already unmapped)
 * @DML_DMA_DEBUG_DEV_NOT_LINKED: the device accesses reserved IOVA that is
 *	not linked
 * @DML_DMA_DEBUG_DEV_NOT_SYNCED: the device accesses linked IOVA before
 *	dma_iova_sync() covered it
 * @DML_DMA_DEBUG_DEV_WRONG_DIR: the device writes a DMA_TO_DEVICE mapping
 *	or reads a DMA_FROM_DEVICE one
 * @DML_DMA_DEBUG_CPU_DEVICE_OWNED: the CPU maps (dml_kmap_local_phys()) a
 *	DMA_FROM_DEVICE buffer before its unmap or dma_sync_*_for_cpu()
 *
 * PCI peer-to-peer memory (include/linux/pci-p2pdma.h callers; a BAR
 * mapped without DMA_ATTR_MMIO is @DML_DMA_DEBUG_MAP_BAD_MEMORY):
 * @DML_DMA_DEBUG_MMIO_ON_RAM: RAM mapped with DMA_ATTR_MMIO (no cache
 *	maintenance would be done; dma_map_page_attrs() refuses the
 *	attribute and dma_map_resource() refuses RAM)
 * @DML_DMA_DEBUG_P2P_BUS_ADDR_UPSTREAM: the device uses a peer's PCI bus
 *	address that its path no longer routes to the peer (ACS redirect set
 *	after pci_p2pdma_map_type() computed and cached BUS_ADDR): the
 *	request goes up to the root complex, where the IOMMU faults
 * @DML_DMA_DEBUG_P2P_UNMAP_BUS_ADDR: an unmap of a PCI bus address, which
 *	was never mapped (PCI_P2PDMA_MAP_BUS_ADDR)
 * @DML_DMA_DEBUG_CC_PRIVATE_UNACCEPTED: in a confidential guest, private
 *	(encrypted) memory handed without bouncing to a device that is not
 *	accepted into the TVM, e.g. with DMA_ATTR_CC_SHARED (Proposed: the
 *	DMA_ATTR_CC_SHARED series; force_dma_unencrypted())
 * @DML_DMA_DEBUG_CC_SHARED_ADDR_PRIVATE: a shared-encoded (unencrypted)
 *	DMA address given for private memory to an accepted device
 *	(phys_to_dma_unencrypted() of kernel/dma/direct.h on a page that
 *	set_memory_decrypted() never converted)
 * @DML_DMA_DEBUG_CC_LEFT_RUN: a mapping made while the device was
 *	accepted and in TDISP RUN is used (synced or unmapped) after the
 *	device left RUN, which dropped its private mappings (pci-tsm.h)
 *
 * dma-buf (drivers/dma-buf/dma-buf.c: importers must not touch the pages
 * behind an sg table; CONFIG_DMABUF_DEBUG):
 * @DML_DMA_DEBUG_DMABUF_CPU_ACCESS: the CPU maps memory of a dma-buf of
 *	the library's exporters while an importer has it mapped, outside
 *	dma_buf_begin_cpu_access()/dma_buf_end_cpu_access(), dma_buf_vmap()/
 *	dma_buf_vunmap() and the exporter's own code, and no attachment was
 *	granted CPU access (dma_buf_attach_ops.needs_cpu_access); once per
 *	buffer until CPU access is next granted
 * @DML_DMA_DEBUG_CC_PRIVATE_MMIO_CPU: the CPU maps (dml_kmap_local_phys(),
 *	the host's mapping) private MMIO, a memory BAR of a device in TDISP
 *	RUN, which only its TVM reaches (Proposed: the private MMIO series
 *	for TDX Connect; the TDISP chapter of the PCIe 6.x specification)
 * @DML_DMA_DEBUG_NR: number of categories
 */
enum dml_dma_debug_category {
	DML_DMA_DEBUG_FREE_NOT_ALLOCATED,
	DML_DMA_DEBUG_FREE_INVALID_ADDR,
	DML_DMA_DEBUG_FREE_WRONG_SIZE,
	DML_DMA_DEBUG_FREE_WRONG_FUNCTION,
	DML_DMA_DEBUG_FREE_WRONG_CPU_ADDR,
	DML_DMA_DEBUG_FREE_WRONG_SG_COUNT,
	DML_DMA_DEBUG_FREE_WRONG_DIR,
	DML_DMA_DEBUG_MAP_ERROR_NOT_CHECKED,
	DML_DMA_DEBUG_MAP_BAD_MEMORY,
	DML_DMA_DEBUG_SYNC_NOT_ALLOCATED,
	DML_DMA_DEBUG_SYNC_OUTSIDE,
	DML_DMA_DEBUG_SYNC_WRONG_DIR,
	DML_DMA_DEBUG_SYNC_RO_FOR_CPU,
	DML_DMA_DEBUG_SYNC_WO_TO_DEVICE,
	DML_DMA_DEBUG_SYNC_WRONG_SG_COUNT,
	DML_DMA_DEBUG_SG_TOO_LONG,
	DML_DMA_DEBUG_SG_BOUNDARY,
	DML_DMA_DEBUG_CACHELINE_OVERLAP,
	DML_DMA_DEBUG_LEAK,
	DML_DMA_DEBUG_IOVA_BAD_STATE,
	DML_DMA_DEBUG_IOVA_USE_AFTER_FREE,
	DML_DMA_DEBUG_IOVA_LINK_OVERLAP,
	DML_DMA_DEBUG_IOVA_LINK_OUTSIDE,
	DML_DMA_DEBUG_IOVA_LINK_ALIGN,
	DML_DMA_DEBUG_IOVA_SYNC_OUTSIDE,
	DML_DMA_DEBUG_IOVA_NOT_LINKED,
	DML_DMA_DEBUG_IOVA_SPLIT,
	DML_DMA_DEBUG_IOVA_FREE_LINKED,
	DML_DMA_DEBUG_IOVA_WRONG_DIR,
	DML_DMA_DEBUG_DEV_NOT_MAPPED,
	DML_DMA_DEBUG_DEV_NOT_LINKED,
	DML_DMA_DEBUG_DEV_NOT_SYNCED,
	DML_DMA_DEBUG_DEV_WRONG_DIR,
	DML_DMA_DEBUG_CPU_DEVICE_OWNED,
	DML_DMA_DEBUG_MMIO_ON_RAM,
	DML_DMA_DEBUG_P2P_BUS_ADDR_UPSTREAM,
	DML_DMA_DEBUG_P2P_UNMAP_BUS_ADDR,
	DML_DMA_DEBUG_CC_PRIVATE_UNACCEPTED,
	DML_DMA_DEBUG_CC_SHARED_ADDR_PRIVATE,
	DML_DMA_DEBUG_CC_LEFT_RUN,
	DML_DMA_DEBUG_DMABUF_CPU_ACCESS,
	DML_DMA_DEBUG_CC_PRIVATE_MMIO_CPU,
	DML_DMA_DEBUG_NR
};

/* DML_DMA_DEBUG_TRACE_DEPTH - the most frames kept per backtrace */
#define DML_DMA_DEBUG_TRACE_DEPTH 8

/**
 * struct dml_dma_debug_error - one report
 * @category: what it is about
 * @device: name of the device (dml_device_name()), "" if none
 * @addr: the DMA address (IOVA) of the offending call, or the physical
 *	address for @DML_DMA_DEBUG_CPU_DEVICE_OWNED,
 *	@DML_DMA_DEBUG_MAP_BAD_MEMORY and @DML_DMA_DEBUG_CC_PRIVATE_MMIO_CPU
 * @size: bytes of the offending call
 * @message: the report's first line, e.g. "DMA-API: nvme0: device driver
 *	frees DMA memory with different size [device address=...] ..."
 * @call_trace: return addresses of the offending call, innermost first
 *	(glibc backtrace(); resolve with backtrace_symbols())
 * @call_depth: valid entries of @call_trace
 * @map_trace: where the mapping concerned was made, if there is one (for
 *	@DML_DMA_DEBUG_IOVA_USE_AFTER_FREE: where the freed state was
 *	allocated)
 * @map_depth: valid entries of @map_trace (0: no mapping concerned)
 */
struct dml_dma_debug_error {
	enum dml_dma_debug_category category;
	char device[32];
	u64 addr;
	u64 size;
	char message[384];
	void *call_trace[DML_DMA_DEBUG_TRACE_DEPTH];
	unsigned int call_depth;
	void *map_trace[DML_DMA_DEBUG_TRACE_DEPTH];
	unsigned int map_depth;
};

/**
 * dml_dma_debug_enable - turn the checker on or off, process-wide
 * @on: true to check
 *
 * Turning it on starts with nothing tracked: it watches devices created
 * from then on.  Turning it off forgets every mapping and device it
 * tracked (no leak report), keeps the error count and the kept reports.
 * Not to be called while other threads use the DMA API.
 */
void dml_dma_debug_enable(bool on);

/** dml_dma_debug_enabled - whether the checker is on */
bool dml_dma_debug_enabled(void);

/**
 * dml_dma_debug_set_abort - abort() after the first report
 * @on: true for tests and fuzzing: the report is printed (whatever
 *	dml_dma_debug_set_show() says), then the process aborts
 */
void dml_dma_debug_set_abort(bool on);

/**
 * dml_dma_debug_set_trace_depth - frames kept per backtrace
 * @frames: 0 (no backtraces: the checker is then several times cheaper)
 *	to DML_DMA_DEBUG_TRACE_DEPTH; larger values are cut.  The default
 *	is 5, the kernel's DMA_DEBUG_STACKTRACE_ENTRIES.
 *
 * Applies to mappings made and reports issued from then on.
 */
void dml_dma_debug_set_trace_depth(unsigned int frames);

/**
 * dml_dma_debug_set_show - how many of the next reports to print
 * @num_errors: print the next @num_errors reports; -1 prints all of them
 *
 * The kernel's debugfs dma-api/num_errors and all_errors; the default is
 * 1: only the first report is printed (show_num_errors).  Every report is counted
 * and kept whether printed or not.
 */
void dml_dma_debug_set_show(long num_errors);

/**
 * dml_dma_debug_error_count - reports since the start or the last
 * dml_dma_debug_clear_errors() (the kernel's dma-api/error_count)
 */
u64 dml_dma_debug_error_count(void);

/**
 * dml_dma_debug_category_count - reports of @cat since the start or the
 * last dml_dma_debug_clear_errors(); 0 for an unknown @cat
 */
u64 dml_dma_debug_category_count(enum dml_dma_debug_category cat);

/* DML_DMA_DEBUG_KEPT - reports kept for dml_dma_debug_error_get() */
#define DML_DMA_DEBUG_KEPT 1024

/**
 * dml_dma_debug_error_get - read report @idx
 * @idx: 0 is the first report since the last clear; the first
 *	DML_DMA_DEBUG_KEPT are kept
 * @err: out
 * Return: 0; -ENOENT if @idx is not kept; -EINVAL if @err is NULL.
 */
int dml_dma_debug_error_get(u64 idx, struct dml_dma_debug_error *err);

/** dml_dma_debug_clear_errors - zero the counts and drop the kept reports */
void dml_dma_debug_clear_errors(void);

/** dml_dma_debug_category_name - short name of @cat, e.g. "free-wrong-size" */
const char *dml_dma_debug_category_name(enum dml_dma_debug_category cat);

/**
 * dml_dma_debug_mapping_count - mappings the checker tracks for @dev now
 *
 * A dma_map_phys() mapping, a coherent allocation, an IOVA reservation
 * and each of its links count one each; a mapped scatterlist counts one
 * per DMA segment, as in the kernel.  0 when the checker is off or does
 * not watch @dev.
 */
u64 dml_dma_debug_mapping_count(struct dml_device *dev);

/**
 * dml_dma_debug_dump - print what the checker tracks for @dev
 * @dev: device, or NULL for every device
 *
 * The kernel's debug_dma_dump_mappings(): one info-level line per mapping
 * (type, physical and DMA address, size, direction, map-error state).
 * Return: the number of lines printed.
 */
unsigned long dml_dma_debug_dump(struct dml_device *dev);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_DMA_DEBUG_H */
