/* SPDX-License-Identifier: MIT */
/*
 * dma-resv.c - the reservation object (drivers/dma-buf/dma-resv.c,
 * reduced) and its wait-die lock (kernel/locking/ww_mutex.h).
 *
 * The lock: @mutex guards @locked, @owner and @ctx; a thread that finds
 * the object locked sleeps on @cond.  Wait-die: a context that already
 * holds locks and meets a holder of an older context (smaller stamp)
 * dies (-EDEADLK) rather than wait, so two contexts never wait on each
 * other in a cycle; the younger one backs off and takes the contended
 * lock first with dma_resv_lock_slow().
 *
 * The fences: an array of {fence, usage}, changed only by the lock
 * holder (add, reserve), read by anyone (test, wait); @flock guards the
 * array itself so that readers need not take the reservation lock, as
 * the kernel's readers use RCU.  Waiters take references to the pending
 * fences under @flock and sleep without it.  Signaled fences are pruned
 * when a fence is added.  @reserved counts slots promised by
 * dma_resv_reserve_fences() and not used yet.
 */
#include <dmalink/dma-resv.h>

#include <pthread.h>
#include <string.h>

#include "base/base.h"

struct resv_entry {
	struct dma_fence *fence;
	enum dma_resv_usage usage;
};

struct dma_resv {
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	bool locked;
	pthread_t owner;
	struct ww_acquire_ctx *ctx;

	pthread_mutex_t flock;
	struct resv_entry *fences;
	unsigned int num, max, reserved;
};

static atomic_ullong ww_stamp;

void ww_acquire_init(struct ww_acquire_ctx *ctx)
{
	ctx->__stamp = atomic_fetch_add_explicit(&ww_stamp, 1,
						 memory_order_relaxed) + 1;
	ctx->__acquired = 0;
}

void ww_acquire_fini(struct ww_acquire_ctx *ctx)
{
	DML_WARN_ON(ctx->__acquired);
}

int dml_dma_resv_create(struct dma_resv **out)
{
	struct dma_resv *obj;

	if (!out)
		return -EINVAL;
	obj = dml__zalloc(sizeof(*obj));
	if (!obj)
		return -ENOMEM;
	pthread_mutex_init(&obj->mutex, NULL);
	pthread_cond_init(&obj->cond, NULL);
	pthread_mutex_init(&obj->flock, NULL);
	*out = obj;
	return 0;
}

void dml_dma_resv_destroy(struct dma_resv *obj)
{
	unsigned int i;

	if (!obj)
		return;
	DML_WARN_ON(obj->locked);
	for (i = 0; i < obj->num; i++)
		dma_fence_put(obj->fences[i].fence);
	dml__free(obj->fences);
	pthread_mutex_destroy(&obj->flock);
	pthread_cond_destroy(&obj->cond);
	pthread_mutex_destroy(&obj->mutex);
	dml__free(obj);
}

/* take the free lock for the calling thread; obj->mutex held */
static void resv_take(struct dma_resv *obj, struct ww_acquire_ctx *ctx)
{
	obj->locked = true;
	obj->owner = pthread_self();
	obj->ctx = ctx;
	if (ctx)
		ctx->__acquired++;
}

int dma_resv_lock(struct dma_resv *obj, struct ww_acquire_ctx *ctx)
{
	if (!obj)
		return -EINVAL;
	pthread_mutex_lock(&obj->mutex);
	if (ctx && obj->locked && obj->ctx == ctx) {
		pthread_mutex_unlock(&obj->mutex);
		return -EALREADY;
	}
	while (obj->locked) {
		if (ctx && ctx->__acquired && obj->ctx &&
		    obj->ctx->__stamp < ctx->__stamp) {
			pthread_mutex_unlock(&obj->mutex);
			return -EDEADLK;
		}
		pthread_cond_wait(&obj->cond, &obj->mutex);
	}
	resv_take(obj, ctx);
	pthread_mutex_unlock(&obj->mutex);
	return 0;
}

void dma_resv_lock_slow(struct dma_resv *obj, struct ww_acquire_ctx *ctx)
{
	DML_WARN_ON(ctx && ctx->__acquired);
	pthread_mutex_lock(&obj->mutex);
	while (obj->locked)
		pthread_cond_wait(&obj->cond, &obj->mutex);
	resv_take(obj, ctx);
	pthread_mutex_unlock(&obj->mutex);
}

bool dma_resv_trylock(struct dma_resv *obj)
{
	bool got = false;

	if (!obj)
		return false;
	pthread_mutex_lock(&obj->mutex);
	if (!obj->locked) {
		resv_take(obj, NULL);
		got = true;
	}
	pthread_mutex_unlock(&obj->mutex);
	return got;
}

void dma_resv_unlock(struct dma_resv *obj)
{
	pthread_mutex_lock(&obj->mutex);
	if (DML_WARN_ON(!obj->locked ||
			!pthread_equal(obj->owner, pthread_self()))) {
		pthread_mutex_unlock(&obj->mutex);
		return;
	}
	if (obj->ctx)
		obj->ctx->__acquired--;
	obj->locked = false;
	obj->ctx = NULL;
	pthread_cond_signal(&obj->cond);
	pthread_mutex_unlock(&obj->mutex);
}

bool dma_resv_held(struct dma_resv *obj)
{
	bool held;

	if (!obj)
		return false;
	pthread_mutex_lock(&obj->mutex);
	held = obj->locked && pthread_equal(obj->owner, pthread_self());
	pthread_mutex_unlock(&obj->mutex);
	return held;
}

/* drop signaled fences from the array; obj->flock held */
static void resv_prune(struct dma_resv *obj)
{
	unsigned int i, n = 0;

	for (i = 0; i < obj->num; i++) {
		if (dma_fence_is_signaled(obj->fences[i].fence))
			dma_fence_put(obj->fences[i].fence);
		else
			obj->fences[n++] = obj->fences[i];
	}
	obj->num = n;
}

int dma_resv_reserve_fences(struct dma_resv *obj, unsigned int num)
{
	struct resv_entry *grown;
	unsigned int want;
	int ret = 0;

	if (!dma_resv_held(obj))
		return -EINVAL;
	pthread_mutex_lock(&obj->flock);
	resv_prune(obj);
	if (__builtin_add_overflow(obj->num + obj->reserved, num, &want)) {
		ret = -ENOMEM;
	} else if (want > obj->max) {
		want = max(want, 2 * obj->max);
		grown = dml__zalloc((size_t)want * sizeof(*grown));
		if (!grown) {
			ret = -ENOMEM;
		} else {
			if (obj->num)
				memcpy(grown, obj->fences,
				       obj->num * sizeof(*grown));
			dml__free(obj->fences);
			obj->fences = grown;
			obj->max = want;
		}
	}
	if (!ret)
		obj->reserved += num;
	pthread_mutex_unlock(&obj->flock);
	return ret;
}

int dma_resv_add_fence(struct dma_resv *obj, struct dma_fence *fence,
		       enum dma_resv_usage usage)
{
	if (!fence || (unsigned int)usage > DMA_RESV_USAGE_BOOKKEEP ||
	    !dma_resv_held(obj))
		return -EINVAL;
	pthread_mutex_lock(&obj->flock);
	if (!obj->reserved) {
		pthread_mutex_unlock(&obj->flock);
		return -EINVAL;
	}
	resv_prune(obj);
	obj->reserved--;
	obj->fences[obj->num].fence = dma_fence_get(fence);
	obj->fences[obj->num].usage = usage;
	obj->num++;
	pthread_mutex_unlock(&obj->flock);
	return 0;
}

bool dma_resv_test_signaled(struct dma_resv *obj, enum dma_resv_usage usage)
{
	bool done = true;
	unsigned int i;

	if (!obj)
		return true;
	pthread_mutex_lock(&obj->flock);
	for (i = 0; i < obj->num && done; i++)
		if (obj->fences[i].usage <= usage)
			done = dma_fence_is_signaled(obj->fences[i].fence);
	pthread_mutex_unlock(&obj->flock);
	return done;
}

/*
 * the first pending fence of @usage or stronger, with a reference, or
 * NULL when none is left
 */
static struct dma_fence *resv_next_pending(struct dma_resv *obj,
					   enum dma_resv_usage usage)
{
	struct dma_fence *f = NULL;
	unsigned int i;

	pthread_mutex_lock(&obj->flock);
	for (i = 0; i < obj->num && !f; i++)
		if (obj->fences[i].usage <= usage &&
		    !dma_fence_is_signaled(obj->fences[i].fence))
			f = dma_fence_get(obj->fences[i].fence);
	pthread_mutex_unlock(&obj->flock);
	return f;
}

long dma_resv_wait_timeout(struct dma_resv *obj, enum dma_resv_usage usage,
			   bool intr, long timeout)
{
	struct dma_fence *f;
	long left = timeout ? timeout : 1;

	if (!obj || timeout < 0)
		return -EINVAL;
	while ((f = resv_next_pending(obj, usage))) {
		left = timeout ? dma_fence_wait_timeout(f, intr, left) : 0;
		dma_fence_put(f);
		if (!left)
			return 0;
	}
	return left;
}
