/* SPDX-License-Identifier: MIT */
/*
 * pci.h - the PCI layer, internal side: the topology's objects (functions,
 * BARs, the per-platform root in a platform slot), the provider lookup by
 * physical or bus address, the classification without the cache, and the
 * calls src/core makes to bind devices.  Public side: dmalink/pci.h and
 * dmalink/pci-p2pdma.h.
 *
 * What the layers above use (cost in brackets):
 *  - pci_p2pdma_state() [one comparison and a load when the state holds
 *    the provider; else __pci_p2pdma_update_state(): a lock-free lookup of
 *    the BAR table, then pci_p2pdma_map_type(): a lock-free hash lookup in
 *    the provider's cache];
 *  - dml__pci_bar_find() / dml__pci_bar_find_bus() [lock-free: bounds
 *    check, then a binary search of the BAR table];
 *  - dml__pci_route() [a scan of the BAR table, a topology walk when a
 *    BAR answers] and dml__pci_host_allows_p2p(): where the fabric takes
 *    a device's request at a bus address (peer BAR or root complex), and
 *    whether the root complex passes peer traffic, for the device model;
 *  - dml__pci_upstream_bridge(), dml__pci_acs_redirects() [a load each];
 *  - dml__pci_calc_map_type() [a topology walk: slow path only].
 */
#ifndef DML_PCI_PCI_H
#define DML_PCI_PCI_H

#include <dmalink/cc.h>
#include <dmalink/pci-p2pdma.h>
#include <pthread.h>

#include "../base/device.h"

/*
 * struct dml_pci_bar - one memory BAR
 * @provider: its peer-to-peer provider (owner, bus_offset, phys, size);
 *	handed out by pcim_p2pdma_provider() once the function is set up
 * @pdev: the function
 * @index: BAR number
 */
struct dml_pci_bar {
	struct p2pdma_provider provider;
	struct dml_pci_dev *pdev;
	int index;
};

/*
 * struct dml_pci_map_table - an open-addressing hash of client id -> map
 * type; each slot is (client id + 1) << 32 | map type, 0 when empty, so a
 * reader sees a whole entry or none
 */
struct dml_pci_map_table {
	struct dml_pci_map_table *retired;	/* the smaller one it replaced */
	unsigned int mask;			/* slots - 1 */
	unsigned int nr;			/* slots in use */
	_Atomic u64 slot[];
};

/*
 * struct dml_pci_map_cache - the kernel's struct pci_p2pdma: a provider
 * function's map types, keyed by client function id.  Lookups are
 * lock-free (acquire load of @tab); stores take @lock and grow the table
 * by copy, keeping replaced tables until the platform goes.
 */
struct dml_pci_map_cache {
	pthread_mutex_t lock;
	struct dml_pci_map_table *_Atomic tab;
};

/*
 * What happens to the memory BARs of a function, for whoever hands them
 * out (src/dmabuf's BAR exporter): memory decode goes off (a write of
 * PCI_COMMAND, or a reset), comes back on, or the function is gone
 * (closed, or its platform destroyed).  After DML_PCI_BAR_GONE the user
 * is no longer on the list.
 */
enum dml_pci_bar_event {
	DML_PCI_BAR_DECODE_OFF,
	DML_PCI_BAR_DECODE_ON,
	DML_PCI_BAR_GONE,
	DML_PCI_BAR_LEFT_RUN,	/* the TDI left TDISP RUN (src/pci/tdisp.c) */
};

/*
 * struct dml_pci_bar_user - one listener of a function's BAR events
 * @next: the function's list (pdev->bar_users_lock)
 * @event: called with pdev->bar_users_lock held, so it must not add or
 *	remove users of the same function (no dma_buf_put of its buffers)
 */
struct dml_pci_bar_user {
	struct dml_pci_bar_user *next;
	void (*event)(struct dml_pci_bar_user *u, enum dml_pci_bar_event ev);
};

/*
 * dml__pci_bar_user_add - listen to @pdev's BAR events; when memory decode
 * is off now, @u gets DML_PCI_BAR_DECODE_OFF at once, under the events'
 * lock (VFIO's exporter starts revoked then)
 */
void dml__pci_bar_user_add(struct dml_pci_dev *pdev, struct dml_pci_bar_user *u);

/* dml__pci_bar_user_del - stop listening; no-op after DML_PCI_BAR_GONE */
void dml__pci_bar_user_del(struct dml_pci_dev *pdev, struct dml_pci_bar_user *u);

/*
 * dml__pci_bar_event - tell every user of @pdev; a decode event that
 * changes nothing is not passed on.  The backends call it: vfio on a
 * PCI_COMMAND write, around a reset and on close; the platform on
 * teardown; dml_pci_set_memory_decode() on the emulated platform.
 */
void dml__pci_bar_event(struct dml_pci_dev *pdev, enum dml_pci_bar_event ev);

/*
 * struct dml_pci_dev - a PCI function (or a host bridge: the node above a
 * root bus).  Set at creation and never changed: everything but @acs_ctrl,
 * @p2pdma, @bar sizes (set once) and @dev.  @id is unique in the platform
 * and never reused (the cache key).
 */
struct dml_pci_dev {
	struct dml_platform *plat;
	enum dml_pci_type type;
	struct dml_pci_dev *parent;	/* NULL for a host bridge */
	struct dml_pci_dev *host;	/* its host bridge (itself for one) */
	struct dml_pci_dev *child;	/* first child, in add order */
	struct dml_pci_dev *last_child;
	struct dml_pci_dev *sibling;	/* next child of @parent (hosts: next host) */
	u32 id;
	u16 domain;
	u8 bus;
	u8 devfn;
	u8 secondary;			/* bridges: the bus below */
	unsigned int next_bus;		/* host bridges: next bus to hand out */
	u16 vendor;
	u16 device;
	unsigned int depth;
	bool acs_cap;
	_Atomic u16 acs_ctrl;
	bool implicit;			/* made for a device without a place */
	struct dml_device *dev;		/* the device bound to it */
	struct dml_pci_bar bar[PCI_STD_NUM_BARS];
	struct dml_pci_map_cache *_Atomic p2pdma;	/* pcim_p2pdma_init() */
	char name[32];
	char bdf[16];
	dml_spinlock_t tdisp_lock;	/* TDISP transitions (src/pci/tdisp.c) */
	_Atomic u8 tdisp;		/* enum dml_tdisp_state */
	atomic_bool tdisp_accepted;	/* accepted by @tvm, and in RUN */
	/* the TVM it is bound to, or NULL; set under @tdisp_lock, read by DMA */
	struct dml_tvm *_Atomic tvm;
	pthread_mutex_t bar_users_lock;	/* @bar_users, @decode_off (decode.c) */
	struct dml_pci_bar_user *bar_users;
	bool decode_off;		/* memory decode is off */
};

/*
 * struct dml_pci_bar_table - the BARs of a platform sorted by physical
 * base (copy on write: readers load it without a lock; old tables are
 * freed with the root)
 */
struct dml_pci_bar_table {
	struct dml_pci_bar_table *retired;	/* the one it replaced */
	unsigned int nr;
	phys_addr_t lo, hi;		/* lowest base, highest end */
	struct dml_pci_bar *bar[];
};

/* struct dml_pci_root - a platform's topology (slot DML_SLOT_PCI) */
struct dml_pci_root {
	pthread_mutex_t lock;		/* adding functions, BARs; the tables */
	struct dml_pci_dev *hosts;	/* first host bridge; ->sibling chains */
	struct dml_pci_dev *last_host;
	u32 next_id;
	struct dml_pci_bar_table *_Atomic bars;
};

/* dml__pci_root - @p's topology, created on first use; NULL on -ENOMEM */
struct dml_pci_root *dml__pci_root(struct dml_platform *p);

/*
 * dml__pci_upstream_bridge - pci_upstream_bridge(): the bridge above
 * @pdev, NULL on a root bus (a host bridge is no PCI function)
 */
static inline struct dml_pci_dev *dml__pci_upstream_bridge(const struct dml_pci_dev *pdev)
{
	struct dml_pci_dev *up = pdev->parent;

	return up && up->type != DML_PCI_HOST_BRIDGE ? up : NULL;
}

/*
 * dml__pci_acs_redirects - pci_bridge_has_acs_redir(): @pdev's ACS sends
 * peer-to-peer requests or completions upstream (RR, CR or EC set)
 */
static inline bool dml__pci_acs_redirects(const struct dml_pci_dev *pdev)
{
	return atomic_load_explicit(&pdev->acs_ctrl, memory_order_relaxed) &
	       (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC);
}

/*
 * dml__pci_bar_find - the BAR of @p holding CPU physical address @phys,
 * NULL if none; lock-free: a bounds check (all that RAM costs), then a
 * binary search
 */
static inline struct dml_pci_bar *dml__pci_bar_find(struct dml_platform *p,
						    phys_addr_t phys)
{
	struct dml_pci_root *root = dml__platform_slot(p, DML_SLOT_PCI);
	struct dml_pci_bar_table *t;
	unsigned int lo, hi;

	if (!root)
		return NULL;
	t = atomic_load_explicit(&root->bars, memory_order_acquire);
	if (!t || phys < t->lo || phys >= t->hi)
		return NULL;
	/* the last BAR starting at or below @phys */
	lo = 0;
	hi = t->nr;
	while (hi - lo > 1) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (t->bar[mid]->provider.phys <= phys)
			lo = mid;
		else
			hi = mid;
	}
	if (phys - t->bar[lo]->provider.phys < t->bar[lo]->provider.size)
		return t->bar[lo];
	return NULL;
}

/*
 * dml__pci_bar_find_bus - the BAR of @p that answers PCI bus address
 * @addr (phys + bus_offset), NULL if none; lock-free, a scan of the table
 */
struct dml_pci_bar *dml__pci_bar_find_bus(struct dml_platform *p, dma_addr_t addr);

/*
 * dml__pci_calc_map_type - classify @client's path to @provider's memory
 * now (calc_map_type_and_dist() in drivers/pci/p2pdma.c), reading ACS as
 * it is; no cache read or written
 * @dist: out: the distance (see pci_p2pdma_distance_many())
 * @verbose: warn when ACS redirects or the host bridge refuses
 */
enum pci_p2pdma_map_type dml__pci_calc_map_type(struct dml_pci_dev *provider,
						struct dml_pci_dev *client,
						int *dist, bool verbose);

/*
 * enum dml_pci_route - where the fabric takes a memory request a device
 * makes at a bus address
 * @DML_PCI_ROUTE_UPSTREAM: up to the root complex: the IOMMU translates it
 *	(or, for dma-direct, it is a CPU physical address); a peer BAR reached
 *	this way needs dml__pci_host_allows_p2p()
 * @DML_PCI_ROUTE_PEER: claimed on the way up by a peer's BAR below a
 *	common bridge with no ACS redirect on the path: it never reaches the
 *	root complex or the IOMMU
 */
enum dml_pci_route {
	DML_PCI_ROUTE_UPSTREAM,
	DML_PCI_ROUTE_PEER,
};

/*
 * dml__pci_route - route a request of @dev to bus address @addr as the
 * switches would now (ACS as it is set now, not as classified and cached)
 * @bar: out: the peer BAR for DML_PCI_ROUTE_PEER (the byte is at CPU
 *	physical address @addr - bar->provider.bus_offset), else NULL
 * Costs a scan of the BAR table and, when a BAR answers @addr, a walk of
 * the topology: for the device model, not the mapping paths.
 */
enum dml_pci_route dml__pci_route(struct dml_device *dev, dma_addr_t addr,
				  struct dml_pci_bar **bar);

/*
 * dml__pci_host_allows_p2p - whether the root complex passes peer traffic
 * between @a and @b (AMD Zen or later, or whitelisted host bridge(s));
 * otherwise it drops it.  No warning.
 */
bool dml__pci_host_allows_p2p(struct dml_pci_dev *a, struct dml_pci_dev *b);

/*
 * dml__pci_bind - bind @dev to a function: @pdev (an endpoint of @dev's
 * platform, unbound), or with @pdev NULL a new integrated endpoint at
 * bus/devfn @dev->source_id on the first host bridge (made if none).
 * Sets dev->pci_dev and dev->source_id.  Return: 0; -EINVAL; -EBUSY;
 * -ENOMEM.
 */
int dml__pci_bind(struct dml_device *dev, struct dml_pci_dev *pdev);

/* dml__pci_unbind - undo dml__pci_bind() (an implicit function goes) */
void dml__pci_unbind(struct dml_device *dev);

/* dml__pci_cpu_supports_p2pdma - cpu_supports_p2pdma(): AMD Zen or later */
static inline bool dml__pci_cpu_supports_p2pdma(const struct dml_platform *p)
{
	return p->cpu_vendor == DML_CPU_AMD && p->cpu_family >= 0x17;
}

/* ---- TDISP device interface state (src/pci/tdisp.c) ---- */

struct dml_tvm;

/*
 * dml__tdisp_bind - LOCK_INTERFACE_REQUEST on behalf of @tvm:
 * CONFIG_UNLOCKED to CONFIG_LOCKED, bound to @tvm.  0; -EINVAL (not an
 * endpoint); -EBUSY (not CONFIG_UNLOCKED).
 */
int dml__tdisp_bind(struct dml_pci_dev *pdev, struct dml_tvm *tvm);
/* dml__tdisp_accept - accepted by @tvm: 0; -EINVAL (not @tvm's); -EBUSY (not RUN) */
int dml__tdisp_accept(struct dml_pci_dev *pdev, struct dml_tvm *tvm);
/* dml__tdisp_accepted - whether @pdev is accepted into its TVM and in RUN */
static inline bool dml__tdisp_accepted(const struct dml_pci_dev *pdev)
{
	return atomic_load_explicit(&pdev->tdisp_accepted, memory_order_acquire);
}

/* dml__dev_accepted - whether @dev is a PCI function accepted and in RUN */
static inline bool dml__dev_accepted(const struct dml_device *dev)
{
	return dev->pci_dev && dml__tdisp_accepted(dev->pci_dev);
}

/* dml__tdisp_run - whether @pdev's interface is in TDISP RUN */
static inline bool dml__tdisp_run(const struct dml_pci_dev *pdev)
{
	return atomic_load_explicit(&pdev->tdisp, memory_order_acquire) ==
	       DML_TDISP_RUN;
}

/*
 * dml__tdisp_tvm_peer - whether @client may reach the private MMIO of
 * @provider (a function in RUN): accepted into the same TVM, and in RUN
 */
static inline bool dml__tdisp_tvm_peer(const struct dml_pci_dev *client,
				       const struct dml_pci_dev *provider)
{
	return client && dml__tdisp_accepted(client) &&
	       client->tvm == provider->tvm;
}

/*
 * dml__tdisp_mmio_peer - whether @dev may reach the private MMIO at @phys:
 * it is accepted into the TVM of the function whose BAR holds @phys
 */
static inline bool dml__tdisp_mmio_peer(const struct dml_device *dev,
					phys_addr_t phys)
{
	struct dml_pci_bar *bar = dml__pci_bar_find(dev->plat, phys);

	return bar && dml__tdisp_tvm_peer(dev->pci_dev, bar->pdev);
}

#endif /* DML_PCI_PCI_H */
