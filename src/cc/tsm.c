/* SPDX-License-Identifier: MIT */
/*
 * tsm.c - the TEE security manager's side of TEE-IO on the emulated
 * platform: TVM objects, binding a PCI endpoint's device interface to a
 * TVM (which locks it), the TVM accepting it once it runs
 * (drivers/pci/tsm.c, include/linux/pci-tsm.h), and the TVM's CPU
 * mapping of an accepted device's private MMIO.  The TDISP states
 * themselves are the PCI layer's (src/pci/tdisp.c); a TVM owns nothing
 * but its identity, and finds its devices by walking the topology.
 */
#include <dmalink/cc.h>

#include "../mem/mem.h"
#include "../pci/pci.h"

struct dml_tvm {
	struct dml_platform *plat;
};

int dml_tvm_create(struct dml_platform *p, struct dml_tvm **out)
{
	struct dml_tvm *tvm;

	if (!p || p->kind != DML_PLATFORM_EMU || !out)
		return -EINVAL;
	tvm = dml__zalloc(sizeof(*tvm));
	if (!tvm)
		return -ENOMEM;
	tvm->plat = p;
	*out = tvm;
	return 0;
}

void dml_tvm_destroy(struct dml_tvm *tvm)
{
	struct dml_pci_dev *pdev = NULL;

	if (!tvm)
		return;
	while ((pdev = dml_pci_walk(tvm->plat, pdev)))
		if (pdev->tvm == tvm)
			dml_tsm_unbind(pdev);
	dml__free(tvm);
}

int dml_tsm_bind(struct dml_tvm *tvm, struct dml_pci_dev *pdev)
{
	if (!tvm || !pdev || pdev->plat != tvm->plat)
		return -EINVAL;
	return dml__tdisp_bind(pdev, tvm);
}

int dml_tsm_accept(struct dml_tvm *tvm, struct dml_pci_dev *pdev)
{
	if (!tvm || !pdev)
		return -EINVAL;
	return dml__tdisp_accept(pdev, tvm);
}

bool dml_tsm_accepted(const struct dml_device *dev)
{
	return dev && dml__dev_accepted(dev);
}

void *dml_tvm_mmio_map(struct dml_tvm *tvm, phys_addr_t phys, u64 len)
{
	struct dml_pci_bar *bar;

	if (!tvm)
		return NULL;
	len = len ? len : 1;
	bar = dml__pci_bar_find(tvm->plat, phys);
	if (!bar || len > bar->provider.size - (phys - bar->provider.phys) ||
	    bar->pdev->tvm != tvm || !dml__tdisp_accepted(bar->pdev))
		return NULL;
	return dml__mem_host(tvm->plat->mem, phys, len);
}
