/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what the pieces of the DMA-API checker (src/dma/debug/)
 * share: its objects, the range index, the lock and the report call.  The
 * checker follows the semantics of the kernel's kernel/dma/debug.c (entry
 * per mapping, best-fit matching on unmap and sync, the error classes and
 * their wording) and is written from that description, not from the
 * kernel's code.  On top of it: the two-step IOVA state machine, and the
 * checks at the moment the emulated device or the CPU touches memory.
 *
 * The pieces:
 *  - index.c: the range index (struct rix);
 *  - report.c: backtraces, reports, the lock, the report counters and the
 *    DMALINK_DMA_DEBUG variable;
 *  - registry.c: the per-device records, their lifetime, the leak report,
 *    switching the checker on and off, the dump;
 *  - streaming.c: the kernel-twin checks of map/unmap/sync/sg and
 *    coherent memory (kernel/dma/debug.c);
 *  - iova.c: the two-step state machine (no kernel twin);
 *  - access.c: the checks when the device or the CPU touches memory.
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
 * Invariants: links of a reservation never overlap (a link the checker
 * finds overlapping is reported and not recorded); every object in the
 * phys index is live in a device's index; nothing outlives its dbg_dev.
 *
 * Locking: one mutex (dml__dbg_mutex) for everything here; reports are
 * stored under it and printed after it is dropped, so the message sink
 * runs with no dmalink lock held.  The hot paths of the DMA API only read
 * the global switch (dml__dma_debug_on) when the checker is off.
 *
 * Memory: the checker allocates with calloc/realloc, not through the
 * fault-injection hook, so that a dml_fail_nth() sweep sees the same
 * sequence of failure points with the checker on and off.  When the
 * checker itself runs out of memory it turns itself off, as the kernel's
 * does ("debugging out of memory - disabling").
 */
#ifndef DML_DMA_DEBUG_PRIV_H
#define DML_DMA_DEBUG_PRIV_H

#include <pthread.h>

#include "../debug.h"

enum dbg_type {
	T_SG,
	T_COHERENT,
	T_NONCOHERENT,
	T_PHY,
	T_IOVA,
	T_LINK,
};

enum map_err {
	MAP_ERR_NOT_APPLICABLE,
	MAP_ERR_NOT_CHECKED,
	MAP_ERR_CHECKED,
};

#define CACHELINE 64ULL		/* L1_CACHE_BYTES on x86 */
#define FREED_RING 32		/* freed IOVA states remembered per device */

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
	bool cc_accepted;	/* mapped while the device was accepted (cc.c) */
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

/*
 * A state dma_iova_free() or dma_iova_destroy() released: what it named,
 * and where the caller keeps it (@state), which the release zeroes, so
 * that a later call with that same state is known as a use after free.
 */
struct freed_state {
	u64 addr;
	u64 size;
	const struct dma_iova_state *state;
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

/* ---- range index (index.c) ---- */

/**
 * dml__rix_upper() - first index of @r whose start is > @x.
 * @r: the index.
 * @x: an address (bytes).
 * Return: an index in [0, r->n].
 */
size_t dml__rix_upper(const struct rix *r, u64 x);
/**
 * dml__rix_lower() - first index of @r whose start is >= @x.
 * @r: the index.
 * @x: an address (bytes).
 * Return: an index in [0, r->n].
 */
size_t dml__rix_lower(const struct rix *r, u64 x);
/**
 * dml__rix_insert() - add [@start, +@len) for @obj, after the items that
 * start at the same address.
 * @r: the index.
 * @start: first byte.
 * @len: length (bytes).
 * @obj: what the item stands for.
 * Return: 0, or -ENOMEM (dml__dbg_oom is then set).
 */
int dml__rix_insert(struct rix *r, u64 start, u64 len, void *obj);
/**
 * dml__rix_remove() - remove the item of @obj that starts at @start (none:
 * nothing happens).
 * @r: the index.
 * @start: its first byte.
 * @obj: what the item stands for.
 */
void dml__rix_remove(struct rix *r, u64 start, const void *obj);
/**
 * dml__rix_fini() - free the storage of @r and empty it.
 * @r: the index.
 */
void dml__rix_fini(struct rix *r);
/**
 * dml__rix_prev_overlap() - walk the items that may overlap [@a, @b)
 * backwards.
 * @r: the index.
 * @i: cursor; start it at dml__rix_lower(r, b).
 * @a: first byte of the range.
 * @b: end of the range (exclusive).
 * Return: the next index whose item overlaps, or (size_t)-1 when none is
 * left.
 */
size_t dml__rix_prev_overlap(const struct rix *r, size_t *i, u64 a, u64 b);

/* ---- reports and the lock (report.c) ---- */

/* serialises everything the checker keeps (see the top of this file) */
extern pthread_mutex_t dml__dbg_mutex;
/* set when the checker's own allocation failed; dml__dbg_unlock() then
 * turns the checker off */
extern bool dml__dbg_oom;
/* the kernel's type names, by enum dbg_type ("phy", "scatter-gather"...) */
extern const char *const dml__dbg_type_name[];

/**
 * dml__dbg_dir_name() - the kernel's name of a DMA direction.
 * @dir: the direction.
 * Return: "DMA_TO_DEVICE" and the like, "DMA_INVALID" when out of range.
 */
const char *dml__dbg_dir_name(enum dma_data_direction dir);
/**
 * dml__dbg_trace_capture() - record the call trace outside the DMA API.
 * @t: where to record it (at most dml_dma_debug_set_trace_depth() frames).
 * @from: the hook's return address (struct ctx); the trace starts at the
 *        frame that called the front door.
 */
void dml__dbg_trace_capture(struct trace *t, void *from);
/**
 * dml__dbg_report() - count and keep one report, and queue its text for
 * printing if the show count allows (kernel/dma/debug.c: err_printk()).
 * @c: the hook's call context (its call trace is captured here, once).
 * @dd: the device reported about, or NULL.
 * @cat: the report's category.
 * @map: the trace of the mapping concerned, or NULL.
 * @addr: the address reported (bytes; DMA or CPU by category).
 * @size: the size reported (bytes).
 * @extra: more lines for the printed text only (the leak list), or NULL.
 * @fmt: the message after "DMA-API: <device>: ".
 *
 * Called with dml__dbg_mutex held.
 */
__attribute__((format(printf, 8, 9)))
void dml__dbg_report(struct ctx *c, const struct dbg_dev *dd,
		     enum dml_dma_debug_category cat, const struct trace *map,
		     u64 addr, u64 size, const char *extra, const char *fmt,
		     ...);
/**
 * dml__dbg_lock() - take dml__dbg_mutex.
 */
void dml__dbg_lock(void);
/**
 * dml__dbg_unlock() - drop dml__dbg_mutex, then print what @c queued; turn
 * the checker off if it ran out of memory, and abort after a report in
 * abort mode.
 * @c: the hook's call context.
 */
void dml__dbg_unlock(struct ctx *c);

/* ---- PCI peer-to-peer memory (p2p.c) ---- */

/**
 * dml__dbg_check_mmio() - report [@phys, +@len) mapped with DMA_ATTR_MMIO
 * although it is RAM (emulated platform).
 * @c: the hook's call context.
 * @dd: the device.
 * @phys: start (bytes).
 * @len: bytes.
 */
void dml__dbg_check_mmio(struct ctx *c, struct dbg_dev *dd, u64 phys, u64 len);
/**
 * dml__dbg_p2p_access() - the device touches @addr, which no mapping of it
 * holds: a PCI bus address the switches route to the peer is fine; one
 * they now send upstream is reported.
 * @c: the hook's call context.
 * @dd: the device.
 * @addr: DMA address (bytes).
 * @len: bytes.
 * @write: a write.
 * Return: true when @addr is a bus address (handled here), false if not.
 */
bool dml__dbg_p2p_access(struct ctx *c, struct dbg_dev *dd, u64 addr, u64 len,
			 bool write);
/**
 * dml__dbg_p2p_unmap() - an unmap of @addr matched no mapping of its
 * type: report it if @addr is a PCI bus address the device's switches
 * route to a peer.
 * @c: the hook's call context.
 * @dd: the device.
 * @addr: DMA address (bytes).
 * @len: bytes.
 * Return: true when reported.
 */
bool dml__dbg_p2p_unmap(struct ctx *c, struct dbg_dev *dd, u64 addr, u64 len);

/* ---- devices and their records (registry.c) ---- */

/* the CPU side of every mapping the device may write (see the top) */
extern struct rix dml__dbg_phys_ix;

/**
 * dml__dbg_dev_find() - the record of @dev (dml__dbg_mutex held).
 * @dev: the device.
 * Return: the record, or NULL when @dev is not watched.
 */
struct dbg_dev *dml__dbg_dev_find(const struct dml_device *dev);
/**
 * dml__dbg_dev_get() - the record of @dev, with dml__dbg_mutex taken.
 * @dev: the device, or NULL.
 * Return: the record (locked), or NULL (not locked) when @dev is not
 * watched.
 */
struct dbg_dev *dml__dbg_dev_get(struct dml_device *dev);
/**
 * dml__dbg_obj_init() - fill the common part of a new entry or link, with
 * the trace of where it was made.
 * @c: the hook's call context.
 * @o: the object, zeroed.
 * @dd: the device's record.
 * @type: what the mapping is.
 * @dev_addr: its DMA address (bytes).
 * @size: its length (bytes).
 * @dir: its direction.
 * @attrs: its DMA_ATTR_* flags.
 */
void dml__dbg_obj_init(struct ctx *c, struct dbg_obj *o, struct dbg_dev *dd,
		       enum dbg_type type, u64 dev_addr, u64 size,
		       enum dma_data_direction dir, unsigned long attrs);
/**
 * dml__dbg_entry_new() - record a new mapping of @dd in its index, with
 * the trace of where it was made.
 * @c: the hook's call context.
 * @dd: the device's record.
 * @type: what the mapping is.
 * @dev_addr: its DMA address (bytes).
 * @size: its length (bytes).
 * @dir: its direction.
 * @attrs: its DMA_ATTR_* flags.
 * Return: the entry, or NULL when out of memory (dml__dbg_oom is set).
 */
struct dbg_entry *dml__dbg_entry_new(struct ctx *c, struct dbg_dev *dd,
				     enum dbg_type type, u64 dev_addr, u64 size,
				     enum dma_data_direction dir,
				     unsigned long attrs);
/**
 * dml__dbg_entry_free() - forget mapping @e of @dd, with its CPU ranges
 * and its links.
 * @dd: the device's record.
 * @e: the entry.
 */
void dml__dbg_entry_free(struct dbg_dev *dd, struct dbg_entry *e);
/**
 * dml__dbg_link_free() - forget link @l (and its CPU range).
 * @l: the link, already out of its reservation's array.
 */
void dml__dbg_link_free(struct dbg_link *l);
/**
 * dml__dbg_disable_locked() - turn the checker off and forget every
 * record (dml__dbg_mutex held).
 */
void dml__dbg_disable_locked(void);

/* ---- checks shared by the streaming and two-step hooks (streaming.c) ---- */

/* does a mapping of @dir with @attrs go in the phys index? */
static inline bool obj_in_phys(enum dma_data_direction dir,
			       unsigned long attrs)
{
	return dir != DMA_TO_DEVICE && !(attrs & DMA_ATTR_MMIO);
}

/**
 * dml__dbg_phys_add() - add a CPU range of @o to the phys index, after
 * the kernel's cacheline check (kernel/dma/debug.c:
 * active_cacheline_insert()).
 * @c: the hook's call context.
 * @o: the entry or link.
 * @phys: first CPU byte.
 * @len: length (bytes).
 * Return: 0, or -ENOMEM (dml__dbg_oom is set).
 */
int dml__dbg_phys_add(struct ctx *c, struct dbg_obj *o, u64 phys, u64 len);
/**
 * dml__dbg_check_source() - the kernel's checks of the memory a mapping
 * comes from (kernel/dma/debug.c: check_for_stack(),
 * check_for_illegal_area()).
 * @c: the hook's call context.
 * @dd: the device's record.
 * @phys: first CPU byte (a process address on the vfio backend).
 * @len: length (bytes).
 * @attrs: the mapping's DMA_ATTR_* flags (DMA_ATTR_MMIO: no check).
 */
void dml__dbg_check_source(struct ctx *c, struct dbg_dev *dd, u64 phys, u64 len,
			   unsigned long attrs);

/* ---- confidential computing (cc.c) ---- */

/*
 * dml__dbg_cc_map() - check a map of [@phys, +@len) with @attrs by @dd's
 * device of a confidential guest: private memory not bounced reports
 * CC_PRIVATE_UNACCEPTED (device not accepted) or CC_SHARED_ADDR_PRIVATE
 * (accepted, shared encoding).  Marks @e (may be NULL) as made while the
 * device was accepted; @len 0 only marks it (a scatterlist's DMA segment,
 * whose CPU pieces were checked one by one).
 */
void dml__dbg_cc_map(struct ctx *c, struct dbg_dev *dd, struct dbg_entry *e,
		     u64 phys, u64 len, unsigned long attrs);

/*
 * dml__dbg_cc_use() - @e, made while its device was accepted, is used by
 * @what (unmap, sync, a dma_iova_* call) after the device left RUN:
 * report CC_LEFT_RUN, once per mapping.
 */
void dml__dbg_cc_use(struct ctx *c, struct dbg_dev *dd, struct dbg_entry *e,
		     const char *what);
/**
 * dml__dbg_cc_cpu_access() - the CPU maps [@phys, +@len) of @p: report
 * CC_PRIVATE_MMIO_CPU if it is private MMIO (a BAR of a device in RUN).
 */
void dml__dbg_cc_cpu_access(struct ctx *c, struct dml_platform *p, u64 phys,
			    u64 len);

/* ---- the two-step state machine (iova.c) ---- */

/**
 * dml__dbg_link_at() - the link of reservation @st that holds offset @off.
 * @st: the reservation (T_IOVA).
 * @off: offset in the reservation (bytes).
 * Return: the link, or NULL when @off is not linked.
 */
struct dbg_link *dml__dbg_link_at(const struct dbg_entry *st, u64 off);

/* ---- dma-buf (dmabuf.c) ---- */

/* the CPU maps [@a, @b) of @p: report touching a watched buffer (locked) */
void dml__dbg_dmabuf_cpu_access(struct ctx *c, struct dml_platform *p,
				u64 a, u64 b);
/* forget every watched buffer (the checker goes off; locked) */
void dml__dbg_dmabuf_fini(void);

#endif /* DML_DMA_DEBUG_PRIV_H */
