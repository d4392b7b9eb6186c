/* SPDX-License-Identifier: MIT */
/*
 * test_hmm.c - incremental mapping for on-demand paging (dmalink/hmm-dma.h;
 * shared/reference/kernel-dma-semantics.md §1.6 "HMM", mm/hmm.c
 * hmm_dma_*): pages fault in random order and are mapped one at a time,
 * some are invalidated and faulted again elsewhere, and after every step
 * the emulated device DMAs to each mapped page and the bytes are checked;
 * through one IOVA reservation behind an IOMMU and page by page without
 * one; peer pages by bus address and through the host bridge; bad input.
 * The checker is on and must report nothing (teardown finds no leak).
 */
#include <dmalink/hmm-dma.h>

#include "p2p/fixture.h"
#include "pci/pci.h"

#define RAM_BASE	0x400000ULL
#define NR		64
#define PG		DML_HMM_PAGE_SIZE

static int setup_iommu(void **state)
{
	*state = fxp_build(SKX_ROOT_PORT, true, 0);
	return 0;
}

static int setup_direct(void **state)
{
	*state = fxp_build(SKX_ROOT_PORT, false, 0);
	return 0;
}

static int setup_unlisted(void **state)
{
	*state = fxp_build(NOT_LISTED, true, 0);
	return 0;
}

static int setup_noncoherent(void **state)
{
	*state = fxp_build(SKX_ROOT_PORT, true, FXP_NON_COHERENT);
	return 0;
}

static u8 *mem(struct fxp *f, phys_addr_t phys)
{
	u8 *m = dml_kmap_local_phys(f->p, phys, PG);

	assert_non_null(m);
	return m;
}

/* what the IOMMU maps @addr to, 0 when nothing */
static phys_addr_t iova_phys(struct fxp *f, dma_addr_t addr)
{
	struct dml_domain *d = f->nic_dev->domain;

	return d->ops->iova_to_phys(d, (dml_iova_t)addr);
}

static u32 rnd(u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* the page that backs entry @i in generation @gen: scattered RAM pages */
static phys_addr_t page_of(size_t i, unsigned int gen)
{
	return RAM_BASE + ((i * 7 + gen * NR) % (4 * NR)) * 2 * PG;
}

static void set_pfn(struct hmm_dma_map *map, size_t i, phys_addr_t phys)
{
	/* what hmm_range_fault() does: new pfn, sticky bits carried over */
	map->pfn_list[i] = (map->pfn_list[i] & HMM_PFN_INOUT_FLAGS) |
			   HMM_PFN_VALID | HMM_PFN_WRITE |
			   (unsigned long)(phys >> DML_HMM_PAGE_SHIFT);
}

/*
 * The device writes a pattern for (entry, step) to every mapped entry and
 * reads it back; the bytes must be in the page the entry names.
 */
static void device_checks_all(struct fxp *f, struct hmm_dma_map *map,
			      const dma_addr_t *addr, u8 step)
{
	u8 buf[PG], back[PG];
	size_t i, j;

	for (i = 0; i < NR; i++) {
		if (!(map->pfn_list[i] & HMM_PFN_DMA_MAPPED))
			continue;
		for (j = 0; j < PG; j++)
			buf[j] = (u8)(i * 31 + j + step);
		assert_int_equal(dml_dev_dma_write(f->nic_dev, addr[i], buf, PG), 0);
		assert_memory_equal(mem(f, hmm_pfn_to_phys(map->pfn_list[i])),
				    buf, PG);
		memset(back, 0, PG);
		assert_int_equal(dml_dev_dma_read(f->nic_dev, addr[i], back, PG), 0);
		assert_memory_equal(back, buf, PG);
	}
}

/*
 * The ODP cycle: fault every page in random order (map one, the device
 * checks all mapped so far), invalidate a random third (unmap, VALID
 * cleared: the page may move), fault those again at new pages, repeat.
 * §1.6: with a reservation each entry sits at state.addr + idx *
 * entry_size, is linked and synced alone, and unmap_pfn unlinks it
 * keeping the reservation.
 */
static void odp_cycle(struct fxp *f, bool iova)
{
	struct pci_p2pdma_map_state p2p = { 0 };
	struct hmm_dma_map map;
	dma_addr_t addr[NR];
	size_t order[NR], i, k;
	unsigned int gen;
	u32 s = 0x9e3779b9;

	assert_int_equal(hmm_dma_map_alloc(f->nic_dev, &map, NR, PG), 0);
	assert_int_equal(dma_use_iova(&map.state), iova);
	assert_true(iova ? map.dma_list == NULL : map.dma_list != NULL);
	for (i = 0; i < NR; i++)
		order[i] = i;
	for (gen = 0; gen < 3; gen++) {
		for (i = NR - 1; i > 0; i--) {	/* shuffle */
			size_t j = rnd(&s) % (i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (k = 0; k < NR; k++) {
			i = order[k];
			if (map.pfn_list[i] & HMM_PFN_VALID)
				continue;	/* still mapped from before */
			set_pfn(&map, i, page_of(i, gen));
			addr[i] = hmm_dma_map_pfn(f->nic_dev, &map, i, &p2p);
			assert_false(dma_mapping_error(f->nic_dev, addr[i]));
			assert_true(map.pfn_list[i] & HMM_PFN_DMA_MAPPED);
			assert_false(map.pfn_list[i] & (HMM_PFN_P2PDMA |
							HMM_PFN_P2PDMA_BUS));
			if (iova) {
				assert_int_equal(addr[i], map.state.addr + i * PG);
				assert_int_equal(iova_phys(f, addr[i]), page_of(i, gen));
			}
			/* a refault of a mapped entry hands back its address */
			assert_int_equal(hmm_dma_map_pfn(f->nic_dev, &map, i, &p2p), addr[i]);
			if (k % 8 == 7)
				device_checks_all(f, &map, addr, (u8)(k + gen));
		}
		device_checks_all(f, &map, addr, (u8)(0x40 + gen));
		for (i = 0; i < NR; i++) {	/* invalidate about a third */
			if (rnd(&s) % 3)
				continue;
			assert_true(hmm_dma_unmap_pfn(f->nic_dev, &map, i));
			assert_false(map.pfn_list[i] & HMM_PFN_INOUT_FLAGS);
			assert_false(hmm_dma_unmap_pfn(f->nic_dev, &map, i));
			map.pfn_list[i] &= ~HMM_PFN_VALID;
			if (iova)	/* unlinked, IOTLB flushed */
				assert_int_equal(iova_phys(f, addr[i]), 0);
		}
		device_checks_all(f, &map, addr, (u8)(0x80 + gen));
	}
	for (i = 0; i < NR; i++)
		hmm_dma_unmap_pfn(f->nic_dev, &map, i);
	hmm_dma_map_free(f->nic_dev, &map);
	assert_null(map.pfn_list);
	assert_false(dma_use_iova(&map.state));
}

static void test_odp_iova(void **state)
{
	odp_cycle(*state, true);
}

/* §1.6: no IOMMU, so no reservation: dma_map_phys per page, dma_list kept */
static void test_odp_per_page(void **state)
{
	odp_cycle(*state, false);
}

/*
 * §1.6, §1.5: a peer BAR below the same switch is a bus address, nothing
 * mapped (HMM_PFN_P2PDMA_BUS); one behind the host bridge is linked with
 * DMA_ATTR_MMIO (HMM_PFN_P2PDMA); the device reaches both and RAM, on
 * the IOVA path and the per-page one.
 */
static void test_p2p_pages(void **state)
{
	struct fxp *f = *state;
	struct pci_p2pdma_map_state p2p = { 0 };
	const phys_addr_t phys[3] = { RAM_BASE, GPU_BAR + 3 * PG, SSD_BAR + 5 * PG };
	bool iommu = f->nic_dev->domain;
	struct hmm_dma_map map;
	dma_addr_t a[3];
	u8 buf[PG];
	size_t i;

	assert_int_equal(hmm_dma_map_alloc(f->nic_dev, &map, 4, PG), 0);
	assert_int_equal(dma_use_iova(&map.state), iommu);
	for (i = 0; i < 3; i++) {
		set_pfn(&map, i, phys[i]);
		a[i] = hmm_dma_map_pfn(f->nic_dev, &map, i, &p2p);
		assert_false(dma_mapping_error(f->nic_dev, a[i]));
	}
	assert_int_equal(map.pfn_list[0] & HMM_PFN_INOUT_FLAGS, HMM_PFN_DMA_MAPPED);
	assert_int_equal(map.pfn_list[1] & HMM_PFN_INOUT_FLAGS,
			 HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA_BUS);
	assert_int_equal(a[1], GPU_BAR + 3 * PG + GPU_BUS_OFF);
	assert_int_equal(map.pfn_list[2] & HMM_PFN_INOUT_FLAGS,
			 HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA);
	if (iommu) {
		assert_int_equal(iova_phys(f, a[1]), 0);	/* no IOVA */
		assert_int_equal(a[2], map.state.addr + 2 * PG);
		assert_int_equal(iova_phys(f, a[2]), SSD_BAR + 5 * PG);
	} else {	/* §2: DMA_ATTR_MMIO on dma-direct, DMA address = phys */
		assert_int_equal(a[2], SSD_BAR + 5 * PG);
	}
	for (i = 0; i < 3; i++) {
		memset(buf, (int)(0xa0 + i), PG);
		assert_int_equal(dml_dev_dma_write(f->nic_dev, a[i], buf, PG), 0);
		assert_memory_equal(mem(f, phys[i]), buf, PG);
	}
	for (i = 0; i < 3; i++) {
		assert_true(hmm_dma_unmap_pfn(f->nic_dev, &map, i));
		assert_false(map.pfn_list[i] & HMM_PFN_INOUT_FLAGS);
	}
	if (iommu)
		assert_int_equal(iova_phys(f, a[2]), 0);
	hmm_dma_map_free(f->nic_dev, &map);
}

/*
 * §1.5: a peer the device cannot reach (root complex not whitelisted) is
 * DMA_MAPPING_ERROR and the entry keeps its bits.
 */
static void test_p2p_not_supported(void **state)
{
	struct fxp *f = *state;
	struct pci_p2pdma_map_state p2p = { 0 };
	struct hmm_dma_map map;

	assert_int_equal(hmm_dma_map_alloc(f->nic_dev, &map, 2, PG), 0);
	set_pfn(&map, 0, SSD_BAR);
	assert_true(dma_mapping_error(f->nic_dev,
				      hmm_dma_map_pfn(f->nic_dev, &map, 0, &p2p)));
	assert_int_equal(map.pfn_list[0] & HMM_PFN_FLAGS, HMM_PFN_VALID | HMM_PFN_WRITE);
	assert_int_equal(iova_phys(f, map.state.addr), 0);
	assert_false(hmm_dma_unmap_pfn(f->nic_dev, &map, 0));
	hmm_dma_map_free(f->nic_dev, &map);
}

/* bad input: -EINVAL or DMA_MAPPING_ERROR, and nothing mapped or changed */
static void test_bad_input(void **state)
{
	struct fxp *f = *state;
	struct hmm_dma_map map;
	unsigned long before;

	assert_int_equal(hmm_dma_map_alloc(NULL, &map, 4, PG), -EINVAL);
	assert_null(map.pfn_list);
	assert_int_equal(hmm_dma_map_alloc(f->nic_dev, NULL, 4, PG), -EINVAL);
	assert_int_equal(hmm_dma_map_alloc(f->nic_dev, &map, 0, PG), -EINVAL);
	assert_int_equal(hmm_dma_map_alloc(f->nic_dev, &map, 4, 0), -EINVAL);
	assert_int_equal(hmm_dma_map_alloc(f->nic_dev, &map, 4, PG / 2), -EINVAL);
	assert_int_equal(hmm_dma_map_alloc(f->nic_dev, &map, 4, 3 * PG), -EINVAL);
	assert_int_equal(hmm_dma_map_alloc(f->nic_dev, &map, 4, 8 * PG), -EINVAL);
	assert_int_equal(hmm_dma_map_alloc(f->nic_dev, &map, SIZE_MAX / 2, PG),
			 -EINVAL);
	assert_false(dma_use_iova(&map.state));

	/* 3 pages in 8 KiB entries: entry 1 would end past the reservation */
	assert_int_equal(hmm_dma_map_alloc(f->nic_dev, &map, 3, 2 * PG), 0);
	set_pfn(&map, 0, RAM_BASE);
	set_pfn(&map, 1, RAM_BASE + 2 * PG);
	assert_true(dma_mapping_error(f->nic_dev,
				      hmm_dma_map_pfn(f->nic_dev, &map, 1, NULL)));
	assert_true(dma_mapping_error(f->nic_dev,
				      hmm_dma_map_pfn(f->nic_dev, &map, 3, NULL)));
	assert_true(dma_mapping_error(f->nic_dev,
				      hmm_dma_map_pfn(NULL, &map, 0, NULL)));
	assert_true(dma_mapping_error(f->nic_dev,
				      hmm_dma_map_pfn(f->nic_dev, NULL, 0, NULL)));
	map.pfn_list[2] = RAM_BASE >> DML_HMM_PAGE_SHIFT;	/* not VALID */
	before = map.pfn_list[2];
	assert_true(dma_mapping_error(f->nic_dev,
				      hmm_dma_map_pfn(f->nic_dev, &map, 2, NULL)));
	assert_int_equal(map.pfn_list[2], before);
	assert_int_equal(map.pfn_list[1] & HMM_PFN_INOUT_FLAGS, 0);
	assert_int_equal(iova_phys(f, map.state.addr + 2 * PG), 0);
	assert_false(hmm_dma_unmap_pfn(f->nic_dev, &map, 0));	/* not mapped */
	assert_false(hmm_dma_unmap_pfn(f->nic_dev, &map, 3));
	assert_false(hmm_dma_unmap_pfn(NULL, &map, 0));

	/* entry 0 (8 KiB) still maps and reaches both of its pages */
	assert_int_equal(hmm_dma_map_pfn(f->nic_dev, &map, 0, NULL), map.state.addr);
	assert_int_equal(iova_phys(f, map.state.addr + PG), RAM_BASE + PG);
	assert_true(hmm_dma_unmap_pfn(f->nic_dev, &map, 0));
	hmm_dma_map_free(f->nic_dev, &map);
	hmm_dma_map_free(NULL, &map);
	hmm_dma_map_free(f->nic_dev, NULL);
}

/*
 * mm/hmm.c hmm_dma_map_alloc(): HMM cannot transfer buffer ownership, so
 * a device that needs cache maintenance is -EOPNOTSUPP.
 */
static void test_noncoherent_refused(void **state)
{
	struct fxp *f = *state;
	struct hmm_dma_map map;

	assert_int_equal(hmm_dma_map_alloc(f->nic_dev, &map, 4, PG), -EOPNOTSUPP);
	assert_null(map.pfn_list);
	assert_false(dma_use_iova(&map.state));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_odp_iova, setup_iommu, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_odp_per_page, setup_direct, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_p2p_pages, setup_iommu, fxp_teardown),
	{ "test_p2p_pages_direct", test_p2p_pages, setup_direct, fxp_teardown, NULL },
	cmocka_unit_test_setup_teardown(test_p2p_not_supported, setup_unlisted,
					fxp_teardown),
	cmocka_unit_test_setup_teardown(test_bad_input, setup_iommu, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_noncoherent_refused, setup_noncoherent,
					fxp_teardown),
};

DML_TEST_MAIN(tests)
