/* SPDX-License-Identifier: MIT */
/*
 * test_blk_p2p.c - the request DMA iterator on peer-to-peer memory
 * (shared/reference/kernel-dma-semantics.md §1.5, §3.2, §9 items 15, 18):
 * a peer below the same switch gives bus addresses and nothing to unmap,
 * a peer through a host bridge that routes P2P is mapped like RAM with
 * DMA_ATTR_MMIO, one the host bridge refuses is BLK_STS_INVAL, and a
 * request mixing provider memory and RAM is BLK_STS_INVAL with nothing
 * left mapped.
 */
#include <dmalink/blk-mq-dma.h>

#include "pci/pci.h"
#include "testutil.h"

#define SKX_ROOT_PORT	0x2030	/* whitelisted host bridge */
#define NOT_LISTED	0x1234
#define GPU_BAR		0x800000000ULL
#define GPU_BUS_OFF	0x1000000000ULL
#define SSD_BAR		0xa00000000ULL
#define RAM0		0x200000ULL

/* hb -+- rp0 -- switch -+- gpu (BAR0)   hb -+- rp1 -- ssd (BAR0)
 *                       +- nic (client, behind the IOMMU) */
struct fx {
	struct dml_platform *p;
	struct dml_device *nic;
};

static struct fx *fx_build(u16 host)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct dml_emu_opts eo = { .size = DML_SIZEOF(&eo, cpu_family),
		.ram_size = 64ULL << 20, .cpu_vendor = DML_CPU_INTEL, .cpu_family = 6 };
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev), .name = "nic" };
	struct dml_pci_dev *hb, *rp0, *rp1, *up, *down[2], *gpu, *nic, *ssd;
	struct dml_iommu *iommu;

	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(&eo, &f->p), 0);
	assert_int_equal(dml_pci_host_bridge_add(f->p, 0, 0, 0x8086, host, "hb", &hb), 0);
	assert_int_equal(dml_pci_dev_add(hb, DML_PCI_ROOT_PORT, PCI_DEVFN(1, 0),
					 0x8086, host, "rp0", &rp0), 0);
	assert_int_equal(dml_pci_dev_add(hb, DML_PCI_ROOT_PORT, PCI_DEVFN(2, 0),
					 0x8086, host, "rp1", &rp1), 0);
	assert_int_equal(dml_pci_switch_add(rp0, 0, 0x10b5, 0x8747, "sw", 2, &up, down), 0);
	assert_int_equal(dml_pci_dev_add(down[0], DML_PCI_ENDPOINT, 0, 0x10de, 0x2330,
					 "gpu", &gpu), 0);
	assert_int_equal(dml_pci_dev_add(down[1], DML_PCI_ENDPOINT, 0, 0x15b3, 0x1021,
					 "nic", &nic), 0);
	assert_int_equal(dml_pci_dev_add(rp1, DML_PCI_ENDPOINT, 0, 0x144d, 0xa80a,
					 "ssd", &ssd), 0);
	assert_int_equal(dml_pci_bar_add(gpu, 0, GPU_BAR, 1 << 20, GPU_BUS_OFF, 0), 0);
	assert_int_equal(dml_pci_bar_add(ssd, 0, SSD_BAR, 1 << 20, 0, 0), 0);
	assert_int_equal(pcim_p2pdma_init(gpu), 0);
	assert_int_equal(pcim_p2pdma_init(ssd), 0);
	assert_int_equal(dml_iommu_create(f->p, NULL, &iommu), 0);
	o.iommu = iommu;
	o.pci_dev = nic;
	assert_int_equal(dml_device_create(f->p, &o, &f->nic), 0);
	dml_test_log_reset();
	return f;
}

static int setup_listed(void **state)
{
	*state = fx_build(SKX_ROOT_PORT);
	return 0;
}

static int setup_unlisted(void **state)
{
	*state = fx_build(NOT_LISTED);
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	dml_platform_destroy(f->p);
	free(f);
	return 0;
}

static const struct queue_limits lim = {
	.max_segment_size = 1u << 20, .virt_boundary_mask = 4095, .dma_alignment = 3,
};

/* §1.5, §3.2: a peer below the switch: bus addresses, no IOVA, no unmap */
static void test_bus_addr(void **state)
{
	struct fx *f = *state;
	struct bio_vec v[2] = { { GPU_BAR + 0x1000, 4096 }, { GPU_BAR + 0x8000, 4096 } };
	struct bio b = { .bi_io_vec = v, .bi_vcnt = 2 };
	struct request rq;
	struct dma_iova_state st;
	struct blk_dma_iter it;

	assert_int_equal(dml_blk_rq_init(&rq, &lim, DMA_TO_DEVICE, &b), 0);
	assert_true(blk_rq_dma_map_iter_start(&rq, f->nic, &st, &it));
	assert_int_equal(it.p2pdma.map, PCI_P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(it.addr, GPU_BAR + 0x1000 + GPU_BUS_OFF);
	assert_false(blk_rq_dma_map_coalesce(&st));
	assert_true(blk_rq_dma_map_iter_next(&rq, f->nic, &st, &it));
	assert_int_equal(it.addr, GPU_BAR + 0x8000 + GPU_BUS_OFF);
	assert_false(blk_rq_dma_map_iter_next(&rq, f->nic, &st, &it));
	assert_int_equal(it.status, BLK_STS_OK);
	assert_true(blk_rq_dma_unmap(&rq, f->nic, &st, rq.data_len, it.p2pdma.map));
}

/* §1.5: through a host bridge that routes P2P: one IOVA range, MMIO */
static void test_host_bridge(void **state)
{
	struct fx *f = *state;
	struct bio_vec v[2] = { { SSD_BAR, 4096 }, { SSD_BAR + 0x4000, 4096 } };
	struct bio b = { .bi_io_vec = v, .bi_vcnt = 2 };
	struct request rq;
	struct dma_iova_state st;
	struct blk_dma_iter it;

	assert_int_equal(dml_blk_rq_init(&rq, &lim, DMA_TO_DEVICE, &b), 0);
	assert_true(blk_rq_dma_map_iter_start(&rq, f->nic, &st, &it));
	assert_int_equal(it.p2pdma.map, PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
	assert_true(blk_rq_dma_map_coalesce(&st));
	assert_int_equal(it.len, 8192);
	assert_false(blk_rq_dma_map_iter_next(&rq, f->nic, &st, &it));
	assert_true(blk_rq_dma_unmap(&rq, f->nic, &st, rq.data_len, it.p2pdma.map));
}

/* §9 item 15: P2P the host bridge refuses is BLK_STS_INVAL */
static void test_not_supported(void **state)
{
	struct fx *f = *state;
	struct bio_vec v = { SSD_BAR, 4096 };
	struct bio b = { .bi_io_vec = &v, .bi_vcnt = 1 };
	struct request rq;
	struct dma_iova_state st;
	struct blk_dma_iter it;

	assert_int_equal(dml_blk_rq_init(&rq, &lim, DMA_TO_DEVICE, &b), 0);
	assert_false(blk_rq_dma_map_iter_start(&rq, f->nic, &st, &it));
	assert_int_equal(it.status, BLK_STS_INVAL);
	assert_false(dma_use_iova(&st));
}

/*
 * §1.5 "the block layer refuses to merge different P2P kinds": a request
 * that mixes them anyway fails with BLK_STS_INVAL; on the IOVA path what
 * was linked is destroyed, on the per-segment path the caller unmaps the
 * segments it got (the checker sees nothing left at teardown).
 */
static void test_mixed(void **state)
{
	struct fx *f = *state;
	struct bio_vec ram_first[2] = { { RAM0, 4096 }, { GPU_BAR, 4096 } };
	struct bio_vec gpu_first[2] = { { GPU_BAR, 4096 }, { RAM0, 4096 } };
	struct bio b = { .bi_io_vec = ram_first, .bi_vcnt = 2 };
	struct request rq;
	struct dma_iova_state st;
	struct blk_dma_iter it;
	dma_addr_t first;

	assert_int_equal(dml_blk_rq_init(&rq, &lim, DMA_TO_DEVICE, &b), 0);
	assert_false(blk_rq_dma_map_iter_start(&rq, f->nic, &st, &it));
	assert_int_equal(it.status, BLK_STS_INVAL);
	assert_false(dma_use_iova(&st));

	rq.gap_mask |= 512;		/* the per-segment path */
	assert_true(blk_rq_dma_map_iter_start(&rq, f->nic, &st, &it));
	first = it.addr;
	assert_false(blk_rq_dma_map_iter_next(&rq, f->nic, &st, &it));
	assert_int_equal(it.status, BLK_STS_INVAL);
	assert_false(blk_rq_dma_unmap(&rq, f->nic, &st, rq.data_len, it.p2pdma.map));
	dma_unmap_phys(f->nic, first, 4096, DMA_TO_DEVICE, 0);

	b.bi_io_vec = gpu_first;
	assert_int_equal(dml_blk_rq_init(&rq, &lim, DMA_TO_DEVICE, &b), 0);
	assert_true(blk_rq_dma_map_iter_start(&rq, f->nic, &st, &it));
	assert_false(blk_rq_dma_map_iter_next(&rq, f->nic, &st, &it));
	assert_int_equal(it.status, BLK_STS_INVAL);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_bus_addr, setup_listed, fx_teardown),
	cmocka_unit_test_setup_teardown(test_host_bridge, setup_listed, fx_teardown),
	cmocka_unit_test_setup_teardown(test_not_supported, setup_unlisted, fx_teardown),
	cmocka_unit_test_setup_teardown(test_mixed, setup_listed, fx_teardown),
};

DML_TEST_MAIN(tests)
