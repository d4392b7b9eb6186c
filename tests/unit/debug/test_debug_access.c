/* SPDX-License-Identifier: MIT */
/*
 * test_debug_access.c - the checker's access checks
 * (src/dma/debug/access.c): the CPU touching a buffer the device owns,
 * and the emulated device touching DMA addresses it was not given, not
 * linked or synced, or against the mapped direction.
 */
#include "checker.h"

/* ------------------------------------------------------------------ */
/* The CPU touching memory the device owns                             */
/* ------------------------------------------------------------------ */

/*
 * The CPU may not look at a DMA_FROM_DEVICE buffer while the device owns
 * it: before unmap or dma_sync_*_for_cpu, and again after
 * dma_sync_*_for_device.  TO_DEVICE and MMIO buffers are not checked.
 */
static void test_cpu_device_owned(void **state)
{
	struct fx *f = *state;
	const phys_addr_t bar = 0x800000000ULL;
	struct scatterlist sgl[2];
	struct dma_iova_state st;
	dma_addr_t a, b;

	a = map_ok(f, 0x40000000, 2 * G, DMA_FROM_DEVICE, 0);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40000100, 64));
	first_says("cpu touching an active dma mapped cacheline");
	take(DML_DMA_DEBUG_CPU_DEVICE_OWNED, 1);
	dml__dma_debug_sync_single(f->dev, a, 2 * G, DMA_FROM_DEVICE, true);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40000100, 64));
	none();
	dml__dma_debug_sync_single(f->dev, a, 2 * G, DMA_FROM_DEVICE, false);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40001000, 64));
	take(DML_DMA_DEBUG_CPU_DEVICE_OWNED, 1);
	dma_unmap_phys(f->dev, a, 2 * G, DMA_FROM_DEVICE, 0);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40000100, 64));
	none();

	/* TO_DEVICE: the CPU may read it */
	b = map_ok(f, 0x40010000, G, DMA_TO_DEVICE, 0);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40010000, G));
	dma_unmap_phys(f->dev, b, G, DMA_TO_DEVICE, 0);
	none();

	/* the second entry of a list */
	sg_init_table(sgl, 2);
	sg_set_phys(&sgl[0], 0x40020000, G);
	sg_set_phys(&sgl[1], 0x40030000, G);
	assert_true(dma_map_sg(f->dev, sgl, 2, DMA_FROM_DEVICE) > 0);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40030010, 16));
	take(DML_DMA_DEBUG_CPU_DEVICE_OWNED, 1);
	dma_unmap_sg(f->dev, sgl, 2, DMA_FROM_DEVICE);

	/* a link of a reservation */
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40040000, 0, G,
				       DMA_FROM_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, G), 0);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40040000, G));
	take(DML_DMA_DEBUG_CPU_DEVICE_OWNED, 1);
	dma_iova_destroy(f->dev, &st, G, DMA_FROM_DEVICE, 0);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40040000, G));

	/* MMIO: skipped */
	assert_int_equal(dml_mmio_add(f->p, bar, 1 << 20, "bar2"), 0);
	a = dma_map_resource(f->dev, bar, G, DMA_FROM_DEVICE, 0);
	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	assert_non_null(dml_kmap_local_phys(f->p, bar, G));
	dma_unmap_resource(f->dev, a, G, DMA_FROM_DEVICE, 0);
	none();
}

/* ------------------------------------------------------------------ */
/* The device touching memory                                          */
/* ------------------------------------------------------------------ */

static void test_device_access(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;
	u8 buf[64];
	dma_addr_t a;

	a = map_ok(f, 0x40000000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, 64), -EFAULT);
	first_says("device writes DMA memory mapped with DMA_TO_DEVICE");
	take(DML_DMA_DEBUG_DEV_WRONG_DIR, 1);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, 64), -EFAULT);
	first_says("device reads DMA memory it has not been given");
	take(DML_DMA_DEBUG_DEV_NOT_MAPPED, 1);

	a = map_ok(f, 0x40000000, G, DMA_FROM_DEVICE, 0);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, 64), -EFAULT);
	first_says("device reads DMA memory mapped with DMA_FROM_DEVICE");
	take(DML_DMA_DEBUG_DEV_WRONG_DIR, 1);
	/* reaching past the end of a mapping */
	assert_int_equal(dml_dev_dma_write(f->dev, a + G - 32, buf, 64), -EFAULT);
	take(DML_DMA_DEBUG_DEV_NOT_MAPPED, 1);
	dma_unmap_phys(f->dev, a, G, DMA_FROM_DEVICE, 0);

	/* reserved, linked, synced */
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 2 * G));
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, 64), -EFAULT);
	first_says("device reads reserved IOVA that is not linked");
	take(DML_DMA_DEBUG_DEV_NOT_LINKED, 1);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G,
				       DMA_BIDIRECTIONAL, 0), 0);
	/* strict VT-d without caching mode forgives this; the checker not */
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, 64), 0);
	first_says("device reads linked IOVA before dma_iova_sync");
	take(DML_DMA_DEBUG_DEV_NOT_SYNCED, 1);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, G), 0);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, 64), 0);
	assert_int_equal(dml_dev_dma_write(f->dev, st.addr, buf, 64), 0);
	none();
	dma_iova_destroy(f->dev, &st, G, DMA_BIDIRECTIONAL, 0);
}

/* dma-direct has no IOMMU to fault: the checker is the only witness */
static void test_device_access_direct(void **state)
{
	struct fx *f = *state;
	u8 buf[64];
	dma_addr_t a;

	assert_int_equal(dml_dev_dma_read(f->dev, 0x40000000, buf, 64), 0);
	take(DML_DMA_DEBUG_DEV_NOT_MAPPED, 1);
	a = map_ok(f, 0x40000000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, 64), 0);
	take(DML_DMA_DEBUG_DEV_WRONG_DIR, 1);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	none();
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_cpu_device_owned, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_device_access, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_device_access_direct, direct_setup, fx_teardown),
};

DML_TEST_MAIN(tests)
