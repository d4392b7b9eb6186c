/* SPDX-License-Identifier: MIT */
/*
 * streaming.c - the checks the kernel's kernel/dma/debug.c makes, in its
 * order: the source memory and cache lines of a new mapping, recording
 * dma_map_phys() and coherent allocations, check_unmap() with best-fit
 * matching, dma_mapping_error(), scatterlists (segment limits at map, one
 * walk over the mapped segments for unmap and sync), and check_sync().
 */
#include <stdlib.h>

#include "internal.h"
#include "../p2p.h"
#include "../swiotlb.h"

/* ------------------------------------------------------------------ */
/* Recording mappings                                                 */
/* ------------------------------------------------------------------ */

/*
 * Add a CPU range of @o to the phys index, after the kernel's cacheline
 * check: another live mapping the device may write sharing a cache line
 * (not suppressed by DMA_ATTR_SKIP_CPU_SYNC on the new mapping).
 */
int dml__dbg_phys_add(struct ctx *c, struct dbg_obj *o, u64 phys, u64 len)
{
	/*
	 * With a and b on cache-line boundaries, [s, s + l) shares a line
	 * with [a, b) exactly when it overlaps it.
	 */
	u64 a = ALIGN_DOWN(phys, CACHELINE), b = ALIGN(phys + len, CACHELINE);
	size_t i = dml__rix_lower(&dml__dbg_phys_ix, b), k;

	if (!(o->attrs & DMA_ATTR_SKIP_CPU_SYNC)) {
		while ((k = dml__rix_prev_overlap(&dml__dbg_phys_ix, &i,
						   a, b)) != (size_t)-1) {
			const struct dbg_obj *other = dml__dbg_phys_ix.v[k].obj;

			if (other->dd->plat != o->dd->plat)
				continue;
			dml__dbg_report(c, o->dd,
					DML_DMA_DEBUG_CACHELINE_OVERLAP,
					&other->made, phys, len, NULL,
					"cacheline tracking EEXIST, overlapping mappings aren't supported [phys=0x%016llx] [size=%llu bytes] [overlaps %s device address=0x%016llx of %s mapped with %s]",
					(unsigned long long)phys,
					(unsigned long long)len,
					dml__dbg_type_name[other->type],
					(unsigned long long)other->dev_addr,
					other->dd->name,
					dml__dbg_dir_name(other->dir));
			break;
		}
	}
	return dml__rix_insert(&dml__dbg_phys_ix, phys, len, o);
}

/*
 * The kernel's source-memory checks (ref §6 item 4) on this platform:
 * emulated memory that no region backs or that is MMIO mapped without
 * DMA_ATTR_MMIO ("invalid area"), or carved for the DMA layer's own use,
 * e.g. page-table pages (our twin of "kernel text or rodata"); on the
 * vfio backend, where phys is a process address, the caller's stack.
 */
void dml__dbg_check_source(struct ctx *c, struct dbg_dev *dd, u64 phys,
			   u64 len, unsigned long attrs)
{
	struct dml_platform *p = dd->plat;
	struct dml_swiotlb *sw;
	u64 top;

	if (attrs & DMA_ATTR_MMIO) {
		dml__dbg_check_mmio(c, dd, phys, len);
		return;
	}
	if (!len)
		return;
	if (p->kind == DML_PLATFORM_EMU) {
		struct dml_mem_region *r = dml__mem_find(p->mem,
							 (phys_addr_t)phys,
							 len);

		if (!r || !(r->flags & DML_REGION_RAM)) {
			dml__dbg_report(c, dd, DML_DMA_DEBUG_MAP_BAD_MEMORY,
					NULL, phys, len, NULL,
					"device driver maps memory from invalid area [phys=0x%016llx] [len=%llu]%s",
					(unsigned long long)phys,
					(unsigned long long)len,
					r ? " (MMIO without DMA_ATTR_MMIO)" : "");
			return;
		}
		/*
		 * carved from the top of a RAM region, [carve_top, size), or
		 * the swiotlb pool, which may lie below it (under 4 GiB)
		 */
		top = __atomic_load_n(&r->carve_top, __ATOMIC_RELAXED);
		sw = dml__platform_slot(p, DML_SLOT_SWIOTLB);
		if ((top < r->size && phys + len > (u64)r->base + top) ||
		    (sw && phys < (u64)sw->end && phys + len > (u64)sw->start))
			dml__dbg_report(c, dd, DML_DMA_DEBUG_MAP_BAD_MEMORY,
					NULL, phys, len, NULL,
					"device driver maps memory from kernel text or rodata [phys=0x%016llx] [len=%llu] (memory the DMA layer owns: page tables, swiotlb)",
					(unsigned long long)phys,
					(unsigned long long)len);
		return;
	}
	{
		pthread_attr_t at;
		void *stack;
		size_t ssize;

		if (pthread_getattr_np(pthread_self(), &at))
			return;
		if (!pthread_attr_getstack(&at, &stack, &ssize) &&
		    phys < (u64)(uintptr_t)stack + ssize &&
		    phys + len > (u64)(uintptr_t)stack)
			dml__dbg_report(c, dd, DML_DMA_DEBUG_MAP_BAD_MEMORY,
					NULL, phys, len, NULL,
					"device driver maps memory from stack [addr=%p]",
					(void *)(uintptr_t)phys);
		pthread_attr_destroy(&at);
	}
}

/* put the CPU ranges of @e (already in e->cpu) in the phys index */
static void entry_add_cpu(struct ctx *c, struct dbg_entry *e)
{
	unsigned int i, n = e->nr_cpu;

	e->nr_cpu = 0;
	if (!obj_in_phys(e->o.dir, e->o.attrs))
		return;
	for (i = 0; i < n; i++) {
		if (dml__dbg_phys_add(c, &e->o, e->cpu[i].phys, e->cpu[i].len))
			return;
		e->nr_cpu++;
	}
}

void dml__dma_debug_map_phys(struct dml_device *dev, phys_addr_t phys,
			     size_t size, enum dma_data_direction dir,
			     unsigned long attrs, dma_addr_t dma_addr)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	struct dbg_entry *e;

	if (dma_addr == DMA_MAPPING_ERROR)
		return;
	dd = dml__dbg_dev_get(dev);
	if (!dd)
		return;
	dml__dbg_check_source(&c, dd, (u64)phys, size, attrs);
	e = dml__dbg_entry_new(&c, dd, T_PHY, (u64)dma_addr, size, dir, attrs);
	if (dev->cc_guest)
		dml__dbg_cc_map(&c, dd, e, (u64)phys, size, attrs);
	if (e) {
		e->phys = (u64)phys;
		e->map_err = MAP_ERR_NOT_CHECKED;
		e->cpu1 = (struct cpu_range){ .phys = (u64)phys, .len = size };
		e->nr_cpu = 1;
		entry_add_cpu(&c, e);
	}
	dml__dbg_unlock(&c);
}

void dml__dma_debug_alloc_coherent(struct dml_device *dev, size_t size,
				   dma_addr_t dma_addr, const void *cpu_addr,
				   bool noncoherent,
				   enum dma_data_direction dir)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	struct dbg_entry *e;

	if (!cpu_addr || dma_addr == DMA_MAPPING_ERROR)
		return;
	dd = dml__dbg_dev_get(dev);
	if (!dd)
		return;
	e = dml__dbg_entry_new(&c, dd, noncoherent ? T_NONCOHERENT : T_COHERENT,
			       (u64)dma_addr, size,
			       noncoherent ? dir : DMA_BIDIRECTIONAL, 0);
	if (e)
		e->phys = (u64)(uintptr_t)cpu_addr;
	dml__dbg_unlock(&c);
}

/* ------------------------------------------------------------------ */
/* Unmap and free: check_unmap with best-fit matching                 */
/* ------------------------------------------------------------------ */

/* what an unmap, free or sync says about the mapping it means */
struct ref {
	enum dbg_type type;
	u64 dev_addr;
	u64 size;
	enum dma_data_direction dir;
	int sg_call_ents;
	u64 phys;		/* coherent: CPU address */
};

/* the best match so far of a struct ref among the entries it may mean */
struct best_fit {
	struct dbg_entry *best;
	int matches;
	int lvl;		/* -1: none yet; 4: perfect */
};

/*
 * Score @e against @ref: size (exact for an unmap, enough for a sync:
 * @contain), type, direction and sg count, one point each.  Return: true
 * on a perfect match, which the caller takes at once.
 */
static bool best_fit_add(struct best_fit *b, struct dbg_entry *e,
			 const struct ref *ref, bool contain)
{
	int lvl = (contain ? e->o.size >= ref->size : e->o.size == ref->size) +
		  (e->o.type == ref->type) + (e->o.dir == ref->dir) +
		  (e->sg_call_ents == ref->sg_call_ents);

	b->matches++;
	if (lvl > b->lvl) {
		b->lvl = lvl;
		b->best = e;
	}
	return lvl == 4;
}

/* a perfect match, or else the best partial one if it was the only one */
static struct dbg_entry *best_fit_pick(const struct best_fit *b)
{
	return b->lvl == 4 || b->matches == 1 ? b->best : NULL;
}

/*
 * Best fit among the entries at exactly ref->dev_addr (kernel/dma/debug.c:
 * bucket_find_exact()).
 */
static struct dbg_entry *find_exact(struct dbg_dev *dd, const struct ref *ref)
{
	struct best_fit b = { .lvl = -1 };
	size_t i;

	for (i = dml__rix_lower(&dd->dma, ref->dev_addr);
	     i < dd->dma.n && dd->dma.v[i].start == ref->dev_addr; i++)
		if (best_fit_add(&b, dd->dma.v[i].obj, ref, false))
			break;
	return best_fit_pick(&b);
}

/*
 * Does the backend refuse the unmap @ref of @e, leaving it mapped?  Behind
 * an IOMMU, dma_unmap_phys() unmaps whole mappings only: with a size of a
 * different granule-rounded length it unmaps nothing, and the device can
 * still reach the whole mapping, so the checker keeps it (reported at
 * the unmap, then as a leak unless a right unmap follows).
 */
static bool unmap_refused(const struct dbg_dev *dd, const struct dbg_entry *e,
			  const struct ref *ref)
{
	u64 g, pad;

	if (e->o.type != T_PHY || ref->type != T_PHY ||
	    ref->size == e->o.size || !dml__use_dma_iommu(dd->dev))
		return false;
	g = dd->dev->domain->granule;
	pad = ref->dev_addr & (g - 1);
	return ref->size > SIZE_MAX - pad - g ||
	       DIV_ROUND_UP(ref->size + pad, g) != DIV_ROUND_UP(e->o.size + pad, g);
}

static void check_unmap(struct ctx *c, struct dbg_dev *dd, const struct ref *ref)
{
	struct dbg_entry *e = find_exact(dd, ref);

	/* a bus address handed back by itself (a list's own unmap is fine) */
	if ((!e || e->o.type != ref->type) && ref->type != T_SG &&
	    dml__dbg_p2p_unmap(c, dd, ref->dev_addr, ref->size))
		return;
	if (!e) {
		if (ref->dev_addr == (u64)DMA_MAPPING_ERROR)
			dml__dbg_report(c, dd, DML_DMA_DEBUG_FREE_INVALID_ADDR,
					NULL, ref->dev_addr, ref->size, NULL,
					"device driver tries to free an invalid DMA memory address");
		else
			dml__dbg_report(c, dd, DML_DMA_DEBUG_FREE_NOT_ALLOCATED,
					NULL, ref->dev_addr, ref->size, NULL,
					"device driver tries to free DMA memory it has not allocated [device address=0x%016llx] [size=%llu bytes]",
					(unsigned long long)ref->dev_addr,
					(unsigned long long)ref->size);
		return;
	}
	if (dd->dev->cc_guest)
		dml__dbg_cc_use(c, dd, e, "unmaps");
	if (ref->size != e->o.size)
		dml__dbg_report(c, dd, DML_DMA_DEBUG_FREE_WRONG_SIZE,
				&e->o.made, ref->dev_addr, ref->size, NULL,
				"device driver frees DMA memory with different size [device address=0x%016llx] [map size=%llu bytes] [unmap size=%llu bytes]",
				(unsigned long long)ref->dev_addr,
				(unsigned long long)e->o.size,
				(unsigned long long)ref->size);
	if (ref->type != e->o.type)
		dml__dbg_report(c, dd, DML_DMA_DEBUG_FREE_WRONG_FUNCTION,
				&e->o.made, ref->dev_addr, ref->size, NULL,
				"device driver frees DMA memory with wrong function [device address=0x%016llx] [size=%llu bytes] [mapped as %s] [unmapped as %s]",
				(unsigned long long)ref->dev_addr,
				(unsigned long long)ref->size,
				dml__dbg_type_name[e->o.type],
				dml__dbg_type_name[ref->type]);
	else if ((e->o.type == T_COHERENT || e->o.type == T_NONCOHERENT) &&
		 ref->phys != e->phys)
		dml__dbg_report(c, dd, DML_DMA_DEBUG_FREE_WRONG_CPU_ADDR,
				&e->o.made, ref->dev_addr, ref->size, NULL,
				"device driver frees DMA memory with different CPU address [device address=0x%016llx] [size=%llu bytes] [cpu alloc address=0x%016llx] [cpu free address=0x%016llx]",
				(unsigned long long)ref->dev_addr,
				(unsigned long long)ref->size,
				(unsigned long long)e->phys,
				(unsigned long long)ref->phys);
	if (ref->sg_call_ents && ref->type == T_SG &&
	    ref->sg_call_ents != e->sg_call_ents)
		dml__dbg_report(c, dd, DML_DMA_DEBUG_FREE_WRONG_SG_COUNT,
				&e->o.made, ref->dev_addr, ref->size, NULL,
				"device driver frees DMA sg list with different entry count [map count=%d] [unmap count=%d]",
				e->sg_call_ents, ref->sg_call_ents);
	if (ref->dir != e->o.dir)
		dml__dbg_report(c, dd, DML_DMA_DEBUG_FREE_WRONG_DIR, &e->o.made,
				ref->dev_addr, ref->size, NULL,
				"device driver frees DMA memory with different direction [device address=0x%016llx] [size=%llu bytes] [mapped with %s] [unmapped with %s]",
				(unsigned long long)ref->dev_addr,
				(unsigned long long)ref->size,
				dml__dbg_dir_name(e->o.dir),
				dml__dbg_dir_name(ref->dir));
	if (e->map_err == MAP_ERR_NOT_CHECKED)
		dml__dbg_report(c, dd, DML_DMA_DEBUG_MAP_ERROR_NOT_CHECKED,
				&e->o.made, ref->dev_addr, ref->size, NULL,
				"device driver failed to check map error [device address=0x%016llx] [size=%llu bytes] [mapped as %s]",
				(unsigned long long)ref->dev_addr,
				(unsigned long long)ref->size,
				dml__dbg_type_name[e->o.type]);
	/*
	 * An IOVA reservation is not released by a streaming unmap, nor is a
	 * mapping the backend keeps (unmap_refused()).
	 */
	if (e->o.type != T_IOVA && !unmap_refused(dd, e, ref))
		dml__dbg_entry_free(dd, e);
}

void dml__dma_debug_unmap_phys(struct dml_device *dev, dma_addr_t addr,
			       size_t size, enum dma_data_direction dir,
			       unsigned long attrs)
{
	struct ctx c = CTX_INIT;
	struct ref ref = { .type = T_PHY, .dev_addr = (u64)addr, .size = size,
			   .dir = dir };
	struct dbg_dev *dd = dml__dbg_dev_get(dev);

	(void)attrs;
	if (!dd)
		return;
	check_unmap(&c, dd, &ref);
	dml__dbg_unlock(&c);
}

void dml__dma_debug_free_coherent(struct dml_device *dev, size_t size,
				  const void *cpu_addr, dma_addr_t dma_addr,
				  bool noncoherent,
				  enum dma_data_direction dir)
{
	struct ctx c = CTX_INIT;
	struct ref ref = {
		.type = noncoherent ? T_NONCOHERENT : T_COHERENT,
		.dev_addr = (u64)dma_addr,
		.size = size,
		.dir = noncoherent ? dir : DMA_BIDIRECTIONAL,
		.phys = (u64)(uintptr_t)cpu_addr,
	};
	struct dbg_dev *dd;

	if (!cpu_addr)
		return;
	dd = dml__dbg_dev_get(dev);
	if (!dd)
		return;
	check_unmap(&c, dd, &ref);
	dml__dbg_unlock(&c);
}

void dml__dma_debug_mapping_error(struct dml_device *dev, dma_addr_t addr)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd = dml__dbg_dev_get(dev);
	size_t i;

	if (!dd)
		return;
	for (i = dml__rix_lower(&dd->dma, (u64)addr);
	     i < dd->dma.n && dd->dma.v[i].start == (u64)addr; i++) {
		struct dbg_entry *e = dd->dma.v[i].obj;

		if (e->map_err == MAP_ERR_NOT_CHECKED) {
			e->map_err = MAP_ERR_CHECKED;
			break;
		}
	}
	dml__dbg_unlock(&c);
}

/* ------------------------------------------------------------------ */
/* Scatterlists                                                       */
/* ------------------------------------------------------------------ */

void dml__dma_debug_map_sg(struct dml_device *dev, struct scatterlist *sgl,
			   int nents, int mapped_ents,
			   enum dma_data_direction dir, unsigned long attrs)
{
	struct ctx c = CTX_INIT;
	struct scatterlist *s, *cpu = sgl;
	struct dbg_dev *dd;
	int i, ci = 0;

	if (mapped_ents <= 0)
		return;
	dd = dml__dbg_dev_get(dev);
	if (!dd)
		return;
	/* peer memory the mapping path classified is mapped as MMIO (p2p.h) */
	for_each_sg(sgl, s, nents, i) {
		unsigned long s_attrs = dml__sg_is_p2p(s) ?
					attrs | DMA_ATTR_MMIO : attrs;

		dml__dbg_check_source(&c, dd, (u64)sg_phys(s), s->length,
				      s_attrs);
		if (dev->cc_guest)
			dml__dbg_cc_map(&c, dd, NULL, (u64)sg_phys(s),
					s->length, s_attrs);
	}
	for_each_sg(sgl, s, mapped_ents, i) {
		unsigned long s_attrs = sg_dma_is_bus_address(s) ?
					attrs | DMA_ATTR_MMIO : attrs;
		u64 start = (u64)sg_dma_address(s), len = sg_dma_len(s);
		u64 end = start + len - 1, boundary = dev->seg_boundary_mask;
		struct dbg_entry *e;
		u64 rem = len;
		unsigned int k = 0;

		if (len > dev->max_segment_size)
			dml__dbg_report(&c, dd, DML_DMA_DEBUG_SG_TOO_LONG, NULL,
					start, len, NULL,
					"mapping sg segment longer than device claims to support [len=%llu] [max=%u]",
					(unsigned long long)len,
					dev->max_segment_size);
		if (len && ((start ^ end) & ~boundary))
			dml__dbg_report(&c, dd, DML_DMA_DEBUG_SG_BOUNDARY, NULL,
					start, len, NULL,
					"mapping sg segment across boundary [start=0x%016llx] [end=0x%016llx] [boundary=0x%016llx]",
					(unsigned long long)start,
					(unsigned long long)end,
					(unsigned long long)boundary);
		e = dml__dbg_entry_new(&c, dd, T_SG, start, len, dir, s_attrs);
		if (!e)
			break;
		if (dev->cc_guest)
			dml__dbg_cc_map(&c, dd, e, 0, 0, s_attrs);
		e->sg_call_ents = nents;
		e->sg_mapped_ents = mapped_ents;
		e->map_err = MAP_ERR_NOT_APPLICABLE;
		e->phys = cpu && ci < nents ? (u64)sg_phys(cpu) : 0;
		/* the CPU entries this DMA segment was merged from, in order */
		if (obj_in_phys(dir, s_attrs)) {
			struct scatterlist *t = cpu;
			int tc = ci;

			while (t && tc < nents && rem) {
				rem -= min(rem, (u64)t->length);
				k++;
				t = sg_next(t);
				tc++;
			}
			if (k > 1) {
				e->cpu = calloc(k, sizeof(*e->cpu));
				if (!e->cpu) {
					e->cpu = &e->cpu1;
					dml__dbg_oom = true;
					break;
				}
			}
		}
		rem = len;
		while (cpu && ci < nents && rem) {
			u64 l = min(rem, (u64)cpu->length);

			if (e->nr_cpu < k)
				e->cpu[e->nr_cpu++] = (struct cpu_range){
					.phys = (u64)sg_phys(cpu), .len = l };
			rem -= l;
			cpu = sg_next(cpu);
			ci++;
		}
		entry_add_cpu(&c, e);
	}
	dml__dbg_unlock(&c);
}

/*
 * Walk the DMA segments of a mapped list as dma-debug does: the first
 * entry tells how many segments the map made (sg_mapped_ents); each one
 * is checked by @check (unmap or sync), under the checker's lock.
 */
static void sg_walk(struct dml_device *dev, struct scatterlist *sgl,
		    int nents, enum dma_data_direction dir,
		    void (*check)(struct ctx *c, struct dbg_dev *dd,
				  const struct ref *ref, bool to_cpu),
		    bool to_cpu)
{
	struct ctx c = CTX_INIT;
	struct scatterlist *s;
	struct dbg_dev *dd = dml__dbg_dev_get(dev);
	int i, mapped_ents = 0;

	if (!dd)
		return;
	for_each_sg(sgl, s, nents, i) {
		struct ref ref = {
			.type = T_SG,
			.dev_addr = (u64)sg_dma_address(s),
			.size = sg_dma_len(s),
			.dir = dir,
			.sg_call_ents = nents,
		};

		if (!i) {
			struct dbg_entry *e = find_exact(dd, &ref);

			mapped_ents = e ? e->sg_mapped_ents : 0;
		}
		if (mapped_ents && i >= mapped_ents)
			break;
		check(&c, dd, &ref, to_cpu);
		if (!mapped_ents)
			break;
	}
	dml__dbg_unlock(&c);
}

static void check_unmap_sg(struct ctx *c, struct dbg_dev *dd,
			   const struct ref *ref, bool to_cpu)
{
	(void)to_cpu;
	check_unmap(c, dd, ref);
}

void dml__dma_debug_unmap_sg(struct dml_device *dev, struct scatterlist *sgl,
			     int nents, enum dma_data_direction dir)
{
	sg_walk(dev, sgl, nents, dir, check_unmap_sg, false);
}

/* ------------------------------------------------------------------ */
/* Syncs                                                              */
/* ------------------------------------------------------------------ */

/*
 * The entry containing [addr, +size), best fit (kernel/dma/debug.c:
 * bucket_find_contain()); links are looked up by the caller for IOVA
 * reservations.
 */
static struct dbg_entry *find_contain(struct dbg_dev *dd, const struct ref *ref)
{
	struct best_fit b = { .lvl = -1 };
	size_t i = dml__rix_upper(&dd->dma, ref->dev_addr), k;

	while ((k = dml__rix_prev_overlap(&dd->dma, &i, ref->dev_addr,
					  ref->dev_addr + 1)) != (size_t)-1)
		if (best_fit_add(&b, dd->dma.v[k].obj, ref, true))
			break;
	return best_fit_pick(&b);
}

/* a report of check_sync() about directions: "device driver syncs @what" */
static void sync_dir_report(struct ctx *c, struct dbg_dev *dd,
			    const struct ref *ref, const struct dbg_obj *o,
			    enum dml_dma_debug_category cat, const char *what)
{
	dml__dbg_report(c, dd, cat, &o->made, ref->dev_addr, ref->size, NULL,
			"device driver syncs %s [device address=0x%016llx] [size=%llu bytes] [mapped with %s] [synced with %s]",
			what, (unsigned long long)ref->dev_addr,
			(unsigned long long)o->size, dml__dbg_dir_name(o->dir),
			dml__dbg_dir_name(ref->dir));
}

static void check_sync(struct ctx *c, struct dbg_dev *dd, const struct ref *ref,
		       bool to_cpu)
{
	struct dbg_entry *e = find_contain(dd, ref);
	struct dbg_obj *o;
	u64 end;

	if (!e) {
		dml__dbg_report(c, dd, DML_DMA_DEBUG_SYNC_NOT_ALLOCATED, NULL,
				ref->dev_addr, ref->size, NULL,
				"device driver tries to sync DMA memory it has not allocated [device address=0x%016llx] [size=%llu bytes]",
				(unsigned long long)ref->dev_addr,
				(unsigned long long)ref->size);
		return;
	}
	o = &e->o;
	if (dd->dev->cc_guest)
		dml__dbg_cc_use(c, dd, e, "syncs");
	if (e->o.type == T_IOVA) {
		/* dma_sync_single_* on a two-step address: the link decides */
		u64 off = ref->dev_addr - e->o.dev_addr;
		struct dbg_link *l = dml__dbg_link_at(e, off);

		if (!l) {
			dml__dbg_report(c, dd, DML_DMA_DEBUG_SYNC_NOT_ALLOCATED,
					&e->o.made, ref->dev_addr, ref->size,
					NULL,
					"device driver tries to sync DMA memory it has not allocated [device address=0x%016llx] [size=%llu bytes] (reserved IOVA, not linked)",
					(unsigned long long)ref->dev_addr,
					(unsigned long long)ref->size);
			return;
		}
		o = &l->o;
	}
	end = ref->dev_addr - o->dev_addr + ref->size;
	if (end > o->size || end < ref->size)
		dml__dbg_report(c, dd, DML_DMA_DEBUG_SYNC_OUTSIDE, &o->made,
				ref->dev_addr, ref->size, NULL,
				"device driver syncs DMA memory outside allocated range [device address=0x%016llx] [allocation size=%llu bytes] [sync offset+size=%llu]",
				(unsigned long long)o->dev_addr,
				(unsigned long long)o->size,
				(unsigned long long)end);
	if (ref->sg_call_ents && ref->type == T_SG &&
	    ref->sg_call_ents != e->sg_call_ents)
		dml__dbg_report(c, dd, DML_DMA_DEBUG_SYNC_WRONG_SG_COUNT,
				&o->made, ref->dev_addr, ref->size, NULL,
				"device driver syncs DMA sg list with different entry count [map count=%d] [sync count=%d]",
				e->sg_call_ents, ref->sg_call_ents);
	o->cpu_owned = to_cpu;
	if (o->dir == DMA_BIDIRECTIONAL)
		return;
	if (ref->dir != o->dir)
		sync_dir_report(c, dd, ref, o, DML_DMA_DEBUG_SYNC_WRONG_DIR,
				"DMA memory with different direction");
	if (to_cpu && o->dir != DMA_FROM_DEVICE && ref->dir != DMA_TO_DEVICE)
		sync_dir_report(c, dd, ref, o, DML_DMA_DEBUG_SYNC_RO_FOR_CPU,
				"device read-only DMA memory for cpu");
	if (!to_cpu && o->dir != DMA_TO_DEVICE && ref->dir != DMA_FROM_DEVICE)
		sync_dir_report(c, dd, ref, o, DML_DMA_DEBUG_SYNC_WO_TO_DEVICE,
				"device write-only DMA memory to device");
}

void dml__dma_debug_sync_single(struct dml_device *dev, dma_addr_t addr,
				size_t size, enum dma_data_direction dir,
				bool to_cpu)
{
	struct ctx c = CTX_INIT;
	struct ref ref = { .type = T_PHY, .dev_addr = (u64)addr, .size = size,
			   .dir = dir };
	struct dbg_dev *dd = dml__dbg_dev_get(dev);

	if (!dd)
		return;
	check_sync(&c, dd, &ref, to_cpu);
	dml__dbg_unlock(&c);
}

void dml__dma_debug_sync_sg(struct dml_device *dev, struct scatterlist *sgl,
			    int nelems, enum dma_data_direction dir,
			    bool to_cpu)
{
	sg_walk(dev, sgl, nelems, dir, check_sync, to_cpu);
}

