/* SPDX-License-Identifier: MIT */
/*
 * test_cc_enforce.c - the emulated fabric's protection of a confidential
 * guest (issue 10 item 4, ref §7.5): a device that is not accepted never
 * moves a byte of private memory, a device that leaves RUN loses its
 * private mappings at once (its DMA faults, nothing moves), and without
 * an IOMMU an address whose encoding does not match the memory is
 * refused (SEV: the C-bit selects the key; TDX: the shared bit selects
 * the shared EPT, which does not map private pages).
 */
#include <dmalink/cc.h>
#include <string.h>

#include "testutil.h"

#define BUF	0x10000000ULL
#define LEN	0x2000ULL

struct fx {
	struct dml_platform *p;
	struct dml_pci_dev *ep;
	struct dml_tvm *tvm;
	struct dml_device *dev;
	u8 *buf;
};

static struct fx *fx_build(enum dml_cc_flavour flavour, bool iommu)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
	struct dml_pci_dev *hb;

	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(NULL, &f->p), 0);
	assert_int_equal(dml_cc_platform_init(f->p, flavour, 0), 0);
	assert_int_equal(dml_pci_host_bridge_add(f->p, 0, 0, 0, 0, NULL, &hb), 0);
	assert_int_equal(dml_pci_dev_add(hb, DML_PCI_ENDPOINT, 0x08, 0x15b3, 1, "nic", &f->ep), 0);
	o.pci_dev = f->ep;
	if (iommu)
		assert_int_equal(dml_iommu_create(f->p, NULL, &o.iommu), 0);
	assert_int_equal(dml_device_create(f->p, &o, &f->dev), 0);
	assert_int_equal(dml_tvm_create(f->p, &f->tvm), 0);
	f->buf = dml_kmap_local_phys(f->p, BUF, LEN);
	memset(f->buf, 0x5a, LEN);
	return f;
}

static void fx_free(struct fx *f)
{
	dml_tvm_destroy(f->tvm);
	dml_platform_destroy(f->p);
	free(f);
}

static void accept(struct fx *f)
{
	assert_int_equal(dml_tsm_bind(f->tvm, f->ep), 0);
	assert_int_equal(dml_tdisp_start(f->ep), 0);
	assert_int_equal(dml_tsm_accept(f->tvm, f->ep), 0);
}

static dma_addr_t map(struct fx *f, unsigned long attrs)
{
	dma_addr_t a = dma_map_phys(f->dev, BUF, LEN, DMA_BIDIRECTIONAL, attrs);

	assert_false(dma_mapping_error(f->dev, a));
	return a;
}

static bool untouched(struct fx *f)
{
	u64 i;

	for (i = 0; i < LEN; i++)
		if (f->buf[i] != 0x5a)
			return false;
	return true;
}

/* accepted: private DMA moves bytes; leaving RUN (error, stop) blocks it at once */
static void check_leave_run(enum dml_cc_flavour flavour, bool iommu, bool stop)
{
	struct fx *f = fx_build(flavour, iommu);
	u8 data[LEN], back[LEN];
	dma_addr_t a;

	memset(data, 0xee, LEN);
	accept(f);
	a = map(f, 0);
	assert_int_equal(dml_dev_dma_read(f->dev, a, back, LEN), 0);
	assert_int_equal(back[0], 0x5a);
	assert_int_equal(dml_dev_dma_write(f->dev, a, data, 64), 0);
	assert_int_equal(f->buf[0], 0xee);
	memset(f->buf, 0x5a, LEN);

	if (stop)
		assert_int_equal(dml_tsm_unbind(f->ep), 0);
	else
		assert_int_equal(dml_tdisp_error(f->ep), 0);
	assert_int_equal(dml_dev_dma_write(f->dev, a, data, LEN), -EFAULT);
	memset(back, 0, LEN);
	assert_int_equal(dml_dev_dma_read(f->dev, a, back, LEN), -EFAULT);
	assert_int_equal(back[0], 0);
	assert_true(untouched(f));
	dma_unmap_phys(f->dev, a, LEN, DMA_BIDIRECTIONAL, 0);
	fx_free(f);
}

static void test_sev_error_blocks(void **state)
{
	(void)state;
	check_leave_run(DML_CC_SEV, false, false);
}

static void test_tdx_stop_blocks(void **state)
{
	(void)state;
	check_leave_run(DML_CC_TDX, false, true);
}

static void test_iommu_error_blocks(void **state)
{
	(void)state;
	check_leave_run(DML_CC_SEV, true, false);
}

/* a false DMA_ATTR_CC_SHARED: the shared alias of private memory moves nothing */
static void check_shared_alias_of_private(enum dml_cc_flavour flavour, bool iommu)
{
	struct fx *f = fx_build(flavour, iommu);
	u8 data[64];
	dma_addr_t a;

	memset(data, 0xee, sizeof(data));
	a = map(f, DMA_ATTR_CC_SHARED);
	assert_int_equal(dml_dev_dma_write(f->dev, a, data, sizeof(data)), -EFAULT);
	assert_true(untouched(f));
	dma_unmap_phys(f->dev, a, LEN, DMA_BIDIRECTIONAL, DMA_ATTR_CC_SHARED);

	/* once shared, the same mapping moves bytes */
	assert_int_equal(set_memory_decrypted(f->p, BUF, (int)(LEN >> 12)), 0);
	a = map(f, DMA_ATTR_CC_SHARED);
	assert_int_equal(dml_dev_dma_write(f->dev, a, data, sizeof(data)), 0);
	assert_int_equal(f->buf[0], 0xee);
	dma_unmap_phys(f->dev, a, LEN, DMA_BIDIRECTIONAL, DMA_ATTR_CC_SHARED);
	fx_free(f);
}

static void test_sev_shared_alias_blocked(void **state)
{
	(void)state;
	check_shared_alias_of_private(DML_CC_SEV, false);
}

static void test_tdx_iommu_private_blocked(void **state)
{
	(void)state;
	check_shared_alias_of_private(DML_CC_TDX, true);
}

/* an accepted device's private alias of shared memory is refused too (no IOMMU) */
static void test_private_alias_of_shared(void **state)
{
	struct fx *f = fx_build(DML_CC_TDX, false);
	u8 data[64];
	dma_addr_t a;

	(void)state;
	memset(data, 0xee, sizeof(data));
	accept(f);
	assert_int_equal(set_memory_decrypted(f->p, BUF, (int)(LEN >> 12)), 0);
	memset(f->buf, 0x5a, LEN);
	a = map(f, 0);
	assert_int_equal(a, BUF);
	assert_int_equal(dml_dev_dma_write(f->dev, a, data, sizeof(data)), -EFAULT);
	assert_true(untouched(f));
	dma_unmap_phys(f->dev, a, LEN, DMA_BIDIRECTIONAL, 0);
	fx_free(f);
}

/* not accepted: the bounce buffer is shared, so DMA through it moves bytes */
static void test_bounce_moves(void **state)
{
	struct fx *f = fx_build(DML_CC_TDX, false);
	u8 data[64];
	dma_addr_t a;

	(void)state;
	memset(data, 0xee, sizeof(data));
	a = map(f, 0);
	assert_int_equal(dml_dev_dma_write(f->dev, a, data, sizeof(data)), 0);
	dma_unmap_phys(f->dev, a, LEN, DMA_BIDIRECTIONAL, 0);
	assert_int_equal(f->buf[0], 0xee);
	assert_int_equal(f->buf[64], 0x5a);
	fx_free(f);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_sev_error_blocks),
	cmocka_unit_test(test_tdx_stop_blocks),
	cmocka_unit_test(test_iommu_error_blocks),
	cmocka_unit_test(test_sev_shared_alias_blocked),
	cmocka_unit_test(test_tdx_iommu_private_blocked),
	cmocka_unit_test(test_private_alias_of_shared),
	cmocka_unit_test(test_bounce_moves),
};

DML_TEST_MAIN(tests)
