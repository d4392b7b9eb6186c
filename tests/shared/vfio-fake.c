/* SPDX-License-Identifier: MIT */
/*
 * vfio-fake.c - the vfio backend's DMA domain (src/vfio/domain.c) against a
 * fake type1 in-process, so `make check` covers its rules where no QEMU
 * runs: the exact-unlink record, errno propagation, protection from the
 * direction, and the IOVA window (holes between valid ranges, narrowing
 * when a group joins).
 *
 * The fake follows include/uapi/linux/vfio.h for VFIO_IOMMU_MAP_DMA and
 * VFIO_IOMMU_UNMAP_DMA on a type1v2 container: a map that overlaps an
 * existing mapping fails with EEXIST, an unmap that would bisect a mapping
 * fails with EINVAL and unmaps nothing, an unmap removes every whole
 * mapping inside its range and reports their size.  It can be told to fail
 * the next map with a given errno.
 *
 * domain.c is included, so its static helpers and this fake
 * dml__vfio_ioctl() (container.c's in the library) are what runs.
 */
#include "../../src/vfio/domain.c"

#include <stdio.h>

#include "shared.h"

#define TP 4096UL
#define NMAX 256

static struct {
	struct vfio_iommu_type1_dma_map m[NMAX];
	unsigned int nr;
	int fail_next;		/* errno for the next MAP_DMA, 0: none */
	unsigned int maps, unmaps;
} fake;

int dml__vfio_ioctl(struct dml_vfio_container *c, int fd, unsigned long req,
		    void *arg, bool inject)
{
	unsigned int i, j;

	(void)fd;
	if (inject && dml__should_fail()) {
		atomic_fetch_add(&c->ioctl_errors, 1);
		return -ENOMEM;
	}
	if (req == VFIO_IOMMU_MAP_DMA) {
		struct vfio_iommu_type1_dma_map *m = arg;

		fake.maps++;
		if (fake.fail_next) {
			int err = fake.fail_next;

			fake.fail_next = 0;
			atomic_fetch_add(&c->ioctl_errors, 1);
			return -err;
		}
		if (!m->size || !(m->flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)))
			return -EINVAL;
		for (i = 0; i < fake.nr; i++)
			if (fake.m[i].iova < m->iova + m->size &&
			    m->iova < fake.m[i].iova + fake.m[i].size)
				return -EEXIST;
		if (fake.nr == NMAX)
			return -ENOSPC;
		fake.m[fake.nr++] = *m;
		return 0;
	}
	if (req == VFIO_IOMMU_UNMAP_DMA) {
		struct vfio_iommu_type1_dma_unmap *u = arg;
		u64 end = u->iova + u->size, done = 0;

		fake.unmaps++;
		for (i = 0; i < fake.nr; i++) {
			u64 s = fake.m[i].iova, e = s + fake.m[i].size;

			if (s < end && u->iova < e && (s < u->iova || e > end))
				return -EINVAL;		/* would bisect */
		}
		for (i = j = 0; i < fake.nr; i++) {
			if (fake.m[i].iova >= u->iova &&
			    fake.m[i].iova + fake.m[i].size <= end)
				done += fake.m[i].size;
			else
				fake.m[j++] = fake.m[i];
		}
		fake.nr = j;
		u->size = done;
		return 0;
	}
	return -ENOTTY;
}

/* the fake's mapping at @iova, or NULL */
static struct vfio_iommu_type1_dma_map *fake_at(u64 iova)
{
	unsigned int i;

	for (i = 0; i < fake.nr; i++)
		if (fake.m[i].iova == iova)
			return &fake.m[i];
	return NULL;
}

static struct dml_vfio_container c;
static struct dml_device dev;

static int setup(const struct dml_vfio_iova_range *r, unsigned int nr, u64 mask)
{
	int ret;

	memset(&c, 0, sizeof(c));
	memset(&fake, 0, sizeof(fake));
	c.fd = -1;
	c.pgsizes = 0x40201000;		/* 4K | 2M | 1G, as VT-d reports */
	c.ranges = dml__zalloc(nr * sizeof(*r));
	if (!c.ranges)
		return -ENOMEM;
	memcpy(c.ranges, r, nr * sizeof(*r));
	c.nr_ranges = nr;
	ret = dml__vfio_domain_create(&c);
	if (ret)
		return ret;
	memset(&dev, 0, sizeof(dev));
	snprintf(dev.name, sizeof(dev.name), "fake");
	dev.pci = true;
	dev.dma_mask = mask;
	dev.coherent_dma_mask = mask;
	dev.max_segment_size = 65536;
	dev.seg_boundary_mask = 0xffffffffUL;
	atomic_init(&dev.pci_32bit_workaround, true);
	dev.domain = &c.domain->dom;
	return 0;
}

static void teardown(void)
{
	dml__vfio_domain_release(&c);
	dml__free(c.ranges);
	dml__free(c.resv);
	c.ranges = NULL;
	c.resv = NULL;
}

static const struct dml_vfio_iova_range qemu_ranges[] = {
	{ 0, 0xfedfffff }, { 0xfef00000, DMA_BIT_MASK(39) },
};

static void test_link_rules(void)
{
	struct dma_iova_state st = { 0 };
	static char buf[8 * TP] __attribute__((aligned(4096)));
	phys_addr_t va = (phys_addr_t)(uintptr_t)buf;
	struct vfio_iommu_type1_dma_map *m;
	unsigned int maps;
	bool ok = true;

	CHECK_EQ(setup(qemu_ranges, 2, DMA_BIT_MASK(28)), 0);
	CHECK(dma_iova_try_alloc(&dev, &st, 0, 8 * TP));
	CHECK(st.addr + 8 * TP - 1 <= DMA_BIT_MASK(28));
	/* A [0,2P) read-only, B [2P,3P) write-only, C [4P,8P) both */
	CHECK_EQ(dma_iova_link(&dev, &st, va, 0, 2 * TP, DMA_TO_DEVICE, 0), 0);
	CHECK_EQ(dma_iova_link(&dev, &st, va + 2 * TP, 2 * TP, TP, DMA_FROM_DEVICE, 0), 0);
	CHECK_EQ(dma_iova_link(&dev, &st, va + 4 * TP, 4 * TP, 4 * TP, DMA_BIDIRECTIONAL, 0), 0);
	CHECK_EQ(fake.nr, 3);
	m = fake_at(st.addr);
	CHECK(m && m->size == 2 * TP && m->vaddr == va &&
	      m->flags == VFIO_DMA_MAP_FLAG_READ);
	m = fake_at(st.addr + 2 * TP);
	CHECK(m && m->flags == VFIO_DMA_MAP_FLAG_WRITE);
	m = fake_at(st.addr + 4 * TP);
	CHECK(m && m->flags == (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	CHECK_EQ(dma_iova_sync(&dev, &st, 0, 8 * TP), 0);
	CHECK_EQ(dma_iova_sync(&dev, &st, 8 * TP, TP), -EINVAL);
	CHECK(dev.domain->ops->iova_to_phys(dev.domain, st.addr + 5 * TP + 12) ==
	      va + 5 * TP + 12);
	CHECK(!dev.domain->ops->iova_to_phys(dev.domain, st.addr + 3 * TP));

	/* refused before the kernel sees them: no UNMAP_DMA issued */
	maps = fake.unmaps;
	CHECK_EQ(dma_iova_unlink(&dev, &st, 0, TP, DMA_TO_DEVICE, 0), -ENOENT);
	CHECK_EQ(dma_iova_unlink(&dev, &st, TP, 2 * TP, DMA_TO_DEVICE, 0), -ENOENT);
	CHECK_EQ(dma_iova_unlink(&dev, &st, 3 * TP, TP, DMA_TO_DEVICE, 0), -ENOENT);
	CHECK_EQ(dma_iova_unlink(&dev, &st, 2 * TP, 4 * TP, DMA_TO_DEVICE, 0), -ENOENT);
	CHECK_EQ(dma_iova_unlink(&dev, &st, 4 * TP, 2 * TP, DMA_TO_DEVICE, 0), -ENOENT);
	CHECK_EQ(fake.unmaps, maps);
	CHECK_EQ(fake.nr, 3);

	/* adjacent whole links go in one UNMAP_DMA */
	CHECK_EQ(dma_iova_unlink(&dev, &st, 0, 3 * TP, DMA_BIDIRECTIONAL, 0), 0);
	CHECK_EQ(fake.unmaps, maps + 1);
	CHECK_EQ(fake.nr, 1);
	/* overlap is EEXIST, from our record, before any ioctl */
	maps = fake.maps;
	CHECK_EQ(dma_iova_link(&dev, &st, va, 3 * TP, 2 * TP, DMA_BIDIRECTIONAL, 0), -EEXIST);
	CHECK_EQ(fake.maps, maps);

	/* the kernel's errno comes back as is; nothing is recorded */
	fake.fail_next = ENOSPC;
	CHECK_EQ(dma_iova_link(&dev, &st, va, 0, TP, DMA_BIDIRECTIONAL, 0), -ENOSPC);
	fake.fail_next = EFAULT;
	CHECK_EQ(dma_iova_link(&dev, &st, va, 0, TP, DMA_BIDIRECTIONAL, 0), -EFAULT);
	CHECK(!dev.domain->ops->iova_to_phys(dev.domain, st.addr));
	CHECK_EQ(c.domain->nr, 1);
	CHECK_EQ(atomic_load(&c.ioctl_errors), 2);
	/* fault injection hits the ioctl hook */
	dml_fail_nth(1);
	CHECK_EQ(dma_iova_link(&dev, &st, va, 0, TP, DMA_BIDIRECTIONAL, 0), -ENOMEM);
	CHECK(dml_fail_nth_hit());
	CHECK_EQ(dma_iova_link(&dev, &st, va, 0, TP, DMA_BIDIRECTIONAL, 0), 0);

	/* DMA_NONE cannot be expressed to type1 */
	CHECK_EQ(dev.domain->ops->map(dev.domain, st.addr + TP, va, TP, 0,
				      DML_MAP_LINK), -EINVAL);

	/* destroy takes [0, 8P) only if made of whole links: here a hole */
	maps = fake.unmaps;
	dma_iova_destroy(&dev, &st, 8 * TP, DMA_BIDIRECTIONAL, 0);
	CHECK_EQ(fake.unmaps, maps);
	CHECK_EQ(dma_iova_unlink(&dev, &st, 0, TP, DMA_BIDIRECTIONAL, 0), 0);
	dma_iova_destroy(&dev, &st, 0, DMA_BIDIRECTIONAL, 0);	/* = free: refused, C left */
	CHECK_EQ(dma_iova_unlink(&dev, &st, 4 * TP, 4 * TP, DMA_BIDIRECTIONAL, 0), 0);
	CHECK_EQ(fake.nr, 0);
	CHECK_EQ(c.domain->mapped_bytes, 0);
	dma_iova_free(&dev, &st);
out:
	dml_fail_nth(0);
	teardown();
	tap_result(ok, "vfio domain: one MAP_DMA per link with the direction's protection, whole-link unlink enforced before the ioctl, errno passed through");
}

static void test_map_sg_and_phys(void)
{
	static char buf[4 * TP] __attribute__((aligned(4096)));
	phys_addr_t va = (phys_addr_t)(uintptr_t)buf;
	struct scatterlist sg[3];
	dma_addr_t a = DMA_MAPPING_ERROR;
	int n = 0, i;
	bool ok = true;

	CHECK_EQ(setup(qemu_ranges, 2, DMA_BIT_MASK(32)), 0);
	a = dma_map_phys(&dev, va + 100, 3 * TP, DMA_BIDIRECTIONAL, 0);
	CHECK(!dma_mapping_error(&dev, a));
	CHECK_EQ(a % TP, 100);
	CHECK_EQ(fake.nr, 1);
	CHECK_EQ(fake.m[0].size, 4 * TP);	/* rounded out to granules */
	dma_unmap_phys(&dev, a, 3 * TP, DMA_BIDIRECTIONAL, 0);
	a = DMA_MAPPING_ERROR;
	CHECK_EQ(fake.nr, 0);

	sg_init_table(sg, 3);
	for (i = 0; i < 3; i++)
		sg_set_phys(&sg[i], va + (phys_addr_t)(2 - i) * TP, TP);
	n = dma_map_sg(&dev, sg, 3, DMA_TO_DEVICE);
	CHECK_EQ(n, 1);
	CHECK_EQ(fake.nr, 3);			/* one MAP_DMA per entry */
	CHECK_EQ(sg_dma_len(&sg[0]), 3 * TP);
	CHECK(dev.domain->ops->iova_to_phys(dev.domain, sg_dma_address(&sg[0]) + TP) ==
	      va + TP);
	dma_unmap_sg(&dev, sg, 3, DMA_TO_DEVICE);
	n = 0;
	CHECK_EQ(fake.nr, 0);
out:
	if (a != DMA_MAPPING_ERROR)
		dma_unmap_phys(&dev, a, 3 * TP, DMA_BIDIRECTIONAL, 0);
	if (n > 0)
		dma_unmap_sg(&dev, sg, 3, DMA_TO_DEVICE);
	teardown();
	tap_result(ok, "vfio domain: dma_map_phys and dma_map_sg map and unmap whole VFIO mappings");
}

/* fill a 4 MiB window granule by granule: never in a hole, never past it */
static void test_window(void)
{
	static const struct dml_vfio_iova_range r[] = {
		{ 0, 0x1fffff }, { 0x300000, DMA_BIT_MASK(39) },
	};
	static struct dma_iova_state s[1024];
	unsigned int n = 0, i;
	bool ok = true;

	CHECK_EQ(setup(r, 2, DMA_BIT_MASK(22)), 0);
	CHECK_EQ(c.domain->dom.aperture_start, 0);
	CHECK_EQ(c.domain->dom.aperture_end, DMA_BIT_MASK(39));

	/* a group joins whose reserved region is [3M, 4M): narrower ranges */
	c.ranges[1].start = 0x400000;
	CHECK_EQ(dml__vfio_domain_narrow(&c), 0);
	/* and again with nothing new: no pfn is reserved twice */
	CHECK_EQ(dml__vfio_domain_narrow(&c), 0);

	while (n < 1024 && dma_iova_try_alloc(&dev, &s[n], 0, TP)) {
		u64 a = s[n].addr;

		CHECK(a >= TP && a + TP - 1 <= DMA_BIT_MASK(22));
		CHECK(a + TP <= 0x200000);	/* [2M, 4M) is invalid now */
		n++;
	}
	/* [4K, 2M) and nothing above: 511 granules (IOVA 0 never) */
	CHECK_EQ(n, 511);
out:
	for (i = 0; i < n; i++)
		dma_iova_free(&dev, &s[i]);
	teardown();
	tap_result(ok, "vfio domain: IOVA only inside VFIO's valid ranges and the mask, also after a group narrows them");
}

/* dma_alloc_coherent on vfio: anonymous pages and one MAP_DMA of them */
static void test_coherent(void)
{
	static struct dml_platform plat = { .kind = DML_PLATFORM_VFIO };
	dma_addr_t a = DMA_MAPPING_ERROR;
	u8 *p = NULL;
	bool ok = true;
	size_t i;

	CHECK_EQ(setup(qemu_ranges, 2, DMA_BIT_MASK(32)), 0);
	dev.plat = &plat;
	p = dma_alloc_coherent(&dev, 5000, &a, GFP_KERNEL);
	CHECK(p != NULL);
	CHECK_EQ(fake.nr, 1);
	CHECK_EQ(fake.m[0].size, 2 * TP);	/* whole pages */
	CHECK_EQ(fake.m[0].vaddr, (u64)(uintptr_t)p);
	CHECK_EQ(fake.m[0].iova, a);
	CHECK(fake.m[0].flags & VFIO_DMA_MAP_FLAG_WRITE);
	for (i = 0; i < 2 * TP; i++)
		CHECK_EQ(p[i], 0);
	dma_free_coherent(&dev, 5000, p, a);
	p = NULL;
	CHECK_EQ(fake.nr, 0);
out:
	if (p)
		dma_free_coherent(&dev, 5000, p, a);
	dev.plat = NULL;
	teardown();
	tap_result(ok, "vfio: dma_alloc_coherent is zeroed anonymous pages behind one read/write MAP_DMA, gone at dma_free_coherent");
}

int main(void)
{
	test_link_rules();
	test_map_sg_and_phys();
	test_window();
	test_coherent();
	return tap_done();
}
