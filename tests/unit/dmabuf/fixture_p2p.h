/* SPDX-License-Identifier: MIT */
/*
 * fixture_p2p.h - an emulated machine for the dma-buf P2P tests: a
 * whitelisted (or unlisted) host bridge; a switch with a GPU (BAR0 of
 * 1 MiB, bus offset GPU_BUS_OFF) and a NIC, the importer, below it; an
 * SSD (BAR0) on a second root port.  GPU memory reaches the NIC by bus
 * address, SSD memory through the host bridge.  Every test that moves
 * bytes fills the BAR with fxp_fill() and checks what the device read.
 */
#ifndef DML_TEST_DMABUF_FIXTURE_P2P_H
#define DML_TEST_DMABUF_FIXTURE_P2P_H

#include <stdlib.h>

#include <dmalink/dma-buf.h>
#include <dmalink/pci-p2pdma.h>

#include "testutil.h"

#define SKX_ROOT_PORT	0x2030	/* Intel Skylake-E root port: whitelisted */
#define NOT_LISTED	0x1234
#define GPU_BAR		0x800000000ULL
#define GPU_BUS_OFF	0x1000000000ULL
#define SSD_BAR		0xa00000000ULL
#define BAR_LEN		(1ULL << 20)

struct fxp {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_pci_dev *hb, *rp0, *rp1, *up, *down[2], *gpu, *nic, *ssd;
	struct dml_device *nic_dev;
};

static inline struct fxp *fxp_build(u16 host, bool iommu)
{
	struct fxp *f = calloc(1, sizeof(*f));
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, cpu_family),
		.ram_size = 64ULL << 20,
		.cpu_vendor = DML_CPU_INTEL,
		.cpu_family = 6,
	};
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };

	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(&eo, &f->p), 0);
	assert_int_equal(dml_pci_host_bridge_add(f->p, 0, 0, 0x8086, host,
						 "hb", &f->hb), 0);
	assert_int_equal(dml_pci_dev_add(f->hb, DML_PCI_ROOT_PORT,
					 PCI_DEVFN(1, 0), 0x8086, host, "rp0",
					 &f->rp0), 0);
	assert_int_equal(dml_pci_dev_add(f->hb, DML_PCI_ROOT_PORT,
					 PCI_DEVFN(2, 0), 0x8086, host, "rp1",
					 &f->rp1), 0);
	assert_int_equal(dml_pci_switch_add(f->rp0, 0, 0x10b5, 0x8747, "sw", 2,
					    &f->up, f->down), 0);
	assert_int_equal(dml_pci_dev_add(f->down[0], DML_PCI_ENDPOINT, 0,
					 0x10de, 0x2330, "gpu", &f->gpu), 0);
	assert_int_equal(dml_pci_dev_add(f->down[1], DML_PCI_ENDPOINT, 0,
					 0x15b3, 0x1021, "nic", &f->nic), 0);
	assert_int_equal(dml_pci_dev_add(f->rp1, DML_PCI_ENDPOINT, 0, 0x144d,
					 0xa80a, "ssd", &f->ssd), 0);
	assert_int_equal(dml_pci_bar_add(f->gpu, 0, GPU_BAR, BAR_LEN,
					 GPU_BUS_OFF, 0), 0);
	assert_int_equal(dml_pci_bar_add(f->ssd, 0, SSD_BAR, BAR_LEN, 0, 0), 0);
	assert_int_equal(pcim_p2pdma_init(f->gpu), 0);
	assert_int_equal(pcim_p2pdma_init(f->ssd), 0);
	if (iommu) {
		assert_int_equal(dml_iommu_create(f->p, NULL, &f->iommu), 0);
		o.iommu = f->iommu;
	}
	o.name = "nic";
	o.pci_dev = f->nic;
	assert_int_equal(dml_device_create(f->p, &o, &f->nic_dev), 0);
	dml_test_log_reset();
	return f;
}

static inline int fxp_teardown(void **state)
{
	struct fxp *f = *state;

	dml_platform_destroy(f->p);
	free(f);
	return 0;
}

static inline u8 fxp_pattern(phys_addr_t phys)
{
	return (u8)(phys * 13 + (phys >> 12));
}

/* fill [phys, +len) with bytes that depend on their address */
static inline void fxp_fill(struct fxp *f, phys_addr_t phys, size_t len)
{
	u8 *m = dml_kmap_local_phys(f->p, phys, len);
	size_t i;

	assert_non_null(m);
	for (i = 0; i < len; i++)
		m[i] = fxp_pattern(phys + i);
}

/* the device reads [dma, +len) and finds the bytes of [phys, +len) */
static inline void fxp_device_reads(struct fxp *f, dma_addr_t dma,
				    phys_addr_t phys, size_t len)
{
	u8 *got = malloc(len);
	size_t i;

	assert_non_null(got);
	assert_int_equal(dml_dev_dma_read(f->nic_dev, dma, got, len), 0);
	for (i = 0; i < len; i++)
		assert_int_equal(got[i], fxp_pattern(phys + i));
	free(got);
}

static inline u64 fxp_faults(struct fxp *f)
{
	return f->iommu ? dml_iommu_fault_count(f->iommu)
			: dml_platform_fault_count(f->p);
}

#endif /* DML_TEST_DMABUF_FIXTURE_P2P_H */
