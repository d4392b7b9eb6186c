/* SPDX-License-Identifier: MIT */
/*
 * blk-mq-dma.h - a minimal block request and the block layer's request DMA
 * iterator (include/linux/blk-mq-dma.h, block/blk-mq-dma.c, Linux 6.17+).
 *
 * Differences from the kernel:
 *  - a bio_vec names a physical range (bv_phys, bv_len) instead of a page
 *    and an offset; phys_addr_t is the backend's memory address;
 *  - a request is a chain of bios plus the queue limits and direction the
 *    kernel reads from req->q and the request's op; dml_blk_rq_init()
 *    checks it the way the kernel's bio splitting guarantees it;
 *  - the choice of the IOVA path uses the request's accumulated gap mask
 *    (the later kernel rule), not the queue's virt boundary;
 *  - every segment of a request must have the map type of the first:
 *    the kernel refuses to build a request that mixes them, dmalink
 *    checks it while mapping and fails with BLK_STS_INVAL;
 *  - a link error of the IOVA path is never lost (the kernel overwrites it
 *    with the sync result); what was linked is destroyed.
 */
#ifndef DMALINK_BLK_MQ_DMA_H
#define DMALINK_BLK_MQ_DMA_H

#include <dmalink/dma-mapping.h>
#include <dmalink/pci-p2pdma.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

/**
 * typedef blk_status_t - block layer status (include/linux/blk_types.h);
 * the names are the kernel's, the values are dmalink's
 */
typedef u8 blk_status_t;
#define BLK_STS_OK		0
#define BLK_STS_NOTSUPP		1
#define BLK_STS_RESOURCE	9
#define BLK_STS_IOERR		10
#define BLK_STS_INVAL		19

/**
 * struct bio_vec - one physically contiguous piece of a bio
 * @bv_phys: physical address of the first byte
 * @bv_len: bytes, > 0
 */
struct bio_vec {
	phys_addr_t bv_phys;
	u32 bv_len;
};

/**
 * struct bio_integrity_payload - a bio's protection information buffer
 * @bip_vec: its pieces
 * @bip_vcnt: entries of @bip_vec
 */
struct bio_integrity_payload {
	struct bio_vec *bip_vec;
	unsigned short bip_vcnt;
};

/**
 * struct bio - one piece of a request's data, as submitted
 * @bi_next: the next bio of the request, NULL for the last
 * @bi_io_vec: the data pieces, in order
 * @bi_vcnt: entries of @bi_io_vec
 * @bi_integrity: the bio's integrity payload, or NULL
 */
struct bio {
	struct bio *bi_next;
	struct bio_vec *bi_io_vec;
	unsigned short bi_vcnt;
	struct bio_integrity_payload *bi_integrity;
};

/**
 * struct queue_limits - the limits of include/linux/blkdev.h that DMA
 * mapping reads
 * @max_segment_size: largest DMA segment, bytes; 0 means 64 KiB (the
 *	kernel's BLK_MAX_SEGMENT_SIZE)
 * @seg_boundary_mask: no segment crosses a multiple of mask + 1; 0 means
 *	none (the kernel's default is ~0)
 * @virt_boundary_mask: pieces after the first start, and pieces before
 *	the last end, on a multiple of mask + 1 (NVMe: controller page - 1);
 *	0 for none
 * @dma_alignment: start and length of every piece are multiples of
 *	alignment + 1 (the kernel's default 511)
 */
struct queue_limits {
	unsigned int max_segment_size;
	unsigned long seg_boundary_mask;
	unsigned long virt_boundary_mask;
	unsigned int dma_alignment;
};

/**
 * struct request - a block request as the DMA iterator sees it
 * @bio: the first bio of the chain
 * @limits: the queue's limits
 * @dir: DMA_TO_DEVICE for a write, DMA_FROM_DEVICE for a read
 * @data_len: payload bytes (set by dml_blk_rq_init())
 * @integrity_len: integrity bytes (set by dml_blk_rq_init())
 * @nr_phys_segments: physical segments of the payload after merging and
 *	splitting (set by dml_blk_rq_init())
 * @nr_integrity_segments: the same for the integrity payload
 * @gap_mask: OR of the end of each segment and the start of the next,
 *	where two segments meet without merging (set by dml_blk_rq_init())
 * @integrity_gap_mask: the same for the integrity payload
 */
struct request {
	struct bio *bio;
	const struct queue_limits *limits;
	enum dma_data_direction dir;
	u32 data_len;
	u32 integrity_len;
	unsigned int nr_phys_segments;
	unsigned int nr_integrity_segments;
	u64 gap_mask;
	u64 integrity_gap_mask;
};

/**
 * dml_blk_rq_init - make a request of a bio chain and check it
 * @rq: the request to fill
 * @lim: the queue's limits (kept by pointer; must outlive @rq)
 * @dir: DMA_TO_DEVICE or DMA_FROM_DEVICE
 * @bio: first bio of the chain; NULL for a request without data (a flush)
 *
 * Counts bytes and physical segments the way blk_rq_map_sg() and the DMA
 * iterator will walk them, and checks what the kernel's bio splitting
 * (block/blk-merge.c) guarantees a driver: every piece non-empty and
 * aligned to @lim->dma_alignment, no gap against @lim->virt_boundary_mask,
 * the totals below 4 GiB.
 * Return: 0; -EINVAL for a NULL @rq or @lim, a bad direction, or a piece
 * that breaks a rule above (then @rq is untouched).
 */
int dml_blk_rq_init(struct request *rq, const struct queue_limits *lim,
		    enum dma_data_direction dir, struct bio *bio);

/**
 * struct blk_map_iter - position in a request's bio chain (internal)
 * @bio: the bio being walked
 * @idx: its piece being walked
 * @done: bytes of that piece already returned
 * @is_integrity: walking the integrity payloads
 */
struct blk_map_iter {
	struct bio *bio;
	unsigned int idx;
	u32 done;
	bool is_integrity;
};

/**
 * struct blk_dma_iter - one DMA segment of a request, and the walk
 * @addr: DMA address of the segment
 * @len: its length, bytes
 * @p2pdma: the P2P map state of the request's memory; its map field is
 *	what blk_rq_dma_unmap() takes
 * @status: BLK_STS_OK, or why the last call returned false
 * @iter: internal
 */
struct blk_dma_iter {
	dma_addr_t addr;
	u32 len;
	struct pci_p2pdma_map_state p2pdma;
	blk_status_t status;
	struct blk_map_iter iter;
};

/**
 * blk_rq_dma_map_iter_start - map a request's payload, first DMA segment
 * @req: from dml_blk_rq_init()
 * @dma_dev: the device that does the DMA
 * @state: caller's IOVA state, needs no initialisation; keep it to unmap
 * @iter: caller's iterator, needs no initialisation
 *
 * Walks the request's physical segments (pieces merged across bios while
 * physically contiguous, split at the queue's max segment size and
 * segment boundary).  Memory a peer-to-peer provider reaches on the bus
 * is returned as bus addresses; otherwise when the request's gap mask has
 * no bit of dma_get_merge_boundary() and dma_iova_try_alloc() succeeds,
 * every segment is linked into one IOVA range, synced, and returned as
 * one segment of the request's length; else each segment goes through
 * dma_map_phys() (DMA_ATTR_MMIO for P2P through the host bridge).
 * Follows blk_rq_dma_map_iter_start() in block/blk-mq-dma.c.
 * Return: true with a segment in @iter->addr/len; false at the end (an
 * empty request) with @iter->status BLK_STS_OK, or on error with
 * BLK_STS_INVAL (P2P the device cannot reach, or a request mixing map
 * types), BLK_STS_RESOURCE (dma_map_phys() failed), or the status of a
 * failed dma_iova_link()/dma_iova_sync() (the IOVA linked so far is
 * destroyed and @state zeroed).  Segments returned before an error stay
 * mapped: the caller unmaps them.
 */
bool blk_rq_dma_map_iter_start(struct request *req, struct dml_device *dma_dev,
			       struct dma_iova_state *state,
			       struct blk_dma_iter *iter);

/**
 * blk_rq_dma_map_iter_next - the next DMA segment of a request
 * @req, @dma_dev, @state, @iter: as given to blk_rq_dma_map_iter_start()
 *
 * Follows blk_rq_dma_map_iter_next() in block/blk-mq-dma.c.
 * Return: as blk_rq_dma_map_iter_start(); always false after the IOVA
 * path, whose one segment covers the request.
 */
bool blk_rq_dma_map_iter_next(struct request *req, struct dml_device *dma_dev,
			      struct dma_iova_state *state,
			      struct blk_dma_iter *iter);

/**
 * blk_rq_integrity_dma_map_iter_start - blk_rq_dma_map_iter_start() for
 * the request's integrity payloads (the bios' bi_integrity pieces)
 * @req, @dma_dev, @state, @iter: as blk_rq_dma_map_iter_start()
 *
 * Follows blk_rq_integrity_dma_map_iter_start() in block/blk-mq-dma.c.
 * Return: as blk_rq_dma_map_iter_start(); the IOVA segment's length is
 * the integrity bytes.
 */
bool blk_rq_integrity_dma_map_iter_start(struct request *req,
					 struct dml_device *dma_dev,
					 struct dma_iova_state *state,
					 struct blk_dma_iter *iter);

/**
 * blk_rq_integrity_dma_map_iter_next - the next integrity DMA segment
 * @req, @dma_dev, @state, @iter: as given to the _start call
 *
 * Follows blk_rq_integrity_dma_map_iter_next() in block/blk-mq-dma.c.
 * Return: as blk_rq_dma_map_iter_next().
 */
bool blk_rq_integrity_dma_map_iter_next(struct request *req,
					struct dml_device *dma_dev,
					struct dma_iova_state *state,
					struct blk_dma_iter *iter);

/**
 * blk_rq_dma_map_coalesce - whether the mapping became one IOVA range
 * @state: as the iterator left it
 *
 * Follows blk_rq_dma_map_coalesce() in include/linux/blk-mq-dma.h.
 * Return: dma_use_iova(@state).
 */
static inline bool blk_rq_dma_map_coalesce(const struct dma_iova_state *state)
{
	return dma_use_iova(state);
}

/**
 * blk_rq_dma_unmap - undo what the iterator mapped, where it can alone
 * @req: the request
 * @dma_dev: the device
 * @state: as the iterator left it
 * @mapped_len: bytes of the IOVA range to destroy (the request's length)
 * @map: @iter->p2pdma.map of the mapping
 *
 * Follows blk_rq_dma_unmap() in include/linux/blk-mq-dma.h (6.19, with
 * the map type).
 * Return: true when nothing is left to do: bus addresses (nothing was
 * mapped), or the IOVA range destroyed (DMA_ATTR_MMIO for P2P through the
 * host bridge); else !dma_need_unmap(@dma_dev): false means the caller
 * must dma_unmap_phys() each segment it was given.
 */
bool blk_rq_dma_unmap(struct request *req, struct dml_device *dma_dev,
		      struct dma_iova_state *state, size_t mapped_len,
		      enum pci_p2pdma_map_type map);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_BLK_MQ_DMA_H */
