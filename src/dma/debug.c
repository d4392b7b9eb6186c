/* SPDX-License-Identifier: MIT */
/*
 * debug.c - the DMA-API checker (public side: dmalink/dma-debug.h).  It
 * follows the semantics of the kernel's kernel/dma/debug.c (ref §6: entry
 * per mapping, best-fit matching on unmap and sync, the error classes and
 * their wording) and is written from that description, not from the
 * kernel's code.  On top of it: the two-step IOVA state machine, and the
 * checks at the moment the emulated device or the CPU touches memory.
 *
 * Objects.
 *  - struct dbg_dev: one per watched device (registered when the device
 *    is added to its platform while the checker is on), found through a
 *    small pointer hash.  It holds the device's entries in a range index
 *    ordered by DMA address, and a ring of recently freed IOVA states
 *    (for use-after-free reports).
 *  - struct dbg_entry: one mapping as the kernel counts them: a
 *    dma_map_phys() range ("phy"), one DMA segment of a mapped scatterlist
 *    ("scatter-gather"), a coherent allocation, or - ours - an IOVA
 *    reservation ("iova") which owns its links (struct dbg_link, sorted by
 *    offset, disjoint).
 *  - the phys index: the CPU-side ranges of every live mapping that the
 *    device may write (direction other than DMA_TO_DEVICE) and that is not
 *    DMA_ATTR_MMIO, across all platforms: it finds overlapping cache lines
 *    at map time and device-owned buffers when the CPU maps memory.
 *
 * Range index: a sorted array of (start, len, object), ties in insertion
 * order, plus the longest length ever inserted, so "which ranges contain
 * x" is a binary search and a short backward scan.  Entries at the same
 * DMA address are legal (dma-direct maps the same memory twice), which is
 * why unmaps are matched best fit: exact size, type, direction and sg
 * count first; among several partial matches none is taken.
 *
 * Invariants: links of a reservation never overlap (a link the checker
 * finds overlapping is reported and not recorded); every object in the
 * phys index is live in a device's index; nothing outlives its dbg_dev.
 *
 * Locking: one mutex (dbg_lock) for everything here; reports are stored
 * under it and printed after it is dropped, so the message sink runs with
 * no dmalink lock held.  The hot paths of the DMA API only read the
 * global switch (dml__dma_debug_on) when the checker is off.
 *
 * Memory: the checker allocates with calloc/realloc, not through the
 * fault-injection hook, so that a dml_fail_nth() sweep sees the same
 * sequence of failure points with the checker on and off.  When the
 * checker itself runs out of memory it turns itself off, as the kernel's
 * does ("debugging out of memory - disabling").
 */
#include <execinfo.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug.h"

atomic_bool dml__dma_debug_on;

enum dbg_type {
	T_SG,
	T_COHERENT,
	T_NONCOHERENT,
	T_PHY,
	T_IOVA,
	T_LINK,
};

/* the kernel's type names (6.18: "page" and "resource" became "phy") */
static const char *const type_name[] = {
	[T_SG] = "scatter-gather",
	[T_COHERENT] = "coherent",
	[T_NONCOHERENT] = "noncoherent",
	[T_PHY] = "phy",
	[T_IOVA] = "iova",
	[T_LINK] = "iova link",
};

enum map_err {
	MAP_ERR_NOT_APPLICABLE,
	MAP_ERR_NOT_CHECKED,
	MAP_ERR_CHECKED,
};

static const char *const map_err_name[] = {
	[MAP_ERR_NOT_APPLICABLE] = "dma map error check not applicable",
	[MAP_ERR_NOT_CHECKED] = "dma map error not checked",
	[MAP_ERR_CHECKED] = "dma map error checked",
};

static const char *const cat_name[DML_DMA_DEBUG_NR] = {
	[DML_DMA_DEBUG_FREE_NOT_ALLOCATED] = "free-not-allocated",
	[DML_DMA_DEBUG_FREE_INVALID_ADDR] = "free-invalid-address",
	[DML_DMA_DEBUG_FREE_WRONG_SIZE] = "free-wrong-size",
	[DML_DMA_DEBUG_FREE_WRONG_FUNCTION] = "free-wrong-function",
	[DML_DMA_DEBUG_FREE_WRONG_CPU_ADDR] = "free-wrong-cpu-address",
	[DML_DMA_DEBUG_FREE_WRONG_SG_COUNT] = "free-wrong-sg-count",
	[DML_DMA_DEBUG_FREE_WRONG_DIR] = "free-wrong-direction",
	[DML_DMA_DEBUG_MAP_ERROR_NOT_CHECKED] = "map-error-not-checked",
	[DML_DMA_DEBUG_MAP_BAD_MEMORY] = "map-bad-memory",
	[DML_DMA_DEBUG_SYNC_NOT_ALLOCATED] = "sync-not-allocated",
	[DML_DMA_DEBUG_SYNC_OUTSIDE] = "sync-outside",
	[DML_DMA_DEBUG_SYNC_WRONG_DIR] = "sync-wrong-direction",
	[DML_DMA_DEBUG_SYNC_RO_FOR_CPU] = "sync-read-only-for-cpu",
	[DML_DMA_DEBUG_SYNC_WO_TO_DEVICE] = "sync-write-only-to-device",
	[DML_DMA_DEBUG_SYNC_WRONG_SG_COUNT] = "sync-wrong-sg-count",
	[DML_DMA_DEBUG_SG_TOO_LONG] = "sg-segment-too-long",
	[DML_DMA_DEBUG_SG_BOUNDARY] = "sg-segment-boundary",
	[DML_DMA_DEBUG_CACHELINE_OVERLAP] = "cacheline-overlap",
	[DML_DMA_DEBUG_LEAK] = "leak",
	[DML_DMA_DEBUG_IOVA_BAD_STATE] = "iova-bad-state",
	[DML_DMA_DEBUG_IOVA_USE_AFTER_FREE] = "iova-use-after-free",
	[DML_DMA_DEBUG_IOVA_LINK_OVERLAP] = "iova-link-overlap",
	[DML_DMA_DEBUG_IOVA_LINK_OUTSIDE] = "iova-link-outside",
	[DML_DMA_DEBUG_IOVA_LINK_ALIGN] = "iova-link-align",
	[DML_DMA_DEBUG_IOVA_SYNC_OUTSIDE] = "iova-sync-outside",
	[DML_DMA_DEBUG_IOVA_NOT_LINKED] = "iova-not-linked",
	[DML_DMA_DEBUG_IOVA_SPLIT] = "iova-split-link",
	[DML_DMA_DEBUG_IOVA_FREE_LINKED] = "iova-free-linked",
	[DML_DMA_DEBUG_IOVA_WRONG_DIR] = "iova-wrong-direction",
	[DML_DMA_DEBUG_DEV_NOT_MAPPED] = "device-not-mapped",
	[DML_DMA_DEBUG_DEV_NOT_LINKED] = "device-not-linked",
	[DML_DMA_DEBUG_DEV_NOT_SYNCED] = "device-not-synced",
	[DML_DMA_DEBUG_DEV_WRONG_DIR] = "device-wrong-direction",
	[DML_DMA_DEBUG_CPU_DEVICE_OWNED] = "cpu-device-owned",
};

static const char *dir_name(enum dma_data_direction dir)
{
	static const char *const names[] = {
		"DMA_BIDIRECTIONAL", "DMA_TO_DEVICE", "DMA_FROM_DEVICE",
		"DMA_NONE",
	};

	return (unsigned int)dir < ARRAY_SIZE(names) ? names[dir] : "DMA_INVALID";
}

#define CACHELINE 64ULL		/* L1_CACHE_BYTES on x86 */
#define FREED_RING 32		/* freed IOVA states remembered per device */
#define LEAK_LIST_MAX 16	/* mappings listed by a leak report */
#define INNER_FRAMES 6	/* the checker's own frames above the front door, at most */

/* ------------------------------------------------------------------ */
/* Objects                                                             */
/* ------------------------------------------------------------------ */

struct trace {
	void *f[DML_DMA_DEBUG_TRACE_DEPTH];
	unsigned int n;
};

struct dbg_dev;

/* what the phys index points at: an entry or a link */
struct dbg_obj {
	struct dbg_dev *dd;
	enum dbg_type type;
	enum dma_data_direction dir;
	unsigned long attrs;
	u64 dev_addr;
	u64 size;
	bool cpu_owned;		/* after sync_for_cpu, until sync_for_device */
	struct trace made;
};

struct dbg_link {
	struct dbg_obj o;
	u64 off;		/* in the reservation; o.dev_addr = addr + off */
	u64 phys;
	bool synced;
	bool in_phys;
};

struct cpu_range {
	u64 phys;
	u64 len;
};

struct dbg_entry {
	struct dbg_obj o;
	u64 phys;		/* first CPU byte; coherent: the CPU address */
	int sg_call_ents;
	int sg_mapped_ents;
	enum map_err map_err;
	struct cpu_range *cpu;	/* ranges in the phys index */
	unsigned int nr_cpu;
	struct cpu_range cpu1;
	struct dbg_link **links;	/* T_IOVA: sorted by offset */
	size_t nr_links;
	size_t cap_links;
};

struct rix_item {
	u64 start;
	u64 len;
	void *obj;
};

struct rix {
	struct rix_item *v;
	size_t n;
	size_t cap;
	u64 max_len;
};

struct freed_state {
	u64 addr;
	u64 size;
	struct trace made;
};

struct dbg_dev {
	struct dbg_dev *next;
	struct dml_device *dev;
	struct dml_platform *plat;
	char name[32];
	struct rix dma;
	struct freed_state freed[FREED_RING];
	unsigned int nr_freed;
	unsigned int freed_next;
};

#define DEV_HASH 64

static pthread_mutex_t dbg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dbg_dev *dev_hash[DEV_HASH];
static struct rix phys_ix;
static bool dbg_oom;

/* reports */
static u64 err_count;
static u64 cat_count[DML_DMA_DEBUG_NR];
static struct dml_dma_debug_error *kept;
static size_t nr_kept;
static size_t cap_kept;
static long show_left = 1;	/* < 0: all */
static unsigned int trace_depth = 5;	/* DMA_DEBUG_STACKTRACE_ENTRIES */
static bool abort_mode;

/* the CPU access hook mem/phys.c calls while the checker is on */
static void cpu_access_hook(struct dml_platform *p, phys_addr_t phys, u64 len);

/* ------------------------------------------------------------------ */
/* Range index                                                         */
/* ------------------------------------------------------------------ */

/* first index whose start is > @x */
static size_t rix_upper(const struct rix *r, u64 x)
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
static size_t rix_lower(const struct rix *r, u64 x)
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

static int rix_insert(struct rix *r, u64 start, u64 len, void *obj)
{
	size_t pos;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct rix_item *v = realloc(r->v, cap * sizeof(*v));

		if (!v) {
			dbg_oom = true;
			return -ENOMEM;
		}
		r->v = v;
		r->cap = cap;
	}
	pos = rix_upper(r, start);
	memmove(&r->v[pos + 1], &r->v[pos], (r->n - pos) * sizeof(r->v[0]));
	r->v[pos] = (struct rix_item){ .start = start, .len = len, .obj = obj };
	r->n++;
	if (len > r->max_len)
		r->max_len = len;
	return 0;
}

static void rix_remove(struct rix *r, u64 start, const void *obj)
{
	size_t i;

	for (i = rix_lower(r, start); i < r->n && r->v[i].start == start; i++) {
		if (r->v[i].obj == obj) {
			memmove(&r->v[i], &r->v[i + 1],
				(r->n - i - 1) * sizeof(r->v[0]));
			r->n--;
			return;
		}
	}
}

static void rix_fini(struct rix *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/*
 * rix_prev_overlap - walk the items that may overlap [@a, @b) backwards:
 * start from *@i (initially rix_lower(r, b)) and return the next index
 * whose item overlaps, or (size_t)-1 when none is left.
 */
static size_t rix_prev_overlap(const struct rix *r, size_t *i, u64 a, u64 b)
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

/* ------------------------------------------------------------------ */
/* Backtraces and reports                                              */
/* ------------------------------------------------------------------ */

/*
 * The call context of one hook: @from is the hook's return address (a
 * point inside the front door, or the DMA engine), where the call trace is
 * cut: it starts one frame further out, at the code that called the DMA
 * API (the front door's checker path is often reached by a tail call, so
 * the public function's own frame may be gone anyway).  Captured once,
 * when needed.
 */
struct ctx {
	void *from;
	struct trace call;
	bool have_call;
	char **pending;		/* texts to print once unlocked */
	size_t nr_pending;
	bool reported;		/* abort mode: something was reported */
};

#define CTX_INIT { .from = __builtin_return_address(0) }

/*
 * Unwinding is most of what the checker costs (glibc's backtrace() walks
 * DWARF tables, ~150 ns a frame): walk no more frames than are kept plus
 * the checker's own, and none at all with dml_dma_debug_set_trace_depth(0).
 */
static __attribute__((noinline)) void trace_capture(struct trace *t, void *from)
{
	void *raw[DML_DMA_DEBUG_TRACE_DEPTH + INNER_FRAMES + 1];
	int n, i, start;

	t->n = 0;
	if (!trace_depth)
		return;
	n = backtrace(raw, (int)(trace_depth + INNER_FRAMES + 1));
	start = n > 1 ? 1 : 0;

	for (i = 0; i < n; i++) {
		/* a return address points just after the call instruction */
		if ((char *)raw[i] == (char *)from) {
			start = i + 1 < n ? i + 1 : i;
			break;
		}
	}
	for (i = start; i < n && t->n < trace_depth; i++)
		t->f[t->n++] = raw[i];
}

static void ctx_call_trace(struct ctx *c)
{
	if (!c->have_call) {
		trace_capture(&c->call, c->from);
		c->have_call = true;
	}
}

/* append " #k symbol" lines of @t to @buf */
static size_t format_trace(char *buf, size_t cap, size_t len,
			   const char *title, const struct trace *t)
{
	char **sym;
	unsigned int i;

	if (!t->n || len >= cap)
		return len;
	sym = backtrace_symbols(t->f, (int)t->n);
	len += (size_t)snprintf(buf + len, cap - len, "\n%s", title);
	for (i = 0; i < t->n && len < cap; i++) {
		if (sym)
			len += (size_t)snprintf(buf + len, cap - len, "\n  #%u %s",
						i, sym[i]);
		else
			len += (size_t)snprintf(buf + len, cap - len, "\n  #%u %p",
						i, t->f[i]);
	}
	free(sym);
	return len < cap ? len : cap - 1;
}

static void keep_error(const struct dml_dma_debug_error *e)
{
	if (nr_kept == cap_kept) {
		size_t cap = cap_kept ? cap_kept * 2 : 16;
		struct dml_dma_debug_error *k;

		if (cap > DML_DMA_DEBUG_KEPT)
			cap = DML_DMA_DEBUG_KEPT;
		if (cap == cap_kept)
			return;
		k = realloc(kept, cap * sizeof(*k));
		if (!k)
			return;
		kept = k;
		cap_kept = cap;
	}
	kept[nr_kept++] = *e;
}

/*
 * report - count and keep one report, and queue its text for printing if
 * the show count allows.  @map: the mapping concerned, or NULL.  @extra:
 * more lines for the printed text only (the leak list), or NULL.
 * Called with dbg_lock held.
 */
static __attribute__((format(printf, 8, 9)))
void report(struct ctx *c, const struct dbg_dev *dd,
	    enum dml_dma_debug_category cat, const struct trace *map,
	    u64 addr, u64 size, const char *extra, const char *fmt, ...)
{
	struct dml_dma_debug_error e;
	size_t len;
	va_list ap;

	memset(&e, 0, sizeof(e));
	e.category = cat;
	e.addr = addr;
	e.size = size;
	snprintf(e.device, sizeof(e.device), "%s", dd ? dd->name : "");
	len = (size_t)snprintf(e.message, sizeof(e.message), "DMA-API: %s: ",
			       dd ? dd->name : "NULL");
	if (len < sizeof(e.message)) {
		va_start(ap, fmt);
		vsnprintf(e.message + len, sizeof(e.message) - len, fmt, ap);
		va_end(ap);
	}
	ctx_call_trace(c);
	memcpy(e.call_trace, c->call.f, sizeof(e.call_trace));
	e.call_depth = c->call.n;
	if (map) {
		memcpy(e.map_trace, map->f, sizeof(e.map_trace));
		e.map_depth = map->n;
	}

	err_count++;
	cat_count[cat]++;
	keep_error(&e);
	c->reported = true;

	if (show_left != 0 || abort_mode) {
		size_t cap = 8192;
		char *text = malloc(cap), **p;

		if (show_left > 0)
			show_left--;
		if (!text)
			return;
		len = (size_t)snprintf(text, cap, "%s", e.message);
		if (extra && len < cap)
			len += (size_t)snprintf(text + len, cap - len, "\n%s", extra);
		if (len >= cap)
			len = cap - 1;
		if (map)
			len = format_trace(text, cap, len, "Mapped at:", map);
		format_trace(text, cap, len, "Called at:", &c->call);
		p = realloc(c->pending, (c->nr_pending + 1) * sizeof(*p));
		if (!p) {
			free(text);
			return;
		}
		c->pending = p;
		c->pending[c->nr_pending++] = text;
	}
}

static void dbg_lock_take(void)
{
	pthread_mutex_lock(&dbg_lock);
}

static void disable_locked(void);

/* drop the lock, then print what was queued (and abort if told to) */
static void dbg_unlock(struct ctx *c)
{
	bool oom = dbg_oom;
	size_t i;

	if (oom) {
		disable_locked();
		dbg_oom = false;
	}
	pthread_mutex_unlock(&dbg_lock);
	if (oom)
		dml__log(0, "DMA-API: debugging out of memory - disabling");
	/*
	 * A report is one warning (its first line, counted by
	 * dml_warn_count()) and info lines after it, one per line: the
	 * message sink takes at most 511 characters at a time.
	 */
	for (i = 0; i < c->nr_pending; i++) {
		char *line = c->pending[i], *nl;
		int level = 1;

		for (;;) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = 0;
			dml__log(level, "%s", line);
			if (!nl)
				break;
			level = 2;
			line = nl + 1;
		}
		free(c->pending[i]);
	}
	free(c->pending);
	if (c->reported && abort_mode) {
		dml__log(0, "DMA-API: aborting on the first report (abort mode)");
		abort();
	}
}

/* ------------------------------------------------------------------ */
/* Devices                                                             */
/* ------------------------------------------------------------------ */

static unsigned int dev_slot(const struct dml_device *dev)
{
	return (unsigned int)(((uintptr_t)dev >> 6) % DEV_HASH);
}

static struct dbg_dev *dd_find(const struct dml_device *dev)
{
	struct dbg_dev *dd;

	for (dd = dev_hash[dev_slot(dev)]; dd; dd = dd->next)
		if (dd->dev == dev)
			return dd;
	return NULL;
}

static void phys_del(struct dbg_obj *o, u64 phys)
{
	rix_remove(&phys_ix, phys, o);
}

static void link_free(struct dbg_link *l)
{
	if (l->in_phys)
		phys_del(&l->o, l->phys);
	free(l);
}

static void entry_free(struct dbg_dev *dd, struct dbg_entry *e)
{
	unsigned int i;
	size_t j;

	rix_remove(&dd->dma, e->o.dev_addr, e);
	for (i = 0; i < e->nr_cpu; i++)
		phys_del(&e->o, e->cpu[i].phys);
	if (e->cpu != &e->cpu1)
		free(e->cpu);
	for (j = 0; j < e->nr_links; j++)
		link_free(e->links[j]);
	free(e->links);
	free(e);
}

static void dd_free(struct dbg_dev *dd)
{
	struct dbg_dev **pp;

	while (dd->dma.n)
		entry_free(dd, dd->dma.v[dd->dma.n - 1].obj);
	rix_fini(&dd->dma);
	for (pp = &dev_hash[dev_slot(dd->dev)]; *pp; pp = &(*pp)->next) {
		if (*pp == dd) {
			*pp = dd->next;
			break;
		}
	}
	free(dd);
}

static void disable_locked(void)
{
	unsigned int i;

	atomic_store(&dml__dma_debug_on, false);
	atomic_store(&dml__cpu_access_hook, NULL);
	for (i = 0; i < DEV_HASH; i++)
		while (dev_hash[i])
			dd_free(dev_hash[i]);
	rix_fini(&phys_ix);
}

void dml__dma_debug_device_add(struct dml_device *dev)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;

	dbg_lock_take();
	dd = dd_find(dev);
	if (dd)
		dd_free(dd);
	dd = calloc(1, sizeof(*dd));
	if (dd) {
		dd->dev = dev;
		dd->plat = dev->plat;
		snprintf(dd->name, sizeof(dd->name), "%s", dev->name);
		dd->next = dev_hash[dev_slot(dev)];
		dev_hash[dev_slot(dev)] = dd;
	} else {
		dbg_oom = true;
	}
	dbg_unlock(&c);
}

static u64 entry_count(const struct dbg_dev *dd)
{
	u64 n = 0;
	size_t i;

	for (i = 0; i < dd->dma.n; i++) {
		const struct dbg_entry *e = dd->dma.v[i].obj;

		n += 1 + e->nr_links;
	}
	return n;
}

/* append one "still mapped" line for @o to the leak list (LEAK_LIST_MAX) */
static void leak_line(char *list, size_t cap, size_t *len,
		      const struct dbg_obj *o, unsigned int *shown)
{
	char **sym;

	if (*len >= cap - 1 || *shown > LEAK_LIST_MAX)
		return;
	if ((*shown)++ == LEAK_LIST_MAX) {
		*len += (size_t)snprintf(list + *len, cap - *len, "%s  ...",
					 *len ? "\n" : "");
		return;
	}
	sym = o->made.n ? backtrace_symbols(o->made.f, (int)o->made.n) : NULL;
	*len += (size_t)snprintf(list + *len, cap - *len,
		"%s  still mapped: [%s] [device address=0x%016llx] [size=%llu bytes] [%s]%s%s",
		*len ? "\n" : "", type_name[o->type],
		(unsigned long long)o->dev_addr, (unsigned long long)o->size,
		o->type == T_IOVA ? "reserved" : dir_name(o->dir),
		sym ? " mapped at " : "", sym ? sym[0] : "");
	if (*len >= cap)
		*len = cap - 1;
	free(sym);
}

void dml__dma_debug_device_remove(struct dml_device *dev)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	u64 count;

	dbg_lock_take();
	dd = dd_find(dev);
	if (!dd) {
		dbg_unlock(&c);
		return;
	}
	count = entry_count(dd);
	if (count) {
		size_t cap = 8192, len = 0, i, j;
		char *list = calloc(1, cap);
		const struct dbg_entry *first = dd->dma.v[0].obj;
		unsigned int shown = 0;

		for (i = 0; list && i < dd->dma.n; i++) {
			const struct dbg_entry *e = dd->dma.v[i].obj;

			leak_line(list, cap, &len, &e->o, &shown);
			for (j = 0; j < e->nr_links; j++)
				leak_line(list, cap, &len, &e->links[j]->o, &shown);
		}
		report(&c, dd, DML_DMA_DEBUG_LEAK, &first->o.made,
		       first->o.dev_addr, first->o.size, list,
		       "device driver has pending DMA allocations while released from device [count=%llu]\n"
		       "One of leaked entries details: [device address=0x%016llx] [size=%llu bytes] [mapped with %s] [mapped as %s]",
		       (unsigned long long)count,
		       (unsigned long long)first->o.dev_addr,
		       (unsigned long long)first->o.size, dir_name(first->o.dir),
		       type_name[first->o.type]);
		free(list);
	}
	dd_free(dd);
	dbg_unlock(&c);
}

/* the watched record of @dev, with the lock taken; NULL (unlocked) if none */
static struct dbg_dev *dd_get(struct dml_device *dev)
{
	struct dbg_dev *dd;

	if (!dev)
		return NULL;
	dbg_lock_take();
	dd = dd_find(dev);
	if (!dd)
		pthread_mutex_unlock(&dbg_lock);
	return dd;
}

/* ------------------------------------------------------------------ */
/* Recording mappings                                                  */
/* ------------------------------------------------------------------ */

static bool obj_in_phys(enum dma_data_direction dir, unsigned long attrs)
{
	return dir != DMA_TO_DEVICE && !(attrs & DMA_ATTR_MMIO);
}

static struct dbg_obj *obj_of(const struct rix_item *it)
{
	return it->obj;
}

/*
 * Add a CPU range of @o to the phys index, after the kernel's cacheline
 * check: another live mapping the device may write sharing a cache line
 * (not suppressed by DMA_ATTR_SKIP_CPU_SYNC on the new mapping).
 */
static int phys_add(struct ctx *c, struct dbg_obj *o, u64 phys, u64 len)
{
	/*
	 * With a and b on cache-line boundaries, [s, s + l) shares a line
	 * with [a, b) exactly when it overlaps it.
	 */
	u64 a = ALIGN_DOWN(phys, CACHELINE), b = ALIGN(phys + len, CACHELINE);
	size_t i = rix_lower(&phys_ix, b), k;

	if (!(o->attrs & DMA_ATTR_SKIP_CPU_SYNC)) {
		while ((k = rix_prev_overlap(&phys_ix, &i, a, b)) != (size_t)-1) {
			const struct dbg_obj *other = obj_of(&phys_ix.v[k]);

			if (other->dd->plat != o->dd->plat)
				continue;
			report(c, o->dd, DML_DMA_DEBUG_CACHELINE_OVERLAP,
			       &other->made, phys, len, NULL,
			       "cacheline tracking EEXIST, overlapping mappings aren't supported [phys=0x%016llx] [size=%llu bytes] [overlaps %s device address=0x%016llx of %s mapped with %s]",
			       (unsigned long long)phys, (unsigned long long)len,
			       type_name[other->type],
			       (unsigned long long)other->dev_addr,
			       other->dd->name, dir_name(other->dir));
			break;
		}
	}
	return rix_insert(&phys_ix, phys, len, o);
}

/*
 * The kernel's source-memory checks (ref §6 item 4) on this platform:
 * emulated memory that no region backs or that is MMIO mapped without
 * DMA_ATTR_MMIO ("invalid area"), or carved for the DMA layer's own use,
 * e.g. page-table pages (our twin of "kernel text or rodata"); on the
 * vfio backend, where phys is a process address, the caller's stack.
 */
static void check_source(struct ctx *c, struct dbg_dev *dd, u64 phys, u64 len,
			 unsigned long attrs)
{
	struct dml_platform *p = dd->plat;
	u64 top;

	if ((attrs & DMA_ATTR_MMIO) || !len)
		return;
	if (p->kind == DML_PLATFORM_EMU) {
		struct dml_mem_region *r = dml__mem_find(p->mem, (phys_addr_t)phys, len);

		if (!r || !(r->flags & DML_REGION_RAM)) {
			report(c, dd, DML_DMA_DEBUG_MAP_BAD_MEMORY, NULL, phys, len, NULL,
			       "device driver maps memory from invalid area [phys=0x%016llx] [len=%llu]%s",
			       (unsigned long long)phys, (unsigned long long)len,
			       r ? " (MMIO without DMA_ATTR_MMIO)" : "");
			return;
		}
		/* carved from the top of a RAM region: [carve_top, size) */
		top = __atomic_load_n(&r->carve_top, __ATOMIC_RELAXED);
		if (top < r->size && phys + len > (u64)r->base + top)
			report(c, dd, DML_DMA_DEBUG_MAP_BAD_MEMORY, NULL, phys, len,
			       NULL,
			       "device driver maps memory from kernel text or rodata [phys=0x%016llx] [len=%llu] (memory the DMA layer owns: page tables, swiotlb)",
			       (unsigned long long)phys, (unsigned long long)len);
		return;
	}
	{
		pthread_attr_t at;
		void *stack;
		size_t ssize;

		if (pthread_getattr_np(pthread_self(), &at))
			return;
		if (!pthread_attr_getstack(&at, &stack, &ssize) &&
		    phys < (u64)(uintptr_t)stack + ssize &&
		    phys + len > (u64)(uintptr_t)stack)
			report(c, dd, DML_DMA_DEBUG_MAP_BAD_MEMORY, NULL, phys, len,
			       NULL, "device driver maps memory from stack [addr=%p]",
			       (void *)(uintptr_t)phys);
		pthread_attr_destroy(&at);
	}
}

static struct dbg_entry *entry_new(struct ctx *c, struct dbg_dev *dd,
				   enum dbg_type type, u64 dev_addr, u64 size,
				   enum dma_data_direction dir,
				   unsigned long attrs)
{
	struct dbg_entry *e = calloc(1, sizeof(*e));

	if (!e) {
		dbg_oom = true;
		return NULL;
	}
	e->o.dd = dd;
	e->o.type = type;
	e->o.dir = dir;
	e->o.attrs = attrs;
	e->o.dev_addr = dev_addr;
	e->o.size = size;
	e->cpu = &e->cpu1;
	trace_capture(&e->o.made, c->from);
	if (rix_insert(&dd->dma, dev_addr, size, e)) {
		free(e);
		return NULL;
	}
	return e;
}

/* put the CPU ranges of @e (already in e->cpu) in the phys index */
static void entry_add_cpu(struct ctx *c, struct dbg_entry *e)
{
	unsigned int i, n = e->nr_cpu;

	e->nr_cpu = 0;
	if (!obj_in_phys(e->o.dir, e->o.attrs))
		return;
	for (i = 0; i < n; i++) {
		if (phys_add(c, &e->o, e->cpu[i].phys, e->cpu[i].len))
			return;
		e->nr_cpu++;
	}
}

void dml__dma_debug_map_phys(struct dml_device *dev, phys_addr_t phys,
			     size_t size, enum dma_data_direction dir,
			     unsigned long attrs, dma_addr_t dma_addr)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	struct dbg_entry *e;

	if (dma_addr == DMA_MAPPING_ERROR)
		return;
	dd = dd_get(dev);
	if (!dd)
		return;
	check_source(&c, dd, (u64)phys, size, attrs);
	e = entry_new(&c, dd, T_PHY, (u64)dma_addr, size, dir, attrs);
	if (e) {
		e->phys = (u64)phys;
		e->map_err = MAP_ERR_NOT_CHECKED;
		e->cpu1 = (struct cpu_range){ .phys = (u64)phys, .len = size };
		e->nr_cpu = 1;
		entry_add_cpu(&c, e);
	}
	dbg_unlock(&c);
}

void dml__dma_debug_alloc_coherent(struct dml_device *dev, size_t size,
				   dma_addr_t dma_addr, const void *cpu_addr,
				   bool noncoherent,
				   enum dma_data_direction dir)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	struct dbg_entry *e;

	if (!cpu_addr || dma_addr == DMA_MAPPING_ERROR)
		return;
	dd = dd_get(dev);
	if (!dd)
		return;
	e = entry_new(&c, dd, noncoherent ? T_NONCOHERENT : T_COHERENT,
		      (u64)dma_addr, size, noncoherent ? dir : DMA_BIDIRECTIONAL,
		      0);
	if (e)
		e->phys = (u64)(uintptr_t)cpu_addr;
	dbg_unlock(&c);
}

/* ------------------------------------------------------------------ */
/* Unmap and free: check_unmap with best-fit matching                  */
/* ------------------------------------------------------------------ */

/* what an unmap, free or sync says about the mapping it means */
struct ref {
	enum dbg_type type;
	u64 dev_addr;
	u64 size;
	enum dma_data_direction dir;
	int sg_call_ents;
	u64 phys;		/* coherent: CPU address */
};

/*
 * Best fit among the entries at exactly ref->dev_addr: a perfect match
 * (size, type, direction, sg count) wins at once; otherwise the best
 * partial match, but only when it is the only candidate.
 */
static struct dbg_entry *find_exact(struct dbg_dev *dd, const struct ref *ref)
{
	struct dbg_entry *best = NULL;
	int matches = 0, best_lvl = -1;
	size_t i;

	for (i = rix_lower(&dd->dma, ref->dev_addr);
	     i < dd->dma.n && dd->dma.v[i].start == ref->dev_addr; i++) {
		struct dbg_entry *e = dd->dma.v[i].obj;
		int lvl = 0;

		matches++;
		lvl += e->o.size == ref->size;
		lvl += e->o.type == ref->type;
		lvl += e->o.dir == ref->dir;
		lvl += e->sg_call_ents == ref->sg_call_ents;
		if (lvl == 4)
			return e;
		if (lvl > best_lvl) {
			best_lvl = lvl;
			best = e;
		}
	}
	return matches == 1 ? best : NULL;
}

static void check_unmap(struct ctx *c, struct dbg_dev *dd, const struct ref *ref)
{
	struct dbg_entry *e = find_exact(dd, ref);

	if (!e) {
		if (ref->dev_addr == (u64)DMA_MAPPING_ERROR)
			report(c, dd, DML_DMA_DEBUG_FREE_INVALID_ADDR, NULL,
			       ref->dev_addr, ref->size, NULL,
			       "device driver tries to free an invalid DMA memory address");
		else
			report(c, dd, DML_DMA_DEBUG_FREE_NOT_ALLOCATED, NULL,
			       ref->dev_addr, ref->size, NULL,
			       "device driver tries to free DMA memory it has not allocated [device address=0x%016llx] [size=%llu bytes]",
			       (unsigned long long)ref->dev_addr,
			       (unsigned long long)ref->size);
		return;
	}
	if (ref->size != e->o.size)
		report(c, dd, DML_DMA_DEBUG_FREE_WRONG_SIZE, &e->o.made,
		       ref->dev_addr, ref->size, NULL,
		       "device driver frees DMA memory with different size [device address=0x%016llx] [map size=%llu bytes] [unmap size=%llu bytes]",
		       (unsigned long long)ref->dev_addr,
		       (unsigned long long)e->o.size,
		       (unsigned long long)ref->size);
	if (ref->type != e->o.type)
		report(c, dd, DML_DMA_DEBUG_FREE_WRONG_FUNCTION, &e->o.made,
		       ref->dev_addr, ref->size, NULL,
		       "device driver frees DMA memory with wrong function [device address=0x%016llx] [size=%llu bytes] [mapped as %s] [unmapped as %s]",
		       (unsigned long long)ref->dev_addr,
		       (unsigned long long)ref->size, type_name[e->o.type],
		       type_name[ref->type]);
	else if ((e->o.type == T_COHERENT || e->o.type == T_NONCOHERENT) &&
		 ref->phys != e->phys)
		report(c, dd, DML_DMA_DEBUG_FREE_WRONG_CPU_ADDR, &e->o.made,
		       ref->dev_addr, ref->size, NULL,
		       "device driver frees DMA memory with different CPU address [device address=0x%016llx] [size=%llu bytes] [cpu alloc address=0x%016llx] [cpu free address=0x%016llx]",
		       (unsigned long long)ref->dev_addr,
		       (unsigned long long)ref->size,
		       (unsigned long long)e->phys,
		       (unsigned long long)ref->phys);
	if (ref->sg_call_ents && ref->type == T_SG &&
	    ref->sg_call_ents != e->sg_call_ents)
		report(c, dd, DML_DMA_DEBUG_FREE_WRONG_SG_COUNT, &e->o.made,
		       ref->dev_addr, ref->size, NULL,
		       "device driver frees DMA sg list with different entry count [map count=%d] [unmap count=%d]",
		       e->sg_call_ents, ref->sg_call_ents);
	if (ref->dir != e->o.dir)
		report(c, dd, DML_DMA_DEBUG_FREE_WRONG_DIR, &e->o.made,
		       ref->dev_addr, ref->size, NULL,
		       "device driver frees DMA memory with different direction [device address=0x%016llx] [size=%llu bytes] [mapped with %s] [unmapped with %s]",
		       (unsigned long long)ref->dev_addr,
		       (unsigned long long)ref->size, dir_name(e->o.dir),
		       dir_name(ref->dir));
	if (e->map_err == MAP_ERR_NOT_CHECKED)
		report(c, dd, DML_DMA_DEBUG_MAP_ERROR_NOT_CHECKED, &e->o.made,
		       ref->dev_addr, ref->size, NULL,
		       "device driver failed to check map error [device address=0x%016llx] [size=%llu bytes] [mapped as %s]",
		       (unsigned long long)ref->dev_addr,
		       (unsigned long long)ref->size, type_name[e->o.type]);
	/* an IOVA reservation is not released by a streaming unmap */
	if (e->o.type != T_IOVA)
		entry_free(dd, e);
}

void dml__dma_debug_unmap_phys(struct dml_device *dev, dma_addr_t addr,
			       size_t size, enum dma_data_direction dir,
			       unsigned long attrs)
{
	struct ctx c = CTX_INIT;
	struct ref ref = { .type = T_PHY, .dev_addr = (u64)addr, .size = size,
			   .dir = dir };
	struct dbg_dev *dd = dd_get(dev);

	(void)attrs;
	if (!dd)
		return;
	check_unmap(&c, dd, &ref);
	dbg_unlock(&c);
}

void dml__dma_debug_free_coherent(struct dml_device *dev, size_t size,
				  const void *cpu_addr, dma_addr_t dma_addr,
				  bool noncoherent,
				  enum dma_data_direction dir)
{
	struct ctx c = CTX_INIT;
	struct ref ref = {
		.type = noncoherent ? T_NONCOHERENT : T_COHERENT,
		.dev_addr = (u64)dma_addr,
		.size = size,
		.dir = noncoherent ? dir : DMA_BIDIRECTIONAL,
		.phys = (u64)(uintptr_t)cpu_addr,
	};
	struct dbg_dev *dd;

	if (!cpu_addr)
		return;
	dd = dd_get(dev);
	if (!dd)
		return;
	check_unmap(&c, dd, &ref);
	dbg_unlock(&c);
}

void dml__dma_debug_mapping_error(struct dml_device *dev, dma_addr_t addr)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd = dd_get(dev);
	size_t i;

	if (!dd)
		return;
	for (i = rix_lower(&dd->dma, (u64)addr);
	     i < dd->dma.n && dd->dma.v[i].start == (u64)addr; i++) {
		struct dbg_entry *e = dd->dma.v[i].obj;

		if (e->map_err == MAP_ERR_NOT_CHECKED) {
			e->map_err = MAP_ERR_CHECKED;
			break;
		}
	}
	dbg_unlock(&c);
}

/* ------------------------------------------------------------------ */
/* Scatterlists                                                        */
/* ------------------------------------------------------------------ */

void dml__dma_debug_map_sg(struct dml_device *dev, struct scatterlist *sgl,
			   int nents, int mapped_ents,
			   enum dma_data_direction dir, unsigned long attrs)
{
	struct ctx c = CTX_INIT;
	struct scatterlist *s, *cpu = sgl;
	struct dbg_dev *dd;
	int i, ci = 0;

	if (mapped_ents <= 0)
		return;
	dd = dd_get(dev);
	if (!dd)
		return;
	for_each_sg(sgl, s, nents, i)
		check_source(&c, dd, (u64)sg_phys(s), s->length, attrs);
	for_each_sg(sgl, s, mapped_ents, i) {
		u64 start = (u64)sg_dma_address(s), len = sg_dma_len(s);
		u64 end = start + len - 1, boundary = dev->seg_boundary_mask;
		struct dbg_entry *e;
		u64 rem = len;
		unsigned int k = 0;

		if (len > dev->max_segment_size)
			report(&c, dd, DML_DMA_DEBUG_SG_TOO_LONG, NULL, start, len,
			       NULL, "mapping sg segment longer than device claims to support [len=%llu] [max=%u]",
			       (unsigned long long)len, dev->max_segment_size);
		if (len && ((start ^ end) & ~boundary))
			report(&c, dd, DML_DMA_DEBUG_SG_BOUNDARY, NULL, start, len,
			       NULL, "mapping sg segment across boundary [start=0x%016llx] [end=0x%016llx] [boundary=0x%016llx]",
			       (unsigned long long)start, (unsigned long long)end,
			       (unsigned long long)boundary);
		e = entry_new(&c, dd, T_SG, start, len, dir, attrs);
		if (!e)
			break;
		e->sg_call_ents = nents;
		e->sg_mapped_ents = mapped_ents;
		e->map_err = MAP_ERR_NOT_APPLICABLE;
		e->phys = cpu && ci < nents ? (u64)sg_phys(cpu) : 0;
		/* the CPU entries this DMA segment was merged from, in order */
		if (obj_in_phys(dir, attrs)) {
			struct scatterlist *t = cpu;
			int tc = ci;

			while (t && tc < nents && rem) {
				rem -= min(rem, (u64)t->length);
				k++;
				t = sg_next(t);
				tc++;
			}
			if (k > 1) {
				e->cpu = calloc(k, sizeof(*e->cpu));
				if (!e->cpu) {
					e->cpu = &e->cpu1;
					dbg_oom = true;
					break;
				}
			}
		}
		rem = len;
		while (cpu && ci < nents && rem) {
			u64 l = min(rem, (u64)cpu->length);

			if (e->nr_cpu < k)
				e->cpu[e->nr_cpu++] = (struct cpu_range){
					.phys = (u64)sg_phys(cpu), .len = l };
			rem -= l;
			cpu = sg_next(cpu);
			ci++;
		}
		entry_add_cpu(&c, e);
	}
	dbg_unlock(&c);
}

/*
 * Walk the DMA segments of a mapped list as dma-debug does: the first
 * entry tells how many segments the map made (sg_mapped_ents); each one
 * is checked by @check (unmap or sync), under the checker's lock.
 */
static void sg_walk(struct dml_device *dev, struct scatterlist *sgl,
		    int nents, enum dma_data_direction dir,
		    void (*check)(struct ctx *c, struct dbg_dev *dd,
				  const struct ref *ref, bool to_cpu),
		    bool to_cpu)
{
	struct ctx c = CTX_INIT;
	struct scatterlist *s;
	struct dbg_dev *dd = dd_get(dev);
	int i, mapped_ents = 0;

	if (!dd)
		return;
	for_each_sg(sgl, s, nents, i) {
		struct ref ref = {
			.type = T_SG,
			.dev_addr = (u64)sg_dma_address(s),
			.size = sg_dma_len(s),
			.dir = dir,
			.sg_call_ents = nents,
		};

		if (!i) {
			struct dbg_entry *e = find_exact(dd, &ref);

			mapped_ents = e ? e->sg_mapped_ents : 0;
		}
		if (mapped_ents && i >= mapped_ents)
			break;
		check(&c, dd, &ref, to_cpu);
		if (!mapped_ents)
			break;
	}
	dbg_unlock(&c);
}

static void check_unmap_sg(struct ctx *c, struct dbg_dev *dd,
			   const struct ref *ref, bool to_cpu)
{
	(void)to_cpu;
	check_unmap(c, dd, ref);
}

void dml__dma_debug_unmap_sg(struct dml_device *dev, struct scatterlist *sgl,
			     int nents, enum dma_data_direction dir)
{
	sg_walk(dev, sgl, nents, dir, check_unmap_sg, false);
}

/* ------------------------------------------------------------------ */
/* Syncs                                                               */
/* ------------------------------------------------------------------ */

/* the entry containing [addr, +size), best fit; links are looked up by
 * the caller for IOVA reservations */
static struct dbg_entry *find_contain(struct dbg_dev *dd, const struct ref *ref)
{
	struct dbg_entry *best = NULL;
	int matches = 0, best_lvl = -1;
	size_t i = rix_upper(&dd->dma, ref->dev_addr), k;

	while ((k = rix_prev_overlap(&dd->dma, &i, ref->dev_addr,
				     ref->dev_addr + 1)) != (size_t)-1) {
		struct dbg_entry *e = dd->dma.v[k].obj;
		int lvl = 0;

		matches++;
		lvl += e->o.size >= ref->size;
		lvl += e->o.type == ref->type;
		lvl += e->o.dir == ref->dir;
		lvl += e->sg_call_ents == ref->sg_call_ents;
		if (lvl == 4)
			return e;
		if (lvl > best_lvl) {
			best_lvl = lvl;
			best = e;
		}
	}
	return matches == 1 ? best : NULL;
}

static struct dbg_link *link_at(const struct dbg_entry *st, u64 off);

static void check_sync(struct ctx *c, struct dbg_dev *dd, const struct ref *ref,
		       bool to_cpu)
{
	struct dbg_entry *e = find_contain(dd, ref);
	struct dbg_obj *o;
	u64 end;

	if (!e) {
		report(c, dd, DML_DMA_DEBUG_SYNC_NOT_ALLOCATED, NULL, ref->dev_addr,
		       ref->size, NULL,
		       "device driver tries to sync DMA memory it has not allocated [device address=0x%016llx] [size=%llu bytes]",
		       (unsigned long long)ref->dev_addr,
		       (unsigned long long)ref->size);
		return;
	}
	o = &e->o;
	if (e->o.type == T_IOVA) {
		/* dma_sync_single_* on a two-step address: the link decides */
		struct dbg_link *l = link_at(e, ref->dev_addr - e->o.dev_addr);

		if (!l) {
			report(c, dd, DML_DMA_DEBUG_SYNC_NOT_ALLOCATED, &e->o.made,
			       ref->dev_addr, ref->size, NULL,
			       "device driver tries to sync DMA memory it has not allocated [device address=0x%016llx] [size=%llu bytes] (reserved IOVA, not linked)",
			       (unsigned long long)ref->dev_addr,
			       (unsigned long long)ref->size);
			return;
		}
		o = &l->o;
	}
	end = ref->dev_addr - o->dev_addr + ref->size;
	if (end > o->size || end < ref->size)
		report(c, dd, DML_DMA_DEBUG_SYNC_OUTSIDE, &o->made, ref->dev_addr,
		       ref->size, NULL,
		       "device driver syncs DMA memory outside allocated range [device address=0x%016llx] [allocation size=%llu bytes] [sync offset+size=%llu]",
		       (unsigned long long)o->dev_addr,
		       (unsigned long long)o->size, (unsigned long long)end);
	if (ref->sg_call_ents && ref->type == T_SG &&
	    ref->sg_call_ents != e->sg_call_ents)
		report(c, dd, DML_DMA_DEBUG_SYNC_WRONG_SG_COUNT, &o->made,
		       ref->dev_addr, ref->size, NULL,
		       "device driver syncs DMA sg list with different entry count [map count=%d] [sync count=%d]",
		       e->sg_call_ents, ref->sg_call_ents);
	o->cpu_owned = to_cpu;
	if (o->dir == DMA_BIDIRECTIONAL)
		return;
	if (ref->dir != o->dir)
		report(c, dd, DML_DMA_DEBUG_SYNC_WRONG_DIR, &o->made, ref->dev_addr,
		       ref->size, NULL,
		       "device driver syncs DMA memory with different direction [device address=0x%016llx] [size=%llu bytes] [mapped with %s] [synced with %s]",
		       (unsigned long long)ref->dev_addr,
		       (unsigned long long)o->size, dir_name(o->dir),
		       dir_name(ref->dir));
	if (to_cpu && o->dir != DMA_FROM_DEVICE && ref->dir != DMA_TO_DEVICE)
		report(c, dd, DML_DMA_DEBUG_SYNC_RO_FOR_CPU, &o->made,
		       ref->dev_addr, ref->size, NULL,
		       "device driver syncs device read-only DMA memory for cpu [device address=0x%016llx] [size=%llu bytes] [mapped with %s] [synced with %s]",
		       (unsigned long long)ref->dev_addr,
		       (unsigned long long)o->size, dir_name(o->dir),
		       dir_name(ref->dir));
	if (!to_cpu && o->dir != DMA_TO_DEVICE && ref->dir != DMA_FROM_DEVICE)
		report(c, dd, DML_DMA_DEBUG_SYNC_WO_TO_DEVICE, &o->made,
		       ref->dev_addr, ref->size, NULL,
		       "device driver syncs device write-only DMA memory to device [device address=0x%016llx] [size=%llu bytes] [mapped with %s] [synced with %s]",
		       (unsigned long long)ref->dev_addr,
		       (unsigned long long)o->size, dir_name(o->dir),
		       dir_name(ref->dir));
}

void dml__dma_debug_sync_single(struct dml_device *dev, dma_addr_t addr,
				size_t size, enum dma_data_direction dir,
				bool to_cpu)
{
	struct ctx c = CTX_INIT;
	struct ref ref = { .type = T_PHY, .dev_addr = (u64)addr, .size = size,
			   .dir = dir };
	struct dbg_dev *dd = dd_get(dev);

	if (!dd)
		return;
	check_sync(&c, dd, &ref, to_cpu);
	dbg_unlock(&c);
}

void dml__dma_debug_sync_sg(struct dml_device *dev, struct scatterlist *sgl,
			    int nelems, enum dma_data_direction dir,
			    bool to_cpu)
{
	sg_walk(dev, sgl, nelems, dir, check_sync, to_cpu);
}

/* ------------------------------------------------------------------ */
/* The two-step API                                                    */
/* ------------------------------------------------------------------ */

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

static struct dbg_link *link_at(const struct dbg_entry *st, u64 off)
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

/*
 * find_state - the reservation @state names.  Reports a state never
 * allocated, freed, or whose size does not match its reservation.
 * Return: the entry, or NULL (reported).
 */
static struct dbg_entry *find_state(struct ctx *c, struct dbg_dev *dd,
				    const struct dma_iova_state *state,
				    const char *fn)
{
	u64 addr = (u64)state->addr, size = dma_iova_size(state);
	unsigned int i;
	size_t k;

	for (k = rix_lower(&dd->dma, addr);
	     k < dd->dma.n && dd->dma.v[k].start == addr; k++) {
		struct dbg_entry *e = dd->dma.v[k].obj;

		if (e->o.type != T_IOVA)
			continue;
		if (e->o.size != size)
			report(c, dd, DML_DMA_DEBUG_IOVA_BAD_STATE, &e->o.made, addr,
			       size, NULL,
			       "%s with a state that does not match its reservation [iova address=0x%016llx] [state size=%llu bytes] [reserved size=%llu bytes]",
			       fn, (unsigned long long)addr,
			       (unsigned long long)size,
			       (unsigned long long)e->o.size);
		return e;
	}
	for (i = 0; i < dd->nr_freed; i++) {
		const struct freed_state *f = &dd->freed[i];

		if (f->addr == addr && f->size == size) {
			report(c, dd, DML_DMA_DEBUG_IOVA_USE_AFTER_FREE, &f->made,
			       addr, size, NULL,
			       "%s with an IOVA state after it was freed [iova address=0x%016llx] [size=%llu bytes]",
			       fn, (unsigned long long)addr,
			       (unsigned long long)size);
			return NULL;
		}
	}
	report(c, dd, DML_DMA_DEBUG_IOVA_BAD_STATE, NULL, addr, size, NULL,
	       "%s with an IOVA state it has not allocated [iova address=0x%016llx] [size=%llu bytes]",
	       fn, (unsigned long long)addr, (unsigned long long)size);
	return NULL;
}

/* forget reservation @st, remembering it as freed here */
static void state_release(struct ctx *c, struct dbg_dev *dd, struct dbg_entry *st)
{
	struct freed_state *f = &dd->freed[dd->freed_next];

	/* where it was allocated: unwinding again here would double the cost */
	(void)c;
	f->addr = st->o.dev_addr;
	f->size = st->o.size;
	f->made = st->o.made;
	dd->freed_next = (dd->freed_next + 1) % FREED_RING;
	if (dd->nr_freed < FREED_RING)
		dd->nr_freed++;
	entry_free(dd, st);
}

void dml__dma_debug_iova_alloc(struct dml_device *dev,
			       const struct dma_iova_state *state)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd = dd_get(dev);
	unsigned int i;
	size_t k;

	if (!dd)
		return;
	/* the IOVA is ours again: a stale record at it is gone */
	for (k = rix_lower(&dd->dma, (u64)state->addr);
	     k < dd->dma.n && dd->dma.v[k].start == (u64)state->addr; k++) {
		struct dbg_entry *e = dd->dma.v[k].obj;

		if (e->o.type == T_IOVA) {
			entry_free(dd, e);
			break;
		}
	}
	for (i = 0; i < dd->nr_freed; i++)
		if (dd->freed[i].addr == (u64)state->addr)
			dd->freed[i].size = ~0ULL;
	entry_new(&c, dd, T_IOVA, (u64)state->addr, dma_iova_size(state),
		  DMA_NONE, 0);
	dbg_unlock(&c);
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
			dbg_oom = true;
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
	struct dbg_dev *dd = dd_get(dev);
	struct dbg_entry *st;
	struct dbg_link *l;
	unsigned long g;
	bool bad = false;
	size_t i;

	if (!dd)
		return;
	if (!dma_use_iova(state)) {
		report(&c, dd, DML_DMA_DEBUG_IOVA_BAD_STATE, NULL, (u64)state->addr,
		       size, NULL,
		       "dma_iova_link with a state dma_iova_try_alloc did not fill [offset=%zu] [size=%zu bytes]",
		       offset, size);
		goto out;
	}
	st = find_state(&c, dd, state, "dma_iova_link");
	if (!st)
		goto out;
	g = dev_granule(dd);
	if (!size || offset >= st->o.size || size > st->o.size - offset) {
		report(&c, dd, DML_DMA_DEBUG_IOVA_LINK_OUTSIDE, &st->o.made,
		       st->o.dev_addr + offset, size, NULL,
		       "device driver links IOVA outside the reserved size [iova address=0x%016llx] [offset=%zu] [size=%zu bytes] [reserved size=%llu bytes]",
		       (unsigned long long)st->o.dev_addr, offset, size,
		       (unsigned long long)st->o.size);
		goto out;
	}
	/* bytes already linked */
	i = link_upper(st, offset);
	if (i < st->nr_links && st->links[i]->off < offset + size) {
		l = st->links[i];
		report(&c, dd, DML_DMA_DEBUG_IOVA_LINK_OVERLAP, &l->o.made,
		       st->o.dev_addr + offset, size, NULL,
		       "device driver links IOVA over an offset already linked [iova address=0x%016llx] [offset=%zu] [size=%zu bytes] [linked offset=%llu] [linked size=%llu bytes]",
		       (unsigned long long)st->o.dev_addr, offset, size,
		       (unsigned long long)l->off,
		       (unsigned long long)l->o.size);
		goto out;
	}
	/* the caller contract of dma-api.rst "Part Ie" */
	if (offset && ((u64)phys & (g - 1))) {
		report(&c, dd, DML_DMA_DEBUG_IOVA_LINK_ALIGN, &st->o.made,
		       st->o.dev_addr + offset, size, NULL,
		       "device driver links an unaligned physical address at a non-zero offset [phys=0x%016llx] [offset=%zu] [granule=%lu]",
		       (unsigned long long)phys, offset, g);
		bad = true;
	} else if ((st->o.dev_addr + offset - ((u64)phys & (g - 1))) & (g - 1)) {
		report(&c, dd, DML_DMA_DEBUG_IOVA_LINK_ALIGN, &st->o.made,
		       st->o.dev_addr + offset, size, NULL,
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
				report(&c, dd, DML_DMA_DEBUG_IOVA_LINK_ALIGN,
				       &l->o.made, st->o.dev_addr + offset, size,
				       NULL,
				       "device driver links IOVA whose granule-rounded footprint overlaps another link [iova address=0x%016llx] [offset=%zu] [size=%zu bytes] [linked offset=%llu] [linked size=%llu bytes] (every link but the last must be a multiple of the merge boundary)",
				       (unsigned long long)st->o.dev_addr, offset,
				       size, (unsigned long long)l->off,
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
		dbg_oom = true;
		goto out;
	}
	l->o.dd = dd;
	l->o.type = T_LINK;
	l->o.dir = dir;
	l->o.attrs = attrs;
	l->o.dev_addr = st->o.dev_addr + offset;
	l->o.size = size;
	l->off = offset;
	l->phys = (u64)phys;
	trace_capture(&l->o.made, c.from);
	check_source(&c, dd, (u64)phys, size, attrs);
	if (link_insert(st, l)) {
		free(l);
		goto out;
	}
	if (obj_in_phys(dir, attrs) && !phys_add(&c, &l->o, (u64)phys, size))
		l->in_phys = true;
out:
	dbg_unlock(&c);
}

void dml__dma_debug_iova_sync(struct dml_device *dev,
			      const struct dma_iova_state *state,
			      size_t offset, size_t size, int ret)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd = dd_get(dev);
	struct dbg_entry *st;
	size_t i;

	if (!dd)
		return;
	if (!dma_use_iova(state)) {
		report(&c, dd, DML_DMA_DEBUG_IOVA_BAD_STATE, NULL, (u64)state->addr,
		       size, NULL,
		       "dma_iova_sync with a state dma_iova_try_alloc did not fill");
		goto out;
	}
	st = find_state(&c, dd, state, "dma_iova_sync");
	if (!st)
		goto out;
	if (!size || offset >= st->o.size || size > st->o.size - offset) {
		report(&c, dd, DML_DMA_DEBUG_IOVA_SYNC_OUTSIDE, &st->o.made,
		       st->o.dev_addr + offset, size, NULL,
		       "device driver syncs IOVA outside the reserved size [iova address=0x%016llx] [offset=%zu] [size=%zu bytes] [reserved size=%llu bytes]",
		       (unsigned long long)st->o.dev_addr, offset, size,
		       (unsigned long long)st->o.size);
		goto out;
	}
	if (ret)
		goto out;
	for (i = link_upper(st, offset);
	     i < st->nr_links && st->links[i]->off < offset + size; i++)
		st->links[i]->synced = true;
out:
	dbg_unlock(&c);
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
				report(c, dd, DML_DMA_DEBUG_IOVA_WRONG_DIR, &l->o.made,
				       l->o.dev_addr, l->o.size, NULL,
				       "%s of IOVA with different direction [iova address=0x%016llx] [link offset=%llu] [size=%llu bytes] [linked with %s] [unlinked with %s]",
				       fn, (unsigned long long)st->o.dev_addr,
				       (unsigned long long)l->off,
				       (unsigned long long)l->o.size,
				       dir_name(l->o.dir), dir_name(dir));
				dir = l->o.dir;	/* once per call */
			}
			at = l->off + l->o.size;
		}
		if (at < end)
			ok = false;
	}
	if (!ok) {
		report(c, dd, DML_DMA_DEBUG_IOVA_NOT_LINKED, &st->o.made,
		       st->o.dev_addr + off, len, NULL,
		       "%s of IOVA that is not linked [iova address=0x%016llx] [offset=%llu] [size=%llu bytes] [first unlinked offset=%llu]",
		       fn, (unsigned long long)st->o.dev_addr,
		       (unsigned long long)off, (unsigned long long)len,
		       (unsigned long long)at);
		return false;
	}
	i = link_upper(st, off);
	if (st->links[i]->off != off || at != end) {
		struct dbg_link *l = st->links[i]->off != off ? st->links[i] :
				     link_at(st, end - 1);

		report(c, dd, DML_DMA_DEBUG_IOVA_SPLIT, &l->o.made,
		       st->o.dev_addr + off, len, NULL,
		       "%s of IOVA that splits a link [iova address=0x%016llx] [offset=%llu] [size=%llu bytes] [link offset=%llu] [link size=%llu bytes]",
		       fn, (unsigned long long)st->o.dev_addr,
		       (unsigned long long)off, (unsigned long long)len,
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
		link_free(st->links[j++]);
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
	struct dbg_dev *dd = dd_get(dev);
	struct dbg_entry *st;

	if (!dd)
		return;
	if (!dma_use_iova(state)) {
		report(&c, dd, DML_DMA_DEBUG_IOVA_BAD_STATE, NULL, (u64)state->addr,
		       size, NULL,
		       "dma_iova_unlink with a state dma_iova_try_alloc did not fill");
		goto out;
	}
	st = find_state(&c, dd, state, "dma_iova_unlink");
	if (!st)
		goto out;
	if (!size || offset >= st->o.size || size > st->o.size - offset) {
		report(&c, dd, DML_DMA_DEBUG_IOVA_NOT_LINKED, &st->o.made,
		       st->o.dev_addr + offset, size, NULL,
		       "dma_iova_unlink of IOVA outside the reserved size [iova address=0x%016llx] [offset=%zu] [size=%zu bytes] [reserved size=%llu bytes]",
		       (unsigned long long)st->o.dev_addr, offset, size,
		       (unsigned long long)st->o.size);
		goto out;
	}
	check_links(&c, dd, st, offset, size, dir, "dma_iova_unlink");
	if (!ret)
		drop_links(st, offset, size);
out:
	dbg_unlock(&c);
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

		footprint(st, g, st->links[i]->off, st->links[i]->o.size, &la, &lb);
		if (lb <= a || la >= b)
			continue;
		if (la != at)
			return false;
		at = lb;
	}
	return at == b;
}

static void free_check(struct ctx *c, struct dbg_dev *dd, struct dbg_entry *st,
		       const char *fn)
{
	if (st->nr_links) {
		report(c, dd, DML_DMA_DEBUG_IOVA_FREE_LINKED,
		       &st->links[0]->o.made, st->o.dev_addr, st->o.size, NULL,
		       "%s of IOVA with links outstanding [iova address=0x%016llx] [size=%llu bytes] [links=%zu] [first link offset=%llu size=%llu bytes]",
		       fn, (unsigned long long)st->o.dev_addr,
		       (unsigned long long)st->o.size, st->nr_links,
		       (unsigned long long)st->links[0]->off,
		       (unsigned long long)st->links[0]->o.size);
		return;		/* the backend keeps the reservation */
	}
	state_release(c, dd, st);
}

void dml__dma_debug_iova_destroy(struct dml_device *dev,
				 const struct dma_iova_state *state,
				 size_t mapped_len, enum dma_data_direction dir)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	struct dbg_entry *st;
	size_t beyond = 0, i;

	if (!dma_use_iova(state) && !mapped_len)
		return;
	dd = dd_get(dev);
	if (!dd)
		return;
	if (!dma_use_iova(state)) {
		report(&c, dd, DML_DMA_DEBUG_IOVA_BAD_STATE, NULL, (u64)state->addr,
		       mapped_len, NULL,
		       "dma_iova_destroy with a state dma_iova_try_alloc did not fill [mapped_len=%zu]",
		       mapped_len);
		goto out;
	}
	st = find_state(&c, dd, state, "dma_iova_destroy");
	if (!st)
		goto out;
	if (!mapped_len) {
		free_check(&c, dd, st, "dma_iova_destroy");
		goto out;
	}
	if (mapped_len > st->o.size) {
		report(&c, dd, DML_DMA_DEBUG_IOVA_NOT_LINKED, &st->o.made,
		       st->o.dev_addr, mapped_len, NULL,
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
		report(&c, dd, DML_DMA_DEBUG_IOVA_FREE_LINKED,
		       &st->links[st->nr_links - beyond]->o.made, st->o.dev_addr,
		       st->o.size, NULL,
		       "dma_iova_destroy of IOVA with links outstanding beyond mapped_len [iova address=0x%016llx] [mapped_len=%zu] [links beyond=%zu] (their page-table entries leak)",
		       (unsigned long long)st->o.dev_addr, mapped_len, beyond);
	/* mirror the backend: it unmaps and frees only whole links */
	if (destroy_would_unmap(st, dev_granule(dd), mapped_len))
		state_release(&c, dd, st);
out:
	dbg_unlock(&c);
}

void dml__dma_debug_iova_free(struct dml_device *dev,
			      const struct dma_iova_state *state)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	struct dbg_entry *st;

	if (!dma_use_iova(state))
		return;
	dd = dd_get(dev);
	if (!dd)
		return;
	st = find_state(&c, dd, state, "dma_iova_free");
	if (st)
		free_check(&c, dd, st, "dma_iova_free");
	dbg_unlock(&c);
}

/* ------------------------------------------------------------------ */
/* Memory being touched                                                */
/* ------------------------------------------------------------------ */

/* the entry containing @addr (any), or NULL; *@next: the next start */
static struct dbg_entry *entry_containing(struct dbg_dev *dd, u64 addr)
{
	size_t i = rix_upper(&dd->dma, addr), k;

	k = rix_prev_overlap(&dd->dma, &i, addr, addr + 1);
	return k == (size_t)-1 ? NULL : dd->dma.v[k].obj;
}

static bool dir_allows(enum dma_data_direction dir, bool write)
{
	return dir == DMA_BIDIRECTIONAL ||
	       (write ? dir == DMA_FROM_DEVICE : dir == DMA_TO_DEVICE);
}

static void report_wrong_dir(struct ctx *c, struct dbg_dev *dd,
			     const struct dbg_obj *o, u64 addr, u64 len,
			     bool write)
{
	report(c, dd, DML_DMA_DEBUG_DEV_WRONG_DIR, &o->made, addr, len, NULL,
	       "device %s DMA memory mapped with %s [device address=0x%016llx] [size=%llu bytes] [mapped as %s]",
	       write ? "writes" : "reads", dir_name(o->dir),
	       (unsigned long long)addr, (unsigned long long)len,
	       type_name[o->type]);
}

void dml__dma_debug_dev_access(struct dml_device *dev, dma_addr_t addr,
			       size_t len, bool write)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;
	u64 at = (u64)addr, end = (u64)addr + len;

	if (!len)
		return;
	dd = dd_get(dev);
	if (!dd)
		return;
	if (end < at)
		end = ~0ULL;
	while (at < end) {
		struct dbg_entry *e = entry_containing(dd, at);
		struct dbg_link *l;
		u64 off;

		if (!e) {
			report(&c, dd, DML_DMA_DEBUG_DEV_NOT_MAPPED, NULL, at, end - at,
			       NULL,
			       "device %s DMA memory it has not been given [device address=0x%016llx] [size=%llu bytes]",
			       write ? "writes" : "reads", (unsigned long long)at,
			       (unsigned long long)(end - at));
			break;
		}
		if (e->o.type != T_IOVA) {
			if (!dir_allows(e->o.dir, write)) {
				report_wrong_dir(&c, dd, &e->o, at, end - at, write);
				break;
			}
			at = e->o.dev_addr + e->o.size;
			continue;
		}
		off = at - e->o.dev_addr;
		l = link_at(e, off);
		if (!l) {
			report(&c, dd, DML_DMA_DEBUG_DEV_NOT_LINKED, &e->o.made, at,
			       end - at, NULL,
			       "device %s reserved IOVA that is not linked [device address=0x%016llx] [iova address=0x%016llx] [offset=%llu]",
			       write ? "writes" : "reads", (unsigned long long)at,
			       (unsigned long long)e->o.dev_addr,
			       (unsigned long long)off);
			break;
		}
		if (!l->synced) {
			report(&c, dd, DML_DMA_DEBUG_DEV_NOT_SYNCED, &l->o.made, at,
			       end - at, NULL,
			       "device %s linked IOVA before dma_iova_sync [device address=0x%016llx] [link offset=%llu] [link size=%llu bytes]",
			       write ? "writes" : "reads", (unsigned long long)at,
			       (unsigned long long)l->off,
			       (unsigned long long)l->o.size);
			break;
		}
		if (!dir_allows(l->o.dir, write)) {
			report_wrong_dir(&c, dd, &l->o, at, end - at, write);
			break;
		}
		at = l->o.dev_addr + l->o.size;
	}
	dbg_unlock(&c);
}

void dml__dma_debug_cpu_access(struct dml_platform *p, phys_addr_t phys,
			       u64 len)
{
	struct ctx c = CTX_INIT;
	u64 a = (u64)phys, b = (u64)phys + (len ? len : 1);
	size_t i, k;

	dbg_lock_take();
	i = rix_lower(&phys_ix, b);
	while ((k = rix_prev_overlap(&phys_ix, &i, a, b)) != (size_t)-1) {
		struct dbg_obj *o = obj_of(&phys_ix.v[k]);

		if (o->dd->plat != p || o->dir != DMA_FROM_DEVICE || o->cpu_owned)
			continue;
		report(&c, o->dd, DML_DMA_DEBUG_CPU_DEVICE_OWNED, &o->made, a,
		       b - a, NULL,
		       "cpu touching an active dma mapped cacheline [cln=0x%llx] [phys=0x%016llx] [size=%llu bytes] of a buffer mapped with DMA_FROM_DEVICE [device address=0x%016llx] [mapped as %s] before unmap or dma_sync_*_for_cpu",
		       (unsigned long long)(max(a, phys_ix.v[k].start) / CACHELINE),
		       (unsigned long long)a, (unsigned long long)(b - a),
		       (unsigned long long)o->dev_addr, type_name[o->type]);
		break;
	}
	dbg_unlock(&c);
}

static void cpu_access_hook(struct dml_platform *p, phys_addr_t phys, u64 len)
{
	dml__dma_debug_cpu_access(p, phys, len);
}

/* ------------------------------------------------------------------ */
/* Public                                                              */
/* ------------------------------------------------------------------ */

void dml_dma_debug_enable(bool on)
{
	if (on) {
		void *warm[2];

		/* glibc loads its unwinder on the first backtrace(): now */
		backtrace(warm, 2);
	}
	dbg_lock_take();
	disable_locked();
	if (on) {
		atomic_store(&dml__cpu_access_hook, cpu_access_hook);
		atomic_store(&dml__dma_debug_on, true);
	}
	pthread_mutex_unlock(&dbg_lock);
}

bool dml_dma_debug_enabled(void)
{
	return atomic_load(&dml__dma_debug_on);
}

void dml_dma_debug_set_abort(bool on)
{
	dbg_lock_take();
	abort_mode = on;
	pthread_mutex_unlock(&dbg_lock);
}

void dml_dma_debug_set_trace_depth(unsigned int frames)
{
	dbg_lock_take();
	trace_depth = min(frames, (unsigned int)DML_DMA_DEBUG_TRACE_DEPTH);
	pthread_mutex_unlock(&dbg_lock);
}

void dml_dma_debug_set_show(long num_errors)
{
	dbg_lock_take();
	show_left = num_errors < 0 ? -1 : num_errors;
	pthread_mutex_unlock(&dbg_lock);
}

u64 dml_dma_debug_error_count(void)
{
	u64 n;

	dbg_lock_take();
	n = err_count;
	pthread_mutex_unlock(&dbg_lock);
	return n;
}

u64 dml_dma_debug_category_count(enum dml_dma_debug_category cat)
{
	u64 n = 0;

	if ((unsigned int)cat >= DML_DMA_DEBUG_NR)
		return 0;
	dbg_lock_take();
	n = cat_count[cat];
	pthread_mutex_unlock(&dbg_lock);
	return n;
}

int dml_dma_debug_error_get(u64 idx, struct dml_dma_debug_error *err)
{
	int ret = -ENOENT;

	if (!err)
		return -EINVAL;
	dbg_lock_take();
	if (idx < nr_kept) {
		*err = kept[idx];
		ret = 0;
	}
	pthread_mutex_unlock(&dbg_lock);
	return ret;
}

void dml_dma_debug_clear_errors(void)
{
	dbg_lock_take();
	err_count = 0;
	memset(cat_count, 0, sizeof(cat_count));
	nr_kept = 0;
	pthread_mutex_unlock(&dbg_lock);
}

const char *dml_dma_debug_category_name(enum dml_dma_debug_category cat)
{
	return (unsigned int)cat < DML_DMA_DEBUG_NR ? cat_name[cat] : "unknown";
}

u64 dml_dma_debug_mapping_count(struct dml_device *dev)
{
	struct dbg_dev *dd = dd_get(dev);
	u64 n;

	if (!dd)
		return 0;
	n = entry_count(dd);
	pthread_mutex_unlock(&dbg_lock);
	return n;
}

static unsigned long dump_dev(struct dbg_dev *dd, char ***lines, size_t *nr)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; i < dd->dma.n; i++) {
		const struct dbg_entry *e = dd->dma.v[i].obj;
		char **v = realloc(*lines, (*nr + 1) * sizeof(*v));

		if (!v)
			break;
		*lines = v;
		if (asprintf(&v[*nr],
			     "DMA-API: %s: %s idx %zu P=%#llx D=%#llx L=%#llx %s %s%s",
			     dd->name, type_name[e->o.type], i,
			     (unsigned long long)e->phys,
			     (unsigned long long)e->o.dev_addr,
			     (unsigned long long)e->o.size, dir_name(e->o.dir),
			     map_err_name[e->map_err],
			     e->o.type == T_IOVA && e->nr_links ? " (linked)" : "") < 0)
			break;
		(*nr)++;
		n++;
	}
	return n;
}

unsigned long dml_dma_debug_dump(struct dml_device *dev)
{
	char **lines = NULL;
	size_t nr = 0, i;
	unsigned long n = 0;
	unsigned int h;

	dbg_lock_take();
	if (dev) {
		struct dbg_dev *dd = dd_find(dev);

		if (dd)
			n = dump_dev(dd, &lines, &nr);
	} else {
		for (h = 0; h < DEV_HASH; h++) {
			struct dbg_dev *dd;

			for (dd = dev_hash[h]; dd; dd = dd->next)
				n += dump_dev(dd, &lines, &nr);
		}
	}
	pthread_mutex_unlock(&dbg_lock);
	for (i = 0; i < nr; i++) {
		dml__log(2, "%s", lines[i]);
		free(lines[i]);
	}
	free(lines);
	return n;
}

/* ------------------------------------------------------------------ */
/* DMALINK_DMA_DEBUG                                                   */
/* ------------------------------------------------------------------ */

static void env_summary(void)
{
	u64 n = dml_dma_debug_error_count();

	if (n)
		dml__log(1, "DMA-API: %llu error%s reported", (unsigned long long)n,
			 n == 1 ? "" : "s");
}

/* does the comma-separated list @v hold the word @w? */
static bool env_has(const char *v, const char *w)
{
	size_t n = strlen(w);

	while (*v) {
		size_t len = strcspn(v, ",");

		if (len == n && !strncmp(v, w, n))
			return true;
		v += len + (v[len] == ',');
	}
	return false;
}

/* DMALINK_DMA_DEBUG=1[,all][,abort][,notrace]: on at program start */
__attribute__((constructor)) static void dbg_env_init(void)
{
	const char *v = getenv("DMALINK_DMA_DEBUG");

	if (!v)
		v = getenv("DML_DMA_DEBUG");	/* reference/style.md C10 */
	if (!v || !*v || env_has(v, "0") || env_has(v, "off") ||
	    env_has(v, "no") || env_has(v, "false"))
		return;
	if (env_has(v, "all"))
		show_left = -1;
	if (env_has(v, "abort"))
		abort_mode = true;
	if (env_has(v, "notrace"))
		trace_depth = 0;
	dml_dma_debug_enable(true);
	atexit(env_summary);
}
