/* SPDX-License-Identifier: MIT */
/*
 * iova.c - the checker's two-step state machine (dma_iova_try_alloc,
 * link, sync, unlink, destroy, free), which has no twin in the kernel's
 * kernel/dma/debug.c: each reservation is an entry of type "iova" that
 * owns its links, sorted by offset and disjoint; freed states are
 * remembered per device for use-after-free reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* first link whose end is > @off (links are sorted and disjoint) */
static size_t link_upper(const struct dbg_entry *st, u64 off)
{
	size_t lo = 0, hi = st->nr_links;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct dbg_link *l = st->links[mid];

		if (l->off + l->o.size <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct dbg_link *dml__dbg_link_at(const struct dbg_entry *st, u64 off)
{
	size_t i = link_upper(st, off);

	if (i < st->nr_links && st->links[i]->off <= off)
		return st->links[i];
	return NULL;
}

static unsigned long dev_granule(const struct dbg_dev *dd)
{
	const struct dml_domain *d = dd->dev->domain;

	return d ? d->granule : PAGE_SIZE;
}

/* the live reservation at @addr, or NULL */
static struct dbg_entry *state_at(const struct dbg_dev *dd, u64 addr)
{
	size_t k;

	for (k = dml__rix_lower(&dd->dma, addr);
	     k < dd->dma.n && dd->dma.v[k].start == addr; k++) {
		struct dbg_entry *e = dd->dma.v[k].obj;

		if (e->o.type == T_IOVA)
			return e;
	}
	return NULL;
}

/*
 * The freed state a call names: by what it names (@addr and @size, a copy
 * kept after the release) or, for a zeroed @state, by where it is kept.
 * Return: the record, or NULL.
 */
static const struct freed_state *freed_find(const struct dbg_dev *dd,
					    const struct dma_iova_state *state)
{
	u64 addr = (u64)state->addr, size = dma_iova_size(state);
	unsigned int i;

	for (i = 0; i < dd->nr_freed; i++) {
		const struct freed_state *f = &dd->freed[i];

		if (dma_use_iova(state) ? f->addr == addr && f->size == size :
					  f->state == state)
			return f;
	}
	return NULL;
}

static void report_use_after_free(struct ctx *c, const struct dbg_dev *dd,
				  const struct freed_state *f, const char *fn)
{
	dml__dbg_report(c, dd, DML_DMA_DEBUG_IOVA_USE_AFTER_FREE, &f->made,
			f->addr, f->size, NULL,
			"%s with an IOVA state after it was freed [iova address=0x%016llx] [size=%llu bytes]",
			fn, (unsigned long long)f->addr,
			(unsigned long long)f->size);
}

/*
 * find_state - the reservation @state names.  Reports a state never
 * allocated, or whose size does not match its reservation (a copy of a
 * freed state was refused before: dml__dma_debug_iova_freed()).
 * Return: the entry, or NULL (reported).
 */
static struct dbg_entry *find_state(struct ctx *c, struct dbg_dev *dd,
				    const struct dma_iova_state *state,
				    const char *fn)
{
	u64 addr = (u64)state->addr, size = dma_iova_size(state);
	struct dbg_entry *e = state_at(dd, addr);

	if (!e) {
		dml__dbg_report(c, dd, DML_DMA_DEBUG_IOVA_BAD_STATE, NULL,
				addr, size, NULL,
				"%s with an IOVA state it has not allocated [iova address=0x%016llx] [size=%llu bytes]",
				fn, (unsigned long long)addr,
				(unsigned long long)size);
		return NULL;
	}
	if (e->o.size != size)
		dml__dbg_report(c, dd, DML_DMA_DEBUG_IOVA_BAD_STATE,
				&e->o.made, addr, size, NULL,
				"%s with a state that does not match its reservation [iova address=0x%016llx] [state size=%llu bytes] [reserved size=%llu bytes]",
				fn, (unsigned long long)addr,
				(unsigned long long)size,
				(unsigned long long)e->o.size);
	return e;
}

bool dml__dma_debug_iova_freed(struct dml_device *dev,
			       const struct dma_iova_state *state,
			       const char *fn)
{
	struct ctx c = CTX_INIT;
	const struct freed_state *f = NULL;
	struct dbg_dev *dd;

	/* a zeroed state is the backend's to refuse, its hook's to report */
	if (!dma_use_iova(state))
		return false;
	dd = dml__dbg_dev_get(dev);
	if (!dd)
		return false;
	if (!state_at(dd, (u64)state->addr))
		f = freed_find(dd, state);
	if (f)
		report_use_after_free(&c, dd, f, fn);
	dml__dbg_unlock(&c);
	return f != NULL;
}

/* forget reservation @st of @state, remembering it as freed here */
static void state_release(struct dbg_dev *dd, struct dbg_entry *st,
			  const struct dma_iova_state *state)
{
	struct freed_state *f = &dd->freed[dd->freed_next];

	/* where it was allocated: unwinding again here would double the cost */
	f->addr = st->o.dev_addr;
	f->size = st->o.size;
	f->state = state;
	f->made = st->o.made;
	dd->freed_next = (dd->freed_next + 1) % FREED_RING;
	if (dd->nr_freed < FREED_RING)
		dd->nr_freed++;
	dml__dbg_entry_free(dd, st);
}

/* what a two-step hook says about a state dma_iova_try_alloc did not fill */
enum iova_unfilled {
	UNFILLED_QUIET,		/* nothing: no misuse (dma_iova_free) */
	UNFILLED_PLAIN,		/* the report, no detail */
	UNFILLED_RANGE,		/* the report with [offset] [size] */
	UNFILLED_LEN,		/* with [mapped_len] (the size); quiet for 0 */
};

/*
 * One two-step call as its hook checks it before its own work: @fn names
 * it in reports; @outside is the category reported, with @outside_what
 * starting the message, when the range it names is not inside the
 * reservation (@outside_what NULL: no range check, the hook makes its own).
 */
struct iova_op {
	const char *fn;
	enum iova_unfilled unfilled;
	enum dml_dma_debug_category outside;
	const char *outside_what;
};

static const struct iova_op op_link = {
	"dma_iova_link", UNFILLED_RANGE, DML_DMA_DEBUG_IOVA_LINK_OUTSIDE,
	"device driver links",
};
static const struct iova_op op_sync = {
	"dma_iova_sync", UNFILLED_PLAIN, DML_DMA_DEBUG_IOVA_SYNC_OUTSIDE,
	"device driver syncs",
};
static const struct iova_op op_unlink = {
	"dma_iova_unlink", UNFILLED_PLAIN, DML_DMA_DEBUG_IOVA_NOT_LINKED,
	"dma_iova_unlink of",
};
static const struct iova_op op_destroy = {
	"dma_iova_destroy", UNFILLED_LEN, DML_DMA_DEBUG_NR, NULL,
};
static const struct iova_op op_free = {
	"dma_iova_free", UNFILLED_QUIET, DML_DMA_DEBUG_NR, NULL,
};

/*
 * iova_op_begin - the preamble of the dma_iova_{link,sync,unlink,destroy,
 * free} hooks: the device's record (lock taken), a state zeroed by its
 * release (a use after free) or never filled by dma_iova_try_alloc, the
 * reservation the state names (find_state()) and
 * [@offset, +@size) inside it (bytes; destroy: @size is mapped_len).
 * *@ddp: the record, NULL when the device is not watched (nothing to
 * unlock).  Inlined so that a report's call trace is cut at the same depth
 * as from the hook itself.
 * Return: the reservation, or NULL (reported, or nothing to check).
 */
static inline __attribute__((always_inline)) struct dbg_entry *
iova_op_begin(struct ctx *c, struct dml_device *dev,
	      const struct dma_iova_state *state, const struct iova_op *op,
	      size_t offset, size_t size, struct dbg_dev **ddp)
{
	const struct freed_state *f;
	struct dbg_dev *dd;
	struct dbg_entry *st;
	char detail[64] = "";

	*ddp = NULL;
	dd = dml__dbg_dev_get(dev);
	*ddp = dd;
	if (!dd)
		return NULL;
	if (!dma_use_iova(state)) {
		/* zeroed by the release: the state is used after its free */
		f = freed_find(dd, state);
		if (f) {
			report_use_after_free(c, dd, f, op->fn);
			return NULL;
		}
		if (op->unfilled == UNFILLED_QUIET ||
		    (op->unfilled == UNFILLED_LEN && !size))
			return NULL;
		if (op->unfilled == UNFILLED_RANGE)
			snprintf(detail, sizeof(detail),
				 " [offset=%zu] [size=%zu bytes]", offset, size);
		else if (op->unfilled == UNFILLED_LEN)
			snprintf(detail, sizeof(detail), " [mapped_len=%zu]",
				 size);
		dml__dbg_report(c, dd, DML_DMA_DEBUG_IOVA_BAD_STATE, NULL,
				(u64)state->addr, size, NULL,
				"%s with a state dma_iova_try_alloc did not fill%s",
				op->fn, detail);
		return NULL;
	}
	st = find_state(c, dd, state, op->fn);
	if (st && dev->cc_guest)
		dml__dbg_cc_use(c, dd, st, op->fn);
	if (!st || !op->outside_what)
		return st;
	if (!size || offset >= st->o.size || size > st->o.size - offset) {
		dml__dbg_report(c, dd, op->outside, &st->o.made,
				st->o.dev_addr + offset, size, NULL,
				"%s %s [iova address=0x%016llx] [offset=%zu] [size=%zu bytes] [reserved size=%llu bytes]",
				op->outside_what,
				size ? "IOVA outside the reserved size" :
				       "zero bytes of IOVA",
				(unsigned long long)st->o.dev_addr, offset,
				size, (unsigned long long)st->o.size);
		return NULL;
	}
	return st;
}

void dml__dma_debug_iova_alloc(struct dml_device *dev,
			       const struct dma_iova_state *state)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd = dml__dbg_dev_get(dev);
	struct dbg_entry *e;
	unsigned int i;

	if (!dd)
		return;
	/* the caller's state is filled anew (or zeroed by a failure) */
	for (i = 0; i < dd->nr_freed; i++)
		if (dd->freed[i].state == state)
			dd->freed[i].state = NULL;
	if (!dma_use_iova(state))
		goto out;
	/* the IOVA is ours again: a stale record at it is gone */
	e = state_at(dd, (u64)state->addr);
	if (e)
		dml__dbg_entry_free(dd, e);
	for (i = 0; i < dd->nr_freed; i++)
		if (dd->freed[i].addr == (u64)state->addr)
			dd->freed[i].size = ~0ULL;
	dml__dbg_entry_new(&c, dd, T_IOVA, (u64)state->addr,
			   dma_iova_size(state), DMA_NONE, 0);
out:
	dml__dbg_unlock(&c);
}

/* granule-rounded footprint of [off, +size) of @st in IOVA space */
static void footprint(const struct dbg_entry *st, unsigned long g, u64 off,
		      u64 size, u64 *a, u64 *b)
{
	*a = ALIGN_DOWN(st->o.dev_addr + off, (u64)g);
	*b = ALIGN(st->o.dev_addr + off + size, (u64)g);
}

static int link_insert(struct dbg_entry *st, struct dbg_link *l)
{
	size_t pos = link_upper(st, l->off);

	if (st->nr_links == st->cap_links) {
		size_t cap = st->cap_links ? st->cap_links * 2 : 4;
		struct dbg_link **v = realloc(st->links, cap * sizeof(*v));

		if (!v) {
			dml__dbg_oom = true;
			return -ENOMEM;
		}
		st->links = v;
		st->cap_links = cap;
	}
	memmove(&st->links[pos + 1], &st->links[pos],
		(st->nr_links - pos) * sizeof(st->links[0]));
	st->links[pos] = l;
	st->nr_links++;
	return 0;
}

void dml__dma_debug_iova_link(struct dml_device *dev,
			      const struct dma_iova_state *state,
			      phys_addr_t phys, size_t offset, size_t size,
			      enum dma_data_direction dir, unsigned long attrs,
			      int ret)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	struct dbg_entry *st = iova_op_begin(&c, dev, state, &op_link,
					     offset, size, &dd);
	struct dbg_link *l;
	unsigned long g;
	bool bad = false;
	size_t i;

	if (!dd)
		return;
	if (!st)
		goto out;
	g = dev_granule(dd);
	/* bytes already linked */
	i = link_upper(st, offset);
	if (i < st->nr_links && st->links[i]->off < offset + size) {
		l = st->links[i];
		dml__dbg_report(&c, dd, DML_DMA_DEBUG_IOVA_LINK_OVERLAP,
				&l->o.made, st->o.dev_addr + offset, size, NULL,
				"device driver links IOVA over an offset already linked [iova address=0x%016llx] [offset=%zu] [size=%zu bytes] [linked offset=%llu] [linked size=%llu bytes]",
				(unsigned long long)st->o.dev_addr, offset,
				size, (unsigned long long)l->off,
				(unsigned long long)l->o.size);
		goto out;
	}
	/* the caller contract of dma-api.rst "Part Ie" */
	if (offset && ((u64)phys & (g - 1))) {
		dml__dbg_report(&c, dd, DML_DMA_DEBUG_IOVA_LINK_ALIGN,
				&st->o.made, st->o.dev_addr + offset, size,
				NULL,
				"device driver links an unaligned physical address at a non-zero offset [phys=0x%016llx] [offset=%zu] [granule=%lu]",
				(unsigned long long)phys, offset, g);
		bad = true;
	} else if ((st->o.dev_addr + offset - ((u64)phys & (g - 1))) & (g - 1)) {
		dml__dbg_report(&c, dd, DML_DMA_DEBUG_IOVA_LINK_ALIGN,
				&st->o.made, st->o.dev_addr + offset, size,
				NULL,
				"device driver links IOVA off the merge boundary [iova address=0x%016llx] [offset=%zu] [phys=0x%016llx] [granule=%lu]",
				(unsigned long long)st->o.dev_addr, offset,
				(unsigned long long)phys, g);
		bad = true;
	} else {
		u64 a, b, la, lb;
		size_t j;

		footprint(st, g, offset, size, &a, &b);
		for (j = i ? i - 1 : 0; j < st->nr_links && j <= i; j++) {
			l = st->links[j];
			footprint(st, g, l->off, l->o.size, &la, &lb);
			if (la < b && a < lb) {
				dml__dbg_report(&c, dd,
						DML_DMA_DEBUG_IOVA_LINK_ALIGN,
						&l->o.made,
						st->o.dev_addr + offset, size,
						NULL,
						"device driver links IOVA whose granule-rounded footprint overlaps another link [iova address=0x%016llx] [offset=%zu] [size=%zu bytes] [linked offset=%llu] [linked size=%llu bytes] (every link but the last must be a multiple of the merge boundary)",
						(unsigned long long)st->o.dev_addr,
						offset, size,
						(unsigned long long)l->off,
						(unsigned long long)l->o.size);
				bad = true;
				break;
			}
		}
	}
	if (ret || bad)
		goto out;
	l = calloc(1, sizeof(*l));
	if (!l) {
		dml__dbg_oom = true;
		goto out;
	}
	dml__dbg_obj_init(&c, &l->o, dd, T_LINK, st->o.dev_addr + offset, size,
			  dir, attrs);
	l->off = offset;
	l->phys = (u64)phys;
	dml__dbg_check_source(&c, dd, (u64)phys, size, attrs);
	if (dev->cc_guest)
		dml__dbg_cc_map(&c, dd, st, (u64)phys, size, attrs);
	if (link_insert(st, l)) {
		free(l);
		goto out;
	}
	if (obj_in_phys(dir, attrs) && !dml__dbg_phys_add(&c, &l->o, (u64)phys,
							  size))
		l->in_phys = true;
out:
	dml__dbg_unlock(&c);
}

void dml__dma_debug_iova_sync(struct dml_device *dev,
			      const struct dma_iova_state *state,
			      size_t offset, size_t size, int ret)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	struct dbg_entry *st = iova_op_begin(&c, dev, state, &op_sync,
					     offset, size, &dd);
	size_t i;

	if (!dd)
		return;
	if (!st || ret)
		goto out;
	for (i = link_upper(st, offset);
	     i < st->nr_links && st->links[i]->off < offset + size; i++)
		st->links[i]->synced = true;
out:
	dml__dbg_unlock(&c);
}

/*
 * check_links - is [off, off + len) of @st made of whole links?  Reports
 * a range not (all) linked, a range that splits a link, and links of
 * another direction.  Return: true when it is made of whole links.
 */
static bool check_links(struct ctx *c, struct dbg_dev *dd, struct dbg_entry *st,
			u64 off, u64 len, enum dma_data_direction dir,
			const char *fn)
{
	size_t i = link_upper(st, off);
	u64 at = off, end = off + len;
	bool ok = true;

	if (i == st->nr_links || st->links[i]->off > off) {
		ok = false;
	} else {
		for (; i < st->nr_links && st->links[i]->off < end; i++) {
			struct dbg_link *l = st->links[i];

			if (l->off > at)
				break;
			if (l->o.dir != dir) {
				dml__dbg_report(c, dd,
						DML_DMA_DEBUG_IOVA_WRONG_DIR,
						&l->o.made, l->o.dev_addr,
						l->o.size, NULL,
						"%s of IOVA with different direction [iova address=0x%016llx] [link offset=%llu] [size=%llu bytes] [linked with %s] [unlinked with %s]",
						fn,
						(unsigned long long)st->o.dev_addr,
						(unsigned long long)l->off,
						(unsigned long long)l->o.size,
						dml__dbg_dir_name(l->o.dir),
						dml__dbg_dir_name(dir));
				dir = l->o.dir;	/* once per call */
			}
			at = l->off + l->o.size;
		}
		if (at < end)
			ok = false;
	}
	if (!ok) {
		dml__dbg_report(c, dd, DML_DMA_DEBUG_IOVA_NOT_LINKED,
				&st->o.made, st->o.dev_addr + off, len, NULL,
				"%s of IOVA that is not linked [iova address=0x%016llx] [offset=%llu] [size=%llu bytes] [first unlinked offset=%llu]",
				fn, (unsigned long long)st->o.dev_addr,
				(unsigned long long)off,
				(unsigned long long)len,
				(unsigned long long)at);
		return false;
	}
	i = link_upper(st, off);
	if (st->links[i]->off != off || at != end) {
		struct dbg_link *l = st->links[i]->off != off ? st->links[i] :
				     dml__dbg_link_at(st, end - 1);

		dml__dbg_report(c, dd, DML_DMA_DEBUG_IOVA_SPLIT, &l->o.made,
				st->o.dev_addr + off, len, NULL,
				"%s of IOVA that splits a link [iova address=0x%016llx] [offset=%llu] [size=%llu bytes] [link offset=%llu] [link size=%llu bytes]",
				fn, (unsigned long long)st->o.dev_addr,
				(unsigned long long)off,
				(unsigned long long)len,
				(unsigned long long)l->off,
				(unsigned long long)l->o.size);
		return false;
	}
	return true;
}

/* drop the links of @st that intersect [off, off + len) */
static void drop_links(struct dbg_entry *st, u64 off, u64 len)
{
	size_t i = link_upper(st, off), j = i;

	while (j < st->nr_links && st->links[j]->off < off + len)
		dml__dbg_link_free(st->links[j++]);
	memmove(&st->links[i], &st->links[j],
		(st->nr_links - j) * sizeof(st->links[0]));
	st->nr_links -= j - i;
}

void dml__dma_debug_iova_unlink(struct dml_device *dev,
				const struct dma_iova_state *state,
				size_t offset, size_t size,
				enum dma_data_direction dir, int ret)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	struct dbg_entry *st = iova_op_begin(&c, dev, state, &op_unlink,
					     offset, size, &dd);

	if (!dd)
		return;
	if (!st)
		goto out;
	check_links(&c, dd, st, offset, size, dir, "dma_iova_unlink");
	if (!ret)
		drop_links(st, offset, size);
out:
	dml__dbg_unlock(&c);
}

/*
 * Would the backend's exact unmap of [0, len) succeed?  It unmaps whole
 * links at granule granularity: the links whose footprints meet the
 * rounded range must tile it exactly.
 */
static bool destroy_would_unmap(const struct dbg_entry *st, unsigned long g,
				u64 len)
{
	u64 a, b, at;
	size_t i;

	footprint(st, g, 0, len, &a, &b);
	at = a;
	for (i = 0; i < st->nr_links; i++) {
		u64 la, lb;

		footprint(st, g, st->links[i]->off, st->links[i]->o.size, &la,
			  &lb);
		if (lb <= a || la >= b)
			continue;
		if (la != at)
			return false;
		at = lb;
	}
	return at == b;
}

static void free_check(struct ctx *c, struct dbg_dev *dd, struct dbg_entry *st,
		       const struct dma_iova_state *state, const char *fn)
{
	if (st->nr_links) {
		dml__dbg_report(c, dd, DML_DMA_DEBUG_IOVA_FREE_LINKED,
				&st->links[0]->o.made, st->o.dev_addr,
				st->o.size, NULL,
				"%s of IOVA with links outstanding [iova address=0x%016llx] [size=%llu bytes] [links=%zu] [first link offset=%llu size=%llu bytes]",
				fn, (unsigned long long)st->o.dev_addr,
				(unsigned long long)st->o.size, st->nr_links,
				(unsigned long long)st->links[0]->off,
				(unsigned long long)st->links[0]->o.size);
		return;		/* the backend keeps the reservation */
	}
	state_release(dd, st, state);
}

void dml__dma_debug_iova_destroy(struct dml_device *dev,
				 const struct dma_iova_state *state,
				 size_t mapped_len, enum dma_data_direction dir)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	struct dbg_entry *st = iova_op_begin(&c, dev, state, &op_destroy,
					     0, mapped_len, &dd);
	size_t beyond = 0, i;

	if (!dd)
		return;
	if (!st)
		goto out;
	if (!mapped_len) {
		free_check(&c, dd, st, state, op_destroy.fn);
		goto out;
	}
	if (mapped_len > st->o.size) {
		dml__dbg_report(&c, dd, DML_DMA_DEBUG_IOVA_NOT_LINKED,
				&st->o.made, st->o.dev_addr, mapped_len, NULL,
				"dma_iova_destroy of IOVA outside the reserved size [iova address=0x%016llx] [mapped_len=%zu] [reserved size=%llu bytes]",
				(unsigned long long)st->o.dev_addr, mapped_len,
				(unsigned long long)st->o.size);
		goto out;	/* the backend refuses: nothing changes */
	}
	check_links(&c, dd, st, 0, mapped_len, dir, "dma_iova_destroy");
	i = link_upper(st, mapped_len);
	if (i < st->nr_links && st->links[i]->off < mapped_len)
		i++;	/* straddles mapped_len: reported as a split */
	beyond = st->nr_links - i;
	if (beyond)
		dml__dbg_report(&c, dd, DML_DMA_DEBUG_IOVA_FREE_LINKED,
				&st->links[st->nr_links - beyond]->o.made,
				st->o.dev_addr, st->o.size, NULL,
				"dma_iova_destroy of IOVA with links outstanding beyond mapped_len [iova address=0x%016llx] [mapped_len=%zu] [links beyond=%zu] (their page-table entries leak)",
				(unsigned long long)st->o.dev_addr, mapped_len,
				beyond);
	/* mirror the backend: it unmaps and frees only whole links */
	if (destroy_would_unmap(st, dev_granule(dd), mapped_len))
		state_release(dd, st, state);
out:
	dml__dbg_unlock(&c);
}

void dml__dma_debug_iova_free(struct dml_device *dev,
			      const struct dma_iova_state *state)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	struct dbg_entry *st = iova_op_begin(&c, dev, state, &op_free,
					     0, 0, &dd);

	if (!dd)
		return;
	if (st)
		free_check(&c, dd, st, state, op_free.fn);
	dml__dbg_unlock(&c);
}

