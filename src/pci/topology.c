/* SPDX-License-Identifier: MIT */
/*
 * topology.c - the PCI topology of a platform: host bridges, ports,
 * switches and endpoints as a tree of struct dml_pci_dev, their ACS
 * control bits, their memory BARs, and the binding of struct dml_device
 * to endpoint functions.
 *
 * Invariants: a function never changes parent, bus or devfn; functions
 * are never removed while the platform lives, except the implicit
 * integrated endpoint of a device created without a place (it has no
 * BARs, so no table points to it).  Bus numbers: a host bridge hands out
 * root bus + 1, + 2, ... to bridges in the order they are added.
 *
 * The BAR table (struct dml_pci_bar_table) is copy on write: writers
 * build a new sorted table under root->lock and publish it with a release
 * store; readers (the mapping paths, the device model) load it with
 * acquire and never lock.  Replaced tables stay on a chain until the
 * platform goes, so a reader never sees freed memory.
 *
 * Locking: root->lock guards the tree's links, bus numbers and the BAR
 * table; the ACS bits are atomic (set by tests at any time).
 */
#include <stdio.h>
#include <string.h>

#include <dmalink/cc.h>

#include "../mem/mem.h"
#include "pci.h"

static void root_release(void *obj);

static void *root_create(struct dml_platform *p)
{
	struct dml_pci_root *root = dml__zalloc(sizeof(*root));

	(void)p;
	if (root)
		pthread_mutex_init(&root->lock, NULL);
	return root;
}

struct dml_pci_root *dml__pci_root(struct dml_platform *p)
{
	return dml__platform_slot_get(p, DML_SLOT_PCI, root_create, root_release);
}

static void free_cache(struct dml_pci_dev *pdev)
{
	struct dml_pci_map_cache *c = atomic_load(&pdev->p2pdma);
	struct dml_pci_map_table *t;

	if (!c)
		return;
	t = atomic_load(&c->tab);
	while (t) {
		struct dml_pci_map_table *old = t->retired;

		dml__free(t);
		t = old;
	}
	pthread_mutex_destroy(&c->lock);
	dml__free(c);
}

/* free @pdev and everything below it */
static void free_subtree(struct dml_pci_dev *pdev)
{
	while (pdev) {
		struct dml_pci_dev *next = pdev->sibling;

		free_subtree(pdev->child);
		dml__pci_bar_event(pdev, DML_PCI_BAR_GONE);
		pthread_mutex_destroy(&pdev->bar_users_lock);
		free_cache(pdev);
		dml__free(pdev);
		pdev = next;
	}
}

static void root_release(void *obj)
{
	struct dml_pci_root *root = obj;
	struct dml_pci_bar_table *t = atomic_load(&root->bars);

	free_subtree(root->hosts);
	while (t) {
		struct dml_pci_bar_table *old = t->retired;

		dml__free(t);
		t = old;
	}
	pthread_mutex_destroy(&root->lock);
	dml__free(root);
}

/* a new function, linked under @parent (NULL: a host bridge); root->lock held */
static struct dml_pci_dev *node_new(struct dml_platform *p, struct dml_pci_root *root,
				    struct dml_pci_dev *parent, enum dml_pci_type type,
				    u8 bus, u8 devfn, u16 vendor, u16 device,
				    const char *name)
{
	struct dml_pci_dev *n = dml__zalloc(sizeof(*n));
	int i;

	if (!n)
		return NULL;
	n->plat = p;
	n->type = type;
	n->parent = parent;
	n->id = root->next_id++;
	n->bus = bus;
	n->devfn = devfn;
	pthread_mutex_init(&n->bar_users_lock, NULL);
	n->vendor = vendor;
	n->device = device;
	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		n->bar[i].pdev = n;
		n->bar[i].index = i;
		n->bar[i].provider.owner = n;
	}
	if (parent) {
		n->host = parent->host;
		n->domain = parent->domain;
		n->depth = parent->depth + 1;
		snprintf(n->bdf, sizeof(n->bdf), "%04x:%02x:%02x.%u", n->domain,
			 bus, devfn >> 3, devfn & 7);
		if (parent->last_child)
			parent->last_child->sibling = n;
		else
			parent->child = n;
		parent->last_child = n;
	} else {
		n->host = n;
		if (root->last_host)
			root->last_host->sibling = n;
		else
			root->hosts = n;
		root->last_host = n;
	}
	snprintf(n->name, sizeof(n->name), "%s", name ? name : n->bdf);
	return n;
}

static struct dml_pci_dev *find_host(struct dml_pci_root *root, u16 domain, u8 bus)
{
	struct dml_pci_dev *h;

	for (h = root->hosts; h; h = h->sibling)
		if (h->domain == domain && h->bus == bus)
			return h;
	return NULL;
}

/* host bridge @domain:@bus; root->lock held */
static int host_add_locked(struct dml_platform *p, struct dml_pci_root *root,
			   u16 domain, u8 bus, u16 vendor, u16 device,
			   const char *name, struct dml_pci_dev **out)
{
	char bdf[16];
	struct dml_pci_dev *h;

	if (find_host(root, domain, bus))
		return -EEXIST;
	snprintf(bdf, sizeof(bdf), "pci%04x:%02x", domain, bus);
	h = node_new(p, root, NULL, DML_PCI_HOST_BRIDGE, bus, 0, vendor, device,
		     name ? name : bdf);
	if (!h)
		return -ENOMEM;
	h->domain = domain;
	memcpy(h->bdf, bdf, sizeof(bdf));
	h->secondary = bus;
	h->next_bus = bus + 1u;
	*out = h;
	return 0;
}

int dml_pci_host_bridge_add(struct dml_platform *p, u16 domain, u8 bus,
			    u16 vendor, u16 device, const char *name,
			    struct dml_pci_dev **out)
{
	struct dml_pci_root *root;
	int ret;

	if (!p || !out)
		return -EINVAL;
	root = dml__pci_root(p);
	if (!root)
		return -ENOMEM;
	pthread_mutex_lock(&root->lock);
	ret = host_add_locked(p, root, domain, bus, vendor, device, name, out);
	pthread_mutex_unlock(&root->lock);
	return ret;
}

/* whether a function of @type may sit below @parent */
static bool type_fits(const struct dml_pci_dev *parent, enum dml_pci_type type)
{
	switch (type) {
	case DML_PCI_ROOT_PORT:
		return parent->type == DML_PCI_HOST_BRIDGE;
	case DML_PCI_SWITCH_UP:
		return parent->type == DML_PCI_ROOT_PORT ||
		       parent->type == DML_PCI_SWITCH_DOWN;
	case DML_PCI_SWITCH_DOWN:
		return parent->type == DML_PCI_SWITCH_UP;
	case DML_PCI_ENDPOINT:
		return parent->type == DML_PCI_HOST_BRIDGE ||
		       parent->type == DML_PCI_ROOT_PORT ||
		       parent->type == DML_PCI_SWITCH_DOWN;
	default:
		return false;
	}
}

int dml_pci_dev_add(struct dml_pci_dev *parent, enum dml_pci_type type,
		    u8 devfn, u16 vendor, u16 device, const char *name,
		    struct dml_pci_dev **out)
{
	struct dml_pci_root *root;
	struct dml_pci_dev *c, *n;
	int ret = 0;

	if (!parent || !out || !type_fits(parent, type))
		return -EINVAL;
	root = dml__pci_root(parent->plat);
	if (!root)
		return -ENOMEM;
	pthread_mutex_lock(&root->lock);
	for (c = parent->child; c; c = c->sibling) {
		if (c->devfn == devfn && !c->implicit) {
			ret = -EEXIST;
			goto out;
		}
	}
	if (type != DML_PCI_ENDPOINT && parent->host->next_bus > 0xff) {
		ret = -ENOSPC;
		goto out;
	}
	n = node_new(parent->plat, root, parent, type, parent->secondary, devfn,
		     vendor, device, name);
	if (!n) {
		ret = -ENOMEM;
		goto out;
	}
	if (type != DML_PCI_ENDPOINT)
		n->secondary = (u8)parent->host->next_bus++;
	*out = n;
out:
	pthread_mutex_unlock(&root->lock);
	return ret;
}

int dml_pci_switch_add(struct dml_pci_dev *port, u8 devfn, u16 vendor,
		       u16 device, const char *name, unsigned int nr_down,
		       struct dml_pci_dev **up, struct dml_pci_dev **down)
{
	unsigned int i;
	int ret;

	if (!up || !down || !nr_down || nr_down > 32)
		return -EINVAL;
	ret = dml_pci_dev_add(port, DML_PCI_SWITCH_UP, devfn, vendor, device,
			      name, up);
	for (i = 0; !ret && i < nr_down; i++) {
		char dname[32];

		if (name)
			snprintf(dname, sizeof(dname), "%.24s.d%u", name, i);
		ret = dml_pci_dev_add(*up, DML_PCI_SWITCH_DOWN, PCI_DEVFN(i, 0),
				      vendor, device, name ? dname : NULL,
				      &down[i]);
	}
	return ret;
}

/* a bridge of host bridge @h, other than @self, with secondary bus @bus */
static bool bus_taken(struct dml_pci_dev *h, struct dml_pci_dev *self, u8 bus)
{
	struct dml_pci_dev *n;

	for (n = h->child; n && n->host == h; n = dml_pci_walk(h->plat, n))
		if (n != self && n->type != DML_PCI_ENDPOINT && n->secondary == bus)
			return true;
	return false;
}

int dml_pci_bridge_set_bus(struct dml_pci_dev *bridge, u8 secondary)
{
	struct dml_pci_root *root;
	int ret = 0;

	if (!bridge || bridge->type == DML_PCI_HOST_BRIDGE ||
	    bridge->type == DML_PCI_ENDPOINT || bridge->child ||
	    secondary <= bridge->host->bus)
		return -EINVAL;
	root = dml__platform_slot(bridge->plat, DML_SLOT_PCI);
	pthread_mutex_lock(&root->lock);
	if (bus_taken(bridge->host, bridge, secondary)) {
		ret = -EEXIST;
	} else {
		bridge->secondary = secondary;
		bridge->host->next_bus = max(bridge->host->next_bus, secondary + 1u);
	}
	pthread_mutex_unlock(&root->lock);
	return ret;
}

int dml_pci_port_set_acs(struct dml_pci_dev *pdev, u16 ctrl)
{
	if (!pdev || pdev->type == DML_PCI_HOST_BRIDGE || (ctrl & ~0x7fu))
		return -EINVAL;
	pdev->acs_cap = true;
	atomic_store(&pdev->acs_ctrl, ctrl);
	return 0;
}

/*
 * table_build - a copy of the BAR table with @bar added in order of
 * physical base, not yet published; root->lock held.
 * Return: 0; -EINVAL if @bar overlaps a BAR; -ENOMEM.
 */
static int table_build(struct dml_pci_root *root, struct dml_pci_bar *bar,
		       struct dml_pci_bar_table **out)
{
	struct dml_pci_bar_table *old = atomic_load(&root->bars), *t;
	unsigned int nr = old ? old->nr : 0, i, j;
	phys_addr_t start = bar->provider.phys;
	u64 size = bar->provider.size;

	for (i = 0; i < nr; i++) {
		const struct p2pdma_provider *o = &old->bar[i]->provider;

		if (start < o->phys + o->size && o->phys < start + size)
			return -EINVAL;
	}
	t = dml__zalloc(sizeof(*t) + (nr + 1) * sizeof(t->bar[0]));
	if (!t)
		return -ENOMEM;
	for (i = 0, j = 0; i < nr; i++) {
		if (j == i && old->bar[i]->provider.phys > start)
			t->bar[j++] = bar;
		t->bar[j++] = old->bar[i];
	}
	if (j == nr)
		t->bar[j++] = bar;
	t->nr = j;
	t->lo = t->bar[0]->provider.phys;
	for (i = 0; i < t->nr; i++)
		t->hi = max(t->hi, t->bar[i]->provider.phys + t->bar[i]->provider.size);
	t->retired = old;
	*out = t;
	return 0;
}

int dml_pci_bar_add(struct dml_pci_dev *pdev, int bar, phys_addr_t phys,
		    u64 size, u64 bus_offset, unsigned int flags)
{
	struct dml_pci_bar_table *t = NULL;
	struct dml_platform *p;
	struct dml_pci_root *root;
	struct dml_pci_bar *b;
	u64 end;
	int ret;

	if (!pdev || pdev->type == DML_PCI_HOST_BRIDGE || pdev->implicit ||
	    bar < 0 || bar >= PCI_STD_NUM_BARS || !size ||
	    __builtin_add_overflow(phys, size, &end) ||
	    (flags & ~DML_PCI_BAR_NO_MMIO))
		return -EINVAL;
	p = pdev->plat;
	if (!(flags & DML_PCI_BAR_NO_MMIO) &&
	    (!p->mem || !IS_ALIGNED(phys, SZ_4K) || !IS_ALIGNED(size, SZ_4K)))
		return -EINVAL;
	root = dml__pci_root(p);
	if (!root)
		return -ENOMEM;
	b = &pdev->bar[bar];
	pthread_mutex_lock(&root->lock);
	if (b->provider.size) {
		ret = -EEXIST;
		goto out;
	}
	b->provider.phys = phys;
	b->provider.size = size;
	b->provider.bus_offset = bus_offset;
	ret = table_build(root, b, &t);
	if (!ret && !(flags & DML_PCI_BAR_NO_MMIO)) {
		char name[32];

		snprintf(name, sizeof(name), "%.20s bar%d", pdev->name, bar);
		ret = dml__mem_add(p->mem, phys, size, DML_REGION_MMIO, name);
	}
	if (ret) {
		dml__free(t);
		b->provider.phys = 0;
		b->provider.size = 0;
		b->provider.bus_offset = 0;
		goto out;
	}
	atomic_store_explicit(&root->bars, t, memory_order_release);
out:
	pthread_mutex_unlock(&root->lock);
	/* TDISP: a BAR change while locked moves the TDI to ERROR */
	if (!ret)
		dml_tdisp_error(pdev);
	return ret;
}

struct dml_pci_bar *dml__pci_bar_find_bus(struct dml_platform *p, dma_addr_t addr)
{
	struct dml_pci_root *root = dml__platform_slot(p, DML_SLOT_PCI);
	struct dml_pci_bar_table *t;
	unsigned int i;

	if (!root)
		return NULL;
	t = atomic_load_explicit(&root->bars, memory_order_acquire);
	for (i = 0; t && i < t->nr; i++) {
		const struct p2pdma_provider *pr = &t->bar[i]->provider;

		if ((u64)addr - (pr->phys + pr->bus_offset) < pr->size)
			return t->bar[i];
	}
	return NULL;
}

void dml_pci_get_info(const struct dml_pci_dev *pdev, struct dml_pci_info *info)
{
	int i;

	memset(info, 0, sizeof(*info));
	info->type = pdev->type;
	info->name = pdev->name;
	memcpy(info->bdf, pdev->bdf, sizeof(info->bdf));
	info->domain = pdev->domain;
	info->bus = pdev->bus;
	info->devfn = pdev->devfn;
	info->secondary = pdev->type == DML_PCI_ENDPOINT ? 0 : pdev->secondary;
	info->vendor = pdev->vendor;
	info->device = pdev->device;
	info->depth = pdev->depth;
	info->parent = pdev->parent;
	info->acs_cap = pdev->acs_cap;
	info->acs_ctrl = atomic_load(&pdev->acs_ctrl);
	info->dev = pdev->dev;
	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		info->bar[i].size = pdev->bar[i].provider.size;
		info->bar[i].phys = pdev->bar[i].provider.phys;
		info->bar[i].bus_offset = pdev->bar[i].provider.bus_offset;
	}
}

struct dml_pci_dev *dml_pci_walk(struct dml_platform *p, struct dml_pci_dev *prev)
{
	struct dml_pci_root *root;

	if (!prev) {
		root = p ? dml__platform_slot(p, DML_SLOT_PCI) : NULL;
		return root ? root->hosts : NULL;
	}
	if (prev->child)
		return prev->child;
	for (; prev; prev = prev->parent)
		if (prev->sibling)
			return prev->sibling;
	return NULL;
}

struct dml_pci_dev *dml_pci_dev_of(const struct dml_device *dev)
{
	return dev ? dev->pci_dev : NULL;
}

int dml__pci_bind(struct dml_device *dev, struct dml_pci_dev *pdev)
{
	struct dml_platform *p = dev->plat;
	struct dml_pci_root *root = dml__pci_root(p);
	int ret = 0;

	if (!root)
		return -ENOMEM;
	pthread_mutex_lock(&root->lock);
	if (pdev) {
		if (pdev->plat != p || pdev->type != DML_PCI_ENDPOINT)
			ret = -EINVAL;
		else if (pdev->dev)
			ret = -EBUSY;
	} else {
		struct dml_pci_dev *host = root->hosts;

		if (!host)
			ret = host_add_locked(p, root, 0, 0, 0, 0, NULL, &host);
		if (!ret) {
			pdev = node_new(p, root, host, DML_PCI_ENDPOINT,
					dev->source_id >> 8, dev->source_id & 0xff,
					0, 0, NULL);
			if (!pdev)
				ret = -ENOMEM;
			else
				pdev->implicit = true;
		}
	}
	if (!ret) {
		pdev->dev = dev;
		dev->pci_dev = pdev;
		dev->source_id = (u16)(pdev->bus << 8 | pdev->devfn);
	}
	pthread_mutex_unlock(&root->lock);
	return ret;
}

void dml__pci_unbind(struct dml_device *dev)
{
	struct dml_pci_dev *pdev = dev->pci_dev, *parent, **pp, *prev = NULL;
	struct dml_pci_root *root;

	if (!pdev)
		return;
	root = dml__platform_slot(dev->plat, DML_SLOT_PCI);
	pthread_mutex_lock(&root->lock);
	pdev->dev = NULL;
	dev->pci_dev = NULL;
	if (pdev->implicit) {
		parent = pdev->parent;
		for (pp = &parent->child; *pp != pdev; pp = &(*pp)->sibling)
			prev = *pp;
		*pp = pdev->sibling;
		if (parent->last_child == pdev)
			parent->last_child = prev;
		pdev->sibling = NULL;
		free_subtree(pdev);
	}
	pthread_mutex_unlock(&root->lock);
}
