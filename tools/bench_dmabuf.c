/* SPDX-License-Identifier: MIT */
/*
 * bench_dmabuf.c - benchmark cases of dma-buf import on the emulated
 * platform, public API only: an SSD's BAR exported as 64 ranges of 4 KiB
 * (every other page) and imported by a NIC behind a VT-d unit, through
 * the host bridge, so every path links into one IOVA range.
 *
 *  - phys-vec-sgt-64 against iova-link-64: dma_buf_phys_vec_to_sgt +
 *    dma_buf_free_sgt of the 64 ranges against the bare two-step calls
 *    they make (64 dma_iova_link, one sync, one destroy): the sg table
 *    around them should be nearly free (goal: within 1.3x);
 *  - pal-import-64 against sgt-import-64: the importer maps the exporter's
 *    physical list itself with the two-step API, against the classic
 *    map_attachment of the same ranges;
 *  - rdma-remap-64 against pal-import-64: the library's RDMA importer
 *    (dmalink/dma-buf-importer.h) of the same buffer, invalidated and
 *    mapped again on its next lookup, against the hand-written PAL import
 *    (what the importer's bookkeeping costs);
 *  - revoke-1k against unmap-1k: 32 importers with 32 mappings each made,
 *    then dropped by one revoke (every importer unmaps in its callback)
 *    or by the importers unmapping one by one.
 *
 * Each thread builds its own machine, so threads share nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dmalink/dma-buf-importer.h>

#include "bench.h"

#define SSD_BAR		0xa00000000ULL
#define BAR_LEN		(1ULL << 20)
#define NR		64
#define NIMP		32
#define NMAP		32

struct db_imp {
	struct dma_buf_attachment *a;
	struct sg_table *sgt[NMAP];
	unsigned int n;
};

struct db_bench {
	struct dml_platform *p;
	struct dml_device *nic;
	struct p2pdma_provider *provider;
	struct phys_vec v[NR];
	struct dma_buf_phys_list list;
	struct dma_buf *buf;		/* the 64 ranges */
	struct dma_buf_attachment *sgt_a, *pal_a;
	struct dml_dma_buf_importer *rdma;
	struct dma_buf *one;		/* one page, for the 1k cases */
	struct db_imp imp[NIMP];
};

static int db_map(struct dma_buf_attachment *a, enum dma_data_direction dir,
		  struct sg_table **out)
{
	struct db_bench *b = a->dmabuf->priv;
	size_t nr = a->dmabuf == b->buf ? NR : 1;

	return dma_buf_phys_vec_to_sgt(a, b->provider, b->v, nr, nr * 4096,
				       dir, out);
}

static void db_unmap(struct dma_buf_attachment *a, struct sg_table *sgt,
		     enum dma_data_direction dir)
{
	dma_buf_free_sgt(a, sgt, dir);
}

static void db_release(struct dma_buf *dmabuf)
{
	(void)dmabuf;
}

static int db_match(struct dma_buf_attachment *a,
		    const enum dma_buf_mapping_type *imp, size_t imp_len)
{
	static const enum dma_buf_mapping_type mine[] = {
		DMA_BUF_MAPPING_PAL, DMA_BUF_MAPPING_SGT_P2P,
	};

	return dma_buf_match_mapping(a, imp, imp_len, mine, 2);
}

static int db_map_phys(struct dma_buf_attachment *a,
		       struct dma_buf_phys_list **out)
{
	struct db_bench *b = a->dmabuf->priv;

	b->list.provider = b->provider;
	b->list.length = NR * 4096;
	b->list.nr_ranges = NR;
	b->list.phys = b->v;
	*out = &b->list;
	return 0;
}

static const struct dma_buf_ops db_ops = {
	.map_dma_buf = db_map,
	.unmap_dma_buf = db_unmap,
	.release = db_release,
	.match_mapping = db_match,
	.map_phys = db_map_phys,
};

static void db_invalidate(struct dma_buf_attachment *a)
{
	struct db_imp *im = a->importer_priv;

	while (im->n)
		dma_buf_unmap_attachment(a, im->sgt[--im->n], DMA_TO_DEVICE);
}

static const struct dma_buf_attach_ops db_imp_ops = {
	.allow_peer2peer = true,
	.invalidate_mappings = db_invalidate,
};

static const enum dma_buf_mapping_type sgt_p2p[] = { DMA_BUF_MAPPING_SGT_P2P };
static const enum dma_buf_mapping_type pal[] = { DMA_BUF_MAPPING_PAL };

/* an SSD behind a whitelisted host bridge, a NIC behind a VT-d unit */
static int db_machine(struct db_bench *b)
{
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, cpu_family),
		.ram_size = 64ULL << 20,
		.cpu_vendor = DML_CPU_INTEL,
		.cpu_family = 6,
	};
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
	struct dml_pci_dev *hb, *rp0, *rp1, *ssd, *nicf;
	struct dml_iommu *iommu;
	int ret;

	ret = dml_platform_create_emu(&eo, &b->p);
	if (ret)
		return ret;
	ret = dml_pci_host_bridge_add(b->p, 0, 0, 0x8086, 0x2030, "hb", &hb);
	if (!ret)
		ret = dml_pci_dev_add(hb, DML_PCI_ROOT_PORT, PCI_DEVFN(1, 0),
				      0x8086, 0x2030, "rp0", &rp0);
	if (!ret)
		ret = dml_pci_dev_add(hb, DML_PCI_ROOT_PORT, PCI_DEVFN(2, 0),
				      0x8086, 0x2030, "rp1", &rp1);
	if (!ret)
		ret = dml_pci_dev_add(rp0, DML_PCI_ENDPOINT, 0, 0x144d, 0xa80a,
				      "ssd", &ssd);
	if (!ret)
		ret = dml_pci_dev_add(rp1, DML_PCI_ENDPOINT, 0, 0x15b3, 0x1021,
				      "nic", &nicf);
	if (!ret)
		ret = dml_pci_bar_add(ssd, 0, SSD_BAR, BAR_LEN, 0, 0);
	if (!ret)
		ret = pcim_p2pdma_init(ssd);
	if (!ret)
		ret = dml_iommu_create(b->p, NULL, &iommu);
	if (!ret) {
		o.iommu = iommu;
		o.name = "nic";
		o.pci_dev = nicf;
		ret = dml_device_create(b->p, &o, &b->nic);
	}
	if (!ret) {
		b->provider = pcim_p2pdma_provider(ssd, 0);
		ret = b->provider ? 0 : -ENODEV;
	}
	return ret;
}

static void db_thread_teardown(void *priv)
{
	struct db_bench *b = priv;
	unsigned int i;

	for (i = 0; i < NIMP; i++)
		if (b->imp[i].a)
			dma_buf_detach(b->one, b->imp[i].a);
	if (b->sgt_a)
		dma_buf_detach(b->buf, b->sgt_a);
	if (b->pal_a)
		dma_buf_detach(b->buf, b->pal_a);
	dml_dma_buf_importer_destroy(b->rdma);
	dma_buf_put(b->one);
	dma_buf_put(b->buf);
	dml_platform_destroy(b->p);
	free(b);
}

static int db_thread_setup(void *shared, unsigned int idx, void **priv)
{
	struct db_bench *b = calloc(1, sizeof(*b));
	struct dma_buf_export_info info = { .ops = &db_ops };
	unsigned int i;
	int ret;

	(void)shared;
	(void)idx;
	if (!b)
		return -ENOMEM;
	ret = db_machine(b);
	for (i = 0; i < NR; i++) {
		b->v[i].paddr = SSD_BAR + 2ULL * i * 4096;
		b->v[i].len = 4096;
	}
	info.priv = b;
	info.size = NR * 4096;
	if (!ret)
		ret = dma_buf_export(&info, &b->buf);
	info.size = 4096;
	if (!ret)
		ret = dma_buf_export(&info, &b->one);
	if (!ret)
		ret = dma_buf_mapping_attach(b->buf, b->nic, sgt_p2p, 1,
					     &db_imp_ops, &b->imp[0], &b->sgt_a);
	if (!ret)
		ret = dma_buf_mapping_attach(b->buf, b->nic, pal, 1,
					     &db_imp_ops, &b->imp[0], &b->pal_a);
	if (!ret)
		ret = dml_dma_buf_import(b->buf, b->nic,
					 DML_DMA_BUF_IMPORTER_RDMA_MR,
					 DMA_TO_DEVICE, &b->rdma);
	for (i = 0; !ret && i < NIMP; i++)
		ret = dma_buf_mapping_attach(b->one, b->nic, sgt_p2p, 1,
					     &db_imp_ops, &b->imp[i],
					     &b->imp[i].a);
	if (ret) {
		db_thread_teardown(b);
		return ret;
	}
	*priv = b;
	return 0;
}

static int run_iova_link_64(void *priv, unsigned long iters)
{
	struct db_bench *b = priv;
	struct dma_iova_state st;
	unsigned long it;
	unsigned int i;
	int ret;

	for (it = 0; it < iters; it++) {
		if (!dma_iova_try_alloc(b->nic, &st, 0, NR * 4096))
			return -ENOMEM;
		for (i = 0; i < NR; i++) {
			ret = dma_iova_link(b->nic, &st, b->v[i].paddr, i * 4096,
					    4096, DMA_TO_DEVICE, DMA_ATTR_MMIO);
			if (ret)
				return ret;
		}
		ret = dma_iova_sync(b->nic, &st, 0, NR * 4096);
		if (ret)
			return ret;
		dma_iova_destroy(b->nic, &st, NR * 4096, DMA_TO_DEVICE,
				 DMA_ATTR_MMIO);
	}
	return 0;
}

static int run_phys_vec_sgt_64(void *priv, unsigned long iters)
{
	struct db_bench *b = priv;
	struct sg_table *sgt;
	unsigned long it;
	int ret = 0;

	dma_resv_lock(b->buf->resv, NULL);
	for (it = 0; it < iters && !ret; it++) {
		ret = dma_buf_phys_vec_to_sgt(b->sgt_a, b->provider, b->v, NR,
					      NR * 4096, DMA_TO_DEVICE, &sgt);
		if (!ret)
			dma_buf_free_sgt(b->sgt_a, sgt, DMA_TO_DEVICE);
	}
	dma_resv_unlock(b->buf->resv);
	return ret;
}

static int run_sgt_import_64(void *priv, unsigned long iters)
{
	struct db_bench *b = priv;
	struct sg_table *sgt;
	unsigned long it;
	int ret;

	for (it = 0; it < iters; it++) {
		ret = dma_buf_map_attachment_unlocked(b->sgt_a, DMA_TO_DEVICE,
						      &sgt);
		if (ret)
			return ret;
		dml_bench_keep(sgt);
		dma_buf_unmap_attachment_unlocked(b->sgt_a, sgt, DMA_TO_DEVICE);
	}
	return 0;
}

static int run_pal_import_64(void *priv, unsigned long iters)
{
	struct db_bench *b = priv;
	struct dma_buf_phys_list *pl;
	struct dma_iova_state st;
	unsigned long it;
	size_t i, off;
	int ret;

	for (it = 0; it < iters; it++) {
		dma_resv_lock(b->buf->resv, NULL);
		ret = dma_buf_map_phys(b->pal_a, &pl);
		dma_resv_unlock(b->buf->resv);
		if (ret)
			return ret;
		if (!dma_iova_try_alloc(b->nic, &st, 0, pl->length))
			return -ENOMEM;
		for (i = 0, off = 0; i < pl->nr_ranges; i++) {
			ret = dma_iova_link(b->nic, &st, pl->phys[i].paddr, off,
					    pl->phys[i].len, DMA_TO_DEVICE,
					    DMA_ATTR_MMIO);
			if (ret)
				return ret;
			off += pl->phys[i].len;
		}
		ret = dma_iova_sync(b->nic, &st, 0, off);
		if (ret)
			return ret;
		dma_iova_destroy(b->nic, &st, off, DMA_TO_DEVICE, DMA_ATTR_MMIO);
		dma_resv_lock(b->buf->resv, NULL);
		dma_buf_unmap_phys(b->pal_a, pl);
		dma_resv_unlock(b->buf->resv);
	}
	return 0;
}

static int run_rdma_remap_64(void *priv, unsigned long iters)
{
	struct db_bench *b = priv;
	unsigned long it;
	dma_addr_t dma;
	u64 len;
	int ret;

	for (it = 0; it < iters; it++) {
		dma_resv_lock(b->buf->resv, NULL);
		dma_buf_invalidate_mappings(b->buf);
		dma_resv_unlock(b->buf->resv);
		ret = dml_dma_buf_importer_dma(b->rdma, 0, &dma, &len);
		if (ret)
			return ret;
		dml_bench_keep(&dma);
	}
	return 0;
}

/* every importer makes its NMAP mappings of the one-page buffer */
static int map_1k(struct db_bench *b)
{
	unsigned int i;
	int ret = 0;

	dma_resv_lock(b->one->resv, NULL);
	for (i = 0; i < NIMP && !ret; i++) {
		struct db_imp *im = &b->imp[i];

		while (im->n < NMAP && !ret) {
			ret = dma_buf_map_attachment(im->a, DMA_TO_DEVICE,
						     &im->sgt[im->n]);
			if (!ret)
				im->n++;
		}
	}
	dma_resv_unlock(b->one->resv);
	return ret;
}

static int run_unmap_1k(void *priv, unsigned long iters)
{
	struct db_bench *b = priv;
	unsigned long it;
	unsigned int i;
	int ret;

	for (it = 0; it < iters; it++) {
		ret = map_1k(b);
		if (ret)
			return ret;
		dma_resv_lock(b->one->resv, NULL);
		for (i = 0; i < NIMP; i++)
			db_invalidate(b->imp[i].a);
		dma_resv_unlock(b->one->resv);
	}
	return 0;
}

static int run_revoke_1k(void *priv, unsigned long iters)
{
	struct db_bench *b = priv;
	unsigned long it;
	int ret;

	for (it = 0; it < iters; it++) {
		ret = map_1k(b);
		if (!ret)
			ret = dml_dma_buf_revoke(b->one, MAX_SCHEDULE_TIMEOUT);
		if (!ret)
			ret = dml_dma_buf_unrevoke(b->one);
		if (ret)
			return ret;
	}
	return 0;
}

#define DB_CASE(nm, wh, bl, rn)						\
	{ .name = nm, .what = wh, .baseline = bl,			\
	  .thread_setup = db_thread_setup,				\
	  .thread_teardown = db_thread_teardown, .run = rn }

const struct dml_bench_case dml_bench_dmabuf_cases[] = {
	DB_CASE("iova-link-64", "64 dma_iova_link MMIO + sync + destroy (baseline)",
		NULL, run_iova_link_64),
	DB_CASE("phys-vec-sgt-64", "dma_buf_phys_vec_to_sgt + free_sgt, 64 ranges",
		"iova-link-64", run_phys_vec_sgt_64),
	DB_CASE("sgt-import-64", "map_attachment + unmap, SGT_P2P, 64 ranges",
		NULL, run_sgt_import_64),
	DB_CASE("pal-import-64", "map_phys + importer two-step, PAL, 64 ranges",
		"sgt-import-64", run_pal_import_64),
	DB_CASE("rdma-remap-64", "RDMA importer: invalidate + remap, 64 ranges",
		"pal-import-64", run_rdma_remap_64),
	DB_CASE("unmap-1k", "32 importers x 32 maps, then each unmaps (baseline)",
		NULL, run_unmap_1k),
	DB_CASE("revoke-1k", "32 importers x 32 maps, then one revoke",
		"unmap-1k", run_revoke_1k),
	{ .name = NULL }
};
