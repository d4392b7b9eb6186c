/* SPDX-License-Identifier: MIT */
/*
 * fuzz_api.c - libFuzzer harness: bytes become a sequence of DMA-API calls
 * on one emulated VT-d unit and one or two devices behind it, checked
 * after every step against a small reference model.
 *
 * Input.  The first byte picks the unit (strict, lazy or caching mode)
 * and whether there is a second device; each later group of bytes is one
 * step: map or unmap a dma_map_phys() range, reserve, link, sync, unlink,
 * tear down a two-step state, map or unmap a scatterlist, allocate or free
 * coherent memory, or let the device write a mapping.  Slots are fixed
 * (NPHYS ranges, NSTATE states of NLINK links, NSG lists, NCOH coherent
 * buffers per device), each on its own physical memory, so that only
 * valid calls are made: a step that names a slot in the wrong state is
 * skipped.  Every call must then succeed.
 *
 * Model and checks.  The model knows each live mapping's DMA address,
 * length and the bytes behind it (a pattern of a seed byte).  After each
 * step: what the step mapped, linked+synced or wrote reads back the right
 * bytes through the device, and so does one more live mapping, in turn;
 * what it unmapped or unlinked faults (in lazy mode a streaming unmap may
 * leave a stale IOTLB entry, as on hardware, so there the page table is
 * checked instead); in caching mode a link not yet synced faults; the
 * checker (dmalink/dma-debug.h) tracks as many mappings as the model has
 * and made no report but those the fault probes cause.  Any difference
 * aborts, which libFuzzer reports as a crash with the input.
 *
 * Deterministic: one fresh platform per input, no threads, no time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmalink/dma-debug.h>
#include <dmalink/scatterlist.h>

#include "fuzz.h"

#include "dma/dma.h"

#define G 4096UL
#define NDEV 2
#define NPHYS 6
#define NSTATE 3
#define NLINK 4
#define LSTRIDE (4 * G)		/* IOVA between link slots; a link <= it */
#define NSG 2
#define SGMAX 4
#define NCOH 2
#define MAXLEN (16 * 1024)	/* longest dma_map_phys() range */
#define PHYS_BASE 0x10000000ULL	/* device d's memory: + d * DEV_SPAN */
#define DEV_SPAN 0x08000000ULL

#define FUZZ_CHECK(x)							\
	do {								\
		if (!(x))						\
			fail(__LINE__, #x);				\
	} while (0)

struct m_phys {
	bool live;
	dma_addr_t addr;
	phys_addr_t phys;
	size_t len;
	enum dma_data_direction dir;
	u8 seed;
};

struct m_link {
	bool live;
	bool synced;
	phys_addr_t phys;
	size_t len;
	enum dma_data_direction dir;
	u8 seed;
};

struct m_state {
	bool live;
	struct dma_iova_state st;
	unsigned int nlinks;	/* link slots the reservation holds */
	struct m_link l[NLINK];
};

struct m_sg {
	bool live;
	struct scatterlist sg[SGMAX];
	int nents;
	int mapped;
	enum dma_data_direction dir;
	u8 seed[SGMAX];
};

struct m_coh {
	bool live;
	u8 *cpu;
	dma_addr_t addr;
	size_t len;
	u8 seed;
};

struct m_dev {
	struct dml_device *dev;
	phys_addr_t base;
	struct m_phys ph[NPHYS];
	struct m_state s[NSTATE];
	struct m_sg sg[NSG];
	struct m_coh coh[NCOH];
};

enum mode { M_STRICT, M_LAZY, M_CACHING };

static struct {
	struct dml_platform *p;
	enum mode mode;
	unsigned int ndev;
	struct m_dev d[NDEV];
	unsigned int turn;	/* the live mapping checked in turn */
} w;

/* one input's bytes; 0 once used up */
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

/* what the device reads or writes: a range, a DMA segment, a buffer */
static u8 rbuf[64 * 1024], wbuf[64 * 1024];

static void __attribute__((noreturn)) fail(int line, const char *what)
{
	u64 i, n = dml_dma_debug_error_count();

	fprintf(stderr, "fuzz_api.c:%d: check failed: %s\n", line, what);
	for (i = 0; i < n; i++) {
		struct dml_dma_debug_error e;

		if (!dml_dma_debug_error_get(i, &e))
			fprintf(stderr, "  report %llu: %s\n",
				(unsigned long long)i, e.message);
	}
	abort();
}

/*
 * The byte loops below are the harness's, not the library's: left out of
 * the coverage the fuzzer steers by (each compare would be a feature) and
 * of the sanitizers (their bounds are checked once, up front), so that
 * they vectorise.
 */
#define NO_COVERAGE __attribute__((noinline, no_sanitize("coverage", "address", "undefined")))

/* the bytes of a buffer: byte i of pattern @seed is seed + base[i] */
static u8 base[sizeof(rbuf)];

static void base_init(void)
{
	size_t i;

	for (i = 0; i < sizeof(base); i++)
		base[i] = (u8)(i * 7 + (i >> 8));
}

static NO_COVERAGE void fill(u8 *b, size_t len, u8 seed, size_t from)
{
	size_t i;

	FUZZ_CHECK(from + len <= sizeof(base));
	for (i = 0; i < len; i++)
		b[i] = (u8)(base[from + i] + seed);
}

static NO_COVERAGE bool same(const u8 *b, size_t len, u8 seed, size_t from)
{
	u8 diff = 0;
	size_t i;

	FUZZ_CHECK(from + len <= sizeof(base));
	for (i = 0; i < len; i++)
		diff |= b[i] ^ (u8)(base[from + i] + seed);
	return !diff;
}

static void cpu_fill(phys_addr_t phys, size_t len, u8 seed)
{
	u8 *v = dml_kmap_local_phys(w.p, phys, len);

	FUZZ_CHECK(v);
	fill(v, len, seed, 0);
}

/* the device reads [addr, +len) and finds pattern @seed from @from */
static void dev_expect(struct m_dev *md, dma_addr_t addr, size_t len, u8 seed,
		       size_t from)
{
	FUZZ_CHECK(len <= sizeof(rbuf));
	FUZZ_CHECK(dml_dev_dma_read(md->dev, addr, rbuf, len) == 0);
	FUZZ_CHECK(same(rbuf, len, seed, from));
}

/*
 * [addr, +len) is gone: the device faults on it and the checker says
 * @cat about that access.  @may_be_stale: a deferred (lazy) invalidation,
 * after which the IOTLB may still translate: only the page table is
 * checked.
 */
static void dev_gone(struct m_dev *md, dma_addr_t addr,
		     enum dml_dma_debug_category cat, bool may_be_stale)
{
	struct dml_domain *d = md->dev->domain;

	FUZZ_CHECK(d->ops->iova_to_phys(d, (dml_iova_t)addr) == 0);
	if (may_be_stale && w.mode == M_LAZY)
		return;
	FUZZ_CHECK(dml_dev_dma_read(md->dev, addr, rbuf, 1) == -EFAULT);
	FUZZ_CHECK(dml_dma_debug_error_count() == 1);
	FUZZ_CHECK(dml_dma_debug_category_count(cat) == 1);
	dml_dma_debug_clear_errors();
}

/* ---- dma_map_phys ---- */

static void check_phys(struct m_dev *md, const struct m_phys *m)
{
	dev_expect(md, m->addr, m->len, m->seed, 0);
}

static void op_map_phys(struct m_dev *md, struct input *in)
{
	struct m_phys *m = &md->ph[in8(in) % NPHYS];
	u8 a = in8(in), b = in8(in);

	if (m->live)
		return;
	m->phys = md->base + (phys_addr_t)(m - md->ph) * 0x100000 + (a & 0xf) * 64;
	m->len = 1 + ((size_t)b << 8 | in8(in)) % MAXLEN;
	m->dir = (a & 0x10) ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
	m->seed = (u8)(a ^ b);
	cpu_fill(m->phys, m->len, m->seed);
	m->addr = dma_map_phys(md->dev, m->phys, m->len, m->dir, 0);
	FUZZ_CHECK(!dma_mapping_error(md->dev, m->addr));
	m->live = true;
	check_phys(md, m);
}

static void unmap_phys(struct m_dev *md, struct m_phys *m)
{
	dma_unmap_phys(md->dev, m->addr, m->len, m->dir, 0);
	m->live = false;
}

static void op_unmap_phys(struct m_dev *md, struct input *in)
{
	struct m_phys *m = &md->ph[in8(in) % NPHYS];

	if (!m->live)
		return;
	unmap_phys(md, m);
	dev_gone(md, m->addr, DML_DMA_DEBUG_DEV_NOT_MAPPED, true);
}

/* the device writes a new pattern over a DMA_BIDIRECTIONAL range */
static void op_dev_write(struct m_dev *md, struct input *in)
{
	struct m_phys *m = &md->ph[in8(in) % NPHYS];
	u8 seed = in8(in);

	if (!m->live || m->dir != DMA_BIDIRECTIONAL)
		return;
	fill(wbuf, m->len, seed, 0);
	FUZZ_CHECK(dml_dev_dma_write(md->dev, m->addr, wbuf, m->len) == 0);
	m->seed = seed;
	check_phys(md, m);
}

/* ---- the two-step API ---- */

static phys_addr_t link_phys(struct m_dev *md, const struct m_state *s,
			     unsigned int j)
{
	return md->base + 0x1000000 + (phys_addr_t)(s - md->s) * 0x100000 +
	       j * 0x10000;
}

static void check_link(struct m_dev *md, const struct m_state *s,
		       unsigned int j)
{
	const struct m_link *l = &s->l[j];
	dma_addr_t addr = s->st.addr + j * LSTRIDE;

	if (l->synced) {
		dev_expect(md, addr, l->len, l->seed, 0);
	} else if (w.mode == M_CACHING) {
		/* a virtualised IOMMU does not see a link before the sync */
		FUZZ_CHECK(dml_dev_dma_read(md->dev, addr, rbuf, 1) == -EFAULT);
		FUZZ_CHECK(dml_dma_debug_error_count() == 1);
		FUZZ_CHECK(dml_dma_debug_category_count(DML_DMA_DEBUG_DEV_NOT_SYNCED) == 1);
		dml_dma_debug_clear_errors();
	}
}

static void op_alloc(struct m_dev *md, struct input *in)
{
	struct m_state *s = &md->s[in8(in) % NSTATE];
	unsigned int nlinks = 1 + in8(in) % NLINK;

	if (s->live)
		return;
	memset(s, 0, sizeof(*s));
	FUZZ_CHECK(dma_iova_try_alloc(md->dev, &s->st, 0, nlinks * LSTRIDE));
	FUZZ_CHECK(dma_use_iova(&s->st));
	s->nlinks = nlinks;
	s->live = true;
}

static void op_link(struct m_dev *md, struct input *in)
{
	struct m_state *s = &md->s[in8(in) % NSTATE];
	u8 a = in8(in);
	unsigned int j = a % NLINK;
	struct m_link *l = &s->l[j];

	if (!s->live || j >= s->nlinks || l->live)
		return;
	l->phys = link_phys(md, s, j);
	l->len = (1 + (a >> 2) % (LSTRIDE / G)) * G;
	l->dir = (a & 0x40) ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
	l->seed = in8(in);
	cpu_fill(l->phys, l->len, l->seed);
	FUZZ_CHECK(dma_iova_link(md->dev, &s->st, l->phys, j * LSTRIDE, l->len,
				 l->dir, 0) == 0);
	l->live = true;
	l->synced = false;
	check_link(md, s, j);
}

static void op_sync(struct m_dev *md, struct input *in)
{
	struct m_state *s = &md->s[in8(in) % NSTATE];
	u8 a = in8(in);
	unsigned int j, first = 0, last;

	if (!s->live)
		return;
	/* one link slot's range, or the whole reservation */
	last = s->nlinks - 1;
	if (a & 1) {
		first = last = (a >> 1) % s->nlinks;
		FUZZ_CHECK(dma_iova_sync(md->dev, &s->st, first * LSTRIDE,
					 LSTRIDE) == 0);
	} else {
		FUZZ_CHECK(dma_iova_sync(md->dev, &s->st, 0,
					 s->nlinks * LSTRIDE) == 0);
	}
	for (j = first; j <= last; j++) {
		if (!s->l[j].live)
			continue;
		s->l[j].synced = true;
		check_link(md, s, j);
	}
}

static void unlink(struct m_dev *md, struct m_state *s, unsigned int j)
{
	struct m_link *l = &s->l[j];

	FUZZ_CHECK(dma_iova_unlink(md->dev, &s->st, j * LSTRIDE, l->len, l->dir,
				   0) == 0);
	l->live = false;
}

static void op_unlink(struct m_dev *md, struct input *in)
{
	struct m_state *s = &md->s[in8(in) % NSTATE];
	unsigned int j = in8(in) % NLINK;

	if (!s->live || !s->l[j].live)
		return;
	unlink(md, s, j);
	/* unlink flushes at once, lazy or not: the IOVA may be relinked */
	dev_gone(md, s->st.addr + j * LSTRIDE, DML_DMA_DEBUG_DEV_NOT_LINKED,
		 false);
}

/*
 * dma_iova_destroy() when the links are exactly [0, mapped_len) (whole
 * link slots but the last) of one direction, else unlink each and
 * dma_iova_free().
 */
static void teardown_state(struct m_dev *md, struct m_state *s, bool probe)
{
	dma_addr_t addr = s->st.addr;
	size_t mapped = 0;
	unsigned int j, k = 0;
	bool prefix = true, deferred = false;

	while (k < s->nlinks && s->l[k].live)
		k++;
	for (j = 0; j < s->nlinks; j++) {
		if (j < k && j + 1 < k && s->l[j].len != LSTRIDE)
			prefix = false;
		if ((j >= k && s->l[j].live) ||
		    (j < k && s->l[j].dir != s->l[0].dir))
			prefix = false;
	}
	if (prefix) {
		mapped = k ? (k - 1) * LSTRIDE + s->l[k - 1].len : 0;
		/* a destroy defers its flush to the flush queue when lazy */
		deferred = mapped != 0;
		dma_iova_destroy(md->dev, &s->st, mapped, s->l[0].dir, 0);
	} else {
		for (j = 0; j < s->nlinks; j++)
			if (s->l[j].live)
				unlink(md, s, j);
		dma_iova_free(md->dev, &s->st);
	}
	FUZZ_CHECK(!dma_use_iova(&s->st));
	memset(s, 0, sizeof(*s));
	if (probe)
		dev_gone(md, addr, DML_DMA_DEBUG_DEV_NOT_MAPPED, deferred);
}

static void op_teardown(struct m_dev *md, struct input *in)
{
	struct m_state *s = &md->s[in8(in) % NSTATE];

	if (s->live)
		teardown_state(md, s, true);
}

/* ---- scatterlists ---- */

static void check_sg(struct m_dev *md, const struct m_sg *m)
{
	struct scatterlist *s;
	size_t at = 0, e = 0, in_e = 0;
	int i;

	/* the segments, end to end, hold the entries end to end */
	for_each_sg((struct scatterlist *)m->sg, s, m->mapped, i) {
		size_t len = sg_dma_len(s), done = 0;

		FUZZ_CHECK(len <= sizeof(rbuf));
		FUZZ_CHECK(dml_dev_dma_read(md->dev, sg_dma_address(s), rbuf,
					    len) == 0);
		while (done < len) {
			size_t n = min(len - done,
				       (size_t)m->sg[e].length - in_e);

			FUZZ_CHECK(same(rbuf + done, n, m->seed[e], in_e));
			done += n;
			in_e += n;
			if (in_e == m->sg[e].length) {
				e++;
				in_e = 0;
			}
		}
		at += len;
	}
	FUZZ_CHECK(e == (size_t)m->nents && at);
}

static void op_map_sg(struct m_dev *md, struct input *in)
{
	struct m_sg *m = &md->sg[in8(in) % NSG];
	u8 a = in8(in);
	phys_addr_t base;
	int i;

	if (m->live)
		return;
	m->nents = 1 + a % SGMAX;
	m->dir = (a & 0x80) ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
	base = md->base + 0x2000000 + (phys_addr_t)(m - md->sg) * 0x100000;
	sg_init_table(m->sg, (unsigned int)m->nents);
	for (i = 0; i < m->nents; i++) {
		size_t len = (1 + (in8(in) & 1)) * G;

		m->seed[i] = in8(in);
		cpu_fill(base + i * 0x10000, len, m->seed[i]);
		sg_set_phys(&m->sg[i], base + i * 0x10000, (unsigned int)len);
	}
	m->mapped = dma_map_sg(md->dev, m->sg, m->nents, m->dir);
	FUZZ_CHECK(m->mapped > 0 && m->mapped <= m->nents);
	m->live = true;
	check_sg(md, m);
}

static void unmap_sg(struct m_dev *md, struct m_sg *m)
{
	dma_unmap_sg(md->dev, m->sg, m->nents, m->dir);
	m->live = false;
}

static void op_unmap_sg(struct m_dev *md, struct input *in)
{
	struct m_sg *m = &md->sg[in8(in) % NSG];

	if (!m->live)
		return;
	unmap_sg(md, m);
	dev_gone(md, sg_dma_address(&m->sg[0]), DML_DMA_DEBUG_DEV_NOT_MAPPED,
		 true);
}

/* ---- coherent memory ---- */

static void check_coh(struct m_dev *md, struct m_coh *m)
{
	/* the device sees what the CPU wrote, and the CPU what it wrote */
	dev_expect(md, m->addr, m->len, m->seed, 0);
	m->seed = (u8)(m->seed * 5 + 1);
	fill(wbuf, m->len, m->seed, 0);
	FUZZ_CHECK(dml_dev_dma_write(md->dev, m->addr, wbuf, m->len) == 0);
	FUZZ_CHECK(same(m->cpu, m->len, m->seed, 0));
}

static void op_alloc_coherent(struct m_dev *md, struct input *in)
{
	struct m_coh *m = &md->coh[in8(in) % NCOH];
	u8 a = in8(in);

	if (m->live)
		return;
	m->len = 1 + ((size_t)a << 6 | in8(in)) % (4 * G);
	m->cpu = dma_alloc_coherent(md->dev, m->len, &m->addr, GFP_KERNEL);
	FUZZ_CHECK(m->cpu);
	m->seed = a;
	fill(m->cpu, m->len, m->seed, 0);
	m->live = true;
	check_coh(md, m);
}

static void free_coh(struct m_dev *md, struct m_coh *m)
{
	dma_free_coherent(md->dev, m->len, m->cpu, m->addr);
	m->live = false;
}

static void op_free_coherent(struct m_dev *md, struct input *in)
{
	struct m_coh *m = &md->coh[in8(in) % NCOH];

	if (!m->live)
		return;
	free_coh(md, m);
	dev_gone(md, m->addr, DML_DMA_DEBUG_DEV_NOT_MAPPED, true);
}

/* ---- the model as a whole ---- */

static u64 model_count(const struct m_dev *md)
{
	u64 n = 0;
	unsigned int i, j;

	for (i = 0; i < NPHYS; i++)
		n += md->ph[i].live;
	for (i = 0; i < NSTATE; i++) {
		if (!md->s[i].live)
			continue;
		n++;
		for (j = 0; j < NLINK; j++)
			n += md->s[i].l[j].live;
	}
	for (i = 0; i < NSG; i++)
		n += md->sg[i].live ? (u64)md->sg[i].mapped : 0;
	for (i = 0; i < NCOH; i++)
		n += md->coh[i].live;
	return n;
}

/* check mapping slot @i of @md (all kinds, numbered); false: not live */
static bool check_nth(struct m_dev *md, unsigned int i)
{
	if (i < NPHYS) {
		if (md->ph[i].live)
			check_phys(md, &md->ph[i]);
		return md->ph[i].live;
	}
	i -= NPHYS;
	if (i < NSTATE * NLINK) {
		struct m_state *s = &md->s[i / NLINK];
		bool live = s->live && s->l[i % NLINK].live;

		if (live)
			check_link(md, s, i % NLINK);
		return live;
	}
	i -= NSTATE * NLINK;
	if (i < NSG) {
		if (md->sg[i].live)
			check_sg(md, &md->sg[i]);
		return md->sg[i].live;
	}
	i -= NSG;
	if (md->coh[i].live)
		check_coh(md, &md->coh[i]);
	return md->coh[i].live;
}

/* check one more live mapping of @md, in turn */
static void check_one(struct m_dev *md)
{
	unsigned int n = NPHYS + NSTATE * NLINK + NSG + NCOH, k;

	for (k = 0; k < n; k++)
		if (check_nth(md, w.turn++ % n))
			return;
}

static void check_all(void)
{
	unsigned int i;

	for (i = 0; i < w.ndev; i++) {
		FUZZ_CHECK(dml_dma_debug_mapping_count(w.d[i].dev) ==
			   model_count(&w.d[i]));
		check_one(&w.d[i]);
	}
	FUZZ_CHECK(dml_dma_debug_error_count() == 0);
}

static void teardown_dev(struct m_dev *md)
{
	unsigned int i;

	for (i = 0; i < NPHYS; i++)
		if (md->ph[i].live)
			unmap_phys(md, &md->ph[i]);
	for (i = 0; i < NSTATE; i++)
		if (md->s[i].live)
			teardown_state(md, &md->s[i], false);
	for (i = 0; i < NSG; i++)
		if (md->sg[i].live)
			unmap_sg(md, &md->sg[i]);
	for (i = 0; i < NCOH; i++)
		if (md->coh[i].live)
			free_coh(md, &md->coh[i]);
	FUZZ_CHECK(dml_dma_debug_mapping_count(md->dev) == 0);
}

static void (*const ops[])(struct m_dev *, struct input *) = {
	op_map_phys, op_unmap_phys, op_dev_write, op_alloc, op_link, op_sync,
	op_unlink, op_teardown, op_map_sg, op_unmap_sg, op_alloc_coherent,
	op_free_coherent,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	base_init();
	dml_set_log(fuzz_quiet, NULL);
	dml_dma_debug_enable(true);
	dml_dma_debug_set_trace_depth(0);
	return 0;
}

static void setup(u8 first)
{
	struct dml_iommu_opts io = {
		.size = DML_SIZEOF(&io, superpages),
		.superpages = true,
	};
	/* small: the device memory below, the pool and page tables on top */
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, ram_size),
		.ram_size = 1ULL << 30,
	};
	struct dml_iommu *unit;
	unsigned int i;

	memset(&w, 0, sizeof(w));
	w.mode = (enum mode)(first % 3);
	w.ndev = 1 + ((first >> 2) & 1);
	io.lazy = w.mode == M_LAZY;
	io.caching_mode = w.mode == M_CACHING;
	FUZZ_CHECK(dml_platform_create_emu(&eo, &w.p) == 0);
	FUZZ_CHECK(dml_iommu_create(w.p, &io, &unit) == 0);
	for (i = 0; i < w.ndev; i++) {
		struct dml_device_opts dop = {
			.size = DML_SIZEOF(&dop, iommu),
			.name = i ? "fuzz1" : "fuzz0",
			.source_id = (u16)(0x0100 + i),
			.pci = true,
			.dma_mask = DMA_BIT_MASK(64),
			.iommu = unit,
		};

		FUZZ_CHECK(dml_device_create(w.p, &dop, &w.d[i].dev) == 0);
		w.d[i].base = PHYS_BASE + i * DEV_SPAN;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct input in = { data, size };
	unsigned int i;

	if (!size)
		return 0;
	setup(in8(&in));
	while (in.n) {
		u8 op = in8(&in);
		struct m_dev *md = &w.d[(op >> 4) % w.ndev];

		ops[op % ARRAY_SIZE(ops)](md, &in);
		check_all();
	}
	for (i = 0; i < w.ndev; i++)
		teardown_dev(&w.d[i]);
	FUZZ_CHECK(dml_dma_debug_error_count() == 0);
	dml_platform_destroy(w.p);
	return 0;
}
