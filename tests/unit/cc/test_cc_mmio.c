/* SPDX-License-Identifier: MIT */
/*
 * test_cc_mmio.c - private MMIO in a confidential guest (issue 10 items 4
 * and 6, ref §7.5: "BARs of a TDISP device in RUN state belong to the
 * TVM; host must not CPU-map them"; the TDISP chapter of the PCIe 6.x
 * specification): while a device's interface is in RUN its BARs are
 * reached only by its TVM's CPU (dml_tvm_mmio_map()) and by peers
 * accepted into the same TVM; the host CPU mapping
 * (dml_kmap_local_phys()) gets none, and the checker reports the try.
 * Outside RUN the BAR is ordinary MMIO again.
 */
#include <dmalink/cc.h>
#include <dmalink/dma-buf.h>
#include <dmalink/dma-resv.h>
#include <dmalink/pci-p2pdma.h>
#include <dmalink/scatterlist.h>
#include <string.h>

#include "debug/checker.h"

/*
 * a GPU and a NIC below one switch without ACS (P2P by bus address), an
 * NVMe drive on another root port (P2P through the whitelisted host
 * bridge)
 */
static const char topo[] =
	"cpu intel 6\n"
	"host     hb0  0000:00  8086:2020\n"
	"rootport rp0  hb0  01.0  8086:2030\n"
	"rootport rp1  hb0  02.0  8086:2031\n"
	"switch   sw0  rp0  00.0  10b5:8747  2  acs=none\n"
	"endpoint gpu  sw0.d0  00.0  10de:20b0\n"
	"endpoint nic  sw0.d1  00.0  15b3:1021\n"
	"endpoint nvme rp1  00.0  144d:a808\n"
	"bar gpu 0 0x3000000000 1M offset=0x1000000000\n";

#define BAR	0x3000000000ULL
#define BUS	(BAR + 0x1000000000ULL)
#define SZ	(1ULL << 20)

struct mf {
	struct dml_platform *p;
	struct dml_pci_dev *gpu, *nic, *nvme;
	struct dml_device *nic_dev, *nvme_dev;
	struct dml_tvm *tvm, *other;
};

static struct mf *mf_build(enum dml_cc_flavour flavour)
{
	struct mf *f = calloc(1, sizeof(*f));
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
	char err[256];

	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(NULL, &f->p), 0);
	assert_int_equal(dml_cc_platform_init(f->p, flavour, 0), 0);
	assert_int_equal(dml_pci_topology_parse(f->p, topo, strlen(topo), "mmio",
						err, sizeof(err)), 0);
	f->gpu = dml_test_pci_find(f->p, "gpu");
	f->nic = dml_test_pci_find(f->p, "nic");
	f->nvme = dml_test_pci_find(f->p, "nvme");
	o.pci_dev = f->nic;
	assert_int_equal(dml_device_create(f->p, &o, &f->nic_dev), 0);
	o.pci_dev = f->nvme;
	assert_int_equal(dml_device_create(f->p, &o, &f->nvme_dev), 0);
	assert_int_equal(pcim_p2pdma_init(f->gpu), 0);
	assert_int_equal(dml_tvm_create(f->p, &f->tvm), 0);
	assert_int_equal(dml_tvm_create(f->p, &f->other), 0);
	return f;
}

static void mf_free(struct mf *f)
{
	dml_tvm_destroy(f->tvm);
	dml_tvm_destroy(f->other);
	dml_platform_destroy(f->p);
	free(f);
}

static void run(struct dml_tvm *tvm, struct dml_pci_dev *pdev, bool accept)
{
	assert_int_equal(dml_tsm_bind(tvm, pdev), 0);
	assert_int_equal(dml_tdisp_start(pdev), 0);
	if (accept)
		assert_int_equal(dml_tsm_accept(tvm, pdev), 0);
}

/*
 * The host CPU maps the BAR until its interface reaches RUN (CONFIG_LOCKED
 * still maps: the TVM has not started it), never while in RUN, and again
 * once an error took it out of RUN; each refused try is one
 * CC_PRIVATE_MMIO_CPU report.  The TVM's own mapping exists only while
 * the device is accepted, only for its own TVM, only within the BAR, and
 * is the same memory.
 */
static void test_cpu_mappings(void **state)
{
	struct mf *f = mf_build(DML_CC_TDX);
	u8 *host, *tvm;

	(void)state;
	host = dml_kmap_local_phys(f->p, BAR, SZ);
	assert_non_null(host);
	assert_null(dml_tvm_mmio_map(f->tvm, BAR, SZ));	/* not bound */
	assert_int_equal(dml_tsm_bind(f->tvm, f->gpu), 0);
	assert_non_null(dml_kmap_local_phys(f->p, BAR, SZ));
	assert_int_equal(dml_tdisp_start(f->gpu), 0);
	none();

	assert_null(dml_kmap_local_phys(f->p, BAR, SZ));
	assert_null(dml_kmap_local_phys(f->p, BAR + SZ - 1, 1));
	take(DML_DMA_DEBUG_CC_PRIVATE_MMIO_CPU, 2);
	assert_null(dml_tvm_mmio_map(f->tvm, BAR, SZ));	/* not accepted */
	assert_int_equal(dml_tsm_accept(f->tvm, f->gpu), 0);
	tvm = dml_tvm_mmio_map(f->tvm, BAR, SZ);
	assert_ptr_equal(tvm, host);
	assert_ptr_equal(dml_tvm_mmio_map(f->tvm, BAR + 0x1000, 0), host + 0x1000);
	assert_null(dml_tvm_mmio_map(f->other, BAR, SZ));	/* another TVM */
	assert_null(dml_tvm_mmio_map(f->tvm, BAR, SZ + 1));	/* past the BAR */
	assert_null(dml_tvm_mmio_map(f->tvm, 0x10000000, 4096));	/* RAM */
	assert_null(dml_tvm_mmio_map(NULL, BAR, SZ));
	memset(tvm, 0x5a, 64);
	/* RAM stays the host's, and reports nothing */
	assert_non_null(dml_kmap_local_phys(f->p, 0x10000000, 4096));
	none();

	assert_int_equal(dml_tdisp_error(f->gpu), 0);
	assert_null(dml_tvm_mmio_map(f->tvm, BAR, SZ));
	assert_ptr_equal(dml_kmap_local_phys(f->p, BAR, SZ), host);
	assert_int_equal(host[63], 0x5a);
	none();
	mf_free(f);
}

/*
 * the NIC reads 64 bytes of the GPU's BAR at its bus address in the
 * private (@enc) or shared encoding: 0 or -EFAULT
 */
static int peer_read(struct mf *f, u8 *got, bool enc)
{
	dma_addr_t a = enc ? phys_to_dma_encrypted(f->nic_dev, BUS) :
			     phys_to_dma_unencrypted(f->nic_dev, BUS);

	memset(got, 0, 64);
	return dml_dev_dma_read(f->nic_dev, a, got, 64);
}

/*
 * Peer DMA into private MMIO through the switch, without an IOMMU: once
 * the GPU is in RUN its BAR is private, so a NIC that is not accepted is
 * blocked (no byte moves), as is one accepted into another TVM; one
 * accepted into the GPU's TVM reads it.  The switch routes by bus
 * address, encryption bit stripped, and only the requester's acceptance
 * counts (TDISP's T bit), so both encodings behave alike.  Once the GPU
 * left RUN the BAR is shared MMIO again.
 */
static void check_peer(enum dml_cc_flavour flavour)
{
	struct mf *f = mf_build(flavour);
	u8 *host = dml_kmap_local_phys(f->p, BAR, SZ);
	u8 got[64];

	memset(host, 0x6b, 64);
	assert_int_equal(peer_read(f, got, false), 0);
	assert_int_equal(got[0], 0x6b);
	run(f->tvm, f->gpu, true);

	assert_int_equal(peer_read(f, got, false), -EFAULT);
	assert_int_equal(got[0], 0);
	assert_int_equal(peer_read(f, got, true), -EFAULT);
	run(f->other, f->nic, true);
	assert_int_equal(peer_read(f, got, true), -EFAULT);
	assert_int_equal(got[63], 0);
	assert_int_equal(dml_tsm_unbind(f->nic), 0);
	run(f->tvm, f->nic, false);			/* bound, in RUN, not accepted */
	assert_int_equal(peer_read(f, got, true), -EFAULT);
	assert_int_equal(dml_tsm_accept(f->tvm, f->nic), 0);
	assert_int_equal(peer_read(f, got, false), 0);
	assert_int_equal(got[0], 0x6b);
	assert_int_equal(peer_read(f, got, true), 0);
	assert_int_equal(got[63], 0x6b);

	assert_int_equal(dml_tsm_unbind(f->gpu), 0);
	assert_int_equal(peer_read(f, got, false), 0);
	assert_int_equal(got[0], 0x6b);
	assert_int_equal(dml_tsm_unbind(f->nic), 0);
	assert_int_equal(peer_read(f, got, false), 0);
	none();
	mf_free(f);
}

static void test_peer_sev(void **state)
{
	(void)state;
	check_peer(DML_CC_SEV);
}

static void test_peer_tdx(void **state)
{
	(void)state;
	check_peer(DML_CC_TDX);
}

/* the GPU BAR's map type for @dev */
static enum pci_p2pdma_map_type map_type(struct dml_device *dev)
{
	struct pci_p2pdma_map_state st = { 0 };

	return pci_p2pdma_state(&st, dev, BAR);
}

/* the NIC maps 64 KiB of the BAR with dma_map_sgtable() and reads it */
static int nic_sg_read(struct mf *f, u8 *got)
{
	struct sg_table sgt;
	int ret;

	assert_int_equal(sg_alloc_table(&sgt, 1), 0);
	sg_set_phys(sgt.sgl, BAR, 0x10000);
	ret = dma_map_sgtable(f->nic_dev, &sgt, DMA_TO_DEVICE, 0);
	if (!ret) {
		assert_true(sg_dma_is_bus_address(sgt.sgl));
		assert_int_equal(dml_dev_dma_read(f->nic_dev, sg_dma_address(sgt.sgl),
						  got, 64), 0);
		dma_unmap_sgtable(f->nic_dev, &sgt, DMA_TO_DEVICE, 0);
	}
	sg_free_table(&sgt);
	return ret;
}

/*
 * Private P2P: while the GPU is in RUN, P2P to its BAR is private, so
 * only clients accepted into its TVM get the path's map type (NIC below
 * the switch: BUS_ADDR; NVMe across the host bridge: THRU_HOST_BRIDGE,
 * mapped with DMA_ATTR_MMIO in the encrypted encoding and read through the
 * root complex); any other client gets NOT_SUPPORTED and its mapping
 * fails: dma_map_sg() with -EREMOTEIO (drivers/pci/p2pdma.c callers),
 * dma_map_phys() with DMA_MAPPING_ERROR, since MMIO cannot bounce through
 * shared memory.  Out of RUN the BAR is shared again and classified as
 * before (the refusal was never cached).
 */
static void check_p2p(enum dml_cc_flavour flavour)
{
	struct mf *f = mf_build(flavour);
	u8 *host = dml_kmap_local_phys(f->p, BAR, SZ), got[64];
	dma_addr_t a;

	memset(host, 0x71, 64);
	assert_int_equal(map_type(f->nic_dev), PCI_P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(map_type(f->nvme_dev), PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
	run(f->tvm, f->gpu, true);

	assert_int_equal(map_type(f->nic_dev), PCI_P2PDMA_MAP_NOT_SUPPORTED);
	assert_int_equal(map_type(f->nvme_dev), PCI_P2PDMA_MAP_NOT_SUPPORTED);
	assert_int_equal(nic_sg_read(f, got), -EREMOTEIO);
	a = dma_map_phys(f->nvme_dev, BAR, 64, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	assert_true(dma_mapping_error(f->nvme_dev, a));
	run(f->other, f->nic, true);
	assert_int_equal(map_type(f->nic_dev), PCI_P2PDMA_MAP_NOT_SUPPORTED);
	assert_int_equal(dml_tsm_unbind(f->nic), 0);

	run(f->tvm, f->nic, true);
	run(f->tvm, f->nvme, true);
	assert_int_equal(map_type(f->nic_dev), PCI_P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(map_type(f->nvme_dev), PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
	assert_int_equal(nic_sg_read(f, got), 0);
	assert_int_equal(got[63], 0x71);
	a = dma_map_phys(f->nvme_dev, BAR, 64, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	assert_false(dma_mapping_error(f->nvme_dev, a));
	assert_int_equal(a, phys_to_dma_encrypted(f->nvme_dev, BAR));
	memset(got, 0, sizeof(got));
	assert_int_equal(dml_dev_dma_read(f->nvme_dev, a, got, 64), 0);
	assert_int_equal(got[0], 0x71);
	dma_unmap_phys(f->nvme_dev, a, 64, DMA_TO_DEVICE, DMA_ATTR_MMIO);

	assert_int_equal(dml_tsm_unbind(f->gpu), 0);
	assert_int_equal(dml_tsm_unbind(f->nic), 0);
	assert_int_equal(dml_tsm_unbind(f->nvme), 0);
	assert_int_equal(map_type(f->nic_dev), PCI_P2PDMA_MAP_BUS_ADDR);
	a = dma_map_phys(f->nvme_dev, BAR, 64, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	assert_false(dma_mapping_error(f->nvme_dev, a));
	assert_int_equal(a, phys_to_dma_unencrypted(f->nvme_dev, BAR));
	assert_int_equal(dml_dev_dma_read(f->nvme_dev, a, got, 64), 0);
	dma_unmap_phys(f->nvme_dev, a, 64, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	none();
	mf_free(f);
}

static void test_p2p_sev(void **state)
{
	(void)state;
	check_p2p(DML_CC_SEV);
}

static void test_p2p_tdx(void **state)
{
	(void)state;
	check_p2p(DML_CC_TDX);
}

static void invalidate_nop(struct dma_buf_attachment *a)
{
	(void)a;
}

static const struct dma_buf_attach_ops revocable = {
	.allow_peer2peer = true,
	.invalidate_mappings = invalidate_nop,
};

/*
 * The dma-buf of the GPU's BAR (dml_pci_bar_dma_buf_export(), VFIO's
 * exporter): shared MMIO offers PAL and SGT_P2P, never PAL_PRIVATE; in RUN
 * it offers PAL_PRIVATE only, and only to the NIC once accepted into the
 * GPU's TVM (not before, not from another TVM): the physical ranges with
 * no sg table and no CPU mapping (host-unaccessible); once the GPU left
 * RUN that attachment maps nothing (-ENODEV).
 */
static void test_dmabuf_private(void **state)
{
	static const enum dma_buf_mapping_type all[] = {
		DMA_BUF_MAPPING_PAL, DMA_BUF_MAPPING_SGT_P2P,
		DMA_BUF_MAPPING_PAL_PRIVATE,
	};
	static const enum dma_buf_mapping_type shared[] = {
		DMA_BUF_MAPPING_PAL, DMA_BUF_MAPPING_SGT_P2P,
	};
	const struct dml_dma_buf_range r = { .offset = 0x1000, .length = 0x4000 };
	struct mf *f = mf_build(DML_CC_SEV);
	struct dma_buf_phys_list *list;
	struct dma_buf_attachment *a;
	struct dma_buf *buf;
	struct sg_table *sgt;
	void *va;

	(void)state;
	assert_int_equal(dml_pci_bar_dma_buf_export(f->gpu, 0, &r, 1, &buf), 0);
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, &all[2], 1,
						&revocable, NULL, &a), -EOPNOTSUPP);
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, all, 3,
						&revocable, NULL, &a), 0);
	assert_int_equal(a->map_type, DMA_BUF_MAPPING_PAL);
	dma_buf_detach(buf, a);

	run(f->tvm, f->gpu, true);
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, all, 3,
						&revocable, NULL, &a), -EOPNOTSUPP);
	run(f->other, f->nic, true);
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, all, 3,
						&revocable, NULL, &a), -EOPNOTSUPP);
	assert_int_equal(dml_tsm_unbind(f->nic), 0);
	run(f->tvm, f->nic, true);
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, shared, 2,
						&revocable, NULL, &a), -EOPNOTSUPP);
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, all, 3,
						&revocable, NULL, &a), 0);
	assert_int_equal(a->map_type, DMA_BUF_MAPPING_PAL_PRIVATE);
	assert_true(a->peer2peer);
	dma_resv_lock(buf->resv, NULL);
	assert_int_equal(dma_buf_map_phys(a, &list), 0);
	assert_int_equal(list->nr_ranges, 1);
	assert_int_equal(list->phys[0].paddr, BAR + 0x1000);
	assert_int_equal(list->phys[0].len, 0x4000);
	dma_buf_unmap_phys(a, list);
	assert_int_equal(dma_buf_map_attachment(a, DMA_TO_DEVICE, &sgt), -EINVAL);
	assert_int_not_equal(dma_buf_vmap(buf, &va), 0);
	dma_resv_unlock(buf->resv);
	/* leaving RUN revokes a buffer with private attachments (no resv held) */
	assert_false(dml_dma_buf_revoked(buf));
	assert_int_equal(dml_tdisp_error(f->gpu), 0);
	assert_true(dml_dma_buf_revoked(buf));
	dma_resv_lock(buf->resv, NULL);
	assert_int_equal(dma_buf_map_phys(a, &list), -ENODEV);
	dma_resv_unlock(buf->resv);
	/* re-entering RUN (new lock, accept) leaves it revoked */
	assert_int_equal(dml_tsm_unbind(f->gpu), 0);
	run(f->tvm, f->gpu, true);
	assert_true(dml_dma_buf_revoked(buf));
	assert_int_not_equal(dma_buf_mmap(buf, 0, 0x1000, &va), 0);
	dma_buf_detach(buf, a);
	dma_buf_put(buf);
	none();
	mf_free(f);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_dmabuf_private),
	cmocka_unit_test(test_p2p_sev),
	cmocka_unit_test(test_p2p_tdx),
	cmocka_unit_test(test_cpu_mappings),
	cmocka_unit_test(test_peer_sev),
	cmocka_unit_test(test_peer_tdx),
};

DML_TEST_MAIN(tests)
