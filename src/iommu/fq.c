/* SPDX-License-Identifier: MIT */
/*
 * fq.c - the flush queue of lazy mode (IOMMU_DOMAIN_DMA_FQ in dma-iommu.c):
 * unmapped IOVA is not invalidated at once; its release waits in the queue
 * until one domain-wide IOTLB flush covers many unmaps.  Until then the
 * IOVA is not reused, so a stale IOTLB entry can only ever point at memory
 * the device was once given, never at a new mapping's.  The queue flushes
 * when it holds 256 ranges or its oldest range is 10 ms old
 * (IOVA_DEFAULT_FQ_SIZE, IOVA_DEFAULT_FQ_TIMEOUT), checked on each queue
 * call (there is no timer thread), and when the domain goes.  The age is
 * read from CLOCK_MONOTONIC_COARSE: a few ns per queue call instead of a
 * full clock read, at the price of flushing up to one tick (1-10 ms) late.
 * Locking: one spinlock per domain's queue.
 */
#include <time.h>

#include "domain.h"

#define FQ_SIZE 256
#define FQ_TIMEOUT_NS (10ULL * 1000 * 1000)

struct dml_fq {
	dml_spinlock_t lock;
	unsigned int n;
	u64 first_ns;
	struct {
		unsigned long pfn;
		unsigned long pages;
	} e[FQ_SIZE];
};

struct dml_fq *dml__fq_create(void)
{
	return dml__zalloc(sizeof(struct dml_fq));
}

/* flush the IOTLB once, then release every queued range; lock held */
static void fq_flush_locked(struct dml_domain *d, struct dml_fq *fq)
{
	unsigned int i;

	if (!fq->n)
		return;
	d->ops->flush_iotlb_all(d);
	for (i = 0; i < fq->n; i++)
		dml__iova_free(d->iovad, fq->e[i].pfn, fq->e[i].pages);
	fq->n = 0;
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
	u64 now = fq_now_ns();

	dml_spin_lock(&fq->lock);
	if (fq->n == FQ_SIZE || (fq->n && now - fq->first_ns > FQ_TIMEOUT_NS))
		fq_flush_locked(d, fq);
	if (!fq->n)
		fq->first_ns = now;
	fq->e[fq->n].pfn = pfn;
	fq->e[fq->n].pages = pages;
	fq->n++;
	dml_spin_unlock(&fq->lock);
}

void dml__fq_flush(struct dml_domain *d)
{
	if (!d->fq)
		return;
	dml_spin_lock(&d->fq->lock);
	fq_flush_locked(d, d->fq);
	dml_spin_unlock(&d->fq->lock);
}

void dml__fq_destroy(struct dml_domain *d)
{
	dml__fq_flush(d);
	dml__free(d->fq);
	d->fq = NULL;
}
