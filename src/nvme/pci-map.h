/* SPDX-License-Identifier: MIT */
/*
 * pci-map.h - nvme-pci's data mapping (drivers/nvme/host/pci.c,
 * nvme_map_data() and nvme_unmap_data(), Linux 6.17+): a block request
 * becomes the data pointer of an NVMe command, PRPs or SGLs, on top of the
 * request DMA iterator.  The driver (queue.c) and `dmalink replay --device
 * nvme` call it; the emulated controller walks what it builds.
 */
#ifndef DML_NVME_PCI_MAP_H
#define DML_NVME_PCI_MAP_H

#include <dmalink/blk-mq-dma.h>
#include <dmalink/dmapool.h>

#include "nvme/spec.h"

/* descriptor pools (pci.c NVME_SMALL_POOL_SIZE and one controller page) */
#define DML_NVME_SMALL_POOL_SIZE 256
#define DML_NVME_PRPS_PER_PAGE (NVME_CTRL_PAGE_SIZE / 8)	/* 512 */
#define DML_NVME_SGLS_PER_PAGE (NVME_CTRL_PAGE_SIZE / 16)	/* 256 */
/* descriptor pages one command may chain: 8 x 511 PRPs, about 16 MiB */
#define DML_NVME_MAX_DESCS 8
/* the kernel's sgl_threshold module parameter default, bytes */
#define DML_NVME_SGL_THRESHOLD 32768

/* when data goes as SGLs: auto follows the kernel, the others force */
enum dml_nvme_sgl_policy {
	DML_NVME_SGL_AUTO,	/* SGL if supported and average segment >= threshold */
	DML_NVME_SGL_ALWAYS,	/* SGL whenever the controller supports them */
	DML_NVME_SGL_NEVER,	/* PRP only */
};

/*
 * struct dml_nvme_map_ctx - what a controller's I/O queues share for data
 * mapping: the DMA device, the descriptor pools, the SGL choice.
 * Set up with dml__nvme_map_ctx_init(), torn down with _fini().
 */
struct dml_nvme_map_ctx {
	struct dml_device *dev;
	struct dma_pool *small_pool;	/* 256 B: 32 PRPs or 16 SGL descriptors */
	struct dma_pool *large_pool;	/* one controller page */
	bool sgl_supported;		/* Identify Controller SGLS != 0 */
	bool meta_sgl_supported;	/* SGLS bit 19: metadata as an SGL */
	enum dml_nvme_sgl_policy sgl;
	u32 sgl_threshold;		/* bytes; 0 turns SGLs off in auto mode */
};

/* struct dml_nvme_dma_vec - one segment to unmap (pci.c struct dma_vec) */
struct dml_nvme_dma_vec {
	dma_addr_t addr;
	u32 len;
};

#define DML_IOD_SINGLE_SEGMENT	(1u << 0)	/* one dma_map_phys(), no iterator */
#define DML_IOD_SMALL_DESCRIPTOR (1u << 1)	/* the one list is from the small pool */
#define DML_IOD_SGL		(1u << 2)
#define DML_IOD_META		(1u << 3)	/* metadata mapped */

/*
 * struct dml_nvme_iod - per-command mapping state (pci.c struct nvme_iod):
 * everything dml__nvme_unmap_data() needs.  dml__nvme_map_data() zeroes
 * every field but the descriptor slots past @nr_descriptors, which are
 * never read.
 */
struct dml_nvme_iod {
	struct request *req;
	unsigned int flags;		/* DML_IOD_* */
	enum pci_p2pdma_map_type map;	/* of the data, for the unmap */
	u32 total_len;			/* bytes described to the controller */
	struct dma_iova_state dma_state;
	unsigned int nr_descriptors;
	void *descriptors[DML_NVME_MAX_DESCS];
	dma_addr_t descriptor_dma[DML_NVME_MAX_DESCS];
	struct dml_nvme_dma_vec *dma_vecs;	/* NULL when nothing per segment */
	unsigned int nr_dma_vecs;
	dma_addr_t single_dma;		/* DML_IOD_SINGLE_SEGMENT */
	/* metadata: MPTR's one segment, or an SGL list from the small pool */
	struct dma_iova_state meta_state;
	enum pci_p2pdma_map_type meta_map;
	dma_addr_t meta_dma;		/* the one segment (no list) */
	u32 meta_total;			/* bytes */
	struct nvme_sgl_desc *meta_list;	/* [0] the segment descriptor */
	dma_addr_t meta_list_dma;
	unsigned int meta_nr;		/* data descriptors in meta_list */
};

/*
 * dml__nvme_map_ctx_init - create the two descriptor pools for @dev
 * Return: 0; -EINVAL for a NULL argument; -ENOMEM.
 */
int dml__nvme_map_ctx_init(struct dml_nvme_map_ctx *ctx, struct dml_device *dev,
			   bool sgl_supported, enum dml_nvme_sgl_policy sgl);

/* dml__nvme_map_ctx_fini - destroy the pools; every iod must be unmapped */
void dml__nvme_map_ctx_fini(struct dml_nvme_map_ctx *ctx);

/*
 * dml__nvme_desc_alloc - a descriptor page for a command's PRP or SGL
 * list (nvme_pci_setup_prps(), nvme_pci_setup_sgls()): from the small
 * pool when @small, else the large one, recorded in slot (*@nr)++ of @va
 * and @dmas (DML_NVME_MAX_DESCS slots).  Return: the page and its bus
 * address in *@dma; NULL and *@st = BLK_STS_IOERR when the slots are
 * full, BLK_STS_RESOURCE without memory.
 */
void *dml__nvme_desc_alloc(struct dml_nvme_map_ctx *ctx, unsigned int *nr,
			   void **va, dma_addr_t *dmas, bool small,
			   dma_addr_t *dma, blk_status_t *st);

/* dml__nvme_desc_free - give back @nr pages; the first from the small pool when @small */
void dml__nvme_desc_free(struct dml_nvme_map_ctx *ctx, unsigned int nr,
			 void *const *va, const dma_addr_t *dmas, bool small);

/*
 * dml__nvme_map_data - map @req's data and fill @cmd's data pointer
 * @ctx: the controller's mapping context
 * @iod: per-command state, kept until dml__nvme_unmap_data()
 * @req: a request from dml_blk_rq_init() with data (data_len > 0)
 * @cmd: the command: dptr and the PSDT bits of flags are written
 *
 * Follows nvme_map_data() in drivers/nvme/host/pci.c: one physical
 * segment of host memory takes the simple path (one dma_map_phys(); PRP1
 * and PRP2 when it spans at most two controller pages, else one inline SGL
 * data descriptor if SGLs may be used); otherwise the request DMA
 * iterator, then SGLs when forced, or allowed and the average segment is
 * at least @ctx->sgl_threshold, else PRPs.
 * PRPs: PRP1 the first address (the only one that may be unaligned), PRP2
 * the second page or a PRP list (small pool up to 32 entries), lists
 * chained at 512 entries with the last entry moved to the next list.
 * SGLs: one inline data descriptor for one segment or an IOVA range, else
 * a list (small pool up to 16) and a last-segment descriptor.
 * Metadata (the request's integrity payload, nvme_map_metadata()): one
 * segment goes in MPTR; several, when the data went as SGLs and
 * @ctx->meta_sgl_supported, as a metadata SGL from the small pool whose
 * first descriptor is the last-segment descriptor of the rest (PSDT 10b).
 * Return: BLK_STS_OK; BLK_STS_INVAL for bad arguments or P2P the device
 * cannot reach; BLK_STS_RESOURCE when a mapping or a descriptor page
 * cannot be had; BLK_STS_IOERR for a malformed request (a segment after
 * the first not starting on, or a middle one not ending on, a controller
 * page for PRPs; more segments than the request counted, or than one SGL
 * page holds; more than DML_NVME_MAX_DESCS lists; metadata in several
 * segments that may not go as an SGL, or more than 15).  On error everything
 * mapped is unmapped and every descriptor freed.
 */
blk_status_t dml__nvme_map_data(struct dml_nvme_map_ctx *ctx,
				struct dml_nvme_iod *iod, struct request *req,
				struct nvme_command *cmd);

/*
 * dml__nvme_unmap_data - undo dml__nvme_map_data() that returned OK
 * (nvme_unmap_data() in drivers/nvme/host/pci.c): the single mapping, or
 * the IOVA range, or nothing for bus addresses, or each segment recorded;
 * then the descriptor lists; the metadata likewise (its SGL list walked,
 * as nvme_unmap_metadata() does).
 */
void dml__nvme_unmap_data(struct dml_nvme_map_ctx *ctx, struct dml_nvme_iod *iod);

#endif /* DML_NVME_PCI_MAP_H */
