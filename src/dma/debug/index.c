/* SPDX-License-Identifier: MIT */
/*
 * index.c - the checker's range index: a sorted array of (start, len,
 * object), ties in insertion order, plus the longest length ever inserted,
 * so "which ranges contain x" is a binary search and a short backward
 * scan.  Entries at the same DMA address are legal (dma-direct maps the
 * same memory twice), which is why unmaps are matched best fit
 * (streaming.c).  Used for each device's mappings (by DMA address) and for
 * the phys index (by CPU address).  Callers hold dml__dbg_mutex.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* first index whose start is > @x */
size_t dml__rix_upper(const struct rix *r, u64 x)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->v[mid].start <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* first index whose start is >= @x */
size_t dml__rix_lower(const struct rix *r, u64 x)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->v[mid].start < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int dml__rix_insert(struct rix *r, u64 start, u64 len, void *obj)
{
	size_t pos;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct rix_item *v = realloc(r->v, cap * sizeof(*v));

		if (!v) {
			dml__dbg_oom = true;
			return -ENOMEM;
		}
		r->v = v;
		r->cap = cap;
	}
	pos = dml__rix_upper(r, start);
	memmove(&r->v[pos + 1], &r->v[pos], (r->n - pos) * sizeof(r->v[0]));
	r->v[pos] = (struct rix_item){ .start = start, .len = len, .obj = obj };
	r->n++;
	if (len > r->max_len)
		r->max_len = len;
	return 0;
}

void dml__rix_remove(struct rix *r, u64 start, const void *obj)
{
	size_t i;

	for (i = dml__rix_lower(r, start);
	     i < r->n && r->v[i].start == start; i++) {
		if (r->v[i].obj == obj) {
			memmove(&r->v[i], &r->v[i + 1],
				(r->n - i - 1) * sizeof(r->v[0]));
			r->n--;
			return;
		}
	}
}

void dml__rix_fini(struct rix *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

size_t dml__rix_prev_overlap(const struct rix *r, size_t *i, u64 a, u64 b)
{
	while (*i > 0) {
		const struct rix_item *it = &r->v[--(*i)];

		if (it->start < a && a - it->start >= r->max_len)
			break;
		if (it->start < b && (it->start >= a || a - it->start < it->len))
			return *i;
	}
	return (size_t)-1;
}
