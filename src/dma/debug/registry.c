/* SPDX-License-Identifier: MIT */
/*
 * registry.c - the checker's per-device records (struct dbg_dev) and the
 * objects they own: created when a device is added to its platform,
 * looked up by every hook, and at device removal the kernel's leak report
 * (kernel/dma/debug.c: dma_debug_device_change()).  Also switching the
 * checker on and off, the global switch itself, and the dump of what is
 * recorded (kernel/dma/debug.c: debug_dma_dump_mappings()).
 */
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define LEAK_LIST_MAX 16	/* mappings listed by a leak report */
#define DEV_HASH 64

atomic_bool dml__dma_debug_on;

static const char *const map_err_name[] = {
	[MAP_ERR_NOT_APPLICABLE] = "dma map error check not applicable",
	[MAP_ERR_NOT_CHECKED] = "dma map error not checked",
	[MAP_ERR_CHECKED] = "dma map error checked",
};

static struct dbg_dev *dev_hash[DEV_HASH];
struct rix dml__dbg_phys_ix;

static unsigned int dev_slot(const struct dml_device *dev)
{
	return (unsigned int)(((uintptr_t)dev >> 6) % DEV_HASH);
}

struct dbg_dev *dml__dbg_dev_find(const struct dml_device *dev)
{
	struct dbg_dev *dd;

	for (dd = dev_hash[dev_slot(dev)]; dd; dd = dd->next)
		if (dd->dev == dev)
			return dd;
	return NULL;
}

static void phys_del(struct dbg_obj *o, u64 phys)
{
	dml__rix_remove(&dml__dbg_phys_ix, phys, o);
}

void dml__dbg_link_free(struct dbg_link *l)
{
	if (l->in_phys)
		phys_del(&l->o, l->phys);
	free(l);
}

void dml__dbg_entry_free(struct dbg_dev *dd, struct dbg_entry *e)
{
	unsigned int i;
	size_t j;

	dml__rix_remove(&dd->dma, e->o.dev_addr, e);
	for (i = 0; i < e->nr_cpu; i++)
		phys_del(&e->o, e->cpu[i].phys);
	if (e->cpu != &e->cpu1)
		free(e->cpu);
	for (j = 0; j < e->nr_links; j++)
		dml__dbg_link_free(e->links[j]);
	free(e->links);
	free(e);
}

static void dd_free(struct dbg_dev *dd)
{
	struct dbg_dev **pp;

	while (dd->dma.n)
		dml__dbg_entry_free(dd, dd->dma.v[dd->dma.n - 1].obj);
	dml__rix_fini(&dd->dma);
	for (pp = &dev_hash[dev_slot(dd->dev)]; *pp; pp = &(*pp)->next) {
		if (*pp == dd) {
			*pp = dd->next;
			break;
		}
	}
	free(dd);
}

void dml__dbg_disable_locked(void)
{
	unsigned int i;

	atomic_store(&dml__dma_debug_on, false);
	atomic_store(&dml__cpu_access_hook, NULL);
	for (i = 0; i < DEV_HASH; i++)
		while (dev_hash[i])
			dd_free(dev_hash[i]);
	dml__rix_fini(&dml__dbg_phys_ix);
	dml__dbg_dmabuf_fini();
}

void dml__dma_debug_device_add(struct dml_device *dev)
{
	struct ctx c = CTX_INIT;
	struct dbg_dev *dd;

	dml__dbg_lock();
	dd = dml__dbg_dev_find(dev);
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
		dml__dbg_oom = true;
	}
	dml__dbg_unlock(&c);
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
		*len ? "\n" : "", dml__dbg_type_name[o->type],
		(unsigned long long)o->dev_addr, (unsigned long long)o->size,
		o->type == T_IOVA ? "reserved" : dml__dbg_dir_name(o->dir),
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

	dml__dbg_lock();
	dd = dml__dbg_dev_find(dev);
	if (!dd) {
		dml__dbg_unlock(&c);
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
				leak_line(list, cap, &len, &e->links[j]->o,
					  &shown);
		}
		dml__dbg_report(&c, dd, DML_DMA_DEBUG_LEAK, &first->o.made,
				first->o.dev_addr, first->o.size, list,
				"device driver has pending DMA allocations while released from device [count=%llu]\n" "One of leaked entries details: [device address=0x%016llx] [size=%llu bytes] [mapped with %s] [mapped as %s]",
				(unsigned long long)count,
				(unsigned long long)first->o.dev_addr,
				(unsigned long long)first->o.size,
				dml__dbg_dir_name(first->o.dir),
				dml__dbg_type_name[first->o.type]);
		free(list);
	}
	dd_free(dd);
	dml__dbg_unlock(&c);
}

/* the watched record of @dev, with the lock taken; NULL (unlocked) if none */
struct dbg_dev *dml__dbg_dev_get(struct dml_device *dev)
{
	struct dbg_dev *dd;

	if (!dev)
		return NULL;
	dml__dbg_lock();
	dd = dml__dbg_dev_find(dev);
	if (!dd)
		pthread_mutex_unlock(&dml__dbg_mutex);
	return dd;
}

void dml__dbg_obj_init(struct ctx *c, struct dbg_obj *o, struct dbg_dev *dd,
		       enum dbg_type type, u64 dev_addr, u64 size,
		       enum dma_data_direction dir, unsigned long attrs)
{
	o->dd = dd;
	o->type = type;
	o->dir = dir;
	o->attrs = attrs;
	o->dev_addr = dev_addr;
	o->size = size;
	dml__dbg_trace_capture(&o->made, c->from);
}

struct dbg_entry *dml__dbg_entry_new(struct ctx *c, struct dbg_dev *dd,
				     enum dbg_type type, u64 dev_addr, u64 size,
				     enum dma_data_direction dir,
				     unsigned long attrs)
{
	struct dbg_entry *e = calloc(1, sizeof(*e));

	if (!e) {
		dml__dbg_oom = true;
		return NULL;
	}
	dml__dbg_obj_init(c, &e->o, dd, type, dev_addr, size, dir, attrs);
	e->cpu = &e->cpu1;
	if (dml__rix_insert(&dd->dma, dev_addr, size, e)) {
		free(e);
		return NULL;
	}
	return e;
}

/* the CPU access hook mem/phys.c calls while the checker is on */
static void cpu_access_hook(struct dml_platform *p, phys_addr_t phys, u64 len)
{
	dml__dma_debug_cpu_access(p, phys, len);
}

void dml_dma_debug_enable(bool on)
{
	if (on) {
		void *warm[2];

		/* glibc loads its unwinder on the first backtrace(): now */
		backtrace(warm, 2);
	}
	dml__dbg_lock();
	dml__dbg_disable_locked();
	if (on) {
		atomic_store(&dml__cpu_access_hook, cpu_access_hook);
		atomic_store(&dml__dma_debug_on, true);
	}
	pthread_mutex_unlock(&dml__dbg_mutex);
}

bool dml_dma_debug_enabled(void)
{
	return atomic_load(&dml__dma_debug_on);
}

u64 dml_dma_debug_mapping_count(struct dml_device *dev)
{
	struct dbg_dev *dd = dml__dbg_dev_get(dev);
	u64 n;

	if (!dd)
		return 0;
	n = entry_count(dd);
	pthread_mutex_unlock(&dml__dbg_mutex);
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
			     dd->name, dml__dbg_type_name[e->o.type], i,
			     (unsigned long long)e->phys,
			     (unsigned long long)e->o.dev_addr,
			     (unsigned long long)e->o.size,
			     dml__dbg_dir_name(e->o.dir),
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

	dml__dbg_lock();
	if (dev) {
		struct dbg_dev *dd = dml__dbg_dev_find(dev);

		if (dd)
			n = dump_dev(dd, &lines, &nr);
	} else {
		for (h = 0; h < DEV_HASH; h++) {
			struct dbg_dev *dd;

			for (dd = dev_hash[h]; dd; dd = dd->next)
				n += dump_dev(dd, &lines, &nr);
		}
	}
	pthread_mutex_unlock(&dml__dbg_mutex);
	for (i = 0; i < nr; i++) {
		dml__log(2, "%s", lines[i]);
		free(lines[i]);
	}
	free(lines);
	return n;
}

