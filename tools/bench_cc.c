/* SPDX-License-Identifier: MIT */
/*
 * bench_cc.c - benchmark cases of a confidential guest (dmalink/cc.h):
 * dma_map_phys + dma_unmap_phys of 64 KiB TO_DEVICE on a dma-direct PCI
 * device of a TDX-like guest, not accepted into its TVM (every request
 * bounced through the shared swiotlb pool) or accepted and in RUN
 * (direct, encrypted encoding), each against a plain memcpy of 64 KiB in
 * the same run: the ratio column of cc-bounce-64k reads "share of memcpy
 * speed" (goal G17: >= 0.9).  Each thread has its own hot 64 KiB source
 * and destination; all threads share one platform, device and pool.
 */
#include <dmalink/cc.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define SRC 0x10000000ULL		/* the threads' sources, 64 KiB each */
#define DST 0x30000000ULL		/* the memcpy baseline's destinations */
#define SLICE (64ULL << 10)

struct cc_shared {
	struct dml_platform *p;
	struct dml_tvm *tvm;
	struct dml_device *dev;
};

struct cc_bench {
	struct dml_device *dev;
	phys_addr_t src_phys;
	u8 *src, *dst;
};

static void cc_teardown(void *shared)
{
	struct cc_shared *b = shared;

	dml_tvm_destroy(b->tvm);
	dml_platform_destroy(b->p);
	free(b);
}

static int cc_setup_dev(unsigned int threads, void **shared, bool accepted)
{
	struct cc_shared *b = calloc(1, sizeof(*b));
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
	struct dml_pci_dev *hb;
	int ret;

	if (!b)
		return -ENOMEM;
	ret = dml_platform_create_emu(NULL, &b->p);
	if (!ret)
		ret = dml_cc_platform_init(b->p, DML_CC_TDX, 0);
	if (!ret)
		ret = dml_pci_host_bridge_add(b->p, 0, 0, 0, 0, NULL, &hb);
	if (!ret)
		ret = dml_pci_dev_add(hb, DML_PCI_ENDPOINT, 8, 1, 1, "cc", &o.pci_dev);
	if (!ret)
		ret = dml_device_create(b->p, &o, &b->dev);
	if (!ret)
		ret = dml_tvm_create(b->p, &b->tvm);
	if (!ret && accepted) {
		ret = dml_tsm_bind(b->tvm, o.pci_dev);
		if (!ret)
			ret = dml_tdisp_start(o.pci_dev);
		if (!ret)
			ret = dml_tsm_accept(b->tvm, o.pci_dev);
	}
	if (ret) {
		if (b->p)
			cc_teardown(b);
		else
			free(b);
		return ret;
	}
	/* fault the pages in, so no case times first touches */
	memset(dml_kmap_local_phys(b->p, SRC, threads * SLICE), 0x5a, threads * SLICE);
	memset(dml_kmap_local_phys(b->p, DST, threads * SLICE), 0xa5, threads * SLICE);
	*shared = b;
	return 0;
}

static int cc_setup_shared(unsigned int threads, void **shared)
{
	return cc_setup_dev(threads, shared, false);
}

static int cc_setup_accepted(unsigned int threads, void **shared)
{
	return cc_setup_dev(threads, shared, true);
}

static int cc_thread_setup(void *shared, unsigned int idx, void **priv)
{
	struct cc_shared *b = shared;
	struct cc_bench *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->dev = b->dev;
	t->src_phys = SRC + idx * SLICE;
	t->src = dml_kmap_local_phys(b->p, t->src_phys, SLICE);
	t->dst = dml_kmap_local_phys(b->p, DST + idx * SLICE, SLICE);
	*priv = t;
	return 0;
}

static void cc_thread_teardown(void *priv)
{
	free(priv);
}

/* a size the compiler cannot see, as swiotlb's own copy has */
static inline size_t opaque(size_t n)
{
	__asm__("" : "+r"(n));
	return n;
}

static int run_memcpy_64k(void *priv, unsigned long iters)
{
	struct cc_bench *t = priv;
	unsigned long i;

	for (i = 0; i < iters; i++) {
		memcpy(t->dst, t->src, opaque(SLICE));
		dml_bench_keep(t->dst);
	}
	return 0;
}

static int run_map_64k(void *priv, unsigned long iters)
{
	struct cc_bench *t = priv;
	unsigned long i;
	dma_addr_t a;

	for (i = 0; i < iters; i++) {
		a = dma_map_phys(t->dev, t->src_phys, SLICE, DMA_TO_DEVICE, 0);
		if (dma_mapping_error(t->dev, a))
			return -ENOMEM;
		dma_unmap_phys(t->dev, a, SLICE, DMA_TO_DEVICE, 0);
	}
	return 0;
}

#define CC_CASE(nm, wh, gl, bl, su, rn)					\
	{ .name = nm, .what = wh, .goal = gl, .baseline = bl,		\
	  .setup = su, .teardown = cc_teardown,				\
	  .thread_setup = cc_thread_setup,				\
	  .thread_teardown = cc_thread_teardown, .run = rn }

const struct dml_bench_case dml_bench_cc_cases[] = {
	CC_CASE("cc-memcpy-64k", "memcpy 64 KiB, hot (baseline)", NULL, NULL,
		cc_setup_shared, run_memcpy_64k),
	CC_CASE("cc-bounce-64k", "TDX guest, not accepted: map+unmap 64 KiB, bounced",
		"G17", "cc-memcpy-64k", cc_setup_shared, run_map_64k),
	CC_CASE("cc-direct-64k", "TDX guest, accepted: map+unmap 64 KiB, direct",
		NULL, "cc-memcpy-64k", cc_setup_accepted, run_map_64k),
	{ .name = NULL }
};
