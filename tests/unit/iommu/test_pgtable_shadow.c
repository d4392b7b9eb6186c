/* SPDX-License-Identifier: MIT */
/*
 * test_pgtable_shadow.c - random map, unmap and EXACT unmap against a
 * shadow model of the emulated VT-d page table (src/iommu/emu/pgtable.c):
 * every translation, every byte count, every -EEXIST / -ENOENT and the
 * number of table pages the mappings need, with and without superpages.
 */
#include <stdlib.h>

#include "pt_env.h"

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

				ret = map(&e, iova, phys, cnt << 12, LINK);
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

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_random_shadow),
};

DML_TEST_MAIN(tests)
