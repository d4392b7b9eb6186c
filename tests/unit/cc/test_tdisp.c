/* SPDX-License-Identifier: MIT */
/*
 * test_tdisp.c - the TDISP state machine of a device interface (PCIe 6.x,
 * TDISP chapter) and the TSM binding it to a TVM (drivers/pci/tsm.c
 * pci_tsm_bind()/pci_tsm_unbind()), issue 10 item 2: every request in
 * every state, allowed ones moving to the specification's next state,
 * refused ones returning -EBUSY and changing nothing; acceptance only in
 * RUN and lost on leaving it.
 */
#include <dmalink/cc.h>

#include "testutil.h"

struct fx {
	struct dml_platform *p;
	struct dml_pci_dev *hb, *rp, *ep, *ep2;
	struct dml_tvm *tvm, *other;
	struct dml_device *dev;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };

	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(NULL, &f->p), 0);
	assert_int_equal(dml_cc_platform_init(f->p, DML_CC_TDX, 0), 0);
	assert_int_equal(dml_pci_host_bridge_add(f->p, 0, 0, 0, 0, NULL, &f->hb), 0);
	assert_int_equal(dml_pci_dev_add(f->hb, DML_PCI_ROOT_PORT, 0x08, 0x8086, 1, "rp", &f->rp), 0);
	assert_int_equal(dml_pci_dev_add(f->rp, DML_PCI_ENDPOINT, 0, 0x15b3, 2, "nic", &f->ep), 0);
	assert_int_equal(dml_pci_dev_add(f->hb, DML_PCI_ENDPOINT, 0x10, 0x144d, 3, "ssd", &f->ep2), 0);
	o.pci_dev = f->ep;
	assert_int_equal(dml_device_create(f->p, &o, &f->dev), 0);
	assert_int_equal(dml_tvm_create(f->p, &f->tvm), 0);
	assert_int_equal(dml_tvm_create(f->p, &f->other), 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	dml_tvm_destroy(f->tvm);
	dml_tvm_destroy(f->other);
	dml_platform_destroy(f->p);
	free(f);
	return 0;
}

/* bring f->ep from CONFIG_UNLOCKED to @s along allowed transitions */
static void drive(struct fx *f, enum dml_tdisp_state s)
{
	assert_int_equal(dml_tdisp_state(f->ep), DML_TDISP_CONFIG_UNLOCKED);
	if (s == DML_TDISP_CONFIG_UNLOCKED)
		return;
	assert_int_equal(dml_tsm_bind(f->tvm, f->ep), 0);
	if (s == DML_TDISP_RUN)
		assert_int_equal(dml_tdisp_start(f->ep), 0);
	if (s == DML_TDISP_ERROR)
		assert_int_equal(dml_tdisp_error(f->ep), 0);
	assert_int_equal(dml_tdisp_state(f->ep), s);
}

static const enum dml_tdisp_state all_states[] = {
	DML_TDISP_CONFIG_UNLOCKED, DML_TDISP_CONFIG_LOCKED,
	DML_TDISP_RUN, DML_TDISP_ERROR,
};

/* LOCK_INTERFACE (bind): only from CONFIG_UNLOCKED; never steals a bound TDI */
static void test_bind_each_state(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(all_states); i++) {
		enum dml_tdisp_state s = all_states[i];

		drive(f, s);
		if (s == DML_TDISP_CONFIG_UNLOCKED) {
			assert_int_equal(dml_tsm_bind(f->tvm, f->ep), 0);
			assert_int_equal(dml_tdisp_state(f->ep), DML_TDISP_CONFIG_LOCKED);
		} else {
			assert_int_equal(dml_tsm_bind(f->other, f->ep), -EBUSY);
			assert_int_equal(dml_tsm_bind(f->tvm, f->ep), -EBUSY);
			assert_int_equal(dml_tdisp_state(f->ep), s);
			/* still @tvm's: the other TVM cannot accept it */
			assert_int_equal(dml_tsm_accept(f->other, f->ep), -EINVAL);
		}
		assert_int_equal(dml_tsm_unbind(f->ep), 0);
	}
}

/* START_INTERFACE: only CONFIG_LOCKED -> RUN */
static void test_start_each_state(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(all_states); i++) {
		enum dml_tdisp_state s = all_states[i];

		drive(f, s);
		if (s == DML_TDISP_CONFIG_LOCKED) {
			assert_int_equal(dml_tdisp_start(f->ep), 0);
			assert_int_equal(dml_tdisp_state(f->ep), DML_TDISP_RUN);
		} else {
			assert_int_equal(dml_tdisp_start(f->ep), -EBUSY);
			assert_int_equal(dml_tdisp_state(f->ep), s);
		}
		if (s != DML_TDISP_CONFIG_UNLOCKED)
			assert_int_equal(dml_tsm_unbind(f->ep), 0);
	}
}

/* a configuration change or error: CONFIG_LOCKED and RUN go to ERROR, the others stay */
static void test_error_each_state(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(all_states); i++) {
		enum dml_tdisp_state s = all_states[i];
		bool locked = s == DML_TDISP_CONFIG_LOCKED || s == DML_TDISP_RUN;

		drive(f, s);
		assert_int_equal(dml_tdisp_error(f->ep), 0);
		assert_int_equal(dml_tdisp_state(f->ep), locked ? DML_TDISP_ERROR : s);
		if (s != DML_TDISP_CONFIG_UNLOCKED)
			assert_int_equal(dml_tsm_unbind(f->ep), 0);
	}
}

/*
 * TDISP: any change to the configuration of a locked TDI (CONFIG_LOCKED,
 * RUN) is an error: memory decode going off moves it to ERROR; other
 * states stay as they are
 */
static void test_decode_off_each_state(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(all_states); i++) {
		enum dml_tdisp_state s = all_states[i];
		bool locked = s == DML_TDISP_CONFIG_LOCKED || s == DML_TDISP_RUN;

		drive(f, s);
		assert_int_equal(dml_pci_set_memory_decode(f->ep, false), 0);
		assert_int_equal(dml_tdisp_state(f->ep), locked ? DML_TDISP_ERROR : s);
		assert_int_equal(dml_pci_set_memory_decode(f->ep, true), 0);
		if (s != DML_TDISP_CONFIG_UNLOCKED)
			assert_int_equal(dml_tsm_unbind(f->ep), 0);
	}
}

/* a decode "change" that changes nothing is no configuration change */
static void test_decode_off_unchanged(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dml_pci_set_memory_decode(f->ep, false), 0);
	drive(f, DML_TDISP_RUN);
	assert_int_equal(dml_pci_set_memory_decode(f->ep, false), 0);
	assert_int_equal(dml_tdisp_state(f->ep), DML_TDISP_RUN);
	assert_int_equal(dml_pci_set_memory_decode(f->ep, true), 0);
	assert_int_equal(dml_tdisp_state(f->ep), DML_TDISP_RUN);
	assert_int_equal(dml_pci_set_memory_decode(f->ep, false), 0);
	assert_int_equal(dml_tdisp_state(f->ep), DML_TDISP_ERROR);
}

/* TDISP: a BAR added to a locked TDI moves it to ERROR; a refused add does not */
static void test_bar_add_locked(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dml_tsm_bind(f->tvm, f->ep2), 0);
	assert_int_equal(dml_pci_bar_add(f->ep2, 7, 0x1000, 0x1000, 0,
					 DML_PCI_BAR_NO_MMIO), -EINVAL);
	assert_int_equal(dml_tdisp_state(f->ep2), DML_TDISP_CONFIG_LOCKED);
	assert_int_equal(dml_pci_bar_add(f->ep2, 1, 0x1000, 0x1000, 0,
					 DML_PCI_BAR_NO_MMIO), 0);
	assert_int_equal(dml_tdisp_state(f->ep2), DML_TDISP_ERROR);
	assert_int_equal(dml_tsm_unbind(f->ep2), 0);
	assert_int_equal(dml_pci_bar_add(f->ep2, 2, 0x2000, 0x1000, 0,
					 DML_PCI_BAR_NO_MMIO), 0);
	assert_int_equal(dml_tdisp_state(f->ep2), DML_TDISP_CONFIG_UNLOCKED);
}

/* STOP_INTERFACE (unbind): CONFIG_LOCKED, RUN, ERROR -> CONFIG_UNLOCKED */
static void test_stop_each_state(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(all_states); i++) {
		enum dml_tdisp_state s = all_states[i];

		drive(f, s);
		if (s == DML_TDISP_CONFIG_UNLOCKED) {
			assert_int_equal(dml_tsm_unbind(f->ep), -EBUSY);
		} else {
			assert_int_equal(dml_tsm_unbind(f->ep), 0);
			/* unbound: another TVM may bind it now */
			assert_int_equal(dml_tsm_bind(f->other, f->ep), 0);
			assert_int_equal(dml_tsm_unbind(f->ep), 0);
		}
		assert_int_equal(dml_tdisp_state(f->ep), DML_TDISP_CONFIG_UNLOCKED);
	}
}

/* acceptance: only in RUN, only by the bound TVM, lost on leaving RUN */
static void test_accept(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(all_states); i++) {
		enum dml_tdisp_state s = all_states[i];

		drive(f, s);
		if (s == DML_TDISP_RUN) {
			assert_int_equal(dml_tsm_accept(f->other, f->ep), -EINVAL);
			assert_false(dml_tsm_accepted(f->dev));
			assert_int_equal(dml_tsm_accept(f->tvm, f->ep), 0);
			assert_true(dml_tsm_accepted(f->dev));
		} else {
			assert_int_equal(dml_tsm_accept(f->tvm, f->ep),
					 s == DML_TDISP_CONFIG_UNLOCKED ? -EINVAL : -EBUSY);
			assert_false(dml_tsm_accepted(f->dev));
			assert_int_equal(dml_tdisp_state(f->ep), s);
		}
		if (s != DML_TDISP_CONFIG_UNLOCKED)
			assert_int_equal(dml_tsm_unbind(f->ep), 0);
		assert_false(dml_tsm_accepted(f->dev));
	}

	/* an error while running ends acceptance at once */
	drive(f, DML_TDISP_RUN);
	assert_int_equal(dml_tsm_accept(f->tvm, f->ep), 0);
	assert_int_equal(dml_tdisp_error(f->ep), 0);
	assert_false(dml_tsm_accepted(f->dev));
	assert_int_equal(dml_tsm_accept(f->tvm, f->ep), -EBUSY);
	/* a restart needs a new acceptance */
	assert_int_equal(dml_tsm_unbind(f->ep), 0);
	drive(f, DML_TDISP_RUN);
	assert_false(dml_tsm_accepted(f->dev));
	/* destroying the TVM stops and unbinds its devices */
	assert_int_equal(dml_tsm_accept(f->tvm, f->ep), 0);
	dml_tvm_destroy(f->tvm);
	f->tvm = NULL;
	assert_false(dml_tsm_accepted(f->dev));
	assert_int_equal(dml_tdisp_state(f->ep), DML_TDISP_CONFIG_UNLOCKED);
}

/* functions without a TDI, NULLs and another platform's TVM are refused */
static void test_bad_input(void **state)
{
	struct fx *f = *state;
	struct dml_platform *q;
	struct dml_tvm *foreign;

	assert_int_equal(dml_tsm_bind(f->tvm, f->rp), -EINVAL);
	assert_int_equal(dml_tsm_bind(f->tvm, f->hb), -EINVAL);
	assert_int_equal(dml_tdisp_start(f->rp), -EINVAL);
	assert_int_equal(dml_tdisp_error(f->rp), -EINVAL);
	assert_int_equal(dml_tsm_unbind(f->rp), -EINVAL);
	assert_int_equal(dml_tsm_accept(f->tvm, f->rp), -EINVAL);
	assert_int_equal(dml_tdisp_state(f->rp), DML_TDISP_CONFIG_UNLOCKED);
	assert_int_equal(dml_tdisp_state(NULL), DML_TDISP_CONFIG_UNLOCKED);
	assert_int_equal(dml_tsm_bind(NULL, f->ep), -EINVAL);
	assert_int_equal(dml_tsm_bind(f->tvm, NULL), -EINVAL);
	assert_int_equal(dml_tsm_accept(NULL, f->ep), -EINVAL);
	assert_int_equal(dml_tdisp_start(NULL), -EINVAL);
	assert_int_equal(dml_tdisp_error(NULL), -EINVAL);
	assert_int_equal(dml_tsm_unbind(NULL), -EINVAL);
	assert_false(dml_tsm_accepted(NULL));
	assert_int_equal(dml_tvm_create(NULL, &foreign), -EINVAL);
	dml_tvm_destroy(NULL);

	assert_int_equal(dml_platform_create_emu(NULL, &q), 0);
	assert_int_equal(dml_tvm_create(q, &foreign), 0);
	assert_int_equal(dml_tsm_bind(foreign, f->ep), -EINVAL);
	assert_int_equal(dml_tdisp_state(f->ep), DML_TDISP_CONFIG_UNLOCKED);
	dml_tvm_destroy(foreign);
	dml_platform_destroy(q);

	/* two devices of one TVM keep their own states */
	assert_int_equal(dml_tsm_bind(f->tvm, f->ep), 0);
	assert_int_equal(dml_tsm_bind(f->tvm, f->ep2), 0);
	assert_int_equal(dml_tdisp_start(f->ep2), 0);
	assert_int_equal(dml_tdisp_state(f->ep), DML_TDISP_CONFIG_LOCKED);
	assert_int_equal(dml_tdisp_state(f->ep2), DML_TDISP_RUN);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_bind_each_state, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_start_each_state, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_decode_off_each_state, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_decode_off_unchanged, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_bar_add_locked, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_error_each_state, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_stop_each_state, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_accept, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_bad_input, fx_setup, fx_teardown),
};

DML_TEST_MAIN(tests)
