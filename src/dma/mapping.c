/* SPDX-License-Identifier: MIT */
/*
 * mapping.c - the front door of the DMA API (kernel/dma/mapping.c): every
 * public DMA call enters here, is checked, and goes to dma-iommu for
 * devices with a domain or dma-direct for the rest (the two-step calls
 * have no direct path: ref §1.1 stubs).  Masks and device properties live
 * here too.  This is the one place where per-call hooks (the checker) sit.
 */
#include "debug.h"

static __attribute__((noinline, cold)) int
debug_mapping_error(struct dml_device *dev, dma_addr_t dma_addr)
{
	/* debug_dma_mapping_error(): the checker notes the check was made */
	dml__dma_debug_mapping_error(dev, dma_addr);
	return dma_addr == DMA_MAPPING_ERROR ? -ENOMEM : 0;
}

int dma_mapping_error(struct dml_device *dev, dma_addr_t dma_addr)
{
	if (dml__dma_debug_active())
		return debug_mapping_error(dev, dma_addr);
	return dma_addr == DMA_MAPPING_ERROR ? -ENOMEM : 0;
}

static int set_mask(u64 *where, u64 mask)
{
	/* dma_supported(): x86 refuses masks below the 24-bit ISA floor */
	if (mask < DMA_BIT_MASK(24))
		return -EIO;
	*where = mask;
	return 0;
}

int dma_set_mask(struct dml_device *dev, u64 mask)
{
	return set_mask(&dev->dma_mask, mask);
}

int dma_set_coherent_mask(struct dml_device *dev, u64 mask)
{
	return set_mask(&dev->coherent_dma_mask, mask);
}

int dma_set_mask_and_coherent(struct dml_device *dev, u64 mask)
{
	int ret = dma_set_mask(dev, mask);

	return ret ? ret : dma_set_coherent_mask(dev, mask);
}

u64 dma_get_mask(struct dml_device *dev)
{
	return dev->dma_mask;
}

unsigned long dma_get_merge_boundary(struct dml_device *dev)
{
	return dml__use_dma_iommu(dev) ? dev->domain->granule - 1 : 0;
}

bool dma_need_unmap(struct dml_device *dev)
{
	/* the checker must see every unmap, as with CONFIG_DMA_API_DEBUG */
	return dml__need_unmap_nodebug(dev) || dml__dma_debug_active();
}

static bool map_args_ok(struct dml_device *dev, size_t size,
			enum dma_data_direction dir, const char *fn)
{
	/* valid_dma_direction(): DMA_NONE maps nothing, on either path */
	if (unlikely(!dev || (unsigned int)dir >= DMA_NONE || !size)) {
		dml__warn("%s: invalid arguments (dev %p, size %zu, dir %d)", fn,
			  (void *)dev, size, (int)dir);
		return false;
	}
	return true;
}

/*
 * The checker (src/dma/debug/) sits here.  Each call tests its switch once; when
 * it is on, the call goes to an out-of-line twin (debug_*) that does the
 * same work with the checker's hooks around it, so that the path taken
 * when it is off keeps its shape (tail calls, no registers saved for the
 * hooks): one predictable branch is all the checker costs then.
 */
#define DEBUG_PATH __attribute__((noinline, cold))

static inline dma_addr_t map_phys(struct dml_device *dev, phys_addr_t phys,
				  size_t size, enum dma_data_direction dir,
				  unsigned long attrs)
{
	if (dml__use_dma_iommu(dev))
		return dml__iommu_map_phys(dev, phys, size, dir, attrs);
	return dml__direct_map_phys(dev, phys, size, dir, attrs);
}

static DEBUG_PATH dma_addr_t debug_map_phys(struct dml_device *dev,
					    phys_addr_t phys, size_t size,
					    enum dma_data_direction dir,
					    unsigned long attrs)
{
	dma_addr_t addr = map_phys(dev, phys, size, dir, attrs);

	dml__dma_debug_map_phys(dev, phys, size, dir, attrs, addr);
	return addr;
}

dma_addr_t dma_map_phys(struct dml_device *dev, phys_addr_t phys, size_t size,
			enum dma_data_direction dir, unsigned long attrs)
{
	if (!map_args_ok(dev, size, dir, __func__))
		return DMA_MAPPING_ERROR;
	/* dma_map_phys(): coherence cannot be had on a non-coherent device */
	if (unlikely(dev->non_coherent && (attrs & DMA_ATTR_REQUIRE_COHERENT)))
		return DMA_MAPPING_ERROR;
	if (dml__dma_debug_active())
		return debug_map_phys(dev, phys, size, dir, attrs);
	return map_phys(dev, phys, size, dir, attrs);
}

static inline void unmap_phys(struct dml_device *dev, dma_addr_t addr,
			      size_t size, enum dma_data_direction dir,
			      unsigned long attrs)
{
	if (dml__use_dma_iommu(dev))
		dml__iommu_unmap_phys(dev, addr, size, dir, attrs);
	else
		dml__direct_unmap_phys(dev, addr, size, dir, attrs);
}

static DEBUG_PATH void debug_unmap_phys(struct dml_device *dev, dma_addr_t addr,
					size_t size, enum dma_data_direction dir,
					unsigned long attrs)
{
	dml__dma_debug_unmap_phys(dev, addr, size, dir, attrs);
	unmap_phys(dev, addr, size, dir, attrs);
}

void dma_unmap_phys(struct dml_device *dev, dma_addr_t addr, size_t size,
		    enum dma_data_direction dir, unsigned long attrs)
{
	if (!map_args_ok(dev, size, dir, __func__))
		return;
	if (dml__dma_debug_active())
		debug_unmap_phys(dev, addr, size, dir, attrs);
	else
		unmap_phys(dev, addr, size, dir, attrs);
}

/*
 * dma_map_page_attrs(): the page is named by its physical address; only
 * RAM with a memmap has a struct page to name (emu), and MMIO never goes
 * through here.
 */
dma_addr_t dma_map_page_attrs(struct dml_device *dev, phys_addr_t page,
			      size_t offset, size_t size,
			      enum dma_data_direction dir, unsigned long attrs)
{
	phys_addr_t phys = page + offset;

	if (unlikely(attrs & DMA_ATTR_MMIO) || !IS_ALIGNED(page, PAGE_SIZE) ||
	    phys < page)
		return DMA_MAPPING_ERROR;
	if (dev && dev->plat && dev->plat->kind == DML_PLATFORM_EMU &&
	    !dml__mem_has_page(dev->plat->mem, page, PAGE_SIZE)) {
		dml__warn("%s: dma_map_page_attrs: %#llx has no struct page",
			  dev->name, (unsigned long long)page);
		return DMA_MAPPING_ERROR;
	}
	return dma_map_phys(dev, phys, size, dir, attrs);
}

void dma_unmap_page_attrs(struct dml_device *dev, dma_addr_t addr, size_t size,
			  enum dma_data_direction dir, unsigned long attrs)
{
	if (unlikely(attrs & DMA_ATTR_MMIO))
		return;
	dma_unmap_phys(dev, addr, size, dir, attrs);
}

/*
 * dma_map_single_attrs(): virt_to_page() of a linear-map address; here the
 * linear map is the host mapping of emulated RAM with a memmap (on vfio the
 * process address is the phys_addr_t already).
 */
dma_addr_t dma_map_single_attrs(struct dml_device *dev, void *ptr, size_t size,
				enum dma_data_direction dir,
				unsigned long attrs)
{
	phys_addr_t phys = (phys_addr_t)(uintptr_t)ptr;

	if (!dev)
		return DMA_MAPPING_ERROR;
	if (dev->plat && dev->plat->kind == DML_PLATFORM_EMU &&
	    (!dml__mem_virt_to_phys(dev->plat->mem, ptr, size ? size : 1, &phys) ||
	     !dml__mem_has_page(dev->plat->mem, phys, size ? size : 1))) {
		dml__warn("%s: rejecting DMA map of %p: not in the linear map",
			  dev->name, ptr);
		return DMA_MAPPING_ERROR;
	}
	return dma_map_page_attrs(dev, ALIGN_DOWN(phys, (phys_addr_t)PAGE_SIZE),
				  (size_t)(phys & (PAGE_SIZE - 1)), size, dir,
				  attrs);
}

void dma_unmap_single_attrs(struct dml_device *dev, dma_addr_t addr,
			    size_t size, enum dma_data_direction dir,
			    unsigned long attrs)
{
	dma_unmap_page_attrs(dev, addr, size, dir, attrs);
}

dma_addr_t dma_map_resource(struct dml_device *dev, phys_addr_t phys,
			    size_t size, enum dma_data_direction dir,
			    unsigned long attrs)
{
	if (dev && dev->plat->kind == DML_PLATFORM_EMU &&
	    dml_phys_is_ram(dev->plat, phys, size)) {
		dml__warn("dma_map_resource: %#llx is RAM, not a resource",
			  (unsigned long long)phys);
		return DMA_MAPPING_ERROR;
	}
	return dma_map_phys(dev, phys, size, dir, attrs | DMA_ATTR_MMIO);
}

void dma_unmap_resource(struct dml_device *dev, dma_addr_t addr, size_t size,
			enum dma_data_direction dir, unsigned long attrs)
{
	dma_unmap_phys(dev, addr, size, dir, attrs | DMA_ATTR_MMIO);
}

static inline int map_sg_path(struct dml_device *dev, struct scatterlist *sg,
			      int nents, enum dma_data_direction dir,
			      unsigned long attrs)
{
	if (dml__use_dma_iommu(dev))
		return dml__iommu_map_sg(dev, sg, nents, dir, attrs);
	return dml__direct_map_sg(dev, sg, nents, dir, attrs);
}

static DEBUG_PATH int debug_map_sg(struct dml_device *dev,
				   struct scatterlist *sg, int nents,
				   enum dma_data_direction dir,
				   unsigned long attrs)
{
	int ret = map_sg_path(dev, sg, nents, dir, attrs);

	dml__dma_debug_map_sg(dev, sg, nents, ret, dir, attrs);
	return ret;
}

/*
 * An entry stands for sg_page() + offset in the kernel: RAM without a
 * memmap has no page to put there (MMIO, the P2P case, passes).
 */
static bool sg_pages_ok(struct dml_device *dev, struct scatterlist *sgl,
			int nents)
{
	struct scatterlist *sg;
	int i;

	if (!dev->plat || dev->plat->kind != DML_PLATFORM_EMU)
		return true;
	for_each_sg(sgl, sg, nents, i)
		if (!dml__mem_has_page(dev->plat->mem, sg_phys(sg),
				       sg->length ? sg->length : 1) &&
		    dml_phys_is_ram(dev->plat, sg_phys(sg), sg->length)) {
			dml__warn("%s: dma_map_sg: %#llx has no struct page",
				  dev->name, (unsigned long long)sg_phys(sg));
			return false;
		}
	return true;
}

/* map a list: DMA segments (> 0) or -EINVAL / -ENOMEM / -EIO / -EREMOTEIO */
static int map_sg(struct dml_device *dev, struct scatterlist *sg, int nents,
		  enum dma_data_direction dir, unsigned long attrs)
{
	if (unlikely(!sg || nents <= 0)) {
		/* __dma_map_sg_attrs(): mapping nothing is a WARN there */
		dml__warn("dma_map_sg: nothing to map (sg %p, nents %d)",
			  (void *)sg, nents);
		return -EINVAL;
	}
	if (!map_args_ok(dev, 1, dir, "dma_map_sg"))
		return -EINVAL;
	if (!sg_pages_ok(dev, sg, nents))
		return -EINVAL;
	if (dml__dma_debug_active())
		return debug_map_sg(dev, sg, nents, dir, attrs);
	return map_sg_path(dev, sg, nents, dir, attrs);
}

int dma_map_sg_attrs(struct dml_device *dev, struct scatterlist *sg, int nents,
		     enum dma_data_direction dir, unsigned long attrs)
{
	int ret = map_sg(dev, sg, nents, dir, attrs);

	return ret < 0 ? 0 : ret;
}

static inline void unmap_sg_path(struct dml_device *dev,
				 struct scatterlist *sg, int nents,
				 enum dma_data_direction dir,
				 unsigned long attrs)
{
	if (dml__use_dma_iommu(dev))
		dml__iommu_unmap_sg(dev, sg, nents, dir, attrs);
	else
		dml__direct_unmap_sg(dev, sg, nents, dir, attrs);
}

static DEBUG_PATH void debug_unmap_sg(struct dml_device *dev,
				      struct scatterlist *sg, int nents,
				      enum dma_data_direction dir,
				      unsigned long attrs)
{
	dml__dma_debug_unmap_sg(dev, sg, nents, dir);
	unmap_sg_path(dev, sg, nents, dir, attrs);
}

void dma_unmap_sg_attrs(struct dml_device *dev, struct scatterlist *sg,
			int nents, enum dma_data_direction dir,
			unsigned long attrs)
{
	if (!sg || nents <= 0 || !map_args_ok(dev, 1, dir, __func__))
		return;
	if (dml__dma_debug_active())
		debug_unmap_sg(dev, sg, nents, dir, attrs);
	else
		unmap_sg_path(dev, sg, nents, dir, attrs);
}

int dma_map_sgtable(struct dml_device *dev, struct sg_table *sgt,
		    enum dma_data_direction dir, unsigned long attrs)
{
	int nents;

	if (!sgt || !sgt->sgl || !sgt->orig_nents || sgt->orig_nents > INT32_MAX)
		return -EINVAL;
	nents = map_sg(dev, sgt->sgl, (int)sgt->orig_nents, dir, attrs);
	if (nents < 0)
		return nents;
	sgt->nents = (unsigned int)nents;
	return 0;
}

void dma_unmap_sgtable(struct dml_device *dev, struct sg_table *sgt,
		       enum dma_data_direction dir, unsigned long attrs)
{
	dma_unmap_sg_attrs(dev, sgt->sgl, (int)sgt->orig_nents, dir, attrs);
}

/* ------------------------------------------------------------------ */
/* The two-step API: stubs without an IOMMU (ref §1.1)                 */
/* ------------------------------------------------------------------ */

static DEBUG_PATH bool debug_iova_try_alloc(struct dml_device *dev,
					    struct dma_iova_state *state,
					    phys_addr_t phys, size_t size)
{
	bool ok = dml__iommu_iova_try_alloc(dev, state, phys, size);

	dml__dma_debug_iova_alloc(dev, state);
	return ok;
}

bool dma_iova_try_alloc(struct dml_device *dev, struct dma_iova_state *state,
			phys_addr_t phys, size_t size)
{
	state->addr = 0;
	state->__size = 0;
	if (!dev || !dml__use_dma_iommu(dev))
		return false;
	if (dml__dma_debug_active())
		return debug_iova_try_alloc(dev, state, phys, size);
	return dml__iommu_iova_try_alloc(dev, state, phys, size);
}

/*
 * A copy of a state already released names IOVA that is no longer the
 * caller's: with the checker on, each two-step call refuses it before the
 * backend sees it (dml__dma_debug_iova_freed()), so it changes nothing.
 */
static DEBUG_PATH void debug_iova_free(struct dml_device *dev,
				       struct dma_iova_state *state)
{
	if (dml__dma_debug_iova_freed(dev, state, "dma_iova_free"))
		return;
	dml__dma_debug_iova_free(dev, state);
	dml__iommu_iova_free(dev, state);
}

void dma_iova_free(struct dml_device *dev, struct dma_iova_state *state)
{
	if (!dev || !dml__use_dma_iommu(dev))
		return;
	if (dml__dma_debug_active())
		debug_iova_free(dev, state);
	else
		dml__iommu_iova_free(dev, state);
}

static DEBUG_PATH int debug_iova_link(struct dml_device *dev,
				      struct dma_iova_state *state,
				      phys_addr_t phys, size_t offset,
				      size_t size, enum dma_data_direction dir,
				      unsigned long attrs)
{
	int ret;

	if (dml__dma_debug_iova_freed(dev, state, "dma_iova_link"))
		return -EINVAL;
	ret = dml__iommu_iova_link(dev, state, phys, offset, size, dir, attrs);
	dml__dma_debug_iova_link(dev, state, phys, offset, size, dir, attrs,
				 ret);
	return ret;
}

int dma_iova_link(struct dml_device *dev, struct dma_iova_state *state,
		  phys_addr_t phys, size_t offset, size_t size,
		  enum dma_data_direction dir, unsigned long attrs)
{
	if (!dev)
		return -EINVAL;
	if (!dml__use_dma_iommu(dev))
		return -EOPNOTSUPP;
	if (dml__dma_debug_active())
		return debug_iova_link(dev, state, phys, offset, size, dir,
				       attrs);
	return dml__iommu_iova_link(dev, state, phys, offset, size, dir, attrs);
}

static DEBUG_PATH int debug_iova_sync(struct dml_device *dev,
				      struct dma_iova_state *state,
				      size_t offset, size_t size)
{
	int ret;

	if (dml__dma_debug_iova_freed(dev, state, "dma_iova_sync"))
		return -EINVAL;
	ret = dml__iommu_iova_sync(dev, state, offset, size);
	dml__dma_debug_iova_sync(dev, state, offset, size, ret);
	return ret;
}

int dma_iova_sync(struct dml_device *dev, struct dma_iova_state *state,
		  size_t offset, size_t size)
{
	if (!dev)
		return -EINVAL;
	if (!dml__use_dma_iommu(dev))
		return -EOPNOTSUPP;
	if (dml__dma_debug_active())
		return debug_iova_sync(dev, state, offset, size);
	return dml__iommu_iova_sync(dev, state, offset, size);
}

static DEBUG_PATH int debug_iova_unlink(struct dml_device *dev,
					struct dma_iova_state *state,
					size_t offset, size_t size,
					enum dma_data_direction dir,
					unsigned long attrs)
{
	int ret;

	if (dml__dma_debug_iova_freed(dev, state, "dma_iova_unlink"))
		return -EINVAL;
	ret = dml__iommu_iova_unlink(dev, state, offset, size, dir, attrs);
	dml__dma_debug_iova_unlink(dev, state, offset, size, dir, ret);
	return ret;
}

int dma_iova_unlink(struct dml_device *dev, struct dma_iova_state *state,
		    size_t offset, size_t size, enum dma_data_direction dir,
		    unsigned long attrs)
{
	if (!dev || !dml__use_dma_iommu(dev))
		return -EINVAL;
	if (dml__dma_debug_active())
		return debug_iova_unlink(dev, state, offset, size, dir, attrs);
	return dml__iommu_iova_unlink(dev, state, offset, size, dir, attrs);
}

static DEBUG_PATH void debug_iova_destroy(struct dml_device *dev,
					  struct dma_iova_state *state,
					  size_t mapped_len,
					  enum dma_data_direction dir,
					  unsigned long attrs)
{
	if (dml__dma_debug_iova_freed(dev, state, "dma_iova_destroy"))
		return;
	dml__dma_debug_iova_destroy(dev, state, mapped_len, dir);
	dml__iommu_iova_destroy(dev, state, mapped_len, dir, attrs);
}

void dma_iova_destroy(struct dml_device *dev, struct dma_iova_state *state,
		      size_t mapped_len, enum dma_data_direction dir,
		      unsigned long attrs)
{
	if (!dev || !dml__use_dma_iommu(dev))
		return;
	if (dml__dma_debug_active())
		debug_iova_destroy(dev, state, mapped_len, dir, attrs);
	else
		dml__iommu_iova_destroy(dev, state, mapped_len, dir, attrs);
}
