/* SPDX-License-Identifier: MIT */
/*
 * cache.h - the CPU cache as seen by non-coherent devices (the model is
 * described at the top of cache.c).  Coherent devices never call into it:
 * they read and write the CPU view, which is what dml_kmap_local_phys()
 * returns.
 */
#ifndef DML_MEM_CACHE_H
#define DML_MEM_CACHE_H

#include <dmalink/dma-mapping.h>

#include "mem.h"

struct dml_platform;
struct dml_cache;

#define DML_CACHE_LINE 64	/* bytes; cache maintenance is per line */

/*
 * dml__cache_prepare - create the memory view of every RAM region of @p
 * (done when a non-coherent device is created, so that later cache
 * maintenance and device accesses need no allocation).
 * Return: 0; -ENOMEM.
 */
int dml__cache_prepare(struct dml_platform *p);


/*
 * dml__cache_clean - write back the CPU-dirty lines of [@phys, +@size)
 * (arm64 dcache_clean_poc): lines the CPU wrote since they were last
 * written back or filled go to memory; clean lines are left alone, so
 * data a device wrote there survives.  Uncached frames, MMIO and
 * unbacked addresses are skipped.
 */
void dml__cache_clean(struct dml_platform *p, phys_addr_t phys, size_t size);

/*
 * dml__cache_inval - invalidate [@phys, +@size) (dcache_inval_poc): the
 * CPU sees memory again; dirty lines entirely inside the range are
 * discarded; partial lines at either end are written back first, as arm64
 * does, so bytes outside the range are never lost.
 */
void dml__cache_inval(struct dml_platform *p, phys_addr_t phys, size_t size);

/* arch_sync_dma_for_device(): clean, whatever the direction (arm64) */
static inline void dml__arch_sync_dma_for_device(struct dml_platform *p,
						 phys_addr_t phys, size_t size,
						 enum dma_data_direction dir)
{
	(void)dir;
	dml__cache_clean(p, phys, size);
}

/* arch_sync_dma_for_cpu(): invalidate unless the device only read */
static inline void dml__arch_sync_dma_for_cpu(struct dml_platform *p,
					      phys_addr_t phys, size_t size,
					      enum dma_data_direction dir)
{
	if (dir != DMA_TO_DEVICE)
		dml__cache_inval(p, phys, size);
}

/*
 * dml__cache_set_uncached - mark [@phys, +@size) (4 KiB aligned) uncached
 * (dma_alloc_coherent() for a non-coherent device: the kernel maps such
 * memory uncached) or cacheable again (@uncached false: memory and cache
 * are made equal to the CPU view first).  Return: 0; -ENOMEM if the
 * memory view could not be created.
 */
int dml__cache_set_uncached(struct dml_platform *p, phys_addr_t phys,
			    size_t size, bool uncached);

/*
 * dml__cache_dev_host - where a non-coherent device reads or writes
 * [@phys, +*@len): memory for cacheable RAM, the CPU view for uncached
 * frames and MMIO.  *@len is trimmed to the end of @phys's 4 KiB frame.
 * Return: the host pointer, or NULL if nothing backs @phys (or its memory
 * view could not be created).
 */
void *dml__cache_dev_host(struct dml_platform *p, phys_addr_t phys, size_t *len);

/*
 * dml__arch_sync_dma_flush - arch_sync_dma_flush(): wait for the cache
 * maintenance issued so far to complete (arm64's dsb after batched
 * dcache_clean_poc).  Maintenance completes when issued in this model, so
 * the barrier is only counted (dml__cache_stats.flushes).
 */
void dml__arch_sync_dma_flush(struct dml_platform *p);

/*
 * struct dml__cache_stats - lines written back by clean, lines refilled by
 * invalidate, dirty lines an invalidate discarded, and flush barriers
 */
struct dml__cache_stats {
	u64 written_back;
	u64 refilled;
	u64 discarded;
	u64 flushes;
};
void dml__cache_get_stats(struct dml_platform *p, struct dml__cache_stats *st);

#endif /* DML_MEM_CACHE_H */
