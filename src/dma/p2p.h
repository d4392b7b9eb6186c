/* SPDX-License-Identifier: MIT */
/*
 * p2p.h - PCI peer-to-peer memory on the scatterlist paths (direct.c,
 * dma-iommu.c): each CPU entry is classified with pci_p2pdma_state() for
 * the mapping device (one comparison and a load once the state holds the
 * provider; host RAM outside the span of the platform's BARs costs a
 * subtraction and a comparison), as dma_direct_map_sg() and
 * iommu_dma_map_sg() do in the kernel.
 *
 * Two marks in struct scatterlist's dma_flags:
 *  - SG_DMA_BUS_ADDRESS (dmalink/scatterlist.h) on a DMA segment: a bus
 *    address, never mapped, never unmapped;
 *  - DML_SG_DMA_P2P on a CPU entry: its memory is a peer's BAR (bus
 *    address or through the host bridge): no CPU cache maintenance, and
 *    on the IOMMU path mapped with IOMMU_MMIO.  It lives until unmap, so
 *    unmap and sync treat the entry as map did.
 * The two may sit on one entry of an IOMMU-mapped list (CPU entry i and
 * DMA segment i are different things once segments merge).  A third,
 * DML_SG_DMA_HAS_P2P on the first entry, says the list carries any: a
 * list of host RAM only is mapped and unmapped without touching the
 * marks, and unmap clears them all (dml__sg_p2p_clear()) only when set.
 */
#ifndef DML_DMA_P2P_H
#define DML_DMA_P2P_H

#include "dma.h"
#include "../pci/pci.h"

#define DML_SG_DMA_P2P (1U << 2)
#define DML_SG_DMA_HAS_P2P (1U << 3)

static inline bool dml__sg_is_p2p(const struct scatterlist *sg)
{
	return sg->dma_flags & DML_SG_DMA_P2P;
}

/* whether list @sgl carries peer-to-peer marks */
static inline bool dml__sg_has_p2p(const struct scatterlist *sgl)
{
	return sgl->dma_flags & DML_SG_DMA_HAS_P2P;
}

/* drop every peer-to-peer mark of the @nents entries of @sgl */
static inline void dml__sg_p2p_clear(struct scatterlist *sgl, int nents)
{
	struct scatterlist *s;
	int i;

	for_each_sg(sgl, s, nents, i)
		s->dma_flags &= ~(DML_SG_DMA_P2P | SG_DMA_BUS_ADDRESS);
	sgl->dma_flags &= ~DML_SG_DMA_HAS_P2P;
}

/*
 * struct dml_sg_p2p - what one scatterlist mapping call keeps: the
 * caller's pci_p2pdma_map_state of the kernel's loop (apart, so that only
 * it escapes to the classification and the rest stays in registers), and
 * the span of the platform's BARs read once, so that host RAM outside it
 * costs a subtraction and a comparison per entry and no call (a BAR added
 * while the call runs is seen by the next call)
 */
struct dml_sg_p2p {
	struct pci_p2pdma_map_state *st;
	phys_addr_t lo, span;
	struct scatterlist *sgl;
};

/*
 * dml__sg_p2p_init - start classifying the @nents entries of @sgl for
 * @dev; marks a previous map left (never unmapped) are dropped first
 */
static inline void dml__sg_p2p_init(struct dml_sg_p2p *p,
				    struct pci_p2pdma_map_state *st,
				    struct dml_device *dev,
				    struct scatterlist *sgl, int nents)
{
	struct dml_pci_root *root = dev->plat ?
		dml__platform_slot(dev->plat, DML_SLOT_PCI) : NULL;
	struct dml_pci_bar_table *t = root ?
		atomic_load_explicit(&root->bars, memory_order_acquire) : NULL;

	st->mem = NULL;
	st->map = PCI_P2PDMA_MAP_UNKNOWN;
	p->st = st;
	p->lo = t ? t->lo : 0;
	p->span = t ? t->hi - t->lo : 0;
	p->sgl = sgl;
	if (unlikely(dml__sg_has_p2p(sgl)))
		dml__sg_p2p_clear(sgl, nents);
}

/*
 * dml__sg_p2p_state - classify CPU entry @sg for @dev and note the result
 * in its flags (DML_SG_DMA_P2P for peer memory; the bus-address mark is
 * the caller's, on the DMA segment it fills)
 * Return: pci_p2pdma_state()'s map type.
 */
static inline enum pci_p2pdma_map_type
dml__sg_p2p_state(struct dml_sg_p2p *p, struct dml_device *dev,
		  struct scatterlist *sg)
{
	phys_addr_t phys = sg_phys(sg);
	enum pci_p2pdma_map_type map;

	if (likely(phys - p->lo >= p->span))
		return PCI_P2PDMA_MAP_NONE;	/* below or above every BAR */
	map = pci_p2pdma_state(p->st, dev, phys);
	if (map != PCI_P2PDMA_MAP_NONE) {
		sg->dma_flags |= DML_SG_DMA_P2P;
		p->sgl->dma_flags |= DML_SG_DMA_HAS_P2P;
	}
	return map;
}

#endif /* DML_DMA_P2P_H */
