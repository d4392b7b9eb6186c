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
 *   non-leaf entries: bits 61:52 the number of present entries of the
 *                     table it points to (0..512), so emptiness is O(1).
 *
 * Levels are numbered as in the spec's table names: level 1 holds 4 KiB
 * leaves, level 2 entries cover 2 MiB, level 3 entries 1 GiB, level 4
 * entries 512 GiB, level 5 entries 256 TiB.  The root (level 4 or 5) is never
 * freed before the domain.  Empty leaf and level-2 tables may stay linked
 * for reuse, a bounded number per stripe ("idle tables", pgtable.c);
 * emu_pt_trim() frees them.
 */
#ifndef DML_IOMMU_EMU_H
#define DML_IOMMU_EMU_H

#include <pthread.h>

#include "../../mem/mem.h"
#include "../iommu.h"

/* ---- entry format ---- */

#define VTD_PTE_R	(1ULL << 0)
#define VTD_PTE_W	(1ULL << 1)
#define VTD_PTE_PS	(1ULL << 7)
#define VTD_PTE_SNP	(1ULL << 11)
#define VTD_PTE_ADDR	0x000ffffffffff000ULL
#define VTD_PTE_PRESENT	(VTD_PTE_R | VTD_PTE_W)

#define EMU_PTE_HEAD	(1ULL << 52)
#define EMU_PTE_PENDING	(1ULL << 53)
#define EMU_CNT_SHIFT	52
#define EMU_CNT_MASK	(0x3ffULL << EMU_CNT_SHIFT)
#define EMU_CNT_ONE	(1ULL << EMU_CNT_SHIFT)

#define EMU_PTES	512		/* entries per table */
#define EMU_LVL_SHIFT(l) (12 + 9 * ((l) - 1))	/* bytes one entry covers */

static inline unsigned int emu_cnt(u64 e)
{
	return (unsigned int)((e & EMU_CNT_MASK) >> EMU_CNT_SHIFT);
}

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
 * first + i * 4 KiB; @zero: p[i] = 0.  Widest version the CPU runs.
 */
struct emu_ptes_ops {
	u64 (*or)(const u64 *p, unsigned int n);
	u64 (*and)(const u64 *p, unsigned int n);
	void (*fill)(u64 *p, unsigned int n, u64 first);
	void (*zero)(u64 *p, unsigned int n);
};

extern struct emu_ptes_ops emu_ptes;
unsigned int emu_ptes_count_present(const u64 *p, unsigned int n);
void emu_ptes_clear_bits(u64 *p, unsigned int n, u64 bits);

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

struct emu_tlb_set {
	dml_spinlock_t lock;
	unsigned int victim;
};

struct emu_tlb {
	unsigned int sets;
	unsigned int ways;
	struct emu_tlbe *e;		/* sets * ways */
	struct emu_tlb_set *set;
	atomic_ullong valid;		/* valid entries, all domains */
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

#define EMU_STRIPES 64			/* power of two */
#define EMU_WIN_SHIFT 30		/* one stripe window: 1 GiB */

/*
 * Empty tables kept linked for reuse (pgtable.c, "idle tables"): per
 * stripe at most EMU_IDLE_L1 leaf tables and EMU_IDLE_L2 window (level-2)
 * tables, oldest reclaimed first; emu_pt_trim() reclaims them all.
 */
#define EMU_IDLE_L1 4
#define EMU_IDLE_L2 2

/*
 * struct emu_idle - one idle (linked, empty) table
 * @ent: the entry pointing to it (a level-2 entry for a leaf table, the
 *	window's level-3 entry for a level-2 table); its count is 0
 * @l3e: leaf tables: the level-3 entry of their window
 * @iova: an IOVA the table translates
 */
struct emu_idle {
	u64 *ent;
	u64 *l3e;
	u64 iova;
};

/*
 * struct emu_stripe - lock of the 1 GiB windows that hash to it, with a
 * cache of the level-3 entry of the last window used (valid only while that
 * entry is non-zero, which keeps the level-3 table alive), and the idle
 * tables of those windows, oldest first (@n1, @n2 written under @lock,
 * read without it by emu_pt_trim() to skip empty stripes).
 */
struct emu_stripe {
	dml_spinlock_t lock;
	unsigned int n1, n2;
	u64 win;
	u64 *l3e;
	u64 touched;		/* pt_pages_touched by ops under this lock */
	struct emu_idle idle1[EMU_IDLE_L1];
	struct emu_idle idle2[EMU_IDLE_L2];
} __attribute__((aligned(64)));

/*
 * struct emu_domain - a DMA domain of the emulated unit
 * @dom: the generic part, first so container_of is free
 * @root: the top table (level @levels)
 * @lock: domain lock: entries of tables at level >= 3 and their counts
 * @touched: pt_pages_touched under @lock
 */
struct emu_domain {
	struct dml_domain dom;
	struct dml_iommu *iommu;
	u32 id;
	unsigned int levels;
	u64 leaf_flags;			/* EMU_PTE_PENDING in caching mode */
	bool superpages;
	u64 *root;
	dml_spinlock_t lock;
	u64 touched;
	struct emu_domain *next, **pprev;
	atomic_ullong inv_range, inv_global, sync_map;
	atomic_ullong hits, misses, stale;
	struct emu_stripe stripe[EMU_STRIPES];
};

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
void emu_pt_trim(struct emu_domain *d);
phys_addr_t emu_iova_to_phys(struct dml_domain *dom, dml_iova_t iova);

#endif /* DML_IOMMU_EMU_H */
