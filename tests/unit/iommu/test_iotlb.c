/* SPDX-License-Identifier: MIT */
/*
 * test_iotlb.c - the IOTLB model, translation and fault log of the
 * emulated VT-d unit (src/iommu/emu/iotlb.c, emu.c, fault.c): permissions,
 * stale entries reached after an unmap without invalidation (detected,
 * reported, cleared by invalidation), caching mode, invalidation counters,
 * set-associativity and domain tags, the fault ring, and one end-to-end
 * check with an emulated device really moving bytes.
 */
#include <pthread.h>
#include <stdlib.h>

#include "testutil.h"

#include "iommu/emu/emu.h"

#define RW (IOMMU_READ | IOMMU_WRITE)
#define LINK DML_MAP_LINK	/* a whole link: its head and its tail */
#define SID 0x0310	/* 03:02.0 */

struct env {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_domain *d;
};

static void env_up_opts(struct env *e, struct dml_iommu_opts *o)
{
	assert_int_equal(dml_platform_create_emu(NULL, &e->p), 0);
	assert_int_equal(dml_iommu_create(e->p, o, &e->iommu), 0);
	assert_int_equal(dml__emu_domain_alloc(e->iommu, &e->d), 0);
}

static void env_up(struct env *e)
{
	env_up_opts(e, NULL);
}

static void env_down(struct env *e)
{
	dml_platform_destroy(e->p);	/* frees the domain with the unit */
}

static struct dml_iommu_stats stats(struct env *e)
{
	struct dml_iommu_stats st;

	dml_iommu_get_stats(e->iommu, &st);
	return st;
}

/* translate @iova; returns 0 or -EFAULT, *@phys set on success */
static int xlate(struct env *e, struct dml_domain *d, u64 iova, bool write,
		 u64 *phys, u64 *contig)
{
	phys_addr_t p = 0;
	u64 c = 0;
	int ret;

	ret = dml__emu_translate(e->iommu, d, SID, iova, write, &p, &c);
	if (phys)
		*phys = p;
	if (contig)
		*contig = c;
	return ret;
}

static struct dml_fault last_fault(struct env *e)
{
	struct dml_fault f;
	u64 n = dml_iommu_fault_count(e->iommu);

	assert_true(n > 0);
	assert_int_equal(dml_iommu_fault_get(e->iommu, min(n, 256) - 1, &f), 0);
	return f;
}

/* ---- permissions ---- */

static void test_permissions(void **state)
{
	struct dml_fault f;
	struct env e;
	u64 phys;

	(void)state;
	env_up(&e);
	assert_int_equal(e.d->ops->map(e.d, 0x10000, 0x100000, SZ_4K, IOMMU_WRITE, LINK), 0);
	assert_int_equal(e.d->ops->map(e.d, 0x20000, 0x200000, SZ_4K, IOMMU_READ, LINK), 0);

	/* a read of a write-only mapping */
	assert_int_equal(xlate(&e, e.d, 0x10010, false, &phys, NULL), -EFAULT);
	f = last_fault(&e);
	assert_int_equal(f.reason, DML_FAULT_READ_DENIED);
	assert_int_equal(f.source_id, SID);
	assert_int_equal(f.addr, 0x10010);
	assert_false(f.write);
	assert_int_equal(xlate(&e, e.d, 0x10010, true, &phys, NULL), 0);
	assert_int_equal(phys, 0x100010);
	/* now the translation is cached: the check still applies */
	assert_int_equal(xlate(&e, e.d, 0x10020, false, &phys, NULL), -EFAULT);
	assert_int_equal(last_fault(&e).reason, DML_FAULT_READ_DENIED);

	/* a write of a read-only mapping */
	assert_int_equal(xlate(&e, e.d, 0x20000, true, &phys, NULL), -EFAULT);
	f = last_fault(&e);
	assert_int_equal(f.reason, DML_FAULT_WRITE_DENIED);
	assert_true(f.write);
	assert_int_equal(xlate(&e, e.d, 0x20000, false, &phys, NULL), 0);
	assert_int_equal(xlate(&e, e.d, 0x20008, true, &phys, NULL), -EFAULT);

	/* nothing mapped */
	assert_int_equal(xlate(&e, e.d, 0x30000, false, &phys, NULL), -EFAULT);
	assert_int_equal(last_fault(&e).reason, DML_FAULT_NOT_PRESENT);
	assert_int_equal(dml_iommu_fault_count(e.iommu), 5);
	assert_int_equal(stats(&e).faults, 5);
	env_down(&e);
}

/* ---- stale IOTLB entries ---- */

static void test_stale_after_unmap(void **state)
{
	struct dml_iommu_stats st;
	struct env e;
	size_t n;
	u64 phys;

	(void)state;
	env_up(&e);
	assert_int_equal(e.d->ops->map(e.d, 0x40000, 0x300000, 2 * SZ_4K, RW, LINK), 0);
	assert_int_equal(xlate(&e, e.d, 0x40100, true, &phys, NULL), 0);
	assert_int_equal(phys, 0x300100);
	st = stats(&e);
	assert_int_equal(st.iotlb_misses, 1);
	assert_int_equal(st.iotlb_hits, 0);
	assert_int_equal(xlate(&e, e.d, 0x40200, true, &phys, NULL), 0);
	assert_int_equal(stats(&e).iotlb_hits, 1);

	/* unmap without invalidation: the device still reaches the old page */
	assert_int_equal(e.d->ops->unmap(e.d, 0x40000, 2 * SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(e.d->ops->iova_to_phys(e.d, 0x40000), 0);
	assert_int_equal(xlate(&e, e.d, 0x40300, false, &phys, NULL), 0);
	assert_int_equal(phys, 0x300300);
	st = stats(&e);
	assert_int_equal(st.stale_hits, 1);
	assert_int_equal(st.faults, 1);
	assert_int_equal(last_fault(&e).reason, DML_FAULT_STALE_IOTLB);
	assert_int_equal(last_fault(&e).addr, 0x40300);
	/* the second page was never cached: a plain miss and fault */
	assert_int_equal(xlate(&e, e.d, 0x41000, false, &phys, NULL), -EFAULT);
	assert_int_equal(last_fault(&e).reason, DML_FAULT_NOT_PRESENT);

	/* a page-selective invalidation clears it */
	e.d->ops->iotlb_sync(e.d, 0x40000, 2 * SZ_4K);
	assert_int_equal(stats(&e).inv_range, 1);
	assert_int_equal(xlate(&e, e.d, 0x40300, false, &phys, NULL), -EFAULT);
	assert_int_equal(last_fault(&e).reason, DML_FAULT_NOT_PRESENT);
	st = stats(&e);
	assert_int_equal(st.stale_hits, 1);
	assert_int_equal(st.faults, 3);
	env_down(&e);
}

static void test_stale_after_remap(void **state)
{
	struct env e;
	size_t n;
	u64 phys;

	(void)state;
	env_up(&e);
	assert_int_equal(e.d->ops->map(e.d, 0x40000, 0x300000, SZ_4K, RW, LINK), 0);
	assert_int_equal(xlate(&e, e.d, 0x40000, false, &phys, NULL), 0);
	/* remapped elsewhere without invalidation: old page, detected */
	assert_int_equal(e.d->ops->unmap(e.d, 0x40000, SZ_4K, 0, &n), 0);
	assert_int_equal(e.d->ops->map(e.d, 0x40000, 0x500000, SZ_4K, RW, LINK), 0);
	assert_int_equal(xlate(&e, e.d, 0x40000, false, &phys, NULL), 0);
	assert_int_equal(phys, 0x300000);
	assert_int_equal(stats(&e).stale_hits, 1);
	/* a domain-wide flush clears it; the new page is reached */
	e.d->ops->flush_iotlb_all(e.d);
	assert_int_equal(stats(&e).inv_global, 1);
	assert_int_equal(xlate(&e, e.d, 0x40000, false, &phys, NULL), 0);
	assert_int_equal(phys, 0x500000);
	assert_int_equal(stats(&e).stale_hits, 1);
	/* same page, permission changed: stale too */
	assert_int_equal(e.d->ops->unmap(e.d, 0x40000, SZ_4K, 0, &n), 0);
	assert_int_equal(e.d->ops->map(e.d, 0x40000, 0x500000, SZ_4K, IOMMU_READ, LINK), 0);
	assert_int_equal(xlate(&e, e.d, 0x40000, true, &phys, NULL), 0);
	assert_int_equal(stats(&e).stale_hits, 2);
	e.d->ops->iotlb_sync(e.d, 0x40000, SZ_4K);
	assert_int_equal(xlate(&e, e.d, 0x40000, true, &phys, NULL), -EFAULT);
	assert_int_equal(last_fault(&e).reason, DML_FAULT_WRITE_DENIED);
	env_down(&e);
}

/* valid IOTLB entries, all sets */
static u64 tlb_valid(struct env *e)
{
	u64 n = 0;
	unsigned int i;

	for (i = 0; i < e->iommu->tlb.sets; i++)
		n += atomic_load(&e->iommu->tlb.set[i].valid);
	return n;
}

/* large ranges are invalidated by a scan of the whole IOTLB */
static void test_inv_large_range(void **state)
{
	struct env e;
	size_t n;
	u64 i;

	(void)state;
	env_up(&e);
	assert_int_equal(e.d->ops->map(e.d, SZ_1G, 0x1000000, 256 * SZ_4K, RW, LINK), 0);
	for (i = 0; i < 256; i += 37)
		assert_int_equal(xlate(&e, e.d, SZ_1G + i * SZ_4K, false, NULL, NULL), 0);
	assert_int_equal(e.d->ops->unmap(e.d, SZ_1G, 256 * SZ_4K, 0, &n), 0);
	e.d->ops->iotlb_sync(e.d, SZ_1G, 256 * SZ_4K);
	for (i = 0; i < 256; i += 37)
		assert_int_equal(xlate(&e, e.d, SZ_1G + i * SZ_4K, false, NULL, NULL), -EFAULT);
	assert_int_equal(stats(&e).stale_hits, 0);
	assert_int_equal(tlb_valid(&e), 0);
	env_down(&e);
}

/* ---- superpage entries ---- */

static void test_superpage_entries(void **state)
{
	struct dml_iommu_stats st;
	struct env e;
	size_t n;
	u64 phys, contig;

	(void)state;
	env_up(&e);
	assert_int_equal(e.d->ops->map(e.d, SZ_1G, 0x40000000, SZ_2M, RW, LINK), 0);
	assert_int_equal(xlate(&e, e.d, SZ_1G + 0x1234, true, &phys, &contig), 0);
	assert_int_equal(phys, 0x40001234);
	assert_int_equal(contig, SZ_2M - 0x1234);
	assert_int_equal(xlate(&e, e.d, SZ_1G + 0x1ff000, true, &phys, &contig), 0);
	assert_int_equal(contig, SZ_4K);
	st = stats(&e);
	assert_int_equal(st.iotlb_misses, 1);
	assert_int_equal(st.iotlb_hits, 1);
	/* a range invalidation of one 4 KiB page inside drops the 2 MiB entry */
	assert_int_equal(e.d->ops->unmap(e.d, SZ_1G, SZ_2M, 0, &n), 0);
	e.d->ops->iotlb_sync(e.d, SZ_1G + 0x5000, SZ_4K);
	assert_int_equal(xlate(&e, e.d, SZ_1G, true, &phys, NULL), -EFAULT);
	assert_int_equal(stats(&e).stale_hits, 0);

	/* 1 GiB leaf; a translation past the end of RAM faults */
	assert_int_equal(e.d->ops->map(e.d, 4 * SZ_1G, 3 * SZ_1G, SZ_1G, RW, LINK), 0);
	assert_int_equal(xlate(&e, e.d, 4 * SZ_1G + 0x10, false, &phys, &contig), 0);
	assert_int_equal(phys, 3 * SZ_1G + 0x10);
	assert_int_equal(contig, SZ_1G - 0x10);
	assert_int_equal(e.d->ops->unmap(e.d, 4 * SZ_1G, SZ_1G, 0, &n), 0);
	e.d->ops->iotlb_sync(e.d, 4 * SZ_1G, SZ_1G);
	assert_int_equal(e.d->ops->map(e.d, 4 * SZ_1G, 4 * SZ_1G, SZ_1G, RW, LINK), 0);
	assert_int_equal(xlate(&e, e.d, 4 * SZ_1G, false, &phys, NULL), -EFAULT);
	assert_int_equal(last_fault(&e).reason, DML_FAULT_NO_MEMORY);
	env_down(&e);
}

/* ---- caching mode ---- */

static void test_caching_mode(void **state)
{
	struct dml_iommu_opts o = {
		.size = DML_SIZEOF(&o, superpages),
		.caching_mode = true,
		.superpages = true,
	};
	struct env e;
	size_t n;
	u64 phys;

	(void)state;
	env_up_opts(&e, &o);
	assert_non_null(e.d->ops->iotlb_sync_map);
	assert_int_equal(e.d->ops->map(e.d, 0x80000, 0x600000, 4 * SZ_4K, RW, LINK), 0);
	assert_int_equal(e.d->ops->map(e.d, SZ_1G, 0x800000, SZ_2M, RW, LINK), 0);
	/* mapped (software sees it) but not synced: the device faults */
	assert_int_equal(e.d->ops->iova_to_phys(e.d, 0x80000), 0x600000);
	assert_int_equal(xlate(&e, e.d, 0x80000, false, &phys, NULL), -EFAULT);
	assert_int_equal(last_fault(&e).reason, DML_FAULT_NOT_PRESENT);
	assert_int_equal(xlate(&e, e.d, SZ_1G, false, &phys, NULL), -EFAULT);

	/* sync part of it */
	assert_int_equal(e.d->ops->iotlb_sync_map(e.d, 0x80000, 2 * SZ_4K), 0);
	assert_int_equal(stats(&e).sync_map, 1);
	assert_int_equal(xlate(&e, e.d, 0x81000, false, &phys, NULL), 0);
	assert_int_equal(phys, 0x601000);
	assert_int_equal(xlate(&e, e.d, 0x82000, false, &phys, NULL), -EFAULT);
	assert_int_equal(e.d->ops->iotlb_sync_map(e.d, 0x82000, 2 * SZ_4K), 0);
	assert_int_equal(xlate(&e, e.d, 0x83000, true, &phys, NULL), 0);
	/* a 2 MiB leaf is synced whole by a range inside it */
	assert_int_equal(e.d->ops->iotlb_sync_map(e.d, SZ_1G + SZ_4K, SZ_4K), 0);
	assert_int_equal(xlate(&e, e.d, SZ_1G + 0x100000, true, &phys, NULL), 0);
	assert_int_equal(stats(&e).sync_map, 3);
	/* syncing holes changes nothing */
	assert_int_equal(e.d->ops->iotlb_sync_map(e.d, 0x7000000000ULL, SZ_1G), 0);

	/* a remap after unmap is pending again */
	assert_int_equal(e.d->ops->unmap(e.d, 0x80000, 4 * SZ_4K, DML_UNMAP_EXACT, &n), 0);
	e.d->ops->iotlb_sync(e.d, 0x80000, 4 * SZ_4K);
	assert_int_equal(e.d->ops->map(e.d, 0x80000, 0x600000, SZ_4K, RW, LINK), 0);
	assert_int_equal(xlate(&e, e.d, 0x80000, false, &phys, NULL), -EFAULT);
	assert_int_equal(e.d->ops->iotlb_sync_map(e.d, 0x80000, SZ_4K), 0);
	assert_int_equal(xlate(&e, e.d, 0x80000, false, &phys, NULL), 0);
	env_down(&e);
}

static void test_no_caching_mode(void **state)
{
	struct env e;
	u64 phys;

	(void)state;
	env_up(&e);
	assert_null(e.d->ops->iotlb_sync_map);
	assert_int_equal(e.d->ops->map(e.d, 0x80000, 0x600000, SZ_4K, RW, LINK), 0);
	assert_int_equal(xlate(&e, e.d, 0x80000, false, &phys, NULL), 0);
	assert_int_equal(stats(&e).sync_map, 0);
	env_down(&e);
}

/* ---- geometry of the IOTLB ---- */

static void test_associativity(void **state)
{
	struct dml_iommu_opts o = {
		.size = DML_SIZEOF(&o, superpages),
		.iotlb_sets = 1,
		.iotlb_ways = 2,
		.superpages = true,
	};
	struct dml_iommu_stats st;
	struct env e;
	unsigned int r, i;

	(void)state;
	env_up_opts(&e, &o);
	assert_int_equal(e.d->ops->map(e.d, 0x100000, 0x100000, 3 * SZ_4K, RW, LINK), 0);
	/* 3 pages cycled through 2 ways: never a hit */
	for (r = 0; r < 4; r++)
		for (i = 0; i < 3; i++)
			assert_int_equal(xlate(&e, e.d, 0x100000 + i * SZ_4K, false, NULL, NULL), 0);
	st = stats(&e);
	assert_int_equal(st.iotlb_hits, 0);
	assert_int_equal(st.iotlb_misses, 12);
	/* 2 pages fit */
	for (r = 0; r < 4; r++)
		for (i = 0; i < 2; i++)
			assert_int_equal(xlate(&e, e.d, 0x100000 + i * SZ_4K, false, NULL, NULL), 0);
	st = stats(&e);
	assert_true(st.iotlb_hits >= 6);
	env_down(&e);
}

static void test_domain_tags(void **state)
{
	struct dml_domain *d2;
	struct dml_iommu_stats st;
	struct env e;
	u64 phys;
	size_t n;

	(void)state;
	env_up(&e);
	assert_int_equal(dml__emu_domain_alloc(e.iommu, &d2), 0);
	assert_int_not_equal(to_emu(e.d)->id, to_emu(d2)->id);
	assert_int_equal(e.d->ops->map(e.d, 0x100000, 0x100000, SZ_4K, RW, LINK), 0);
	assert_int_equal(d2->ops->map(d2, 0x100000, 0x700000, SZ_4K, RW, LINK), 0);
	assert_int_equal(xlate(&e, e.d, 0x100000, false, &phys, NULL), 0);
	assert_int_equal(phys, 0x100000);
	assert_int_equal(xlate(&e, d2, 0x100000, false, &phys, NULL), 0);
	assert_int_equal(phys, 0x700000);
	/* flushing one domain leaves the other's entry */
	e.d->ops->flush_iotlb_all(e.d);
	assert_int_equal(xlate(&e, d2, 0x100000, false, &phys, NULL), 0);
	st = stats(&e);
	assert_int_equal(st.iotlb_hits, 1);
	assert_int_equal(st.iotlb_misses, 2);
	assert_int_equal(st.inv_global, 1);
	/* so does a range invalidation; the unit's counters survive a domain */
	assert_int_equal(d2->ops->unmap(d2, 0x100000, SZ_4K, 0, &n), 0);
	e.d->ops->iotlb_sync(e.d, 0x100000, SZ_4K);
	assert_int_equal(xlate(&e, d2, 0x100000, false, &phys, NULL), 0);
	assert_int_equal(stats(&e).stale_hits, 1);
	dml__domain_destroy(d2);
	st = stats(&e);
	assert_int_equal(st.stale_hits, 1);
	assert_int_equal(st.inv_range, 1);
	assert_int_equal(st.pt_pages, 4);	/* e.d: root + 3 */
	env_down(&e);
}

/* ---- the fault log ---- */

static void test_fault_ring(void **state)
{
	struct dml_fault f;
	struct env e;
	u64 i;

	(void)state;
	env_up(&e);
	assert_int_equal(dml_iommu_fault_count(e.iommu), 0);
	assert_int_equal(dml_iommu_fault_get(e.iommu, 0, &f), -ENOENT);
	for (i = 0; i < 300; i++)
		assert_int_equal(dml__emu_translate(e.iommu, e.d, (u16)i, i * SZ_4K,
						    i & 1, &(phys_addr_t){ 0 },
						    &(u64){ 0 }), -EFAULT);
	assert_int_equal(dml_iommu_fault_count(e.iommu), 300);
	assert_int_equal(dml_iommu_fault_get(e.iommu, 0, &f), 0);
	assert_int_equal(f.source_id, 44);
	assert_int_equal(f.addr, 44 * SZ_4K);
	assert_false(f.write);
	assert_int_equal(dml_iommu_fault_get(e.iommu, 255, &f), 0);
	assert_int_equal(f.source_id, 299);
	assert_true(f.write);
	assert_int_equal(dml_iommu_fault_get(e.iommu, 256, &f), -ENOENT);
	/* beyond the aperture is simply not present */
	assert_int_equal(xlate(&e, e.d, 1ULL << 60, false, NULL, NULL), -EFAULT);
	assert_int_equal(last_fault(&e).reason, DML_FAULT_NOT_PRESENT);
	env_down(&e);
}

static void test_reason_str(void **state)
{
	const char *s[6];
	unsigned int i, j;

	(void)state;
	for (i = 0; i < 6; i++) {
		s[i] = dml_fault_reason_str((enum dml_fault_reason)i);
		assert_non_null(s[i]);
		assert_string_not_equal(s[i], "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(s[i], s[j]);
	}
	assert_string_equal(dml_fault_reason_str(DML_FAULT_STALE_IOTLB), "stale IOTLB entry");
	assert_string_equal(dml_fault_reason_str((enum dml_fault_reason)99), "unknown");
}

/* ---- end to end: an emulated device moving bytes ---- */

static void test_device_stale_write(void **state)
{
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, iommu),
		.name = "dev",
		.source_id = SID,
		.pci = true,
	};
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
	struct dml_domain *d;
	char buf[16] = "hello, stale", out[16];
	u8 *host;
	size_t n;

	(void)state;
	assert_int_equal(dml_platform_create_emu(NULL, &p), 0);
	assert_int_equal(dml_iommu_create(p, NULL, &iommu), 0);
	dop.iommu = iommu;
	assert_int_equal(dml_device_create(p, &dop, &dev), 0);
	d = dev->domain;
	host = dml_kmap_local_phys(p, 0x900000, SZ_4K);
	assert_non_null(host);

	assert_int_equal(d->ops->map(d, 0x123000, 0x900000, SZ_4K, RW, LINK), 0);
	assert_int_equal(dml_dev_dma_write(dev, 0x123010, "first", 6), 0);
	assert_string_equal((char *)host + 0x10, "first");
	/* unmapped, not invalidated: the write still lands in the old page */
	assert_int_equal(d->ops->unmap(d, 0x123000, SZ_4K, DML_UNMAP_EXACT, &n), 0);
	assert_int_equal(dml_dev_dma_write(dev, 0x123010, buf, sizeof(buf)), 0);
	assert_string_equal((char *)host + 0x10, "hello, stale");
	assert_int_equal(dml_iommu_fault_count(iommu), 1);
	d->ops->iotlb_sync(d, 0x123000, SZ_4K);
	assert_int_equal(dml_dev_dma_read(dev, 0x123010, out, sizeof(out)), -EFAULT);
	assert_int_equal(dml_iommu_fault_count(iommu), 2);
	dml_platform_destroy(p);
}

/* ---- device walks racing with map/unmap around them ---- */

struct racer {
	struct env *e;
	atomic_bool stop;
	int err;
};

static void *racer_fn(void *arg)
{
	struct racer *r = arg;
	struct dml_domain *d = r->e->d;
	unsigned int i;
	size_t n;

	/* neighbours in the same leaf table, a superpage and a window */
	for (i = 0; i < 50000 && !r->err; i++) {
		u64 a = SZ_1G + (1 + i % 500) * SZ_4K;
		u64 b = SZ_1G + SZ_2M * (1 + i % 7);
		u64 c = (u64)(2 + i % 3) * SZ_1G;

		if (d->ops->map(d, a, 0x100000, SZ_4K, RW, LINK) ||
		    d->ops->map(d, b, 0x200000, SZ_2M, RW, LINK) ||
		    d->ops->map(d, c, 0x300000, SZ_4K, RW, LINK))
			r->err = 1;
		if (d->ops->unmap(d, a, SZ_4K, DML_UNMAP_EXACT, &n) ||
		    d->ops->unmap(d, b, SZ_2M, DML_UNMAP_EXACT, &n) ||
		    d->ops->unmap(d, c, SZ_4K, DML_UNMAP_EXACT, &n))
			r->err = 2;
		d->ops->iotlb_sync(d, a, SZ_4K);
	}
	atomic_store(&r->stop, true);
	return NULL;
}

static void test_concurrent_translate(void **state)
{
	struct racer r = { 0 };
	struct env e;
	pthread_t t;
	unsigned long k = 0;

	(void)state;
	env_up(&e);
	r.e = &e;
	/* the stable mapping the device keeps using: page 0 of the table */
	assert_int_equal(e.d->ops->map(e.d, SZ_1G, 0x700000, SZ_4K, RW, LINK), 0);
	assert_int_equal(pthread_create(&t, NULL, racer_fn, &r), 0);
	while (!atomic_load(&r.stop)) {
		u64 phys;

		assert_int_equal(xlate(&e, e.d, SZ_1G + (k % 4096), k & 1, &phys, NULL), 0);
		assert_int_equal(phys, 0x700000 + (k % 4096));
		if (++k % 64 == 0)
			e.d->ops->flush_iotlb_all(e.d);
	}
	pthread_join(t, NULL);
	assert_int_equal(r.err, 0);
	assert_int_equal(dml_iommu_fault_count(e.iommu), 0);
	assert_int_equal(stats(&e).stale_hits, 0);
	dml_iommu_trim(e.iommu);	/* the racer's emptied tables */
	assert_int_equal(stats(&e).pt_pages, 4);
	env_down(&e);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_permissions),
	cmocka_unit_test(test_stale_after_unmap),
	cmocka_unit_test(test_stale_after_remap),
	cmocka_unit_test(test_inv_large_range),
	cmocka_unit_test(test_superpage_entries),
	cmocka_unit_test(test_caching_mode),
	cmocka_unit_test(test_no_caching_mode),
	cmocka_unit_test(test_associativity),
	cmocka_unit_test(test_domain_tags),
	cmocka_unit_test(test_fault_ring),
	cmocka_unit_test(test_reason_str),
	cmocka_unit_test(test_device_stale_write),
	cmocka_unit_test(test_concurrent_translate),
};

DML_TEST_MAIN(tests)
