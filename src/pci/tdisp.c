/* SPDX-License-Identifier: MIT */
/*
 * tdisp.c - the TDISP state machine of a PCI endpoint's device interface
 * (TDI), after the TDISP chapter of the PCIe 6.x specification:
 *
 *   CONFIG_UNLOCKED --lock (bind)--> CONFIG_LOCKED --start--> RUN
 *   CONFIG_LOCKED, RUN --configuration change or error--> ERROR
 *   CONFIG_LOCKED, RUN, ERROR --stop (unbind)--> CONFIG_UNLOCKED
 *
 * Every other request is refused with -EBUSY and changes nothing (the
 * specification's INVALID_INTERFACE_STATE).  Acceptance into the bound
 * TVM (src/cc/tsm.c) is a flag that only RUN may carry: every transition
 * out of RUN clears it in the same step, so the DMA layer reads one flag.
 *
 * In RUN the TDI's memory BARs are private MMIO: only its TVM's CPU
 * (dml_tvm_mmio_map()) and accepted peers of that TVM reach them.
 *
 * Locking: pdev->tdisp_lock serialises transitions; readers load the
 * state, the acceptance flag and the bound TVM (atomics: a DMA checks its
 * peer's TVM while another thread unbinds it) without it.  A transition
 * out of RUN tells the BAR users (DML_PCI_BAR_LEFT_RUN, src/pci/decode.c)
 * after acceptance has ended, outside the lock.
 */
#include <dmalink/cc.h>

#include "pci.h"
#include "../mem/mem.h"

static bool has_tdi(const struct dml_pci_dev *pdev)
{
	return pdev && pdev->type == DML_PCI_ENDPOINT;
}

static enum dml_tdisp_state get_state(const struct dml_pci_dev *pdev)
{
	return (enum dml_tdisp_state)atomic_load_explicit(&pdev->tdisp,
							  memory_order_acquire);
}

/*
 * set the state of @pdev, under its lock; leaving RUN ends acceptance.
 * In RUN the TDI's memory BARs are private MMIO (src/mem/encrypt.c): no
 * host CPU mapping reaches them; they are made private before the state
 * says RUN and shared again after acceptance ended.
 */
static void set_state(struct dml_pci_dev *pdev, enum dml_tdisp_state s)
{
	bool run = s == DML_TDISP_RUN;
	bool was_run = get_state(pdev) == DML_TDISP_RUN;
	int i;

	if (!run)
		atomic_store_explicit(&pdev->tdisp_accepted, false,
				      memory_order_release);
	for (i = 0; run != was_run && i < PCI_STD_NUM_BARS; i++)
		if (pdev->bar[i].provider.size)
			dml__mem_mmio_set_private(pdev->plat->mem,
						  pdev->bar[i].provider.phys, run);
	atomic_store_explicit(&pdev->tdisp, (u8)s, memory_order_release);
}

enum dml_tdisp_state dml_tdisp_state(const struct dml_pci_dev *pdev)
{
	return has_tdi(pdev) ? get_state(pdev) : DML_TDISP_CONFIG_UNLOCKED;
}

int dml__tdisp_bind(struct dml_pci_dev *pdev, struct dml_tvm *tvm)
{
	int ret = 0;

	if (!has_tdi(pdev))
		return -EINVAL;
	dml_spin_lock(&pdev->tdisp_lock);
	if (get_state(pdev) != DML_TDISP_CONFIG_UNLOCKED) {
		ret = -EBUSY;
	} else {
		pdev->tvm = tvm;
		set_state(pdev, DML_TDISP_CONFIG_LOCKED);
	}
	dml_spin_unlock(&pdev->tdisp_lock);
	return ret;
}

int dml__tdisp_accept(struct dml_pci_dev *pdev, struct dml_tvm *tvm)
{
	int ret = 0;

	if (!has_tdi(pdev))
		return -EINVAL;
	dml_spin_lock(&pdev->tdisp_lock);
	if (pdev->tvm != tvm)
		ret = -EINVAL;
	else if (get_state(pdev) != DML_TDISP_RUN)
		ret = -EBUSY;
	else
		atomic_store_explicit(&pdev->tdisp_accepted, true,
				      memory_order_release);
	dml_spin_unlock(&pdev->tdisp_lock);
	return ret;
}

int dml_tdisp_start(struct dml_pci_dev *pdev)
{
	int ret = 0;

	if (!has_tdi(pdev))
		return -EINVAL;
	dml_spin_lock(&pdev->tdisp_lock);
	if (get_state(pdev) != DML_TDISP_CONFIG_LOCKED)
		ret = -EBUSY;
	else
		set_state(pdev, DML_TDISP_RUN);
	dml_spin_unlock(&pdev->tdisp_lock);
	return ret;
}

int dml_tdisp_error(struct dml_pci_dev *pdev)
{
	enum dml_tdisp_state s;

	if (!has_tdi(pdev))
		return -EINVAL;
	dml_spin_lock(&pdev->tdisp_lock);
	s = get_state(pdev);
	if (s == DML_TDISP_CONFIG_LOCKED || s == DML_TDISP_RUN)
		set_state(pdev, DML_TDISP_ERROR);
	dml_spin_unlock(&pdev->tdisp_lock);
	if (s == DML_TDISP_RUN)
		dml__pci_bar_event(pdev, DML_PCI_BAR_LEFT_RUN);
	return 0;
}

int dml_tsm_unbind(struct dml_pci_dev *pdev)
{
	enum dml_tdisp_state s;
	int ret = 0;

	if (!has_tdi(pdev))
		return -EINVAL;
	dml_spin_lock(&pdev->tdisp_lock);
	s = get_state(pdev);
	if (s == DML_TDISP_CONFIG_UNLOCKED) {
		ret = -EBUSY;
	} else {
		set_state(pdev, DML_TDISP_CONFIG_UNLOCKED);
		pdev->tvm = NULL;
	}
	dml_spin_unlock(&pdev->tdisp_lock);
	if (s == DML_TDISP_RUN)
		dml__pci_bar_event(pdev, DML_PCI_BAR_LEFT_RUN);
	return ret;
}
