/* SPDX-License-Identifier: MIT */
/*
 * report.c - the checker's reports (kernel/dma/debug.c: err_printk() and
 * its counters): call traces, the kept reports and their counters, the
 * lock whose release prints what was reported, the public calls that
 * read and tune reporting, and DMALINK_DMA_DEBUG read at program start.
 */
#include <execinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define INNER_FRAMES 6	/* the checker's own frames above the front door, at most */

/* the kernel's type names (6.18: "page" and "resource" became "phy") */
const char *const dml__dbg_type_name[] = {
	[T_SG] = "scatter-gather",
	[T_COHERENT] = "coherent",
	[T_NONCOHERENT] = "noncoherent",
	[T_PHY] = "phy",
	[T_IOVA] = "iova",
	[T_LINK] = "iova link",
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
	[DML_DMA_DEBUG_MMIO_ON_RAM] = "mmio-on-ram",
	[DML_DMA_DEBUG_P2P_BUS_ADDR_UPSTREAM] = "p2p-bus-address-upstream",
	[DML_DMA_DEBUG_P2P_UNMAP_BUS_ADDR] = "p2p-unmap-bus-address",
	[DML_DMA_DEBUG_CC_PRIVATE_UNACCEPTED] = "cc-private-unaccepted",
	[DML_DMA_DEBUG_CC_SHARED_ADDR_PRIVATE] = "cc-shared-address-private",
	[DML_DMA_DEBUG_CC_LEFT_RUN] = "cc-left-run",
	[DML_DMA_DEBUG_DMABUF_CPU_ACCESS] = "dmabuf-cpu-access",
	[DML_DMA_DEBUG_CC_PRIVATE_MMIO_CPU] = "cc-private-mmio-cpu",
};

const char *dml__dbg_dir_name(enum dma_data_direction dir)
{
	static const char *const names[] = {
		"DMA_BIDIRECTIONAL", "DMA_TO_DEVICE", "DMA_FROM_DEVICE",
		"DMA_NONE",
	};

	return (unsigned int)dir < ARRAY_SIZE(names) ? names[dir] : "DMA_INVALID";
}

pthread_mutex_t dml__dbg_mutex = PTHREAD_MUTEX_INITIALIZER;
bool dml__dbg_oom;

static u64 err_count;
static u64 cat_count[DML_DMA_DEBUG_NR];
static struct dml_dma_debug_error *kept;
static size_t nr_kept;
static size_t cap_kept;
static long show_left = 1;	/* < 0: all */
static unsigned int trace_depth = 5;	/* DMA_DEBUG_STACKTRACE_ENTRIES */
static bool abort_mode;

/*
 * Unwinding is most of what the checker costs (glibc's backtrace() walks
 * DWARF tables, ~150 ns a frame): walk no more frames than are kept plus
 * the checker's own, and none at all with dml_dma_debug_set_trace_depth(0).
 */
__attribute__((noinline)) void dml__dbg_trace_capture(struct trace *t,
						      void *from)
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
		dml__dbg_trace_capture(&c->call, c->from);
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

void dml__dbg_report(struct ctx *c, const struct dbg_dev *dd,
		     enum dml_dma_debug_category cat, const struct trace *map,
		     u64 addr, u64 size, const char *extra, const char *fmt,
		     ...)
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

void dml__dbg_lock(void)
{
	pthread_mutex_lock(&dml__dbg_mutex);
}

/* drop the lock, then print what was queued (and abort if told to) */
void dml__dbg_unlock(struct ctx *c)
{
	bool oom = dml__dbg_oom;
	size_t i;

	if (oom) {
		dml__dbg_disable_locked();
		dml__dbg_oom = false;
	}
	pthread_mutex_unlock(&dml__dbg_mutex);
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

void dml_dma_debug_set_abort(bool on)
{
	dml__dbg_lock();
	abort_mode = on;
	pthread_mutex_unlock(&dml__dbg_mutex);
}

void dml_dma_debug_set_trace_depth(unsigned int frames)
{
	dml__dbg_lock();
	trace_depth = min(frames, (unsigned int)DML_DMA_DEBUG_TRACE_DEPTH);
	pthread_mutex_unlock(&dml__dbg_mutex);
}

void dml_dma_debug_set_show(long num_errors)
{
	dml__dbg_lock();
	show_left = num_errors < 0 ? -1 : num_errors;
	pthread_mutex_unlock(&dml__dbg_mutex);
}

u64 dml_dma_debug_error_count(void)
{
	u64 n;

	dml__dbg_lock();
	n = err_count;
	pthread_mutex_unlock(&dml__dbg_mutex);
	return n;
}

u64 dml_dma_debug_category_count(enum dml_dma_debug_category cat)
{
	u64 n = 0;

	if ((unsigned int)cat >= DML_DMA_DEBUG_NR)
		return 0;
	dml__dbg_lock();
	n = cat_count[cat];
	pthread_mutex_unlock(&dml__dbg_mutex);
	return n;
}

int dml_dma_debug_error_get(u64 idx, struct dml_dma_debug_error *err)
{
	int ret = -ENOENT;

	if (!err)
		return -EINVAL;
	dml__dbg_lock();
	if (idx < nr_kept) {
		*err = kept[idx];
		ret = 0;
	}
	pthread_mutex_unlock(&dml__dbg_mutex);
	return ret;
}

void dml_dma_debug_clear_errors(void)
{
	dml__dbg_lock();
	err_count = 0;
	memset(cat_count, 0, sizeof(cat_count));
	nr_kept = 0;
	pthread_mutex_unlock(&dml__dbg_mutex);
}

const char *dml_dma_debug_category_name(enum dml_dma_debug_category cat)
{
	return (unsigned int)cat < DML_DMA_DEBUG_NR ? cat_name[cat] : "unknown";
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
