/* SPDX-License-Identifier: MIT */
/*
 * fault.c - the fault log of an emulated VT-d unit: a ring of the last 256
 * faults (requester id, IOVA, direction, reason) and the total ever logged,
 * as the unit's fault recording registers plus a counter.  The first few
 * faults are also printed, in the kernel's DMAR words, at info level; a
 * fault never stops anything but the access that caused it.
 * Locking: the log's spinlock; logging cannot fail.
 */
#include <inttypes.h>

#include "emu.h"

#define FAULTS_PRINTED 10

static const char *const reason_str[] = {
	[DML_FAULT_NOT_PRESENT] = "not present",
	[DML_FAULT_READ_DENIED] = "read denied",
	[DML_FAULT_WRITE_DENIED] = "write denied",
	[DML_FAULT_STALE_IOTLB] = "stale IOTLB entry",
	[DML_FAULT_BEYOND_MASK] = "beyond DMA mask",
	[DML_FAULT_NO_MEMORY] = "no memory",
};

const char *dml_fault_reason_str(enum dml_fault_reason r)
{
	if ((unsigned int)r >= ARRAY_SIZE(reason_str) || !reason_str[r])
		return "unknown";
	return reason_str[r];
}

/**
 * emu_fault_log - record a fault of @source_id at @iova
 * @iommu: unit
 * @source_id: requester id (bus << 8 | devfn)
 * @iova: the DMA address accessed
 * @write: a device write
 * @reason: why
 */
void emu_fault_log(struct dml_iommu *iommu, u16 source_id, u64 iova,
		   bool write, enum dml_fault_reason reason)
{
	struct emu_faultlog *log = &iommu->faults;
	struct dml_fault *f;
	bool print, last = false;

	dml_spin_lock(&log->lock);
	f = &log->ring[log->total % EMU_FAULT_LOG];
	f->source_id = source_id;
	f->addr = (dma_addr_t)iova;
	f->write = write;
	f->reason = reason;
	log->total++;
	print = log->printed < FAULTS_PRINTED;
	if (print)
		last = ++log->printed == FAULTS_PRINTED;
	dml_spin_unlock(&log->lock);
	if (print)
		dml__info("DMAR: [DMA %s] Request device [%02x:%02x.%d] fault addr %#" PRIx64 " [%s]%s",
			  write ? "Write" : "Read", source_id >> 8,
			  (source_id >> 3) & 0x1f, source_id & 7, iova,
			  dml_fault_reason_str(reason),
			  last ? " (further faults not printed)" : "");
}

u64 dml_iommu_fault_count(struct dml_iommu *iommu)
{
	u64 n;

	if (!iommu)
		return 0;
	dml_spin_lock(&iommu->faults.lock);
	n = iommu->faults.total;
	dml_spin_unlock(&iommu->faults.lock);
	return n;
}

int dml_iommu_fault_get(struct dml_iommu *iommu, u64 idx, struct dml_fault *f)
{
	struct emu_faultlog *log;
	u64 kept;
	int ret = -ENOENT;

	if (!iommu || !f)
		return -ENOENT;
	log = &iommu->faults;
	dml_spin_lock(&log->lock);
	kept = min(log->total, (u64)EMU_FAULT_LOG);
	if (idx < kept) {
		*f = log->ring[(log->total - kept + idx) % EMU_FAULT_LOG];
		ret = 0;
	}
	dml_spin_unlock(&log->lock);
	return ret;
}
