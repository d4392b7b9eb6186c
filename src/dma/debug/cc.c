/* SPDX-License-Identifier: MIT */
/*
 * cc.c - the checker's confidential-computing reports: private memory
 * handed without bouncing to a device that is not accepted into its TVM,
 * a shared-encoded DMA address for private memory, and a mapping made
 * while the device was accepted used after it left TDISP RUN
 * (force_dma_unencrypted(), phys_to_dma_unencrypted() of
 * kernel/dma/direct.h, the proposed DMA_ATTR_CC_SHARED, pci-tsm.h), and
 * the host CPU mapping private MMIO (a BAR of a device in RUN).
 * The DMA hooks call here only for a device of a confidential guest
 * (dev->cc_guest), so other devices pay nothing more than that test.
 * Everything here runs with dml__dbg_mutex held.
 */
#include "internal.h"
#include "../../mem/mem.h"
#include "../../pci/pci.h"

static bool accepted(const struct dbg_dev *dd)
{
	return dml__dev_accepted(dd->dev);
}

void dml__dbg_cc_map(struct ctx *c, struct dbg_dev *dd, struct dbg_entry *e,
		     u64 phys, u64 len, unsigned long attrs)
{
	bool acc = accepted(dd);

	if (e)
		e->cc_accepted = acc;
	/* only DMA_ATTR_CC_SHARED skips the bounce of private memory */
	if (!len || !(attrs & DMA_ATTR_CC_SHARED) || (attrs & DMA_ATTR_MMIO) ||
	    dml__mem_cc_shared(dd->plat->mem, (phys_addr_t)phys, len))
		return;
	if (!acc)
		dml__dbg_report(c, dd, DML_DMA_DEBUG_CC_PRIVATE_UNACCEPTED,
				NULL, phys, len, NULL,
				"device driver hands private memory to a device not accepted into its TVM without bouncing [phys=0x%016llx] [len=%llu] (DMA_ATTR_CC_SHARED on memory set_memory_decrypted() never converted)",
				(unsigned long long)phys,
				(unsigned long long)len);
	else
		dml__dbg_report(c, dd, DML_DMA_DEBUG_CC_SHARED_ADDR_PRIVATE,
				NULL, phys, len, NULL,
				"device driver uses a shared-encoded DMA address for private memory [phys=0x%016llx] [len=%llu] (DMA_ATTR_CC_SHARED on an accepted device's private memory: phys_to_dma_unencrypted() of an encrypted page)",
				(unsigned long long)phys,
				(unsigned long long)len);
}

void dml__dbg_cc_use(struct ctx *c, struct dbg_dev *dd, struct dbg_entry *e,
		     const char *what)
{
	if (!e->cc_accepted || accepted(dd))
		return;
	e->cc_accepted = false;	/* one report per mapping */
	dml__dbg_report(c, dd, DML_DMA_DEBUG_CC_LEFT_RUN, &e->o.made,
			e->o.dev_addr, e->o.size, NULL,
			"device driver %s DMA memory mapped while the device was accepted, after it left TDISP RUN [device address=0x%016llx] [size=%llu bytes] (its private mappings are gone)",
			what, (unsigned long long)e->o.dev_addr,
			(unsigned long long)e->o.size);
}

void dml__dbg_cc_cpu_access(struct ctx *c, struct dml_platform *p, u64 phys,
			    u64 len)
{
	struct dml_pci_bar *bar;

	if (!dml__mem_mmio_private(p->mem, (phys_addr_t)phys, len))
		return;
	bar = dml__pci_bar_find(p, (phys_addr_t)phys);
	dml__dbg_report(c, bar && bar->pdev->dev ?
			dml__dbg_dev_find(bar->pdev->dev) : NULL,
			DML_DMA_DEBUG_CC_PRIVATE_MMIO_CPU, NULL, phys, len, NULL,
			"cpu maps private MMIO through a host mapping [phys=0x%016llx] [size=%llu bytes] (%s BAR%d, a device in TDISP RUN: only its TVM reaches it)",
			(unsigned long long)phys, (unsigned long long)len,
			bar ? bar->pdev->name : "?", bar ? bar->index : -1);
}
