/* SPDX-License-Identifier: MIT */
/*
 * emu.h - the emulated Intel VT-d unit, internal to src/iommu/emu/: the
 * unit (struct dml_iommu), its DMA domains, the second-level page-table
 * format, the pool of table pages carved from emulated RAM, the IOTLB model
 * and the fault log.  Nothing outside this folder includes it but the
 * white-box tests; the rest of the library sees the unit through
 * src/iommu/iommu.h and struct dml_iommu_ops only.
 *
 * Files:
 *   ptes.c    loops over runs of entries (generic and AVX2)
 *   pool.c    table pages: carved from emulated RAM in 2 MiB chunks, kept on
 *             a free list, counted (pt_pages, pt_pages_peak)
 *   pgtable.c the VT-d second-level table: map, unmap, iova_to_phys,
 *             iotlb_sync_map, the lock-free walk used by device accesses
 *   reclaim.c freeing empty tables: the per-thread slots and the trim gate
 *             that keeps map/unmap out while a trim runs, the list of
 *             tables unmap left empty, the trims
 *   iotlb.c   the set-associative IOTLB, tagged by domain id
 *   fault.c   the fault log and its public accessors
 *   emu.c     unit and domain life cycle, the ops table, translation of a
 *             device access, statistics
 *
 * Page-table entries (Intel VT-d spec, "Second-Stage Paging Entries"): bit 0
 * R, bit 1 W, bit 7 PS (a leaf above level 1), bit 11 SNP, bits 51:12 the
 * address.  An entry is present iff R or W is set; a non-present entry is
 * always exactly 0.  Bits 52-61 are ignored by hardware; we use them for
 * software state the walker never reads as an address:
 *   leaf entries:     bit 52 HEAD    (a link starts here: DML_MAP_LINK_HEAD)
 *                     bit 53 PENDING (caching mode: not yet synced)
 *                     bit 54 TAIL    (a link ends here: DML_MAP_LINK_TAIL)
 * Non-leaf entries carry no software state: a count of present entries
 * would be one word written by every map and unmap under it, from every
 * thread (the kernel's generic page table keeps none either).
 *
 * Levels are numbered as in the spec's table names: level 1 holds 4 KiB
 * leaves, level 2 entries cover 2 MiB, level 3 entries 1 GiB, level 4
 * entries 512 GiB, level 5 entries 256 TiB.  The root (level 4 or 5) is never
 * freed before the domain.  Tables left empty by unmap stay linked until a
 * trim frees them (reclaim.c).
 *
 * Concurrency (as the kernel's generic page table, drivers/iommu/generic_pt,
 * and intel-iommu's pfn_to_dma_pte()): map and unmap of disjoint ranges run
 * concurrently with no lock; the caller owns its range.  A missing table
 * is installed with a compare-and-exchange that publishes it (the loser
 * frees its own table); leaves are written by the owner of their range.
 * Entries are READ_ONCE / WRITE_ONCE objects: any entry another thread
 * may read or write at the same time (device walks, the granule after an
 * EXACT range, neighbours and emptiness checks, tables shared by several
 * owners) is read and written whole, one entry with emu_pte_read() (an
 * acquire load) and emu_pte_write() (a release store), a run with the
 * emu_ptes loops, whose vector accesses the CPU makes of single-copy-
 * atomic 8-byte accesses (ptes.c; ThreadSanitizer builds use __atomic
 * loops).  Tables are freed only while no map, unmap or iotlb_sync_map
 * runs (reclaim.c), so a mapper never writes to a freed table; a device
 * walk may read one, which is harmless (pgtable.c).
 */
#ifndef DML_IOMMU_EMU_H
#define DML_IOMMU_EMU_H

#include <pthread.h>

#include "../../mem/mem.h"
#include "../iommu.h"

/* a ThreadSanitizer build: only what it can check (ptes.c, reclaim.c) */
#if defined(__SANITIZE_THREAD__)
#define EMU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EMU_TSAN 1
#endif
#endif

/* ---- entry format ---- */

#define VTD_PTE_R	(1ULL << 0)
#define VTD_PTE_W	(1ULL << 1)
#define VTD_PTE_PS	(1ULL << 7)
#define VTD_PTE_SNP	(1ULL << 11)
#define VTD_PTE_ADDR	0x000ffffffffff000ULL
#define VTD_PTE_PRESENT	(VTD_PTE_R | VTD_PTE_W)

#define EMU_PTE_HEAD	(1ULL << 52)
#define EMU_PTE_PENDING	(1ULL << 53)
#define EMU_PTE_TAIL	(1ULL << 54)

#define EMU_PTES	512		/* entries per table */
#define EMU_LVL_SHIFT(l) (12 + 9 * ((l) - 1))	/* bytes one entry covers */

static inline unsigned int emu_idx(u64 iova, unsigned int level)
{
	return (unsigned int)(iova >> EMU_LVL_SHIFT(level)) & (EMU_PTES - 1);
}

/* READ_ONCE / WRITE_ONCE of one entry: walkers read without locks */
static inline u64 emu_pte_read(const u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void emu_pte_write(u64 *p, u64 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* ---- loops over runs of entries (ptes.c) ---- */

/*
 * struct emu_ptes_ops - @or / @and: OR / AND of @n entries; @fill: p[i] =
 * first + i * 4 KiB while the entries are 0, returning how many it wrote
 * (it stops before a group of up to 8 entries holding a non-zero one);
 * @clear: p[i] = 0, returning how many were present.
 * Widest version the CPU runs; each entry is read or written whole
 * (ptes.c).
 */
struct emu_ptes_ops {
	u64 (*or)(const u64 *p, unsigned int n);
	u64 (*and)(const u64 *p, unsigned int n);
	unsigned int (*fill)(u64 *p, unsigned int n, u64 first);
	unsigned int (*clear)(u64 *p, unsigned int n);
};

extern struct emu_ptes_ops emu_ptes;
unsigned int emu_ptes_count_present(const u64 *p, unsigned int n);
void emu_ptes_clear_bits(u64 *p, unsigned int n, u64 bits);
bool emu_ptes_empty(const u64 *p);

/* are all @n entries at @p present?  (AND first: one op per vector) */
static inline bool emu_ptes_all_present(const u64 *p, unsigned int n)
{
	return (emu_ptes.and(p, n) & VTD_PTE_PRESENT) ||
	       emu_ptes_count_present(p, n) == n;
}

/* ---- table pages (pool.c) ---- */

/*
 * struct emu_pool - table pages of one unit
 * @lock: guards everything below
 * @free: host address of the first free page; a free page holds the next
 *	free page in its word 0 and zeros elsewhere (freed tables are empty)
 * @bump, @bump_left: never-used pages of the newest chunk
 * @delta: host address minus emulated physical address, the same for every
 *	chunk (all are carved from the first RAM region)
 * @lo, @hi: emulated physical range of that region, for the checked walk
 * @in_use, @peak: pages handed out now, and the most ever
 * @gen: pages freed so far, bumped before each goes back (not under
 *	@lock): a thread's cached leaf table (struct emu_slot) is good while
 *	this has not moved
 */
struct emu_pool {
	dml_spinlock_t lock;
	u64 *free;
	u8 *bump;
	unsigned int bump_left;
	bool have_delta;
	s64 delta;
	phys_addr_t lo, hi;
	u64 in_use;
	u64 peak;
	u64 chunks;
	struct dml_mem *mem;
	atomic_ullong gen __attribute__((aligned(64)));
};

int emu_pool_init(struct emu_pool *pool, struct dml_mem *mem);
int emu_pt_alloc(struct dml_iommu *iommu, u64 **table);
void emu_pt_free(struct dml_iommu *iommu, u64 *table);

/* ---- the IOTLB (iotlb.c) ---- */

/*
 * struct emu_tlbe - one cached translation
 * @vpn: IOVA >> @shift
 * @phys: emulated physical address of the page
 * @domid: domain id tag
 * @shift: page size log2 (12, 21, 30); 0 marks an invalid entry
 * @perm: VTD_PTE_R | VTD_PTE_W as cached
 */
struct emu_tlbe {
	u64 vpn;
	phys_addr_t phys;
	u32 domid;
	u8 shift;
	u8 perm;
};

/*
 * struct emu_tlb_set - one set's lock, round-robin victim and number of
 * valid entries (under @lock); alone in its cache line, so threads that
 * use different sets write no common line
 */
struct emu_tlb_set {
	dml_spinlock_t lock;
	unsigned int victim;
	atomic_uint valid;
} __attribute__((aligned(64)));

struct emu_tlb {
	unsigned int sets;
	unsigned int ways;
	struct emu_tlbe *e;		/* sets * ways */
	struct emu_tlb_set *set;
	atomic_ullong *busy;		/* bit per set holding an entry */
};

int emu_tlb_init(struct emu_tlb *tlb, unsigned int sets, unsigned int ways);
void emu_tlb_fini(struct emu_tlb *tlb);
bool emu_tlb_lookup(struct emu_tlb *tlb, u32 domid, u64 iova,
		    unsigned int pgsizes, struct emu_tlbe *out);
void emu_tlb_fill(struct emu_tlb *tlb, const struct emu_tlbe *te);
void emu_tlb_inv_range(struct emu_tlb *tlb, u32 domid, u64 iova, u64 size);
void emu_tlb_inv_domain(struct emu_tlb *tlb, u32 domid);

/* ---- fault log (fault.c) ---- */

#define EMU_FAULT_LOG 256

struct emu_faultlog {
	dml_spinlock_t lock;
	u64 total;
	unsigned int printed;
	struct dml_fault ring[EMU_FAULT_LOG];
};

void emu_fault_log(struct dml_iommu *iommu, u16 source_id, u64 iova,
		   bool write, enum dml_fault_reason reason);

/* ---- the unit and its domains ---- */

#define EMU_SLOTS 64		/* threads with a slot of their own */
#define EMU_GATHER 32		/* tables waiting in a domain's gather list */
#define EMU_TRIM_INTERVAL_NS (10ULL * 1000 * 1000) /* flush trims, shared domain */

/*
 * struct emu_slot - what a thread writes on the hot paths of one domain,
 * alone in its cache line; read by trims and summed by
 * dml_iommu_get_stats().  Threads numbered (dml__this_cpu()) below
 * EMU_SLOTS own slot[number] alone and update it with plain atomic loads
 * and stores, no locked instruction; the others share slot[EMU_SLOTS]
 * (@shared) and use read-modify-write atomics.
 * @in_op: map, unmap and iotlb_sync_map calls of this slot running
 * @joined: this slot has entered the domain's gate before (counted in
 *	the domain's @users)
 * @touched ... @stale: the counters of struct dml_iommu_stats
 */
struct emu_slot {
	atomic_uint in_op;
	atomic_bool joined;
	bool shared;
	/*
	 * the leaf table of the 2 MiB window @leaf_win this thread used last,
	 * valid while the pool's @gen is still @leaf_gen (no table freed
	 * since); exclusive slots only
	 */
	u64 leaf_win;
	u64 *leaf_t;
	u64 leaf_gen;
	atomic_ullong touched;
	atomic_ullong inv_range, inv_global, sync_map;
	atomic_ullong hits, misses, stale;
} __attribute__((aligned(64)));

/*
 * struct emu_gathered - a table unmap left empty, waiting for a trim
 * @iova: an IOVA the table translates
 * @level: the table's level (1: a leaf table)
 */
struct emu_gathered {
	u64 iova;
	unsigned int level;
};

/* a gather list entry: the table's parent-entry span number and level */
static inline u64 emu_gather_key(u64 iova, unsigned int level)
{
	return ((iova >> EMU_LVL_SHIFT(level + 1)) << 3) | level;
}

/*
 * struct emu_domain - a DMA domain of the emulated unit
 * @dom: the generic part, first so container_of is free
 * @root: the top table (level @levels)
 * @trimming: non-zero while a trim waits for or runs without mappers
 * @users: slots that ever entered the gate (a trim needs no barrier on
 *	other CPUs while only its own thread has)
 * @last_trim_ns: when the last trim ended (dml__now_ns())
 * @trim_lock: serialises trims
 * @gather_lock: serialises changes of @gather and @ngather, which are
 *	read without it (emu_gather_key() values)
 * @slot: per-thread state
 */
struct emu_domain {
	struct dml_domain dom;
	struct dml_iommu *iommu;
	u32 id;
	unsigned int levels;
	u64 leaf_flags;			/* EMU_PTE_PENDING in caching mode */
	bool superpages;
	bool reclaim;			/* struct dml_iommu_opts.pt_reclaim */
	u64 *root;
	struct emu_domain *next, **pprev;
	pthread_mutex_t trim_lock;
	atomic_uint trimming __attribute__((aligned(64)));
	atomic_uint users;
	atomic_ullong last_trim_ns;
	dml_spinlock_t gather_lock __attribute__((aligned(64)));
	atomic_uint ngather;
	atomic_ullong gather[EMU_GATHER];
	struct emu_slot slot[EMU_SLOTS + 1];
};

/* the calling thread's slot of @d */
static inline struct emu_slot *emu_slot(struct emu_domain *d)
{
	return &d->slot[min(dml__this_cpu(), (unsigned int)EMU_SLOTS)];
}

/* add @n to counter @c of the caller's exclusive slot: no locked op */
static inline void emu_count_own(atomic_ullong *c, u64 n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* add @n to counter @c of slot @s (the caller's) */
static inline void emu_count(struct emu_slot *s, atomic_ullong *c, u64 n)
{
	if (unlikely(s->shared))
		atomic_fetch_add_explicit(c, n, memory_order_relaxed);
	else
		emu_count_own(c, n);
}

static inline struct emu_domain *to_emu(struct dml_domain *d)
{
	return container_of(d, struct emu_domain, dom);
}

/*
 * struct dml_iommu - one emulated VT-d unit
 * @list_lock: @domains and @retired
 * @retired: counters of domains already freed
 */
struct dml_iommu {
	struct dml_platform *plat;
	struct dml_mem *mem;
	unsigned int levels;
	bool caching_mode;
	bool lazy;
	bool superpages;
	bool pt_reclaim;
	atomic_uint next_id;
	struct emu_pool pool;
	struct emu_tlb tlb;
	struct emu_faultlog faults;
	pthread_mutex_t list_lock;
	struct emu_domain *domains;
	struct dml_iommu_stats retired;
};

/* host pointer of table @phys, no checks (map/unmap, under locks) */
static inline u64 *emu_table(const struct dml_iommu *iommu, u64 e)
{
	return (u64 *)(uintptr_t)((s64)(e & VTD_PTE_ADDR) + iommu->pool.delta);
}

static inline phys_addr_t emu_table_phys(const struct dml_iommu *iommu,
					 const u64 *t)
{
	return (phys_addr_t)((s64)(uintptr_t)t - iommu->pool.delta);
}

/* ---- page table (pgtable.c) ---- */

/*
 * struct emu_leaf - what a walk found
 * @pte: the leaf entry
 * @shift: its page size log2 (12, 21, 30)
 */
struct emu_leaf {
	u64 pte;
	unsigned int shift;
};

extern const struct dml_iommu_ops emu_ops;
extern const struct dml_iommu_ops emu_ops_cm;

int emu_pt_init(struct emu_domain *d);
void emu_pt_fini(struct emu_domain *d);
bool emu_pt_walk(struct emu_domain *d, u64 iova, struct emu_leaf *leaf);
int emu_map(struct dml_domain *dom, dml_iova_t iova, phys_addr_t phys,
	    size_t size, int prot, unsigned int flags);
int emu_unmap(struct dml_domain *dom, dml_iova_t iova, size_t size,
	      unsigned int flags, size_t *unmapped);
int emu_iotlb_sync_map(struct dml_domain *dom, dml_iova_t iova, size_t size);
/* one device access through the IOTLB and the page walk (emu.c) */
int dml__emu_translate(struct dml_iommu *iommu, struct dml_domain *d,
		       u16 source_id, dml_iova_t iova, bool write,
		       phys_addr_t *phys, u64 *contig);
phys_addr_t emu_iova_to_phys(struct dml_domain *dom, dml_iova_t iova);

/* ---- reclaim (reclaim.c) ---- */

void emu_reclaim_init(void);
extern bool emu_asym;	/* trims issue membarrier(2) (reclaim.c) */

/* emu_op_exit() of an exclusive slot */
static inline void emu_op_exit_own(struct emu_slot *s)
{
	atomic_store_explicit(&s->in_op, 0, memory_order_release);
}

/* the end of a map, unmap or iotlb_sync_map call begun by emu_op_enter() */
static inline void emu_op_exit(struct emu_slot *s)
{
	if (unlikely(s->shared))
		atomic_fetch_sub_explicit(&s->in_op, 1, memory_order_release);
	else
		emu_op_exit_own(s);
}

/*
 * The common entry of an exclusive slot that joined @d before, where
 * trims issue membarrier(2): mark the slot busy with a plain store (the
 * trim's membarrier() is the other half of the barrier) and go on unless
 * a trim runs.  False: not that case, or a trim runs (nothing held).
 */
static inline bool emu_op_try_enter(struct emu_domain *d, struct emu_slot *s)
{
	if (!emu_asym || s->shared ||
	    !atomic_load_explicit(&s->joined, memory_order_relaxed))
		return false;
	atomic_store_explicit(&s->in_op, 1, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	if (likely(!atomic_load_explicit(&d->trimming, memory_order_acquire)))
		return true;
	emu_op_exit(s);
	return false;
}

struct emu_slot *emu_op_enter_slow(struct emu_domain *d, struct emu_slot *s);

/*
 * emu_op_enter - begin a map, unmap or iotlb_sync_map call on @d: wait
 * while a trim runs, then keep trims out until emu_op_exit().  The fast
 * path is inline; reclaim.c has the rest and the scheme.
 * Not reentrant against trims: a thread inside must not trim @d.
 * Return: the calling thread's slot (for its counters and emu_op_exit()).
 */
static inline struct emu_slot *emu_op_enter(struct emu_domain *d)
{
	struct emu_slot *s = emu_slot(d);

	if (likely(emu_op_try_enter(d, s)))
		return s;
	return emu_op_enter_slow(d, s);
}

void emu_gather(struct emu_domain *d, u64 *t, unsigned int level, u64 iova,
		bool empty, struct emu_gathered *full);
void emu_gather_flush_full(struct emu_domain *d, const struct emu_gathered *g);

/*
 * emu_gather_flush - after emu_op_exit(): if emu_gather() found the list
 * full, trim it and list the table noted in @g (level 0: nothing noted)
 */
static inline void emu_gather_flush(struct emu_domain *d,
				    const struct emu_gathered *g)
{
	if (unlikely(g->level))
		emu_gather_flush_full(d, g);
}
void emu_pt_trim_gathered(struct emu_domain *d);
void emu_pt_trim_flush(struct emu_domain *d);
void emu_pt_trim(struct emu_domain *d);

#endif /* DML_IOMMU_EMU_H */
