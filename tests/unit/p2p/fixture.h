/* SPDX-License-Identifier: MIT */
/*
 * fixture.h - the emulated P2P machine the peer-to-peer tests share
 * (p2p/test_p2p_paths, mm/test_hmm, the dmabuf tests):
 *
 *   hb (host bridge 0000:00, ids of @host: whitelisted or not)
 *    +- rp0 -- sw (upstream) -+- d0 -- gpu (BAR0, bus offset GPU_BUS_OFF)
 *    |                        +- d1 -- nic (the client)
 *    +- rp1 -- ssd (BAR0)
 *
 * gpu and ssd are P2P providers of BAR_LEN bytes each; GPU memory reaches
 * the NIC by bus address through the switch, SSD memory through the host
 * bridge.  The NIC is the device the tests map for, behind a VT-d unit or
 * not.
 */
#ifndef DML_TEST_P2P_FIXTURE_H
#define DML_TEST_P2P_FIXTURE_H

#include <stdlib.h>

#include <dmalink/pci-p2pdma.h>

#include "testutil.h"

#define SKX_ROOT_PORT	0x2030	/* Intel Skylake-E root port: whitelisted */
#define NOT_LISTED	0x1234
#define GPU_BAR		0x800000000ULL
#define GPU_BUS_OFF	0x1000000000ULL	/* bus address = phys + this */
#define SSD_BAR		0xa00000000ULL
#define BAR_LEN		(1ULL << 20)

/* client options of fxp_build() */
#define FXP_NON_COHERENT	(1u << 0)
#define FXP_UNTRUSTED		(1u << 1)

struct fxp {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_pci_dev *hb, *rp0, *rp1, *up, *down[2], *gpu, *nic, *ssd;
	struct dml_device *nic_dev;
};

/*
 * fxp_build - the machine above on 64 MiB of RAM; the host bridge and
 * root ports carry device id @host; the NIC sits behind a VT-d unit when
 * @iommu, and is non-coherent or untrusted as @flags say.  The test log
 * starts empty.
 */
static inline struct fxp *fxp_build(u16 host, bool iommu, unsigned int flags)
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
	o.non_coherent = flags & FXP_NON_COHERENT;
	o.untrusted = flags & FXP_UNTRUSTED;
	o.name = "nic";
	o.pci_dev = f->nic;
	assert_int_equal(dml_device_create(f->p, &o, &f->nic_dev), 0);
	dml_test_log_reset();
	return f;
}

/* fxp_teardown - cmocka teardown: destroy the machine fxp_build() made */
static inline int fxp_teardown(void **state)
{
	struct fxp *f = *state;

	dml_platform_destroy(f->p);
	free(f);
	return 0;
}

#endif /* DML_TEST_P2P_FIXTURE_H */
