/* SPDX-License-Identifier: MIT */
/*
 * test_p2p_paths.c - PCI peer-to-peer memory through every mapping path
 * and the emulated fabric (shared/reference/kernel-dma-semantics.md §1.5,
 * §2, §4): dma_map_sg with bus-address, host-bridge and host RAM entries
 * in one list, -EREMOTEIO for a peer the device cannot reach, dma_map_phys
 * and dma_iova_link with DMA_ATTR_MMIO, and devices whose requests the
 * switches route to a peer's BAR, send up to the IOMMU (ACS redirect), or
 * the root complex drops.  Every case moves bytes and checks them, or
 * checks the fault.
 */
#include "p2p/fixture.h"
#include "pci/pci.h"

#define RAM_A		0x200000ULL
#define RAM_B		0x300000ULL

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

static int setup_iommu_unlisted(void **state)
{
	*state = fxp_build(NOT_LISTED, true, 0);
	return 0;
}

static int setup_direct_unlisted(void **state)
{
	*state = fxp_build(NOT_LISTED, false, 0);
	return 0;
}

static int setup_iommu_noncoherent(void **state)
{
	*state = fxp_build(SKX_ROOT_PORT, true, FXP_NON_COHERENT);
	return 0;
}

static int setup_iommu_untrusted(void **state)
{
	*state = fxp_build(SKX_ROOT_PORT, true, FXP_UNTRUSTED);
	return 0;
}

static u8 *mem(struct fxp *f, phys_addr_t phys, size_t len)
{
	u8 *m = dml_kmap_local_phys(f->p, phys, len);

	assert_non_null(m);
	return m;
}

/* the device writes @len bytes of @seed at @addr; they must land at @phys */
static void dev_write_lands(struct fxp *f, dma_addr_t addr, phys_addr_t phys,
			    size_t len, u8 seed)
{
	u8 buf[8192];
	size_t i;

	assert_true(len <= sizeof(buf));
	for (i = 0; i < len; i++)
		buf[i] = (u8)(seed + i);
	memset(mem(f, phys, len), 0, len);
	assert_int_equal(dml_dev_dma_write(f->nic_dev, addr, buf, len), 0);
	assert_memory_equal(mem(f, phys, len), buf, len);
}

/* what the IOMMU maps @addr of the client to, 0 if nothing */
static phys_addr_t iova_phys(struct fxp *f, dma_addr_t addr)
{
	struct dml_domain *d = f->nic_dev->domain;

	return d->ops->iova_to_phys(d, (dml_iova_t)addr);
}

static void fill_mixed(struct scatterlist *sg)
{
	sg_init_table(sg, 4);
	sg_set_phys(&sg[0], RAM_A, 4096);		/* host RAM */
	sg_set_phys(&sg[1], GPU_BAR + 0x2000, 8192);	/* bus address */
	sg_set_phys(&sg[2], RAM_B, 4096);		/* host RAM ... */
	sg_set_phys(&sg[3], SSD_BAR + 0x1000, 4096);	/* ... and host bridge */
}

/*
 * §1.5, §2: one list mixing host RAM, a peer's BAR below the same switch
 * (bus address, not through the IOMMU) and a BAR behind another root port
 * (through the host bridge, IOMMU_MMIO); the device reaches all of it.
 */
static void test_sg_mixed_iommu(void **state)
{
	struct fxp *f = *state;
	struct scatterlist sg[4];
	dma_addr_t ram;
	int n;

	fill_mixed(sg);
	n = dma_map_sg(f->nic_dev, sg, 4, DMA_BIDIRECTIONAL);
	/* RAM | bus | RAM merged with the host-bridge BAR in IOVA space */
	assert_int_equal(n, 3);
	assert_false(sg_dma_is_bus_address(&sg[0]));
	assert_true(sg_dma_is_bus_address(&sg[1]));
	assert_false(sg_dma_is_bus_address(&sg[2]));
	assert_int_equal(sg_dma_address(&sg[1]), GPU_BAR + 0x2000 + GPU_BUS_OFF);
	assert_int_equal(sg_dma_len(&sg[1]), 8192);
	assert_int_equal(sg_dma_len(&sg[2]), 8192);
	/* the bus address is no IOVA: the IOMMU does not translate it */
	assert_int_equal(iova_phys(f, sg_dma_address(&sg[1])), 0);
	assert_int_equal(iova_phys(f, sg_dma_address(&sg[2]) + 4096), SSD_BAR + 0x1000);

	dev_write_lands(f, sg_dma_address(&sg[0]), RAM_A, 4096, 1);
	dev_write_lands(f, sg_dma_address(&sg[1]), GPU_BAR + 0x2000, 8192, 2);
	dev_write_lands(f, sg_dma_address(&sg[2]), RAM_B, 4096, 3);
	dev_write_lands(f, sg_dma_address(&sg[2]) + 4096, SSD_BAR + 0x1000, 4096, 4);
	assert_int_equal(dml_iommu_fault_count(f->iommu), 0);

	ram = sg_dma_address(&sg[0]);
	dma_unmap_sg(f->nic_dev, sg, 4, DMA_BIDIRECTIONAL);
	/* unmap mirrors map: the IOVA block is gone, the marks cleared */
	assert_int_equal(iova_phys(f, ram), 0);
	assert_false(sg_dma_is_bus_address(&sg[1]));
	assert_int_equal(dml_test_log.count, 0);
}

/*
 * A non-coherent device: RAM entries get their cache maintenance, the
 * peers' BARs none (they are not cacheable memory), and the bytes the
 * device wrote are what the CPU reads after unmap
 */
static void test_sg_mixed_noncoherent(void **state)
{
	struct fxp *f = *state;
	struct scatterlist sg[4];
	u8 buf[4096];

	fill_mixed(sg);
	memset(buf, 0x3c, sizeof(buf));
	assert_int_equal(dma_map_sg(f->nic_dev, sg, 4, DMA_FROM_DEVICE), 3);
	assert_int_equal(dml_dev_dma_write(f->nic_dev, sg_dma_address(&sg[0]), buf,
					   sizeof(buf)), 0);
	assert_int_equal(dml_dev_dma_write(f->nic_dev, sg_dma_address(&sg[1]), buf,
					   sizeof(buf)), 0);
	assert_int_equal(dml_dev_dma_write(f->nic_dev, sg_dma_address(&sg[2]) + 4096,
					   buf, sizeof(buf)), 0);
	dma_unmap_sg(f->nic_dev, sg, 4, DMA_FROM_DEVICE);
	assert_memory_equal(mem(f, RAM_A, sizeof(buf)), buf, sizeof(buf));
	assert_memory_equal(mem(f, GPU_BAR + 0x2000, sizeof(buf)), buf, sizeof(buf));
	assert_memory_equal(mem(f, SSD_BAR + 0x1000, sizeof(buf)), buf, sizeof(buf));
}

/*
 * An untrusted device maps entry by entry (so unaligned ones can bounce):
 * the same three kinds, each its own DMA segment
 */
static void test_sg_mixed_untrusted(void **state)
{
	struct fxp *f = *state;
	struct scatterlist sg[4];

	fill_mixed(sg);
	assert_int_equal(dma_map_sg(f->nic_dev, sg, 4, DMA_BIDIRECTIONAL), 4);
	assert_true(sg_dma_is_bus_address(&sg[1]));
	assert_int_equal(sg_dma_address(&sg[1]), GPU_BAR + 0x2000 + GPU_BUS_OFF);
	assert_int_equal(iova_phys(f, sg_dma_address(&sg[3])), SSD_BAR + 0x1000);
	dev_write_lands(f, sg_dma_address(&sg[0]), RAM_A, 4096, 21);
	dev_write_lands(f, sg_dma_address(&sg[1]), GPU_BAR + 0x2000, 8192, 22);
	dev_write_lands(f, sg_dma_address(&sg[3]), SSD_BAR + 0x1000, 4096, 23);
	dma_unmap_sg(f->nic_dev, sg, 4, DMA_BIDIRECTIONAL);
	assert_false(sg_dma_is_bus_address(&sg[1]));
	assert_int_equal(iova_phys(f, sg_dma_address(&sg[3])), 0);
	assert_int_equal(dml_test_log.count, 0);
}

/* a list of bus addresses only: no IOVA, no page table, no invalidation */
static void test_sg_bus_only_never_touches_iommu(void **state)
{
	struct fxp *f = *state;
	struct dml_iommu_stats before, after;
	struct scatterlist sg[2];

	sg_init_table(sg, 2);
	sg_set_phys(&sg[0], GPU_BAR, 4096);
	sg_set_phys(&sg[1], GPU_BAR + 4096, 4096);	/* contiguous: not merged */
	dml_iommu_get_stats(f->iommu, &before);
	assert_int_equal(dma_map_sg(f->nic_dev, sg, 2, DMA_TO_DEVICE), 2);
	assert_int_equal(sg_dma_address(&sg[0]), GPU_BAR + GPU_BUS_OFF);
	assert_int_equal(sg_dma_address(&sg[1]), GPU_BAR + 4096 + GPU_BUS_OFF);
	assert_true(sg_dma_is_bus_address(&sg[0]) && sg_dma_is_bus_address(&sg[1]));
	dma_unmap_sg(f->nic_dev, sg, 2, DMA_TO_DEVICE);
	dml_iommu_get_stats(f->iommu, &after);
	assert_int_equal(after.pt_pages_touched, before.pt_pages_touched);
	assert_int_equal(after.sync_map, before.sync_map);
	assert_int_equal(after.inv_range, before.inv_range);
	assert_int_equal(after.inv_global, before.inv_global);
	assert_false(sg_dma_is_bus_address(&sg[0]) || sg_dma_is_bus_address(&sg[1]));
	assert_int_equal(dml_test_log.count, 0);
}

/* dma-direct: the same list, one DMA segment per entry */
static void test_sg_mixed_direct(void **state)
{
	struct fxp *f = *state;
	struct scatterlist sg[4];

	fill_mixed(sg);
	assert_int_equal(dma_map_sg(f->nic_dev, sg, 4, DMA_BIDIRECTIONAL), 4);
	assert_int_equal(sg_dma_address(&sg[0]), RAM_A);
	assert_int_equal(sg_dma_address(&sg[1]), GPU_BAR + 0x2000 + GPU_BUS_OFF);
	assert_true(sg_dma_is_bus_address(&sg[1]));
	assert_int_equal(sg_dma_address(&sg[3]), SSD_BAR + 0x1000);
	assert_false(sg_dma_is_bus_address(&sg[3]));
	dev_write_lands(f, sg_dma_address(&sg[0]), RAM_A, 4096, 5);
	dev_write_lands(f, sg_dma_address(&sg[1]), GPU_BAR + 0x2000, 8192, 6);
	dev_write_lands(f, sg_dma_address(&sg[3]), SSD_BAR + 0x1000, 4096, 7);
	dma_unmap_sg(f->nic_dev, sg, 4, DMA_BIDIRECTIONAL);
	assert_false(sg_dma_is_bus_address(&sg[1]));
	assert_int_equal(dml_test_log.count, 0);
}

/*
 * §1.5 NOT_SUPPORTED: a peer behind a host bridge that is not whitelisted
 * fails the whole list with -EREMOTEIO and leaves nothing mapped
 */
static void check_not_supported(struct fxp *f)
{
	struct sg_table sgt;
	struct scatterlist *sg;

	assert_int_equal(sg_alloc_table(&sgt, 3), 0);
	sg = sgt.sgl;
	sg_set_phys(&sg[0], RAM_A, 4096);
	sg_set_phys(&sg[1], GPU_BAR, 4096);	/* fine: below the switch */
	sg_set_phys(&sg[2], SSD_BAR, 4096);	/* across the host bridge */
	assert_int_equal(dma_map_sgtable(f->nic_dev, &sgt, DMA_TO_DEVICE, 0),
			 -EREMOTEIO);
	assert_int_equal(dma_map_sg(f->nic_dev, sg, 3, DMA_TO_DEVICE), 0);
	assert_false(sg_dma_is_bus_address(&sg[1]));
	if (f->iommu) {
		struct dml_iommu_stats st;

		dml_iommu_get_stats(f->iommu, &st);
		assert_int_equal(st.pt_pages_touched, 0);
	}
	sg_free_table(&sgt);
}

static void test_sg_not_supported_iommu(void **state)
{
	check_not_supported(*state);
}

static void test_sg_not_supported_direct(void **state)
{
	check_not_supported(*state);
}

/* the caller's side of §1.5: classify, then program the bus address */
static dma_addr_t bus_addr(struct fxp *f, phys_addr_t phys)
{
	struct pci_p2pdma_map_state st = { 0 };

	assert_int_equal(pci_p2pdma_state(&st, f->nic_dev, phys),
			 PCI_P2PDMA_MAP_BUS_ADDR);
	return pci_p2pdma_bus_addr_map(st.mem, phys);
}

/*
 * The switch routes a bus address to the peer's BAR: writes land, reads
 * return them, the IOMMU never sees the request
 */
static void test_fabric_bus_addr_reaches_peer(void **state)
{
	struct fxp *f = *state;
	dma_addr_t a = bus_addr(f, GPU_BAR + 0x3000);
	struct dml_iommu_stats before, after;
	u8 back[4096];

	dml_iommu_get_stats(f->iommu, &before);
	dev_write_lands(f, a, GPU_BAR + 0x3000, 4096, 9);
	assert_int_equal(dml_dev_dma_read(f->nic_dev, a, back, sizeof(back)), 0);
	assert_memory_equal(back, mem(f, GPU_BAR + 0x3000, 4096), 4096);
	dml_iommu_get_stats(f->iommu, &after);
	assert_int_equal(after.iotlb_hits + after.iotlb_misses,
			 before.iotlb_hits + before.iotlb_misses);
	assert_int_equal(after.faults, 0);
}

/*
 * ACS redirect set after classification: the cached answer still says
 * BUS_ADDR, but the request now goes up to the root complex and the IOMMU
 * faults on the bus address: the bug classification exists to prevent
 */
static void test_fabric_acs_redirect_faults_in_iommu(void **state)
{
	struct fxp *f = *state;
	dma_addr_t a = bus_addr(f, GPU_BAR);
	u8 buf[64];

	memset(buf, 0xa5, sizeof(buf));
	memset(mem(f, GPU_BAR, sizeof(buf)), 0, sizeof(buf));
	assert_int_equal(dml_pci_port_set_acs(f->down[1], PCI_ACS_RR), 0);
	assert_int_equal(pci_p2pdma_map_type(pcim_p2pdma_provider(f->gpu, 0), f->nic_dev),
			 PCI_P2PDMA_MAP_BUS_ADDR);	/* cached, stale */
	dml_test_expect_dma_debug(DML_DMA_DEBUG_P2P_BUS_ADDR_UPSTREAM);
	assert_int_equal(dml_dev_dma_write(f->nic_dev, a, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(dml_iommu_fault_count(f->iommu), 1);
	assert_int_equal(mem(f, GPU_BAR, 1)[0], 0);
	/* clear the redirect and the same address reaches the peer again */
	assert_int_equal(dml_pci_port_set_acs(f->down[1], 0), 0);
	dev_write_lands(f, a, GPU_BAR, sizeof(buf), 1);
}

/* dma-direct behind ACS: the bus address is taken as a CPU address: nothing */
static void test_fabric_acs_redirect_direct(void **state)
{
	struct fxp *f = *state;
	dma_addr_t a = bus_addr(f, GPU_BAR);
	u64 faults = dml_platform_fault_count(f->p);
	u8 buf[64] = { 1 };

	assert_int_equal(dml_pci_port_set_acs(f->down[0], PCI_ACS_EC), 0);
	dml_test_expect_dma_debug(DML_DMA_DEBUG_P2P_BUS_ADDR_UPSTREAM);
	assert_int_equal(dml_dev_dma_write(f->nic_dev, a, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(dml_platform_fault_count(f->p), faults + 1);
	assert_int_equal(mem(f, GPU_BAR, 1)[0], 0);
}

/*
 * §2 THRU_HOST_BRIDGE: map like host memory with DMA_ATTR_MMIO, by
 * dma_map_phys and by dma_iova_link; the whitelisted root complex passes
 * the translated request on to the peer's BAR
 */
static void test_fabric_thru_host_bridge_phys_and_link(void **state)
{
	struct fxp *f = *state;
	struct pci_p2pdma_map_state st = { 0 };
	struct dma_iova_state ist;
	dma_addr_t a;

	assert_int_equal(pci_p2pdma_state(&st, f->nic_dev, SSD_BAR),
			 PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
	a = dma_map_phys(f->nic_dev, SSD_BAR + 0x100, 4096, DMA_FROM_DEVICE,
			 DMA_ATTR_MMIO);
	assert_int_equal(dma_mapping_error(f->nic_dev, a), 0);
	assert_int_not_equal(a, SSD_BAR + 0x100);	/* an IOVA */
	dev_write_lands(f, a, SSD_BAR + 0x100, 4096, 11);
	dma_unmap_phys(f->nic_dev, a, 4096, DMA_FROM_DEVICE, DMA_ATTR_MMIO);

	assert_true(dma_iova_try_alloc(f->nic_dev, &ist, SSD_BAR, 8192));
	assert_int_equal(dma_iova_link(f->nic_dev, &ist, SSD_BAR, 0, 4096,
				       DMA_BIDIRECTIONAL, DMA_ATTR_MMIO), 0);
	assert_int_equal(dma_iova_link(f->nic_dev, &ist, RAM_A, 4096, 4096,
				       DMA_BIDIRECTIONAL, 0), 0);
	assert_int_equal(dma_iova_sync(f->nic_dev, &ist, 0, 8192), 0);
	dev_write_lands(f, ist.addr, SSD_BAR, 4096, 12);
	dev_write_lands(f, ist.addr + 4096, RAM_A, 4096, 13);
	assert_int_equal(dma_iova_unlink(f->nic_dev, &ist, 0, 4096,
					 DMA_BIDIRECTIONAL, DMA_ATTR_MMIO), 0);
	assert_int_equal(dma_iova_unlink(f->nic_dev, &ist, 4096, 4096,
					 DMA_BIDIRECTIONAL, 0), 0);
	dma_iova_free(f->nic_dev, &ist);
	assert_int_equal(dml_iommu_fault_count(f->iommu), 0);
}

/*
 * A root complex that is not whitelisted drops peer traffic and logs it:
 * a BAR mapped through the IOMMU anyway (the caller ignored
 * NOT_SUPPORTED) is translated, then dropped
 */
static void test_fabric_root_complex_drops_iommu(void **state)
{
	struct fxp *f = *state;
	struct pci_p2pdma_map_state st = { 0 };
	struct dml_dev_stats ds;
	u8 buf[64] = { 7 };
	dma_addr_t a;

	assert_int_equal(pci_p2pdma_state(&st, f->nic_dev, SSD_BAR),
			 PCI_P2PDMA_MAP_NOT_SUPPORTED);
	a = dma_map_phys(f->nic_dev, SSD_BAR, 4096, DMA_FROM_DEVICE, DMA_ATTR_MMIO);
	assert_int_equal(dma_mapping_error(f->nic_dev, a), 0);
	memset(mem(f, SSD_BAR, sizeof(buf)), 0, sizeof(buf));
	dml_test_log_reset();
	assert_int_equal(dml_dev_dma_write(f->nic_dev, a, buf, sizeof(buf)), -EFAULT);
	assert_non_null(strstr(dml_test_log.last, "root complex dropped"));
	assert_int_equal(mem(f, SSD_BAR, 1)[0], 0);
	assert_int_equal(dml_iommu_fault_count(f->iommu), 0);	/* it translated */
	dml_dev_get_stats(f->nic_dev, &ds);
	assert_int_equal(ds.faults, 1);
	dma_unmap_phys(f->nic_dev, a, 4096, DMA_FROM_DEVICE, DMA_ATTR_MMIO);
}

/* ... and a dma-direct device's bus address to a peer on another root port */
static void test_fabric_root_complex_drops_direct(void **state)
{
	struct fxp *f = *state;
	u8 buf[64] = { 7 };

	memset(mem(f, SSD_BAR, sizeof(buf)), 0, sizeof(buf));
	dml_test_expect_dma_debug(DML_DMA_DEBUG_P2P_BUS_ADDR_UPSTREAM);
	dml_test_log_reset();
	assert_int_equal(dml_dev_dma_write(f->nic_dev, SSD_BAR, buf, sizeof(buf)),
			 -EFAULT);
	assert_non_null(strstr(dml_test_log.last, "root complex dropped"));
	assert_int_equal(mem(f, SSD_BAR, 1)[0], 0);
}

/* the checker: a BAR mapped without DMA_ATTR_MMIO, by phys and by link */
static void test_checker_bar_without_mmio(void **state)
{
	struct fxp *f = *state;
	struct dma_iova_state ist;
	dma_addr_t a;

	dml_test_expect_dma_debug(DML_DMA_DEBUG_MAP_BAD_MEMORY);
	a = dma_map_phys(f->nic_dev, SSD_BAR, 4096, DMA_TO_DEVICE, 0);
	assert_int_equal(dma_mapping_error(f->nic_dev, a), 0);
	assert_int_equal(dml_dma_debug_error_count(), 1);
	dma_unmap_phys(f->nic_dev, a, 4096, DMA_TO_DEVICE, 0);
	assert_true(dma_iova_try_alloc(f->nic_dev, &ist, SSD_BAR, 4096));
	assert_int_equal(dma_iova_link(f->nic_dev, &ist, SSD_BAR, 0, 4096,
				       DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dml_dma_debug_error_count(), 2);
	dma_iova_destroy(f->nic_dev, &ist, 4096, DMA_TO_DEVICE, 0);
}

/* the checker, §9 item 12: DMA_ATTR_MMIO is for MMIO, not RAM */
static void test_checker_mmio_on_ram(void **state)
{
	struct fxp *f = *state;
	dma_addr_t a;

	dml_test_expect_dma_debug(DML_DMA_DEBUG_MMIO_ON_RAM);
	a = dma_map_phys(f->nic_dev, RAM_A, 4096, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	assert_int_equal(dma_mapping_error(f->nic_dev, a), 0);
	assert_int_equal(dml_dma_debug_error_count(), 1);
	dma_unmap_phys(f->nic_dev, a, 4096, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	/* a BAR with the attribute is what it is for: no report */
	a = dma_map_phys(f->nic_dev, SSD_BAR, 4096, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	assert_int_equal(dma_mapping_error(f->nic_dev, a), 0);
	dma_unmap_phys(f->nic_dev, a, 4096, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	assert_int_equal(dml_dma_debug_error_count(), 1);
}

/* the checker: a bus-address segment handed to dma_unmap_phys() */
static void test_checker_unmap_bus_address(void **state)
{
	struct fxp *f = *state;
	struct scatterlist sg[2];
	struct dml_dma_debug_error e;

	sg_init_table(sg, 2);
	sg_set_phys(&sg[0], RAM_A, 4096);
	sg_set_phys(&sg[1], GPU_BAR, 4096);
	assert_int_equal(dma_map_sg(f->nic_dev, sg, 2, DMA_TO_DEVICE), 2);
	assert_true(sg_dma_is_bus_address(&sg[1]));
	dml_test_expect_dma_debug(DML_DMA_DEBUG_P2P_UNMAP_BUS_ADDR);
	dma_unmap_phys(f->nic_dev, sg_dma_address(&sg[1]), 4096, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dma_debug_error_count(), 1);
	assert_int_equal(dml_dma_debug_error_get(0, &e), 0);
	assert_int_equal(e.category, DML_DMA_DEBUG_P2P_UNMAP_BUS_ADDR);
	/* the list itself unmaps cleanly, bus segment included */
	dma_unmap_sg(f->nic_dev, sg, 2, DMA_TO_DEVICE);
	assert_int_equal(dml_dma_debug_error_count(), 1);
}

/* the checker names the stale bus address the IOMMU then faults on */
static void test_checker_bus_address_upstream(void **state)
{
	struct fxp *f = *state;
	dma_addr_t a = bus_addr(f, GPU_BAR);
	struct dml_dma_debug_error e;
	u8 buf[16] = { 0 };

	assert_int_equal(dml_dev_dma_read(f->nic_dev, a, buf, sizeof(buf)), 0);
	assert_int_equal(dml_dma_debug_error_count(), 0);	/* routed: fine */
	assert_int_equal(dml_pci_port_set_acs(f->up, PCI_ACS_RR), 0);
	dml_test_expect_dma_debug(DML_DMA_DEBUG_P2P_BUS_ADDR_UPSTREAM);
	assert_int_equal(dml_dev_dma_read(f->nic_dev, a, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(dml_dma_debug_error_get(0, &e), 0);
	assert_int_equal(e.category, DML_DMA_DEBUG_P2P_BUS_ADDR_UPSTREAM);
	assert_non_null(strstr(e.message, "map type now THRU_HOST_BRIDGE"));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_sg_mixed_iommu, setup_iommu, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_sg_bus_only_never_touches_iommu,
					setup_iommu, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_sg_mixed_direct, setup_direct, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_sg_mixed_noncoherent,
					setup_iommu_noncoherent, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_sg_mixed_untrusted,
					setup_iommu_untrusted, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_sg_not_supported_iommu,
					setup_iommu_unlisted, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_sg_not_supported_direct,
					setup_direct_unlisted, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_fabric_bus_addr_reaches_peer,
					setup_iommu, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_fabric_acs_redirect_faults_in_iommu,
					setup_iommu, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_fabric_acs_redirect_direct,
					setup_direct, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_fabric_thru_host_bridge_phys_and_link,
					setup_iommu, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_fabric_root_complex_drops_iommu,
					setup_iommu_unlisted, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_fabric_root_complex_drops_direct,
					setup_direct_unlisted, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_checker_bar_without_mmio,
					setup_iommu, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_checker_mmio_on_ram,
					setup_iommu, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_checker_unmap_bus_address,
					setup_iommu, fxp_teardown),
	cmocka_unit_test_setup_teardown(test_checker_bus_address_upstream,
					setup_iommu, fxp_teardown),
};

DML_TEST_MAIN(tests)
