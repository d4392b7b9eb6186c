/* SPDX-License-Identifier: MIT */
/*
 * alloc.c - the allocation and fault-injection hook (reference/style.md
 * C11, modelled on iommufd's fail_nth): a per-thread countdown armed by
 * dml_fail_nth(); dml__should_fail() fails the call that brings it to zero.
 */
#include "base.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

_Thread_local long dml__fail_countdown DML_TLS_HOT;
static _Thread_local bool fail_hit;

void dml_fail_nth(long n)
{
	dml__fail_countdown = n > 0 ? n : 0;
	fail_hit = false;
}

bool dml_fail_nth_hit(void)
{
	return fail_hit;
}

bool dml__should_fail_slow(void)
{
	if (--dml__fail_countdown)
		return false;
	fail_hit = true;
	return true;
}

void *dml__zalloc(size_t size)
{
	if (dml__should_fail())
		return NULL;
	return calloc(1, size ? size : 1);
}

void *dml__zalloc_aligned(size_t align, size_t size)
{
	void *p;

	if (dml__should_fail())
		return NULL;
	size = ALIGN(size ? size : 1, align);
	p = aligned_alloc(align, size);
	if (p)
		memset(p, 0, size);
	return p;
}

void dml__free(void *p)
{
	free(p);
}

u64 dml__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

void *dml__vm_zalloc(size_t size)
{
	void *p;

	if (dml__should_fail())
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void dml__vm_free(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}
