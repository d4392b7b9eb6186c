/* SPDX-License-Identifier: MIT */
/*
 * layout.c - the physical page allocator behind dml_layout_*(): it hands
 * out 4 KiB frames of the first RAM region in the orders real machines do
 * (reference/real-inputs.md 1b), so the mapping strategies of `dmalink
 * replay` meet realistic physical layouts:
 *   4k-random      every page anywhere: fully fragmented, one page per run
 *   4k-descending  pages mostly in descending physical order (7 in 8
 *                  neighbours descend, as measured for malloc'd buffers),
 *                  which defeats a forward physical merge
 *   thp            pages taken in order from 2 MiB-aligned chunks
 *   file:PATH      a layout captured by `dmalink layout capture`, replayed
 *                  page by page in captured order, cycling
 * Frames are owned through the region's frame bitmap (src/mem/phys.c), so
 * buffers never overlap each other, carved page-table pools or swiotlb.
 *
 * Host memory: a freed buffer's frames go back to the bitmap and the host
 * pages behind them to the host (madvise(MADV_DONTNEED)), so what a
 * replay holds is what is in flight, however many frames of the lazily
 * reserved RAM the policies have visited.  A frame reads as zeros when it
 * is next handed out, as a freshly allocated page may.  Only host pages
 * wholly inside a freed run are released (all theirs, when the host page
 * is the 4 KiB frame); a larger host page straddling a run's end keeps
 * its memory.
 *
 * Locking: one spinlock per allocator (its cursor and random state).
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layout_file.h"
#include "mem.h"

enum layout_kind { L_RANDOM, L_DESC, L_THP, L_FILE };

struct dml_layout {
	struct dml_platform *p;
	struct dml_mem_region *r;
	enum layout_kind kind;
	dml_spinlock_t lock;
	u64 rng;
	u64 cursor;		/* DESC: next frame; THP: next frame in chunk */
	u64 chunk_end;		/* THP: end of the current chunk (frame) */
	struct dml_layout_file lf;
	unsigned int file_run;	/* FILE: position in the captured runs */
	u32 file_page;
	u64 host_page;		/* the host's page size, bytes */
};

static u64 rng_next(struct dml_layout *l)
{
	/* xorshift64*: deterministic per seed, good enough for placement */
	l->rng ^= l->rng >> 12;
	l->rng ^= l->rng << 25;
	l->rng ^= l->rng >> 27;
	return l->rng * 0x2545F4914F6CDD1DULL;
}

/* frames the allocator may hand out: below the carved top of the region */
static u64 nr_frames(struct dml_layout *l)
{
	return l->r->carve_top >> PAGE_SHIFT;
}

static bool take_random(struct dml_layout *l, u64 *frame)
{
	u64 n = nr_frames(l), f, i;

	if (!n)
		return false;
	for (i = 0; i < 64; i++) {
		f = rng_next(l) % n;
		if (dml__frame_take(l->r, f))
			goto found;
	}
	/* nearly full: probe linearly from a random point */
	f = rng_next(l) % n;
	for (i = 0; i < n; i++, f = (f + 1) % n)
		if (dml__frame_take(l->r, f))
			goto found;
	return false;
found:
	*frame = f;
	return true;
}

static bool take_desc(struct dml_layout *l, u64 *frame)
{
	if (l->cursor && l->cursor < nr_frames(l) && (rng_next(l) & 7) &&
	    dml__frame_take(l->r, l->cursor)) {
		*frame = l->cursor--;
		return true;
	}
	if (!take_random(l, frame))
		return false;
	l->cursor = *frame ? *frame - 1 : 0;
	return true;
}

static bool take_thp(struct dml_layout *l, u64 *frame)
{
	u64 chunks = nr_frames(l) / 512, c, f, i;

	while (l->cursor < l->chunk_end) {
		if (dml__frame_take(l->r, l->cursor)) {
			*frame = l->cursor++;
			return true;
		}
		l->cursor++;
	}
	/* a fresh chunk whose frames are all free */
	for (i = 0; i < chunks; i++) {
		c = (i < 64 ? rng_next(l) : i) % chunks;
		for (f = 0; f < 512; f++)
			if (l->r->frames[(c * 512 + f) >> 6] & (1ULL << ((c * 512 + f) & 63)))
				break;
		if (f < 512)
			continue;
		l->cursor = c * 512;
		l->chunk_end = l->cursor + 512;
		if (dml__frame_take(l->r, l->cursor)) {
			*frame = l->cursor++;
			return true;
		}
	}
	return false;
}

static bool take_file(struct dml_layout *l, u64 *frame)
{
	u64 n = nr_frames(l), tries;

	for (tries = 0; tries < l->lf.total_pages; tries++) {
		u64 f = (l->lf.pfn[l->file_run] + l->file_page) % n;

		if (++l->file_page == l->lf.npages[l->file_run]) {
			l->file_page = 0;
			l->file_run = (l->file_run + 1) % l->lf.nr_runs;
		}
		if (dml__frame_take(l->r, f)) {
			*frame = f;
			return true;
		}
	}
	return take_random(l, frame);
}

static bool take(struct dml_layout *l, u64 *frame)
{
	switch (l->kind) {
	case L_RANDOM:
		return take_random(l, frame);
	case L_DESC:
		return take_desc(l, frame);
	case L_THP:
		return take_thp(l, frame);
	case L_FILE:
		return take_file(l, frame);
	}
	return false;
}

int dml_layout_create(struct dml_platform *p, const char *spec,
		      struct dml_layout **out)
{
	struct dml_layout *l;
	unsigned int i;
	int ret;

	if (!p || p->kind != DML_PLATFORM_EMU || !spec || !out)
		return -EINVAL;
	l = dml__zalloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->p = p;
	for (i = 0; i < p->mem->nr && !l->r; i++)
		if (p->mem->r[i].flags & DML_REGION_RAM)
			l->r = &p->mem->r[i];
	l->rng = p->seed ? p->seed : 1;
	l->host_page = sysconf(_SC_PAGESIZE) > 0 ? (u64)sysconf(_SC_PAGESIZE) :
						    PAGE_SIZE;
	dml_spin_init(&l->lock);
	if (!strcmp(spec, "4k-random")) {
		l->kind = L_RANDOM;
	} else if (!strcmp(spec, "4k-descending")) {
		l->kind = L_DESC;
	} else if (!strcmp(spec, "thp")) {
		l->kind = L_THP;
	} else if (!strncmp(spec, "file:", 5)) {
		l->kind = L_FILE;
		ret = dml_layout_file_load(spec + 5, &l->lf);
		if (ret) {
			dml__free(l);
			return ret;
		}
	} else {
		dml__warn("unknown layout '%s' (4k-random, 4k-descending, thp, file:PATH)",
			  spec);
		dml__free(l);
		return -EINVAL;
	}
	if (!l->r) {
		dml_layout_destroy(l);
		return -EINVAL;
	}
	*out = l;
	return 0;
}

void dml_layout_destroy(struct dml_layout *l)
{
	if (!l)
		return;
	if (l->kind == L_FILE)
		dml_layout_file_free(&l->lf);
	dml__free(l);
}

/*
 * Give the host pages wholly inside frames [@f, @end) back to the host.
 * Called while the frames are still owned, so no other user of them can
 * have written there.
 */
static void release_host(struct dml_layout *l, u64 f, u64 end)
{
	u64 start = ALIGN(f << PAGE_SHIFT, l->host_page);
	u64 stop = ALIGN_DOWN(end << PAGE_SHIFT, l->host_page);

	if (start < stop)
		madvise(l->r->host + start, stop - start, MADV_DONTNEED);
}

void dml_layout_free(struct dml_layout *l, const struct dml_phys_range *ranges,
		     unsigned int nr)
{
	unsigned int i;
	u64 f, end;

	for (i = 0; i < nr; i++) {
		f = (ranges[i].phys - l->r->base) >> PAGE_SHIFT;
		end = DIV_ROUND_UP(ranges[i].phys - l->r->base + ranges[i].len,
				   PAGE_SIZE);
		release_host(l, f, end);
		for (; f < end; f++)
			dml__frame_put(l->r, f);
	}
}

int dml_layout_alloc(struct dml_layout *l, u64 bytes,
		     struct dml_phys_range *ranges, unsigned int max_ranges,
		     unsigned int *nr)
{
	u64 pages = DIV_ROUND_UP(bytes, PAGE_SIZE), i, frame;
	unsigned int n = 0;
	int ret = 0;

	*nr = 0;
	if (!bytes || !max_ranges)
		return -EINVAL;
	dml_spin_lock(&l->lock);
	for (i = 0; i < pages; i++) {
		phys_addr_t phys;

		if (!take(l, &frame)) {
			ret = -ENOMEM;
			break;
		}
		phys = l->r->base + (frame << PAGE_SHIFT);
		if (n && ranges[n - 1].phys + ranges[n - 1].len == phys) {
			ranges[n - 1].len += PAGE_SIZE;
			continue;
		}
		if (n == max_ranges) {
			dml__frame_put(l->r, frame);
			ret = -ENOSPC;
			break;
		}
		ranges[n].phys = phys;
		ranges[n].len = PAGE_SIZE;
		n++;
	}
	dml_spin_unlock(&l->lock);
	if (ret) {
		dml_layout_free(l, ranges, n);
		return ret;
	}
	/* trim the last page to the buffer's length */
	ranges[n - 1].len -= pages * PAGE_SIZE - bytes;
	*nr = n;
	return 0;
}
