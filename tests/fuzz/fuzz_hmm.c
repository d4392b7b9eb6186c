/* SPDX-License-Identifier: MIT */
/*
 * fuzz_hmm.c - libFuzzer harness: bytes become a sequence of
 * dmalink/hmm-dma.h calls (an on-demand-paging user's faults,
 * invalidations, refaults, frees) on one device, behind an emulated VT-d
 * unit or dma-direct, checked after every step against a shadow model.
 *
 * Input.  The first byte picks the path (IOVA reservation or per page) and
 * the first map's shape; each later group of bytes is one step: set an
 * entry's pfn (valid or not) as hmm_range_fault() would, map an entry
 * (indices past the map included), unmap one, let the device write and
 * read a mapped entry, free the map and allocate a new shape, or try an
 * allocation with bad arguments.  Entry i only ever names pages of its
 * own (BASE + i * SLOT + k * ESZ_MAX), so mappings never overlap, where
 * BASE is RAM, a GPU BAR behind the device's switch (P2P by bus address)
 * or an SSD BAR behind the host bridge (P2P through the IOMMU with
 * DMA_ATTR_MMIO) of the fuzz_p2p.h machine.
 *
 * Model and checks.  The model holds each entry's pfn word and DMA
 * address.  map_pfn must succeed exactly for a valid, in-range entry and
 * return the address it returned before when already mapped (state.addr
 * + idx * entry_size on the IOVA path, the bus address for GPU pages,
 * with HMM_PFN_P2PDMA_BUS and nothing mapped; SSD pages carry
 * HMM_PFN_P2PDMA); a refused call changes no bit;
 * unmap_pfn returns true exactly for a VALID|DMA_MAPPED entry and clears
 * the sticky bits; after every step each pfn_list word equals the
 * model's, the IOMMU maps exactly the mapped entries (IOVA path), the
 * checker counts the reservation and one mapping per mapped entry, and
 * made no report.  A
 * device write must land in the entry's page.  Any difference aborts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmalink/dma-debug.h>
#include <dmalink/hmm-dma.h>

#include "fuzz.h"
#include "fuzz_p2p.h"

#include "dma/dma.h"

#define PG DML_HMM_PAGE_SIZE
#define NMAX 24			/* entries of a map at most */
#define ESZ_MAX (2 * PG)	/* largest entry size */
#define NPAGE 4			/* pages an entry may name */
#define SLOT (NPAGE * ESZ_MAX)
#define PHYS_BASE 0x1000000ULL
_Static_assert(NMAX * SLOT <= FZ_BAR_LEN, "every entry's pages fit a BAR");

/* the pages entry pages may live in: RAM, GPU BAR (bus address), SSD BAR */
static const phys_addr_t base[4] = {
	PHYS_BASE, PHYS_BASE, FZ_GPU_BAR, FZ_SSD_BAR,
};

#define FUZZ_CHECK(x)							\
	do {								\
		if (!(x))						\
			fail(__LINE__, #x);				\
	} while (0)

static struct {
	struct dml_platform *p;
	struct dml_device *dev;
	bool iommu;
	bool live;		/* @map allocated */
	struct hmm_dma_map map;
	size_t nr, esz;
	unsigned long pfn[NMAX];	/* the model's pfn_list */
	dma_addr_t addr[NMAX];		/* DMA address of a mapped entry */
	u8 seq;
} w;

struct input {
	const u8 *p;
	size_t n;
};

static u8 in8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static void __attribute__((noreturn)) fail(int line, const char *what)
{
	u64 i, n = dml_dma_debug_error_count();

	fprintf(stderr, "fuzz_hmm.c:%d: check failed: %s\n", line, what);
	for (i = 0; i < n; i++) {
		struct dml_dma_debug_error e;

		if (!dml_dma_debug_error_get(i, &e))
			fprintf(stderr, "  report %llu: %s\n",
				(unsigned long long)i, e.message);
	}
	abort();
}

static bool mapped(size_t i)
{
	return (w.pfn[i] & (HMM_PFN_VALID | HMM_PFN_DMA_MAPPED)) ==
	       (HMM_PFN_VALID | HMM_PFN_DMA_MAPPED);
}

/* may entry @i be mapped: in the list and inside the reservation */
static bool idx_ok(size_t i)
{
	return i < w.nr && (i + 1) * w.esz <= w.nr * PG;
}

static void alloc_map(u8 shape)
{
	w.nr = 1 + shape % NMAX;
	w.esz = (shape & 0x80) && w.nr >= 2 ? ESZ_MAX : PG;
	FUZZ_CHECK(hmm_dma_map_alloc(w.dev, &w.map, w.nr, w.esz) == 0);
	FUZZ_CHECK(dma_use_iova(&w.map.state) == w.iommu);
	FUZZ_CHECK(w.iommu == !w.map.dma_list);
	memset(w.pfn, 0, sizeof(w.pfn));
	w.live = true;
}

static void free_map(void)
{
	size_t i;

	for (i = 0; i < w.nr; i++) {
		FUZZ_CHECK(hmm_dma_unmap_pfn(w.dev, &w.map, i) == mapped(i));
		w.pfn[i] &= ~HMM_PFN_INOUT_FLAGS;
	}
	hmm_dma_map_free(w.dev, &w.map);
	FUZZ_CHECK(!w.map.pfn_list && !dma_use_iova(&w.map.state));
	w.live = false;
}

/* set: entry, page and validity; never on a mapped entry (the page stays) */
static void op_set(struct input *in)
{
	size_t i = in8(in) % w.nr;
	u8 b = in8(in);
	phys_addr_t phys = base[(b >> 4) & 3] + i * SLOT + (b % NPAGE) * ESZ_MAX;

	if (mapped(i))
		return;
	w.pfn[i] = (w.pfn[i] & HMM_PFN_INOUT_FLAGS) |
		   (b & 0x80 ? 0 : HMM_PFN_VALID) | (b & 0x40 ? HMM_PFN_WRITE : 0) |
		   (unsigned long)(phys >> DML_HMM_PAGE_SHIFT);
	w.map.pfn_list[i] = w.pfn[i];
}

static void op_map(struct input *in)
{
	size_t i = in8(in) % (w.nr + 3);
	dma_addr_t a = hmm_dma_map_pfn(w.dev, &w.map, i, NULL);
	phys_addr_t phys;

	if (!idx_ok(i) || !(w.pfn[i] & HMM_PFN_VALID)) {
		FUZZ_CHECK(dma_mapping_error(w.dev, a));
		return;
	}
	FUZZ_CHECK(!dma_mapping_error(w.dev, a));
	if (w.pfn[i] & HMM_PFN_DMA_MAPPED)
		FUZZ_CHECK(a == w.addr[i]);
	phys = hmm_pfn_to_phys(w.pfn[i]);
	if (phys >= FZ_GPU_BAR && phys < FZ_GPU_BAR + FZ_BAR_LEN) {
		FUZZ_CHECK(a == phys + FZ_GPU_BUS_OFF);
		w.pfn[i] |= HMM_PFN_P2PDMA_BUS;
	} else {
		if (w.iommu)
			FUZZ_CHECK(a == w.map.state.addr + i * w.esz);
		if (phys >= FZ_SSD_BAR)
			w.pfn[i] |= HMM_PFN_P2PDMA;
	}
	w.addr[i] = a;
	w.pfn[i] |= HMM_PFN_DMA_MAPPED;
}

static void op_unmap(struct input *in)
{
	size_t i = in8(in) % (w.nr + 3);
	bool was = i < w.nr && mapped(i);

	FUZZ_CHECK(hmm_dma_unmap_pfn(w.dev, &w.map, i) == was);
	if (was)
		w.pfn[i] &= ~HMM_PFN_INOUT_FLAGS;
}

/* the device writes a mapped entry and reads it back */
static void op_dma(struct input *in)
{
	static u8 buf[ESZ_MAX], back[ESZ_MAX];
	size_t i = in8(in) % w.nr, j;
	u8 *cpu;

	if (!mapped(i))
		return;
	w.seq++;
	for (j = 0; j < w.esz; j++)
		buf[j] = (u8)(j * 13 + w.seq);
	FUZZ_CHECK(dml_dev_dma_write(w.dev, w.addr[i], buf, w.esz) == 0);
	cpu = dml_kmap_local_phys(w.p, hmm_pfn_to_phys(w.pfn[i]), w.esz);
	FUZZ_CHECK(cpu && !memcmp(cpu, buf, w.esz));
	FUZZ_CHECK(dml_dev_dma_read(w.dev, w.addr[i], back, w.esz) == 0);
	FUZZ_CHECK(!memcmp(back, buf, w.esz));
}

static void op_realloc(struct input *in)
{
	free_map();
	alloc_map(in8(in));
}

/* a bad allocation: -EINVAL, the live map untouched (checked after) */
static void op_bad_alloc(struct input *in)
{
	static const size_t esz[] = { 0, PG / 2, 3 * PG, 64 * PG };
	struct hmm_dma_map m;
	u8 b = in8(in);

	FUZZ_CHECK(hmm_dma_map_alloc(w.dev, &m, b & 1 ? 0 : 4,
				     esz[(b >> 1) % 4]) == -EINVAL);
	FUZZ_CHECK(!m.pfn_list && !dma_use_iova(&m.state));
}

static void check_all(void)
{
	struct dml_domain *d = w.dev->domain;
	u64 nmapped = 0;
	size_t i;

	for (i = 0; i < w.nr; i++) {
		/* a bus address maps nothing */
		bool linked = mapped(i) && !(w.pfn[i] & HMM_PFN_P2PDMA_BUS);

		FUZZ_CHECK(w.map.pfn_list[i] == w.pfn[i]);
		nmapped += linked;
		if (w.iommu && idx_ok(i)) {
			phys_addr_t got = d->ops->iova_to_phys(d,
				(dml_iova_t)(w.map.state.addr + i * w.esz));

			FUZZ_CHECK(got == (linked ? hmm_pfn_to_phys(w.pfn[i]) : 0));
		}
	}
	/* the reservation counts one, each link or dma_map_phys() one */
	FUZZ_CHECK(dml_dma_debug_mapping_count(w.dev) ==
		   nmapped + dma_use_iova(&w.map.state));
	FUZZ_CHECK(dml_dma_debug_error_count() == 0);
}

static void (*const ops[])(struct input *) = {
	op_set, op_set, op_map, op_map, op_unmap, op_dma, op_realloc,
	op_bad_alloc,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dml_set_log(fuzz_quiet, NULL);
	dml_dma_debug_enable(true);
	dml_dma_debug_set_trace_depth(0);
	return 0;
}

static void setup(u8 first)
{
	struct dml_device_opts dop = {
		.name = "odp",
		.dma_mask = DMA_BIT_MASK(64),
	};

	memset(&w, 0, sizeof(w));
	w.iommu = first & 1;
	w.dev = fuzz_p2p_machine(&w.p, 256ULL << 20, w.iommu, &dop);
	alloc_map(first >> 1);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct input in = { data, size };

	if (!size)
		return 0;
	setup(in8(&in));
	while (in.n) {
		u8 op = in8(&in);

		ops[op % ARRAY_SIZE(ops)](&in);
		check_all();
	}
	free_map();
	FUZZ_CHECK(dml_dma_debug_mapping_count(w.dev) == 0);
	FUZZ_CHECK(dml_dma_debug_error_count() == 0);
	dml_platform_destroy(w.p);
	return 0;
}
