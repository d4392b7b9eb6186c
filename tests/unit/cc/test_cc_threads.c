/* SPDX-License-Identifier: MIT */
/*
 * test_cc_threads.c - the acceptance state read by DMA while another
 * thread moves the device out of TDISP RUN (issue 10 item 4, ref §7.5:
 * "a device that leaves RUN loses all its private mappings at once"; the
 * TDISP chapter of the PCIe 6.x specification; pci-tsm.h).  Run under
 * ThreadSanitizer by the `threads` suite.
 *
 * Each round an accepted dma-direct device maps a private buffer (the
 * encrypted encoding, no bounce) and a DMA thread reads and writes it in
 * a loop while the main thread takes the device out of RUN (an error, or
 * a stop).  Every DMA either moves all its bytes or is blocked with
 * -EFAULT and moves none; a DMA that starts after the transition
 * returned is always blocked; once one is blocked, none succeeds again.
 * The host's CPU view of the buffer only ever holds what a successful
 * write put there.
 */
#include <dmalink/cc.h>
#include <pthread.h>
#include <string.h>

#include "debug/checker.h"

#define BUF	0x10000000ULL
#define LEN	4096ULL
#define ROUNDS	16

struct race {
	struct dml_platform *p;
	struct dml_pci_dev *ep;
	struct dml_device *dev;
	dma_addr_t addr;
	atomic_bool left;		/* the transition out of RUN returned */
	atomic_bool go;
	unsigned int after_ok;		/* DMAs that moved bytes after "left" */
	unsigned int ok_after_block;	/* DMAs that moved bytes after a block */
	unsigned int torn;		/* a blocked read that moved bytes */
	unsigned int blocked;
};

static void *dma_thread(void *arg)
{
	struct race *r = arg;
	u8 got[LEN], pat[LEN];
	bool seen_block = false;
	unsigned int i, after = 0;

	memset(pat, 0x3d, sizeof(pat));
	while (!atomic_load(&r->go))
		;
	/* until 64 DMAs started after the transition returned */
	for (i = 0; after < 64; i++) {
		bool left = atomic_load_explicit(&r->left, memory_order_acquire);
		int ret;

		memset(got, 0, sizeof(got));
		ret = (i & 1) ? dml_dev_dma_write(r->dev, r->addr, pat, LEN) :
				dml_dev_dma_read(r->dev, r->addr, got, LEN);
		if (ret) {
			seen_block = true;
			r->blocked++;
			if (!(i & 1) && got[0] | got[LEN - 1])
				r->torn++;
		} else {
			r->after_ok += left;
			r->ok_after_block += seen_block;
		}
		after += left;
	}
	return NULL;
}

static void race_round(struct dml_tvm *tvm, struct race *r, bool stop)
{
	u8 *cpu = dml_kmap_local_phys(r->p, BUF, LEN);
	pthread_t t;
	unsigned int i;

	assert_int_equal(dml_tsm_bind(tvm, r->ep), 0);
	assert_int_equal(dml_tdisp_start(r->ep), 0);
	assert_int_equal(dml_tsm_accept(tvm, r->ep), 0);
	memset(cpu, 0x3d, LEN);
	r->addr = dma_map_phys(r->dev, BUF, LEN, DMA_BIDIRECTIONAL, 0);
	assert_false(dma_mapping_error(r->dev, r->addr));
	assert_int_equal(r->addr, phys_to_dma_encrypted(r->dev, BUF));
	atomic_store(&r->left, false);
	atomic_store(&r->go, false);
	r->after_ok = r->ok_after_block = r->torn = r->blocked = 0;
	assert_int_equal(pthread_create(&t, NULL, dma_thread, r), 0);
	atomic_store(&r->go, true);
	for (i = 0; i < 200; i++)
		assert_true(dml_tsm_accepted(r->dev));
	if (stop)
		assert_int_equal(dml_tsm_unbind(r->ep), 0);
	else
		assert_int_equal(dml_tdisp_error(r->ep), 0);
	atomic_store_explicit(&r->left, true, memory_order_release);
	assert_int_equal(pthread_join(t, NULL), 0);

	assert_false(dml_tsm_accepted(r->dev));
	assert_int_equal(r->after_ok, 0);
	assert_int_equal(r->ok_after_block, 0);
	assert_int_equal(r->torn, 0);
	assert_true(r->blocked > 0);
	/* the private buffer holds only what the device was allowed to write */
	for (i = 0; i < LEN; i++)
		assert_int_equal(cpu[i], 0x3d);
	dma_unmap_phys(r->dev, r->addr, LEN, DMA_BIDIRECTIONAL, 0);
	/* the mapping was made in RUN and unmapped after: one report */
	take(DML_DMA_DEBUG_CC_LEFT_RUN, 1);
	if (!stop)
		assert_int_equal(dml_tsm_unbind(r->ep), 0);
}

static void check_race(enum dml_cc_flavour flavour)
{
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
	struct race r = { 0 };
	struct dml_pci_dev *hb;
	struct dml_tvm *tvm;
	int k;

	assert_int_equal(dml_platform_create_emu(NULL, &r.p), 0);
	assert_int_equal(dml_cc_platform_init(r.p, flavour, 0), 0);
	assert_int_equal(dml_pci_host_bridge_add(r.p, 0, 0, 0, 0, NULL, &hb), 0);
	assert_int_equal(dml_pci_dev_add(hb, DML_PCI_ENDPOINT, 0x08, 0x15b3, 1,
					 "nic", &r.ep), 0);
	o.pci_dev = r.ep;
	assert_int_equal(dml_device_create(r.p, &o, &r.dev), 0);
	assert_int_equal(dml_tvm_create(r.p, &tvm), 0);
	dml_test_log_reset();
	for (k = 0; k < ROUNDS; k++)
		race_round(tvm, &r, k & 1);
	dml_tvm_destroy(tvm);
	dml_platform_destroy(r.p);
}

static void test_leave_run_sev(void **state)
{
	(void)state;
	check_race(DML_CC_SEV);
}

static void test_leave_run_tdx(void **state)
{
	(void)state;
	check_race(DML_CC_TDX);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_leave_run_sev),
	cmocka_unit_test(test_leave_run_tdx),
};

DML_TEST_MAIN(tests)
