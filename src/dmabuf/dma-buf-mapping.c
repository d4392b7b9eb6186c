/* SPDX-License-Identifier: MIT */
/*
 * dma-buf-mapping.c - sg tables of MMIO ranges for exporters without
 * struct pages (drivers/dma-buf/dma-buf-mapping.c, 6.19):
 * dma_buf_phys_vec_to_sgt() and dma_buf_free_sgt().
 *
 * The table lives in struct phys_sgt with what its unmap needs: the IOVA
 * state (none for bus addresses, not used when IOVA space could not be
 * reserved and each range went through dma_map_phys()) and the size.
 * The table has DMA entries only: no CPU list (no pages, orig_nents 0),
 * so an importer cannot reach the memory through it.  Each DMA entry is
 * at most ALIGN_DOWN(UINT_MAX, PAGE_SIZE) bytes, as sg_dma_len is 32 bits.
 */
#include <dmalink/dma-buf.h>

#include "base/base.h"
#include "dma/dma.h"

#define SGT_MAX_ENTRY ALIGN_DOWN((u64)UINT32_MAX, PAGE_SIZE)

struct phys_sgt {
	struct sg_table sgt;
	bool has_state;
	struct dma_iova_state state;
	size_t size;
};

/* entries for @len bytes */
static size_t entries_for(size_t len)
{
	return DIV_ROUND_UP(len, SGT_MAX_ENTRY);
}

/* emit [addr, addr + len) as entries from @sg on; returns the next one */
static struct scatterlist *fill_entries(struct scatterlist *sg, dma_addr_t addr,
					size_t len)
{
	while (len) {
		size_t n = min(len, (size_t)SGT_MAX_ENTRY);

		sg->dma_address = addr;
		sg->dma_length = (unsigned int)n;
		addr = (dma_addr_t)(addr + n);
		len -= n;
		sg++;
	}
	return sg;
}

/* undo the first @n dma_map_phys() entries of @ps */
static void unmap_entries(struct dml_device *dev, struct phys_sgt *ps,
			  unsigned int n, enum dma_data_direction dir)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		dma_unmap_phys(dev, ps->sgt.sgl[i].dma_address,
			       ps->sgt.sgl[i].dma_length, dir, DMA_ATTR_MMIO);
}

int dma_buf_phys_vec_to_sgt(struct dma_buf_attachment *attach,
			    struct p2pdma_provider *provider,
			    const struct phys_vec *phys_vec, size_t nr_ranges,
			    size_t size, enum dma_data_direction dir,
			    struct sg_table **out)
{
	struct scatterlist *sg;
	struct phys_sgt *ps;
	struct dml_device *dev;
	size_t i, sum = 0, nents = 0, mapped = 0;
	bool iova;
	int ret;

	if (!attach || !provider || !phys_vec || !nr_ranges || !out ||
	    !dml__valid_dir(dir) || dir == DMA_NONE)
		return -EINVAL;
	if (DML_WARN_ON(!dma_resv_held(attach->dmabuf->resv)))
		return -EINVAL;
	for (i = 0; i < nr_ranges; i++) {
		if (!phys_vec[i].len ||
		    __builtin_add_overflow(sum, phys_vec[i].len, &sum))
			return -EINVAL;
		nents += entries_for(phys_vec[i].len);
	}
	if (sum != size)
		return -EINVAL;
	dev = attach->dev;
	ps = dml__zalloc(sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	switch (pci_p2pdma_map_type(provider, dev)) {
	case PCI_P2PDMA_MAP_BUS_ADDR:
		break;
	case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
		ps->has_state = true;
		dma_iova_try_alloc(dev, &ps->state, 0, size);
		break;
	default:
		ret = -EINVAL;
		goto err_free;
	}
	iova = ps->has_state && dma_use_iova(&ps->state);
	if (iova)
		nents = entries_for(size);
	if (nents > UINT32_MAX) {
		ret = -EINVAL;
		goto err_iova;
	}
	ret = sg_alloc_table(&ps->sgt, (unsigned int)nents);
	if (ret)
		goto err_iova;
	sg = ps->sgt.sgl;
	for (i = 0; i < nr_ranges; i++) {
		const struct phys_vec *v = &phys_vec[i];
		dma_addr_t addr;

		if (!ps->has_state) {
			addr = pci_p2pdma_bus_addr_map(provider, v->paddr);
		} else if (iova) {
			ret = dma_iova_link(dev, &ps->state, v->paddr, mapped,
					    v->len, dir, DMA_ATTR_MMIO);
			if (ret)
				goto err_unmap;
			mapped += v->len;
			continue;
		} else {
			addr = dma_map_phys(dev, v->paddr, v->len, dir,
					    DMA_ATTR_MMIO);
			ret = dma_mapping_error(dev, addr);
			if (ret)
				goto err_unmap;
		}
		sg = fill_entries(sg, addr, v->len);
	}
	if (iova) {
		ret = dma_iova_sync(dev, &ps->state, 0, mapped);
		if (ret)
			goto err_unmap;
		sg = fill_entries(sg, ps->state.addr, mapped);
	}
	ps->sgt.nents = (unsigned int)(sg - ps->sgt.sgl);
	ps->sgt.orig_nents = 0;		/* no CPU list */
	ps->size = size;
	*out = &ps->sgt;
	return 0;

err_unmap:
	if (iova)
		dma_iova_destroy(dev, &ps->state, mapped, dir, DMA_ATTR_MMIO);
	else if (ps->has_state)
		unmap_entries(dev, ps, (unsigned int)(sg - ps->sgt.sgl), dir);
	sg_free_table(&ps->sgt);
	goto err_free;
err_iova:
	if (iova)
		dma_iova_free(dev, &ps->state);
err_free:
	dml__free(ps);
	return ret;
}

void dma_buf_free_sgt(struct dma_buf_attachment *attach, struct sg_table *sgt,
		      enum dma_data_direction dir)
{
	struct phys_sgt *ps;

	if (!attach || !sgt)
		return;
	ps = container_of(sgt, struct phys_sgt, sgt);
	if (ps->has_state && dma_use_iova(&ps->state))
		dma_iova_destroy(attach->dev, &ps->state, ps->size, dir,
				 DMA_ATTR_MMIO);
	else if (ps->has_state)
		unmap_entries(attach->dev, ps, sgt->nents, dir);
	sg_free_table(sgt);
	dml__free(ps);
}
