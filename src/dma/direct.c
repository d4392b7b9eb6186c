/* SPDX-License-Identifier: MIT */
/*
 * direct.c - dma-direct (kernel/dma/direct.c) for devices without an
 * IOMMU: the DMA address is the physical address, checked against the
 * device's mask and bus limit.  An address the device cannot reach is
 * bounced through swiotlb when the platform has a pool, else it is an
 * error with the kernel's "overflow" message; a force_bounce device
 * bounces everything (MMIO then fails: it cannot be bounced).  On a
 * non-coherent device the CPU cache is cleaned on map and invalidated on
 * unmap (src/mem/cache.c), unless DMA_ATTR_SKIP_CPU_SYNC or MMIO, and a
 * small buffer that may share its cache lines with other data is bounced
 * (dma_kmalloc_needs_bounce()).  DMA_ATTR_REQUIRE_COHERENT mappings are
 * never bounced: where one would be needed the map fails.
 * Scatterlists may hold peer-to-peer memory (p2p.h, dma_direct_map_sg()).
 * A device of a confidential guest takes cc_map_phys() (the encodings of
 * src/mem/encrypt.c, acceptance from src/pci/tdisp.c); unmap strips the
 * encryption bit from every address, which costs one AND elsewhere.
 */
#include "p2p.h"
#include "swiotlb.h"
#include "../mem/cache.h"

/* ARCH_DMA_MINALIGN of arm64, bytes: the largest cache line DMA must respect */
#define DML_ARCH_DMA_MINALIGN 128

/* kmalloc_size_roundup() below 2 * ARCH_DMA_MINALIGN: the kmalloc size classes */
static size_t kmalloc_size_roundup(size_t size)
{
	static const size_t classes[] = { 8, 16, 32, 64, 96, 128, 192 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(classes); i++)
		if (size <= classes[i])
			return classes[i];
	return 256;
}

bool dml__dma_kmalloc_needs_bounce(struct dml_device *dev, size_t size,
				   enum dma_data_direction dir)
{
	/* dma_kmalloc_safe(): coherent devices and DMA_TO_DEVICE are safe */
	if (!dev->non_coherent || dir == DMA_TO_DEVICE)
		return false;
	/* dma_kmalloc_size_aligned() */
	if (size >= 2 * DML_ARCH_DMA_MINALIGN ||
	    IS_ALIGNED(kmalloc_size_roundup(size), DML_CACHE_LINE))
		return false;
	/* kmalloc() is only less aligned than a cache line with a pool */
	return dml__swiotlb_active(dev->plat);
}

/* map @phys as @dma_addr (its encoding) unless the device cannot reach it */
static inline __attribute__((always_inline)) dma_addr_t
map_reachable(struct dml_device *dev, phys_addr_t phys, dma_addr_t dma_addr,
	      size_t size, enum dma_data_direction dir, unsigned long attrs)
{
	if (unlikely(!dml__dma_capable(dev, dma_addr, size) ||
		     (dev->non_coherent && !(attrs & DMA_ATTR_MMIO) &&
		      dml__dma_kmalloc_needs_bounce(dev, size, dir)))) {
		if (!(attrs & (DMA_ATTR_MMIO | DMA_ATTR_REQUIRE_COHERENT)) &&
		    dml__swiotlb_active(dev->plat))
			return dml__swiotlb_map(dev, phys, size, dir, attrs);
		dml__warn("%s: DMA addr %#llx+%zu overflow (mask %llx, bus limit %llx).",
			  dev->name, (unsigned long long)dma_addr, size,
			  (unsigned long long)dev->dma_mask,
			  (unsigned long long)dev->bus_dma_limit);
		return DMA_MAPPING_ERROR;
	}
	if (unlikely(dev->non_coherent) &&
	    !(attrs & (DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_MMIO)))
		dml__arch_sync_dma_for_device(dev->plat, phys, size, dir);
	return dma_addr;
}

/*
 * A device of a confidential guest (the proposed DMA_ATTR_CC_SHARED
 * series; force_dma_unencrypted() of arch/x86/mm/mem_encrypt.c): memory
 * the caller says is shared, and MMIO, go direct with the unencrypted
 * encoding; a device accepted into its TVM and in RUN reaches private
 * memory directly with the encrypted encoding; any other device bounces
 * through the pool, which is shared, and never reaches private memory.
 * Private MMIO (a BAR of a device in TDISP RUN) is private memory that
 * cannot bounce: mapped with the encrypted encoding for a device accepted
 * into its TVM, refused for any other.
 */
static __attribute__((noinline, cold)) dma_addr_t
cc_map_phys(struct dml_device *dev, phys_addr_t phys, size_t size,
	    enum dma_data_direction dir, unsigned long attrs)
{
	bool shared = attrs & (DMA_ATTR_CC_SHARED | DMA_ATTR_MMIO), private;

	/* private MMIO: only its TVM's accepted devices, encrypted encoding */
	if (dml__cc_mmio_refused(dev, phys, size, attrs, &private))
		return DMA_MAPPING_ERROR;
	if (private)
		shared = false;

	if (!dml__cc_must_bounce(dev, attrs))
		return map_reachable(dev, phys,
				     dml__cc_encode(dev->plat->mem, phys, shared),
				     size, dir, attrs);
	if ((attrs & DMA_ATTR_REQUIRE_COHERENT) || !dml__swiotlb_active(dev->plat))
		return DMA_MAPPING_ERROR;
	return dml__swiotlb_map(dev, phys, size, dir, attrs);
}

dma_addr_t dml__direct_map_phys(struct dml_device *dev, phys_addr_t phys,
				size_t size, enum dma_data_direction dir,
				unsigned long attrs)
{
	/* one test for both rare kinds of device: forced bounce, CC guest */
	if (unlikely(dev->force_bounce | dev->cc_guest)) {
		if (dev->cc_guest)
			return cc_map_phys(dev, phys, size, dir, attrs);
		if (attrs & (DMA_ATTR_MMIO | DMA_ATTR_REQUIRE_COHERENT))
			return DMA_MAPPING_ERROR;
		return dml__swiotlb_map(dev, phys, size, dir, attrs);
	}
	return map_reachable(dev, phys, (dma_addr_t)phys, size, dir, attrs);
}

void dml__direct_unmap_phys(struct dml_device *dev, dma_addr_t addr,
			    size_t size, enum dma_data_direction dir,
			    unsigned long attrs)
{
	/* dma_to_phys(): the encryption bit is not part of the address */
	phys_addr_t phys = (phys_addr_t)(addr & ~dev->cc_mask);

	if (attrs & (DMA_ATTR_MMIO | DMA_ATTR_REQUIRE_COHERENT))
		return;
	if (unlikely(dev->non_coherent) && !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		dml__arch_sync_dma_for_cpu(dev->plat, phys, size, dir);
	if (unlikely(dml__is_swiotlb_buffer(dev->plat, phys)))
		dml__swiotlb_tbl_unmap_single(dev, phys, size, dir, attrs);
}

void dml__direct_unmap_sg(struct dml_device *dev, struct scatterlist *sgl,
			  int nents, enum dma_data_direction dir,
			  unsigned long attrs)
{
	bool p2p = dml__sg_has_p2p(sgl);
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		unsigned long a = attrs;

		if (unlikely(p2p)) {
			/* dma_direct_unmap_sg(): a bus address was never mapped */
			if (sg_dma_is_bus_address(sg))
				continue;
			if (dml__sg_is_p2p(sg))
				a |= DMA_ATTR_MMIO;
		}
		if (sg_dma_len(sg))
			dml__direct_unmap_phys(dev, sg->dma_address,
					       sg_dma_len(sg), dir, a);
	}
	if (unlikely(p2p))
		dml__sg_p2p_clear(sgl, nents);
}

int dml__direct_map_sg(struct dml_device *dev, struct scatterlist *sgl,
		       int nents, enum dma_data_direction dir,
		       unsigned long attrs)
{
	struct pci_p2pdma_map_state st;
	struct dml_sg_p2p p2p;
	struct scatterlist *sg;
	int i, ret = -EIO;

	dml__sg_p2p_init(&p2p, &st, dev, sgl, nents);
	for_each_sg(sgl, sg, nents, i) {
		switch (dml__sg_p2p_state(&p2p, dev, sg)) {
		case PCI_P2PDMA_MAP_NONE:
			sg->dma_address = dml__direct_map_phys(dev, sg_phys(sg),
							       sg->length, dir,
							       attrs);
			break;
		case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
			/* only this entry: the next may be host RAM */
			sg->dma_address = dml__direct_map_phys(dev, sg_phys(sg),
							       sg->length, dir,
							       attrs | DMA_ATTR_MMIO);
			break;
		case PCI_P2PDMA_MAP_BUS_ADDR:
			sg->dma_address = pci_p2pdma_bus_addr_map(st.mem,
								  sg_phys(sg));
			sg_dma_mark_bus_address(sg);
			break;
		default:
			ret = -EREMOTEIO;
			goto err_unmap;
		}
		if (sg->dma_address == DMA_MAPPING_ERROR)
			goto err_unmap;
		sg->dma_length = sg->length;
	}
	return nents;

err_unmap:
	/* dma_direct_map_sg(): undo what this call mapped, drop the marks */
	dml__direct_unmap_sg(dev, sgl, i, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
	dml__sg_p2p_clear(sgl, nents);
	return ret;
}
