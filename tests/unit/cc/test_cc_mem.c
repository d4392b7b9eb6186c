/* SPDX-License-Identifier: MIT */
/*
 * test_cc_mem.c - the memory of a confidential guest (issue 10 item 1,
 * ref §7.5): the platform option with its bit position, both DMA address
 * encodings checked bit for bit (SEV C-bit: __sme_set()/__sme_clr() of
 * include/linux/mem_encrypt.h; TDX shared bit: cc_mkdec() of
 * arch/x86/coco/core.c), every RAM page private until
 * set_memory_decrypted(), conversion scrubbing, and bad input refused
 * with nothing changed.
 */
#include <dmalink/cc.h>
#include <string.h>

#include "testutil.h"

#define PHYS	0x12345000ULL

static struct dml_platform *emu(u64 ram_size)
{
	struct dml_emu_opts o = {
		.size = DML_SIZEOF(&o, ram_size),
		.ram_size = ram_size,
	};
	struct dml_platform *p;

	assert_int_equal(dml_platform_create_emu(&o, &p), 0);
	return p;
}

static struct dml_device *device(struct dml_platform *p)
{
	struct dml_device *dev;

	assert_int_equal(dml_device_create(p, NULL, &dev), 0);
	return dev;
}

/* fill [phys, +len) through the CPU with @c */
static void fill(struct dml_platform *p, phys_addr_t phys, u64 len, int c)
{
	memset(dml_kmap_local_phys(p, phys, len), c, len);
}

static bool all(struct dml_platform *p, phys_addr_t phys, u64 len, int c)
{
	const u8 *b = dml_kmap_local_phys(p, phys, len);
	u64 i;

	for (i = 0; i < len; i++)
		if (b[i] != c)
			return false;
	return true;
}

/* SEV: a private address has the C-bit set, a shared one has it clear */
static void test_sev_encoding(void **state)
{
	struct dml_platform *p = emu(0);
	struct dml_device *dev;

	(void)state;
	assert_int_equal(dml_cc_platform_init(p, DML_CC_SEV, 0), 0);
	assert_true(cc_platform_has(p, CC_ATTR_MEM_ENCRYPT));
	assert_true(cc_platform_has(p, CC_ATTR_GUEST_MEM_ENCRYPT));
	dev = device(p);
	assert_int_equal(phys_to_dma_encrypted(dev, PHYS), 0x0008000012345000ULL);
	assert_int_equal(phys_to_dma_unencrypted(dev, PHYS), 0x0000000012345000ULL);
	/* an address that already carries the bit is re-encoded, not doubled */
	assert_int_equal(phys_to_dma_unencrypted(dev, PHYS | 1ULL << 51), PHYS);
	dml_platform_destroy(p);

	/* the bit position is the platform's: a Rome-like C-bit 47 */
	p = emu(0);
	assert_int_equal(dml_cc_platform_init(p, DML_CC_SEV, 47), 0);
	dev = device(p);
	assert_int_equal(phys_to_dma_encrypted(dev, PHYS), 0x0000800012345000ULL);
	assert_int_equal(phys_to_dma_unencrypted(dev, PHYS), 0x0000000012345000ULL);
	dml_platform_destroy(p);
}

/* TDX: a shared address has the shared bit set, a private one has it clear */
static void test_tdx_encoding(void **state)
{
	struct dml_platform *p = emu(0);
	struct dml_device *dev;

	(void)state;
	assert_int_equal(dml_cc_platform_init(p, DML_CC_TDX, 0), 0);
	dev = device(p);
	assert_int_equal(phys_to_dma_encrypted(dev, PHYS), 0x0000000012345000ULL);
	assert_int_equal(phys_to_dma_unencrypted(dev, PHYS), 0x0000800012345000ULL);
	assert_int_equal(phys_to_dma_encrypted(dev, PHYS | 1ULL << 47), PHYS);
	dml_platform_destroy(p);

	/* GPAW 52: shared bit 51 */
	p = emu(0);
	assert_int_equal(dml_cc_platform_init(p, DML_CC_TDX, 51), 0);
	dev = device(p);
	assert_int_equal(phys_to_dma_encrypted(dev, PHYS), 0x0000000012345000ULL);
	assert_int_equal(phys_to_dma_unencrypted(dev, PHYS), 0x0008000012345000ULL);
	dml_platform_destroy(p);
}

/* without encryption both encodings are the physical address, nothing converts */
static void test_no_encryption(void **state)
{
	struct dml_platform *p = emu(0);
	struct dml_device *dev = device(p);

	(void)state;
	assert_false(cc_platform_has(p, CC_ATTR_MEM_ENCRYPT));
	assert_false(cc_platform_has(NULL, CC_ATTR_MEM_ENCRYPT));
	assert_int_equal(phys_to_dma_encrypted(dev, PHYS), PHYS);
	assert_int_equal(phys_to_dma_unencrypted(dev, PHYS), PHYS);
	assert_int_equal(phys_to_dma_encrypted(NULL, PHYS), DMA_MAPPING_ERROR);
	assert_int_equal(phys_to_dma_unencrypted(NULL, PHYS), DMA_MAPPING_ERROR);
	assert_true(dml_cc_phys_shared(p, PHYS, SZ_2M));
	/* set_memory_decrypted() returns 0 and changes nothing (no CC_ATTR_MEM_ENCRYPT) */
	fill(p, PHYS, PAGE_SIZE, 0xa5);
	assert_int_equal(set_memory_decrypted(p, PHYS, 1), 0);
	assert_int_equal(set_memory_encrypted(p, PHYS, 1), 0);
	assert_true(all(p, PHYS, PAGE_SIZE, 0xa5));
	dml_platform_destroy(p);
}

/* the option's refusals, each leaving the platform as it was */
static void test_init_refused(void **state)
{
	struct dml_platform *p = emu(0);

	(void)state;
	assert_int_equal(dml_cc_platform_init(NULL, DML_CC_SEV, 0), -EINVAL);
	assert_int_equal(dml_cc_platform_init(p, DML_CC_NONE, 0), -EINVAL);
	assert_int_equal(dml_cc_platform_init(p, 7, 0), -EINVAL);
	assert_int_equal(dml_cc_platform_init(p, DML_CC_SEV, 31), -EINVAL);
	assert_int_equal(dml_cc_platform_init(p, DML_CC_TDX, 63), -EINVAL);
	/* RAM above 4 GiB has addresses with bit 32 set: the bit would alias */
	assert_int_equal(dml_ram_add(p, 1ULL << 32, SZ_2M, 0), 0);
	assert_int_equal(dml_cc_platform_init(p, DML_CC_SEV, 32), -EINVAL);
	assert_false(cc_platform_has(p, CC_ATTR_MEM_ENCRYPT));
	assert_int_equal(dml_cc_platform_init(p, DML_CC_SEV, 33), 0);
	assert_int_equal(dml_cc_platform_init(p, DML_CC_TDX, 40), -EBUSY);
	/* a region added later must stay below the bit too */
	assert_int_equal(dml_ram_add(p, 1ULL << 33, SZ_2M, 0), -EINVAL);
	assert_int_equal(dml_mmio_add(p, (1ULL << 33) - SZ_4K, 2 * SZ_4K, "bar"), -EINVAL);
	/* one that does is private from the start */
	assert_int_equal(dml_ram_add(p, (1ULL << 32) + SZ_2M, SZ_2M, 0), 0);
	assert_false(dml_cc_phys_shared(p, (1ULL << 32) + SZ_2M, PAGE_SIZE));
	dml_platform_destroy(p);

	/* devices already use the old encoding */
	p = emu(0);
	device(p);
	assert_int_equal(dml_cc_platform_init(p, DML_CC_TDX, 0), -EBUSY);
	assert_false(cc_platform_has(p, CC_ATTR_GUEST_MEM_ENCRYPT));
	dml_platform_destroy(p);
}

/* every page starts private; conversion scrubs: no private byte readable as shared */
static void test_convert_scrubs(void **state)
{
	struct dml_platform *p = emu(0);

	(void)state;
	fill(p, PHYS, 4 * PAGE_SIZE, 0x5a);
	assert_int_equal(dml_cc_platform_init(p, DML_CC_SEV, 0), 0);
	assert_false(dml_cc_phys_shared(p, PHYS, 1));
	assert_false(dml_cc_phys_shared(p, 0, 1));

	assert_int_equal(set_memory_decrypted(p, PHYS + PAGE_SIZE, 2), 0);
	assert_false(dml_cc_phys_shared(p, PHYS, PAGE_SIZE));
	assert_true(dml_cc_phys_shared(p, PHYS + PAGE_SIZE, 2 * PAGE_SIZE));
	assert_false(dml_cc_phys_shared(p, PHYS + PAGE_SIZE, 3 * PAGE_SIZE));
	assert_false(dml_cc_phys_shared(p, PHYS + PAGE_SIZE - 1, 2));
	/* the converted pages are zeroed, their neighbours keep their bytes */
	assert_true(all(p, PHYS, PAGE_SIZE, 0x5a));
	assert_true(all(p, PHYS + PAGE_SIZE, 2 * PAGE_SIZE, 0));
	assert_true(all(p, PHYS + 3 * PAGE_SIZE, PAGE_SIZE, 0x5a));

	/* shared data written now survives a second decryption of its page */
	fill(p, PHYS + PAGE_SIZE, 2 * PAGE_SIZE, 0x33);
	assert_int_equal(set_memory_decrypted(p, PHYS, 3), 0);
	assert_true(all(p, PHYS, PAGE_SIZE, 0));
	assert_true(all(p, PHYS + PAGE_SIZE, 2 * PAGE_SIZE, 0x33));

	/* back to private: zeroed, and no longer shared */
	assert_int_equal(set_memory_encrypted(p, PHYS + PAGE_SIZE, 1), 0);
	assert_false(dml_cc_phys_shared(p, PHYS + PAGE_SIZE, 1));
	assert_true(all(p, PHYS + PAGE_SIZE, PAGE_SIZE, 0));
	assert_true(all(p, PHYS + 2 * PAGE_SIZE, PAGE_SIZE, 0x33));
	assert_true(dml_cc_phys_shared(p, PHYS + 2 * PAGE_SIZE, PAGE_SIZE));
	dml_platform_destroy(p);
}

/* bad input: -EINVAL, nothing converted, nothing scrubbed */
static void test_convert_refused(void **state)
{
	struct dml_platform *p = emu(0);
	u64 top = 4ULL << 30;

	(void)state;
	assert_int_equal(dml_mmio_add(p, 1ULL << 36, SZ_2M, "bar"), 0);
	assert_int_equal(dml_cc_platform_init(p, DML_CC_TDX, 0), 0);
	fill(p, PHYS, PAGE_SIZE, 0x77);
	fill(p, top - PAGE_SIZE, PAGE_SIZE, 0x77);

	assert_int_equal(set_memory_decrypted(NULL, PHYS, 1), -EINVAL);
	assert_int_equal(set_memory_decrypted(p, PHYS + 1, 1), -EINVAL);
	assert_int_equal(set_memory_decrypted(p, PHYS, -1), -EINVAL);
	assert_int_equal(set_memory_encrypted(p, PHYS + 8, 1), -EINVAL);
	/* past the end of RAM */
	assert_int_equal(set_memory_decrypted(p, top - PAGE_SIZE, 2), -EINVAL);
	/* MMIO is not RAM: it has no private/shared page state to convert */
	assert_int_equal(set_memory_decrypted(p, 1ULL << 36, 1), -EINVAL);
	assert_true(dml_cc_phys_shared(p, 1ULL << 36, SZ_2M));
	/* outside every region nothing is shared */
	assert_false(dml_cc_phys_shared(p, 1ULL << 40, 1));
	assert_false(dml_cc_phys_shared(NULL, PHYS, 1));

	assert_false(dml_cc_phys_shared(p, PHYS, 1));
	assert_false(dml_cc_phys_shared(p, top - PAGE_SIZE, 1));
	assert_true(all(p, PHYS, PAGE_SIZE, 0x77));
	assert_true(all(p, top - PAGE_SIZE, PAGE_SIZE, 0x77));
	/* zero pages: nothing to do */
	assert_int_equal(set_memory_decrypted(p, PHYS, 0), 0);
	assert_false(dml_cc_phys_shared(p, PHYS, 1));
	dml_platform_destroy(p);
}

/* an allocation failure while becoming a guest leaves a plain platform */
static void test_init_fail_nth(void **state)
{
	int n, ret;

	(void)state;
	for (n = 1; n < 50; n++) {
		struct dml_platform *p = emu(0);

		dml_fail_nth(n);
		ret = dml_cc_platform_init(p, DML_CC_SEV, 0);
		dml_fail_nth(0);
		if (!ret) {
			assert_true(cc_platform_has(p, CC_ATTR_MEM_ENCRYPT));
			dml_platform_destroy(p);
			return;
		}
		assert_int_equal(ret, -ENOMEM);
		assert_false(cc_platform_has(p, CC_ATTR_MEM_ENCRYPT));
		dml_platform_destroy(p);
	}
	fail_msg("never got through");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_sev_encoding),
	cmocka_unit_test(test_tdx_encoding),
	cmocka_unit_test(test_no_encryption),
	cmocka_unit_test(test_init_refused),
	cmocka_unit_test(test_convert_scrubs),
	cmocka_unit_test(test_convert_refused),
	cmocka_unit_test(test_init_fail_nth),
};

DML_TEST_MAIN(tests)
