/* SPDX-License-Identifier: MIT */
/*
 * fuzz_p2p.h - the emulated P2P machine harnesses share (fuzz_hmm):
 *
 *   hb (host bridge 0000:00, Intel Skylake-E ids: on the P2P whitelist)
 *    +- rp0 -- switch -+- d0 -- gpu (BAR0 at FZ_GPU_BAR, bus address +FZ_GPU_BUS_OFF)
 *    |                 +- d1 -- the client
 *    +- rp1 -- ssd (BAR0 at FZ_SSD_BAR)
 *
 * GPU memory reaches the client by bus address through the switch, SSD
 * memory through the host bridge.  The client is a device behind a VT-d
 * unit or not.  Any failure aborts: a harness cannot run without it.
 */
#ifndef DML_FUZZ_P2P_H
#define DML_FUZZ_P2P_H

#include <stdlib.h>

#include <dmalink/pci-p2pdma.h>

#define FZ_GPU_BAR	0x800000000ULL
#define FZ_GPU_BUS_OFF	0x1000000000ULL
#define FZ_SSD_BAR	0xa00000000ULL
#define FZ_BAR_LEN	(1ULL << 20)

/*
 * fuzz_p2p_machine - the machine above with @ram bytes of RAM; the client
 * named @name, with the options of @o (size, name, pci_dev and iommu are
 * set here), behind a new VT-d unit when @iommu
 */
static inline struct dml_device *fuzz_p2p_machine(struct dml_platform **pp,
						  u64 ram, bool iommu,
						  struct dml_device_opts *o)
{
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, cpu_family),
		.ram_size = ram,
		.cpu_vendor = DML_CPU_INTEL,
		.cpu_family = 6,
	};
	struct dml_pci_dev *hb, *rp0, *rp1, *up, *down[2], *gpu, *client, *ssd;
	struct dml_iommu *unit = NULL;
	struct dml_device *dev;
	struct dml_platform *p;

	if (dml_platform_create_emu(&eo, &p) ||
	    dml_pci_host_bridge_add(p, 0, 0, 0x8086, 0x2030, "hb", &hb) ||
	    dml_pci_dev_add(hb, DML_PCI_ROOT_PORT, PCI_DEVFN(1, 0), 0x8086,
			    0x2030, "rp0", &rp0) ||
	    dml_pci_dev_add(hb, DML_PCI_ROOT_PORT, PCI_DEVFN(2, 0), 0x8086,
			    0x2030, "rp1", &rp1) ||
	    dml_pci_switch_add(rp0, 0, 0x10b5, 0x8747, "sw", 2, &up, down) ||
	    dml_pci_dev_add(down[0], DML_PCI_ENDPOINT, 0, 0x10de, 0x2330,
			    "gpu", &gpu) ||
	    dml_pci_dev_add(down[1], DML_PCI_ENDPOINT, 0, 0x15b3, 0x1021,
			    "client", &client) ||
	    dml_pci_dev_add(rp1, DML_PCI_ENDPOINT, 0, 0x144d, 0xa80a, "ssd",
			    &ssd) ||
	    dml_pci_bar_add(gpu, 0, FZ_GPU_BAR, FZ_BAR_LEN, FZ_GPU_BUS_OFF, 0) ||
	    dml_pci_bar_add(ssd, 0, FZ_SSD_BAR, FZ_BAR_LEN, 0, 0) ||
	    pcim_p2pdma_init(gpu) || pcim_p2pdma_init(ssd) ||
	    (iommu && dml_iommu_create(p, NULL, &unit)))
		abort();
	o->size = DML_SIZEOF(o, pci_dev);
	o->pci_dev = client;
	o->iommu = unit;
	if (dml_device_create(p, o, &dev))
		abort();
	*pp = p;
	return dev;
}

#endif /* DML_FUZZ_P2P_H */
