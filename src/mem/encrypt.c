/* SPDX-License-Identifier: MIT */
/*
 * encrypt.c - the memory of a confidential guest: which RAM pages are
 * private (encrypted) and which shared (decrypted), their conversion by
 * set_memory_decrypted() / set_memory_encrypted(), and the two DMA
 * address encodings (phys_to_dma_encrypted() / phys_to_dma_unencrypted()).
 *
 * State: one bit per 4 KiB RAM frame (dml_mem_region.shared), set when the
 * page is shared; all clear (private) when the platform becomes a guest
 * or a region is added to one.  MMIO counts as shared.  The encoding is
 * two masks of struct dml_mem: cc_enc (the SEV C-bit) or cc_dec (the TDX
 * shared bit), both 0 without encryption, so encoding is one AND and one
 * OR for everyone and the identity without encryption.
 *
 * Conversion scrubs: a page is zeroed before its bit says shared, so no
 * private byte is ever readable as shared (SEV would show ciphertext, TDX
 * hands back zeroed pages after TDG.MEM.PAGE.ACCEPT); a page becoming
 * private is zeroed after its bit is cleared.  Converting a page is a
 * caller's exclusive act, as in the kernel: concurrent conversions of the
 * same page are a caller bug; concurrent readers see either state.
 *
 * Private MMIO: the BARs of a device whose TDI is in TDISP RUN belong to
 * its TVM (src/pci/tdisp.c marks and unmarks them).  A region flag says
 * so, and a count of such regions lets dml_kmap_local_phys() skip the
 * lookup while there is none: the host's CPU mappings never reach them.
 */
#include "mem.h"

#include <dmalink/cc.h>
#include <string.h>

int dml__mem_cc_region(struct dml_mem_region *r)
{
	r->shared = dml__zalloc(DIV_ROUND_UP(r->size >> PAGE_SHIFT, 64) * 8);
	return r->shared ? 0 : -ENOMEM;
}

int dml__mem_cc_init(struct dml_mem *m, u64 enc, u64 dec)
{
	unsigned int i;
	int ret = 0;

	dml_spin_lock(&m->lock);
	if (dml__mem_cc(m)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	for (i = 0; i < m->nr; i++)
		if (m->r[i].base + m->r[i].size > (enc | dec)) {
			ret = -EINVAL;
			goto out_unlock;
		}
	for (i = 0; i < m->nr && !ret; i++)
		if (m->r[i].flags & DML_REGION_RAM)
			ret = dml__mem_cc_region(&m->r[i]);
	if (ret) {
		for (i = 0; i < m->nr; i++) {
			dml__free(m->r[i].shared);
			m->r[i].shared = NULL;
		}
		goto out_unlock;
	}
	m->cc_enc = enc;
	m->cc_dec = dec;
out_unlock:
	dml_spin_unlock(&m->lock);
	return ret;
}

static bool frame_shared(const struct dml_mem_region *r, u64 f)
{
	return atomic_load_explicit(&r->shared[f >> 6], memory_order_acquire) &
	       (1ULL << (f & 63));
}

bool dml__mem_cc_shared(struct dml_mem *m, phys_addr_t phys, u64 len)
{
	struct dml_mem_region *r = dml__mem_find(m, phys, len ? len : 1);
	u64 f, last;

	if (!r)
		return false;
	if (!dml__mem_cc(m))
		return true;
	if (!(r->flags & DML_REGION_RAM))
		return !atomic_load_explicit(&r->mmio_private, memory_order_acquire);
	last = (phys - r->base + (len ? len : 1) - 1) >> PAGE_SHIFT;
	for (f = (phys - r->base) >> PAGE_SHIFT; f <= last; f++)
		if (!frame_shared(r, f))
			return false;
	return true;
}

void dml__mem_mmio_set_private(struct dml_mem *m, phys_addr_t base, bool on)
{
	struct dml_mem_region *r = dml__mem_find(m, base, 1);

	if (!r || r->base != base || (r->flags & DML_REGION_RAM))
		return;
	if (atomic_exchange_explicit(&r->mmio_private, on,
				     memory_order_acq_rel) == on)
		return;
	if (on)
		atomic_fetch_add_explicit(&m->nr_mmio_private, 1,
					  memory_order_release);
	else
		atomic_fetch_sub_explicit(&m->nr_mmio_private, 1,
					  memory_order_release);
}

bool dml__mem_mmio_private_slow(struct dml_mem *m, phys_addr_t phys, u64 len)
{
	struct dml_mem_region *r = dml__mem_find(m, phys, len ? len : 1);

	return r && atomic_load_explicit(&r->mmio_private, memory_order_acquire);
}

/* convert [@phys, +@numpages pages) to shared (@shared) or private */
static int convert(struct dml_platform *p, phys_addr_t phys, int numpages,
		   bool shared)
{
	struct dml_mem_region *r;
	u64 f, first;

	if (!p || p->kind != DML_PLATFORM_EMU || numpages < 0 ||
	    !IS_ALIGNED(phys, PAGE_SIZE))
		return -EINVAL;
	if (!numpages || !dml__mem_cc(p->mem))
		return 0;
	r = dml__mem_find(p->mem, phys, (u64)numpages << PAGE_SHIFT);
	if (!r || !(r->flags & DML_REGION_RAM))
		return -EINVAL;
	first = (phys - r->base) >> PAGE_SHIFT;
	for (f = first; f < first + (u64)numpages; f++) {
		u64 bit = 1ULL << (f & 63);

		if (frame_shared(r, f) == shared)
			continue;
		if (shared) {
			memset(r->host + (f << PAGE_SHIFT), 0, PAGE_SIZE);
			atomic_fetch_or_explicit(&r->shared[f >> 6], bit,
						 memory_order_release);
		} else {
			atomic_fetch_and_explicit(&r->shared[f >> 6], ~bit,
						  memory_order_acq_rel);
			memset(r->host + (f << PAGE_SHIFT), 0, PAGE_SIZE);
		}
	}
	return 0;
}

/* ---- public ---- */

int set_memory_decrypted(struct dml_platform *p, phys_addr_t phys, int numpages)
{
	return convert(p, phys, numpages, true);
}

int set_memory_encrypted(struct dml_platform *p, phys_addr_t phys, int numpages)
{
	return convert(p, phys, numpages, false);
}

bool dml_cc_phys_shared(struct dml_platform *p, phys_addr_t phys, u64 len)
{
	if (!p || p->kind != DML_PLATFORM_EMU)
		return false;
	return dml__mem_cc_shared(p->mem, phys, len);
}

dma_addr_t phys_to_dma_unencrypted(struct dml_device *dev, phys_addr_t phys)
{
	if (!dev)
		return DMA_MAPPING_ERROR;
	if (dev->plat->kind != DML_PLATFORM_EMU)
		return (dma_addr_t)phys;
	return dml__cc_encode(dev->plat->mem, phys, true);
}

dma_addr_t phys_to_dma_encrypted(struct dml_device *dev, phys_addr_t phys)
{
	if (!dev)
		return DMA_MAPPING_ERROR;
	if (dev->plat->kind != DML_PLATFORM_EMU)
		return (dma_addr_t)phys;
	return dml__cc_encode(dev->plat->mem, phys, false);
}
