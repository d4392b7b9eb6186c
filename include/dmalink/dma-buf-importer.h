/* SPDX-License-Identifier: MIT */
/*
 * dmalink/dma-buf-importer.h - three ready importers of a dma-buf
 * (dmalink/dma-buf.h), each modelled on a kernel user of the API:
 *
 *  - RDMA_MR: a dynamic, revocable importer like an RDMA memory region
 *    over a dma-buf (drivers/infiniband/core/umem_dmabuf.c): it
 *    negotiates PAL, SGT_P2P or SGT, maps a PAL itself with the two-step
 *    API, drops its mapping when invalidated and maps again on its next
 *    use, as an ODP memory region faults it back in;
 *  - IOMMUFD: like iommufd's IOMMU_IOAS_MAP_FILE of a VFIO dma-buf
 *    (drivers/iommu/iommufd/pages.c, 6.19 and the 7.1 revoke series): it
 *    pins, takes exactly one physical range through PAL and maps it at an
 *    IOVA it reserved once; a revoke unmaps it and nothing maps it again
 *    until its owner asks (dml_dma_buf_importer_map());
 *  - STATIC: a classic static importer (dma_buf_attach): SGT only, the
 *    buffer pinned for as long as it is mapped; it cannot be revoked.
 *
 * The importer's device reaches the buffer only through the DMA
 * addresses dml_dma_buf_importer_dma() gives; no importer gets a CPU
 * pointer (dmalink/dma-buf.h: CPU access goes through the exporter).
 */
#ifndef DMALINK_DMA_BUF_IMPORTER_H
#define DMALINK_DMA_BUF_IMPORTER_H

#include <dmalink/dma-buf.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct dml_dma_buf_importer;

/**
 * enum dml_dma_buf_importer_type - which kernel importer to behave as
 * @DML_DMA_BUF_IMPORTER_RDMA_MR: dynamic, revocable, PAL with the
 *	two-step API, remaps on its next use after an invalidation
 * @DML_DMA_BUF_IMPORTER_IOMMUFD: pinned, one range at a fixed IOVA,
 *	revoked without automatic remap
 * @DML_DMA_BUF_IMPORTER_STATIC: static attachment, pinned while mapped
 */
enum dml_dma_buf_importer_type {
	DML_DMA_BUF_IMPORTER_RDMA_MR,
	DML_DMA_BUF_IMPORTER_IOMMUFD,
	DML_DMA_BUF_IMPORTER_STATIC,
};

/**
 * dml_dma_buf_import - attach @dev to @dmabuf as an importer of @type
 * and map the buffer for it in direction @dir
 * (drivers/infiniband/core/umem_dmabuf.c: ib_umem_dmabuf_get;
 * drivers/iommu/iommufd/pages.c: iopt_map_dmabuf; the classic static
 * importer of drivers/dma-buf/dma-buf.c)
 * @dmabuf: the buffer; the importer holds a reference until destroyed
 * @dev: the importer's device
 * @type: which importer
 * @dir: DMA direction of every mapping, not DMA_NONE
 * @out: the importer
 *
 * RDMA_MR attaches with the mapping types PAL, SGT_P2P and SGT (the
 * exporter picks; proposed: dma-buf mapping types RFC, Feb 2026) and
 * invalidate_mappings.  IOMMUFD attaches for PAL only, with
 * invalidate_mappings, pins (dma_buf_pin), and needs an IOMMU and a
 * buffer of one range.  STATIC uses dma_buf_attach().
 * Return: 0; -EINVAL for NULL arguments, an unknown @type or a bad
 * @dir, or peer memory @dev cannot reach (PCI_P2PDMA_MAP_NOT_SUPPORTED);
 * -EOPNOTSUPP when the exporter refuses the attachment or offers no type
 * the importer takes, or (IOMMUFD) the buffer has more than one range or
 * @dev does not reach it through an IOMMU (no IOMMU, or a peer reached
 * by bus address); -ENODEV while the buffer is revoked; the exporter's
 * or the DMA API's mapping error; -ENOMEM.  Nothing stays attached on
 * error.
 */
int dml_dma_buf_import(struct dma_buf *dmabuf, struct dml_device *dev,
		       enum dml_dma_buf_importer_type type,
		       enum dma_data_direction dir,
		       struct dml_dma_buf_importer **out);

/**
 * dml_dma_buf_importer_destroy - unmap, unpin, detach and drop the
 * reference (ib_umem_dmabuf_release; iopt_unmap_dmabuf)
 * @imp: the importer, or NULL
 */
void dml_dma_buf_importer_destroy(struct dml_dma_buf_importer *imp);

/**
 * dml_dma_buf_importer_map - map the buffer again if an invalidation or
 * a revoke dropped the mapping; nothing if it is mapped (RDMA: the ODP
 * page fault, ib_umem_dmabuf_map_pages; IOMMUFD: the VMM mapping the
 * file again after a reset)
 * @imp: the importer
 *
 * IOMMUFD maps at the IOVA it had before.
 * Return: 0; -EINVAL for a NULL @imp; -ENODEV while the buffer is
 * revoked; the exporter's or the DMA API's mapping error.
 */
int dml_dma_buf_importer_map(struct dml_dma_buf_importer *imp);

/**
 * dml_dma_buf_importer_dma - the DMA address the device uses for byte
 * @offset of the buffer
 * @imp: the importer
 * @offset: bytes into the buffer
 * @dma: the DMA address
 * @len: bytes from @offset on that are contiguous in DMA space
 *
 * RDMA_MR maps first when invalidated (dml_dma_buf_importer_map()); the
 * others do not.  The address is good until the next invalidation: an
 * access after it faults in the IOMMU.
 * Return: 0; -EINVAL for NULL arguments or @offset past the buffer;
 * -ENOENT when unmapped (IOMMUFD after a revoke); -ENODEV (RDMA_MR)
 * while the buffer is revoked; a mapping error.
 */
int dml_dma_buf_importer_dma(struct dml_dma_buf_importer *imp, u64 offset,
			     dma_addr_t *dma, u64 *len);

/**
 * dml_dma_buf_importer_mapped - whether the importer holds a mapping now
 * @imp: the importer
 *
 * Return: false for NULL, after an invalidation, before a remap.
 */
bool dml_dma_buf_importer_mapped(struct dml_dma_buf_importer *imp);

/**
 * dml_dma_buf_importer_attachment - the importer's attachment, to read
 * its negotiated map_type and peer2peer
 * @imp: the importer
 *
 * Return: the attachment; NULL for a NULL @imp.
 */
struct dma_buf_attachment *
dml_dma_buf_importer_attachment(struct dml_dma_buf_importer *imp);

/**
 * dml_dma_buf_importer_invalidations - how many times the exporter
 * invalidated this importer's mappings (moves, revokes, re-enables)
 * @imp: the importer
 *
 * Return: the count; 0 for NULL.
 */
u64 dml_dma_buf_importer_invalidations(struct dml_dma_buf_importer *imp);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_DMA_BUF_IMPORTER_H */
