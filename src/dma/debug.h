/* SPDX-License-Identifier: MIT */
/*
 * debug.h - the hooks of the DMA-API checker (debug/), the twins of the
 * kernel's debug_dma_*() calls in include/linux/dma-mapping.h's callers
 * (kernel/dma/mapping.c).  The front door (mapping.c) calls them, and the
 * emulated DMA engine and CPU access path call the access checks; each
 * call site tests dml__dma_debug_active() first, so a checker that is off
 * costs one predictable branch on a global flag and nothing else.
 *
 * Order at the call sites: hooks that record a new mapping run after the
 * call that made it (they need its result); hooks that drop a mapping run
 * before the call that releases it, so the DMA address cannot be handed
 * out again and recorded by another thread before the old record is gone.
 * The two-step hooks that need the call's result (link, sync, unlink) run
 * after it and are given it.
 *
 * Public side: include/dmalink/dma-debug.h.
 */
#ifndef DML_DMA_DEBUG_INTERNAL_H
#define DML_DMA_DEBUG_INTERNAL_H

#include <dmalink/dma-debug.h>

#include "dma.h"

/* the global switch; read relaxed on every hot path (hidden: no GOT load) */
extern atomic_bool dml__dma_debug_on __attribute__((visibility("hidden")));

static inline bool dml__dma_debug_active(void)
{
	return unlikely(atomic_load_explicit(&dml__dma_debug_on,
					     memory_order_relaxed));
}

/* ---- devices (core/device.c) ---- */

/* start watching @dev (called when it is added to its platform) */
void dml__dma_debug_device_add(struct dml_device *dev);
/* leak report for @dev, then forget it (before its domain goes) */
void dml__dma_debug_device_remove(struct dml_device *dev);

/* ---- streaming mappings (mapping.c) ---- */

void dml__dma_debug_map_phys(struct dml_device *dev, phys_addr_t phys,
			     size_t size, enum dma_data_direction dir,
			     unsigned long attrs, dma_addr_t dma_addr);
void dml__dma_debug_unmap_phys(struct dml_device *dev, dma_addr_t addr,
			       size_t size, enum dma_data_direction dir,
			       unsigned long attrs);
void dml__dma_debug_mapping_error(struct dml_device *dev, dma_addr_t addr);
void dml__dma_debug_map_sg(struct dml_device *dev, struct scatterlist *sg,
			   int nents, int mapped_ents,
			   enum dma_data_direction dir, unsigned long attrs);
void dml__dma_debug_unmap_sg(struct dml_device *dev, struct scatterlist *sg,
			     int nents, enum dma_data_direction dir);

/*
 * dma_sync_single_*: @addr and @size as given (the range variants add
 * their offset to @addr); @to_cpu for *_for_cpu.
 */
void dml__dma_debug_sync_single(struct dml_device *dev, dma_addr_t addr,
				size_t size, enum dma_data_direction dir,
				bool to_cpu);
/* dma_sync_sg_*: @nelems as given (the CPU entry count) */
void dml__dma_debug_sync_sg(struct dml_device *dev, struct scatterlist *sg,
			    int nelems, enum dma_data_direction dir,
			    bool to_cpu);

/*
 * Coherent memory: @cpu_addr is the CPU address the allocator returned
 * (compared at free, "different CPU address"); @noncoherent for
 * dma_alloc_noncoherent/dma_alloc_pages, which carry a direction.
 */
void dml__dma_debug_alloc_coherent(struct dml_device *dev, size_t size,
				   dma_addr_t dma_addr, const void *cpu_addr,
				   bool noncoherent,
				   enum dma_data_direction dir);
void dml__dma_debug_free_coherent(struct dml_device *dev, size_t size,
				  const void *cpu_addr, dma_addr_t dma_addr,
				  bool noncoherent,
				  enum dma_data_direction dir);

/* ---- the two-step API (mapping.c) ---- */

/* after dma_iova_try_alloc(), a failed one too (@state is zeroed then) */
void dml__dma_debug_iova_alloc(struct dml_device *dev,
			       const struct dma_iova_state *state);
/*
 * before dma_iova_{link,sync,unlink,destroy,free}(), named @fn: true when
 * @state is a copy of a state this device released that names no live
 * reservation (reported as a use after free); the call must then change
 * nothing (link, sync and unlink return -EINVAL)
 */
bool dml__dma_debug_iova_freed(struct dml_device *dev,
			       const struct dma_iova_state *state,
			       const char *fn);
/* after dma_iova_link(), with its result */
void dml__dma_debug_iova_link(struct dml_device *dev,
			      const struct dma_iova_state *state,
			      phys_addr_t phys, size_t offset, size_t size,
			      enum dma_data_direction dir, unsigned long attrs,
			      int ret);
/* after dma_iova_sync(), with its result */
void dml__dma_debug_iova_sync(struct dml_device *dev,
			      const struct dma_iova_state *state,
			      size_t offset, size_t size, int ret);
/* after dma_iova_unlink(), with its result */
void dml__dma_debug_iova_unlink(struct dml_device *dev,
				const struct dma_iova_state *state,
				size_t offset, size_t size,
				enum dma_data_direction dir, int ret);
/* before dma_iova_destroy() */
void dml__dma_debug_iova_destroy(struct dml_device *dev,
				 const struct dma_iova_state *state,
				 size_t mapped_len, enum dma_data_direction dir);
/* before dma_iova_free() */
void dml__dma_debug_iova_free(struct dml_device *dev,
			      const struct dma_iova_state *state);

/* ---- memory being touched ---- */

/* the emulated device is about to access [@addr, +@len) (dev/dma_engine.c) */
void dml__dma_debug_dev_access(struct dml_device *dev, dma_addr_t addr,
			       size_t len, bool write);
/* the CPU maps [@phys, +@len) of @p (mem/phys.c through a hook pointer) */
void dml__dma_debug_cpu_access(struct dml_platform *p, phys_addr_t phys,
			       u64 len);

/* ---- dma-buf: CPU access behind importers' mappings (debug/dmabuf.c) ---- */

/*
 * Per thread: inside an exporter's own code (its ops, its moves), whose
 * CPU access to its buffer is never an importer's.
 */
extern _Thread_local unsigned int dml__dma_debug_dmabuf_exporter;

struct phys_vec;

/*
 * the memory of buffer @buf (a key only) on @p is @v[0..@nr), replacing
 * what was recorded; @nr 0 forgets the buffer
 */
void dml__dma_debug_dmabuf_memory(const void *buf, struct dml_platform *p,
				  const struct phys_vec *v, size_t nr);
/*
 * @buf now has @maps live importer mappings and @cpu open CPU-access
 * windows and grants (begin/end_cpu_access, vmap, attachments granted
 * CPU access)
 */
void dml__dma_debug_dmabuf_state(const void *buf, unsigned int maps,
				 unsigned int cpu);

#endif /* DML_DMA_DEBUG_INTERNAL_H */
