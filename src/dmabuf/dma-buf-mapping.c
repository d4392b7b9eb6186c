/* SPDX-License-Identifier: MIT */
/*
 * dma-buf-mapping.c - physical ranges mapped for a device: the modes of
 * struct dml__pv (dmabuf.h) that importers and exporters share, and on
 * them the sg tables of MMIO ranges for exporters without struct pages
 * (drivers/dma-buf/dma-buf-mapping.c, 6.19): dma_buf_phys_vec_to_sgt()
 * and dma_buf_free_sgt().
 *
 * The table lives in struct phys_sgt with what its unmap needs: the
 * struct dml__pv it was mapped with and the size.  The table has DMA
 * entries only: no CPU list (no pages, orig_nents 0), so an importer
 * cannot reach the memory through it.  Each DMA entry is at most
 * ALIGN_DOWN(UINT_MAX, PAGE_SIZE) bytes, as sg_dma_len is 32 bits.
 */
#include <string.h>

#include "dmabuf/dmabuf.h"

#include "base/base.h"
#include "dma/dma.h"

#define SGT_MAX_ENTRY ALIGN_DOWN((u64)UINT32_MAX, PAGE_SIZE)

int dml__pv_start(struct dml__pv *pv, struct dml_device *dev,
		  struct p2pdma_provider *provider, phys_addr_t phys,
		  size_t size)
{
	pv->dev = dev;
	pv->provider = provider;
	pv->attrs = provider ? DMA_ATTR_MMIO : 0;
	pv->linked = 0;
	memset(&pv->state, 0, sizeof(pv->state));
	if (!size)
		return -EINVAL;
	if (provider) {
		switch (pci_p2pdma_map_type(provider, dev)) {
		case PCI_P2PDMA_MAP_BUS_ADDR:
			pv->mode = DML_PV_BUS;
			return 0;
		case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
			break;
		default:
			return -EINVAL;
		}
	}
	pv->mode = dma_iova_try_alloc(dev, &pv->state, phys, size) ?
		   DML_PV_IOVA : DML_PV_PHYS;
	return 0;
}

void dml__pv_unmap(struct dml__pv *pv, dma_addr_t addr, size_t len,
		   enum dma_data_direction dir)
{
	if (pv->mode == DML_PV_PHYS)
		dma_unmap_phys(pv->dev, addr, len, dir, pv->attrs);
}

void dml__pv_unlink(struct dml__pv *pv, enum dma_data_direction dir)
{
	if (pv->mode != DML_PV_IOVA || !pv->linked)
		return;
	DML_WARN_ON(dma_iova_unlink(pv->dev, &pv->state, 0, pv->linked, dir,
				    pv->attrs));
	pv->linked = 0;
}

void dml__pv_end(struct dml__pv *pv, enum dma_data_direction dir)
{
	if (pv->mode != DML_PV_IOVA)
		return;
	dma_iova_destroy(pv->dev, &pv->state, pv->linked, dir, pv->attrs);
	pv->linked = 0;
}

struct phys_sgt {
	struct sg_table sgt;
	struct dml__pv pv;
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

/* undo the first @n entries of @ps (PHYS mode maps each) */
static void unmap_entries(struct phys_sgt *ps, unsigned int n,
			  enum dma_data_direction dir)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		dml__pv_unmap(&ps->pv, ps->sgt.sgl[i].dma_address,
			      ps->sgt.sgl[i].dma_length, dir);
}

int dml__phys_vec_to_sgt(struct dma_buf_attachment *attach,
			 struct p2pdma_provider *provider,
			 const struct phys_vec *phys_vec, size_t nr_ranges,
			 size_t size, enum dma_data_direction dir,
			 struct sg_table **out)
{
	struct scatterlist *sg;
	struct phys_sgt *ps;
	size_t i, sum = 0, nents = 0;
	bool iova;
	int ret;

	if (!attach || !phys_vec || !nr_ranges || !out ||
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
	ps = dml__zalloc(sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ret = dml__pv_start(&ps->pv, attach->dev, provider, phys_vec[0].paddr,
			    size);
	if (ret)
		goto err_free;
	iova = ps->pv.mode == DML_PV_IOVA;
	if (iova)
		nents = entries_for(size);
	if (nents > UINT32_MAX) {
		ret = -EINVAL;
		goto err_end;
	}
	ret = sg_alloc_table(&ps->sgt, (unsigned int)nents);
	if (ret)
		goto err_end;
	sg = ps->sgt.sgl;
	for (i = 0; i < nr_ranges; i++) {
		dma_addr_t addr;

		ret = dml__pv_map(&ps->pv, &phys_vec[i], dir, &addr);
		if (ret)
			goto err_unmap;
		if (!iova)
			sg = fill_entries(sg, addr, phys_vec[i].len);
	}
	if (iova) {
		ret = dml__pv_sync(&ps->pv);
		if (ret)
			goto err_unmap;
		sg = fill_entries(sg, ps->pv.state.addr, size);
	}
	ps->sgt.nents = (unsigned int)(sg - ps->sgt.sgl);
	ps->sgt.orig_nents = 0;		/* no CPU list */
	ps->size = size;
	*out = &ps->sgt;
	return 0;

err_unmap:
	unmap_entries(ps, (unsigned int)(sg - ps->sgt.sgl), dir);
	sg_free_table(&ps->sgt);
err_end:
	dml__pv_end(&ps->pv, dir);
err_free:
	dml__free(ps);
	return ret;
}

int dma_buf_phys_vec_to_sgt(struct dma_buf_attachment *attach,
			    struct p2pdma_provider *provider,
			    const struct phys_vec *phys_vec, size_t nr_ranges,
			    size_t size, enum dma_data_direction dir,
			    struct sg_table **out)
{
	if (!provider)
		return -EINVAL;
	return dml__phys_vec_to_sgt(attach, provider, phys_vec, nr_ranges,
				    size, dir, out);
}

void dma_buf_free_sgt(struct dma_buf_attachment *attach, struct sg_table *sgt,
		      enum dma_data_direction dir)
{
	struct phys_sgt *ps;

	if (!attach || !sgt)
		return;
	ps = container_of(sgt, struct phys_sgt, sgt);
	if (ps->pv.mode == DML_PV_IOVA)
		dml__pv_end(&ps->pv, dir);
	else
		unmap_entries(ps, sgt->nents, dir);
	sg_free_table(sgt);
	dml__free(ps);
}
