/* SPDX-License-Identifier: MIT */
/*
 * sg-map.h - nvme-pci's scatterlist data mapping of Linux 6.16 and before
 * (sg-map.c), beside the iterator's of pci-map.h and with its pools.
 */
#ifndef DML_NVME_SG_MAP_H
#define DML_NVME_SG_MAP_H

#include <dmalink/scatterlist.h>

#include "nvme/pci-map.h"

/* per-command state of the scatterlist path (6.16 struct nvme_iod) */
struct dml_nvme_sg_iod {
	struct request *req;
	struct sg_table sgt;
	bool mapped;			/* dma_map_sgtable() succeeded */
	bool sgl;			/* the data pointer is an SGL */
	bool small;			/* the first list is from the small pool */
	u32 desc_bytes;			/* PRP or SGL list bytes built */
	unsigned int nr_descriptors;
	void *descriptors[DML_NVME_MAX_DESCS];
	dma_addr_t descriptor_dma[DML_NVME_MAX_DESCS];
};

/*
 * dml__nvme_map_sg - map @req's data through a scatterlist and fill
 * @cmd's data pointer: SGLs when @ctx's policy says so (the average of
 * the request's segments against the threshold, as 6.16
 * nvme_pci_use_sgls()), else PRPs walked from the mapped list.
 * Return: BLK_STS_OK; BLK_STS_INVAL for bad arguments or P2P the device
 * cannot reach; BLK_STS_RESOURCE when memory, a mapping or a descriptor
 * cannot be had; BLK_STS_IOERR for a list PRPs cannot describe (a DMA
 * segment after the first not starting on, or a middle one not ending on,
 * a controller page), more than one SGL page of segments, or more than
 * DML_NVME_MAX_DESCS lists.  On error nothing stays mapped.
 */
blk_status_t dml__nvme_map_sg(struct dml_nvme_map_ctx *ctx, struct dml_nvme_sg_iod *iod,
			      struct request *req, struct nvme_command *cmd);

/* dml__nvme_unmap_sg - undo dml__nvme_map_sg() that returned OK */
void dml__nvme_unmap_sg(struct dml_nvme_map_ctx *ctx, struct dml_nvme_sg_iod *iod);

#endif /* DML_NVME_SG_MAP_H */
