/* SPDX-License-Identifier: MIT */
/*
 * ram-exporter.c - host RAM exported as a dma-buf: the system heap (RAM
 * with a memmap from a layout allocator, drivers/dma-buf/heaps/
 * system_heap.c), its proposed decrypted twin for a confidential guest,
 * and a caller's RAM without a memmap.
 *
 * The decrypted heap (Proposed: Jiri Pirko's system_cc_decrypted heap
 * series, March 2026) converts its pages with set_memory_decrypted() at
 * allocation and back with set_memory_encrypted() at release; pages that
 * do not convert back are leaked, never reused as private.  Its sg
 * tables are mapped with DMA_ATTR_CC_SHARED (the series' "pre-decrypted"
 * attribute), so a device that is not accepted into the TVM reaches them
 * directly in the unencrypted encoding, without a bounce.  It offers SGT
 * only: a PAL carries no encryption state, so an importer mapping it
 * would take the pages for private memory.
 *
 * struct ram_buf holds the buffer's physical ranges, once as the PAL
 * that map_phys hands out (no provider: host memory) and, for the heap,
 * the layout that frees them.  SGT maps are per attachment: with pages
 * (the heap) an sg table of the ranges through dma_map_sgtable(), which
 * the exporter keeps on its @maps list so begin/end_cpu_access can sync
 * it for a non-coherent device; without pages the phys-vec table of
 * dma-buf-mapping.c.  The list is guarded by the reservation lock, which
 * map and unmap hold and the CPU-access ops take.
 */
#include <dmalink/cc.h>
#include <dmalink/dma-buf-exporter.h>

#include "base/base.h"
#include "dmabuf/dmabuf.h"

/* an sg_set_phys() entry is below 4 GiB: split longer ranges */
#define RAM_SG_MAX	(1ULL << 31)

struct ram_map {
	struct sg_table sgt;
	struct dml_device *dev;
	enum dma_data_direction dir;
	struct ram_map *next;
};

struct ram_buf {
	struct dml_platform *p;
	bool has_pages;
	bool cc_shared;			/* the decrypted heap's pages */
	struct dml_layout *layout;	/* the heap's allocator */
	struct ram_map *maps;
	struct dma_buf_phys_list list;
	struct dml_phys_range *ranges;	/* the heap's, for dml_layout_free */
	unsigned int nr;
	struct phys_vec v[];
};

static int ram_match(struct dma_buf_attachment *a,
		     const enum dma_buf_mapping_type *imp, size_t imp_len)
{
	static const enum dma_buf_mapping_type mine[] = {
		DMA_BUF_MAPPING_PAL, DMA_BUF_MAPPING_SGT,
	};
	struct ram_buf *e = a->dmabuf->priv;

	if (e->cc_shared)	/* the decrypted heap: SGT only */
		return dma_buf_match_mapping(a, imp, imp_len, &mine[1], 1);
	return dma_buf_match_mapping(a, imp, imp_len, mine, ARRAY_SIZE(mine));
}

/* the heap's DMA attributes: its decrypted pages are already shared */
static unsigned long page_attrs(const struct ram_buf *e)
{
	return e->cc_shared ? DMA_ATTR_CC_SHARED : 0;
}

/* the heap's table: the pages of every range, mapped for attach->dev */
static int page_sgt(struct dma_buf_attachment *a, struct ram_buf *e,
		    enum dma_data_direction dir, struct sg_table **out)
{
	struct scatterlist *sg;
	struct ram_map *m;
	unsigned int i, n = 0;
	int ret;

	for (i = 0; i < e->nr; i++)
		n += (unsigned int)DIV_ROUND_UP(e->v[i].len, RAM_SG_MAX);
	m = dml__zalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	ret = sg_alloc_table(&m->sgt, n);
	if (ret)
		goto err_free;
	sg = m->sgt.sgl;
	for (i = 0; i < e->nr; i++) {
		u64 off, len;

		for (off = 0; off < e->v[i].len; off += len, sg++) {
			len = min((u64)e->v[i].len - off, RAM_SG_MAX);
			sg_set_phys(sg, e->v[i].paddr + off, (unsigned int)len);
		}
	}
	ret = dma_map_sgtable(a->dev, &m->sgt, dir, page_attrs(e));
	if (ret)
		goto err_table;
	m->dev = a->dev;
	m->dir = dir;
	m->next = e->maps;
	e->maps = m;
	*out = &m->sgt;
	return 0;
err_table:
	sg_free_table(&m->sgt);
err_free:
	dml__free(m);
	return ret;
}

static int ram_map(struct dma_buf_attachment *a, enum dma_data_direction dir,
		   struct sg_table **out)
{
	struct ram_buf *e = a->dmabuf->priv;

	if (e->has_pages)
		return page_sgt(a, e, dir, out);
	return dml__phys_vec_to_sgt(a, NULL, e->v, e->nr, e->list.length, dir,
				    out);
}

static void ram_unmap(struct dma_buf_attachment *a, struct sg_table *sgt,
		      enum dma_data_direction dir)
{
	struct ram_buf *e = a->dmabuf->priv;
	struct ram_map **pp, *m;

	if (!e->has_pages) {
		dma_buf_free_sgt(a, sgt, dir);
		return;
	}
	m = container_of(sgt, struct ram_map, sgt);
	for (pp = &e->maps; *pp; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	dma_unmap_sgtable(a->dev, sgt, dir, page_attrs(e));
	sg_free_table(sgt);
	dml__free(m);
}

static int ram_map_phys(struct dma_buf_attachment *a,
			struct dma_buf_phys_list **out)
{
	*out = &((struct ram_buf *)a->dmabuf->priv)->list;
	return 0;
}

/* the CPU takes the memory: every mapped table synced for the CPU */
static int ram_begin_cpu(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	struct ram_buf *e = dmabuf->priv;
	struct ram_map *m;

	(void)dir;
	dma_resv_lock(dmabuf->resv, NULL);
	for (m = e->maps; m; m = m->next)
		dma_sync_sgtable_for_cpu(m->dev, &m->sgt, m->dir);
	dma_resv_unlock(dmabuf->resv);
	return 0;
}

/* and gives it back to the devices */
static int ram_end_cpu(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	struct ram_buf *e = dmabuf->priv;
	struct ram_map *m;

	(void)dir;
	dma_resv_lock(dmabuf->resv, NULL);
	for (m = e->maps; m; m = m->next)
		dma_sync_sgtable_for_device(m->dev, &m->sgt, m->dir);
	dma_resv_unlock(dmabuf->resv);
	return 0;
}

/* a CPU pointer to [pgoff, +len) when those pages are contiguous */
static int ram_mmap(struct dma_buf *dmabuf, size_t pgoff, size_t len,
		    void **addr)
{
	struct ram_buf *e = dmabuf->priv;
	u64 off = (u64)pgoff * PAGE_SIZE;
	unsigned int i;

	for (i = 0; i < e->nr && off >= e->v[i].len; i++)
		off -= e->v[i].len;
	if (i == e->nr || len > e->v[i].len - off)
		return -EINVAL;
	*addr = dml_kmap_local_phys(e->p, e->v[i].paddr + off, len);
	return *addr ? 0 : -EINVAL;
}

/*
 * the decrypted heap's pages to shared (set_memory_decrypted()) or back
 * to private (set_memory_encrypted(), which scrubs them): 0 or the first
 * -errno.  Converting pages already in that state changes nothing, so a
 * failed allocation converts all its ranges back.  When pages do not go
 * back to private the caller leaks them rather than let shared memory be
 * handed out as private.
 */
static int heap_convert(struct dml_platform *p, const struct dml_phys_range *r,
			unsigned int nr, bool shared)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; !ret && i < nr; i++) {
		int pages = (int)DIV_ROUND_UP(r[i].len, PAGE_SIZE);

		ret = shared ? set_memory_decrypted(p, r[i].phys, pages) :
			       set_memory_encrypted(p, r[i].phys, pages);
	}
	return ret;
}

static void ram_release(struct dma_buf *dmabuf)
{
	struct ram_buf *e = dmabuf->priv;

	DML_WARN_ON(e->maps);
	if (e->layout) {
		if (!e->cc_shared || !heap_convert(e->p, e->ranges, e->nr, false))
			dml_layout_free(e->layout, e->ranges, e->nr);
		dml_layout_destroy(e->layout);
	}
	dml__free(e->ranges);
	dml__free(e);
}

static const struct dma_buf_ops ram_ops = {
	.grants_cpu_access = true,
	.map_dma_buf = ram_map,
	.unmap_dma_buf = ram_unmap,
	.release = ram_release,
	.match_mapping = ram_match,
	.map_phys = ram_map_phys,
	.begin_cpu_access = ram_begin_cpu,
	.end_cpu_access = ram_end_cpu,
	.mmap = ram_mmap,
};

static struct ram_buf *ram_buf_alloc(struct dml_platform *p, unsigned int nr)
{
	struct ram_buf *e = dml__zalloc(sizeof(*e) + nr * sizeof(e->v[0]));

	if (!e)
		return NULL;
	e->p = p;
	e->nr = nr;
	e->list.nr_ranges = nr;
	e->list.phys = e->v;
	return e;
}

static int ram_export(struct ram_buf *e, struct dma_buf **out)
{
	struct dma_buf_export_info info = {
		.ops = &ram_ops, .size = e->list.length, .priv = e,
	};
	int ret;

	ret = dma_buf_export(&info, out);
	if (!ret)
		dml__dma_buf_set_memory(*out, e->p, e->v, e->nr);
	return ret;
}

/*
 * the system heap: @len bytes from @layout's allocator; with @cc_shared
 * the pages are converted to shared before anyone sees them
 */
static int heap_alloc(struct dml_platform *p, const char *layout, size_t len,
		      bool cc_shared, struct dma_buf **out)
{
	unsigned int i, nr, max;
	struct dml_phys_range *r;
	struct dml_layout *l;
	struct ram_buf *e;
	int ret;

	if (!p || !out || !len || len >= (1ULL << 32))
		return -EINVAL;
	ret = dml_layout_create(p, layout ? layout : "4k-descending", &l);
	if (ret)
		return ret;
	max = (unsigned int)DIV_ROUND_UP(len, PAGE_SIZE);
	r = dml__zalloc(max * sizeof(*r));
	if (!r) {
		ret = -ENOMEM;
		goto err_layout;
	}
	ret = dml_layout_alloc(l, len, r, max, &nr);
	if (ret)
		goto err_ranges;
	if (cc_shared) {
		ret = heap_convert(p, r, nr, true);
		if (ret)
			goto err_decrypted;
	}
	e = ram_buf_alloc(p, nr);
	if (!e) {
		ret = -ENOMEM;
		goto err_decrypted;
	}
	for (i = 0; i < nr; i++) {
		e->v[i].paddr = r[i].phys;
		e->v[i].len = r[i].len;
	}
	e->has_pages = true;
	e->cc_shared = cc_shared;
	e->layout = l;
	e->ranges = r;
	e->list.length = len;
	ret = ram_export(e, out);
	if (ret)
		goto err_buf;
	return 0;
err_buf:
	dml__free(e);
err_decrypted:
	if (cc_shared && heap_convert(p, r, nr, false))
		goto err_ranges;	/* leaked: never reused as private */
	dml_layout_free(l, r, nr);
err_ranges:
	dml__free(r);
err_layout:
	dml_layout_destroy(l);
	return ret;
}

int dml_system_heap_alloc(struct dml_platform *p, const char *layout,
			  size_t len, struct dma_buf **out)
{
	return heap_alloc(p, layout, len, false, out);
}

int dml_system_cc_decrypted_heap_alloc(struct dml_platform *p,
				       const char *layout, size_t len,
				       struct dma_buf **out)
{
	if (p && !cc_platform_has(p, CC_ATTR_GUEST_MEM_ENCRYPT))
		return -ENODEV;
	return heap_alloc(p, layout, len, true, out);
}

int dml_ram_dma_buf_export(struct dml_platform *p, phys_addr_t phys,
			   size_t len, struct dma_buf **out)
{
	struct ram_buf *e;
	int ret;

	if (!p || !out || !len || !IS_ALIGNED(phys, PAGE_SIZE) ||
	    !IS_ALIGNED(len, PAGE_SIZE) || !dml_phys_is_ram(p, phys, len))
		return -EINVAL;
	e = ram_buf_alloc(p, 1);
	if (!e)
		return -ENOMEM;
	e->v[0].paddr = phys;
	e->v[0].len = len;
	e->list.length = len;
	ret = ram_export(e, out);
	if (ret)
		dml__free(e);
	return ret;
}
