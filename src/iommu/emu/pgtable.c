/* SPDX-License-Identifier: MIT */
/*
 * pgtable.c - the VT-d second-level page table of an emulated domain: map,
 * unmap, iova_to_phys, iotlb_sync_map (caching mode), and the walk a device
 * access makes.  The entry format and the concurrency rules are in emu.h;
 * freeing empty tables is reclaim.c's.
 *
 * Invariants:
 *  - a non-present entry is exactly 0; an entry pointing to a table has R|W
 *    set and no other bit but the address;
 *  - tables are installed by map (compare-and-exchange on the parent entry)
 *    and freed only by a trim (reclaim.c), while no map, unmap or
 *    iotlb_sync_map runs; the one exception is a map that puts a superpage
 *    leaf where empty tables hang, which frees them itself: it owns the
 *    whole range they translate, so no other mapper can be inside;
 *  - unmap clears leaves and leaves tables linked; a table it leaves empty
 *    goes on the domain's gather list (reclaim.c) for the next trim, which
 *    the domain-wide flush, dml_iommu_trim() and a full list run;
 *  - map chooses the largest leaf alignment allows (1 GiB, 2 MiB, 4 KiB
 *    with superpages; 4 KiB without); leaves are never split or merged;
 *  - bad input never changes anything: -EINVAL before any write, -EEXIST
 *    and -ENOMEM undo what the call mapped, EXACT unmap checks everything
 *    before it clears anything.
 *
 * Locking: none on map, unmap, iotlb_sync_map and walks.  Callers own
 * their ranges (map/unmap of overlapping ranges at the same time is a bug
 * of the caller, as in the kernel); emu_op_enter() / emu_op_exit() only
 * tell a trim when it may free tables.  Device walks (emu_pt_walk) do not
 * even that: table memory is never unmapped and every table address a
 * walk follows is bounds-checked against the RAM region the pool carves
 * from, so a walk racing with an unmap or a trim of its range reads old or
 * new entries but never crashes.
 * What cannot fail: unmap after its checks, iotlb_sync_map, the walk.
 */
#include "emu.h"

/* ---- helpers ---- */

static inline u64 span_of(unsigned int level)
{
	return 1ULL << EMU_LVL_SHIFT(level);
}

/* the IOVA after the last one the level-@level entry of @iova translates */
static inline u64 entry_end(u64 iova, unsigned int level)
{
	return (iova | (span_of(level) - 1)) + 1;
}

static inline u64 table_entry(struct emu_domain *d, const u64 *t)
{
	return (emu_table_phys(d->iommu, t) & VTD_PTE_ADDR) | VTD_PTE_PRESENT;
}

/*
 * Install a new table at *@p, which was 0: the loser of a race frees its
 * table and follows the winner's.  Return the entry now at *@p; 0 and
 * *@err on -ENOMEM.
 */
static u64 install(struct emu_domain *d, struct emu_slot *s, u64 *p, int *err)
{
	u64 *nt, e, old = 0;
	int ret;

	ret = emu_pt_alloc(d->iommu, &nt);
	if (ret) {
		*err = ret;
		return 0;
	}
	e = table_entry(d, nt);
	if (__atomic_compare_exchange_n(p, &old, e, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE)) {
		emu_count(s, &s->touched, 1);
		return e;
	}
	emu_pt_free(d->iommu, nt);
	return old;
}

/*
 * The table of level @level that translates @iova, installing the missing
 * ones above it when @alloc.  Return: the table; NULL and *@err: -EEXIST
 * when a superpage leaf above @level covers @iova, -ENOENT when a table is
 * missing (!@alloc), -ENOMEM.
 */
static u64 *__attribute__((noinline))
get_table_walk(struct emu_domain *d, struct emu_slot *s, u64 iova,
	       unsigned int level, bool alloc, int *err, u64 gen)
{
	u64 *t = d->root;
	unsigned int l;

	for (l = d->levels; l > level; l--) {
		u64 *p = &t[emu_idx(iova, l)];
		u64 e = emu_pte_read(p);

		if (!e) {
			if (!alloc) {
				*err = -ENOENT;
				return NULL;
			}
			e = install(d, s, p, err);
			if (!e)
				return NULL;
		}
		if (e & VTD_PTE_PS) {
			*err = -EEXIST;
			return NULL;
		}
		t = emu_table(d->iommu, e);
	}
	if (level == 1 && !s->shared) {
		s->leaf_win = iova >> EMU_LVL_SHIFT(2);
		s->leaf_t = t;
		s->leaf_gen = gen;
	}
	return t;
}

/*
 * get_table_walk() (which caches a leaf table it finds under @gen, the
 * pool generation read before the walk), first asking the leaf table
 * this thread used last:
 * no table was freed since (pool gen), so it is still the one its
 * window's entry points to (a table is freed only by a trim, which no
 * operation overlaps, or by the owner of its whole window mapping a
 * superpage there).  Inline: it is the whole walk of most links.
 */
static inline u64 *get_table(struct emu_domain *d, struct emu_slot *s,
			     u64 iova, unsigned int level, bool alloc,
			     int *err)
{
	u64 gen = 0;

	if (level == 1 && !s->shared) {
		gen = atomic_load_explicit(&d->iommu->pool.gen,
					   memory_order_acquire);
		if (s->leaf_t && s->leaf_win == iova >> EMU_LVL_SHIFT(2) &&
		    s->leaf_gen == gen)
			return s->leaf_t;
	}
	return get_table_walk(d, s, iova, level, alloc, err, gen);
}

/* does the table @e points to (of level @level) hold no leaf at all? */
static bool subtree_empty(struct emu_domain *d, u64 e, unsigned int level)
{
	const u64 *t = emu_table(d->iommu, e);
	unsigned int i;

	if (level == 1)
		return emu_ptes_empty(t);
	for (i = 0; i < EMU_PTES; i++) {
		u64 c = emu_pte_read(&t[i]);

		if (c && ((c & VTD_PTE_PS) || !subtree_empty(d, c, level - 1)))
			return false;
	}
	return true;
}

/* free the empty table @e points to (level @level) and the tables below */
static void subtree_free(struct emu_domain *d, u64 e, unsigned int level)
{
	u64 *t = emu_table(d->iommu, e);
	unsigned int i;

	if (level > 1) {
		for (i = 0; i < EMU_PTES; i++) {
			u64 c = emu_pte_read(&t[i]);

			if (c) {
				emu_pte_write(&t[i], 0);
				subtree_free(d, c, level - 1);
			}
		}
	}
	emu_pt_free(d->iommu, t);
}

/* ---- map ---- */

_Static_assert(IOMMU_READ == VTD_PTE_R && IOMMU_WRITE == VTD_PTE_W,
	       "prot's read and write bits are the entry's");
_Static_assert((u64)DML_MAP_LINK_HEAD << 52 == EMU_PTE_HEAD &&
	       (u64)DML_MAP_LINK_TAIL << 53 == EMU_PTE_TAIL,
	       "a link's flags shift onto HEAD and TAIL");

/* the flag bits of a leaf mapped with @prot and DML_MAP_LINK_* @flags */
static inline u64 emu_leaf_pte_flags(const struct emu_domain *d, int prot,
				     unsigned int flags)
{
	u64 pte = d->leaf_flags | (unsigned int)(prot & (IOMMU_READ | IOMMU_WRITE));

	if ((prot & (IOMMU_CACHE | IOMMU_MMIO)) == IOMMU_CACHE)
		pte |= VTD_PTE_SNP;
	return pte | (u64)(flags & DML_MAP_LINK_HEAD) << 52 |
	       (u64)(flags & DML_MAP_LINK_TAIL) << 53;
}

static u64 unmap_range(struct emu_domain *d, struct emu_slot *s, u64 iova,
		       u64 end, struct emu_gathered *full);

/*
 * A superpage leaf @pte at level @level (2 or 3) for [iova, +span).  Empty
 * tables hanging there give way: the caller owns the whole span.
 */
static int map_super(struct emu_domain *d, struct emu_slot *s, u64 iova,
		     u64 pte, unsigned int level)
{
	u64 *t, *p, e;
	int err;

	t = get_table(d, s, iova, level, true, &err);
	if (!t)
		return err;
	p = &t[emu_idx(iova, level)];
	e = emu_pte_read(p);
	if (e && ((e & VTD_PTE_PS) || !subtree_empty(d, e, level - 1)))
		return -EEXIST;
	emu_pte_write(p, pte | VTD_PTE_PS);
	emu_count(s, &s->touched, 1);
	if (e)
		subtree_free(d, e, level - 1);
	return 0;
}

/*
 * 4 KiB leaves for [iova, end), all in one leaf table.  @pte: flags and
 * the first address (HEAD only for the very first leaf of the call);
 * @tail: EMU_PTE_TAIL for the call's last leaf, or 0.  The check that
 * the run is empty and its fill are one pass; a fill stopped by a mapped
 * entry is cleared again.
 */
static int map_4k(struct emu_domain *d, struct emu_slot *s, u64 iova, u64 end,
		  u64 pte, u64 tail)
{
	unsigned int n = (unsigned int)((end - iova) >> PAGE_SHIFT), i, k;
	u64 *t;
	int err;

	t = get_table(d, s, iova, 1, true, &err);
	if (!t)
		return err;
	i = emu_idx(iova, 1);
	if (unlikely(emu_pte_read(&t[i])))
		return -EEXIST;
	if (n == 1) {
		emu_pte_write(&t[i], pte | tail);
	} else {
		emu_pte_write(&t[i], pte);
		k = emu_ptes.fill(t + i + 1, n - 1,
				  (pte & ~EMU_PTE_HEAD) + PAGE_SIZE);
		if (unlikely(k != n - 1)) {
			emu_ptes.clear(t + i, k + 1);
			return -EEXIST;
		}
		if (tail)
			emu_pte_write(&t[i + n - 1], t[i + n - 1] | tail);
	}
	emu_count(s, &s->touched, 1);
	return 0;
}

/*
 * One 4 KiB leaf @pte (flags included) at @iova by an exclusive slot, in
 * the leaf table it used last: most links are one page in the table of
 * the link before.  The whole map call, gate included.  Return 0 or
 * -EEXIST; 1 when it is not that case (nothing done: the caller enters
 * and walks).
 */
static inline int map_page_cached(struct emu_domain *d, u64 iova, u64 pte)
{
	unsigned int cpu = dml__cpu_plus1 - 1;	/* dml__this_cpu(), numbered */
	struct emu_slot *s;
	int ret = 0;
	u64 *p;

	if (unlikely(cpu >= EMU_SLOTS))
		return 1;
	s = &d->slot[cpu];
	/* leaf_t is set for exclusive slots only */
	if (unlikely(!s->leaf_t || s->leaf_win != iova >> EMU_LVL_SHIFT(2) ||
		     !emu_op_try_enter(d, s)))
		return 1;
	/* inside the gate no table is freed: the generation holds */
	if (unlikely(s->leaf_gen != atomic_load_explicit(&d->iommu->pool.gen,
							 memory_order_acquire))) {
		emu_op_exit_own(s);
		return 1;
	}
	p = &s->leaf_t[emu_idx(iova, 1)];
	if (unlikely(emu_pte_read(p))) {
		ret = -EEXIST;
	} else {
		emu_pte_write(p, pte);
		emu_count_own(&s->touched, 1);
	}
	emu_op_exit_own(s);
	return ret;
}

/*
 * emu_map() of [@iova, @end) from leaf @pte (flags included) on, in the
 * largest leaves alignment allows, after its checks and its
 * emu_op_enter(), which this ends.  Out of line: the link of one page
 * seldom needs it.
 */
static int __attribute__((noinline))
map_range(struct emu_domain *d, struct emu_slot *s, u64 iova, u64 end,
	  u64 pte)
{
	struct emu_gathered full = { 0 };
	u64 tail = pte & EMU_PTE_TAIL, cur = iova;
	int ret = 0;

	pte &= ~EMU_PTE_TAIL;
	while (cur != end) {
		u64 addr = pte & VTD_PTE_ADDR, next;
		unsigned int level = 1;

		if (d->superpages) {
			if (IS_ALIGNED(cur | addr, SZ_1G) && end - cur >= SZ_1G)
				level = 3;
			else if (IS_ALIGNED(cur | addr, SZ_2M) && end - cur >= SZ_2M)
				level = 2;
		}
		if (level > 1) {
			next = cur + span_of(level);
			ret = map_super(d, s, cur, pte | (next == end ? tail : 0),
					level);
		} else {
			next = min(entry_end(cur, 2), end);
			ret = map_4k(d, s, cur, next, pte,
				     next == end ? tail : 0);
		}
		if (unlikely(ret))
			break;
		pte = (pte & ~EMU_PTE_HEAD) + (next - cur);
		cur = next;
	}
	if (unlikely(ret)) {
		/* what this call mapped, and the tables it may have installed */
		if (cur != iova)
			unmap_range(d, s, iova, cur, &full);
		emu_gather(d, NULL, 0, cur, false, &full);
	}
	emu_op_exit(s);
	emu_gather_flush(d, &full);
	return ret;
}

/* emu_map() but the one-page map in the cached leaf table: checks, walk */
static int __attribute__((noinline))
map_checked(struct emu_domain *d, u64 iova, u64 phys, u64 size, int prot,
	    unsigned int flags)
{
	u64 last, plast;

	if (unlikely(!size || ((iova | phys | size) & (SZ_4K - 1)) ||
		     __builtin_add_overflow(iova, size - 1, &last) ||
		     __builtin_add_overflow(phys, size - 1, &plast) ||
		     iova < d->dom.aperture_start || last > d->dom.aperture_end ||
		     plast > (VTD_PTE_ADDR | (SZ_4K - 1)) ||
		     !(prot & (IOMMU_READ | IOMMU_WRITE))))
		return -EINVAL;
	return map_range(d, emu_op_enter(d), iova, last + 1,
			 phys | emu_leaf_pte_flags(d, prot, flags));
}

/**
 * emu_map - map [@iova, +@size) to [@phys, +@size) (struct dml_iommu_ops.map)
 * @dom: an emulated domain
 * @iova: IOVA, 4 KiB aligned, inside the aperture
 * @phys: emulated physical address, 4 KiB aligned
 * @size: bytes, a multiple of 4 KiB
 * @prot: IOMMU_READ and/or IOMMU_WRITE; IOMMU_CACHE sets SNP
 * @flags: DML_MAP_LINK_HEAD marks the first leaf as the start of a link,
 *	DML_MAP_LINK_TAIL the last as its end
 *
 * Chooses 1 GiB and 2 MiB leaves wherever the IOVA, the physical address
 * and the length allow (superpages on).  In caching mode the new leaves
 * are pending: devices do not see them until emu_iotlb_sync_map().  Takes
 * no lock; may run concurrently with map and unmap of other ranges
 * (pfn_to_dma_pte() and the generic page table's map in the kernel).
 * Return: 0; -EINVAL for a misaligned or empty range, one that wraps or
 * leaves the aperture, or @prot without read or write; -EEXIST if part of
 * the range is mapped; -ENOMEM when no table page can be had.  On an error
 * nothing this call mapped is left mapped; tables it installed for nothing
 * go to the gather list (freed by the next trim).
 */
int emu_map(struct dml_domain *dom, dml_iova_t iova, phys_addr_t phys,
	    size_t size, int prot, unsigned int flags)
{
	struct emu_domain *d = to_emu(dom);
	int ret;

	/* a valid one-page map (map_checked()'s checks for one page) */
	if (size == SZ_4K && !((iova | phys) & (SZ_4K - 1)) &&
	    iova >= dom->aperture_start &&
	    iova + (SZ_4K - 1) <= dom->aperture_end && phys <= VTD_PTE_ADDR &&
	    (prot & (IOMMU_READ | IOMMU_WRITE))) {
		ret = map_page_cached(d, iova,
				      phys | emu_leaf_pte_flags(d, prot, flags));
		if (ret <= 0)
			return ret;
	}
	return map_checked(d, iova, phys, size, prot, flags);
}

/* ---- unmap ---- */

/* no present entry next to the run [i, +n) of @t? (it may be empty then) */
static inline bool run_alone(const u64 *t, unsigned int i, unsigned int n)
{
	return (!i || !emu_pte_read(&t[i - 1])) &&
	       (i + n == EMU_PTES || !emu_pte_read(&t[i + n]));
}

/*
 * Clear the 4 KiB leaves in [iova, end) of leaf table @t.  A table left
 * empty is gathered (emu_gather(), @full as there).  Return the bytes
 * unmapped.
 */
static u64 unmap_leaves(struct emu_domain *d, struct emu_slot *s, u64 *t,
			u64 iova, u64 end, struct emu_gathered *full)
{
	unsigned int i = emu_idx(iova, 1);
	unsigned int n = (unsigned int)((end - iova) >> PAGE_SHIFT);
	u64 bytes;

	if (n == 1) {
		bytes = !!t[i];
		if (bytes)
			emu_pte_write(&t[i], 0);
	} else {
		bytes = emu_ptes.clear(t + i, n);
	}
	if (!bytes)
		return 0;
	emu_count(s, &s->touched, 1);
	/* the neighbour reads touch other threads' lines: only to reclaim */
	if (d->reclaim && run_alone(t, i, n))
		emu_gather(d, t, 1, iova, n == EMU_PTES, full);
	return bytes << PAGE_SHIFT;
}

/*
 * Clear the whole leaves inside [iova, end) of table @t (level @level),
 * which translates all of [iova, end).  Tables left empty are gathered
 * (emu_gather(), @full as there).  Return the bytes unmapped.
 */
static u64 unmap_table(struct emu_domain *d, struct emu_slot *s, u64 *t,
		       unsigned int level, u64 iova, u64 end,
		       struct emu_gathered *full)
{
	unsigned int i = emu_idx(iova, level), first = i;
	u64 bytes = 0, cur = iova;
	bool cleared = false;

	if (level == 1)
		return unmap_leaves(d, s, t, iova, end, full);
	for (; cur != end; i++) {
		u64 next = min(entry_end(cur, level), end);
		u64 e = emu_pte_read(&t[i]);

		if (!e) {
			cur = next;
			continue;
		}
		if (e & VTD_PTE_PS) {
			if (next - cur == span_of(level)) {
				emu_pte_write(&t[i], 0);
				bytes += span_of(level);
				cleared = true;
			}
		} else {
			bytes += unmap_table(d, s, emu_table(d->iommu, e),
					     level - 1, cur, next, full);
		}
		cur = next;
	}
	if (cleared) {
		emu_count(s, &s->touched, 1);
		if (d->reclaim && level < d->levels &&
		    run_alone(t, first, i - first))
			emu_gather(d, t, level, iova, false, full);
	}
	return bytes;
}

/* unmap the whole leaves in [iova, end); return the bytes unmapped */
static u64 unmap_range(struct emu_domain *d, struct emu_slot *s, u64 iova,
		       u64 end, struct emu_gathered *full)
{
	return unmap_table(d, s, d->root, d->levels, iova, end, full);
}

/*
 * The leaf translating @iova: its entry, level and the table holding it.
 * Lock-free (emu_pte_read()); false when @iova is not mapped.
 */
static bool find_leaf(struct emu_domain *d, u64 iova, u64 *pte,
		      unsigned int *level, u64 **table)
{
	const struct emu_pool *pool = &d->iommu->pool;
	u64 *t = d->root;
	unsigned int l;

	if (iova > d->dom.aperture_end)
		return false;
	for (l = d->levels; ; l--) {
		u64 e = emu_pte_read(&t[emu_idx(iova, l)]);
		phys_addr_t next;

		if (!(e & VTD_PTE_PRESENT))
			return false;
		if (l == 1 || (e & VTD_PTE_PS)) {
			if (l > 3)
				return false;	/* no 512 GiB leaves */
			*pte = e;
			*level = l;
			*table = t;
			return true;
		}
		next = e & VTD_PTE_ADDR;
		if (next < pool->lo || next >= pool->hi)
			return false;
		t = emu_table(d->iommu, e);
	}
}

/*
 * Does a link end at @end, given @last, the leaf before it?  Its TAIL
 * says so without a look past @end, where the entries may be another
 * thread's, written on every map and unmap there.  Without TAIL (the
 * range stops inside a link, or an unmap without the exact rule punched
 * the link's tail away) the granule at @end decides: unmapped, or the
 * head of another link.
 */
static bool link_ends(struct emu_domain *d, u64 last, u64 end)
{
	unsigned int level;
	u64 pte, *t;

	if (likely(last & EMU_PTE_TAIL))
		return true;
	if (end - 1 == d->dom.aperture_end)
		return true;
	return !find_leaf(d, end, &pte, &level, &t) || (pte & EMU_PTE_HEAD);
}

/*
 * The EXACT check of [iova, end): fully mapped, the leaf at @iova starts
 * there and starts a link, no leaf crosses @end, and a link ends at @end.
 * Changes nothing.
 */
static bool exact_ok(struct emu_domain *d, u64 iova, u64 end)
{
	u64 cur = iova, pte = 0, *t;
	unsigned int level;

	while (cur != end) {
		u64 sz;

		if (!find_leaf(d, cur, &pte, &level, &t))
			return false;
		sz = span_of(level);
		if (cur & (sz - 1))
			return false;	/* a superpage leaf crosses @iova */
		if (cur == iova && !(pte & EMU_PTE_HEAD))
			return false;
		if (level == 1) {
			unsigned int i = emu_idx(cur, 1);
			u64 next = min(entry_end(cur, 2), end);
			unsigned int n = (unsigned int)((next - cur) >> PAGE_SHIFT);

			if (n > 1 && !emu_ptes_all_present(t + i, n))
				return false;
			pte = emu_pte_read(&t[i + n - 1]);
			cur = next;
		} else {
			if (end - cur < sz)
				return false;	/* crosses @end */
			cur += sz;
		}
	}
	return link_ends(d, pte, end);
}

/*
 * exact_ok() for [iova, end) inside leaf table @t: all present, a link
 * starts at @iova and one ends at @end.
 */
static bool exact_leaves(struct emu_domain *d, const u64 *t, u64 iova,
			 u64 end)
{
	unsigned int i = emu_idx(iova, 1);
	unsigned int n = (unsigned int)((end - iova) >> PAGE_SHIFT);

	if (!(t[i] & EMU_PTE_HEAD))
		return false;	/* a head is present */
	if (n > 1 && !emu_ptes_all_present(t + i, n))
		return false;
	return link_ends(d, emu_pte_read(&t[i + n - 1]), end);
}

/**
 * emu_unmap - unmap [@iova, +@size) (struct dml_iommu_ops.unmap)
 * @dom: an emulated domain
 * @iova: IOVA, 4 KiB aligned
 * @size: bytes, a multiple of 4 KiB
 * @flags: DML_UNMAP_EXACT: only whole links (see domain.h)
 * @unmapped: out: bytes unmapped
 *
 * Without DML_UNMAP_EXACT, holes are skipped and a superpage leaf only
 * partly inside the range is left mapped and not counted (leaves are never
 * split; the kernel would unmap the whole superpage).  Tables left empty
 * stay linked and are gathered for the next trim.  No IOTLB maintenance:
 * see emu_iotlb_sync().  Takes no lock; may run concurrently with map and
 * unmap of other ranges.
 * Return: 0; -EINVAL for a misaligned or empty range, one that wraps or
 * leaves the aperture; -ENOENT with DML_UNMAP_EXACT when the range is not
 * made of whole links (nothing changed, *@unmapped = 0).
 */
int emu_unmap(struct dml_domain *dom, dml_iova_t iova, size_t size,
	      unsigned int flags, size_t *unmapped)
{
	struct emu_domain *d = to_emu(dom);
	bool exact = flags & DML_UNMAP_EXACT;
	struct emu_gathered full = { 0 };
	u64 last, end, *t;
	struct emu_slot *s;
	int err;

	*unmapped = 0;
	if (unlikely(!size || ((iova | size) & (SZ_4K - 1)) ||
		     __builtin_add_overflow(iova, size - 1, &last) ||
		     iova < dom->aperture_start || last > dom->aperture_end))
		return -EINVAL;
	end = last + 1;
	s = emu_op_enter(d);
	if (end <= entry_end(iova, 2) &&
	    (t = get_table(d, s, iova, 1, false, &err))) {
		/* the common case: 4 KiB leaves of one leaf table */
		if (exact && !exact_leaves(d, t, iova, end))
			goto enoent;
		*unmapped = (size_t)unmap_leaves(d, s, t, iova, end, &full);
	} else {
		if (exact && !exact_ok(d, iova, end))
			goto enoent;
		*unmapped = (size_t)unmap_range(d, s, iova, end, &full);
	}
	emu_op_exit(s);
	emu_gather_flush(d, &full);
	return 0;

enoent:
	emu_op_exit(s);
	return -ENOENT;
}

/* ---- caching mode: make new leaves visible ---- */

/* clear PENDING in the leaves of table @t (level @level) in [iova, end) */
static void sync_table(struct emu_domain *d, u64 *t, unsigned int level,
		       u64 iova, u64 end)
{
	unsigned int i = emu_idx(iova, level);

	if (level == 1) {
		emu_ptes_clear_bits(t + i, (unsigned int)((end - iova) >> PAGE_SHIFT),
				    EMU_PTE_PENDING);
		return;
	}
	for (; iova != end; i++) {
		u64 next = min(entry_end(iova, level), end);
		u64 e = emu_pte_read(&t[i]);

		if (e & VTD_PTE_PS) {
			if (e & EMU_PTE_PENDING)
				emu_pte_write(&t[i], e & ~EMU_PTE_PENDING);
		} else if (e) {
			sync_table(d, emu_table(d->iommu, e), level - 1, iova, next);
		}
		iova = next;
	}
}

/**
 * emu_iotlb_sync_map - clear the pending bit of the leaves in
 * [@iova, +@size) (struct dml_iommu_ops.iotlb_sync_map, caching mode only)
 * @dom: an emulated domain
 * @iova: IOVA, rounded down to 4 KiB
 * @size: bytes
 *
 * Models the page-selective invalidation a guest issues after mapping when
 * the VT-d unit reports CM=1; counted in sync_map.  Leaves partly inside
 * the range are synced whole; holes are ignored.
 * Return: 0.
 */
int emu_iotlb_sync_map(struct dml_domain *dom, dml_iova_t iova, size_t size)
{
	struct emu_domain *d = to_emu(dom);
	struct emu_slot *s;
	u64 cur, last;

	s = emu_op_enter(d);
	emu_count(s, &s->sync_map, 1);
	if (!size)
		goto out;
	cur = iova & ~(SZ_4K - 1);
	if (__builtin_add_overflow(iova, size - 1, &last) || last > dom->aperture_end)
		last = dom->aperture_end;
	if (cur > last)
		goto out;
	/* a superpage leaf partly inside is synced whole: widen to 1 GiB */
	sync_table(d, d->root, d->levels, cur, (last | (SZ_4K - 1)) + 1);
out:
	emu_op_exit(s);
	return 0;
}

/* ---- walks ---- */

/**
 * emu_pt_walk - the page walk of a device access: find the leaf for @iova
 * @d: domain
 * @iova: any IOVA
 * @leaf: out: the leaf entry and its page size
 *
 * Takes no lock; every table address is checked to lie in the RAM region
 * table pages come from.  Pending leaves are returned too (the caller
 * decides what pending means).
 * Return: true if a leaf maps @iova.
 */
bool emu_pt_walk(struct emu_domain *d, u64 iova, struct emu_leaf *leaf)
{
	unsigned int level;
	u64 *t;

	if (!find_leaf(d, iova, &leaf->pte, &level, &t))
		return false;
	leaf->shift = EMU_LVL_SHIFT(level);
	return true;
}

/**
 * emu_iova_to_phys - the emulated physical address @iova maps to
 * (struct dml_iommu_ops.iova_to_phys); pending leaves count as mapped
 * Return: the address, or 0 when @iova is not mapped.
 */
phys_addr_t emu_iova_to_phys(struct dml_domain *dom, dml_iova_t iova)
{
	struct emu_leaf leaf;
	u64 mask;

	if (!emu_pt_walk(to_emu(dom), iova, &leaf))
		return 0;
	mask = (1ULL << leaf.shift) - 1;
	return (leaf.pte & VTD_PTE_ADDR & ~mask) | (iova & mask);
}

/* ---- life cycle ---- */

/**
 * emu_pt_init - allocate the root table of @d
 * Return: 0; -ENOMEM.
 */
int emu_pt_init(struct emu_domain *d)
{
	emu_reclaim_init();
	d->slot[EMU_SLOTS].shared = true;
	pthread_mutex_init(&d->trim_lock, NULL);
	dml_spin_init(&d->gather_lock);
	return emu_pt_alloc(d->iommu, &d->root);
}

/* free @t (a table of @level) and everything below it */
static void free_tree(struct emu_domain *d, u64 *t, unsigned int level)
{
	unsigned int i;

	for (i = 0; i < EMU_PTES; i++) {
		u64 e = t[i];

		if (!e)
			continue;
		emu_pte_write(&t[i], 0);
		if (level > 1 && !(e & VTD_PTE_PS))
			free_tree(d, emu_table(d->iommu, e), level - 1);
	}
	emu_pt_free(d->iommu, t);
}

/**
 * emu_pt_fini - free every table of @d, the root included
 *
 * Mappings still present are dropped (the domain is going); the caller
 * guarantees no other call runs on @d.
 */
void emu_pt_fini(struct emu_domain *d)
{
	if (d->root)
		free_tree(d, d->root, d->levels);
	d->root = NULL;
	pthread_mutex_destroy(&d->trim_lock);
}
