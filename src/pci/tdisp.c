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
 * Locking: pdev->tdisp_lock serialises transitions; readers load the
 * state and the acceptance flag without it.
 */
#include <dmalink/cc.h>

#include "pci.h"

static bool has_tdi(const struct dml_pci_dev *pdev)
{
	return pdev && pdev->type == DML_PCI_ENDPOINT;
}

/* set the state of @pdev, under its lock; leaving RUN ends acceptance */
static void set_state(struct dml_pci_dev *pdev, enum dml_tdisp_state s)
{
	if (s != DML_TDISP_RUN)
		atomic_store_explicit(&pdev->tdisp_accepted, false,
				      memory_order_release);
	atomic_store_explicit(&pdev->tdisp, (u8)s, memory_order_release);
}

static enum dml_tdisp_state get_state(const struct dml_pci_dev *pdev)
{
	return (enum dml_tdisp_state)atomic_load_explicit(&pdev->tdisp,
							  memory_order_acquire);
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
	return 0;
}

int dml_tsm_unbind(struct dml_pci_dev *pdev)
{
	int ret = 0;

	if (!has_tdi(pdev))
		return -EINVAL;
	dml_spin_lock(&pdev->tdisp_lock);
	if (get_state(pdev) == DML_TDISP_CONFIG_UNLOCKED) {
		ret = -EBUSY;
	} else {
		set_state(pdev, DML_TDISP_CONFIG_UNLOCKED);
		pdev->tvm = NULL;
	}
	dml_spin_unlock(&pdev->tdisp_lock);
	return ret;
}
