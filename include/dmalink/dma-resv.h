/* SPDX-License-Identifier: MIT */
/*
 * dmalink/dma-resv.h - the kernel's reservation object and DMA fences
 * with their names and semantics (include/linux/dma-resv.h,
 * drivers/dma-buf/dma-resv.c, include/linux/dma-fence.h,
 * drivers/dma-buf/dma-fence.c, include/linux/ww_mutex.h), reduced to
 * what a dma-buf exporter and its importers need to move and revoke
 * memory safely.
 *
 * A dma_fence is a one-shot completion: it starts unsignaled, is
 * signaled once, and waiters wake.  A dma_resv is a lock plus the fences
 * of the operations using a buffer, each added with a usage class; a
 * query for one class covers that class and every stronger one
 * (KERNEL < WRITE < READ < BOOKKEEP), so BOOKKEEP means "all fences".
 *
 * Differences from the kernel:
 *  - fences and reservation objects are opaque handles with create and
 *    reference functions (no dma_fence_ops, no fence contexts or seqnos:
 *    a fence is signaled by whoever holds it);
 *  - timeouts are nanoseconds, not jiffies; there are no signals, so the
 *    @intr arguments are accepted and have no effect;
 *  - the ww lock has the wait-die algorithm only, and one class (the
 *    kernel's reservation_ww_class) that ww_acquire_init() implies.
 */
#ifndef DMALINK_DMA_RESV_H
#define DMALINK_DMA_RESV_H

#include <dmalink/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

struct dma_fence;
struct dma_resv;

/* MAX_SCHEDULE_TIMEOUT - wait without a time limit (include/linux/sched.h) */
#define MAX_SCHEDULE_TIMEOUT ((long)(~0UL >> 1))

/**
 * dml_dma_fence_create - a new unsignaled fence
 * @out: the fence, holding one reference
 *
 * The kernel's dma_fence_init() on a driver's fence, without ops.
 * Return: 0; -EINVAL if @out is NULL; -ENOMEM.
 */
int dml_dma_fence_create(struct dma_fence **out);

/**
 * dma_fence_get - take a reference to @fence (include/linux/dma-fence.h)
 * @fence: a fence, or NULL
 *
 * Return: @fence.
 */
struct dma_fence *dma_fence_get(struct dma_fence *fence);

/**
 * dma_fence_put - drop a reference; the last one frees (dma-fence.h)
 * @fence: a fence, or NULL (nothing happens)
 */
void dma_fence_put(struct dma_fence *fence);

/**
 * dma_fence_signal - signal completion and wake every waiter
 * (drivers/dma-buf/dma-fence.c: dma_fence_signal)
 * @fence: the fence
 *
 * Return: 0; -EINVAL if @fence is NULL or was already signaled (the
 * kernel's answer before 6.16, which returns nothing now).
 */
int dma_fence_signal(struct dma_fence *fence);

/**
 * dma_fence_is_signaled - whether @fence has completed (dma-fence.h)
 * @fence: the fence
 *
 * Return: true once dma_fence_signal() ran on it.
 */
bool dma_fence_is_signaled(struct dma_fence *fence);

/**
 * dma_fence_wait_timeout - sleep until @fence signals or @timeout passes
 * (drivers/dma-buf/dma-fence.c: dma_fence_wait_timeout)
 * @fence: the fence
 * @intr: no effect (no signals here)
 * @timeout: nanoseconds, or MAX_SCHEDULE_TIMEOUT
 *
 * Return: the nanoseconds left, at least 1, once signaled (also when
 * @timeout is 0 and it already is); 0 if the time ran out; -EINVAL if
 * @fence is NULL or @timeout is negative.
 */
long dma_fence_wait_timeout(struct dma_fence *fence, bool intr, long timeout);

/**
 * dma_fence_wait - sleep until @fence signals (include/linux/dma-fence.h)
 * @fence: the fence
 * @intr: no effect
 *
 * Return: 0; -EINVAL if @fence is NULL.
 */
long dma_fence_wait(struct dma_fence *fence, bool intr);

/**
 * enum dma_resv_usage - why a fence is in a reservation object
 * (include/linux/dma-resv.h); ordered, a query covers its class and the
 * ones before it
 * @DMA_RESV_USAGE_KERNEL: memory management by the exporter (moves,
 *	clears); every user must wait for these
 * @DMA_RESV_USAGE_WRITE: implicitly synchronised writes
 * @DMA_RESV_USAGE_READ: implicitly synchronised reads
 * @DMA_RESV_USAGE_BOOKKEEP: explicitly synchronised work that implicit
 *	sync ignores; a wait on this class waits for every fence (what
 *	revoke and move must do before the memory is reused)
 */
enum dma_resv_usage {
	DMA_RESV_USAGE_KERNEL,
	DMA_RESV_USAGE_WRITE,
	DMA_RESV_USAGE_READ,
	DMA_RESV_USAGE_BOOKKEEP,
};

/**
 * struct ww_acquire_ctx - one acquisition of several reservation locks
 * (include/linux/ww_mutex.h), owned by the caller
 * @__stamp: private: age of the context; the older one wins a conflict
 * @__acquired: private: locks held through this context
 */
struct ww_acquire_ctx {
	u64 __stamp;
	unsigned int __acquired;
};

/**
 * ww_acquire_init - start an acquisition (include/linux/ww_mutex.h); the
 * class is always the reservation class
 * @ctx: caller-owned context
 */
void ww_acquire_init(struct ww_acquire_ctx *ctx);

/**
 * ww_acquire_fini - end an acquisition; every lock taken through @ctx
 * must have been unlocked (a warning if not) (include/linux/ww_mutex.h)
 * @ctx: the context
 */
void ww_acquire_fini(struct ww_acquire_ctx *ctx);

/**
 * dml_dma_resv_create - a new reservation object, unlocked, without
 * fences (the kernel's dma_resv_init() on an embedded object)
 * @out: the object
 *
 * Return: 0; -EINVAL if @out is NULL; -ENOMEM.
 */
int dml_dma_resv_create(struct dma_resv **out);

/**
 * dml_dma_resv_destroy - free a reservation object and drop its fence
 * references (the kernel's dma_resv_fini()); it must be unlocked
 * @obj: the object, or NULL
 */
void dml_dma_resv_destroy(struct dma_resv *obj);

/**
 * dma_resv_lock - take the reservation lock (include/linux/dma-resv.h)
 * @obj: the object
 * @ctx: acquisition context, or NULL for a single lock
 *
 * Sleeps while another thread holds it.  Wait-die: when @ctx already
 * holds other locks and the holder's context is older, the caller must
 * back off instead of waiting.
 * Return: 0; -EALREADY if @ctx already holds @obj; -EDEADLK when the
 * caller must unlock everything it holds in @ctx and retry with
 * dma_resv_lock_slow(); -EINVAL if @obj is NULL.
 */
int dma_resv_lock(struct dma_resv *obj, struct ww_acquire_ctx *ctx);

/**
 * dma_resv_lock_slow - take the lock after an -EDEADLK back-off, waiting
 * for whoever holds it (include/linux/dma-resv.h)
 * @obj: the object
 * @ctx: the context, which holds no lock now
 */
void dma_resv_lock_slow(struct dma_resv *obj, struct ww_acquire_ctx *ctx);

/**
 * dma_resv_trylock - take the lock if free (include/linux/dma-resv.h)
 * @obj: the object
 *
 * Return: true if the caller now holds it.
 */
bool dma_resv_trylock(struct dma_resv *obj);

/**
 * dma_resv_unlock - release the lock (include/linux/dma-resv.h); a
 * warning if the calling thread does not hold it
 * @obj: the object
 */
void dma_resv_unlock(struct dma_resv *obj);

/**
 * dma_resv_held - whether the calling thread holds the lock; what the
 * kernel's dma_resv_assert_held() asserts with lockdep
 * @obj: the object
 *
 * Return: true if this thread holds it.
 */
bool dma_resv_held(struct dma_resv *obj);

/**
 * dma_resv_reserve_fences - make room for @num more fences before adding
 * them, with the lock held (drivers/dma-buf/dma-resv.c)
 * @obj: the object, locked by the caller
 * @num: fences to be added
 *
 * Return: 0; -EINVAL without the lock held; -ENOMEM.
 */
int dma_resv_reserve_fences(struct dma_resv *obj, unsigned int num);

/**
 * dma_resv_add_fence - add @fence with @usage, taking a reference, into a
 * slot reserved by dma_resv_reserve_fences(); signaled fences are pruned
 * (drivers/dma-buf/dma-resv.c)
 * @obj: the object, locked by the caller
 * @fence: the fence
 * @usage: its class
 *
 * The kernel returns nothing and warns; here a bad call changes nothing.
 * Return: 0; -EINVAL without the lock held, with no slot reserved, a
 * NULL @fence or an unknown @usage.
 */
int dma_resv_add_fence(struct dma_resv *obj, struct dma_fence *fence,
		       enum dma_resv_usage usage);

/**
 * dma_resv_test_signaled - whether every fence of @usage or a stronger
 * class has signaled (drivers/dma-buf/dma-resv.c)
 * @obj: the object; the lock is not needed
 * @usage: the weakest class to include
 *
 * Return: true if none is pending.
 */
bool dma_resv_test_signaled(struct dma_resv *obj, enum dma_resv_usage usage);

/**
 * dma_resv_wait_timeout - wait for every fence of @usage or a stronger
 * class (drivers/dma-buf/dma-resv.c); the lock is not needed
 * @obj: the object
 * @usage: the weakest class to include; BOOKKEEP waits for all
 * @intr: no effect
 * @timeout: nanoseconds for all of them, or MAX_SCHEDULE_TIMEOUT
 *
 * Return: the nanoseconds left, at least 1, when all signaled; 0 if the
 * time ran out first; -EINVAL for a NULL @obj or a negative @timeout.
 */
long dma_resv_wait_timeout(struct dma_resv *obj, enum dma_resv_usage usage,
			   bool intr, long timeout);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_DMA_RESV_H */
