/* SPDX-License-Identifier: MIT */
/*
 * pgtable.c - the VT-d second-level page table of an emulated domain: map,
 * unmap, iova_to_phys, iotlb_sync_map (caching mode), and the walk a device
 * access makes.  The entry format is in emu.h.
 *
 * Invariants:
 *  - a non-present entry is exactly 0; an entry pointing to a table has R|W
 *    set and, in bits 61:52, the number of present entries of that table;
 *  - idle tables: a leaf table or a window's level-2 table that unmap
 *    leaves empty stays linked (all zero, count 0) so that the next map
 *    there needs no allocation and no parent update.  Every linked empty
 *    table other than the root is on its stripe's idle list (idle1: leaf
 *    tables, idle2: level-2 tables; at most EMU_IDLE_L1 / EMU_IDLE_L2 per
 *    stripe, the oldest reclaimed when a list is full); any other table
 *    has a present entry.  So at most EMU_STRIPES * (EMU_IDLE_L1 +
 *    EMU_IDLE_L2 * (levels - 2)) pages linger beyond what the mappings
 *    need, and emu_pt_trim() (run by the domain-wide flush, by
 *    dml_iommu_get_stats() and at domain destroy) frees them all: after
 *    everything is unmapped and trimmed only the root is left (G19);
 *  - a failed map leaves the tables as it found them: what it installed is
 *    freed at once, what was idle stays idle;
 *  - a 1 GiB or 2 MiB leaf replaces idle tables where it goes;
 *  - map chooses the largest leaf alignment allows (1 GiB, 2 MiB, 4 KiB
 *    with superpages; 4 KiB without); leaves are never split or merged;
 *  - bad input never changes anything: -EINVAL before any write, -EEXIST
 *    and -ENOMEM undo what the call mapped, EXACT unmap checks everything
 *    before it clears anything.
 *
 * Locking (map/unmap of disjoint ranges run concurrently on one domain):
 *  - the IOVA space is cut in 1 GiB windows; a window's stripe lock
 *    (d->stripe[window % EMU_STRIPES]) guards its level-2 table, the
 *    level-1 tables below it and the level-3 entry pointing to it.  A call
 *    holds one stripe lock at a time, window after window;
 *  - d->lock, the domain lock, guards the entries of tables at level >= 3
 *    that point to tables or 1 GiB leaves: installing and freeing the
 *    level-2 and higher tables, and their counts.  It is taken only when a
 *    window gets or loses its level-2 table (or a 1 GiB leaf), inside the
 *    window's stripe lock; the pool lock nests inside it;
 *  - a stripe caches the level-3 entry of its last window while that entry
 *    is non-zero; a non-zero level-3 entry keeps its level-3 table (and
 *    everything above) alive, so the cached pointer needs no lock above
 *    the stripe's;
 *  - the idle lists of a stripe are guarded by its lock; the count of a
 *    window's level-3 entry changes only under that lock (read-modify-
 *    write of the entry, never a cached copy, since reclaiming an idle
 *    table may change another window's count on the way);
 *  - device walks (emu_pt_walk) take no lock.  Table memory is never
 *    unmapped and every table address a walk follows is bounds-checked
 *    against the RAM region the pool carves from, so a walk racing with an
 *    unmap of the same range reads old or new entries but never crashes.
 * What cannot fail: unmap after its checks, iotlb_sync_map, the walk.
 */
#include <string.h>

#include "emu.h"

/* ---- helpers ---- */

static inline struct emu_stripe *stripe_of(struct emu_domain *d, u64 iova)
{
	return &d->stripe[(iova >> EMU_WIN_SHIFT) & (EMU_STRIPES - 1)];
}

static inline u64 table_entry(struct emu_domain *d, const u64 *t, unsigned int cnt)
{
	return (emu_table_phys(d->iommu, t) & VTD_PTE_ADDR) | VTD_PTE_PRESENT |
	       ((u64)cnt << EMU_CNT_SHIFT);
}

static inline u64 cnt_set(u64 e, unsigned int cnt)
{
	return (e & ~EMU_CNT_MASK) | ((u64)cnt << EMU_CNT_SHIFT);
}

static inline u64 win_end(u64 iova)
{
	return (iova | ((1ULL << EMU_WIN_SHIFT) - 1)) + 1;
}

/*
 * The entries at levels >= 3 on @iova's path, from the root down: ent[l] is
 * the entry of level l (ent[3] the level-3 entry).  Stops early at a hole;
 * the levels not reached are NULL.  Domain lock held.
 */
static void upper_path(struct emu_domain *d, u64 iova, u64 **ent)
{
	u64 *t = d->root;
	unsigned int l;

	for (l = d->levels; l >= 3; l--)
		ent[l] = NULL;
	for (l = d->levels; l >= 3; l--) {
		u64 e;

		ent[l] = &t[emu_idx(iova, l)];
		e = *ent[l];
		if (l == 3 || !e || (e & VTD_PTE_PS))
			break;
		t = emu_table(d->iommu, e);
	}
}

/*
 * Free the empty tables on @iova's path from the level-2 table up (never
 * the root), clearing the entries that pointed to them.  Domain lock and
 * the window's stripe lock held.
 */
static void upper_release(struct emu_domain *d, struct emu_stripe *s, u64 iova)
{
	u64 *ent[6];
	unsigned int l;

	upper_path(d, iova, ent);
	for (l = 3; l <= d->levels; l++) {
		u64 e;

		if (!ent[l])
			continue;
		e = *ent[l];
		if (!e)
			continue;	/* the table holding it may be empty */
		if ((e & VTD_PTE_PS) || emu_cnt(e))
			break;
		emu_pte_write(ent[l], 0);
		emu_pt_free(d->iommu, emu_table(d->iommu, e));
		d->touched++;
		if (l == 3 && s->l3e == ent[3])
			s->l3e = NULL;
		if (l < d->levels)
			emu_pte_write(ent[l + 1], *ent[l + 1] - EMU_CNT_ONE);
	}
}

/*
 * Install the missing tables at levels >= 3 on @iova's path, so that
 * ent[3] exists.  Domain lock held.  On -ENOMEM the tables installed here
 * are freed again (upper_release).
 */
static int upper_alloc(struct emu_domain *d, struct emu_stripe *s, u64 iova,
		       u64 **ent)
{
	u64 *t = d->root, *nt;
	unsigned int l;
	int ret;

	for (l = d->levels; l > 3; l--) {
		u64 *p = &t[emu_idx(iova, l)];
		u64 e = *p;

		ent[l] = p;
		if (!e) {
			ret = emu_pt_alloc(d->iommu, &nt);
			if (ret) {
				upper_release(d, s, iova);
				return ret;
			}
			e = table_entry(d, nt, 0);
			emu_pte_write(p, e);
			d->touched++;
			if (l < d->levels)
				emu_pte_write(ent[l + 1], *ent[l + 1] + EMU_CNT_ONE);
		}
		t = emu_table(d->iommu, e);
	}
	ent[3] = &t[emu_idx(iova, 3)];
	return 0;
}

enum { L3E_LOOKUP, L3E_ALLOC };

/*
 * l3e_slow - the level-3 entry of @iova's window, under the domain lock.
 * L3E_LOOKUP: NULL if it is 0.  L3E_ALLOC: install the tables down to a
 * level-2 table unless the entry already holds something (a table or a
 * 1 GiB leaf).  The entry returned is non-zero and cached in @s.
 */
static u64 *l3e_slow(struct emu_domain *d, struct emu_stripe *s, u64 iova,
		     int mode, int *err)
{
	u64 *ent[6], *nt;
	int ret;

	dml_spin_lock(&d->lock);
	if (mode == L3E_LOOKUP) {
		upper_path(d, iova, ent);
		if (!ent[3] || !*ent[3]) {
			dml_spin_unlock(&d->lock);
			*err = -ENOENT;
			return NULL;
		}
	} else {
		ret = upper_alloc(d, s, iova, ent);
		if (ret)
			goto err_unlock;
		if (!*ent[3]) {
			ret = emu_pt_alloc(d->iommu, &nt);
			if (ret) {
				upper_release(d, s, iova);
				goto err_unlock;
			}
			emu_pte_write(ent[3], table_entry(d, nt, 0));
			d->touched++;
			if (d->levels > 3)
				emu_pte_write(ent[4], *ent[4] + EMU_CNT_ONE);
		}
	}
	dml_spin_unlock(&d->lock);
	s->win = iova >> EMU_WIN_SHIFT;
	s->l3e = ent[3];
	return ent[3];

err_unlock:
	dml_spin_unlock(&d->lock);
	*err = ret;
	return NULL;
}

/* the level-3 entry of @iova's window; stripe lock held */
static inline u64 *l3e_get(struct emu_domain *d, struct emu_stripe *s, u64 iova,
			   int mode, int *err)
{
	if (likely(s->l3e && s->win == iova >> EMU_WIN_SHIFT))
		return s->l3e;
	return l3e_slow(d, s, iova, mode, err);
}

/*
 * The window's level-2 table went empty (its count in *l3e is 0): free it
 * and the empty tables above.  Stripe lock held.
 */
static void window_release(struct emu_domain *d, struct emu_stripe *s, u64 iova)
{
	dml_spin_lock(&d->lock);
	upper_release(d, s, iova);
	dml_spin_unlock(&d->lock);
}

/* ---- idle tables: empty, still linked, kept for the next map ---- */

static inline void idle_count_set(unsigned int *n, unsigned int v)
{
	__atomic_store_n(n, v, __ATOMIC_RELAXED);
}

/* the slot of @ent in @a (@n entries), -1 if not there */
static inline int idle_find(const struct emu_idle *a, unsigned int n,
			    const u64 *ent)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (a[i].ent == ent)
			return (int)i;
	return -1;
}

/* drop slot @i of @a, keeping the order (oldest first) */
static void idle_del(struct emu_idle *a, unsigned int *n, unsigned int i)
{
	for (; i + 1 < *n; i++)
		a[i] = a[i + 1];
	idle_count_set(n, *n - 1);
}

static void l2_idle(struct emu_domain *d, struct emu_stripe *s, u64 *l3e,
		    u64 iova);

/*
 * Free the idle leaf table @v points to and drop it from its window's
 * count; a window left empty becomes idle in turn.  Stripe lock held, @v
 * already out of the list.
 */
static void l1_reclaim(struct emu_domain *d, struct emu_stripe *s,
		       struct emu_idle v)
{
	u64 e2 = *v.ent, e3;

	DML_WARN_ON(!e2 || (e2 & VTD_PTE_PS) || emu_cnt(e2));
	emu_pte_write(v.ent, 0);
	emu_pt_free(d->iommu, emu_table(d->iommu, e2));
	s->touched++;
	e3 = *v.l3e - EMU_CNT_ONE;
	emu_pte_write(v.l3e, e3);
	if (!emu_cnt(e3))
		l2_idle(d, s, v.l3e, v.iova);
}

/*
 * The leaf table *@p2 of the window at @l3e went empty: keep it linked,
 * reclaiming the oldest idle leaf table of the stripe when the list is
 * full.  Stripe lock held.
 */
static void l1_idle(struct emu_domain *d, struct emu_stripe *s, u64 *p2,
		    u64 *l3e, u64 iova)
{
	struct emu_idle v;

	if (s->n1 == EMU_IDLE_L1) {
		v = s->idle1[0];
		idle_del(s->idle1, &s->n1, 0);
		l1_reclaim(d, s, v);
	}
	s->idle1[s->n1] = (struct emu_idle){ .ent = p2, .l3e = l3e, .iova = iova };
	idle_count_set(&s->n1, s->n1 + 1);
}

/*
 * The level-2 table of the window at @l3e went empty: keep it linked (with
 * the tables above it), releasing the oldest idle window of the stripe
 * when the list is full.  Stripe lock held.
 */
static void l2_idle(struct emu_domain *d, struct emu_stripe *s, u64 *l3e,
		    u64 iova)
{
	u64 old;

	if (!EMU_IDLE_L2) {
		window_release(d, s, iova);
		return;
	}
	if (s->n2 == EMU_IDLE_L2) {
		old = s->idle2[0].iova;
		idle_del(s->idle2, &s->n2, 0);
		window_release(d, s, old);
	}
	s->idle2[s->n2] = (struct emu_idle){ .ent = l3e, .iova = iova };
	idle_count_set(&s->n2, s->n2 + 1);
}

/* reclaim the idle leaf tables of the window at @l3e; stripe lock held */
static void window_drop_idle_l1(struct emu_domain *d, struct emu_stripe *s,
				const u64 *l3e)
{
	struct emu_idle v;
	unsigned int i = 0;

	while (i < s->n1) {
		if (s->idle1[i].l3e != l3e) {
			i++;
			continue;
		}
		v = s->idle1[i];
		idle_del(s->idle1, &s->n1, i);
		l1_reclaim(d, s, v);
	}
}

/* reclaim every idle table of @s; stripe lock held */
static void stripe_trim(struct emu_domain *d, struct emu_stripe *s)
{
	struct emu_idle v;

	while (s->n1) {
		v = s->idle1[s->n1 - 1];
		idle_count_set(&s->n1, s->n1 - 1);
		l1_reclaim(d, s, v);
	}
	while (s->n2) {
		v = s->idle2[s->n2 - 1];
		idle_count_set(&s->n2, s->n2 - 1);
		window_release(d, s, v.iova);
	}
}

/**
 * emu_pt_trim - free every idle table of @d (empty tables kept linked for
 * reuse), so that page-table memory is exactly what the mappings need
 * @d: domain
 *
 * Called by the domain-wide IOTLB flush and by tests; safe against
 * concurrent map/unmap (takes each stripe's lock in turn).
 */
void emu_pt_trim(struct emu_domain *d)
{
	unsigned int i;

	for (i = 0; i < EMU_STRIPES; i++) {
		struct emu_stripe *s = &d->stripe[i];

		if (!__atomic_load_n(&s->n1, __ATOMIC_RELAXED) &&
		    !__atomic_load_n(&s->n2, __ATOMIC_RELAXED))
			continue;
		dml_spin_lock(&s->lock);
		stripe_trim(d, s);
		dml_spin_unlock(&s->lock);
	}
}

/* ---- map ---- */

static u64 unmap_window(struct emu_domain *d, struct emu_stripe *s, u64 iova,
			u64 len, bool all, bool eager);

/* a 1 GiB leaf for the whole window at @iova; stripe lock held */
static int map_1g(struct emu_domain *d, struct emu_stripe *s, u64 iova, u64 pte)
{
	u64 *ent[6], *l3e, e3;
	int ret, i = -1;

	l3e = l3e_get(d, s, iova, L3E_LOOKUP, &ret);
	if (l3e) {
		/* only idle tables give way: the leaf ones first */
		if (!(*l3e & VTD_PTE_PS) && emu_cnt(*l3e))
			window_drop_idle_l1(d, s, l3e);
		e3 = *l3e;
		if ((e3 & VTD_PTE_PS) || emu_cnt(e3))
			return -EEXIST;
	}
	dml_spin_lock(&d->lock);
	ret = upper_alloc(d, s, iova, ent);
	if (ret)
		goto out_unlock;
	e3 = *ent[3];
	if (e3) {
		if (!(e3 & VTD_PTE_PS) && !emu_cnt(e3))
			i = idle_find(s->idle2, s->n2, ent[3]);
		if (i < 0) {
			ret = -EEXIST;
			goto out_unlock;
		}
		idle_del(s->idle2, &s->n2, (unsigned int)i);
	}
	emu_pte_write(ent[3], pte | VTD_PTE_PS);
	d->touched++;
	if (i >= 0) {
		/* the idle level-2 table it replaces; its entry was counted */
		emu_pt_free(d->iommu, emu_table(d->iommu, e3));
		d->touched++;
	} else if (d->levels > 3) {
		emu_pte_write(ent[4], *ent[4] + EMU_CNT_ONE);
	}
	s->win = iova >> EMU_WIN_SHIFT;
	s->l3e = ent[3];
out_unlock:
	dml_spin_unlock(&d->lock);
	return ret;
}

/*
 * Map [iova, +len) -> pte's address, all inside one window; stripe lock
 * held.  @pte carries the flags and the first address (HEAD only for the
 * very first leaf).  *@done grows by the bytes mapped, also on failure.
 * An idle table found on the way is taken out of the idle list once it
 * holds a leaf; on failure the window's tables are left as found (a
 * level-2 table installed for nothing is freed, an idle one stays idle).
 */
static int map_window(struct emu_domain *d, struct emu_stripe *s, u64 iova,
		      u64 len, u64 pte, u64 *done)
{
	u64 *l3e, e3, *l2, *p2, e2, *l1;
	unsigned int n, i1;
	int ret = 0, idle3 = -1, i;

	if (d->superpages && len == SZ_1G && IS_ALIGNED(pte & VTD_PTE_ADDR, SZ_1G)) {
		ret = map_1g(d, s, iova, pte);
		if (!ret)
			*done += len;
		return ret;
	}
	l3e = l3e_get(d, s, iova, L3E_ALLOC, &ret);
	if (unlikely(!l3e))
		return ret;
	e3 = *l3e;
	if (unlikely(e3 & VTD_PTE_PS))
		return -EEXIST;
	l2 = emu_table(d->iommu, e3);
	if (unlikely(!emu_cnt(e3)))
		idle3 = idle_find(s->idle2, s->n2, l3e);

	while (len) {
		u64 chunk = min(len, SZ_2M - (iova & (SZ_2M - 1)));

		p2 = &l2[emu_idx(iova, 2)];
		e2 = *p2;
		if (chunk == SZ_2M && d->superpages &&
		    IS_ALIGNED(pte & VTD_PTE_ADDR, SZ_2M)) {
			if (unlikely(e2)) {
				if ((e2 & VTD_PTE_PS) || emu_cnt(e2) ||
				    (i = idle_find(s->idle1, s->n1, p2)) < 0) {
					ret = -EEXIST;
					break;
				}
				/* an idle leaf table gives way to the 2 MiB leaf */
				idle_del(s->idle1, &s->n1, (unsigned int)i);
				emu_pte_write(p2, pte | VTD_PTE_PS);
				emu_pt_free(d->iommu, emu_table(d->iommu, e2));
			} else {
				emu_pte_write(p2, pte | VTD_PTE_PS);
				emu_pte_write(l3e, *l3e + EMU_CNT_ONE);
			}
			s->touched++;
		} else {
			if (unlikely(e2 & VTD_PTE_PS)) {
				ret = -EEXIST;
				break;
			}
			if (!e2) {
				ret = emu_pt_alloc(d->iommu, &l1);
				if (unlikely(ret))
					break;
				e2 = table_entry(d, l1, 0);
				emu_pte_write(p2, e2);
				emu_pte_write(l3e, *l3e + EMU_CNT_ONE);
				s->touched++;
			} else if (unlikely(!emu_cnt(e2))) {
				/* an idle leaf table: all zero, used again */
				i = idle_find(s->idle1, s->n1, p2);
				if (!DML_WARN_ON(i < 0))
					idle_del(s->idle1, &s->n1, (unsigned int)i);
			}
			l1 = emu_table(d->iommu, e2);
			n = (unsigned int)(chunk >> PAGE_SHIFT);
			i1 = emu_idx(iova, 1);
			if (emu_cnt(e2) &&
			    unlikely(n == 1 ? l1[i1] : emu_ptes.or(l1 + i1, n))) {
				ret = -EEXIST;
				break;
			}
			l1[i1] = pte;
			if (n > 1)
				emu_ptes.fill(l1 + i1 + 1, n - 1,
					      (pte & ~EMU_PTE_HEAD) + SZ_4K);
			emu_pte_write(p2, e2 + n * EMU_CNT_ONE);
			s->touched++;
		}
		pte = (pte & ~EMU_PTE_HEAD) + chunk;
		iova += chunk;
		len -= chunk;
		*done += chunk;
	}
	if (likely(emu_cnt(*l3e))) {
		if (unlikely(idle3 >= 0))
			idle_del(s->idle2, &s->n2, (unsigned int)idle3);
	} else if (idle3 < 0) {
		/* a level-2 table installed for nothing (failure) */
		window_release(d, s, iova);
	}
	return ret;
}

/**
 * emu_map - map [@iova, +@size) to [@phys, +@size) (struct dml_iommu_ops.map)
 * @dom: an emulated domain
 * @iova: IOVA, 4 KiB aligned, inside the aperture
 * @phys: emulated physical address, 4 KiB aligned
 * @size: bytes, a multiple of 4 KiB
 * @prot: IOMMU_READ and/or IOMMU_WRITE; IOMMU_CACHE sets SNP
 * @flags: DML_MAP_LINK_HEAD marks the first leaf as the start of a link
 *
 * Chooses 1 GiB and 2 MiB leaves wherever the IOVA, the physical address
 * and the length allow (superpages on).  In caching mode the new leaves
 * are pending: devices do not see them until emu_iotlb_sync_map().
 * Return: 0; -EINVAL for a misaligned or empty range, one that wraps or
 * leaves the aperture, or @prot without read or write; -EEXIST if part of
 * the range is mapped; -ENOMEM when no table page can be had.  On an error
 * nothing this call mapped is left mapped and no table page is leaked.
 */
int emu_map(struct dml_domain *dom, dml_iova_t iova, phys_addr_t phys,
	    size_t size, int prot, unsigned int flags)
{
	struct emu_domain *d = to_emu(dom);
	u64 last, plast, pte, done = 0, cur = iova, end;
	int ret;

	if (unlikely(!size || ((iova | phys | size) & (SZ_4K - 1)) ||
		     __builtin_add_overflow(iova, size - 1, &last) ||
		     __builtin_add_overflow(phys, size - 1, &plast) ||
		     iova < dom->aperture_start || last > dom->aperture_end ||
		     plast > (VTD_PTE_ADDR | (SZ_4K - 1)) ||
		     !(prot & (IOMMU_READ | IOMMU_WRITE))))
		return -EINVAL;
	pte = phys | d->leaf_flags;
	if (prot & IOMMU_READ)
		pte |= VTD_PTE_R;
	if (prot & IOMMU_WRITE)
		pte |= VTD_PTE_W;
	if ((prot & (IOMMU_CACHE | IOMMU_MMIO)) == IOMMU_CACHE)
		pte |= VTD_PTE_SNP;
	if (flags & DML_MAP_LINK_HEAD)
		pte |= EMU_PTE_HEAD;

	end = last + 1;
	do {
		u64 wend = min(win_end(cur), end);
		struct emu_stripe *s = stripe_of(d, cur);

		dml_spin_lock(&s->lock);
		ret = map_window(d, s, cur, wend - cur, pte, &done);
		dml_spin_unlock(&s->lock);
		if (unlikely(ret))
			goto err_undo;
		pte = (pte & ~EMU_PTE_HEAD) + (wend - cur);
		cur = wend;
	} while (cur != end);
	return 0;

err_undo:
	/* what this call mapped, freeing the tables it leaves empty */
	for (cur = iova, end = iova + done; cur != end;) {
		u64 wend = min(win_end(cur), end);
		struct emu_stripe *s = stripe_of(d, cur);

		dml_spin_lock(&s->lock);
		unmap_window(d, s, cur, wend - cur, true, true);
		dml_spin_unlock(&s->lock);
		cur = wend;
	}
	return ret;
}

/* ---- unmap ---- */

/*
 * Clear the whole leaves inside [iova, +len), one window; stripe lock held.
 * @all: the range is known to be fully mapped (EXACT checked it).
 * @eager: free the tables left empty at once (undoing a failed map) instead
 * of keeping them idle.
 * Return the bytes unmapped.
 */
static u64 unmap_window(struct emu_domain *d, struct emu_stripe *s, u64 iova,
			u64 len, bool all, bool eager)
{
	u64 *l3e, e3, *l2, *p2, e2, *l1, bytes = 0;
	unsigned int n, i1, c1, present;
	int err;

	l3e = l3e_get(d, s, iova, L3E_LOOKUP, &err);
	if (!l3e)
		return 0;
	e3 = *l3e;
	if (e3 & VTD_PTE_PS) {
		if (len != SZ_1G)
			return 0;	/* part of a 1 GiB leaf: not split */
		dml_spin_lock(&d->lock);
		emu_pte_write(l3e, 0);
		d->touched++;
		s->l3e = NULL;
		if (d->levels > 3) {
			u64 *ent[6];

			upper_path(d, iova, ent);
			emu_pte_write(ent[4], *ent[4] - EMU_CNT_ONE);
			if (!emu_cnt(*ent[4]))
				upper_release(d, s, iova);
		}
		dml_spin_unlock(&d->lock);
		return SZ_1G;
	}
	if (!emu_cnt(e3))
		return 0;	/* an idle level-2 table */
	l2 = emu_table(d->iommu, e3);

	while (len) {
		u64 chunk = min(len, SZ_2M - (iova & (SZ_2M - 1)));

		p2 = &l2[emu_idx(iova, 2)];
		e2 = *p2;
		if (!e2)
			goto next;
		if (e2 & VTD_PTE_PS) {
			if (chunk == SZ_2M) {
				emu_pte_write(p2, 0);
				emu_pte_write(l3e, *l3e - EMU_CNT_ONE);
				bytes += SZ_2M;
				s->touched++;
			}
			goto next;
		}
		l1 = emu_table(d->iommu, e2);
		n = (unsigned int)(chunk >> PAGE_SHIFT);
		i1 = emu_idx(iova, 1);
		c1 = emu_cnt(e2);
		if (n == EMU_PTES)
			present = c1;
		else if (all)
			present = n;
		else if (!c1)
			present = 0;
		else if (n == 1)
			present = !!l1[i1];
		else if (emu_ptes.and(l1 + i1, n) & VTD_PTE_PRESENT)
			present = n;
		else
			present = emu_ptes_count_present(l1 + i1, n);
		if (!present)
			goto next;
		if (n == 1)
			l1[i1] = 0;
		else
			emu_ptes.zero(l1 + i1, n);
		bytes += (u64)present << PAGE_SHIFT;
		s->touched++;
		if (c1 != present) {
			emu_pte_write(p2, e2 - present * EMU_CNT_ONE);
		} else if (!eager) {
			/* empty: stays linked, all zero, for the next map */
			emu_pte_write(p2, cnt_set(e2, 0));
			l1_idle(d, s, p2, l3e, iova);
		} else {
			emu_pte_write(p2, 0);
			emu_pt_free(d->iommu, l1);
			emu_pte_write(l3e, *l3e - EMU_CNT_ONE);
			s->touched++;
		}
next:
		iova += chunk;
		len -= chunk;
	}
	if (!emu_cnt(*l3e)) {
		if (eager)
			window_release(d, s, iova - 1);
		else
			l2_idle(d, s, l3e, iova - 1);
	}
	return bytes;
}

/*
 * The EXACT check of the part [cur, wend) of [iova, end) in one window,
 * stripe lock held: fully mapped, the leaf at @iova starts a link, no leaf
 * crosses @iova or @end.  *@last_l1: the level-1 table of the last leaf,
 * NULL if that was a superpage.  Changes nothing.
 */
static bool exact_window(struct emu_domain *d, struct emu_stripe *s, u64 cur,
			 u64 wend, u64 iova, u64 **last_l1)
{
	u64 *l3e, e3, *l2, e2, *l1;
	unsigned int n;
	int err;

	*last_l1 = NULL;
	l3e = l3e_get(d, s, cur, L3E_LOOKUP, &err);
	if (!l3e)
		return false;
	e3 = *l3e;
	if (e3 & VTD_PTE_PS)
		return wend - cur == SZ_1G && (cur != iova || (e3 & EMU_PTE_HEAD));
	l2 = emu_table(d->iommu, e3);
	while (cur != wend) {
		u64 chunk = min(wend - cur, SZ_2M - (cur & (SZ_2M - 1)));

		e2 = l2[emu_idx(cur, 2)];
		if (!e2)
			return false;
		if (e2 & VTD_PTE_PS) {
			if (chunk != SZ_2M || (cur == iova && !(e2 & EMU_PTE_HEAD)))
				return false;
			*last_l1 = NULL;
		} else {
			n = (unsigned int)(chunk >> PAGE_SHIFT);
			*last_l1 = emu_table(d->iommu, e2);
			l1 = *last_l1 + emu_idx(cur, 1);
			if (cur == iova && !(*l1 & EMU_PTE_HEAD))
				return false;	/* a head is present */
			if (n > 1 && emu_cnt(e2) != EMU_PTES &&
			    !emu_ptes_all_present(l1, n))
				return false;
			if (n == 1 && !*l1)
				return false;
		}
		cur += chunk;
	}
	return true;
}

/* is the granule at @end unmapped or the start of a link? */
static bool exact_after(struct emu_domain *d, u64 end)
{
	struct emu_leaf next;

	if (end - 1 == d->dom.aperture_end)
		return true;
	return !emu_pt_walk(d, end, &next) || (next.pte & EMU_PTE_HEAD);
}

/* the EXACT check of a range over several windows; changes nothing */
static bool exact_ok(struct emu_domain *d, u64 iova, u64 end)
{
	u64 cur = iova;

	while (cur != end) {
		u64 wend = min(win_end(cur), end);
		struct emu_stripe *s = stripe_of(d, cur);
		u64 *l1;
		bool ok;

		dml_spin_lock(&s->lock);
		ok = exact_window(d, s, cur, wend, iova, &l1);
		dml_spin_unlock(&s->lock);
		if (!ok)
			return false;
		cur = wend;
	}
	return exact_after(d, end);
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
 * are freed.  No IOTLB maintenance: see emu_iotlb_sync().
 * Return: 0; -EINVAL for a misaligned or empty range, one that wraps or
 * leaves the aperture; -ENOENT with DML_UNMAP_EXACT when the range is not
 * made of whole links (nothing changed, *@unmapped = 0).
 */
int emu_unmap(struct dml_domain *dom, dml_iova_t iova, size_t size,
	      unsigned int flags, size_t *unmapped)
{
	struct emu_domain *d = to_emu(dom);
	bool exact = flags & DML_UNMAP_EXACT;
	u64 last, end, cur = iova, bytes = 0;

	*unmapped = 0;
	if (unlikely(!size || ((iova | size) & (SZ_4K - 1)) ||
		     __builtin_add_overflow(iova, size - 1, &last) ||
		     iova < dom->aperture_start || last > dom->aperture_end))
		return -EINVAL;
	end = last + 1;
	if (exact && end <= win_end(iova)) {
		/* one window: check and clear under one lock */
		struct emu_stripe *s = stripe_of(d, iova);
		u64 *l1, next;
		bool ok;

		dml_spin_lock(&s->lock);
		ok = exact_window(d, s, iova, end, iova, &l1);
		if (ok && l1 && (end & (SZ_2M - 1))) {
			/* the next granule is in the same level-1 table */
			next = l1[emu_idx(end, 1)];
			ok = !next || (next & EMU_PTE_HEAD);
		} else if (ok) {
			ok = exact_after(d, end);
		}
		if (unlikely(!ok)) {
			dml_spin_unlock(&s->lock);
			return -ENOENT;
		}
		bytes = unmap_window(d, s, iova, size, true, false);
		dml_spin_unlock(&s->lock);
		*unmapped = (size_t)bytes;
		return 0;
	}
	if (exact && !exact_ok(d, iova, end))
		return -ENOENT;
	do {
		u64 wend = min(win_end(cur), end);
		struct emu_stripe *s = stripe_of(d, cur);

		dml_spin_lock(&s->lock);
		bytes += unmap_window(d, s, cur, wend - cur, exact, false);
		dml_spin_unlock(&s->lock);
		cur = wend;
	} while (cur != end);
	*unmapped = (size_t)bytes;
	return 0;
}

/* ---- caching mode: make new leaves visible ---- */

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
	u64 cur, end, last;
	int err;

	atomic_fetch_add_explicit(&d->sync_map, 1, memory_order_relaxed);
	if (!size)
		return 0;
	cur = iova & ~(SZ_4K - 1);
	if (__builtin_add_overflow(iova, size - 1, &last) || last > dom->aperture_end)
		last = dom->aperture_end;
	if (cur > last)
		return 0;
	end = (last | (SZ_4K - 1)) + 1;
	do {
		u64 wend = min(win_end(cur), end);
		struct emu_stripe *s = stripe_of(d, cur);
		u64 *l3e, e3, *l2, *p2, e2;

		dml_spin_lock(&s->lock);
		l3e = l3e_get(d, s, cur, L3E_LOOKUP, &err);
		if (!l3e)
			goto next_window;
		e3 = *l3e;
		if (e3 & VTD_PTE_PS) {
			emu_pte_write(l3e, e3 & ~EMU_PTE_PENDING);
			goto next_window;
		}
		l2 = emu_table(d->iommu, e3);
		while (cur < wend) {
			u64 chunk = min(wend - cur, SZ_2M - (cur & (SZ_2M - 1)));

			p2 = &l2[emu_idx(cur, 2)];
			e2 = *p2;
			if (e2 & VTD_PTE_PS)
				emu_pte_write(p2, e2 & ~EMU_PTE_PENDING);
			else if (e2)
				emu_ptes_clear_bits(emu_table(d->iommu, e2) + emu_idx(cur, 1),
						(unsigned int)(chunk >> PAGE_SHIFT),
						EMU_PTE_PENDING);
			cur += chunk;
		}
next_window:
		dml_spin_unlock(&s->lock);
		cur = wend;
	} while (cur < end);
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
	const struct emu_pool *pool = &d->iommu->pool;
	const u64 *t = d->root;
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
			leaf->pte = e;
			leaf->shift = EMU_LVL_SHIFT(l);
			return true;
		}
		next = e & VTD_PTE_ADDR;
		if (next < pool->lo || next >= pool->hi)
			return false;
		t = emu_table(d->iommu, e);
	}
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
	unsigned int i;

	dml_spin_init(&d->lock);
	for (i = 0; i < EMU_STRIPES; i++)
		dml_spin_init(&d->stripe[i].lock);
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
		t[i] = 0;
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
}
