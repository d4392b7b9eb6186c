/* SPDX-License-Identifier: MIT */
/*
 * test_debug_iova.c - the checker's two-step state machine
 * (src/dma/debug/iova.c): states never allocated or freed, links that
 * overlap, leave the reservation or break the merge boundary, unlinks
 * and destroys that split links, and frees with links outstanding.
 */
#include "checker.h"

/* ------------------------------------------------------------------ */
/* The two-step API                                                    */
/* ------------------------------------------------------------------ */

static void test_iova_bad_state(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st = { 0 }, junk = { .addr = 0x12340000, .__size = G };

	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G, DMA_TO_DEVICE, 0),
			 -EINVAL);
	take(DML_DMA_DEBUG_IOVA_BAD_STATE, 1);
	/* a state nobody allocated (sync changes nothing in the backend) */
	dma_iova_sync(f->dev, &junk, 0, G);
	first_says("with an IOVA state it has not allocated");
	take(DML_DMA_DEBUG_IOVA_BAD_STATE, 1);
	/* a zeroed state freed or destroyed with nothing linked: fine */
	dma_iova_free(f->dev, &st);
	dma_iova_destroy(f->dev, &st, 0, DMA_TO_DEVICE, 0);
	none();
}

/*
 * dma_iova_free() and dma_iova_destroy() zero the caller's state, so a
 * later call with it is refused (-EINVAL) and, the checker knowing where
 * the state is kept, reported as the use after free it is; a copy kept
 * elsewhere (in a request that was duplicated, say) still names the freed
 * IOVA: the checker refuses the call too, and it changes nothing.
 */
static void test_iova_use_after_free(void **state)
{
	struct fx *f = *state;
	struct dml_domain *d = f->dev->domain;
	struct dma_iova_state st, copy, again;
	u64 faults;
	u8 b[8];

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 4 * G));
	copy = st;
	dma_iova_free(f->dev, &st);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, G), -EINVAL);
	first_says("dma_iova_sync with an IOVA state after it was freed");
	take(DML_DMA_DEBUG_IOVA_USE_AFTER_FREE, 1);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G,
				       DMA_TO_DEVICE, 0), -EINVAL);
	first_says("dma_iova_link with an IOVA state after it was freed");
	take(DML_DMA_DEBUG_IOVA_USE_AFTER_FREE, 1);
	dma_iova_free(f->dev, &st);	/* twice */
	take(DML_DMA_DEBUG_IOVA_USE_AFTER_FREE, 1);

	/* the stale copy: refused, nothing linked into the freed IOVA */
	assert_int_equal(dma_iova_link(f->dev, &copy, 0x40000000, 0, G,
				       DMA_TO_DEVICE, 0), -EINVAL);
	first_says("dma_iova_link with an IOVA state after it was freed");
	take(DML_DMA_DEBUG_IOVA_USE_AFTER_FREE, 1);
	assert_int_equal(d->ops->iova_to_phys(d, (dml_iova_t)copy.addr), 0);
	assert_int_equal(dma_iova_sync(f->dev, &copy, 0, G), -EINVAL);
	assert_int_equal(dma_iova_unlink(f->dev, &copy, 0, G, DMA_TO_DEVICE, 0),
			 -EINVAL);
	dma_iova_destroy(f->dev, &copy, G, DMA_TO_DEVICE, 0);
	dma_iova_free(f->dev, &copy);
	take(DML_DMA_DEBUG_IOVA_USE_AFTER_FREE, 4);
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 0);
	faults = fx_faults(f);
	assert_int_not_equal(dml_dev_dma_read(f->dev, copy.addr, b, sizeof(b)), 0);
	assert_int_equal(fx_faults(f), faults + 1);
	take(DML_DMA_DEBUG_DEV_NOT_MAPPED, 1);

	/* the state filled again is a valid state */
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 2 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G,
				       DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, G), 0);
	copy = st;
	/* destroy as well */
	dma_iova_destroy(f->dev, &st, G, DMA_TO_DEVICE, 0);
	dma_iova_sync(f->dev, &copy, 0, G);
	take(DML_DMA_DEBUG_IOVA_USE_AFTER_FREE, 1);
	dma_iova_destroy(f->dev, &st, G, DMA_TO_DEVICE, 0);
	take(DML_DMA_DEBUG_IOVA_USE_AFTER_FREE, 1);
	/* the IOVA handed out again is a new, valid state */
	assert_true(dma_iova_try_alloc(f->dev, &again, 0, 2 * G));
	assert_int_equal(dma_iova_sync(f->dev, &again, 0, G), 0);
	dma_iova_free(f->dev, &again);
	none();
}

/* a state zeroed by a failed dma_iova_try_alloc is no freed state */
static void test_iova_failed_alloc_is_not_freed(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, G));
	dma_iova_free(f->dev, &st);
	assert_false(dma_iova_try_alloc(f->dev, &st, 0, 0));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G,
				       DMA_TO_DEVICE, 0), -EINVAL);
	first_says("with a state dma_iova_try_alloc did not fill");
	take(DML_DMA_DEBUG_IOVA_BAD_STATE, 1);
}

/* a link, sync or unlink of 0 bytes says so, and changes nothing */
static void test_iova_zero_bytes(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 2 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 0,
				       DMA_TO_DEVICE, 0), -EINVAL);
	first_says("device driver links zero bytes of IOVA");
	take(DML_DMA_DEBUG_IOVA_LINK_OUTSIDE, 1);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G,
				       DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, 0), -EINVAL);
	first_says("device driver syncs zero bytes of IOVA");
	take(DML_DMA_DEBUG_IOVA_SYNC_OUTSIDE, 1);
	assert_int_equal(dma_iova_unlink(f->dev, &st, 0, 0, DMA_TO_DEVICE, 0),
			 -EINVAL);
	first_says("dma_iova_unlink of zero bytes of IOVA");
	take(DML_DMA_DEBUG_IOVA_NOT_LINKED, 1);
	dma_iova_destroy(f->dev, &st, G, DMA_TO_DEVICE, 0);
	none();
}

static void test_iova_link_overlap_outside(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 4 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 2 * G,
				       DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x50000000, G, 2 * G,
				       DMA_TO_DEVICE, 0), -EEXIST);
	first_says("device driver links IOVA over an offset already linked");
	take(DML_DMA_DEBUG_IOVA_LINK_OVERLAP, 1);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x50000000, 3 * G, 2 * G,
				       DMA_TO_DEVICE, 0), -EINVAL);
	first_says("device driver links IOVA outside the reserved size");
	take(DML_DMA_DEBUG_IOVA_LINK_OUTSIDE, 1);
	assert_int_equal(dma_iova_sync(f->dev, &st, 2 * G, 4 * G), -EINVAL);
	first_says("device driver syncs IOVA outside the reserved size");
	take(DML_DMA_DEBUG_IOVA_SYNC_OUTSIDE, 1);
	/* the refused calls left the tracking as the backend: one link */
	dma_iova_destroy(f->dev, &st, 2 * G, DMA_TO_DEVICE, 0);
	none();
}

static void test_iova_link_align(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 4 * G));
	/* ref §9.4: an unaligned phys may only be linked at offset 0 */
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000010, G, G,
				       DMA_TO_DEVICE, 0), -EIO);
	first_says("links an unaligned physical address at a non-zero offset");
	take(DML_DMA_DEBUG_IOVA_LINK_ALIGN, 1);
	/* a link other than the first off the merge boundary */
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 1000,
				       DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40002000, 1000, G,
				       DMA_TO_DEVICE, 0), -EINVAL);
	first_says("links IOVA off the merge boundary");
	take(DML_DMA_DEBUG_IOVA_LINK_ALIGN, 1);
	dma_iova_destroy(f->dev, &st, 1000, DMA_TO_DEVICE, 0);
	none();
}

static void test_iova_unlink_checks(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 8 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 4 * G,
				       DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40100000, 4 * G, 2 * G,
				       DMA_TO_DEVICE, 0), 0);
	/* a hole */
	assert_int_equal(dma_iova_unlink(f->dev, &st, 6 * G, 2 * G,
					 DMA_TO_DEVICE, 0), -ENOENT);
	first_says("dma_iova_unlink of IOVA that is not linked");
	take(DML_DMA_DEBUG_IOVA_NOT_LINKED, 1);
	/* part of a link */
	assert_int_equal(dma_iova_unlink(f->dev, &st, G, 2 * G, DMA_TO_DEVICE, 0),
			 -ENOENT);
	first_says("dma_iova_unlink of IOVA that splits a link");
	take(DML_DMA_DEBUG_IOVA_SPLIT, 1);
	/* the other direction */
	assert_int_equal(dma_iova_unlink(f->dev, &st, 4 * G, 2 * G,
					 DMA_FROM_DEVICE, 0), 0);
	first_says("[linked with DMA_TO_DEVICE] [unlinked with DMA_FROM_DEVICE]");
	take(DML_DMA_DEBUG_IOVA_WRONG_DIR, 1);
	/* and unlinked twice */
	assert_int_equal(dma_iova_unlink(f->dev, &st, 4 * G, 2 * G,
					 DMA_TO_DEVICE, 0), -ENOENT);
	take(DML_DMA_DEBUG_IOVA_NOT_LINKED, 1);
	dma_iova_destroy(f->dev, &st, 4 * G, DMA_TO_DEVICE, 0);
	none();
}

/* ref §9.10: free with links outstanding, and a destroy that misses some */
static void test_9_10_free_linked(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 4 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G, DMA_TO_DEVICE, 0), 0);
	dma_iova_free(f->dev, &st);
	first_says("dma_iova_free of IOVA with links outstanding");
	take(DML_DMA_DEBUG_IOVA_FREE_LINKED, 1);
	/* the backend kept the reservation, and so does the checker */
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40100000, 2 * G, G,
				       DMA_TO_DEVICE, 0), 0);
	dma_iova_destroy(f->dev, &st, G, DMA_TO_DEVICE, 0);
	first_says("links outstanding beyond mapped_len");
	take(DML_DMA_DEBUG_IOVA_FREE_LINKED, 1);
	/* destroy(0) with links is a free with links */
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G, DMA_TO_DEVICE, 0), 0);
	dma_iova_destroy(f->dev, &st, 0, DMA_TO_DEVICE, 0);
	take(DML_DMA_DEBUG_IOVA_FREE_LINKED, 1);
	dma_iova_destroy(f->dev, &st, G, DMA_TO_DEVICE, 0);
	none();
}

/* a destroy the backend refuses (not whole links) changes nothing */
static void test_iova_destroy_refused(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 4 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 4 * G,
				       DMA_TO_DEVICE, 0), 0);
	dma_iova_destroy(f->dev, &st, 2 * G, DMA_TO_DEVICE, 0);
	take(DML_DMA_DEBUG_IOVA_SPLIT, 1);
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 2);
	dma_iova_destroy(f->dev, &st, 4 * G, DMA_TO_DEVICE, 0);
	none();
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_iova_bad_state, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_iova_failed_alloc_is_not_freed,
					fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_iova_zero_bytes, fx_setup,
					fx_teardown),
	cmocka_unit_test_setup_teardown(test_iova_use_after_free, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_iova_link_overlap_outside, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_iova_link_align, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_iova_unlink_checks, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_10_free_linked, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_iova_destroy_refused, fx_setup, fx_teardown),
};

DML_TEST_MAIN(tests)
