/* SPDX-License-Identifier: MIT */
/*
 * test_dma_buf_importer.c - the library's three importers
 * (dmalink/dma-buf-importer.h; shared/reference/kernel-dma-semantics.md
 * §7.1-§7.4, §9 item 22) against the library's VFIO-BAR exporter on the
 * shared P2P machine: the RDMA importer gets PAL, maps it itself (one
 * IOVA range through the host bridge, bus addresses below the switch,
 * one dma_map_phys per range without an IOMMU), the device reads every
 * byte, a revoke unmaps it (the device faults), and after re-enable its
 * next use maps again; the iommufd importer pins, takes one range only
 * and stays unmapped after re-enable until asked, then maps at the same
 * IOVA; the static importer cannot be revoked, so the BAR exporter
 * refuses it; a thread using the RDMA importer meets revokes.
 */
#include <pthread.h>

#include <dmalink/dma-buf-importer.h>

#include "dmabuf/fixture_p2p.h"

/* the device reads every byte of the four ranges through @imp */
static void importer_reads(struct fxp *f, struct dml_dma_buf_importer *imp,
			   const struct phys_vec v[4])
{
	u64 off = 0, len;
	dma_addr_t dma;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		assert_int_equal(dml_dma_buf_importer_dma(imp, off, &dma, &len),
				 0);
		assert_true(len >= v[i].len);
		fxp_device_reads(f, dma, v[i].paddr, v[i].len);
		off += v[i].len;
	}
}

/*
 * PAL "the importer maps it itself with the two-step API": one IOVA
 * range through the host bridge; "after the callback ... a device DMA
 * after its importer unmapped must fault"; "revoked => -ENODEV";
 * "re-enable flips it back (also a notify)" and the importer remaps
 */
static void test_rdma_pal_revoke_remap(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct phys_vec v[4];
	struct dma_buf *buf = lib_bar_export(f, f->ssd, SSD_BAR, v);
	struct dml_dma_buf_importer *imp;
	dma_addr_t dma, old;
	u64 len, faults;
	u8 byte;

	*state = f;
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_TO_DEVICE, &imp), 0);
	assert_int_equal(dml_dma_buf_importer_attachment(imp)->map_type,
			 DMA_BUF_MAPPING_PAL);
	assert_true(dma_buf_attach_revocable(
			dml_dma_buf_importer_attachment(imp)));
	assert_int_equal(dml_dma_buf_importer_dma(imp, 0, &old, &len), 0);
	assert_int_equal(len, RANGES_LEN);	/* one IOVA range */
	importer_reads(f, imp, v);

	assert_int_equal(dml_dma_buf_revoke(buf, MAX_SCHEDULE_TIMEOUT), 0);
	assert_false(dml_dma_buf_importer_mapped(imp));
	assert_int_equal(dml_dma_buf_importer_invalidations(imp), 1);
	faults = fxp_faults(f);
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	assert_int_equal(dml_dev_dma_read(f->nic_dev, old, &byte, 1), -EFAULT);
	assert_int_equal(fxp_faults(f), faults + 1);
	assert_int_equal(dml_dma_buf_importer_dma(imp, 0, &dma, &len), -ENODEV);
	assert_int_equal(dml_dma_buf_importer_map(imp), -ENODEV);

	assert_int_equal(dml_dma_buf_unrevoke(buf), 0);
	assert_int_equal(dml_dma_buf_importer_invalidations(imp), 2);
	assert_false(dml_dma_buf_importer_mapped(imp));
	importer_reads(f, imp, v);	/* its next use maps again */
	assert_true(dml_dma_buf_importer_mapped(imp));
	assert_int_equal(dml_dma_buf_importer_dma(imp, RANGES_LEN, &dma, &len),
			 -EINVAL);
	dml_dma_buf_importer_destroy(imp);
	dma_buf_put(buf);
}

/* "BUS_ADDR => bus addresses": peer memory below the common switch */
static void test_rdma_pal_bus_addr(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct phys_vec v[4];
	struct dma_buf *buf = lib_bar_export(f, f->gpu, GPU_BAR, v);
	struct dml_dma_buf_importer *imp;
	dma_addr_t dma;
	u64 len;

	*state = f;
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_TO_DEVICE, &imp), 0);
	assert_int_equal(dml_dma_buf_importer_dma(imp, 0, &dma, &len), 0);
	assert_int_equal(dma, v[0].paddr + GPU_BUS_OFF);
	assert_int_equal(len, v[0].len);
	importer_reads(f, imp, v);
	dml_dma_buf_importer_destroy(imp);
	dma_buf_put(buf);
}

/* "fallback per-range dma_map_phys" without IOVA space */
static void test_rdma_pal_direct(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, false, 0);
	struct phys_vec v[4];
	struct dma_buf *buf = lib_bar_export(f, f->ssd, SSD_BAR, v);
	struct dml_dma_buf_importer *imp;
	dma_addr_t dma;
	u64 len;

	*state = f;
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_TO_DEVICE, &imp), 0);
	assert_int_equal(dml_dma_buf_importer_dma(imp, v[0].len, &dma, &len), 0);
	assert_int_equal(dma, v[1].paddr);
	assert_int_equal(len, v[1].len);
	importer_reads(f, imp, v);
	dml_dma_buf_importer_destroy(imp);
	dma_buf_put(buf);
}

/*
 * iommufd: "exactly one range"; "revoke unmaps it, with no automatic
 * remap (VMM must re-map)"; iommufd "gains dma_buf_pin"
 */
static void test_iommufd_one_range_no_remap(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct dml_dma_buf_range r = { 0x10000, 0x4000 };
	struct phys_vec v[4];
	struct dma_buf *four = lib_bar_export(f, f->ssd, SSD_BAR, v);
	struct dml_dma_buf_importer *imp = NULL;
	struct dma_buf *buf;
	dma_addr_t dma, first;
	u64 len, faults;
	u8 byte;

	*state = f;
	assert_int_equal(dml_dma_buf_import(four, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_IOMMUFD,
					    DMA_BIDIRECTIONAL, &imp), -EOPNOTSUPP);
	assert_null(imp);
	dma_buf_put(four);
	assert_int_equal(dml_pci_bar_dma_buf_export(f->ssd, 0, &r, 1, &buf), 0);
	fxp_fill(f, SSD_BAR + r.offset, r.length);
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_IOMMUFD,
					    DMA_BIDIRECTIONAL, &imp), 0);
	assert_int_equal(dml_dma_buf_importer_dma(imp, 0, &first, &len), 0);
	assert_int_equal(len, r.length);
	fxp_device_reads(f, first, SSD_BAR + r.offset, r.length);

	assert_int_equal(dml_dma_buf_revoke(buf, MAX_SCHEDULE_TIMEOUT), 0);
	/* the range is unlinked; its IOVA stays reserved for the re-map */
	faults = fxp_faults(f);
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_LINKED);
	assert_int_equal(dml_dev_dma_read(f->nic_dev, first, &byte, 1),
			 -EFAULT);
	assert_int_equal(fxp_faults(f), faults + 1);
	assert_int_equal(dml_dma_buf_unrevoke(buf), 0);
	/* re-enabled, but nothing maps it again by itself */
	assert_false(dml_dma_buf_importer_mapped(imp));
	assert_int_equal(dml_dma_buf_importer_dma(imp, 0, &dma, &len), -ENOENT);
	assert_int_equal(dml_dma_buf_importer_map(imp), 0);
	assert_int_equal(dml_dma_buf_importer_dma(imp, 0, &dma, &len), 0);
	assert_int_equal(dma, first);	/* its own IOVA, kept */
	fxp_device_reads(f, dma, SSD_BAR + r.offset, r.length);
	dml_dma_buf_importer_destroy(imp);
	dma_buf_put(buf);
}

/*
 * "pinned importers without [invalidate_mappings] may never unmap, so
 * exporters needing revoke (VFIO) reject them in attach"; bad input
 */
static void test_static_refused_and_bad_input(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct phys_vec v[4];
	struct dma_buf *buf = lib_bar_export(f, f->ssd, SSD_BAR, v);
	struct dml_dma_buf_importer *imp = NULL;

	*state = f;
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_STATIC,
					    DMA_TO_DEVICE, &imp), -EOPNOTSUPP);
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_NONE, &imp), -EINVAL);
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    (enum dml_dma_buf_importer_type)7,
					    DMA_TO_DEVICE, &imp), -EINVAL);
	assert_int_equal(dml_dma_buf_import(NULL, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_TO_DEVICE, &imp), -EINVAL);
	assert_null(imp);
	assert_int_equal(dml_dma_buf_revoke(buf, 0), 0);
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_TO_DEVICE, &imp), -ENODEV);
	assert_null(imp);
	assert_int_equal(dml_dma_buf_importer_map(NULL), -EINVAL);
	assert_false(dml_dma_buf_importer_mapped(NULL));
	assert_null(dml_dma_buf_importer_attachment(NULL));
	dml_dma_buf_importer_destroy(NULL);
	dma_buf_put(buf);
}

#define ROUNDS 200

struct user {
	struct dml_dma_buf_importer *imp;
	atomic_bool stop;
	unsigned long mapped, revoked;
};

/* the importer's user: every lookup maps or finds the buffer revoked */
static void *rdma_user(void *arg)
{
	struct user *u = arg;
	dma_addr_t dma;
	u64 len;
	int ret;

	while (!atomic_load(&u->stop)) {
		ret = dml_dma_buf_importer_dma(u->imp, 0, &dma, &len);
		assert_true(ret == 0 || ret == -ENODEV);
		if (ret)
			u->revoked++;
		else
			u->mapped++;
	}
	return NULL;
}

/*
 * revoke against an importer in use: every revoke and re-enable
 * invalidates it once, each lookup either maps or sees -ENODEV, and at
 * the end the bytes are there (run in the TSan suite)
 */
static void test_rdma_meets_revoke(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct phys_vec v[4];
	struct dma_buf *buf = lib_bar_export(f, f->ssd, SSD_BAR, v);
	struct user u = { 0 };
	pthread_t t;
	int i;

	*state = f;
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_TO_DEVICE, &u.imp), 0);
	assert_int_equal(pthread_create(&t, NULL, rdma_user, &u), 0);
	for (i = 0; i < ROUNDS; i++) {
		assert_int_equal(dml_dma_buf_revoke(buf, MAX_SCHEDULE_TIMEOUT),
				 0);
		assert_false(dml_dma_buf_importer_mapped(u.imp));
		assert_int_equal(dml_dma_buf_unrevoke(buf), 0);
	}
	atomic_store(&u.stop, true);
	pthread_join(t, NULL);
	assert_int_equal(dml_dma_buf_importer_invalidations(u.imp), 2 * ROUNDS);
	importer_reads(f, u.imp, v);
	dml_dma_buf_importer_destroy(u.imp);
	dma_buf_put(buf);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_teardown(test_rdma_pal_revoke_remap, fxp_teardown),
	cmocka_unit_test_teardown(test_rdma_pal_bus_addr, fxp_teardown),
	cmocka_unit_test_teardown(test_rdma_pal_direct, fxp_teardown),
	cmocka_unit_test_teardown(test_iommufd_one_range_no_remap,
				  fxp_teardown),
	cmocka_unit_test_teardown(test_static_refused_and_bad_input,
				  fxp_teardown),
	cmocka_unit_test_teardown(test_rdma_meets_revoke, fxp_teardown),
};

DML_TEST_MAIN(tests)
