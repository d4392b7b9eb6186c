/* SPDX-License-Identifier: MIT */
/*
 * test_pgtable.c - the emulated VT-d second-level page table
 * (src/iommu/emu/pgtable.c) through struct dml_iommu_ops on a domain of a
 * real emulated platform: leaf size choice, partial and EXACT unmap, table
 * freeing checked against a shadow model of the expected tables, 5 levels,
 * -EEXIST, fault injection on every table allocation, concurrent
 * map/unmap of disjoint ranges, and idle tables (empty tables kept linked):
 * reused in place, bounded, freed by trim, flush, stats and destroy.
 * pt_pages() trims, then reads the statistics; raw_pages() does not.
 */
#include <pthread.h>
#include <stdlib.h>

#include "testutil.h"

#include "iommu/emu/emu.h"

#define RW (IOMMU_READ | IOMMU_WRITE)
#define HEAD DML_MAP_LINK_HEAD

struct env {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_domain *d;
};

static void env_up(struct env *e, unsigned int levels, bool superpages)
{
	struct dml_iommu_opts o = {
		.size = DML_SIZEOF(&o, superpages),
		.levels = levels,
		.superpages = superpages,
	};

	assert_int_equal(dml_platform_create_emu(NULL, &e->p), 0);
	assert_int_equal(dml_iommu_create(e->p, &o, &e->iommu), 0);
	assert_int_equal(dml__emu_domain_alloc(e->iommu, &e->d), 0);
}

static void env_down(struct env *e)
{
	dml__domain_destroy(e->d);
	dml_platform_destroy(e->p);
}

static u64 pt_pages(struct env *e)
{
	struct dml_iommu_stats st;

	dml_iommu_trim(e->iommu);
	dml_iommu_get_stats(e->iommu, &st);
	return st.pt_pages;
}

static int map(struct env *e, u64 iova, u64 phys, u64 size, unsigned int flags)
{
	return e->d->ops->map(e->d, iova, phys, size, RW, flags);
}

static int unmap(struct env *e, u64 iova, u64 size, unsigned int flags,
		 size_t *bytes)
{
	return e->d->ops->unmap(e->d, iova, size, flags, bytes);
}

/* page size log2 of the leaf mapping @iova, 0 if none */
static unsigned int leaf_shift(struct env *e, u64 iova)
{
	struct emu_leaf leaf;

	if (!emu_pt_walk(to_emu(e->d), iova, &leaf))
		return 0;
	return leaf.shift;
}

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
				       IOMMU_READ | IOMMU_CACHE, HEAD), 0);
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
	assert_int_equal(map(&e, (1ULL << 48) - 0x1000, 0x2000, 0x1000, HEAD), 0);
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
	assert_int_equal(map(&e, base, 0x100000, 16 * SZ_4K, HEAD), 0);
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
	assert_int_equal(map(&e, base + SZ_2M, 0x400000, SZ_2M, HEAD), 0);
	assert_int_equal(unmap(&e, base + SZ_2M + SZ_4K, SZ_4K, 0, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, base + SZ_2M + SZ_4K), 0x401000);
	/* a range covering it whole plus a 4 KiB leaf and holes */
	assert_int_equal(unmap(&e, base, 3 * SZ_2M, 0, &n), 0);
	assert_int_equal(n, SZ_2M + 8 * SZ_4K);
	assert_int_equal(pt_pages(&e), 1);

	/* part of a 1 GiB leaf */
	assert_int_equal(map(&e, 2 * SZ_1G, 0, SZ_1G, HEAD), 0);
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
	assert_int_equal(map(&e, SZ_1G + 5 * SZ_4K, 0x5000, SZ_4K, HEAD), 0);
	before = pt_pages(&e);
	/* overlaps the end, the start, the middle */
	assert_int_equal(map(&e, SZ_1G, 0x9000000, 6 * SZ_4K, HEAD), -EEXIST);
	assert_int_equal(map(&e, SZ_1G + 5 * SZ_4K, 0x9000000, 6 * SZ_4K, HEAD), -EEXIST);
	assert_int_equal(map(&e, SZ_1G, 0x9000000, SZ_2M, HEAD), -EEXIST);
	assert_int_equal(pt_pages(&e), before);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, SZ_1G), 0);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, SZ_1G + 5 * SZ_4K), 0x5000);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, SZ_1G + 6 * SZ_4K), 0);

	/* a range over three windows whose last page collides: all undone */
	assert_int_equal(map(&e, 4 * SZ_1G - SZ_4K, 0x9000000, SZ_4K, HEAD), 0);
	before = pt_pages(&e);
	assert_int_equal(map(&e, SZ_1G + SZ_2M, 0x20000000,
			     3 * SZ_1G - SZ_2M, HEAD), -EEXIST);
	assert_int_equal(pt_pages(&e), before);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, SZ_1G + SZ_2M), 0);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, 2 * SZ_1G), 0);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, 3 * SZ_1G), 0);
	/* a superpage over a table, a table over a superpage */
	assert_int_equal(map(&e, 8 * SZ_1G, 0, SZ_2M, HEAD), 0);
	assert_int_equal(map(&e, 8 * SZ_1G + SZ_4K, SZ_4K, SZ_4K, HEAD), -EEXIST);
	assert_int_equal(map(&e, 8 * SZ_1G + SZ_2M + SZ_4K, 0, SZ_4K, HEAD), 0);
	assert_int_equal(map(&e, 8 * SZ_1G + SZ_2M, 0, SZ_2M, HEAD), -EEXIST);
	assert_int_equal(map(&e, 8 * SZ_1G, 0, SZ_1G, HEAD), -EEXIST);
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
	assert_int_equal(map(&e, a, 0x100000, 3 * SZ_4K, HEAD), 0);
	assert_int_equal(map(&e, a + 3 * SZ_4K, 0x103000, 2 * SZ_4K, HEAD), 0);
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
	assert_int_equal(map(&e, a, 0x100000, 3 * SZ_4K, HEAD), 0);
	assert_int_equal(map(&e, a + 3 * SZ_4K, 0x103000, 2 * SZ_4K, HEAD), 0);
	assert_int_equal(unmap(&e, a, 5 * SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, 5 * SZ_4K);
	assert_int_equal(map(&e, a, 0x100000, 8 * SZ_4K, HEAD), 0);
	assert_int_equal(unmap(&e, a + 4 * SZ_4K, SZ_4K, 0, &n), 0);
	assert_int_equal(unmap(&e, a, 8 * SZ_4K, DML_UNMAP_EXACT, &n), -ENOENT);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, a + 7 * SZ_4K), 0x107000);
	assert_int_equal(unmap(&e, a, 4 * SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(unmap(&e, a + 5 * SZ_4K, 3 * SZ_4K, DML_UNMAP_EXACT, &n), -ENOENT);
	assert_int_equal(unmap(&e, a + 5 * SZ_4K, 3 * SZ_4K, 0, &n), 0);
	assert_int_equal(pt_pages(&e), 1);

	/* a link made of 4K + 2M + 4K leaves across a window boundary */
	a = 2 * SZ_1G - SZ_2M - SZ_4K;
	assert_int_equal(map(&e, a, SZ_1G - SZ_2M - SZ_4K, SZ_2M + 2 * SZ_4K, HEAD), 0);
	assert_int_equal(leaf_shift(&e, a + SZ_4K), 21);
	assert_int_equal(unmap(&e, a, SZ_4K + SZ_2M, DML_UNMAP_EXACT, &n), -ENOENT);
	assert_int_equal(unmap(&e, a, SZ_4K + SZ_4K, DML_UNMAP_EXACT, &n), -ENOENT);
	assert_int_equal(unmap(&e, a, SZ_2M + 2 * SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, SZ_2M + 2 * SZ_4K);
	assert_int_equal(pt_pages(&e), 1);

	/* a 1 GiB link, and the granule after it */
	assert_int_equal(map(&e, 5 * SZ_1G, 0, SZ_1G, HEAD), 0);
	assert_int_equal(map(&e, 6 * SZ_1G, 0, SZ_4K, 0), 0);
	assert_int_equal(unmap(&e, 5 * SZ_1G, SZ_1G, DML_UNMAP_EXACT, &n), -ENOENT);
	assert_int_equal(unmap(&e, 5 * SZ_1G, SZ_1G + SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, SZ_1G + SZ_4K);
	assert_int_equal(pt_pages(&e), 1);
	env_down(&e);
}

/* ---- random map/unmap against a shadow ---- */

/*
 * The shadow covers NPAGES pages from SHADOW_BASE, across the 512 GiB
 * boundary (two level-3 tables) and several 1 GiB windows; it records per
 * page the physical address, the leaf (start page, size log2) and whether
 * that leaf starts a link.
 */
#define SHADOW_BASE ((512ULL << 30) - 2 * SZ_1G)
#define NPAGES ((4 * SZ_1G) >> 12)

struct shadow {
	u64 *phys;	/* 0: unmapped, else phys | 1 */
	u32 *leaf;	/* first page of the leaf */
	u8 *shift;
	u8 *head;
};

static u64 rng_state = 88172645463325252ULL;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static bool sh_any_mapped(struct shadow *s, u64 pg, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++)
		if (s->phys[pg + i])
			return true;
	return false;
}

static void sh_map(struct shadow *s, u64 pg, u64 phys, u64 n, bool superpages)
{
	u64 end = pg + n, first = pg;

	while (pg < end) {
		u64 iova = SHADOW_BASE + (pg << 12);
		unsigned int sh = 12;
		u64 i, cnt;

		if (superpages && IS_ALIGNED(iova, SZ_1G) && IS_ALIGNED(phys, SZ_1G) &&
		    (end - pg) << 12 >= SZ_1G)
			sh = 30;
		else if (superpages && IS_ALIGNED(iova, SZ_2M) &&
			 IS_ALIGNED(phys, SZ_2M) && (end - pg) << 12 >= SZ_2M)
			sh = 21;
		cnt = 1ULL << (sh - 12);
		for (i = 0; i < cnt; i++) {
			s->phys[pg + i] = (phys + (i << 12)) | 1;
			s->leaf[pg + i] = (u32)pg;
			s->shift[pg + i] = (u8)sh;
			s->head[pg + i] = pg == first;
		}
		pg += cnt;
		phys += cnt << 12;
	}
}

/* non-exact unmap: whole leaves inside [pg, +n); returns bytes */
static u64 sh_unmap(struct shadow *s, u64 pg, u64 n)
{
	u64 end = pg + n, bytes = 0, i;

	for (i = pg; i < end;) {
		u64 cnt, l;

		if (!s->phys[i]) {
			i++;
			continue;
		}
		l = s->leaf[i];
		cnt = 1ULL << (s->shift[i] - 12);
		if (l >= pg && l + cnt <= end) {
			memset(&s->phys[l], 0, cnt * sizeof(u64));
			bytes += cnt << 12;
		}
		i = l + cnt;
	}
	return bytes;
}

static bool sh_exact_ok(struct shadow *s, u64 pg, u64 n)
{
	u64 end = pg + n, i;

	if (!s->phys[pg] || s->leaf[pg] != pg || !s->head[pg])
		return false;
	for (i = pg; i < end; i++)
		if (!s->phys[i])
			return false;
	i = end - 1;
	if (s->leaf[i] + (1ULL << (s->shift[i] - 12)) != end)
		return false;
	return end == NPAGES || !s->phys[end] || (s->head[end] && s->leaf[end] == end);
}

/* the tables the shadow's mappings need: root + level 3 + 2 + 1 */
static u64 sh_tables(struct shadow *s)
{
	u64 t = 1, pg;
	u64 l3 = ~0ULL, l2 = ~0ULL, l1 = ~0ULL;

	for (pg = 0; pg < NPAGES; pg++) {
		u64 iova = SHADOW_BASE + (pg << 12);

		if (!s->phys[pg])
			continue;
		if (iova >> 39 != l3) {
			l3 = iova >> 39;
			t++;
		}
		if (s->shift[pg] < 30 && iova >> 30 != l2) {
			l2 = iova >> 30;
			t++;
		}
		if (s->shift[pg] == 12 && iova >> 21 != l1) {
			l1 = iova >> 21;
			t++;
		}
	}
	return t;
}

static void sh_check(struct env *e, struct shadow *s, u64 samples)
{
	u64 k;

	for (k = 0; k < samples; k++) {
		u64 pg = rnd() % NPAGES;
		u64 want = s->phys[pg] ? s->phys[pg] - 1 : 0;

		assert_int_equal(e->d->ops->iova_to_phys(e->d, SHADOW_BASE + (pg << 12)),
				 want);
	}
	assert_int_equal(pt_pages(e), sh_tables(s));
}

/* a random range: mostly small, sometimes 2 MiB or 1 GiB shaped */
static void pick(u64 *pg, u64 *n, u64 *phys)
{
	u64 r = rnd() % 100;

	if (r < 60) {
		*n = 1 + rnd() % 64;
		*pg = rnd() % (NPAGES - *n);
		*phys = (rnd() % (1ULL << 28)) << 12;
	} else if (r < 85) {
		*n = 512 * (1 + rnd() % 3) + (rnd() % 2) * (rnd() % 512);
		*pg = (rnd() % (NPAGES / 512 - 4)) * 512 + (rnd() % 4 ? 0 : rnd() % 512);
		*phys = ((rnd() % (1ULL << 19)) << 21) + ((*pg & 511) << 12);
	} else if (r < 90) {
		*n = 1ULL << 18;
		*pg = (rnd() % 3) << 18;
		*phys = (rnd() % 64) << 30;
	} else {
		*n = 1 + rnd() % (3ULL << 18);
		*pg = rnd() % (NPAGES - *n);
		*phys = (rnd() % (1ULL << 28)) << 12;
	}
}

struct link {
	u64 pg, n;
};

static void test_random_shadow(void **state)
{
	static struct link links[4096];
	unsigned int nlinks = 0;
	struct shadow s;
	struct env e;
	unsigned int op;
	size_t n;
	int sp;

	(void)state;
	s.phys = calloc(NPAGES, sizeof(u64));
	s.leaf = calloc(NPAGES, sizeof(u32));
	s.shift = calloc(NPAGES, 1);
	s.head = calloc(NPAGES, 1);
	assert_non_null(s.phys);
	assert_non_null(s.leaf);
	assert_non_null(s.shift);
	assert_non_null(s.head);

	for (sp = 1; sp >= 0; sp--) {
		env_up(&e, 4, sp);
		memset(s.phys, 0, NPAGES * sizeof(u64));
		nlinks = 0;
		for (op = 0; op < 3000; op++) {
			u64 pg, cnt, phys, iova;
			int ret, kind = (int)(rnd() % 3);

			pick(&pg, &cnt, &phys);
			iova = SHADOW_BASE + (pg << 12);
			if (kind == 0) {
				bool busy = sh_any_mapped(&s, pg, cnt);

				ret = map(&e, iova, phys, cnt << 12, HEAD);
				assert_int_equal(ret, busy ? -EEXIST : 0);
				if (!busy) {
					sh_map(&s, pg, phys, cnt, sp);
					if (nlinks < ARRAY_SIZE(links))
						links[nlinks++] = (struct link){ pg, cnt };
				}
			} else if (kind == 1) {
				u64 want = sh_unmap(&s, pg, cnt);

				assert_int_equal(unmap(&e, iova, cnt << 12, 0, &n), 0);
				assert_int_equal(n, want);
			} else {
				bool ok;

				/* mostly aim at a link made earlier */
				if (nlinks && rnd() % 4) {
					unsigned int k = (unsigned int)(rnd() % nlinks);

					pg = links[k].pg;
					cnt = links[k].n;
					links[k] = links[--nlinks];
					iova = SHADOW_BASE + (pg << 12);
				}
				if (pg + cnt > NPAGES)
					cnt = NPAGES - pg;
				ok = sh_exact_ok(&s, pg, cnt);
				ret = unmap(&e, iova, cnt << 12, DML_UNMAP_EXACT, &n);
				assert_int_equal(ret, ok ? 0 : -ENOENT);
				if (ok)
					assert_int_equal(n, sh_unmap(&s, pg, cnt));
				else
					assert_int_equal(n, 0);
			}
			if (op % 50 == 0)
				sh_check(&e, &s, 2000);
		}
		sh_check(&e, &s, 20000);
		assert_int_equal(unmap(&e, SHADOW_BASE, NPAGES << 12, 0, &n), 0);
		assert_int_equal(n, sh_unmap(&s, 0, NPAGES));
		assert_int_equal(pt_pages(&e), 1);
		env_down(&e);
	}
	free(s.phys);
	free(s.leaf);
	free(s.shift);
	free(s.head);
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
	assert_int_equal(map(&e, top, 0x5000, SZ_4K, HEAD), 0);
	assert_int_equal(pt_pages(&e), 5);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, top + 0x10), 0x5010);
	assert_int_equal(map(&e, 1ULL << 57, 0x5000, SZ_4K, HEAD), -EINVAL);
	/* a 1 GiB leaf in another level-4 subtree, a 2 MiB one next to it */
	assert_int_equal(map(&e, hi, 0, SZ_1G, HEAD), 0);
	assert_int_equal(leaf_shift(&e, hi + 0x123000), 30);
	assert_int_equal(map(&e, hi + SZ_1G, SZ_1G, SZ_2M, HEAD), 0);
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
	assert_int_equal(map(&e, SZ_1G, SZ_1G, SZ_1G + SZ_4K, HEAD), 0);
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

			ret = map(&e, seq[i].iova, seq[i].phys, seq[i].size, HEAD);
			if (!hit && dml_fail_nth_hit()) {
				hit = true;
				nfail++;
				assert_int_equal(ret, -ENOMEM);
				assert_int_equal(pt_pages(&e), before);
				assert_int_equal(e.d->ops->iova_to_phys(e.d, seq[i].iova), 0);
				assert_int_equal(e.d->ops->iova_to_phys(e.d, seq[i].iova +
									seq[i].size - SZ_4K), 0);
				dml_fail_nth(0);
				ret = map(&e, seq[i].iova, seq[i].phys, seq[i].size, HEAD);
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

/* ---- concurrency: disjoint ranges, one domain ---- */

struct worker {
	struct env *e;
	u64 base;
	unsigned int id;
	int err;
};

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct dml_domain *d = w->e->d;
	unsigned int i, j;
	size_t n;

	for (i = 0; i < 20000 && !w->err; i++) {
		/* pages interleaved with the other thread's in one leaf table,
		 * plus whole 2 MiB leaves and windows of its own */
		u64 a = w->base + (u64)(i % 64) * 2 * SZ_4K + w->id * SZ_4K;
		u64 b = w->base + SZ_1G * (1 + w->id) + (u64)(i % 8) * SZ_2M;
		u64 c = (u64)(2 + w->id + 2 * (i % 4)) << 39;

		if (d->ops->map(d, a, 0x1000, SZ_4K, RW, HEAD) ||
		    d->ops->map(d, b, 0x200000, SZ_2M, RW, HEAD) ||
		    d->ops->map(d, c, 0x3000, SZ_4K, RW, HEAD))
			w->err = 1;
		for (j = 0; j < 3 && !w->err; j++) {
			u64 v = j == 0 ? a : j == 1 ? b : c;

			if (d->ops->iova_to_phys(d, v) != (j == 0 ? 0x1000 : j == 1 ? 0x200000 : 0x3000))
				w->err = 2;
		}
		if (d->ops->unmap(d, a, SZ_4K, DML_UNMAP_EXACT, &n) || n != SZ_4K ||
		    d->ops->unmap(d, b, SZ_2M, DML_UNMAP_EXACT, &n) || n != SZ_2M ||
		    d->ops->unmap(d, c, SZ_4K, DML_UNMAP_EXACT, &n) || n != SZ_4K)
			w->err = 3;
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct worker w[2];
	pthread_t t[2];
	struct env e;
	unsigned int i;

	(void)state;
	env_up(&e, 4, true);
	for (i = 0; i < 2; i++) {
		w[i] = (struct worker){ .e = &e, .base = 4 * SZ_1G, .id = i };
		assert_int_equal(pthread_create(&t[i], NULL, worker_fn, &w[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].err, 0);
	}
	assert_int_equal(pt_pages(&e), 1);
	env_down(&e);
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
	assert_int_equal(map(&e, SZ_1G, 0, SZ_4K, HEAD), 0);
	dml_iommu_get_stats(e.iommu, &st1);
	assert_int_equal(st1.pt_pages_touched - st0.pt_pages_touched, 4);
	assert_int_equal(st1.pt_pages, 4);
	assert_int_equal(st1.pt_pages_peak, 4);
	/* the next one only the leaf table */
	assert_int_equal(map(&e, SZ_1G + SZ_4K, 0, SZ_4K, HEAD), 0);
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

/* ---- idle tables: bounded, reused, trimmed ---- */

/* table pages handed out, idle ones included (no trim, unlike pt_pages) */
static u64 raw_pages(struct env *e)
{
	return __atomic_load_n(&e->iommu->pool.in_use, __ATOMIC_RELAXED);
}

/* empty tables that may linger: the gather list and their ancestors */
#define IDLE_BOUND(levels) ((u64)EMU_GATHER * ((levels) - 1))
/* 1 GiB windows per third of test_idle_bound's range */
#define WINDOWS 64

static void test_idle_reuse(void **state)
{
	struct env e;
	u64 held;
	size_t n;

	(void)state;
	env_up(&e, 4, true);
	/* unmapping the only page keeps its tables linked, all empty */
	assert_int_equal(map(&e, SZ_1G, 0x1000, SZ_4K, HEAD), 0);
	assert_int_equal(raw_pages(&e), 4);
	assert_int_equal(unmap(&e, SZ_1G, SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, SZ_4K);
	held = raw_pages(&e);
	assert_true(held > 1 && held <= 1 + IDLE_BOUND(4));
	assert_int_equal(e.d->ops->iova_to_phys(e.d, SZ_1G), 0);
	/* the next map there reuses them: no new page */
	assert_int_equal(map(&e, SZ_1G + SZ_4K, 0x2000, SZ_4K, HEAD), 0);
	assert_int_equal(raw_pages(&e), held);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, SZ_1G + SZ_4K), 0x2000);
	assert_int_equal(unmap(&e, SZ_1G + SZ_4K, SZ_4K, DML_UNMAP_EXACT, &n), 0);
	/* a 2 MiB leaf takes the place of the idle leaf table */
	assert_int_equal(map(&e, SZ_1G, SZ_2M, SZ_2M, HEAD), 0);
	assert_int_equal(leaf_shift(&e, SZ_1G), 21);
	assert_int_equal(raw_pages(&e), 3);
	assert_int_equal(unmap(&e, SZ_1G, SZ_2M, DML_UNMAP_EXACT, &n), 0);
	/* a 1 GiB leaf takes the place of the idle level-2 table */
	assert_int_equal(map(&e, SZ_1G + SZ_4K, 0x2000, SZ_4K, HEAD), 0);
	assert_int_equal(unmap(&e, SZ_1G + SZ_4K, SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(map(&e, SZ_1G, SZ_1G, SZ_1G, HEAD), 0);
	assert_int_equal(leaf_shift(&e, SZ_1G + 0x1234000), 30);
	assert_int_equal(raw_pages(&e), 2);
	assert_int_equal(unmap(&e, SZ_1G, SZ_1G, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(n, SZ_1G);
	/* trimming frees every idle table: back to the root */
	emu_pt_trim(to_emu(e.d));
	assert_int_equal(raw_pages(&e), 1);
	env_down(&e);
}

/* many windows and leaf tables emptied: what lingers is bounded */
static void test_idle_bound(void **state)
{
	static const unsigned int levels[] = { 4, 5 };
	unsigned int k, w, t;
	struct env e;
	size_t n;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(levels); k++) {
		env_up(&e, levels[k], true);
		/* 3 windows per stripe, 8 leaf tables per window */
		for (w = 0; w < 3 * WINDOWS; w++)
			for (t = 0; t < 8; t++)
				assert_int_equal(map(&e, ((u64)w << 30) + t * SZ_2M + SZ_4K,
						     0x1000, SZ_4K, HEAD), 0);
		assert_int_equal(raw_pages(&e), 1 + 1 + 3 * WINDOWS * 9 +
						(levels[k] == 5));
		for (w = 0; w < 3 * WINDOWS; w++) {
			for (t = 0; t < 8; t++) {
				assert_int_equal(unmap(&e, ((u64)w << 30) + t * SZ_2M + SZ_4K,
						       SZ_4K, DML_UNMAP_EXACT, &n), 0);
				assert_int_equal(n, SZ_4K);
				assert_true(raw_pages(&e) <= 1 + 1 + (levels[k] == 5) +
					    (3 * WINDOWS - w) * 9 +
					    IDLE_BOUND(levels[k]));
			}
		}
		assert_true(raw_pages(&e) <= 1 + IDLE_BOUND(levels[k]));
		assert_true(raw_pages(&e) > 1);
		/* the domain-wide flush reclaims them all */
		e.d->ops->flush_iotlb_all(e.d);
		assert_int_equal(raw_pages(&e), 1);
		/* and so does reading the statistics */
		assert_int_equal(map(&e, SZ_4K, 0x1000, SZ_4K, HEAD), 0);
		assert_int_equal(unmap(&e, SZ_4K, SZ_4K, DML_UNMAP_EXACT, &n), 0);
		assert_true(raw_pages(&e) > 1);
		assert_int_equal(pt_pages(&e), 1);
		assert_int_equal(raw_pages(&e), 1);
		/* destroying a domain with idle tables leaks nothing */
		assert_int_equal(map(&e, SZ_4K, 0x1000, SZ_4K, HEAD), 0);
		assert_int_equal(unmap(&e, SZ_4K, SZ_4K, DML_UNMAP_EXACT, &n), 0);
		dml__domain_destroy(e.d);
		assert_int_equal(raw_pages(&e), 0);
		dml_platform_destroy(e.p);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_superpage_choice),
	cmocka_unit_test(test_no_superpages),
	cmocka_unit_test(test_pte_bits),
	cmocka_unit_test(test_einval),
	cmocka_unit_test(test_partial_unmap),
	cmocka_unit_test(test_eexist),
	cmocka_unit_test(test_exact),
	cmocka_unit_test(test_random_shadow),
	cmocka_unit_test(test_5level),
	cmocka_unit_test(test_fail_nth),
	cmocka_unit_test(test_fail_nth_create),
	cmocka_unit_test(test_opts),
	cmocka_unit_test(test_concurrent),
	cmocka_unit_test(test_pages_touched),
	cmocka_unit_test(test_idle_reuse),
	cmocka_unit_test(test_idle_bound),
};

DML_TEST_MAIN(tests)
