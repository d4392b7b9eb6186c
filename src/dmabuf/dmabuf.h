/* SPDX-License-Identifier: MIT */
/*
 * dmabuf.h - what the dma-buf files share: mapping a list of physical
 * ranges for one device (dma-buf-mapping.c), used by the phys-vec sg
 * tables, the importers that map a PAL themselves, and the exporters of
 * memory without struct pages.
 *
 * struct dml__pv is one mapping of ranges in one of three modes, chosen
 * by dml__pv_start() from the memory's P2P provider and the device:
 * BUS (peer memory reached by bus address below a common switch, nothing
 * mapped), IOVA (one IOVA reservation for the whole size, every range
 * linked behind the previous one, one sync) or PHYS (no IOVA space: each
 * range through dma_map_phys()).  Provider memory is mapped with
 * DMA_ATTR_MMIO; host RAM (no provider) without.
 */
#ifndef DML_DMABUF_H
#define DML_DMABUF_H

#include <dmalink/dma-buf.h>

#include "dma/debug.h"

enum dml__pv_mode { DML_PV_BUS, DML_PV_IOVA, DML_PV_PHYS };

struct dml__pv {
	struct dml_device *dev;
	struct p2pdma_provider *provider;
	enum dml__pv_mode mode;
	unsigned long attrs;
	struct dma_iova_state state;
	size_t linked;		/* IOVA: bytes linked from offset 0 */
};

/*
 * dml__pv_start - pick the mode for ranges of @provider (NULL: host RAM)
 * of @size bytes in all, the first at @phys, mapped for @dev; IOVA mode
 * reserves the space.  Return: 0; -EINVAL when @dev cannot reach the
 * provider's memory (PCI_P2PDMA_MAP_NOT_SUPPORTED) or @size is 0.
 */
int dml__pv_start(struct dml__pv *pv, struct dml_device *dev,
		  struct p2pdma_provider *provider, phys_addr_t phys,
		  size_t size);

/*
 * dml__pv_map - map one range; IOVA mode links it at the next offset
 * (not visible to the device before dml__pv_sync()).  *@addr: its DMA
 * address.  Return: 0 or the mapping error (-EIO, -ENOMEM, ...), with
 * nothing of this range mapped.
 */
static inline int dml__pv_map(struct dml__pv *pv, const struct phys_vec *v,
			      enum dma_data_direction dir, dma_addr_t *addr)
{
	int ret;

	switch (pv->mode) {
	case DML_PV_BUS:
		*addr = pci_p2pdma_bus_addr_map(pv->provider, v->paddr);
		return 0;
	case DML_PV_IOVA:
		ret = dma_iova_link(pv->dev, &pv->state, v->paddr, pv->linked,
				    v->len, dir, pv->attrs);
		if (ret)
			return ret;
		*addr = (dma_addr_t)(pv->state.addr + pv->linked);
		pv->linked += v->len;
		return 0;
	default:
		*addr = dma_map_phys(pv->dev, v->paddr, v->len, dir, pv->attrs);
		return dma_mapping_error(pv->dev, *addr);
	}
}

/* dml__pv_sync - IOVA mode: make every link visible; 0 or -errno */
static inline int dml__pv_sync(struct dml__pv *pv)
{
	if (pv->mode != DML_PV_IOVA)
		return 0;
	return dma_iova_sync(pv->dev, &pv->state, 0, pv->linked);
}

/* dml__pv_unmap - PHYS mode: unmap one range dml__pv_map() mapped */
void dml__pv_unmap(struct dml__pv *pv, dma_addr_t addr, size_t len,
		   enum dma_data_direction dir);

/* dml__pv_unlink - IOVA mode: unlink everything, keep the reservation */
void dml__pv_unlink(struct dml__pv *pv, enum dma_data_direction dir);

/* dml__pv_end - IOVA mode: unlink and free the reservation */
void dml__pv_end(struct dml__pv *pv, enum dma_data_direction dir);

/*
 * dml__phys_vec_to_sgt - dma_buf_phys_vec_to_sgt() for any memory:
 * @provider NULL maps host RAM (without struct pages or not) the same
 * way, without DMA_ATTR_MMIO.  Arguments, table and errors as the public
 * one, lock included.
 */
int dml__phys_vec_to_sgt(struct dma_buf_attachment *attach,
			 struct p2pdma_provider *provider,
			 const struct phys_vec *phys_vec, size_t nr_ranges,
			 size_t size, enum dma_data_direction dir,
			 struct sg_table **out);

/*
 * The checker's dma-buf rule (dma/debug/dmabuf.c): exporters declare
 * their buffer's memory, and run their own CPU access to it between
 * dml__dma_buf_exporter_enter() and _leave() (the core does it around
 * the ops it calls).
 */
void dml__dma_buf_set_memory(struct dma_buf *dmabuf, struct dml_platform *p,
			     const struct phys_vec *v, size_t nr);

static inline void dml__dma_buf_exporter_enter(void)
{
	dml__dma_debug_dmabuf_exporter++;
}

static inline void dml__dma_buf_exporter_leave(void)
{
	dml__dma_debug_dmabuf_exporter--;
}

#endif /* DML_DMABUF_H */
