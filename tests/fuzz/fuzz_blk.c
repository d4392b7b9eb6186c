/* SPDX-License-Identifier: MIT */
/*
 * fuzz_blk.c - libFuzzer harness: bytes become a bio chain and queue
 * limits, mapped through the request DMA iterator and through nvme-pci's
 * PRP/SGL builder.
 *
 * Input.  Byte 0: bit 0 an IOMMU or dma-direct, bits 1-2 the SGL policy,
 * bit 3 SGLs supported.  Bytes 1-3: max segment size (in 512-byte units,
 * 0 = default), a virt boundary (controller page) or none, a segment
 * boundary (64 KiB) or none.  Then 4 bytes a piece: a page (of 256), an
 * offset and a length (in 4-byte units) and whether a new bio starts.
 *
 * Checks.  A request dml_blk_rq_init() accepts: the iterator's segments
 * add up to the request's bytes, and the device reads exactly those bytes
 * through them; the builder either succeeds, describing every byte
 * (total_len), or fails with IOERR/RESOURCE/INVAL; after each unmap the
 * checker holds no mapping and made no report.  Any difference aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmalink/blk-mq-dma.h>
#include <dmalink/dma-debug.h>

#include "fuzz.h"

#include "nvme/pci-map.h"

#define NPIECE 24
#define RAM_BASE 0x1000000ULL

#define FUZZ_CHECK(x)							\
	do {								\
		if (!(x)) {						\
			fprintf(stderr, "fuzz_blk: %d: %s\n", __LINE__, #x); \
			abort();					\
		}							\
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dml_set_log(fuzz_quiet, NULL);
	dml_dma_debug_enable(true);
	dml_dma_debug_set_trace_depth(0);
	return 0;
}

static struct dml_platform *plat;

/* the device reads the iterator's segments: the request's bytes in order */
static void check_iterator(struct dml_device *dev, struct request *rq,
			   const struct bio_vec *v, unsigned int nv)
{
	struct dma_iova_state st;
	struct blk_dma_iter it;
	u8 *got = malloc(rq->data_len + 1), *want = malloc(rq->data_len + 1);
	dma_addr_t *addr = calloc(rq->nr_phys_segments + 1, sizeof(*addr));
	u32 *len = calloc(rq->nr_phys_segments + 1, sizeof(*len));
	size_t off = 0;
	unsigned int n = 0, i;
	bool more;

	FUZZ_CHECK(got && want && addr && len);
	for (more = blk_rq_dma_map_iter_start(rq, dev, &st, &it); more;
	     more = blk_rq_dma_map_iter_next(rq, dev, &st, &it)) {
		FUZZ_CHECK(n < rq->nr_phys_segments || blk_rq_dma_map_coalesce(&st));
		FUZZ_CHECK(off + it.len <= rq->data_len);
		FUZZ_CHECK(dml_dev_dma_read(dev, it.addr, got + off, it.len) == 0);
		addr[n] = it.addr;
		len[n++] = it.len;
		off += it.len;
	}
	FUZZ_CHECK(it.status == BLK_STS_OK);
	FUZZ_CHECK(off == rq->data_len);
	for (off = 0, i = 0; i < nv; i++) {
		memcpy(want + off, dml_kmap_local_phys(plat, v[i].bv_phys, v[i].bv_len),
		       v[i].bv_len);
		off += v[i].bv_len;
	}
	FUZZ_CHECK(!memcmp(got, want, rq->data_len));
	if (!blk_rq_dma_unmap(rq, dev, &st, rq->data_len, it.p2pdma.map))
		for (i = 0; i < n; i++)
			dma_unmap_phys(dev, addr[i], len[i], rq->dir, 0);
	free(got);
	free(want);
	free(addr);
	free(len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dml_emu_opts eo = { .size = DML_SIZEOF(&eo, ram_size), .ram_size = 64ULL << 20 };
	struct dml_device_opts dop = { .size = DML_SIZEOF(&dop, iommu), .name = "nvme",
				       .source_id = 0x0100, .pci = true,
				       .dma_mask = DMA_BIT_MASK(64) };
	struct queue_limits lim = { .dma_alignment = 3 };
	struct bio_vec v[NPIECE];
	struct bio bios[NPIECE];
	struct request rq;
	struct dml_nvme_map_ctx ctx;
	struct dml_nvme_iod iod;
	struct nvme_command cmd = { 0 };
	struct dml_iommu *unit = NULL;
	struct dml_device *dev;
	unsigned int nv = 0, nb = 0, i;
	blk_status_t st;
	u8 *ram;

	if (size < 4)
		return 0;
	lim.max_segment_size = data[1] * 512u;
	lim.virt_boundary_mask = data[2] & 1 ? 4095 : 0;
	lim.seg_boundary_mask = data[3] & 1 ? 0xffff : 0;
	for (i = 4; i + 4 <= size && nv < NPIECE; i += 4, nv++) {
		v[nv].bv_phys = RAM_BASE + (u64)data[i] * 4096 + (data[i + 1] & 0xfc) * 4u;
		v[nv].bv_len = (1 + data[i + 2] + ((data[i + 3] & 0x7f) << 8)) * 4u;
		if (!nv || data[i + 3] & 0x80) {
			bios[nb] = (struct bio){ .bi_io_vec = &v[nv] };
			if (nb)
				bios[nb - 1].bi_next = &bios[nb];
			nb++;
		}
		bios[nb - 1].bi_vcnt++;
	}
	if (dml_blk_rq_init(&rq, &lim, DMA_TO_DEVICE, nb ? bios : NULL))
		return 0;

	FUZZ_CHECK(dml_platform_create_emu(&eo, &plat) == 0);
	if (data[0] & 1) {
		FUZZ_CHECK(dml_iommu_create(plat, NULL, &unit) == 0);
		dop.iommu = unit;
	}
	FUZZ_CHECK(dml_device_create(plat, &dop, &dev) == 0);
	ram = dml_kmap_local_phys(plat, RAM_BASE, 2u << 20);
	FUZZ_CHECK(ram);
	for (i = 0; i < (2u << 20); i++)
		ram[i] = (u8)(i * 7 + (i >> 12));

	check_iterator(dev, &rq, v, nv);
	FUZZ_CHECK(dml_dma_debug_mapping_count(dev) == 0);

	FUZZ_CHECK(dml__nvme_map_ctx_init(&ctx, dev, data[0] & 8,
					  (enum dml_nvme_sgl_policy)((data[0] >> 1) % 3)) == 0);
	st = dml__nvme_map_data(&ctx, &iod, &rq, &cmd);
	if (!rq.data_len)
		FUZZ_CHECK(st == BLK_STS_INVAL);
	else if (st == BLK_STS_OK)
		FUZZ_CHECK(iod.total_len == rq.data_len);
	else
		FUZZ_CHECK(st == BLK_STS_IOERR || st == BLK_STS_RESOURCE);
	if (st == BLK_STS_OK)
		dml__nvme_unmap_data(&ctx, &iod);
	dml__nvme_map_ctx_fini(&ctx);
	FUZZ_CHECK(dml_dma_debug_mapping_count(dev) == 0);
	FUZZ_CHECK(dml_dma_debug_error_count() == 0);
	dml_platform_destroy(plat);
	return 0;
}
