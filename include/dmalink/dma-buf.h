/* SPDX-License-Identifier: MIT */
/*
 * dmalink/dma-buf.h - the kernel's dma-buf sharing model with its names
 * and semantics (include/linux/dma-buf.h, drivers/dma-buf/dma-buf.c,
 * Linux 6.19 with the 7.1 renames): an exporter wraps memory it owns in
 * a dma_buf; importers attach their device and ask for the buffer mapped
 * for it; the exporter does that DMA mapping, for attach->dev, and may
 * move or revoke the memory, telling dynamic importers through
 * invalidate_mappings, with the reservation object (dmalink/dma-resv.h)
 * ordering it all.
 *
 * Differences from the kernel:
 *  - a handle takes the place of the file descriptor: dma_buf_get() takes
 *    a reference to a dma_buf, dma_buf_put() drops it;
 *  - calls that return a pointer or ERR_PTR() in the kernel return 0 or
 *    -errno here and the pointer through their last argument;
 *  - where the kernel asserts the reservation lock with lockdep, a call
 *    without it held warns and returns -EINVAL, changing nothing.
 */
#ifndef DMALINK_DMA_BUF_H
#define DMALINK_DMA_BUF_H

#include <dmalink/dma-mapping.h>
#include <dmalink/dma-resv.h>
#include <dmalink/pci-p2pdma.h>
#include <dmalink/scatterlist.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

struct dma_buf;
struct dma_buf_attachment;

/**
 * enum dma_buf_mapping_type - how an exporter hands its memory to an
 * importer.  Proposed: the dma-buf mapping types RFC (Jason Gunthorpe,
 * Feb 2026); without negotiation every attachment is SGT.
 * @DMA_BUF_MAPPING_NONE: not negotiated (0)
 * @DMA_BUF_MAPPING_SGT: the classic sg table of DMA addresses for
 *	attach->dev, host memory only
 * @DMA_BUF_MAPPING_SGT_P2P: the same, possibly of peer memory without
 *	struct pages (sets attach->peer2peer)
 * @DMA_BUF_MAPPING_PAL: a physical address list with its P2P provider
 *	(dma_buf_map_phys()); the importer maps it itself
 * @DMA_BUF_MAPPING_PAL_PRIVATE: a PAL of private MMIO, the BAR of a device
 *	in TDISP RUN (dmalink/cc.h), offered only to importers accepted into
 *	the same TVM, which map it with the encrypted encoding; no importer
 *	may CPU-map it (host-unaccessible).  Proposed: the private MMIO
 *	series for TDX Connect (Xu Yilun, 2025; KVM imports VFIO's dma-buf
 *	with its PFNs and a private flag), on the mapping types RFC
 */
enum dma_buf_mapping_type {
	DMA_BUF_MAPPING_NONE = 0,
	DMA_BUF_MAPPING_SGT,
	DMA_BUF_MAPPING_SGT_P2P,
	DMA_BUF_MAPPING_PAL,
	DMA_BUF_MAPPING_PAL_PRIVATE,
};

/**
 * struct phys_vec - one physical range (include/linux/dma-buf.h, 6.19,
 * renamed from dma_buf_phys_vec)
 * @paddr: CPU physical address (emu: emulated physical address)
 * @len: bytes
 */
struct phys_vec {
	phys_addr_t paddr;
	size_t len;
};

/**
 * struct dma_buf_phys_list - what a PAL exporter's map_phys returns.
 * Proposed: the dma-buf mapping types RFC (Feb 2026).
 * @provider: the P2P provider of every range, NULL for host memory
 * @length: bytes of all ranges together
 * @nr_ranges: entries of @phys
 * @phys: the ranges
 */
struct dma_buf_phys_list {
	struct p2pdma_provider *provider;
	size_t length;
	size_t nr_ranges;
	struct phys_vec *phys;
};

/**
 * struct dma_buf_ops - what an exporter implements (include/linux/dma-buf.h)
 * @attach: optional; may reject the attachment with -errno (e.g.
 *	-EOPNOTSUPP when the importer cannot take peer memory)
 * @detach: optional; undoes @attach
 * @pin: optional; keep the memory where it is until @unpin (called with
 *	the reservation lock held)
 * @unpin: undoes @pin; required with @pin
 * @map_dma_buf: required; an sg table of DMA addresses for attach->dev,
 *	with the reservation lock held; 0 or -errno (-ENODEV once revoked)
 * @unmap_dma_buf: required; undoes @map_dma_buf
 * @release: required; the last reference is gone
 * @match_mapping: optional, Proposed (mapping types RFC, Feb 2026):
 *	call dma_buf_match_mapping() with the exporter's own types in
 *	priority order; without it an exporter offers SGT only
 * @map_phys: Proposed (same RFC): the ranges of a PAL attachment, with
 *	the lock held; 0 or -errno (-ENODEV once revoked)
 * @unmap_phys: Proposed (same RFC): optional; release what @map_phys
 *	returned (exporters whose list lives with the buffer need none)
 * @begin_cpu_access: optional; before the CPU touches the memory
 *	(cache maintenance for non-coherent devices, migration)
 * @end_cpu_access: optional; after it
 * @mmap: optional; a CPU pointer to @len bytes at page @pgoff (the
 *	kernel maps a VMA); without it dma_buf_mmap() fails
 * @vmap: optional; a CPU pointer to the whole buffer, with the lock held
 * @vunmap: optional; releases what @vmap returned
 * @grants_cpu_access: Proposed (the CPU-access capability discussed with
 *	the dma-buf revoke and mapping-types work, 2026; nothing merged): the
 *	exporter lets an importer that asks at attach touch the memory with
 *	the CPU directly; without it such an attachment fails
 */
struct dma_buf_ops {
	int (*attach)(struct dma_buf *dmabuf, struct dma_buf_attachment *attach);
	void (*detach)(struct dma_buf *dmabuf, struct dma_buf_attachment *attach);
	int (*pin)(struct dma_buf_attachment *attach);
	void (*unpin)(struct dma_buf_attachment *attach);
	int (*map_dma_buf)(struct dma_buf_attachment *attach,
			   enum dma_data_direction dir, struct sg_table **out);
	void (*unmap_dma_buf)(struct dma_buf_attachment *attach,
			      struct sg_table *sgt, enum dma_data_direction dir);
	void (*release)(struct dma_buf *dmabuf);
	int (*match_mapping)(struct dma_buf_attachment *attach,
			     const enum dma_buf_mapping_type *imp, size_t imp_len);
	int (*map_phys)(struct dma_buf_attachment *attach,
			struct dma_buf_phys_list **out);
	void (*unmap_phys)(struct dma_buf_attachment *attach,
			   struct dma_buf_phys_list *list);
	int (*begin_cpu_access)(struct dma_buf *dmabuf,
				enum dma_data_direction dir);
	int (*end_cpu_access)(struct dma_buf *dmabuf,
			      enum dma_data_direction dir);
	int (*mmap)(struct dma_buf *dmabuf, size_t pgoff, size_t len,
		    void **addr);
	int (*vmap)(struct dma_buf *dmabuf, void **vaddr);
	void (*vunmap)(struct dma_buf *dmabuf, void *vaddr);
	bool grants_cpu_access;
};

/**
 * struct dma_buf - a shared buffer (include/linux/dma-buf.h); read-only
 * for everyone but the core
 * @size: bytes
 * @ops: the exporter's operations
 * @priv: the exporter's private data
 * @resv: the reservation object: the exporter's, or one the core made
 */
struct dma_buf {
	size_t size;
	const struct dma_buf_ops *ops;
	void *priv;
	struct dma_resv *resv;
};

/**
 * struct dma_buf_export_info - what dma_buf_export() needs
 * (include/linux/dma-buf.h)
 * @ops: the exporter's operations
 * @size: bytes, not 0
 * @priv: stored in dma_buf->priv
 * @resv: a reservation object to share, or NULL for a new one that the
 *	buffer owns
 */
struct dma_buf_export_info {
	const struct dma_buf_ops *ops;
	size_t size;
	void *priv;
	struct dma_resv *resv;
};

/**
 * struct dma_buf_attach_ops - what a dynamic importer implements
 * (include/linux/dma-buf.h)
 * @allow_peer2peer: the importer handles peer memory without struct
 *	pages (copied into attach->peer2peer)
 * @invalidate_mappings: the exporter moves or revokes the memory: drop
 *	every mapping of this attachment before further DMA (called with
 *	the reservation lock held).  NULL: the importer cannot, so it is not
 *	revocable.  Named move_notify before 7.1; both names are the same
 *	member here.
 * @needs_cpu_access: Proposed (see dma_buf_ops.grants_cpu_access): the
 *	importer will touch the memory with the CPU, not only through
 *	begin/end_cpu_access, vmap or mmap; the attachment fails with
 *	-EOPNOTSUPP unless the exporter grants it
 */
struct dma_buf_attach_ops {
	bool allow_peer2peer;
	union {
		void (*invalidate_mappings)(struct dma_buf_attachment *attach);
		void (*move_notify)(struct dma_buf_attachment *attach);
	};
	bool needs_cpu_access;
};

/**
 * struct dma_buf_attachment - one device's attachment to a buffer
 * (include/linux/dma-buf.h)
 * @dmabuf: the buffer
 * @dev: the importer's device, for which the exporter maps
 * @peer2peer: the importer can take peer memory (dynamic importers only)
 * @importer_ops: NULL for a static importer
 * @importer_priv: the importer's private data
 * @priv: the exporter's private data
 * @map_type: Proposed (mapping types RFC): the negotiated type; SGT for
 *	an attachment made without negotiation
 * @__next: private: the buffer's list of attachments
 * @__maps: private: mappings made and not unmapped
 */
struct dma_buf_attachment {
	struct dma_buf *dmabuf;
	struct dml_device *dev;
	bool peer2peer;
	const struct dma_buf_attach_ops *importer_ops;
	void *importer_priv;
	void *priv;
	enum dma_buf_mapping_type map_type;
	struct dma_buf_attachment *__next;
	unsigned int __maps;
};

/**
 * dma_buf_export - make a buffer of the exporter's memory, holding one
 * reference (drivers/dma-buf/dma-buf.c: dma_buf_export)
 * @exp_info: the exporter's description
 * @out: the buffer
 *
 * Return: 0; -EINVAL when @exp_info or @out is NULL, the size is 0, an
 * op the kernel requires (map_dma_buf, unmap_dma_buf, release) is
 * missing, or pin comes without unpin; -ENOMEM.
 */
int dma_buf_export(const struct dma_buf_export_info *exp_info,
		   struct dma_buf **out);

/**
 * dma_buf_get - take a reference to @dmabuf; the kernel's takes an fd
 * (drivers/dma-buf/dma-buf.c: dma_buf_get, get_dma_buf)
 * @dmabuf: the buffer, or NULL
 *
 * Return: @dmabuf.
 */
struct dma_buf *dma_buf_get(struct dma_buf *dmabuf);

/**
 * dma_buf_put - drop a reference; the last calls the exporter's release
 * and frees the buffer, which must have no attachments left (a warning)
 * (drivers/dma-buf/dma-buf.c: dma_buf_put)
 * @dmabuf: the buffer, or NULL
 */
void dma_buf_put(struct dma_buf *dmabuf);

/**
 * dma_buf_dynamic_attach - attach a device, with importer ops
 * (drivers/dma-buf/dma-buf.c: dma_buf_dynamic_attach)
 * @dmabuf: the buffer
 * @dev: the importer's device
 * @importer_ops: the importer's ops, or NULL for a static attachment
 * @importer_priv: stored in attach->importer_priv
 * @out: the attachment
 *
 * Return: 0; -EINVAL for a NULL @dmabuf, @dev or @out; -ENODEV while
 * the buffer is revoked; -EOPNOTSUPP when the importer needs CPU access
 * and the exporter does not grant it (Proposed); the exporter's attach
 * error; -ENOMEM.
 */
int dma_buf_dynamic_attach(struct dma_buf *dmabuf, struct dml_device *dev,
			   const struct dma_buf_attach_ops *importer_ops,
			   void *importer_priv,
			   struct dma_buf_attachment **out);

/**
 * dma_buf_attach - attach a device statically: no invalidation, the
 * buffer is pinned while mapped (drivers/dma-buf/dma-buf.c)
 * @dmabuf: the buffer
 * @dev: the importer's device
 * @out: the attachment
 *
 * Return: as dma_buf_dynamic_attach().
 */
int dma_buf_attach(struct dma_buf *dmabuf, struct dml_device *dev,
		   struct dma_buf_attachment **out);

/**
 * dma_buf_detach - remove an attachment; its mappings must be gone (a
 * warning if not) (drivers/dma-buf/dma-buf.c: dma_buf_detach)
 * @dmabuf: the buffer
 * @attach: the attachment, freed here
 */
void dma_buf_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach);

/**
 * dma_buf_pin - keep the memory in place for a dynamic importer, with
 * the reservation lock held (drivers/dma-buf/dma-buf.c: dma_buf_pin)
 * @attach: a dynamic attachment
 *
 * Return: 0; -EINVAL without the lock or for a static attachment; the
 * exporter's pin error.
 */
int dma_buf_pin(struct dma_buf_attachment *attach);

/**
 * dma_buf_unpin - undo dma_buf_pin(), with the lock held
 * (drivers/dma-buf/dma-buf.c: dma_buf_unpin)
 * @attach: the attachment
 */
void dma_buf_unpin(struct dma_buf_attachment *attach);

/**
 * dma_buf_map_attachment - the buffer mapped for attach->dev, with the
 * reservation lock held (drivers/dma-buf/dma-buf.c)
 * @attach: the attachment
 * @dir: DMA direction
 * @out: the exporter's sg table: DMA addresses only; the importer must
 *	not touch the memory behind it
 *
 * A static attachment to an exporter with pin is pinned for as long as
 * the mapping lives.
 * Return: 0; -EINVAL without the lock, for a bad @dir, NULL arguments
 * or a PAL attachment; the exporter's pin or map error (-ENODEV once
 * revoked).
 */
int dma_buf_map_attachment(struct dma_buf_attachment *attach,
			   enum dma_data_direction dir, struct sg_table **out);

/**
 * dma_buf_unmap_attachment - undo dma_buf_map_attachment(), with the
 * lock held (drivers/dma-buf/dma-buf.c)
 * @attach: the attachment
 * @sgt: the table it returned
 * @dir: its direction
 */
void dma_buf_unmap_attachment(struct dma_buf_attachment *attach,
			      struct sg_table *sgt,
			      enum dma_data_direction dir);

/**
 * dma_buf_map_attachment_unlocked - dma_buf_map_attachment() taking and
 * releasing the reservation lock itself (drivers/dma-buf/dma-buf.c)
 * @attach: the attachment
 * @dir: DMA direction
 * @out: the sg table
 *
 * Return: as dma_buf_map_attachment().
 */
int dma_buf_map_attachment_unlocked(struct dma_buf_attachment *attach,
				    enum dma_data_direction dir,
				    struct sg_table **out);

/**
 * dma_buf_unmap_attachment_unlocked - dma_buf_unmap_attachment() taking
 * the lock itself (drivers/dma-buf/dma-buf.c)
 * @attach: the attachment
 * @sgt: the table
 * @dir: its direction
 */
void dma_buf_unmap_attachment_unlocked(struct dma_buf_attachment *attach,
				       struct sg_table *sgt,
				       enum dma_data_direction dir);

/**
 * dma_buf_invalidate_mappings - the exporter tells every dynamic
 * importer with invalidate_mappings to drop its mappings, with the
 * reservation lock held (drivers/dma-buf/dma-buf.c, 7.1; before it
 * dma_buf_move_notify).  New mappings may be made once it returns.
 * @dmabuf: the buffer
 *
 * Return: 0; -EINVAL for a NULL @dmabuf or without the lock.
 */
int dma_buf_invalidate_mappings(struct dma_buf *dmabuf);

/**
 * dma_buf_move_notify - the pre-7.1 name of dma_buf_invalidate_mappings()
 * @dmabuf: the buffer
 *
 * Return: as dma_buf_invalidate_mappings().
 */
int dma_buf_move_notify(struct dma_buf *dmabuf);

/**
 * dma_buf_attach_revocable - whether the importer can give the memory
 * back on request: it has invalidate_mappings (drivers/dma-buf/dma-buf.c,
 * 7.1).  Exporters that must revoke reject the others at attach or pin.
 * @attach: the attachment
 *
 * Return: true if revocable.
 */
bool dma_buf_attach_revocable(struct dma_buf_attachment *attach);

/**
 * dma_buf_mapping_attach - attach with the mapping types the importer
 * accepts; the exporter's first type that the importer also accepts
 * becomes attach->map_type.  Proposed: the dma-buf mapping types RFC
 * (Jason Gunthorpe, Feb 2026).
 * @dmabuf: the buffer
 * @dev: the importer's device
 * @imp: the importer's acceptable types (order does not matter)
 * @imp_len: entries of @imp, at least 1
 * @importer_ops: as dma_buf_dynamic_attach(); required for SGT_P2P and PAL
 * @importer_priv: stored in attach->importer_priv
 * @out: the attachment
 *
 * Return: 0; -EINVAL for NULL arguments, an empty or unknown type list;
 * -EOPNOTSUPP when no type is mutual; the exporter's attach error;
 * -ENOMEM.
 */
int dma_buf_mapping_attach(struct dma_buf *dmabuf, struct dml_device *dev,
			   const enum dma_buf_mapping_type *imp, size_t imp_len,
			   const struct dma_buf_attach_ops *importer_ops,
			   void *importer_priv,
			   struct dma_buf_attachment **out);

/**
 * dma_buf_match_mapping - pick the first of the exporter's types that
 * the importer accepts into attach->map_type; for the exporter's
 * match_mapping op.  Proposed: mapping types RFC (Feb 2026).
 * @attach: the attachment being made
 * @imp: the importer's types
 * @imp_len: entries of @imp
 * @exp: the exporter's types, best first
 * @exp_len: entries of @exp
 *
 * SGT_P2P and PAL need a dynamic importer (peer memory without struct
 * pages); attach->peer2peer is set for them and cleared for SGT.
 * Return: 0; -EINVAL for NULL lists or @attach; -EOPNOTSUPP if none
 * is mutual.
 */
int dma_buf_match_mapping(struct dma_buf_attachment *attach,
			  const enum dma_buf_mapping_type *imp, size_t imp_len,
			  const enum dma_buf_mapping_type *exp, size_t exp_len);

/**
 * dma_buf_map_phys - the physical ranges of a PAL attachment, with the
 * reservation lock held; the importer maps them for its device itself
 * (the two-step API).  Proposed: mapping types RFC (Feb 2026).
 * @attach: an attachment whose map_type is PAL
 * @out: the list, until dma_buf_unmap_phys()
 *
 * Return: 0; -EINVAL without the lock, for a map type other than PAL
 * or PAL_PRIVATE, or NULL arguments; the exporter's error (-ENODEV once
 * revoked).
 */
int dma_buf_map_phys(struct dma_buf_attachment *attach,
		     struct dma_buf_phys_list **out);

/**
 * dma_buf_unmap_phys - give back what dma_buf_map_phys() returned, with
 * the lock held.  Proposed: mapping types RFC (Feb 2026).
 * @attach: the attachment
 * @list: the list
 */
void dma_buf_unmap_phys(struct dma_buf_attachment *attach,
			struct dma_buf_phys_list *list);

/**
 * dma_buf_phys_vec_to_sgt - map an exporter's MMIO ranges for
 * attach->dev into an sg table, with the reservation lock held
 * (drivers/dma-buf/dma-buf-mapping.c, 6.19)
 * @attach: the attachment
 * @provider: the P2P provider of every range
 * @phys_vec: the ranges
 * @nr_ranges: entries of @phys_vec, at least 1
 * @size: bytes of all ranges together
 * @dir: DMA direction
 * @out: the table, for dma_buf_free_sgt()
 *
 * By the pair's P2P map type: BUS_ADDR gives each range's bus address;
 * THRU_HOST_BRIDGE reserves IOVA for @size, links every range with
 * DMA_ATTR_MMIO, syncs once and gives ONE DMA range, or without IOMMU
 * space maps each range with dma_map_phys(DMA_ATTR_MMIO).  Entries are
 * at most ALIGN_DOWN(UINT_MAX, PAGE_SIZE) bytes (longer ones split); the
 * table has no CPU list: no pages, orig_nents 0.
 * Return: 0; -EINVAL without the lock, for NULL arguments, a size that
 * is not the sum of the ranges, or a map type other than the two above;
 * the mapping error (-ENOMEM, -EIO); nothing stays mapped on error.
 */
int dma_buf_phys_vec_to_sgt(struct dma_buf_attachment *attach,
			    struct p2pdma_provider *provider,
			    const struct phys_vec *phys_vec, size_t nr_ranges,
			    size_t size, enum dma_data_direction dir,
			    struct sg_table **out);

/**
 * dma_buf_free_sgt - unmap and free a dma_buf_phys_vec_to_sgt() table:
 * destroy the IOVA range or unmap each entry
 * (drivers/dma-buf/dma-buf-mapping.c, 6.19)
 * @attach: the attachment it was made for
 * @sgt: the table
 * @dir: its direction
 */
void dma_buf_free_sgt(struct dma_buf_attachment *attach, struct sg_table *sgt,
		      enum dma_data_direction dir);

/**
 * dml_dma_buf_revoke - take the memory away from every importer: the
 * full-revoke sequence the kernel documents for exporters
 * (drivers/dma-buf/dma-buf.c, 7.1; drivers/vfio/pci/vfio_pci_dmabuf.c)
 * @dmabuf: the buffer
 * @timeout: nanoseconds to wait for the importers to unmap, or
 *	MAX_SCHEDULE_TIMEOUT
 *
 * Under the reservation lock: mark the buffer revoked (new attachments
 * and maps fail with -ENODEV), invalidate every mapping, wait for every
 * fence (DMA_RESV_USAGE_BOOKKEEP); then, unlocked, wait until every
 * importer has unmapped.  Until its fences signal an importer may still
 * finish DMA; afterwards a device access through a mapping it dropped
 * faults.  Importers without invalidate_mappings cannot be asked, so an
 * exporter that revokes refuses them at attach or pin.
 * Return: 0; -ETIMEDOUT (with a warning) if mappings remain after
 * @timeout: the buffer stays revoked; -EINVAL for a NULL @dmabuf or a
 * negative @timeout; -ENOMEM.
 */
int dml_dma_buf_revoke(struct dma_buf *dmabuf, long timeout);

/**
 * dml_dma_buf_unrevoke - give the memory back after dml_dma_buf_revoke():
 * maps work again, and importers are told with invalidate_mappings, as
 * VFIO does when memory decode is enabled again
 * (drivers/vfio/pci/vfio_pci_dmabuf.c)
 * @dmabuf: the buffer
 *
 * Return: 0; -EINVAL for a NULL @dmabuf.
 */
int dml_dma_buf_unrevoke(struct dma_buf *dmabuf);

/**
 * dml_dma_buf_revoked - whether @dmabuf is revoked now
 * @dmabuf: the buffer
 *
 * Return: true between dml_dma_buf_revoke() and dml_dma_buf_unrevoke().
 */
bool dml_dma_buf_revoked(struct dma_buf *dmabuf);

/**
 * dma_buf_begin_cpu_access - before the CPU accesses the buffer: wait for
 * the fences of DMA that conflicts (writes for a CPU read, all for a CPU
 * write), then the exporter's begin_cpu_access
 * (drivers/dma-buf/dma-buf.c); the only way an importer may reach the
 * memory besides vmap and mmap
 * @dmabuf: the buffer
 * @dir: DMA_FROM_DEVICE: the CPU reads; DMA_TO_DEVICE or
 *	DMA_BIDIRECTIONAL: it writes
 *
 * Return: 0; -EINVAL for a NULL @dmabuf or a bad @dir; the exporter's
 * error.
 */
int dma_buf_begin_cpu_access(struct dma_buf *dmabuf,
			     enum dma_data_direction dir);

/**
 * dma_buf_end_cpu_access - after the CPU access: the exporter's
 * end_cpu_access (drivers/dma-buf/dma-buf.c)
 * @dmabuf: the buffer
 * @dir: as for dma_buf_begin_cpu_access()
 *
 * Return: 0; -EINVAL for a NULL @dmabuf or a bad @dir; the exporter's
 * error.
 */
int dma_buf_end_cpu_access(struct dma_buf *dmabuf,
			   enum dma_data_direction dir);

/**
 * dma_buf_mmap - a CPU mapping of part of the buffer through the
 * exporter's mmap op; the kernel maps it into a VMA
 * (drivers/dma-buf/dma-buf.c: dma_buf_mmap)
 * @dmabuf: the buffer
 * @pgoff: first page, in 4 KiB pages
 * @len: bytes
 * @addr: the CPU pointer
 *
 * Return: 0; -EINVAL for NULL arguments, @len 0, a range past the
 * buffer's size (overflow included) or an exporter without mmap; the
 * exporter's error.
 */
int dma_buf_mmap(struct dma_buf *dmabuf, size_t pgoff, size_t len,
		 void **addr);

/**
 * dma_buf_vmap - a CPU pointer to the whole buffer, with the reservation
 * lock held; counted: the exporter's vmap runs on the first call only
 * (drivers/dma-buf/dma-buf.c: dma_buf_vmap)
 * @dmabuf: the buffer
 * @vaddr: the pointer
 *
 * Return: 0; -EINVAL for NULL arguments, without the lock or an exporter
 * without vmap; the exporter's error.
 */
int dma_buf_vmap(struct dma_buf *dmabuf, void **vaddr);

/**
 * dma_buf_vunmap - drop one dma_buf_vmap(), with the lock held; the last
 * calls the exporter's vunmap (drivers/dma-buf/dma-buf.c)
 * @dmabuf: the buffer
 * @vaddr: what dma_buf_vmap() returned (a warning if not)
 */
void dma_buf_vunmap(struct dma_buf *dmabuf, void *vaddr);

/**
 * struct dml_dma_buf_range - one range of a BAR to export, as VFIO's
 * struct vfio_region_dma_range (include/uapi/linux/vfio.h)
 * @offset: bytes into the BAR, page aligned
 * @length: bytes, page aligned, not 0
 */
struct dml_dma_buf_range {
	u64 offset;
	u64 length;
};

/**
 * dml_pci_bar_dma_buf_export - export ranges of a BAR as a dma-buf, as
 * VFIO_DEVICE_FEATURE_DMA_BUF does (drivers/vfio/pci/vfio_pci_dmabuf.c,
 * 6.19)
 * @pdev: the function, with pcim_p2pdma_init() done
 * @region_index: the BAR, 0 to PCI_STD_NUM_BARS - 1
 * @ranges: the ranges, in the order the buffer lays them out
 * @nr_ranges: entries of @ranges
 * @out: the buffer; dma_buf_put() frees it
 *
 * Importers must accept peer memory (attach->peer2peer) and be
 * revocable, else attach fails with -EOPNOTSUPP; the mapping types are
 * PAL, then SGT_P2P.  While @pdev's interface is in TDISP RUN the BAR is
 * private MMIO (dmalink/cc.h): the only type offered is then
 * DMA_BUF_MAPPING_PAL_PRIVATE (Proposed), and only to an importer whose
 * device is accepted into @pdev's TVM; any other attach fails with
 * -EOPNOTSUPP.  The buffer has no CPU mapping (mmap, vmap) for anyone.
 * As VFIO's exporter, the buffer follows the function's memory decode:
 * it is revoked (dml_dma_buf_revoke(), waiting up to one second for the
 * importers to unmap) when decode goes off, that is
 * dml_pci_set_memory_decode() on the emulated platform, or on vfio a
 * write of PCI_COMMAND through dml_vfio_config_write() and across
 * dml_vfio_reset(); it is given back (dml_dma_buf_unrevoke()) when
 * decode comes on.  When the function is closed (dml_device_destroy() of
 * its vfio device) or its platform destroyed, the buffer is revoked for
 * good.  Exported while decode is off, it starts revoked.
 * Return: 0; -ENODEV if @region_index is not a BAR; -EINVAL for NULL
 * arguments, no ranges, a BAR that is not P2P memory, a range of length
 * 0, not page aligned, overflowing or past the BAR, or a total length
 * with bit 63 set; -ENOMEM.
 */
int dml_pci_bar_dma_buf_export(struct dml_pci_dev *pdev, u32 region_index,
			       const struct dml_dma_buf_range *ranges,
			       u32 nr_ranges, struct dma_buf **out);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_DMA_BUF_H */
