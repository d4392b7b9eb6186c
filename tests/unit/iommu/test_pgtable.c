/* SPDX-License-Identifier: MIT */
/*
 * test_pgtable.c - the emulated VT-d second-level page table
 * (src/iommu/emu/pgtable.c) through struct dml_iommu_ops on a domain of a
 * real emulated platform: leaf size choice, entry bits, bad input, partial
 * and EXACT unmap, -EEXIST, 5 levels, fault injection on every table
 * allocation, unit options and the pages-touched counter.  The random
 * shadow model is in test_pgtable_shadow.c; threads and the freeing of
 * empty tables in test_pgtable_threads.c.
 */
#include <stdlib.h>

#include "pt_env.h"

/* ---- leaf size choice ---- */

static void test_superpage_choice(void **state)
{
	struct env e;
	size_t n;

	(void)state;
	env_up(&e, 4, true);
	assert_int_equal(e.d->pgsize_bitmap, SZ_4K | SZ_2M | SZ_1G);
	assert_int_equal(e.d->aperture_end, (1ULL << 48) - 1);
	assert_int_equal(pt_pages(&e), 1);

	/* 2 MiB aligned both sides: one 2 MiB leaf, no level-1 table */
	assert_int_equal(map(&e, 0x40000000, 0x10000000, SZ_2M, 0), 0);
	assert_int_equal(leaf_shift(&e, 0x40000000), 21);
	assert_int_equal(leaf_shift(&e, 0x40000000 + SZ_2M - SZ_4K), 21);
	assert_int_equal(pt_pages(&e), 3);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, 0x40123456), 0x10123456);
	assert_int_equal(unmap(&e, 0x40000000, SZ_2M, 0, &n), 0);
	assert_int_equal(n, SZ_2M);
	assert_int_equal(pt_pages(&e), 1);

	/* IOVA aligned, phys not: 512 4 KiB leaves */
	assert_int_equal(map(&e, 0x40000000, 0x10001000, SZ_2M, 0), 0);
	assert_int_equal(leaf_shift(&e, 0x40000000), 12);
	assert_int_equal(pt_pages(&e), 4);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, 0x401ff010), 0x10200010);
	assert_int_equal(unmap(&e, 0x40000000, SZ_2M, 0, &n), 0);
	assert_int_equal(n, SZ_2M);

	/* 4 MiB starting 1 MiB into a 2 MiB page: 4K + 2M + 4K leaves */
	assert_int_equal(map(&e, 0x40100000, 0x10100000, 2 * SZ_2M, 0), 0);
	assert_int_equal(leaf_shift(&e, 0x40100000), 12);
	assert_int_equal(leaf_shift(&e, 0x40200000), 21);
	assert_int_equal(leaf_shift(&e, 0x40400000), 12);
	assert_int_equal(leaf_shift(&e, 0x40500000), 0);
	assert_int_equal(pt_pages(&e), 5);
	assert_int_equal(unmap(&e, 0x40100000, 2 * SZ_2M, 0, &n), 0);
	assert_int_equal(n, 2 * SZ_2M);
	assert_int_equal(pt_pages(&e), 1);

	/* 1 GiB aligned: one 1 GiB leaf in the level-3 table */
	assert_int_equal(map(&e, 3 * SZ_1G, SZ_1G, SZ_1G, 0), 0);
	assert_int_equal(leaf_shift(&e, 3 * SZ_1G + 12345 * SZ_4K), 30);
	assert_int_equal(pt_pages(&e), 2);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, 3 * SZ_1G + 0x1234567),
			 SZ_1G + 0x1234567);
	assert_int_equal(unmap(&e, 3 * SZ_1G, SZ_1G, 0, &n), 0);
	assert_int_equal(n, SZ_1G);
	assert_int_equal(pt_pages(&e), 1);

	/* phys 2 MiB but not 1 GiB aligned where IOVA is: 2M leaves only */
	assert_int_equal(map(&e, 4 * SZ_1G - SZ_2M, 2 * SZ_1G - 2 * SZ_2M,
			     SZ_1G + SZ_2M, 0), 0);
	assert_int_equal(leaf_shift(&e, 4 * SZ_1G - SZ_2M), 21);
	assert_int_equal(leaf_shift(&e, 4 * SZ_1G), 21);
	assert_int_equal(unmap(&e, 4 * SZ_1G - SZ_2M, SZ_1G + SZ_2M, 0, &n), 0);
	assert_int_equal(n, SZ_1G + SZ_2M);
	assert_int_equal(pt_pages(&e), 1);
	env_down(&e);
}

static void test_no_superpages(void **state)
{
	struct env e;
	size_t n;

	(void)state;
	env_up(&e, 4, false);
	assert_int_equal(e.d->pgsize_bitmap, SZ_4K);
	assert_int_equal(map(&e, SZ_1G, SZ_1G, SZ_2M, 0), 0);
	assert_int_equal(leaf_shift(&e, SZ_1G), 12);
	assert_int_equal(leaf_shift(&e, SZ_1G + SZ_2M - SZ_4K), 12);
	assert_int_equal(pt_pages(&e), 4);
	assert_int_equal(unmap(&e, SZ_1G, SZ_2M, 0, &n), 0);
	assert_int_equal(n, SZ_2M);
	assert_int_equal(pt_pages(&e), 1);
	env_down(&e);
}

/* ---- the entry format ---- */

static void test_pte_bits(void **state)
{
	struct emu_leaf leaf;
	struct emu_domain *ed;
	struct env e;
	u64 root_phys;

	(void)state;
	env_up(&e, 4, true);
	ed = to_emu(e.d);
	assert_int_equal(e.d->ops->map(e.d, SZ_1G, 0x123000, 2 * SZ_4K,
				       IOMMU_READ | IOMMU_CACHE, LINK), 0);
	assert_true(emu_pt_walk(ed, SZ_1G, &leaf));
	assert_int_equal(leaf.pte & (VTD_PTE_R | VTD_PTE_W | VTD_PTE_SNP | VTD_PTE_PS),
			 VTD_PTE_R | VTD_PTE_SNP);
	assert_int_equal(leaf.pte & VTD_PTE_ADDR, 0x123000);
	assert_true(leaf.pte & EMU_PTE_HEAD);
	assert_false(leaf.pte & EMU_PTE_PENDING);
	assert_true(emu_pt_walk(ed, SZ_1G + SZ_4K, &leaf));
	assert_false(leaf.pte & EMU_PTE_HEAD);
	assert_int_equal(leaf.pte & VTD_PTE_ADDR, 0x124000);
	/* MMIO is never snooped; write-only */
	assert_int_equal(e.d->ops->map(e.d, 2 * SZ_1G, SZ_2M, SZ_2M,
				       IOMMU_WRITE | IOMMU_CACHE | IOMMU_MMIO, 0), 0);
	assert_true(emu_pt_walk(ed, 2 * SZ_1G, &leaf));
	assert_int_equal(leaf.pte & (VTD_PTE_R | VTD_PTE_W | VTD_PTE_SNP | VTD_PTE_PS),
			 VTD_PTE_W | VTD_PTE_PS);
	assert_false(leaf.pte & EMU_PTE_HEAD);
	/* tables live in emulated RAM, carved from the top of the region */
	root_phys = emu_table_phys(e.iommu, ed->root);
	assert_true(dml_phys_is_ram(e.p, root_phys, SZ_4K));
	assert_true(root_phys >= 4 * SZ_1G - SZ_2M);
	assert_int_equal(ed->root[emu_idx(SZ_1G, 4)] & VTD_PTE_PRESENT, VTD_PTE_PRESENT);
	env_down(&e);
}

/* ---- bad input ---- */

static void test_einval(void **state)
{
	struct env e;
	size_t n = 1;

	(void)state;
	env_up(&e, 4, true);
	assert_int_equal(map(&e, 0x1000, 0x2000, 0, 0), -EINVAL);
	assert_int_equal(map(&e, 0x1800, 0x2000, 0x1000, 0), -EINVAL);
	assert_int_equal(map(&e, 0x1000, 0x2800, 0x1000, 0), -EINVAL);
	assert_int_equal(map(&e, 0x1000, 0x2000, 0x1800, 0), -EINVAL);
	assert_int_equal(map(&e, 1ULL << 48, 0x2000, 0x1000, 0), -EINVAL);
	assert_int_equal(map(&e, (1ULL << 48) - 0x1000, 0x2000, 0x2000, 0), -EINVAL);
	assert_int_equal(map(&e, ~0xfffULL, 0x2000, 0x2000, 0), -EINVAL);
	assert_int_equal(e.d->ops->map(e.d, 0x1000, 0x2000, 0x1000, IOMMU_CACHE, 0),
			 -EINVAL);
	assert_int_equal(unmap(&e, 0x1000, 0, 0, &n), -EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(unmap(&e, 1ULL << 48, 0x1000, 0, &n), -EINVAL);
	assert_int_equal(pt_pages(&e), 1);
	/* the last page of the aperture is usable */
	assert_int_equal(map(&e, (1ULL << 48) - 0x1000, 0x2000, 0x1000, LINK), 0);
	assert_int_equal(unmap(&e, (1ULL << 48) - 0x1000, 0x1000, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, 0x1000);
	assert_int_equal(pt_pages(&e), 1);
	env_down(&e);
}

/* ---- partial unmap ---- */

static void test_partial_unmap(void **state)
{
	struct env e;
	size_t n;
	u64 base = 0x80000000;

	(void)state;
	env_up(&e, 4, true);
	assert_int_equal(map(&e, base, 0x100000, 16 * SZ_4K, LINK), 0);
	/* the middle 4 pages */
	assert_int_equal(unmap(&e, base + 4 * SZ_4K, 4 * SZ_4K, 0, &n), 0);
	assert_int_equal(n, 4 * SZ_4K);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, base + 3 * SZ_4K), 0x103000);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, base + 4 * SZ_4K), 0);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, base + 8 * SZ_4K), 0x108000);
	/* over the hole: only what was mapped is counted */
	assert_int_equal(unmap(&e, base + 2 * SZ_4K, 8 * SZ_4K, 0, &n), 0);
	assert_int_equal(n, 4 * SZ_4K);
	/* nothing there at all */
	assert_int_equal(unmap(&e, base + 4 * SZ_4K, 4 * SZ_4K, 0, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(unmap(&e, 0x7000000000ULL, SZ_1G, 0, &n), 0);
	assert_int_equal(n, 0);

	/* part of a superpage: not split, nothing counted */
	assert_int_equal(map(&e, base + SZ_2M, 0x400000, SZ_2M, LINK), 0);
	assert_int_equal(unmap(&e, base + SZ_2M + SZ_4K, SZ_4K, 0, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, base + SZ_2M + SZ_4K), 0x401000);
	/* a range covering it whole plus a 4 KiB leaf and holes */
	assert_int_equal(unmap(&e, base, 3 * SZ_2M, 0, &n), 0);
	assert_int_equal(n, SZ_2M + 8 * SZ_4K);
	assert_int_equal(pt_pages(&e), 1);

	/* part of a 1 GiB leaf */
	assert_int_equal(map(&e, 2 * SZ_1G, 0, SZ_1G, LINK), 0);
	assert_int_equal(unmap(&e, 2 * SZ_1G, SZ_2M, 0, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(unmap(&e, 2 * SZ_1G, SZ_2M, DML_UNMAP_EXACT, &n), -ENOENT);
	assert_int_equal(unmap(&e, SZ_1G, 3 * SZ_1G, 0, &n), 0);
	assert_int_equal(n, SZ_1G);
	assert_int_equal(pt_pages(&e), 1);
	env_down(&e);
}

/* ---- -EEXIST ---- */

static void test_eexist(void **state)
{
	struct env e;
	size_t n;
	u64 before;

	(void)state;
	env_up(&e, 4, true);
	assert_int_equal(map(&e, SZ_1G + 5 * SZ_4K, 0x5000, SZ_4K, LINK), 0);
	before = pt_pages(&e);
	/* overlaps the end, the start, the middle */
	assert_int_equal(map(&e, SZ_1G, 0x9000000, 6 * SZ_4K, LINK), -EEXIST);
	assert_int_equal(map(&e, SZ_1G + 5 * SZ_4K, 0x9000000, 6 * SZ_4K, LINK), -EEXIST);
	assert_int_equal(map(&e, SZ_1G, 0x9000000, SZ_2M, LINK), -EEXIST);
	assert_int_equal(pt_pages(&e), before);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, SZ_1G), 0);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, SZ_1G + 5 * SZ_4K), 0x5000);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, SZ_1G + 6 * SZ_4K), 0);

	/* a range over three windows whose last page collides: all undone */
	assert_int_equal(map(&e, 4 * SZ_1G - SZ_4K, 0x9000000, SZ_4K, LINK), 0);
	before = pt_pages(&e);
	assert_int_equal(map(&e, SZ_1G + SZ_2M, 0x20000000,
			     3 * SZ_1G - SZ_2M, LINK), -EEXIST);
	assert_int_equal(pt_pages(&e), before);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, SZ_1G + SZ_2M), 0);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, 2 * SZ_1G), 0);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, 3 * SZ_1G), 0);
	/* a superpage over a table, a table over a superpage */
	assert_int_equal(map(&e, 8 * SZ_1G, 0, SZ_2M, LINK), 0);
	assert_int_equal(map(&e, 8 * SZ_1G + SZ_4K, SZ_4K, SZ_4K, LINK), -EEXIST);
	assert_int_equal(map(&e, 8 * SZ_1G + SZ_2M + SZ_4K, 0, SZ_4K, LINK), 0);
	assert_int_equal(map(&e, 8 * SZ_1G + SZ_2M, 0, SZ_2M, LINK), -EEXIST);
	assert_int_equal(map(&e, 8 * SZ_1G, 0, SZ_1G, LINK), -EEXIST);
	assert_int_equal(unmap(&e, 0, 16 * SZ_1G, 0, &n), 0);
	assert_int_equal(n, SZ_2M + 3 * SZ_4K);
	assert_int_equal(pt_pages(&e), 1);
	env_down(&e);
}

/* ---- DML_UNMAP_EXACT ---- */

static void check_links_intact(struct env *e, u64 a, u64 pages)
{
	u64 i;

	for (i = 0; i < pages; i++)
		assert_int_equal(e->d->ops->iova_to_phys(e->d, a + i * SZ_4K),
				 0x100000 + i * SZ_4K);
}

static void test_exact(void **state)
{
	struct env e;
	size_t n;
	u64 a = 0x100000000ULL, before;

	(void)state;
	env_up(&e, 4, true);
	/* link A: 3 pages, link B: 2 pages right after it, then a hole */
	assert_int_equal(map(&e, a, 0x100000, 3 * SZ_4K, LINK), 0);
	assert_int_equal(map(&e, a + 3 * SZ_4K, 0x103000, 2 * SZ_4K, LINK), 0);
	before = pt_pages(&e);

	n = 1;
	/* split of A at its end (next granule is A's, not a head) */
	assert_int_equal(unmap(&e, a, 2 * SZ_4K, DML_UNMAP_EXACT, &n), -ENOENT);
	assert_int_equal(n, 0);
	/* starts inside A */
	assert_int_equal(unmap(&e, a + SZ_4K, 2 * SZ_4K, DML_UNMAP_EXACT, &n), -ENOENT);
	/* ends inside B */
	assert_int_equal(unmap(&e, a, 4 * SZ_4K, DML_UNMAP_EXACT, &n), -ENOENT);
	/* runs into the hole after B */
	assert_int_equal(unmap(&e, a + 3 * SZ_4K, 3 * SZ_4K, DML_UNMAP_EXACT, &n), -ENOENT);
	/* starts in a hole */
	assert_int_equal(unmap(&e, a - SZ_4K, 4 * SZ_4K, DML_UNMAP_EXACT, &n), -ENOENT);
	/* nothing mapped at all */
	assert_int_equal(unmap(&e, 0x7000000000ULL, SZ_4K, DML_UNMAP_EXACT, &n), -ENOENT);
	check_links_intact(&e, a, 5);
	assert_int_equal(pt_pages(&e), before);

	/* whole links: B alone, then A */
	assert_int_equal(unmap(&e, a + 3 * SZ_4K, 2 * SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, 2 * SZ_4K);
	assert_int_equal(unmap(&e, a, 3 * SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, 3 * SZ_4K);
	assert_int_equal(pt_pages(&e), 1);

	/* two links at once; a link with a hole punched in it */
	assert_int_equal(map(&e, a, 0x100000, 3 * SZ_4K, LINK), 0);
	assert_int_equal(map(&e, a + 3 * SZ_4K, 0x103000, 2 * SZ_4K, LINK), 0);
	assert_int_equal(unmap(&e, a, 5 * SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, 5 * SZ_4K);
	assert_int_equal(map(&e, a, 0x100000, 8 * SZ_4K, LINK), 0);
	assert_int_equal(unmap(&e, a + 4 * SZ_4K, SZ_4K, 0, &n), 0);
	assert_int_equal(unmap(&e, a, 8 * SZ_4K, DML_UNMAP_EXACT, &n), -ENOENT);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, a + 7 * SZ_4K), 0x107000);
	assert_int_equal(unmap(&e, a, 4 * SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(unmap(&e, a + 5 * SZ_4K, 3 * SZ_4K, DML_UNMAP_EXACT, &n), -ENOENT);
	assert_int_equal(unmap(&e, a + 5 * SZ_4K, 3 * SZ_4K, 0, &n), 0);
	assert_int_equal(pt_pages(&e), 1);

	/* a link made of 4K + 2M + 4K leaves across a window boundary */
	a = 2 * SZ_1G - SZ_2M - SZ_4K;
	assert_int_equal(map(&e, a, SZ_1G - SZ_2M - SZ_4K, SZ_2M + 2 * SZ_4K, LINK), 0);
	assert_int_equal(leaf_shift(&e, a + SZ_4K), 21);
	assert_int_equal(unmap(&e, a, SZ_4K + SZ_2M, DML_UNMAP_EXACT, &n), -ENOENT);
	assert_int_equal(unmap(&e, a, SZ_4K + SZ_4K, DML_UNMAP_EXACT, &n), -ENOENT);
	assert_int_equal(unmap(&e, a, SZ_2M + 2 * SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, SZ_2M + 2 * SZ_4K);
	assert_int_equal(pt_pages(&e), 1);

	/* a link mapped in two calls: 1 GiB (its head), the granule after
	 * it (its tail); the first call's range alone is not a whole link */
	assert_int_equal(map(&e, 5 * SZ_1G, 0, SZ_1G, DML_MAP_LINK_HEAD), 0);
	assert_int_equal(map(&e, 6 * SZ_1G, 0, SZ_4K, DML_MAP_LINK_TAIL), 0);
	assert_int_equal(unmap(&e, 5 * SZ_1G, SZ_1G, DML_UNMAP_EXACT, &n), -ENOENT);
	assert_int_equal(unmap(&e, 5 * SZ_1G, SZ_1G + SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, SZ_1G + SZ_4K);
	assert_int_equal(pt_pages(&e), 1);
	env_down(&e);
}

/* ---- 5 levels ---- */

static void test_5level(void **state)
{
	struct env e;
	size_t n;
	u64 top = (1ULL << 57) - SZ_4K, hi = 1ULL << 56;

	(void)state;
	env_up(&e, 5, true);
	assert_int_equal(e.d->aperture_end, (1ULL << 57) - 1);
	assert_int_equal(pt_pages(&e), 1);
	assert_int_equal(map(&e, top, 0x5000, SZ_4K, LINK), 0);
	assert_int_equal(pt_pages(&e), 5);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, top + 0x10), 0x5010);
	assert_int_equal(map(&e, 1ULL << 57, 0x5000, SZ_4K, LINK), -EINVAL);
	/* a 1 GiB leaf in another level-4 subtree, a 2 MiB one next to it */
	assert_int_equal(map(&e, hi, 0, SZ_1G, LINK), 0);
	assert_int_equal(leaf_shift(&e, hi + 0x123000), 30);
	assert_int_equal(map(&e, hi + SZ_1G, SZ_1G, SZ_2M, LINK), 0);
	assert_int_equal(leaf_shift(&e, hi + SZ_1G), 21);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, hi + SZ_1G + 0x1234), SZ_1G + 0x1234);
	assert_int_equal(pt_pages(&e), 5 + 3);
	assert_int_equal(unmap(&e, hi, SZ_1G, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, SZ_1G);
	assert_int_equal(pt_pages(&e), 5 + 3);
	assert_int_equal(unmap(&e, hi + SZ_1G, SZ_2M, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(pt_pages(&e), 5);
	assert_int_equal(unmap(&e, top, SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(pt_pages(&e), 1);
	/* low addresses work as with 4 levels */
	assert_int_equal(map(&e, SZ_1G, SZ_1G, SZ_1G + SZ_4K, LINK), 0);
	assert_int_equal(unmap(&e, SZ_1G, SZ_1G + SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(pt_pages(&e), 1);
	env_down(&e);
}

/* ---- fault injection on every table allocation ---- */

struct seq_op {
	u64 iova, phys, size;
};

static const struct seq_op seq[] = {
	{ 0x1000, 0x1000, SZ_4K },			/* L3, L2, L1 */
	{ 0x200000, 0x200000, SZ_2M },			/* a 2M leaf */
	{ SZ_1G - SZ_4K, 0x300000, 2 * SZ_4K },		/* two windows */
	{ 512ULL << 30, 0, SZ_1G },			/* a new L3, a 1G leaf */
	{ (512ULL << 30) + SZ_1G + SZ_4K, 0, 3 * SZ_2M },	/* L2, 2 L1, 2M */
	{ (1ULL << 47), 0x5000, 1024 * SZ_4K },		/* a far L3 subtree */
};

static void test_fail_nth(void **state)
{
	struct env e;
	unsigned int i, nfail = 0;
	long nth;
	size_t n;

	(void)state;
	env_up(&e, 4, true);
	for (nth = 1; nth < 1000; nth++) {
		bool hit = false;

		dml_fail_nth(nth);
		for (i = 0; i < ARRAY_SIZE(seq); i++) {
			u64 before = pt_pages(&e);
			int ret;

			ret = map(&e, seq[i].iova, seq[i].phys, seq[i].size, LINK);
			if (!hit && dml_fail_nth_hit()) {
				hit = true;
				nfail++;
				assert_int_equal(ret, -ENOMEM);
				assert_int_equal(pt_pages(&e), before);
				assert_int_equal(e.d->ops->iova_to_phys(e.d, seq[i].iova), 0);
				assert_int_equal(e.d->ops->iova_to_phys(e.d, seq[i].iova +
									seq[i].size - SZ_4K), 0);
				dml_fail_nth(0);
				ret = map(&e, seq[i].iova, seq[i].phys, seq[i].size, LINK);
			}
			assert_int_equal(ret, 0);
		}
		dml_fail_nth(0);
		for (i = 0; i < ARRAY_SIZE(seq); i++) {
			assert_int_equal(e.d->ops->iova_to_phys(e.d, seq[i].iova + SZ_4K / 2),
					 seq[i].phys + SZ_4K / 2);
			assert_int_equal(unmap(&e, seq[i].iova, seq[i].size,
					       DML_UNMAP_EXACT, &n), 0);
			assert_int_equal(n, seq[i].size);
		}
		assert_int_equal(pt_pages(&e), 1);
		if (!hit)
			break;
	}
	/* one failure per table allocation of the sequence (14) */
	assert_true(nfail >= 14);
	assert_true(nth < 1000);
	env_down(&e);
}

/* domain and unit creation under fault injection */
static void test_fail_nth_create(void **state)
{
	struct dml_platform *p;
	long nth;

	(void)state;
	assert_int_equal(dml_platform_create_emu(NULL, &p), 0);
	for (nth = 1; nth < 100; nth++) {
		struct dml_iommu *iommu = NULL;
		struct dml_domain *d = NULL;
		int ret;

		dml_fail_nth(nth);
		ret = dml__emu_iommu_create(p, NULL, &iommu);
		if (!ret)
			ret = dml__emu_domain_alloc(iommu, &d);
		if (dml_fail_nth_hit())
			assert_int_equal(ret, -ENOMEM);
		dml_fail_nth(0);
		if (d)
			dml__domain_destroy(d);
		if (iommu)
			dml__emu_iommu_destroy(iommu);
		if (!ret)
			break;
	}
	assert_true(nth > 2 && nth < 100);
	dml_platform_destroy(p);
}

/* ---- options ---- */

static void test_opts(void **state)
{
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_iommu_opts o = { .size = DML_SIZEOF(&o, superpages) };
	struct {
		struct dml_iommu_opts o;
		u64 extra;
	} big = { .o = { .size = sizeof(big) }, .extra = 1 };

	(void)state;
	assert_int_equal(dml_platform_create_emu(NULL, &p), 0);
	o.levels = 3;
	assert_int_equal(dml_iommu_create(p, &o, &iommu), -EINVAL);
	o.levels = 6;
	assert_int_equal(dml_iommu_create(p, &o, &iommu), -EINVAL);
	o.levels = 4;
	o.iotlb_sets = 3;
	assert_int_equal(dml_iommu_create(p, &o, &iommu), -EINVAL);
	o.iotlb_sets = 0;
	o.iotlb_ways = 65;
	assert_int_equal(dml_iommu_create(p, &o, &iommu), -EINVAL);
	assert_int_equal(dml_iommu_create(p, &big.o, &iommu), -E2BIG);
	assert_int_equal(dml_iommu_create(p, NULL, &iommu), 0);
	assert_int_equal(iommu->levels, 4);
	assert_true(iommu->superpages);
	assert_int_equal(iommu->tlb.sets, 64);
	assert_int_equal(iommu->tlb.ways, 8);
	/* a struct too old to carry @superpages gets the default */
	o = (struct dml_iommu_opts){ .size = DML_SIZEOF(&o, levels), .levels = 5 };
	assert_int_equal(dml_iommu_create(p, &o, &iommu), 0);
	assert_int_equal(iommu->levels, 5);
	assert_true(iommu->superpages);
	/* lazy: the domain gets a flush queue; superpages off: 4 KiB only */
	o = (struct dml_iommu_opts){ .size = DML_SIZEOF(&o, superpages), .lazy = true };
	assert_int_equal(dml_iommu_create(p, &o, &iommu), 0);
	assert_false(iommu->superpages);
	{
		struct dml_domain *d;

		assert_int_equal(dml__emu_domain_alloc(iommu, &d), 0);
		assert_non_null(d->fq);
		assert_int_equal(d->pgsize_bitmap, SZ_4K);
		assert_int_equal(d->granule, SZ_4K);
		assert_int_not_equal(to_emu(d)->id, 0);
	}
	/* the platform frees the units, and the domain left on the last */
	dml_platform_destroy(p);
}

/* ---- counters ---- */

static void test_pages_touched(void **state)
{
	struct dml_iommu_stats st0, st1;
	struct env e;
	size_t n;

	(void)state;
	env_up(&e, 4, true);
	dml_iommu_get_stats(e.iommu, &st0);
	/* a first 4K map writes root, level 3, level 2, level 1 */
	assert_int_equal(map(&e, SZ_1G, 0, SZ_4K, LINK), 0);
	dml_iommu_get_stats(e.iommu, &st1);
	assert_int_equal(st1.pt_pages_touched - st0.pt_pages_touched, 4);
	assert_int_equal(st1.pt_pages, 4);
	assert_int_equal(st1.pt_pages_peak, 4);
	/* the next one only the leaf table */
	assert_int_equal(map(&e, SZ_1G + SZ_4K, 0, SZ_4K, LINK), 0);
	dml_iommu_get_stats(e.iommu, &st0);
	assert_int_equal(st0.pt_pages_touched - st1.pt_pages_touched, 1);
	assert_int_equal(unmap(&e, SZ_1G, 2 * SZ_4K, 0, &n), 0);
	dml_iommu_trim(e.iommu);
	dml_iommu_get_stats(e.iommu, &st1);
	assert_int_equal(st1.pt_pages, 1);
	assert_int_equal(st1.pt_pages_peak, 4);
	assert_int_equal(st1.pt_pages_touched - st0.pt_pages_touched, 4);
	env_down(&e);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_superpage_choice),
	cmocka_unit_test(test_no_superpages),
	cmocka_unit_test(test_pte_bits),
	cmocka_unit_test(test_einval),
	cmocka_unit_test(test_partial_unmap),
	cmocka_unit_test(test_eexist),
	cmocka_unit_test(test_exact),
	cmocka_unit_test(test_5level),
	cmocka_unit_test(test_fail_nth),
	cmocka_unit_test(test_fail_nth_create),
	cmocka_unit_test(test_opts),
	cmocka_unit_test(test_pages_touched),
};

DML_TEST_MAIN(tests)
