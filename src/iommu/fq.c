/* SPDX-License-Identifier: MIT */
/*
 * fq.c - the flush queue of lazy mode (IOMMU_DOMAIN_DMA_FQ in dma-iommu.c):
 * unmapped IOVA is not invalidated at once; its release waits in the queue
 * until one domain-wide IOTLB flush covers many unmaps.  Until then the
 * IOVA is not reused, so a stale IOTLB entry can only ever point at memory
 * the device was once given, never at a new mapping's.
 *
 * As the kernel's per-CPU queues: one ring per thread number
 * (dml__this_cpu() modulo FQ_RINGS), each under its own lock, so threads
 * unmapping at once share no cache line.  An entry records the number of
 * flushes started when it was queued (fq_flush_start_cnt); it may be
 * released once more flushes than that have finished (fq_flush_finish_cnt),
 * since one of those started after it.  A ring flushes when it holds
 * FQ_SIZE ranges or its oldest range is 10 ms old
 * (IOVA_DEFAULT_FQ_TIMEOUT), checked on each queue call to it (there is no
 * timer thread), and every ring is flushed when the domain goes.  The age
 * is read from CLOCK_MONOTONIC_COARSE: a few ns per queue call instead of
 * a full clock read, at the price of flushing up to one tick (1-10 ms)
 * late.
 *
 * FQ_SIZE is 128, half the kernel's IOVA_DEFAULT_FQ_SIZE: a full ring's
 * release then fits in the freeing thread's own IOVA cache
 * (DML_IOVA_THREAD_CACHE ranges of a size).  With 256 it spilled a
 * magazine to the shared depot on every flush, other threads picked this
 * thread's IOVAs up, and the leaf page-table entries of threads mapping
 * side by side shared cache lines again (two threads on two cores: 0.31
 * of one thread's rate each with 256, 0.9 with 128).  It costs one
 * domain-wide IOTLB flush per 128 unmaps instead of per 256.
 * Locking: one spinlock per ring; a flush runs under the lock of the ring
 * that asked for it, so it started after every entry of that ring was
 * queued and frees them all (flushes of different rings may overlap).
 */
#include <pthread.h>
#include <time.h>

#include "domain.h"

#define FQ_SIZE 128
_Static_assert(FQ_SIZE + 8 <= DML_IOVA_THREAD_CACHE,
	       "a ring's release must fit in the thread's IOVA cache");
#define FQ_RINGS 16		/* power of two */
#define FQ_TIMEOUT_NS (10ULL * 1000 * 1000)

struct fq_entry {
	unsigned long pfn;
	unsigned long pages;
	u64 cnt;		/* flushes started when queued */
};

/* @head: oldest entry; @n: entries; @first_ns: when the oldest was queued */
struct fq_ring {
	dml_spinlock_t lock;
	unsigned int head, n;
	u64 first_ns;
	struct fq_entry e[FQ_SIZE];
} __attribute__((aligned(64)));

struct dml_fq {
	atomic_ullong start_cnt __attribute__((aligned(64)));
	atomic_ullong finish_cnt;
	struct fq_ring ring[FQ_RINGS];
};

_Thread_local unsigned int dml__cpu_plus1 DML_TLS_HOT;

/*
 * The thread numbers: a bitmap of those in use, under a mutex; a thread's
 * number is released by a thread-specific-data destructor when it exits,
 * and taken again by a later thread, so the numbers of live threads are
 * distinct and small.
 */
static pthread_mutex_t cpu_lock = PTHREAD_MUTEX_INITIALIZER;
static u64 cpu_used[DML_NR_CPUS / 64];
static pthread_key_t cpu_key;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;
static bool cpu_key_ok;

static void cpu_release(void *v)
{
	unsigned int c = (unsigned int)(uintptr_t)v - 1;

	pthread_mutex_lock(&cpu_lock);
	cpu_used[c / 64] &= ~(1ULL << (c % 64));
	pthread_mutex_unlock(&cpu_lock);
	dml__cpu_plus1 = 0;
}

static void cpu_init(void)
{
	cpu_key_ok = !pthread_key_create(&cpu_key, cpu_release);
}

/**
 * dml__this_cpu_slow - number the calling thread (its first call): the
 * lowest number no live thread holds; DML_NR_CPUS when all are taken (or
 * no destructor could be registered), shared by all such threads
 */
unsigned int dml__this_cpu_slow(void)
{
	unsigned int c = DML_NR_CPUS, i;

	pthread_once(&cpu_once, cpu_init);
	if (cpu_key_ok) {
		pthread_mutex_lock(&cpu_lock);
		for (i = 0; i < DML_NR_CPUS / 64; i++) {
			if (~cpu_used[i]) {
				c = i * 64 + (unsigned int)__builtin_ctzll(~cpu_used[i]);
				cpu_used[i] |= 1ULL << (c % 64);
				break;
			}
		}
		pthread_mutex_unlock(&cpu_lock);
		if (c < DML_NR_CPUS &&
		    pthread_setspecific(cpu_key, (void *)(uintptr_t)(c + 1))) {
			cpu_release((void *)(uintptr_t)(c + 1));
			c = DML_NR_CPUS;
		}
	}
	dml__cpu_plus1 = c + 1;
	return c;
}

struct dml_fq *dml__fq_create(void)
{
	struct dml_fq *fq = dml__zalloc_aligned(64, sizeof(struct dml_fq));
	unsigned int i;

	if (!fq)
		return NULL;
	for (i = 0; i < FQ_RINGS; i++)
		dml_spin_init(&fq->ring[i].lock);
	return fq;
}

/*
 * fq_flush_iotlb(): one domain-wide flush, counted at start and finish.
 * Return: the start count it took; entries queued with a lower count were
 * queued before it started, so it covers them.
 */
static u64 fq_flush_iotlb(struct dml_domain *d, struct dml_fq *fq)
{
	u64 mine = atomic_fetch_add_explicit(&fq->start_cnt, 1,
					     memory_order_seq_cst) + 1;

	d->ops->flush_iotlb_all(d);
	atomic_fetch_add_explicit(&fq->finish_cnt, 1, memory_order_seq_cst);
	return mine;
}

/*
 * Release the entries of @r some finished flush covers: queued with a count
 * below the finished flushes, or below @mine (the start count of a flush
 * the caller finished); ring lock held.
 */
static void fq_ring_free(struct dml_domain *d, struct dml_fq *fq,
			 struct fq_ring *r, u64 mine)
{
	u64 done = atomic_load_explicit(&fq->finish_cnt, memory_order_acquire);

	done = max(done, mine);
	while (r->n && r->e[r->head].cnt < done) {
		dml__iova_free(d->iovad, r->e[r->head].pfn, r->e[r->head].pages);
		r->head = (r->head + 1) % FQ_SIZE;
		r->n--;
	}
}

/* a cheap monotonic clock, good to one tick: enough for a 10 ms timeout */
static u64 fq_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts))
		return dml__now_ns();
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

void dml__fq_queue(struct dml_domain *d, unsigned long pfn, unsigned long pages)
{
	struct dml_fq *fq = d->fq;
	struct fq_ring *r = &fq->ring[dml__this_cpu() & (FQ_RINGS - 1)];
	u64 now = fq_now_ns();
	struct fq_entry *e;

	dml_spin_lock(&r->lock);
	fq_ring_free(d, fq, r, 0);
	if (r->n == FQ_SIZE || (r->n && now - r->first_ns > FQ_TIMEOUT_NS))
		/* started after every entry here was queued: frees them all */
		fq_ring_free(d, fq, r, fq_flush_iotlb(d, fq));
	if (!r->n)
		r->first_ns = now;
	e = &r->e[(r->head + r->n) % FQ_SIZE];
	e->pfn = pfn;
	e->pages = pages;
	e->cnt = atomic_load_explicit(&fq->start_cnt, memory_order_seq_cst);
	r->n++;
	dml_spin_unlock(&r->lock);
}

void dml__fq_flush(struct dml_domain *d)
{
	struct dml_fq *fq = d->fq;
	unsigned int i;
	bool any = false;
	u64 mine;

	if (!fq)
		return;
	for (i = 0; i < FQ_RINGS; i++) {
		dml_spin_lock(&fq->ring[i].lock);
		any |= fq->ring[i].n != 0;
		dml_spin_unlock(&fq->ring[i].lock);
	}
	if (!any)
		return;
	mine = fq_flush_iotlb(d, fq);
	for (i = 0; i < FQ_RINGS; i++) {
		struct fq_ring *r = &fq->ring[i];

		dml_spin_lock(&r->lock);
		fq_ring_free(d, fq, r, mine);
		dml_spin_unlock(&r->lock);
	}
}

void dml__fq_destroy(struct dml_domain *d)
{
	dml__fq_flush(d);
	dml__free(d->fq);
	d->fq = NULL;
}
