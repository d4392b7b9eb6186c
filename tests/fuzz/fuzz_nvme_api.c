/* SPDX-License-Identifier: MIT */
/*
 * fuzz_nvme_api.c - libFuzzer harness for <dmalink/nvme.h>: random block
 * requests (pieces anywhere in 1 MiB of RAM, any lengths, both
 * directions, any strategy, LBA and SGL policy) through dml_nvme_rw() on
 * the emulated controller behind an emulated VT-d unit.  Each call returns
 * 0 or -EINVAL (a request nvme-pci's mapping refuses, or past the
 * namespace); after a write that succeeded the namespace holds exactly
 * the request's bytes, after a read the request's pieces (unless they
 * overlap) hold exactly the namespace's; no DMA fault is ever logged.
 *
 * Input.  Byte 0: the SGL policy (mod 3).  Then groups: a control byte
 * (bit 0 write, bits 1-2 strategy mod 3, bits 3-5 pieces - 1), two bytes
 * of start LBA, then per piece two bytes of offset (in 512-byte units
 * into the 1 MiB region) and one of length (in 512-byte units, + 1).
 *
 * Deterministic: one fresh platform per input, no threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmalink/nvme.h>

#include "fuzz.h"

#include "dev/nvme_emu.h"

#define BLOCKS 1024
#define REGION 0x100000ULL	/* the pieces lie in [REGION, 2 * REGION) */

#define FUZZ_CHECK(x)							\
	do {								\
		if (!(x)) {						\
			fprintf(stderr, "fuzz_nvme_api:%d: %s\n",	\
				__LINE__, #x);				\
			abort();					\
		}							\
	} while (0)

static const struct queue_limits lim = {
	.virt_boundary_mask = 4095,
	.dma_alignment = 511,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dml_set_log(fuzz_quiet, NULL);
	return 0;
}

/* the namespace and the pieces hold the same bytes */
static void check_bytes(struct dml_platform *p, const struct dml_nvme_emu *emu,
			const struct bio *b, u64 slba)
{
	const u8 *ns = emu->ns + (slba << DML_NVME_EMU_LBA_SHIFT);
	unsigned int i;

	for (i = 0; i < b->bi_vcnt; i++) {
		const u8 *m = dml_kmap_local_phys(p, b->bi_io_vec[i].bv_phys,
						  b->bi_io_vec[i].bv_len);

		FUZZ_CHECK(m && !memcmp(m, ns, b->bi_io_vec[i].bv_len));
		ns += b->bi_io_vec[i].bv_len;
	}
}

/* a read into pieces that overlap leaves the last one's bytes: not checked */
static bool overlap(const struct bio *b)
{
	unsigned int i, j;

	for (i = 0; i < b->bi_vcnt; i++)
		for (j = i + 1; j < b->bi_vcnt; j++)
			if (b->bi_io_vec[i].bv_phys < b->bi_io_vec[j].bv_phys + b->bi_io_vec[j].bv_len &&
			    b->bi_io_vec[j].bv_phys < b->bi_io_vec[i].bv_phys + b->bi_io_vec[i].bv_len)
				return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dml_emu_opts eo = { .size = DML_SIZEOF(&eo, ram_size),
				   .ram_size = 64ULL << 20 };
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, iommu), .name = "nvme0" };
	struct dml_nvme_opts no = { .size = DML_SIZEOF(&no, sgl), .emu_blocks = BLOCKS };
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
	struct dml_nvme *n;
	u8 *ram;
	u64 i;

	if (!size)
		return 0;
	no.sgl = (enum dml_nvme_sgl_mode)(data[0] % 3);
	data++;
	size--;
	FUZZ_CHECK(!dml_platform_create_emu(&eo, &p));
	FUZZ_CHECK(!dml_iommu_create(p, NULL, &iommu));
	o.iommu = iommu;
	FUZZ_CHECK(!dml_device_create(p, &o, &dev));
	FUZZ_CHECK(!dml_nvme_open(dev, &no, &n));
	ram = dml_kmap_local_phys(p, REGION, REGION);
	FUZZ_CHECK(ram);
	for (i = 0; i < REGION; i++)
		ram[i] = (u8)(i * 7 + (i >> 9));
	while (size >= 3) {
		unsigned int nr = ((data[0] >> 3) & 7) + 1, k;
		struct dml_nvme_io io = { .slba = (u64)data[1] | (u64)data[2] << 8,
					  .strategy = (enum dml_nvme_map_strategy)((data[0] >> 1) % 3) };
		bool write = data[0] & 1;
		struct bio_vec v[8];
		struct bio b = { .bi_io_vec = v };
		struct request rq;
		int ret;

		data += 3;
		size -= 3;
		for (k = 0; k < nr && size >= 3; k++, data += 3, size -= 3) {
			v[k].bv_phys = REGION + ((u64)data[0] | (u64)data[1] << 8) * 512 % REGION;
			v[k].bv_len = ((u32)data[2] + 1) * 512;
			if (v[k].bv_phys + v[k].bv_len > 2 * REGION)
				v[k].bv_len = (u32)(2 * REGION - v[k].bv_phys);
		}
		b.bi_vcnt = (unsigned short)k;
		if (!k || dml_blk_rq_init(&rq, &lim, write ? DMA_TO_DEVICE : DMA_FROM_DEVICE,
					  &b))
			continue;
		ret = dml_nvme_rw(n, &rq, &io);
		FUZZ_CHECK(ret == 0 || ret == -EINVAL);
		if (!ret && (write || !overlap(&b)))
			check_bytes(p, n->backend, &b, io.slba);
		FUZZ_CHECK(dml_iommu_fault_count(iommu) == 0);
	}
	dml_nvme_close(n);
	dml_platform_destroy(p);
	return 0;
}
