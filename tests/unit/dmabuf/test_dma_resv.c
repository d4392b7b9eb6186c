/* SPDX-License-Identifier: MIT */
/*
 * test_dma_resv.c - fences and the reservation object
 * (shared/reference/kernel-dma-semantics.md §7.1, §7.4): a fence signals
 * once and wakes its waiters; the reservation lock is held by one thread,
 * refuses a second acquisition by the same context and makes the younger
 * of two contexts back off (wait-die); fences are added only under the
 * lock into reserved slots; a query of one usage class covers the
 * stronger ones and BOOKKEEP covers all, which is what revoke waits on.
 */
#include <pthread.h>

#include <dmalink/dma-resv.h>

#include "testutil.h"

#define MS 1000000L

/* "dma_fence_signal ... -EINVAL if already signaled": one shot */
static void test_fence_signal_once(void **state)
{
	struct dma_fence *f;

	(void)state;
	assert_int_equal(dml_dma_fence_create(&f), 0);
	assert_false(dma_fence_is_signaled(f));
	assert_int_equal(dma_fence_wait_timeout(f, false, 0), 0);
	assert_int_equal(dma_fence_signal(f), 0);
	assert_true(dma_fence_is_signaled(f));
	assert_int_equal(dma_fence_signal(f), -EINVAL);
	/* signaled: at least 1 is left even for a zero timeout */
	assert_true(dma_fence_wait_timeout(f, false, 0) >= 1);
	assert_int_equal(dma_fence_wait(f, true), 0);
	assert_int_equal(dma_fence_wait_timeout(f, false, -1), -EINVAL);
	assert_int_equal(dma_fence_wait_timeout(NULL, false, 0), -EINVAL);
	assert_int_equal(dml_dma_fence_create(NULL), -EINVAL);
	dma_fence_put(dma_fence_get(f));
	dma_fence_put(f);
	dma_fence_put(NULL);
}

/* a pending fence runs out its (short) time and returns 0 */
static void test_fence_timeout(void **state)
{
	struct dma_fence *f;

	(void)state;
	assert_int_equal(dml_dma_fence_create(&f), 0);
	assert_int_equal(dma_fence_wait_timeout(f, false, MS), 0);
	assert_false(dma_fence_is_signaled(f));
	dma_fence_put(f);
}

static void *signal_after_spin(void *arg)
{
	dma_fence_signal(arg);
	return NULL;
}

/* "signal ... wakes every waiter": another thread signals, we wake */
static void test_fence_wait_woken(void **state)
{
	struct dma_fence *f;
	pthread_t t;

	(void)state;
	assert_int_equal(dml_dma_fence_create(&f), 0);
	assert_int_equal(pthread_create(&t, NULL, signal_after_spin, f), 0);
	assert_int_equal(dma_fence_wait(f, false), 0);
	assert_true(dma_fence_is_signaled(f));
	pthread_join(t, NULL);
	dma_fence_put(f);
}

struct other {
	struct dma_resv *obj;
	bool held, got;
	int ret;
	struct ww_acquire_ctx *ctx;
};

static void *other_thread(void *arg)
{
	struct other *o = arg;

	o->held = dma_resv_held(o->obj);
	o->got = dma_resv_trylock(o->obj);
	if (o->got)
		dma_resv_unlock(o->obj);
	return NULL;
}

/* the lock belongs to one thread: dma_resv_held() is per thread */
static void test_resv_lock_owner(void **state)
{
	struct dma_resv *obj;
	struct other o = { 0 };
	pthread_t t;

	(void)state;
	assert_int_equal(dml_dma_resv_create(&obj), 0);
	assert_false(dma_resv_held(obj));
	assert_int_equal(dma_resv_lock(obj, NULL), 0);
	assert_true(dma_resv_held(obj));
	o.obj = obj;
	assert_int_equal(pthread_create(&t, NULL, other_thread, &o), 0);
	pthread_join(t, NULL);
	assert_false(o.held);
	assert_false(o.got);
	assert_false(dma_resv_trylock(obj));
	dma_resv_unlock(obj);
	assert_false(dma_resv_held(obj));
	assert_true(dma_resv_trylock(obj));
	dma_resv_unlock(obj);
	/* unlocking a lock nobody holds is a warning, nothing else */
	dml_test_log_reset();
	dma_resv_unlock(obj);
	assert_int_equal(dml_test_log.count, 1);
	assert_non_null(strstr(dml_test_log.last, "WARNING"));
	assert_int_equal(dma_resv_lock(NULL, NULL), -EINVAL);
	dml_dma_resv_destroy(obj);
}

/* ww_mutex: -EALREADY for the same context; the younger context dies */
static void test_ww_wait_die(void **state)
{
	struct ww_acquire_ctx old, young;
	struct dma_resv *x, *y;

	(void)state;
	assert_int_equal(dml_dma_resv_create(&x), 0);
	assert_int_equal(dml_dma_resv_create(&y), 0);
	ww_acquire_init(&old);
	ww_acquire_init(&young);
	assert_int_equal(dma_resv_lock(x, &old), 0);
	assert_int_equal(dma_resv_lock(x, &old), -EALREADY);
	assert_int_equal(dma_resv_lock(y, &young), 0);
	/* young holds y and meets old's x: back off, do not wait */
	assert_int_equal(dma_resv_lock(x, &young), -EDEADLK);
	assert_true(dma_resv_held(y));
	dma_resv_unlock(y);
	dma_resv_unlock(x);
	dma_resv_lock_slow(x, &young);
	assert_int_equal(dma_resv_lock(y, &young), 0);
	dma_resv_unlock(y);
	dma_resv_unlock(x);
	ww_acquire_fini(&young);
	ww_acquire_fini(&old);
	dml_dma_resv_destroy(y);
	dml_dma_resv_destroy(x);
}

/* fences go in only with the lock held and into reserved slots */
static void test_resv_add_rules(void **state)
{
	struct dma_resv *obj;
	struct dma_fence *f;

	(void)state;
	assert_int_equal(dml_dma_resv_create(&obj), 0);
	assert_int_equal(dml_dma_fence_create(&f), 0);
	assert_int_equal(dma_resv_reserve_fences(obj, 1), -EINVAL);
	assert_int_equal(dma_resv_add_fence(obj, f, DMA_RESV_USAGE_WRITE),
			 -EINVAL);
	assert_int_equal(dma_resv_lock(obj, NULL), 0);
	assert_int_equal(dma_resv_add_fence(obj, f, DMA_RESV_USAGE_WRITE),
			 -EINVAL);
	assert_int_equal(dma_resv_reserve_fences(obj, 1), 0);
	assert_int_equal(dma_resv_add_fence(obj, NULL, DMA_RESV_USAGE_WRITE),
			 -EINVAL);
	assert_int_equal(dma_resv_add_fence(obj, f, 7), -EINVAL);
	assert_true(dma_resv_test_signaled(obj, DMA_RESV_USAGE_BOOKKEEP));
	assert_int_equal(dma_resv_add_fence(obj, f, DMA_RESV_USAGE_WRITE), 0);
	/* the one slot is used */
	assert_int_equal(dma_resv_add_fence(obj, f, DMA_RESV_USAGE_READ),
			 -EINVAL);
	dma_resv_unlock(obj);
	assert_false(dma_resv_test_signaled(obj, DMA_RESV_USAGE_WRITE));
	dma_fence_put(f);	/* the object keeps its own reference */
	assert_false(dma_resv_test_signaled(obj, DMA_RESV_USAGE_WRITE));
	dml_dma_resv_destroy(obj);
}

/*
 * "usage classes are ordered: a query covers its class and the stronger
 * ones"; BOOKKEEP waits for every fence (the revoke sequence's wait)
 */
static void test_resv_usage_classes(void **state)
{
	struct dma_fence *w, *book;
	struct dma_resv *obj;

	(void)state;
	assert_int_equal(dml_dma_resv_create(&obj), 0);
	assert_int_equal(dml_dma_fence_create(&w), 0);
	assert_int_equal(dml_dma_fence_create(&book), 0);
	assert_int_equal(dma_resv_lock(obj, NULL), 0);
	assert_int_equal(dma_resv_reserve_fences(obj, 2), 0);
	assert_int_equal(dma_resv_add_fence(obj, w, DMA_RESV_USAGE_WRITE), 0);
	assert_int_equal(dma_resv_add_fence(obj, book,
					    DMA_RESV_USAGE_BOOKKEEP), 0);
	dma_resv_unlock(obj);

	assert_true(dma_resv_test_signaled(obj, DMA_RESV_USAGE_KERNEL));
	assert_false(dma_resv_test_signaled(obj, DMA_RESV_USAGE_WRITE));
	assert_false(dma_resv_test_signaled(obj, DMA_RESV_USAGE_READ));
	assert_true(dma_resv_wait_timeout(obj, DMA_RESV_USAGE_KERNEL,
					  false, 0) >= 1);
	assert_int_equal(dma_resv_wait_timeout(obj, DMA_RESV_USAGE_READ,
					       false, 0), 0);
	dma_fence_signal(w);
	assert_true(dma_resv_test_signaled(obj, DMA_RESV_USAGE_READ));
	assert_false(dma_resv_test_signaled(obj, DMA_RESV_USAGE_BOOKKEEP));
	assert_int_equal(dma_resv_wait_timeout(obj, DMA_RESV_USAGE_BOOKKEEP,
					       false, MS), 0);
	dma_fence_signal(book);
	assert_true(dma_resv_wait_timeout(obj, DMA_RESV_USAGE_BOOKKEEP,
					  false, MAX_SCHEDULE_TIMEOUT) >= 1);
	assert_int_equal(dma_resv_wait_timeout(obj, DMA_RESV_USAGE_READ,
					       false, -1), -EINVAL);

	/* signaled fences are pruned: slots can be reserved again */
	assert_int_equal(dma_resv_lock(obj, NULL), 0);
	assert_int_equal(dma_resv_reserve_fences(obj, 1), 0);
	assert_int_equal(dma_resv_add_fence(obj, w, DMA_RESV_USAGE_KERNEL), 0);
	dma_resv_unlock(obj);
	assert_true(dma_resv_test_signaled(obj, DMA_RESV_USAGE_BOOKKEEP));
	dma_fence_put(w);
	dma_fence_put(book);
	dml_dma_resv_destroy(obj);
}

struct waiter {
	struct dma_resv *obj;
	long ret;
};

static void *resv_waiter(void *arg)
{
	struct waiter *wt = arg;

	wt->ret = dma_resv_wait_timeout(wt->obj, DMA_RESV_USAGE_BOOKKEEP,
					true, MAX_SCHEDULE_TIMEOUT);
	return NULL;
}

/* a waiter on the object wakes when the last fence signals */
static void test_resv_wait_threads(void **state)
{
	struct dma_fence *f[4];
	struct dma_resv *obj;
	struct waiter wt;
	pthread_t t;
	unsigned int i;

	(void)state;
	assert_int_equal(dml_dma_resv_create(&obj), 0);
	assert_int_equal(dma_resv_lock(obj, NULL), 0);
	assert_int_equal(dma_resv_reserve_fences(obj, 4), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(dml_dma_fence_create(&f[i]), 0);
		assert_int_equal(dma_resv_add_fence(obj, f[i], i), 0);
	}
	dma_resv_unlock(obj);
	wt.obj = obj;
	wt.ret = 0;
	assert_int_equal(pthread_create(&t, NULL, resv_waiter, &wt), 0);
	for (i = 0; i < 4; i++)
		dma_fence_signal(f[3 - i]);
	pthread_join(t, NULL);
	assert_true(wt.ret >= 1);
	for (i = 0; i < 4; i++)
		dma_fence_put(f[i]);
	dml_dma_resv_destroy(obj);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_fence_signal_once),
	cmocka_unit_test(test_fence_timeout),
	cmocka_unit_test(test_fence_wait_woken),
	cmocka_unit_test(test_resv_lock_owner),
	cmocka_unit_test(test_ww_wait_die),
	cmocka_unit_test(test_resv_add_rules),
	cmocka_unit_test(test_resv_usage_classes),
	cmocka_unit_test(test_resv_wait_threads),
};

DML_TEST_MAIN(tests)
