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

#include "pci/pci.h"
#include "testutil.h"

#define SKX_ROOT_PORT	0x2030	/* whitelisted root port */
#define NOT_LISTED	0x1234
#define GPU_BAR		0x800000000ULL
#define GPU_BUS_OFF	0x1000000000ULL
#define SSD_BAR		0xa00000000ULL
#define RAM_BASE	0x400000ULL
#define NR		64
#define PG		DML_HMM_PAGE_SIZE

/* hb -+- rp0 -- sw -+- gpu (bus-address peer of nic)
 *     |             +- nic (the ODP device)
 *     +- rp1 -- ssd (peer through the host bridge) */
struct fx {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_pci_dev *hb, *rp0, *rp1, *up, *down[2], *gpu, *nic, *ssd;
	struct dml_device *dev;
};

static struct fx *fx_build(u16 host, bool iommu, bool non_coherent)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, cpu_family),
		.ram_size = 64ULL << 20,
		.cpu_vendor = DML_CPU_INTEL,
		.cpu_family = 6,
	};
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };

	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(&eo, &f->p), 0);
	assert_int_equal(dml_pci_host_bridge_add(f->p, 0, 0, 0x8086, host, "hb",
						 &f->hb), 0);
	assert_int_equal(dml_pci_dev_add(f->hb, DML_PCI_ROOT_PORT, PCI_DEVFN(1, 0),
					 0x8086, host, "rp0", &f->rp0), 0);
	assert_int_equal(dml_pci_dev_add(f->hb, DML_PCI_ROOT_PORT, PCI_DEVFN(2, 0),
					 0x8086, host, "rp1", &f->rp1), 0);
	assert_int_equal(dml_pci_switch_add(f->rp0, 0, 0x10b5, 0x8747, "sw", 2,
					    &f->up, f->down), 0);
	assert_int_equal(dml_pci_dev_add(f->down[0], DML_PCI_ENDPOINT, 0, 0x10de,
					 0x2330, "gpu", &f->gpu), 0);
	assert_int_equal(dml_pci_dev_add(f->down[1], DML_PCI_ENDPOINT, 0, 0x15b3,
					 0x1021, "nic", &f->nic), 0);
	assert_int_equal(dml_pci_dev_add(f->rp1, DML_PCI_ENDPOINT, 0, 0x144d,
					 0xa80a, "ssd", &f->ssd), 0);
	assert_int_equal(dml_pci_bar_add(f->gpu, 0, GPU_BAR, 1 << 20, GPU_BUS_OFF, 0), 0);
	assert_int_equal(dml_pci_bar_add(f->ssd, 0, SSD_BAR, 1 << 20, 0, 0), 0);
	assert_int_equal(pcim_p2pdma_init(f->gpu), 0);
	assert_int_equal(pcim_p2pdma_init(f->ssd), 0);
	if (iommu) {
		assert_int_equal(dml_iommu_create(f->p, NULL, &f->iommu), 0);
		o.iommu = f->iommu;
	}
	o.non_coherent = non_coherent;
	o.name = "nic";
	o.pci_dev = f->nic;
	assert_int_equal(dml_device_create(f->p, &o, &f->dev), 0);
	dml_test_log_reset();
	return f;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	dml_platform_destroy(f->p);
	free(f);
	return 0;
}

static int setup_iommu(void **state)
{
	*state = fx_build(SKX_ROOT_PORT, true, false);
	return 0;
}

static int setup_direct(void **state)
{
	*state = fx_build(SKX_ROOT_PORT, false, false);
	return 0;
}

static int setup_unlisted(void **state)
{
	*state = fx_build(NOT_LISTED, true, false);
	return 0;
}

static int setup_noncoherent(void **state)
{
	*state = fx_build(SKX_ROOT_PORT, true, true);
	return 0;
}

static u8 *mem(struct fx *f, phys_addr_t phys)
{
	u8 *m = dml_kmap_local_phys(f->p, phys, PG);

	assert_non_null(m);
	return m;
}

/* what the IOMMU maps @addr to, 0 when nothing */
static phys_addr_t iova_phys(struct fx *f, dma_addr_t addr)
{
	struct dml_domain *d = f->dev->domain;

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
static void device_checks_all(struct fx *f, struct hmm_dma_map *map,
			      const dma_addr_t *addr, u8 step)
{
	u8 buf[PG], back[PG];
	size_t i, j;

	for (i = 0; i < NR; i++) {
		if (!(map->pfn_list[i] & HMM_PFN_DMA_MAPPED))
			continue;
		for (j = 0; j < PG; j++)
			buf[j] = (u8)(i * 31 + j + step);
		assert_int_equal(dml_dev_dma_write(f->dev, addr[i], buf, PG), 0);
		assert_memory_equal(mem(f, hmm_pfn_to_phys(map->pfn_list[i])),
				    buf, PG);
		memset(back, 0, PG);
		assert_int_equal(dml_dev_dma_read(f->dev, addr[i], back, PG), 0);
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
static void odp_cycle(struct fx *f, bool iova)
{
	struct pci_p2pdma_map_state p2p = { 0 };
	struct hmm_dma_map map;
	dma_addr_t addr[NR];
	size_t order[NR], i, k;
	unsigned int gen;
	u32 s = 0x9e3779b9;

	assert_int_equal(hmm_dma_map_alloc(f->dev, &map, NR, PG), 0);
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
			addr[i] = hmm_dma_map_pfn(f->dev, &map, i, &p2p);
			assert_false(dma_mapping_error(f->dev, addr[i]));
			assert_true(map.pfn_list[i] & HMM_PFN_DMA_MAPPED);
			assert_false(map.pfn_list[i] & (HMM_PFN_P2PDMA |
							HMM_PFN_P2PDMA_BUS));
			if (iova) {
				assert_int_equal(addr[i], map.state.addr + i * PG);
				assert_int_equal(iova_phys(f, addr[i]), page_of(i, gen));
			}
			/* a refault of a mapped entry hands back its address */
			assert_int_equal(hmm_dma_map_pfn(f->dev, &map, i, &p2p), addr[i]);
			if (k % 8 == 7)
				device_checks_all(f, &map, addr, (u8)(k + gen));
		}
		device_checks_all(f, &map, addr, (u8)(0x40 + gen));
		for (i = 0; i < NR; i++) {	/* invalidate about a third */
			if (rnd(&s) % 3)
				continue;
			assert_true(hmm_dma_unmap_pfn(f->dev, &map, i));
			assert_false(map.pfn_list[i] & HMM_PFN_INOUT_FLAGS);
			assert_false(hmm_dma_unmap_pfn(f->dev, &map, i));
			map.pfn_list[i] &= ~HMM_PFN_VALID;
			if (iova)	/* unlinked, IOTLB flushed */
				assert_int_equal(iova_phys(f, addr[i]), 0);
		}
		device_checks_all(f, &map, addr, (u8)(0x80 + gen));
	}
	for (i = 0; i < NR; i++)
		hmm_dma_unmap_pfn(f->dev, &map, i);
	hmm_dma_map_free(f->dev, &map);
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
	struct fx *f = *state;
	struct pci_p2pdma_map_state p2p = { 0 };
	const phys_addr_t phys[3] = { RAM_BASE, GPU_BAR + 3 * PG, SSD_BAR + 5 * PG };
	bool iommu = f->dev->domain;
	struct hmm_dma_map map;
	dma_addr_t a[3];
	u8 buf[PG];
	size_t i;

	assert_int_equal(hmm_dma_map_alloc(f->dev, &map, 4, PG), 0);
	assert_int_equal(dma_use_iova(&map.state), iommu);
	for (i = 0; i < 3; i++) {
		set_pfn(&map, i, phys[i]);
		a[i] = hmm_dma_map_pfn(f->dev, &map, i, &p2p);
		assert_false(dma_mapping_error(f->dev, a[i]));
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
		assert_int_equal(dml_dev_dma_write(f->dev, a[i], buf, PG), 0);
		assert_memory_equal(mem(f, phys[i]), buf, PG);
	}
	for (i = 0; i < 3; i++) {
		assert_true(hmm_dma_unmap_pfn(f->dev, &map, i));
		assert_false(map.pfn_list[i] & HMM_PFN_INOUT_FLAGS);
	}
	if (iommu)
		assert_int_equal(iova_phys(f, a[2]), 0);
	hmm_dma_map_free(f->dev, &map);
}

/*
 * §1.5: a peer the device cannot reach (root complex not whitelisted) is
 * DMA_MAPPING_ERROR and the entry keeps its bits.
 */
static void test_p2p_not_supported(void **state)
{
	struct fx *f = *state;
	struct pci_p2pdma_map_state p2p = { 0 };
	struct hmm_dma_map map;

	assert_int_equal(hmm_dma_map_alloc(f->dev, &map, 2, PG), 0);
	set_pfn(&map, 0, SSD_BAR);
	assert_true(dma_mapping_error(f->dev, hmm_dma_map_pfn(f->dev, &map, 0, &p2p)));
	assert_int_equal(map.pfn_list[0] & HMM_PFN_FLAGS, HMM_PFN_VALID | HMM_PFN_WRITE);
	assert_int_equal(iova_phys(f, map.state.addr), 0);
	assert_false(hmm_dma_unmap_pfn(f->dev, &map, 0));
	hmm_dma_map_free(f->dev, &map);
}

/* bad input: -EINVAL or DMA_MAPPING_ERROR, and nothing mapped or changed */
static void test_bad_input(void **state)
{
	struct fx *f = *state;
	struct hmm_dma_map map;
	unsigned long before;

	assert_int_equal(hmm_dma_map_alloc(NULL, &map, 4, PG), -EINVAL);
	assert_null(map.pfn_list);
	assert_int_equal(hmm_dma_map_alloc(f->dev, NULL, 4, PG), -EINVAL);
	assert_int_equal(hmm_dma_map_alloc(f->dev, &map, 0, PG), -EINVAL);
	assert_int_equal(hmm_dma_map_alloc(f->dev, &map, 4, 0), -EINVAL);
	assert_int_equal(hmm_dma_map_alloc(f->dev, &map, 4, PG / 2), -EINVAL);
	assert_int_equal(hmm_dma_map_alloc(f->dev, &map, 4, 3 * PG), -EINVAL);
	assert_int_equal(hmm_dma_map_alloc(f->dev, &map, 4, 8 * PG), -EINVAL);
	assert_int_equal(hmm_dma_map_alloc(f->dev, &map, SIZE_MAX / 2, PG), -EINVAL);
	assert_false(dma_use_iova(&map.state));

	/* 3 pages in 8 KiB entries: entry 1 would end past the reservation */
	assert_int_equal(hmm_dma_map_alloc(f->dev, &map, 3, 2 * PG), 0);
	set_pfn(&map, 0, RAM_BASE);
	set_pfn(&map, 1, RAM_BASE + 2 * PG);
	assert_true(dma_mapping_error(f->dev, hmm_dma_map_pfn(f->dev, &map, 1, NULL)));
	assert_true(dma_mapping_error(f->dev, hmm_dma_map_pfn(f->dev, &map, 3, NULL)));
	assert_true(dma_mapping_error(f->dev, hmm_dma_map_pfn(NULL, &map, 0, NULL)));
	assert_true(dma_mapping_error(f->dev, hmm_dma_map_pfn(f->dev, NULL, 0, NULL)));
	map.pfn_list[2] = RAM_BASE >> DML_HMM_PAGE_SHIFT;	/* not VALID */
	before = map.pfn_list[2];
	assert_true(dma_mapping_error(f->dev, hmm_dma_map_pfn(f->dev, &map, 2, NULL)));
	assert_int_equal(map.pfn_list[2], before);
	assert_int_equal(map.pfn_list[1] & HMM_PFN_INOUT_FLAGS, 0);
	assert_int_equal(iova_phys(f, map.state.addr + 2 * PG), 0);
	assert_false(hmm_dma_unmap_pfn(f->dev, &map, 0));	/* not mapped */
	assert_false(hmm_dma_unmap_pfn(f->dev, &map, 3));
	assert_false(hmm_dma_unmap_pfn(NULL, &map, 0));

	/* entry 0 (8 KiB) still maps and reaches both of its pages */
	assert_int_equal(hmm_dma_map_pfn(f->dev, &map, 0, NULL), map.state.addr);
	assert_int_equal(iova_phys(f, map.state.addr + PG), RAM_BASE + PG);
	assert_true(hmm_dma_unmap_pfn(f->dev, &map, 0));
	hmm_dma_map_free(f->dev, &map);
	hmm_dma_map_free(NULL, &map);
	hmm_dma_map_free(f->dev, NULL);
}

/*
 * mm/hmm.c hmm_dma_map_alloc(): HMM cannot transfer buffer ownership, so
 * a device that needs cache maintenance is -EOPNOTSUPP.
 */
static void test_noncoherent_refused(void **state)
{
	struct fx *f = *state;
	struct hmm_dma_map map;

	assert_int_equal(hmm_dma_map_alloc(f->dev, &map, 4, PG), -EOPNOTSUPP);
	assert_null(map.pfn_list);
	assert_false(dma_use_iova(&map.state));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_odp_iova, setup_iommu, fx_teardown),
	cmocka_unit_test_setup_teardown(test_odp_per_page, setup_direct, fx_teardown),
	cmocka_unit_test_setup_teardown(test_p2p_pages, setup_iommu, fx_teardown),
	{ "test_p2p_pages_direct", test_p2p_pages, setup_direct, fx_teardown, NULL },
	cmocka_unit_test_setup_teardown(test_p2p_not_supported, setup_unlisted,
					fx_teardown),
	cmocka_unit_test_setup_teardown(test_bad_input, setup_iommu, fx_teardown),
	cmocka_unit_test_setup_teardown(test_noncoherent_refused, setup_noncoherent,
					fx_teardown),
};

DML_TEST_MAIN(tests)
