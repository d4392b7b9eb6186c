/* SPDX-License-Identifier: MIT */
/*
 * dmabuf.c - the checker's dma-buf rule: an importer gets DMA addresses
 * from a mapping, never the memory behind it; the CPU may touch a
 * buffer's memory only through the exporter (dma_buf_begin_cpu_access to
 * end_cpu_access, dma_buf_vmap to vunmap, the exporter's own code) or
 * when the exporter granted CPU access at attach (Proposed).  The kernel
 * catches the same mistake by scrambling the sg table's page links under
 * CONFIG_DMABUF_DEBUG (drivers/dma-buf/dma-buf.c); here a CPU mapping
 * (dml_kmap_local_phys) of such memory outside those windows is reported
 * as DML_DMA_DEBUG_DMABUF_CPU_ACCESS, once per buffer and window.
 *
 * The dma-buf core (src/dmabuf, above this layer) tells the checker, by
 * buffer: its memory (what the library's exporters declare), how many
 * importer mappings are live and how many CPU-access windows or grants
 * are open.  Watched buffers are a list under the checker's mutex; a
 * buffer is watched from the first call made while the checker is on,
 * and forgotten when its memory is cleared or the checker goes off.
 */
#include <stdlib.h>
#include <string.h>

#include <dmalink/dma-buf.h>

#include "internal.h"

_Thread_local unsigned int dml__dma_debug_dmabuf_exporter;

struct dbg_dmabuf {
	const void *buf;
	struct dml_platform *p;
	struct cpu_range *r;
	size_t nr;
	unsigned int maps, cpu;
	bool reported;		/* in this window: once */
	struct dbg_dmabuf *next;
};

static struct dbg_dmabuf *watched;

static struct dbg_dmabuf **find(const void *buf)
{
	struct dbg_dmabuf **pp;

	for (pp = &watched; *pp; pp = &(*pp)->next)
		if ((*pp)->buf == buf)
			return pp;
	return pp;
}

static void forget(struct dbg_dmabuf **pp)
{
	struct dbg_dmabuf *b = *pp;

	*pp = b->next;
	free(b->r);
	free(b);
}

void dml__dbg_dmabuf_fini(void)
{
	while (watched)
		forget(&watched);
}

void dml__dma_debug_dmabuf_memory(const void *buf, struct dml_platform *p,
				  const struct phys_vec *v, size_t nr)
{
	struct ctx c = CTX_INIT;
	struct dbg_dmabuf **pp, *b;
	struct cpu_range *r = NULL;
	size_t i;

	dml__dbg_lock();
	pp = find(buf);
	if (!nr || !dml__dma_debug_active()) {
		if (*pp)
			forget(pp);
		goto out;
	}
	b = *pp;
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			goto oom;
		b->buf = buf;
		*pp = b;
	}
	r = calloc(nr, sizeof(*r));
	if (!r)
		goto oom;
	for (i = 0; i < nr; i++) {
		r[i].phys = v[i].paddr;
		r[i].len = v[i].len;
	}
	free(b->r);
	b->r = r;
	b->nr = nr;
	b->p = p;
	goto out;
oom:
	dml__dbg_oom = true;
out:
	dml__dbg_unlock(&c);
}

void dml__dma_debug_dmabuf_state(const void *buf, unsigned int maps,
				 unsigned int cpu)
{
	struct ctx c = CTX_INIT;
	struct dbg_dmabuf *b;

	dml__dbg_lock();
	b = *find(buf);
	if (b) {
		if (cpu && !b->cpu)
			b->reported = false;	/* a new window */
		b->maps = maps;
		b->cpu = cpu;
	}
	dml__dbg_unlock(&c);
}

/* under the lock, from dml__dma_debug_cpu_access() */
void dml__dbg_dmabuf_cpu_access(struct ctx *c, struct dml_platform *p,
				u64 a, u64 b)
{
	struct dbg_dmabuf *d;
	size_t i;

	if (dml__dma_debug_dmabuf_exporter)
		return;
	for (d = watched; d; d = d->next) {
		if (d->p != p || !d->maps || d->cpu || d->reported)
			continue;
		for (i = 0; i < d->nr; i++) {
			u64 s = d->r[i].phys, e = s + d->r[i].len;

			if (a >= e || b <= s)
				continue;
			d->reported = true;
			dml__dbg_report(c, NULL, DML_DMA_DEBUG_DMABUF_CPU_ACCESS,
					NULL, a, b - a, NULL,
					"cpu touching memory behind a dma-buf mapping [phys=0x%016llx] [size=%llu bytes] without dma_buf_begin_cpu_access, dma_buf_vmap or the exporter's grant (%u mapping%s live)",
					(unsigned long long)a,
					(unsigned long long)(b - a), d->maps,
					d->maps == 1 ? "" : "s");
			break;
		}
	}
}
