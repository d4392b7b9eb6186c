/* SPDX-License-Identifier: MIT */
/*
 * test_nvme_map.c - nvme-pci's data mapping (src/nvme/pci-map.c) against
 * shared/reference/kernel-dma-semantics.md §3.3 and §9 items 17-18 and the
 * PRP cases of data/nvme/prp-vectors.txt: the device walks the PRPs or
 * SGLs the builder wrote (reading the lists by DMA, as a controller
 * does), checks every spec rule on the way, and reads the data through
 * them; what it read must be exactly the request's bytes.  The checker
 * verifies after each test that the unmap left nothing mapped.  Metadata
 * goes in MPTR or as a metadata SGL.
 */
#include <pthread.h>
#include <stdio.h>

#include <dmalink/blk-mq-dma.h>

#include "dma/fixture.h"
#include "nvme/pci-map.h"

#define PG NVME_CTRL_PAGE_SIZE

struct walk {
	u8 *buf;		/* what the device read, in order */
	size_t len;
	unsigned int lists;	/* PRP list or SGL pages read */
	unsigned int entries;	/* PRP entries after PRP1, or SGL data descriptors */
	bool bad;		/* a spec rule broken */
};

static void dev_read(struct fx *f, struct walk *w, dma_addr_t a, size_t n)
{
	w->buf = realloc(w->buf, w->len + n);
	assert_non_null(w->buf);
	assert_int_equal(dml_dev_dma_read(f->dev, a, w->buf + w->len, n), 0);
	w->len += n;
}

/* a controller's PRP walk (NVMe Base 2.0 4.1.1) for @total bytes */
static void walk_prp(struct fx *f, const struct nvme_command *c, size_t total,
		     struct walk *w)
{
	size_t n = min(total, PG - (c->dptr.prp1 & (PG - 1)));
	u64 list[PG / 8];
	dma_addr_t at;
	unsigned int i, slots;

	assert_int_equal(NVME_CMD_PSDT(c), NVME_CMD_PSDT_PRP);
	dev_read(f, w, c->dptr.prp1, n);
	total -= n;
	if (!total)
		return;
	if (total <= PG) {
		w->bad |= (c->dptr.prp2 & (PG - 1)) != 0;
		dev_read(f, w, c->dptr.prp2, total);
		return;
	}
	at = c->dptr.prp2;
	w->bad |= (at & 7) != 0;
	for (;;) {
		slots = (unsigned int)((PG - (at & (PG - 1))) / 8);
		assert_int_equal(dml_dev_dma_read(f->dev, at, list, slots * 8), 0);
		w->lists++;
		for (i = 0; i < slots && total; i++) {
			if (i == slots - 1 && total > PG)
				break;	/* the last slot links the next list */
			w->bad |= (list[i] & (PG - 1)) != 0;
			n = min(total, PG);
			dev_read(f, w, list[i], n);
			w->entries++;
			total -= n;
		}
		if (!total)
			return;
		at = list[slots - 1];
		w->bad |= (at & (PG - 1)) != 0;
	}
}

/* a controller's SGL walk: inline data, or a last segment of data descriptors */
static void walk_sgl(struct fx *f, const struct nvme_command *c, struct walk *w)
{
	const struct nvme_sgl_desc *d = &c->dptr.sgl;
	struct nvme_sgl_desc list[PG / 16];
	unsigned int i, n;

	assert_int_equal(NVME_CMD_PSDT(c), NVME_CMD_PSDT_SGL_MPTR_CONTIG);
	if (d->type == NVME_SGL_TYPE(NVME_SGL_FMT_DATA_DESC, NVME_SGL_FMT_ADDRESS)) {
		dev_read(f, w, d->addr, d->length);
		w->entries = 1;
		return;
	}
	assert_int_equal(d->type, NVME_SGL_TYPE(NVME_SGL_FMT_LAST_SEG_DESC,
						NVME_SGL_FMT_ADDRESS));
	w->bad |= d->length % 16 != 0 || d->length > sizeof(list);
	n = d->length / 16;
	assert_int_equal(dml_dev_dma_read(f->dev, d->addr, list, d->length), 0);
	w->lists = 1;
	for (i = 0; i < n; i++) {
		w->bad |= list[i].type != NVME_SGL_TYPE(NVME_SGL_FMT_DATA_DESC,
							NVME_SGL_FMT_ADDRESS);
		dev_read(f, w, list[i].addr, list[i].length);
		w->entries++;
	}
}

/* the request's bytes in order, from the CPU side */
static void want_bytes(struct fx *f, const struct request *rq, u8 *out)
{
	const struct bio *b;
	size_t off = 0;
	unsigned int i;

	for (b = rq->bio; b; b = b->bi_next)
		for (i = 0; i < b->bi_vcnt; i++) {
			memcpy(out + off, dml_kmap_local_phys(f->p, b->bi_io_vec[i].bv_phys,
							      b->bi_io_vec[i].bv_len),
			       b->bi_io_vec[i].bv_len);
			off += b->bi_io_vec[i].bv_len;
		}
}

/* walk what the builder wrote; the device must read exactly the request */
static struct walk walk_cmd(struct fx *f, const struct request *rq,
			    const struct nvme_command *c)
{
	struct walk w = { 0 };
	u8 *want = malloc(rq->data_len);

	assert_non_null(want);
	if (NVME_CMD_PSDT(c) == NVME_CMD_PSDT_PRP)
		walk_prp(f, c, rq->data_len, &w);
	else
		walk_sgl(f, c, &w);
	assert_false(w.bad);
	assert_int_equal(w.len, rq->data_len);
	want_bytes(f, rq, want);
	assert_memory_equal(w.buf, want, rq->data_len);
	free(want);
	free(w.buf);
	return w;
}

static const struct queue_limits vec_lim = {
	.max_segment_size = 1u << 23,
	.dma_alignment = 3,
};

/* parse "phys+len,phys+len" into @v; returns the count */
static unsigned short parse_pieces(char *s, struct bio_vec *v, unsigned short max)
{
	unsigned short n = 0;
	char *tok, *save;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long long p, l;

		assert_true(n < max);
		assert_int_equal(sscanf(tok, "%llx+%llx", &p, &l), 2);
		v[n].bv_phys = p;
		v[n++].bv_len = (u32)l;
	}
	return n;
}

/* one vector: map with PRPs, compare with the expectation, walk, unmap */
static void run_vector(struct fx *f, struct dml_nvme_map_ctx *ctx, char *name,
		       char *pieces, char *expect)
{
	struct bio_vec v[8];
	struct bio b = { .bi_io_vec = v };
	struct request rq;
	struct dml_nvme_iod iod;
	struct nvme_command c = { 0 };
	blk_status_t st;

	b.bi_vcnt = parse_pieces(pieces, v, 8);
	fx_fill(f, v[0].bv_phys & ~0xfffULL, 0x400000, (u8)name[0]);
	assert_int_equal(dml_blk_rq_init(&rq, &vec_lim, DMA_TO_DEVICE, &b), 0);
	st = dml__nvme_map_data(ctx, &iod, &rq, &c);
	if (!strcmp(expect, "ioerr")) {
		if (st != BLK_STS_IOERR)
			fail_msg("%s: status %u, want IOERR", name, st);
		return;
	}
	if (st != BLK_STS_OK)
		fail_msg("%s: status %u", name, st);
	assert_int_equal(c.dptr.prp1, v[0].bv_phys);
	if (!strncmp(expect, "prp2=", 5)) {
		assert_int_equal(c.dptr.prp2, strtoull(expect + 5, NULL, 16));
		assert_int_equal(iod.nr_descriptors, 0);
	} else if (!strncmp(expect, "list=", 5)) {
		u64 *list = iod.descriptors[0];
		char *e = expect + 5;
		unsigned int i = 0;

		assert_int_equal(iod.nr_descriptors, 1);
		for (; *e; i++) {
			assert_int_equal(list[i], strtoull(e, &e, 16));
			e += *e == ':';
		}
		walk_cmd(f, &rq, &c);
	} else {
		unsigned int pages = (unsigned int)strtoul(expect + 6, NULL, 10);
		struct walk w = walk_cmd(f, &rq, &c);

		assert_int_equal(w.entries, pages);
		/* §9 item 17: 511 data entries and a link per full list */
		assert_int_equal(w.lists, pages <= 512 ? 1 : 1 + (pages - 2) / 511);
		assert_int_equal(iod.nr_descriptors, w.lists);
	}
	walk_cmd(f, &rq, &c);
	dml__nvme_unmap_data(ctx, &iod);
}

/* data/nvme/prp-vectors.txt, the libvfn and SPDK cases */
static void test_prp_vectors(void **state)
{
	struct fx *f = fx_create(&(struct fx_opts){ .no_iommu = true });
	struct dml_nvme_map_ctx ctx;
	FILE *fp = fopen("data/nvme/prp-vectors.txt", "r");
	char line[512];
	unsigned int n = 0;

	(void)state;
	assert_non_null(fp);
	assert_int_equal(dml__nvme_map_ctx_init(&ctx, f->dev, false, DML_NVME_SGL_NEVER), 0);
	while (fgets(line, sizeof(line), fp)) {
		char *name, *pieces, *expect, *save;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		name = strtok_r(line, "\t\n", &save);
		pieces = strtok_r(NULL, "\t\n", &save);
		expect = strtok_r(NULL, "\t\n", &save);
		assert_non_null(expect);
		run_vector(f, &ctx, name, pieces, expect);
		n++;
	}
	fclose(fp);
	assert_true(n >= 18);
	dml__nvme_map_ctx_fini(&ctx);
	fx_destroy(f);
}

/* build a request of @n scattered 4 KiB pages (every other page) */
static void scattered(struct bio_vec *v, unsigned int n, struct bio *b,
		      struct request *rq, const struct queue_limits *lim)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		v[i].bv_phys = 0x1000000 + (u64)i * 2 * PG;
		v[i].bv_len = PG;
	}
	*b = (struct bio){ .bi_io_vec = v, .bi_vcnt = (unsigned short)n };
	assert_int_equal(dml_blk_rq_init(rq, lim, DMA_TO_DEVICE, b), 0);
}

static const struct queue_limits nvme_lim = {
	.max_segment_size = 1u << 23,
	.virt_boundary_mask = PG - 1,
	.dma_alignment = 3,
};

/*
 * §9 item 17: the small pool up to 32 list entries, the large one above;
 * per-segment mappings without an IOMMU, one IOVA range behind one.
 */
static void prp_pools(bool iommu)
{
	struct fx *f = fx_create(&(struct fx_opts){ .no_iommu = !iommu });
	struct dml_nvme_map_ctx ctx;
	struct bio_vec v[40];
	struct bio b;
	struct request rq;
	struct dml_nvme_iod iod;
	struct nvme_command c = { 0 };
	unsigned int n;

	fx_fill(f, 0x1000000, 0x100000, 21);
	assert_int_equal(dml__nvme_map_ctx_init(&ctx, f->dev, true, DML_NVME_SGL_AUTO), 0);
	for (n = 32; n <= 34; n++) {	/* 31, 32, 33 list entries */
		scattered(v, n, &b, &rq, &nvme_lim);
		assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_OK);
		assert_int_equal(blk_rq_dma_map_coalesce(&iod.dma_state), iommu);
		assert_int_equal(iod.nr_dma_vecs, iommu ? 0 : n);
		assert_int_equal(!!(iod.flags & DML_IOD_SMALL_DESCRIPTOR), n - 1 <= 32);
		assert_int_equal(walk_cmd(f, &rq, &c).entries, n - 1);
		dml__nvme_unmap_data(&ctx, &iod);
	}
	dml__nvme_map_ctx_fini(&ctx);
	fx_destroy(f);
}

static void test_prp_pools_direct(void **state)
{
	(void)state;
	prp_pools(false);
}

static void test_prp_pools_iommu(void **state)
{
	(void)state;
	prp_pools(true);
}

/* §9 item 17: a short middle segment is BLK_STS_IOERR, nothing left behind */
static void test_short_middle_segment(void **state)
{
	struct fx *f = fx_create(&(struct fx_opts){ .no_iommu = true });
	struct queue_limits lim = { .max_segment_size = 1u << 20, .dma_alignment = 3 };
	struct bio_vec v[3] = { { 0x1000000, PG }, { 0x1004000, 2048 }, { 0x1008000, PG } };
	struct bio b = { .bi_io_vec = v, .bi_vcnt = 3 };
	struct dml_nvme_map_ctx ctx;
	struct request rq;
	struct dml_nvme_iod iod;
	struct nvme_command c = { 0 };

	(void)state;
	assert_int_equal(dml__nvme_map_ctx_init(&ctx, f->dev, false, DML_NVME_SGL_NEVER), 0);
	assert_int_equal(dml_blk_rq_init(&rq, &lim, DMA_TO_DEVICE, &b), 0);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_IOERR);
	assert_int_equal(iod.nr_descriptors, 0);	/* freed by the failed map */
	dml__nvme_map_ctx_fini(&ctx);
	fx_destroy(f);
}

/*
 * §3.3 SGL: large segments go as an SGL list (small pool up to 16
 * descriptors), an IOVA range or one segment inline; --sgl always forces
 * SGLs, never forbids them.
 */
static void test_sgl(void **state)
{
	struct fx *f = fx_create(&(struct fx_opts){ .no_iommu = true });
	struct dml_nvme_map_ctx ctx;
	struct bio_vec v[20];
	struct bio b = { .bi_io_vec = v };
	struct request rq;
	struct dml_nvme_iod iod;
	struct nvme_command c = { 0 };
	struct walk w;
	unsigned int i;

	(void)state;
	for (i = 0; i < 20; i++) {
		v[i].bv_phys = 0x1000000 + (u64)i * 0x20000;
		v[i].bv_len = 0x10000;		/* 64 KiB: above the threshold */
	}
	fx_fill(f, 0x1000000, 0x280000, 31);
	assert_int_equal(dml__nvme_map_ctx_init(&ctx, f->dev, true, DML_NVME_SGL_AUTO), 0);
	b.bi_vcnt = 3;
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b), 0);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_OK);
	w = walk_cmd(f, &rq, &c);
	assert_int_equal(w.entries, 3);
	assert_int_equal(c.dptr.sgl.length, 3 * 16);
	assert_true(iod.flags & DML_IOD_SMALL_DESCRIPTOR);
	dml__nvme_unmap_data(&ctx, &iod);

	b.bi_vcnt = 20;			/* 20 descriptors: the large pool */
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b), 0);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_OK);
	assert_int_equal(walk_cmd(f, &rq, &c).entries, 20);
	assert_false(iod.flags & DML_IOD_SMALL_DESCRIPTOR);
	dml__nvme_unmap_data(&ctx, &iod);

	b.bi_vcnt = 1;			/* one 64 KiB segment: inline data */
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b), 0);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_OK);
	assert_true(iod.flags & DML_IOD_SINGLE_SEGMENT);
	assert_int_equal(c.dptr.sgl.type, NVME_SGL_TYPE(NVME_SGL_FMT_DATA_DESC, 0));
	walk_cmd(f, &rq, &c);
	dml__nvme_unmap_data(&ctx, &iod);

	ctx.sgl = DML_NVME_SGL_NEVER;	/* small segments, PRPs */
	b.bi_vcnt = 3;
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b), 0);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_OK);
	assert_int_equal(NVME_CMD_PSDT(&c), NVME_CMD_PSDT_PRP);
	walk_cmd(f, &rq, &c);
	dml__nvme_unmap_data(&ctx, &iod);

	ctx.sgl = DML_NVME_SGL_ALWAYS;	/* an 8 KiB single segment as SGL */
	v[0].bv_len = 0x2000;
	b.bi_vcnt = 1;
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b), 0);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_OK);
	assert_int_equal(NVME_CMD_PSDT(&c), NVME_CMD_PSDT_SGL_MPTR_CONTIG);
	walk_cmd(f, &rq, &c);
	dml__nvme_unmap_data(&ctx, &iod);
	dml__nvme_map_ctx_fini(&ctx);
	fx_destroy(f);
}

/* §3.3: behind an IOMMU a multi-segment request goes as one inline SGL */
static void test_sgl_iova_inline(void **state)
{
	struct fx *f = *state;
	struct dml_nvme_map_ctx ctx;
	struct bio_vec v[4];
	struct bio b;
	struct request rq;
	struct dml_nvme_iod iod;
	struct nvme_command c = { 0 };

	fx_fill(f, 0x1000000, 0x100000, 41);
	assert_int_equal(dml__nvme_map_ctx_init(&ctx, f->dev, true, DML_NVME_SGL_ALWAYS), 0);
	scattered(v, 4, &b, &rq, &nvme_lim);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_OK);
	assert_true(blk_rq_dma_map_coalesce(&iod.dma_state));
	assert_int_equal(walk_cmd(f, &rq, &c).entries, 1);
	assert_int_equal(iod.nr_descriptors, 0);
	dml__nvme_unmap_data(&ctx, &iod);
	dml__nvme_map_ctx_fini(&ctx);
}

/*
 * §3.3 metadata: one integrity segment in MPTR; several, with data SGLs
 * and metadata SGLs supported, as an SGL whose first descriptor points at
 * the rest; several without: BLK_STS_IOERR and nothing left mapped.
 */
static void test_metadata(void **state)
{
	struct fx *f = fx_create(&(struct fx_opts){ .no_iommu = true });
	struct dml_nvme_map_ctx ctx;
	struct bio_vec d = { 0x1000000, 0x10000 };
	struct bio_vec m[3] = { { 0x1100000, 64 }, { 0x1102000, 128 }, { 0x1104000, 64 } };
	struct bio_integrity_payload ip = { m, 1 };
	struct bio b = { .bi_io_vec = &d, .bi_vcnt = 1, .bi_integrity = &ip };
	struct nvme_sgl_desc list[4];
	struct request rq;
	struct dml_nvme_iod iod;
	struct nvme_command c = { 0 };
	u8 got[256], *want;
	unsigned int i, off;

	(void)state;
	fx_fill(f, 0x1000000, 0x110000, 51);
	assert_int_equal(dml__nvme_map_ctx_init(&ctx, f->dev, true, DML_NVME_SGL_AUTO), 0);
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b), 0);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_OK);
	assert_int_equal(c.metadata, m[0].bv_phys);	/* MPTR, dma-direct */
	assert_int_equal(dml_dev_dma_read(f->dev, c.metadata, got, 64), 0);
	assert_memory_equal(got, dml_kmap_local_phys(f->p, m[0].bv_phys, 64), 64);
	dml__nvme_unmap_data(&ctx, &iod);

	ip.bip_vcnt = 3;		/* no metadata SGLs: malformed */
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b), 0);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_IOERR);

	ctx.meta_sgl_supported = true;	/* data SGL (64 KiB inline), metadata SGL */
	memset(&c, 0, sizeof(c));
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_OK);
	assert_int_equal(NVME_CMD_PSDT(&c), NVME_CMD_PSDT_SGL_MPTR_SGL);
	assert_int_equal(dml_dev_dma_read(f->dev, c.metadata, list, 16), 0);
	assert_int_equal(list[0].type, NVME_SGL_TYPE(NVME_SGL_FMT_LAST_SEG_DESC, 0));
	assert_int_equal(list[0].length, 3 * 16);
	assert_int_equal(list[0].addr, c.metadata + 16);
	assert_int_equal(dml_dev_dma_read(f->dev, list[0].addr, &list[1], 48), 0);
	for (off = 0, i = 1; i <= 3; i++) {
		assert_int_equal(list[i].type, NVME_SGL_TYPE(NVME_SGL_FMT_DATA_DESC, 0));
		assert_int_equal(dml_dev_dma_read(f->dev, list[i].addr, got + off,
						  list[i].length), 0);
		want = dml_kmap_local_phys(f->p, m[i - 1].bv_phys, m[i - 1].bv_len);
		assert_memory_equal(got + off, want, m[i - 1].bv_len);
		off += list[i].length;
	}
	assert_int_equal(off, rq.integrity_len);
	dml__nvme_unmap_data(&ctx, &iod);
	dml__nvme_map_ctx_fini(&ctx);
	fx_destroy(f);
}

/*
 * §3.3 PRP rules: PRP1's segment must reach the end of its controller page
 * when more data follows (the next entry starts a page); a short first
 * segment is BLK_STS_IOERR like a short middle one, nothing left behind.
 */
static void test_short_first_segment(void **state)
{
	struct fx *f = fx_create(&(struct fx_opts){ .no_iommu = true });
	struct queue_limits lim = { .max_segment_size = 1u << 20, .dma_alignment = 3 };
	struct bio_vec v[2] = { { 0x1000000, 512 }, { 0x1003000, PG } };
	struct bio b = { .bi_io_vec = v, .bi_vcnt = 2 };
	struct dml_nvme_map_ctx ctx;
	struct request rq;
	struct dml_nvme_iod iod;
	struct nvme_command c = { 0 };

	(void)state;
	assert_int_equal(dml__nvme_map_ctx_init(&ctx, f->dev, false, DML_NVME_SGL_NEVER), 0);
	assert_int_equal(dml_blk_rq_init(&rq, &lim, DMA_TO_DEVICE, &b), 0);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_IOERR);
	assert_int_equal(iod.nr_descriptors, 0);
	v[0].bv_phys = 0x1000e00;	/* ends on the page: PRP1 + PRP2 */
	assert_int_equal(dml_blk_rq_init(&rq, &lim, DMA_TO_DEVICE, &b), 0);
	fx_fill(f, 0x1000000, 0x10000, 61);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_OK);
	assert_int_equal(c.dptr.prp2, 0x1003000);
	walk_cmd(f, &rq, &c);
	dml__nvme_unmap_data(&ctx, &iod);
	dml__nvme_map_ctx_fini(&ctx);
	fx_destroy(f);
}

/*
 * §9 item 17: a list chained across many segments (one entry each, one
 * link): 511 entries per full list, the last slot moved to the next
 * list, and the device reads exactly the request through the chain.
 */
static void test_prp_chain_segments(void **state)
{
	struct fx *f = fx_create(&(struct fx_opts){ .no_iommu = true });
	enum { N = 520 };	/* 519 entries: 511 + 8 */
	struct bio_vec *v = calloc(N, sizeof(*v));
	struct dml_nvme_map_ctx ctx;
	struct bio b;
	struct request rq;
	struct dml_nvme_iod iod;
	struct nvme_command c = { 0 };
	struct walk w;

	(void)state;
	assert_non_null(v);
	fx_fill(f, 0x1000000, (u64)N * 2 * PG, 71);
	assert_int_equal(dml__nvme_map_ctx_init(&ctx, f->dev, false, DML_NVME_SGL_NEVER), 0);
	scattered(v, N, &b, &rq, &nvme_lim);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_OK);
	w = walk_cmd(f, &rq, &c);
	assert_int_equal(w.entries, N - 1);
	assert_int_equal(w.lists, 2);
	assert_int_equal(iod.nr_descriptors, 2);
	assert_int_equal(iod.total_len, rq.data_len);
	/* the first list's last slot links the second list */
	assert_int_equal(((u64 *)iod.descriptors[0])[DML_NVME_PRPS_PER_PAGE - 1],
			 iod.descriptor_dma[1]);
	dml__nvme_unmap_data(&ctx, &iod);
	dml__nvme_map_ctx_fini(&ctx);
	free(v);
	fx_destroy(f);
}

/*
 * The descriptor pools shared by threads (a controller's queues share
 * them, pci.c): each thread maps and unmaps its own requests, small-pool
 * and large-pool lists, and checks every entry of each list it got; no
 * block is handed to two commands at once (the entries would be
 * overwritten) and all are back at the end (dma_pool_destroy() is quiet).
 */
#define POOL_THREADS 4
#define POOL_ROUNDS 300

struct pool_worker {
	struct dml_nvme_map_ctx *ctx;
	unsigned int idx;
	unsigned int bad;
};

static void *pool_worker(void *arg)
{
	struct pool_worker *pw = arg;
	struct bio_vec v[40];
	struct bio b;
	struct request rq;
	struct dml_nvme_iod iod;
	struct nvme_command c;
	unsigned int r, i, n;
	u64 *list;

	for (r = 0; r < POOL_ROUNDS; r++) {
		n = r % 2 ? 40 : 20;	/* 39 entries: large pool; 19: small */
		for (i = 0; i < n; i++)
			v[i] = (struct bio_vec){ 0x1000000 + (u64)pw->idx * 0x100000 +
						 (u64)i * 2 * PG, PG };
		b = (struct bio){ .bi_io_vec = v, .bi_vcnt = (unsigned short)n };
		memset(&c, 0, sizeof(c));
		if (dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, &b) ||
		    dml__nvme_map_data(pw->ctx, &iod, &rq, &c)) {
			pw->bad++;
			continue;
		}
		list = iod.descriptors[0];
		for (i = 1; i < n; i++)	/* dma-direct: DMA address = physical */
			pw->bad += list[i - 1] != v[i].bv_phys;
		dml__nvme_unmap_data(pw->ctx, &iod);
	}
	return NULL;
}

static void test_pools_threads(void **state)
{
	struct fx *f = fx_create(&(struct fx_opts){ .no_iommu = true });
	struct pool_worker pw[POOL_THREADS];
	pthread_t t[POOL_THREADS];
	struct dml_nvme_map_ctx ctx;
	unsigned int i;

	(void)state;
	assert_int_equal(dml__nvme_map_ctx_init(&ctx, f->dev, false, DML_NVME_SGL_NEVER), 0);
	for (i = 0; i < POOL_THREADS; i++) {
		pw[i] = (struct pool_worker){ .ctx = &ctx, .idx = i };
		assert_int_equal(pthread_create(&t[i], NULL, pool_worker, &pw[i]), 0);
	}
	for (i = 0; i < POOL_THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(pw[i].bad, 0);
	}
	dml_test_log_reset();
	dml__nvme_map_ctx_fini(&ctx);
	assert_int_equal(dml_test_log.count, 0);	/* no "busy" pool */
	fx_destroy(f);
}

static void test_bad_arguments(void **state)
{
	struct fx *f = *state;
	struct dml_nvme_map_ctx ctx;
	struct request rq;
	struct dml_nvme_iod iod;
	struct nvme_command c = { 0 };

	assert_int_equal(dml__nvme_map_ctx_init(&ctx, NULL, false, 0), -EINVAL);
	assert_int_equal(dml__nvme_map_ctx_init(&ctx, f->dev, false, 0), 0);
	assert_int_equal(dml_blk_rq_init(&rq, &nvme_lim, DMA_TO_DEVICE, NULL), 0);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, &rq, &c), BLK_STS_INVAL);
	assert_int_equal(dml__nvme_map_data(&ctx, &iod, NULL, &c), BLK_STS_INVAL);
	dml__nvme_map_ctx_fini(&ctx);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_prp_vectors),
	cmocka_unit_test(test_prp_pools_direct),
	cmocka_unit_test(test_prp_pools_iommu),
	cmocka_unit_test(test_short_middle_segment),
	cmocka_unit_test(test_sgl),
	cmocka_unit_test_setup_teardown(test_sgl_iova_inline, fx_setup, fx_teardown),
	cmocka_unit_test(test_metadata),
	cmocka_unit_test_setup_teardown(test_bad_arguments, fx_setup, fx_teardown),
	cmocka_unit_test(test_short_first_segment),
	cmocka_unit_test(test_prp_chain_segments),
	cmocka_unit_test(test_pools_threads),
};

DML_TEST_MAIN(tests)
