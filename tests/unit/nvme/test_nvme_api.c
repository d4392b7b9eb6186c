/* SPDX-License-Identifier: MIT */
/*
 * test_nvme_api.c - the public NVMe driver (<dmalink/nvme.h>) on the
 * emulated controller behind the emulated IOMMU: every mapping strategy
 * (the iterator's IOVA path, its per-segment path, the scatterlist of
 * Linux 6.16) with every SGL policy writes a pattern and reads it back
 * into other pages, and the CPU compares every byte; the path, the SGL
 * choice and the descriptor bytes reported are those nvme_map_data() of
 * drivers/nvme/host/pci.c takes; bad requests give -EINVAL with nothing
 * mapped; an NVMe error status becomes -EIO with the status readable, a
 * lost completion -ETIMEDOUT then -ENODEV; several commands in flight
 * under one doorbell, each with its own outcome.  The checker reports a leak at
 * platform destroy if anything stayed mapped.
 */
#include <dmalink/nvme.h>

#include "dma/fixture.h"
#include "dev/nvme_emu.h"

#define PG 4096u
#define BLOCKS 4096		/* 2 MiB namespace */
#define WR_BASE 0x10000000ULL
#define RD_BASE 0x20000000ULL

/* nvme-pci's queue limits: the controller page as virt boundary */
static const struct queue_limits nvme_lim = {
	.virt_boundary_mask = PG - 1,
	.dma_alignment = 511,
};

struct nfx {
	struct fx *f;
	struct dml_nvme *n;
};

static struct nfx open_depth(enum dml_nvme_sgl_mode sgl, u64 timeout_ns, u16 depth)
{
	struct dml_nvme_opts o = { .size = DML_SIZEOF(&o, account_time),
				   .emu_blocks = BLOCKS, .sgl = sgl, .queue_depth = depth,
				   .timeout_ns = timeout_ns, .account_time = true };
	struct nfx x = { .f = fx_create(NULL) };

	dml_test_log_reset();
	assert_int_equal(dml_nvme_open(x.f->dev, &o, &x.n), 0);
	return x;
}

static struct nfx open_nvme(enum dml_nvme_sgl_mode sgl, u64 timeout_ns)
{
	return open_depth(sgl, timeout_ns, 0);
}

static void close_nvme(struct nfx *x)
{
	dml_nvme_close(x->n);
	fx_destroy(x->f);
}

/*
 * A request of @nr pieces of @len bytes, piece i at @base + (nr - 1 - i)
 * * 2 * @len + @off0 for the first: descending pages with gaps, so no two
 * pieces merge (the 4k-descending layout of replay).
 */
struct rq_buf {
	struct bio_vec v[64];
	struct bio b;
	struct request rq;
};

static void make_rq(struct rq_buf *r, phys_addr_t base, unsigned int nr, u32 len,
		    u32 off0, enum dma_data_direction dir)
{
	unsigned int i;

	assert_true(nr <= 64);
	for (i = 0; i < nr; i++) {
		r->v[i].bv_phys = base + (u64)(nr - 1 - i) * 2 * PG * (len / PG + 1);
		r->v[i].bv_len = len;
	}
	r->v[0].bv_phys += off0;
	r->v[0].bv_len -= off0;
	r->b = (struct bio){ .bi_io_vec = r->v, .bi_vcnt = (unsigned short)nr };
	assert_int_equal(dml_blk_rq_init(&r->rq, &nvme_lim, dir, &r->b), 0);
}

/* copy between the request's pieces and a flat buffer */
static void rq_copy(struct fx *f, struct rq_buf *r, u8 *flat, bool to_mem)
{
	size_t off = 0;
	unsigned int i;

	for (i = 0; i < r->b.bi_vcnt; i++) {
		u8 *p = dml_kmap_local_phys(f->p, r->v[i].bv_phys, r->v[i].bv_len);

		assert_non_null(p);
		if (to_mem)
			memcpy(p, flat, r->v[i].bv_len);
		else
			memcpy(flat, p, r->v[i].bv_len);
		flat += r->v[i].bv_len;
		off += r->v[i].bv_len;
	}
	assert_int_equal(off, r->rq.data_len);
}

/*
 * Write @nr pieces of @len at LBA @slba with a pattern, read them back
 * into other pages, compare every byte.  The reports of both commands
 * come back in @w and @rd.
 */
static void write_read(struct nfx *x, enum dml_nvme_map_strategy s, unsigned int nr,
		       u32 len, u32 off0, u64 slba, struct dml_nvme_io *w,
		       struct dml_nvme_io *rd)
{
	struct rq_buf wr, r;
	u8 *want, *got;
	u32 i;

	make_rq(&wr, WR_BASE, nr, len, off0, DMA_TO_DEVICE);
	make_rq(&r, RD_BASE, nr, len, off0, DMA_FROM_DEVICE);
	want = malloc(wr.rq.data_len);
	got = calloc(1, wr.rq.data_len);
	assert_non_null(want);
	assert_non_null(got);
	for (i = 0; i < wr.rq.data_len; i++)
		want[i] = (u8)(i * 13 + slba + s + (i >> 12));
	rq_copy(x->f, &wr, want, true);
	rq_copy(x->f, &r, got, true);	/* zeroes where the read lands */
	*w = (struct dml_nvme_io){ .slba = slba, .strategy = s };
	assert_int_equal(dml_nvme_rw(x->n, &wr.rq, w), 0);
	*rd = (struct dml_nvme_io){ .slba = slba, .strategy = s };
	assert_int_equal(dml_nvme_rw(x->n, &r.rq, rd), 0);
	rq_copy(x->f, &r, got, false);
	assert_memory_equal(got, want, wr.rq.data_len);
	assert_int_equal(w->status, 0);
	assert_true(w->total_ns >= w->map_ns);
	assert_true(w->dev_ns > 0);	/* account_time: the emulated controller ran */
	/* and moved the data, a part of that time */
	assert_true(w->data_ns > 0 && w->data_ns <= w->dev_ns);
	assert_true(rd->data_ns > 0 && rd->data_ns <= rd->dev_ns);
	assert_int_equal(fx_faults(x->f), 0);
	free(want);
	free(got);
}

static void test_open_info(void **state)
{
	struct dml_nvme_opts bad = { .size = DML_SIZEOF(&bad, sgl), .sgl = 7 };
	struct nfx x = open_nvme(DML_NVME_SGL_MODE_AUTO, 0);
	struct dml_nvme_ns_info info;
	struct dml_nvme *n;

	(void)state;
	assert_int_equal(dml_nvme_ns_info(x.n, &info), 0);
	assert_int_equal(info.blocks, BLOCKS);
	assert_int_equal(info.block_size, 512);
	assert_int_equal(info.max_transfer, PG << DML_NVME_EMU_MDTS);
	assert_true(info.sgl_supported);
	assert_int_equal(dml_nvme_ns_info(NULL, &info), -EINVAL);
	assert_int_equal(dml_nvme_ns_info(x.n, NULL), -EINVAL);
	assert_int_equal(dml_nvme_open(NULL, NULL, &n), -EINVAL);
	assert_int_equal(dml_nvme_open(x.f->dev, NULL, NULL), -EINVAL);
	assert_int_equal(dml_nvme_open(x.f->dev, &bad, &n), -EINVAL);
	dml_nvme_close(NULL);
	close_nvme(&x);
}

/*
 * Each strategy under each SGL policy, 16 separate pages (pci.c: the
 * average segment, 4 KiB, is under sgl_threshold, so auto picks PRPs):
 * iova links them into one IOVA range (inline SGL, or a PRP list of 15
 * entries); page maps 16 segments (a 16-entry SGL list, 256 bytes, or
 * the same 15 PRPs); sg is dma_map_sgtable(), which the IOMMU merges into
 * one DMA segment here.
 */
static void test_strategies_policies(void **state)
{
	static const enum dml_nvme_map_strategy strat[] = {
		DML_NVME_MAP_IOVA, DML_NVME_MAP_PAGE, DML_NVME_MAP_SG };
	static const enum dml_nvme_data_path path[] = {
		DML_NVME_PATH_IOVA, DML_NVME_PATH_PAGE, DML_NVME_PATH_SG };
	unsigned int s, m;

	(void)state;
	for (m = DML_NVME_SGL_MODE_AUTO; m <= DML_NVME_SGL_MODE_NEVER; m++) {
		struct nfx x = open_nvme((enum dml_nvme_sgl_mode)m, 0);

		for (s = 0; s < 3; s++) {
			struct dml_nvme_io w, r;
			bool sgl = m == DML_NVME_SGL_MODE_ALWAYS;

			write_read(&x, strat[s], 16, PG, 0, 8 + 200 * s, &w, &r);
			assert_int_equal(w.path, path[s]);
			assert_int_equal(r.path, path[s]);
			assert_int_equal(w.sgl, sgl);
			assert_int_equal(r.sgl, sgl);
			if (!sgl) {
				assert_int_equal(w.desc_bytes, 15 * 8);
			} else {
				assert_int_equal(w.desc_bytes, w.dma_segments == 1 ? 0 :
						 16 * w.dma_segments);
			}
			assert_int_equal(w.dma_segments, s == 1 ? 16 : 1);
			/* one segment: the simple path, whatever the strategy */
			write_read(&x, strat[s], 1, PG, 512, 1000 + s, &w, &r);
			assert_int_equal(w.path, DML_NVME_PATH_SIMPLE);
			assert_int_equal(w.sgl, sgl);
			assert_int_equal(w.desc_bytes, 0);
			/* PRP1 mid-page: the first piece starts 1 KiB in */
			write_read(&x, strat[s], 5, PG, 1024, 1100 + 20 * s, &w, &r);
		}
		close_nvme(&x);
	}
}

/* pci.c nvme_pci_use_sgls(): segments averaging >= 32 KiB go as SGLs in auto */
static void test_auto_threshold(void **state)
{
	struct nfx x = open_nvme(DML_NVME_SGL_MODE_AUTO, 0);
	struct dml_nvme_io w, r;

	(void)state;
	write_read(&x, DML_NVME_MAP_PAGE, 2, 64 * 1024, 0, 0, &w, &r);
	assert_true(w.sgl);
	assert_int_equal(w.dma_segments, 2);
	assert_int_equal(w.desc_bytes, 32);
	write_read(&x, DML_NVME_MAP_SG, 2, 64 * 1024, 0, 256, &w, &r);
	assert_true(w.sgl);
	assert_int_equal(w.path, DML_NVME_PATH_SG);
	/* the most one command carries: MDTS, 128 KiB */
	write_read(&x, DML_NVME_MAP_IOVA, 32, PG, 0, 512, &w, &r);
	assert_int_equal(w.path, DML_NVME_PATH_IOVA);
	assert_false(w.sgl);
	assert_int_equal(w.desc_bytes, 31 * 8);
	close_nvme(&x);
}

/* bad input: -EINVAL and nothing mapped (checked at platform destroy) */
static void test_bad_requests(void **state)
{
	static const struct queue_limits no_vb = { .dma_alignment = 3 };
	struct nfx x = open_nvme(DML_NVME_SGL_MODE_NEVER, 0);
	struct dml_nvme_io io = { 0 };
	struct rq_buf r;
	struct bio_vec v[3] = { { WR_BASE, PG }, { WR_BASE + 3 * PG, 512 },
				{ WR_BASE + 6 * PG, PG } };
	struct bio b = { .bi_io_vec = v, .bi_vcnt = 3 };
	struct request bad;
	unsigned int s;

	(void)state;
	make_rq(&r, WR_BASE, 2, PG, 0, DMA_TO_DEVICE);
	assert_int_equal(dml_nvme_rw(NULL, &r.rq, &io), -EINVAL);
	assert_int_equal(dml_nvme_rw(x.n, NULL, &io), -EINVAL);
	assert_int_equal(dml_nvme_rw(x.n, &r.rq, NULL), -EINVAL);
	io.strategy = 3;
	assert_int_equal(dml_nvme_rw(x.n, &r.rq, &io), -EINVAL);
	io.strategy = DML_NVME_MAP_IOVA;
	io.slba = BLOCKS - 1;	/* 16 blocks from the namespace's last */
	assert_int_equal(dml_nvme_rw(x.n, &r.rq, &io), -EINVAL);
	io.slba = 0;
	make_rq(&r, WR_BASE, 33, PG, 0, DMA_TO_DEVICE);	/* over MDTS */
	assert_int_equal(dml_nvme_rw(x.n, &r.rq, &io), -EINVAL);
	make_rq(&r, WR_BASE, 1, PG, 0, DMA_TO_DEVICE);
	r.v[0].bv_len = 100;	/* not whole blocks */
	assert_int_equal(dml_blk_rq_init(&r.rq, &no_vb, DMA_TO_DEVICE, &r.b), 0);
	assert_int_equal(dml_nvme_rw(x.n, &r.rq, &io), -EINVAL);
	/*
	 * A short middle segment cannot be PRPs (pci.c: "incorrectly formed
	 * request"; NVMe Base 2.0 4.1.1): refused by every strategy.
	 */
	assert_int_equal(dml_blk_rq_init(&bad, &no_vb, DMA_TO_DEVICE, &b), 0);
	for (s = DML_NVME_MAP_IOVA; s <= DML_NVME_MAP_SG; s++) {
		io.strategy = (enum dml_nvme_map_strategy)s;
		assert_int_equal(dml_nvme_rw(x.n, &bad, &io), -EINVAL);
	}
	assert_int_equal(fx_faults(x.f), 0);
	close_nvme(&x);
}

/* an error completion: -EIO, the status readable (LBA Out of Range, 80h) */
static void test_nvme_status(void **state)
{
	struct nfx x = open_nvme(DML_NVME_SGL_MODE_AUTO, 0);
	struct dml_nvme_emu *emu = x.n->backend;
	struct dml_nvme_io io = { .slba = BLOCKS - 8 };
	struct rq_buf r;

	(void)state;
	make_rq(&r, WR_BASE, 1, PG, 0, DMA_TO_DEVICE);
	emu->nsze = BLOCKS / 2;	/* the namespace shrank under the driver */
	assert_int_equal(dml_nvme_rw(x.n, &r.rq, &io), -EIO);
	assert_int_equal(io.status & 0x7ff, NVME_SC_LBA_RANGE);
	emu->nsze = BLOCKS;
	assert_int_equal(dml_nvme_rw(x.n, &r.rq, &io), 0);
	assert_int_equal(io.status, 0);
	close_nvme(&x);
}

/* a lost completion: -ETIMEDOUT, then -ENODEV until a reset; nothing mapped */
static void test_timeout(void **state)
{
	struct nfx x = open_nvme(DML_NVME_SGL_MODE_AUTO, 1000000);
	struct dml_nvme_emu *emu = x.n->backend;
	struct dml_nvme_io io = { .strategy = DML_NVME_MAP_PAGE };
	struct rq_buf r;

	(void)state;
	make_rq(&r, WR_BASE, 4, PG, 0, DMA_FROM_DEVICE);
	emu->drop_commands = true;
	assert_int_equal(dml_nvme_rw(x.n, &r.rq, &io), -ETIMEDOUT);
	assert_true(dml_test_log.count > 0);
	emu->drop_commands = false;
	io.strategy = DML_NVME_MAP_SG;
	assert_int_equal(dml_nvme_rw(x.n, &r.rq, &io), -ENODEV);
	close_nvme(&x);
}

/*
 * Seven commands in flight on a queue of 8 (nvme_queue_rqs(): one
 * doorbell for the lot), each strategy in turn, distinct blocks: every
 * byte lands and comes back; 8 is refused; one request the mapping
 * refuses cancels the others before submission; one error completion
 * fails only its own command.
 */
#define MANY 7
static void test_many_in_flight(void **state)
{
	static const struct queue_limits no_vb = { .dma_alignment = 3 };
	struct nfx x = open_depth(DML_NVME_SGL_MODE_AUTO, 0, MANY + 1);
	struct dml_nvme_emu *emu = x.n->backend;
	static struct rq_buf wr[MANY + 1], rd[MANY];
	struct request *wq[MANY + 1], *rq[MANY];
	struct dml_nvme_io wio[MANY + 1], rio[MANY];
	u64 done = emu->completed;
	unsigned int i;
	u32 k;

	(void)state;
	for (i = 0; i < MANY; i++) {
		u8 *p;

		make_rq(&wr[i], WR_BASE + i * 0x100000ULL, 3, PG, 0, DMA_TO_DEVICE);
		make_rq(&rd[i], RD_BASE + i * 0x100000ULL, 3, PG, 0, DMA_FROM_DEVICE);
		for (k = 0; k < 3; k++) {
			p = dml_kmap_local_phys(x.f->p, wr[i].v[k].bv_phys, PG);
			memset(p, (int)(i * 3 + k + 1), PG);
			memset(dml_kmap_local_phys(x.f->p, rd[i].v[k].bv_phys, PG), 0, PG);
		}
		wq[i] = &wr[i].rq;
		rq[i] = &rd[i].rq;
		wio[i] = (struct dml_nvme_io){ .slba = 64 * i, .strategy = i % 3 };
		rio[i] = wio[i];
	}
	assert_int_equal(dml_nvme_rw_many(x.n, wq, wio, MANY), 0);
	assert_int_equal(emu->completed, done + MANY);
	assert_int_equal(dml_nvme_rw_many(x.n, rq, rio, MANY), 0);
	for (i = 0; i < MANY; i++) {
		assert_int_equal(wio[i].result, 0);
		assert_int_equal(rio[i].result, 0);
		for (k = 0; k < 3; k++) {
			u8 *p = dml_kmap_local_phys(x.f->p, rd[i].v[k].bv_phys, PG);
			u32 b;

			for (b = 0; b < PG; b++)
				assert_int_equal(p[b], i * 3 + k + 1);
		}
	}
	/* at most depth - 1 in flight */
	make_rq(&wr[MANY], WR_BASE + MANY * 0x100000ULL, 1, PG, 0, DMA_TO_DEVICE);
	wq[MANY] = &wr[MANY].rq;
	wio[MANY] = (struct dml_nvme_io){ .slba = 1000 };
	assert_int_equal(dml_nvme_rw_many(x.n, wq, wio, MANY + 1), -EINVAL);
	assert_int_equal(dml_nvme_rw_many(x.n, wq, wio, 0), -EINVAL);
	/* the fourth cannot be PRPs: nothing is submitted */
	wr[3].v[1].bv_len = 512;
	assert_int_equal(dml_blk_rq_init(&wr[3].rq, &no_vb, DMA_TO_DEVICE, &wr[3].b), 0);
	done = emu->completed;
	assert_int_equal(dml_nvme_rw_many(x.n, wq, wio, MANY), -EINVAL);
	assert_int_equal(emu->completed, done);
	assert_int_equal(wio[3].result, -EINVAL);
	assert_int_equal(wio[0].result, -ECANCELED);
	/* an error completion is that command's alone */
	emu->nsze = 64 * 5;	/* the last two are now out of range */
	assert_int_equal(dml_nvme_rw_many(x.n, rq, rio, MANY), -EIO);
	for (i = 0; i < MANY; i++) {
		assert_int_equal(rio[i].result, i < 5 ? 0 : -EIO);
		assert_int_equal(rio[i].status & 0x7ff, i < 5 ? 0 : NVME_SC_LBA_RANGE);
	}
	emu->nsze = BLOCKS;
	assert_int_equal(fx_faults(x.f), 0);
	close_nvme(&x);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_open_info),
	cmocka_unit_test(test_strategies_policies),
	cmocka_unit_test(test_auto_threshold),
	cmocka_unit_test(test_bad_requests),
	cmocka_unit_test(test_nvme_status),
	cmocka_unit_test(test_timeout),
	cmocka_unit_test(test_many_in_flight),
};

DML_TEST_MAIN(tests)
