/* SPDX-License-Identifier: MIT */
/*
 * dmalink/dma-buf-exporter.h - ready exporters of host and device memory
 * as dma-bufs (dmalink/dma-buf.h), each modelled on a kernel exporter:
 *
 *  - the system heap (drivers/dma-buf/heaps/system_heap.c): RAM with a
 *    memmap, page by page from a layout allocator, mapped through a
 *    classic sg table of pages;
 *  - its decrypted twin for a confidential guest (dmalink/cc.h): the same
 *    pages converted to shared, for devices not accepted into the TVM;
 *  - RAM without a memmap (mem=, CXL): a range the caller owns, with no
 *    struct page, so its sg tables carry DMA addresses only;
 *  - device memory (the GPU drivers' VRAM buffers, drivers/gpu/drm/ttm):
 *    a buffer in a BAR that the exporter migrates to system memory and
 *    back; a move invalidates every importer, which maps again and finds
 *    the same bytes in the new place.
 *
 * All offer the proposed mapping types PAL first, then SGT (device memory
 * also SGT_P2P while the importer takes peer memory); CPU access goes
 * through dma_buf_begin_cpu_access()/dma_buf_end_cpu_access() and
 * dma_buf_mmap() (a CPU pointer to pages that are contiguous).
 */
#ifndef DMALINK_DMA_BUF_EXPORTER_H
#define DMALINK_DMA_BUF_EXPORTER_H

#include <dmalink/dma-buf.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/**
 * dml_system_heap_alloc - a dma-buf of @len bytes of RAM with a memmap
 * from the platform's first RAM region, laid out by @layout
 * (drivers/dma-buf/heaps/system_heap.c: system_heap_allocate)
 * @p: an emulated platform
 * @layout: a dml_layout_create() policy ("4k-random", "4k-descending",
 *	"thp"); NULL for "4k-descending"
 * @len: bytes, rounded up to 4 KiB pages, below 4 GiB
 * @out: the buffer (dma_buf_put() frees the pages)
 *
 * Static importers map it through an sg
 * table of its pages (dma_map_sgtable for attach->dev; pinned while
 * mapped); begin/end_cpu_access sync every mapped table for a
 * non-coherent device (dma_sync_sgtable_for_cpu/_for_device).
 * Return: 0; -EINVAL for NULL arguments, @len 0 or past 4 GiB, an unknown
 * @layout or a platform that is not emulated; -ENOMEM.
 */
int dml_system_heap_alloc(struct dml_platform *p, const char *layout,
			  size_t len, struct dma_buf **out);

/**
 * dml_system_cc_decrypted_heap_alloc - a dma-buf of @len bytes of shared
 * (decrypted) RAM of a confidential guest, for devices that cannot DMA
 * to private memory (not accepted into the TVM)
 * @p: an emulated platform made a confidential guest by
 *	dml_cc_platform_init()
 * @layout: as dml_system_heap_alloc()
 * @len: bytes, rounded up to 4 KiB pages, below 4 GiB
 * @out: the buffer (dma_buf_put() converts the pages back and frees them)
 *
 * The system heap's pages, converted with set_memory_decrypted() before
 * the buffer is returned (so they read as zeros) and with
 * set_memory_encrypted(), which scrubs them, at release; pages that fail
 * to convert back are leaked rather than reused as private memory.
 * Importers get an sg table of the pages mapped with DMA_ATTR_CC_SHARED:
 * direct, in the unencrypted encoding (phys_to_dma_unencrypted()), never
 * bounced through swiotlb, for accepted devices and others alike.  Only
 * SGT is offered (a physical address list carries no encryption state),
 * so an importer that takes PAL only cannot attach (-EOPNOTSUPP).  CPU
 * access as dml_system_heap_alloc(), through the shared mapping
 * (pgprot_decrypted() in the kernel).
 * Proposed: Jiri Pirko's "dma-buf: heaps: system: add system_cc_decrypted
 * heap for explicitly decrypted memory" (v3, March 2026, with
 * DMA_ATTR_CC_DECRYPTED; renamed system_cc_shared with DMA_ATTR_CC_SHARED
 * in v5); drivers/dma-buf/heaps/system_heap.c.
 * Return: 0; -ENODEV if @p is not a confidential guest
 * (!cc_platform_has(CC_ATTR_GUEST_MEM_ENCRYPT): the kernel does not
 * register the heap there); -EINVAL and -ENOMEM as dml_system_heap_alloc().
 */
int dml_system_cc_decrypted_heap_alloc(struct dml_platform *p,
				       const char *layout, size_t len,
				       struct dma_buf **out);

/**
 * dml_ram_dma_buf_export - export RAM the caller owns and that has no
 * struct page (added with DML_RAM_NO_MEMMAP; RAM with a memmap works too)
 * @p: an emulated platform
 * @phys: emulated physical start, 4 KiB aligned
 * @len: bytes, a multiple of 4 KiB
 * @out: the buffer; the memory stays the caller's
 *
 * SGT mappings are built from the range with dma_map_phys() or one IOVA
 * link (as dma_buf_phys_vec_to_sgt() does for MMIO), never with pages.
 * Return: 0; -EINVAL for NULL arguments, a range that is not aligned, is
 * empty or is not all in one RAM region; -ENOMEM.
 */
int dml_ram_dma_buf_export(struct dml_platform *p, phys_addr_t phys,
			   size_t len, struct dma_buf **out);

/**
 * dml_vram_dma_buf_export - export @len bytes of a device's memory (its
 * BAR @bar from @offset on) as a buffer the exporter may migrate to
 * system memory and back, as GPU drivers do with VRAM buffers
 * (drivers/gpu/drm/ttm; drivers/dma-buf/dma-buf.c: dynamic importers)
 * @pdev: the device, with pcim_p2pdma_init() done
 * @bar: the BAR holding the memory
 * @offset: bytes into the BAR, 4 KiB aligned
 * @len: bytes, a multiple of 4 KiB
 * @out: the buffer, in device memory
 *
 * An importer that cannot reach device memory (no peer2peer, or a P2P
 * path the topology does not support) makes the exporter migrate the
 * buffer to system memory at attach, and keeps it there while attached
 * ("either maps P2P, migrates to system memory, or rejects").  A static
 * or pinned importer keeps it where it is.
 * Return: 0; -EINVAL for NULL arguments, a BAR that is not P2P memory, a
 * range not aligned, empty or past the BAR; -ENOMEM.
 */
int dml_vram_dma_buf_export(struct dml_pci_dev *pdev, u32 bar, u64 offset,
			    size_t len, struct dma_buf **out);

/**
 * dml_vram_dma_buf_migrate - move the buffer to device memory (@to_vram)
 * or to system memory: under the reservation lock, invalidate every
 * importer's mappings (dma_buf_invalidate_mappings), wait for every
 * fence (DMA_RESV_USAGE_BOOKKEEP), copy the bytes, switch; importers map
 * again and find the same bytes (drivers/gpu/drm/ttm/ttm_bo.c:
 * ttm_bo_handle_move_mem, with move_notify)
 * @dmabuf: a buffer of dml_vram_dma_buf_export()
 * @to_vram: the destination
 *
 * Moving to where the buffer is does nothing.
 * Return: 0; -EINVAL for a NULL @dmabuf or another exporter's buffer;
 * -EBUSY while an importer holds a pin, or (to device memory) while an
 * importer that cannot reach it is attached; -ENOMEM when system memory
 * runs out (the buffer stays where it was).
 */
int dml_vram_dma_buf_migrate(struct dma_buf *dmabuf, bool to_vram);

/**
 * dml_vram_dma_buf_in_vram - whether the buffer is in device memory now
 * @dmabuf: a buffer of dml_vram_dma_buf_export()
 *
 * Return: true in device memory; false in system memory or for another
 * exporter's buffer.
 */
bool dml_vram_dma_buf_in_vram(struct dma_buf *dmabuf);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_DMA_BUF_EXPORTER_H */
