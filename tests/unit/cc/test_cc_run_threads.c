/* SPDX-License-Identifier: MIT */
/*
 * test_cc_run_threads.c - an importer's DMA into a private BAR while
 * another thread moves the BAR's function out of TDISP RUN and back
 * (issue 10 items 4 and 5, ref §7.4 revoke and §7.5; the TDISP chapter
 * of the PCIe 6.x specification: an error, a stop or a configuration
 * change such as memory decode takes a TDI out of RUN; VFIO's
 * vfio_pci_dma_buf_move() for decode).  Run under ThreadSanitizer by the
 * `threads` suite.
 *
 * The importer thread, as a peer driver would: under the buffer's
 * reservation lock it maps the private BAR (PAL_PRIVATE, two-step) when
 * it can and DMAs through the mapping; outside the lock it also DMAs to
 * the last address it had, which may be gone by then.  The control
 * thread, never holding the reservation lock (dml_tdisp_error() and
 * decode off revoke, which takes it): error, stop, decode off and on
 * while locked or unlocked, then bind, start and accept again.
 *
 * Each DMA is 64 bytes inside one page, one piece for the fabric, so it
 * must move all its bytes or none: the importer keeps a shadow of the
 * BAR range, updated on every write that returned 0, and checks every
 * read that returned 0 against it and every failed read for untouched
 * bytes; at the end the BAR must equal the shadow byte for byte.  The
 * only checker reports allowed are DMA to an address no longer mapped.
 */
#include <pthread.h>
#include <sched.h>

#include "fixture_run.h"

#define ROUNDS	24
#define PIECE	64

struct race {
	struct run_fx *f;
	struct run_imp imp;
	atomic_bool done;
	atomic_uint iters;		/* importer loops completed */
	u8 shadow[RUN_LEN];
	unsigned int moved, blocked, bad;
};

/* one DMA of @iter's pattern (a write, or a read) at @addr, checked */
static void dma_once(struct race *r, dma_addr_t addr, u64 off, unsigned int iter)
{
	struct dml_device *dev = r->f->nvme_dev;
	u8 buf[PIECE];

	if (iter & 1) {
		memset(buf, (u8)(iter | 1), sizeof(buf));
		if (dml_dev_dma_write(dev, addr + off, buf, sizeof(buf))) {
			r->blocked++;
			return;
		}
		memcpy(r->shadow + off, buf, sizeof(buf));
	} else {
		memset(buf, 0xee, sizeof(buf));
		if (dml_dev_dma_read(dev, addr + off, buf, sizeof(buf))) {
			r->blocked++;
			if (buf[0] != 0xee || buf[PIECE - 1] != 0xee)
				r->bad++;	/* a blocked read moved bytes */
			return;
		}
		if (memcmp(buf, r->shadow + off, sizeof(buf)))
			r->bad++;
	}
	r->moved++;
}

static void *importer(void *arg)
{
	struct race *r = arg;
	struct dma_resv *resv = r->f->buf->resv;
	dma_addr_t last = 0;
	unsigned int i;

	for (i = 0; !atomic_load(&r->done); i++) {
		u64 off = (u64)(i * 7 % (RUN_LEN / PAGE_SIZE)) * PAGE_SIZE +
			  (i * PIECE) % (PAGE_SIZE - PIECE + 1);

		dma_resv_lock(resv, NULL);
		if (!run_imp_map_locked(&r->imp)) {
			last = r->imp.st.addr;
			dma_once(r, last, off, i);
		}
		dma_resv_unlock(resv);
		if (last)	/* the stale address: mapped still, or not */
			dma_once(r, last, off, i + 1);
		atomic_fetch_add(&r->iters, 1);
	}
	return NULL;
}

/* let the importer loop twice in the state just set (progress, not time) */
static void settle(struct race *r)
{
	unsigned int from = atomic_load(&r->iters);

	while (atomic_load(&r->iters) < from + 2)
		sched_yield();
}

/* one round out of RUN and back; the buffer given back by decode on */
static void round_trip(struct race *r, unsigned int n)
{
	struct run_fx *f = r->f;

	switch (n % 3) {
	case 0:		/* an error, then decode off and on while unlocked */
		assert_int_equal(dml_tdisp_error(f->gpu), 0);
		settle(r);
		assert_int_equal(dml_tsm_unbind(f->gpu), 0);
		break;
	case 1:		/* a stop */
		assert_int_equal(dml_tsm_unbind(f->gpu), 0);
		break;
	default:	/* decode off in RUN: ERROR, revoked; then a stop */
		assert_int_equal(dml_pci_set_memory_decode(f->gpu, false), 0);
		assert_int_equal(dml_tdisp_state(f->gpu), DML_TDISP_ERROR);
		settle(r);
		assert_int_equal(dml_tsm_unbind(f->gpu), 0);
		break;
	}
	settle(r);
	if (n % 3 != 2)
		assert_int_equal(dml_pci_set_memory_decode(f->gpu, false), 0);
	settle(r);
	assert_int_equal(dml_pci_set_memory_decode(f->gpu, true), 0);
	settle(r);
	assert_int_equal(dml_tdisp_state(f->gpu), DML_TDISP_CONFIG_UNLOCKED);
	run_accept(f, f->gpu);
	settle(r);
}

static void run_race(enum dml_cc_flavour flavour)
{
	struct race *r = calloc(1, sizeof(*r));
	const u8 *bar;
	pthread_t t;
	unsigned int n;

	assert_non_null(r);
	r->f = run_fx_build(flavour);
	assert_int_equal(run_imp_attach(r->f, &r->imp), 0);
	assert_int_equal(pthread_create(&t, NULL, importer, r), 0);
	for (n = 0; n < ROUNDS; n++)
		round_trip(r, n);
	atomic_store(&r->done, true);
	assert_int_equal(pthread_join(t, NULL), 0);

	/* back in RUN and given back: one more DMA must move its bytes */
	r->moved = r->blocked = 0;
	assert_int_equal(run_imp_map(&r->imp), 0);
	dma_once(r, r->imp.st.addr, 0, 1);
	dma_once(r, r->imp.st.addr, 0, 2);
	assert_int_equal(r->moved, 2);
	assert_int_equal(r->bad, 0);
	assert_true(atomic_load(&r->imp.invalidations) >= ROUNDS);
	bar = dml_tvm_mmio_map(r->f->tvm, RUN_BAR + RUN_OFF, RUN_LEN);
	assert_non_null(bar);
	assert_int_equal(memcmp(bar, r->shadow, RUN_LEN), 0);
	run_imp_detach(&r->imp);

	assert_int_equal(dml_dma_debug_error_count(),
			 dml_dma_debug_category_count(DML_DMA_DEBUG_DEV_NOT_MAPPED));
	dml_dma_debug_clear_errors();
	run_fx_free(r->f);
	free(r);
}

static void test_sev_race(void **state)
{
	(void)state;
	run_race(DML_CC_SEV);
}

static void test_tdx_race(void **state)
{
	(void)state;
	run_race(DML_CC_TDX);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_sev_race),
	cmocka_unit_test(test_tdx_race),
};

DML_TEST_MAIN(tests)
