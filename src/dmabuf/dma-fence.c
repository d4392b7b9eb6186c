/* SPDX-License-Identifier: MIT */
/*
 * dma-fence.c - one-shot completion fences (drivers/dma-buf/dma-fence.c,
 * reduced): a reference count, a signaled flag that goes false to true
 * exactly once, and a condition variable that wakes the waiters.
 *
 * Locking: the fence's mutex guards the flag and the condition variable;
 * dma_fence_is_signaled() reads the flag with an acquire load so a
 * poller needs no lock.  Waits use CLOCK_MONOTONIC deadlines, so a
 * timeout is not stretched by wall-clock changes.
 */
#include <dmalink/dma-resv.h>

#include <pthread.h>
#include <time.h>

#include "base/base.h"

struct dma_fence {
	atomic_int refs;
	atomic_bool signaled;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

int dml_dma_fence_create(struct dma_fence **out)
{
	struct dma_fence *f;
	pthread_condattr_t ca;

	if (!out)
		return -EINVAL;
	f = dml__zalloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	atomic_init(&f->refs, 1);
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cond, &ca);
	pthread_condattr_destroy(&ca);
	*out = f;
	return 0;
}

struct dma_fence *dma_fence_get(struct dma_fence *fence)
{
	if (fence)
		atomic_fetch_add_explicit(&fence->refs, 1, memory_order_relaxed);
	return fence;
}

void dma_fence_put(struct dma_fence *fence)
{
	if (!fence ||
	    atomic_fetch_sub_explicit(&fence->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_cond_destroy(&fence->cond);
	pthread_mutex_destroy(&fence->lock);
	dml__free(fence);
}

int dma_fence_signal(struct dma_fence *fence)
{
	int ret = 0;

	if (!fence)
		return -EINVAL;
	pthread_mutex_lock(&fence->lock);
	if (atomic_load_explicit(&fence->signaled, memory_order_relaxed))
		ret = -EINVAL;
	else
		atomic_store_explicit(&fence->signaled, true, memory_order_release);
	pthread_cond_broadcast(&fence->cond);
	pthread_mutex_unlock(&fence->lock);
	return ret;
}

bool dma_fence_is_signaled(struct dma_fence *fence)
{
	return fence && atomic_load_explicit(&fence->signaled, memory_order_acquire);
}

long dma_fence_wait_timeout(struct dma_fence *fence, bool intr, long timeout)
{
	u64 deadline = 0;
	struct timespec ts;
	long left;

	(void)intr;
	if (!fence || timeout < 0)
		return -EINVAL;
	if (timeout != MAX_SCHEDULE_TIMEOUT) {
		deadline = dml__now_ns() + (u64)timeout;
		ts.tv_sec = (time_t)(deadline / 1000000000ULL);
		ts.tv_nsec = (long)(deadline % 1000000000ULL);
	}
	pthread_mutex_lock(&fence->lock);
	while (!atomic_load_explicit(&fence->signaled, memory_order_relaxed)) {
		if (timeout == MAX_SCHEDULE_TIMEOUT)
			pthread_cond_wait(&fence->cond, &fence->lock);
		else if (pthread_cond_timedwait(&fence->cond, &fence->lock,
						&ts) == ETIMEDOUT &&
			 !atomic_load_explicit(&fence->signaled,
					       memory_order_relaxed)) {
			pthread_mutex_unlock(&fence->lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&fence->lock);
	if (timeout == MAX_SCHEDULE_TIMEOUT)
		return MAX_SCHEDULE_TIMEOUT;
	left = (long)(deadline - min(deadline, dml__now_ns()));
	return max(left, 1L);
}

long dma_fence_wait(struct dma_fence *fence, bool intr)
{
	long ret = dma_fence_wait_timeout(fence, intr, MAX_SCHEDULE_TIMEOUT);

	return ret < 0 ? ret : 0;
}
