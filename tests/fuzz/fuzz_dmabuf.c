/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dmabuf.c - libFuzzer harness for the dma-buf API: a BAR exporter
 * of up to four ranges (chosen by the input, valid or not) and up to four
 * importers that attach with any mix of mapping types, map, let the
 * device read, unmap, map physical lists, detach, and a revoke or
 * re-enable between any two steps.  Every call must succeed or return an
 * error; a mapping the core handed out must let the device read the
 * exporter's bytes until it is dropped; revoke must finish at once (these
 * importers unmap in their callback); nothing may crash or leak.
 * Build: meson setup with CC=clang (tests/fuzz/meson.build builds it);
 * run: build-fuzz/tests/fuzz/fuzz_dmabuf tests/fuzz/corpus/fuzz_dmabuf
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dmalink/dma-buf.h>

#include "fuzz.h"

#define SSD_BAR	0xa00000000ULL
#define BAR_LEN	(1ULL << 20)
#define NIMP	4

struct exp {
	struct p2pdma_provider *provider;
	struct phys_vec v[4];
	size_t nr, size;
	struct dma_buf_phys_list list;
};

struct imp {
	struct dma_buf_attachment *a;
	struct sg_table *sgt;
};

static int exp_map(struct dma_buf_attachment *a, enum dma_data_direction dir,
		   struct sg_table **out)
{
	struct exp *e = a->dmabuf->priv;

	return dma_buf_phys_vec_to_sgt(a, e->provider, e->v, e->nr, e->size,
				       dir, out);
}

static void exp_unmap(struct dma_buf_attachment *a, struct sg_table *sgt,
		      enum dma_data_direction dir)
{
	dma_buf_free_sgt(a, sgt, dir);
}

static void exp_release(struct dma_buf *dmabuf)
{
	(void)dmabuf;
}

static int exp_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *a)
{
	(void)dmabuf;
	return a->peer2peer && dma_buf_attach_revocable(a) ? 0 : -EOPNOTSUPP;
}

static int exp_match(struct dma_buf_attachment *a,
		     const enum dma_buf_mapping_type *imp, size_t imp_len)
{
	static const enum dma_buf_mapping_type mine[] = {
		DMA_BUF_MAPPING_PAL, DMA_BUF_MAPPING_SGT_P2P,
	};

	return dma_buf_match_mapping(a, imp, imp_len, mine, 2);
}

static int exp_map_phys(struct dma_buf_attachment *a,
			struct dma_buf_phys_list **out)
{
	struct exp *e = a->dmabuf->priv;

	e->list.provider = e->provider;
	e->list.length = e->size;
	e->list.nr_ranges = e->nr;
	e->list.phys = e->v;
	*out = &e->list;
	return 0;
}

static const struct dma_buf_ops exp_ops = {
	.attach = exp_attach,
	.map_dma_buf = exp_map,
	.unmap_dma_buf = exp_unmap,
	.release = exp_release,
	.match_mapping = exp_match,
	.map_phys = exp_map_phys,
};

static void imp_invalidate(struct dma_buf_attachment *a)
{
	struct imp *im = a->importer_priv;

	if (im->sgt)
		dma_buf_unmap_attachment(a, im->sgt, DMA_TO_DEVICE);
	im->sgt = NULL;
}

static const struct dma_buf_attach_ops imp_ops[2] = {
	{ .allow_peer2peer = true, .invalidate_mappings = imp_invalidate },
	{ .allow_peer2peer = false, .invalidate_mappings = NULL },
};

/* the machine: an SSD's BAR behind a whitelisted host bridge, a NIC */
static int build(struct dml_platform **pp, struct dml_device **nic,
		 struct p2pdma_provider **provider)
{
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, cpu_family),
		.ram_size = 2ULL << 20,
		.swiotlb_off = true,
		.cpu_vendor = DML_CPU_INTEL,
		.cpu_family = 6,
	};
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
	struct dml_pci_dev *hb, *rp0, *rp1, *ssd, *nicf;
	struct dml_iommu *iommu;
	struct dml_platform *p;

	if (dml_platform_create_emu(&eo, &p))
		return -1;
	if (dml_pci_host_bridge_add(p, 0, 0, 0x8086, 0x2030, "hb", &hb) ||
	    dml_pci_dev_add(hb, DML_PCI_ROOT_PORT, PCI_DEVFN(1, 0), 0x8086,
			    0x2030, "rp0", &rp0) ||
	    dml_pci_dev_add(hb, DML_PCI_ROOT_PORT, PCI_DEVFN(2, 0), 0x8086,
			    0x2030, "rp1", &rp1) ||
	    dml_pci_dev_add(rp0, DML_PCI_ENDPOINT, 0, 0x144d, 0xa80a, "ssd",
			    &ssd) ||
	    dml_pci_dev_add(rp1, DML_PCI_ENDPOINT, 0, 0x15b3, 0x1021, "nic",
			    &nicf) ||
	    dml_pci_bar_add(ssd, 0, SSD_BAR, BAR_LEN, 0, 0) ||
	    pcim_p2pdma_init(ssd) || dml_iommu_create(p, NULL, &iommu))
		abort();
	o.iommu = iommu;
	o.name = "nic";
	o.pci_dev = nicf;
	if (dml_device_create(p, &o, nic))
		abort();
	*provider = pcim_p2pdma_provider(ssd, 0);
	*pp = p;
	return 0;
}

/* a live mapping lets the device read the first range's first bytes */
static void check_read(struct dml_platform *p, struct dml_device *nic,
		       const struct exp *e, const struct sg_table *sgt)
{
	size_t n = e->v[0].len < 64 ? e->v[0].len : 64;
	u8 got[64];
	const u8 *want = dml_kmap_local_phys(p, e->v[0].paddr, n);

	if (dml_dev_dma_read(nic, sg_dma_address(sgt->sgl), got, n) ||
	    memcmp(got, want, n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dma_buf_mapping_type all[] = {
		DMA_BUF_MAPPING_SGT, DMA_BUF_MAPPING_SGT_P2P,
		DMA_BUF_MAPPING_PAL,
	};
	struct dma_buf_export_info info = { .ops = &exp_ops };
	struct imp imps[NIMP] = { 0 };
	struct dma_buf_phys_list *pl;
	struct dml_platform *p;
	struct dml_device *nic;
	struct dma_buf *buf;
	struct exp e = { 0 };
	size_t i, pos = 0;

	dml_set_log(fuzz_quiet, NULL);
	if (size < 1 || build(&p, &nic, &e.provider))
		return 0;
	/* the ranges: page offsets and lengths from the input, any of them */
	e.nr = 1 + (data[pos++] & 3);
	for (i = 0; i < e.nr; i++) {
		u8 off = pos < size ? data[pos++] : 0;
		u8 len = pos < size ? data[pos++] : 1;

		e.v[i].paddr = SSD_BAR + (u64)off * 4096;
		e.v[i].len = (size_t)(len & 63) * 4096;
		e.size += e.v[i].len;
	}
	memset(dml_kmap_local_phys(p, SSD_BAR, BAR_LEN), 0x5a, 64);
	for (i = 0; i < 4; i++)
		((u8 *)dml_kmap_local_phys(p, SSD_BAR, BAR_LEN))[i * 4096 + 1] = (u8)i;
	info.size = e.size;
	info.priv = &e;
	if (dma_buf_export(&info, &buf)) {
		dml_platform_destroy(p);
		return 0;
	}
	while (pos + 1 < size) {
		u8 op = data[pos++], arg = data[pos++];
		struct imp *im = &imps[arg % NIMP];

		switch (op % 8) {
		case 0:	/* attach with 1..3 types from the input */
			if (!im->a) {
				size_t first = (arg >> 6) % 3;

				dma_buf_mapping_attach(buf, nic, all + first,
						       1 + (arg >> 4) % (3 - first),
						       &imp_ops[(arg >> 3) & 1],
						       im, &im->a);
			}
			break;
		case 1:
			if (im->a && !im->sgt &&
			    !dma_buf_map_attachment_unlocked(im->a, DMA_TO_DEVICE,
							     &im->sgt) &&
			    im->sgt->nents != 1)
				abort();	/* IOVA: one entry */
			break;
		case 2:
			if (im->sgt)
				dma_buf_unmap_attachment_unlocked(im->a, im->sgt,
								  DMA_TO_DEVICE);
			im->sgt = NULL;
			break;
		case 3:
			if (im->sgt)
				check_read(p, nic, &e, im->sgt);
			break;
		case 4:
			if (dml_dma_buf_revoke(buf, 0))
				abort();
			break;
		case 5:
			dml_dma_buf_unrevoke(buf);
			break;
		case 6:
			if (!im->a)
				break;
			if (im->sgt)
				dma_buf_unmap_attachment_unlocked(im->a, im->sgt,
								  DMA_TO_DEVICE);
			dma_buf_detach(buf, im->a);
			memset(im, 0, sizeof(*im));
			break;
		case 7:
			if (!im->a)
				break;
			dma_resv_lock(buf->resv, NULL);
			if (!dma_buf_map_phys(im->a, &pl))
				dma_buf_unmap_phys(im->a, pl);
			dma_resv_unlock(buf->resv);
			break;
		}
	}
	for (i = 0; i < NIMP; i++) {
		if (imps[i].sgt)
			dma_buf_unmap_attachment_unlocked(imps[i].a, imps[i].sgt,
							  DMA_TO_DEVICE);
		if (imps[i].a)
			dma_buf_detach(buf, imps[i].a);
	}
	dma_buf_put(buf);
	dml_platform_destroy(p);
	return 0;
}
