/* SPDX-License-Identifier: MIT */
/*
 * access.c - the checks when memory is touched, which the kernel cannot
 * make: the emulated device accessing DMA addresses (mapped, linked,
 * synced, in the mapped direction), and the CPU mapping memory a device
 * owns (kernel/dma/debug.c: debug_dma_assert_idle(), the cacheline side)
 * or private MMIO (cc.c).
 */
#include "internal.h"

/* the entry containing @addr (any), or NULL; *@next: the next start */
static struct dbg_entry *entry_containing(struct dbg_dev *dd, u64 addr)
{
	size_t i = dml__rix_upper(&dd->dma, addr), k;

	k = dml__rix_prev_overlap(&dd->dma, &i, addr, addr + 1);
	return k == (size_t)-1 ? NULL : dd->dma.v[k].obj;
}

static bool dir_allows(enum dma_data_direction dir, bool write)
{
	return dir == DMA_BIDIRECTIONAL ||
	       (write ? dir == DMA_FROM_DEVICE : dir == DMA_TO_DEVICE);
}

static void report_wrong_dir(struct ctx *c, struct dbg_dev *dd,
			     const struct dbg_obj *o, u64 addr, u64 len,
			     bool write)
{
	dml__dbg_report(c, dd, DML_DMA_DEBUG_DEV_WRONG_DIR, &o->made, addr, len,
			NULL,
			"device %s DMA memory mapped with %s [device address=0x%016llx] [size=%llu bytes] [mapped as %s]",
			write ? "writes" : "reads", dml__dbg_dir_name(o->dir),
			(unsigned long long)addr, (unsigned long long)len,
			dml__dbg_type_name[o->type]);
}

void dml__dma_debug_dev_access(struct dml_device *dev, dma_addr_t addr,
			       size_t len, bool write)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	u64 at = (u64)addr, end = (u64)addr + len;

	if (!len)
		return;
	dd = dml__dbg_dev_get(dev);
	if (!dd)
		return;
	if (end < at)
		end = ~0ULL;
	while (at < end) {
		struct dbg_entry *e = entry_containing(dd, at);
		struct dbg_link *l;
		u64 off;

		if (!e) {
			if (dml__dbg_p2p_access(&c, dd, at, end - at, write))
				break;
			dml__dbg_report(&c, dd, DML_DMA_DEBUG_DEV_NOT_MAPPED,
					NULL, at, end - at, NULL,
					"device %s DMA memory it has not been given [device address=0x%016llx] [size=%llu bytes]",
					write ? "writes" : "reads",
					(unsigned long long)at,
					(unsigned long long)(end - at));
			break;
		}
		if (e->o.type != T_IOVA) {
			if (!dir_allows(e->o.dir, write)) {
				report_wrong_dir(&c, dd, &e->o, at, end - at,
						 write);
				break;
			}
			at = e->o.dev_addr + e->o.size;
			continue;
		}
		off = at - e->o.dev_addr;
		l = dml__dbg_link_at(e, off);
		if (!l) {
			dml__dbg_report(&c, dd, DML_DMA_DEBUG_DEV_NOT_LINKED,
					&e->o.made, at, end - at, NULL,
					"device %s reserved IOVA that is not linked [device address=0x%016llx] [iova address=0x%016llx] [offset=%llu]",
					write ? "writes" : "reads",
					(unsigned long long)at,
					(unsigned long long)e->o.dev_addr,
					(unsigned long long)off);
			break;
		}
		if (!l->synced) {
			dml__dbg_report(&c, dd, DML_DMA_DEBUG_DEV_NOT_SYNCED,
					&l->o.made, at, end - at, NULL,
					"device %s linked IOVA before dma_iova_sync [device address=0x%016llx] [link offset=%llu] [link size=%llu bytes]",
					write ? "writes" : "reads",
					(unsigned long long)at,
					(unsigned long long)l->off,
					(unsigned long long)l->o.size);
			break;
		}
		if (!dir_allows(l->o.dir, write)) {
			report_wrong_dir(&c, dd, &l->o, at, end - at, write);
			break;
		}
		at = l->o.dev_addr + l->o.size;
	}
	dml__dbg_unlock(&c);
}

void dml__dma_debug_cpu_access(struct dml_platform *p, phys_addr_t phys,
			       u64 len)
{
	struct ctx c = CTX_INIT;
	u64 a = (u64)phys, b = (u64)phys + (len ? len : 1);
	size_t i, k;

	dml__dbg_lock();
	dml__dbg_cc_cpu_access(&c, p, a, b - a);
	i = dml__rix_lower(&dml__dbg_phys_ix, b);
	while ((k = dml__rix_prev_overlap(&dml__dbg_phys_ix, &i, a, b)) !=
	       (size_t)-1) {
		struct dbg_obj *o = dml__dbg_phys_ix.v[k].obj;

		if (o->dd->plat != p || o->dir != DMA_FROM_DEVICE || o->cpu_owned)
			continue;
		dml__dbg_report(&c, o->dd, DML_DMA_DEBUG_CPU_DEVICE_OWNED,
				&o->made, a, b - a, NULL,
				"cpu touching an active dma mapped cacheline [cln=0x%llx] [phys=0x%016llx] [size=%llu bytes] of a buffer mapped with DMA_FROM_DEVICE [device address=0x%016llx] [mapped as %s] before unmap or dma_sync_*_for_cpu",
				(unsigned long long)(max(a, dml__dbg_phys_ix.v[k].start) / CACHELINE),
				(unsigned long long)a,
				(unsigned long long)(b - a),
				(unsigned long long)o->dev_addr,
				dml__dbg_type_name[o->type]);
		break;
	}
	dml__dbg_dmabuf_cpu_access(&c, p, a, b);
	dml__dbg_unlock(&c);
}

