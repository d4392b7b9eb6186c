/* SPDX-License-Identifier: MIT */
/*
 * test_dma_buf_exporters.c - the library's exporters of host and device
 * memory (dmalink/dma-buf-exporter.h; shared/reference/
 * kernel-dma-semantics.md §7.1, §7.3, §9 item 22), imported by the
 * library's importers on the shared P2P machine: the system heap gives a
 * static importer an sg table of its pages and the RDMA importer a PAL
 * in one IOVA range; RAM without a memmap gives sg tables without pages;
 * the device-memory exporter moves its buffer between VRAM and system
 * memory: each move invalidates the importer, the old address faults,
 * the importer maps again and the device finds the bytes it wrote; a
 * move waits for the device's DMA in flight (its fence) before copying.
 */
#include <pthread.h>

#include <dmalink/dma-buf-exporter.h>
#include <dmalink/dma-buf-importer.h>

#include "dmabuf/fixture_p2p.h"

#define HEAP_LEN	(64 * 1024)
#define NOMAP_BASE	0x40000000ULL
#define VRAM_OFF	0x20000
#define VRAM_LEN	(32 * 1024)

/* the CPU writes @len bytes of pattern @seed through the exporter */
static void cpu_fill(struct dma_buf *buf, size_t len, u8 seed)
{
	size_t pg;
	u8 *m;

	assert_int_equal(dma_buf_begin_cpu_access(buf, DMA_TO_DEVICE), 0);
	for (pg = 0; pg < len / PAGE_SIZE; pg++) {
		unsigned int i;

		assert_int_equal(dma_buf_mmap(buf, pg, PAGE_SIZE, (void **)&m),
				 0);
		for (i = 0; i < PAGE_SIZE; i++)
			m[i] = (u8)(seed + pg * 31 + i);
	}
	assert_int_equal(dma_buf_end_cpu_access(buf, DMA_TO_DEVICE), 0);
}

/* the device reads the whole buffer through @imp and finds @seed's bytes */
static void device_finds(struct fxp *f, struct dml_dma_buf_importer *imp,
			 size_t len, u8 seed)
{
	u8 *got = malloc(len);
	u64 off = 0, n;
	dma_addr_t dma;
	size_t i;

	assert_non_null(got);
	while (off < len) {
		assert_int_equal(dml_dma_buf_importer_dma(imp, off, &dma, &n),
				 0);
		n = min(n, len - off);
		assert_int_equal(dml_dev_dma_read(f->nic_dev, dma, got + off, n),
				 0);
		off += n;
	}
	for (i = 0; i < len; i++)
		assert_int_equal(got[i], (u8)(seed + (i / PAGE_SIZE) * 31 +
					      i % PAGE_SIZE));
	free(got);
}

/*
 * the system heap: "map_dma_buf returns an sg_table of DMA addresses for
 * attach->dev" (static: pinned, a table of pages); PAL for the importer
 * that maps it itself, one IOVA range
 */
static void test_system_heap(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct dml_dma_buf_importer *st, *rdma;
	struct dma_buf *buf = NULL;
	dma_addr_t dma;
	u64 len;

	*state = f;
	assert_int_equal(dml_system_heap_alloc(f->p, "bogus", HEAP_LEN, &buf),
			 -EINVAL);
	assert_int_equal(dml_system_heap_alloc(f->p, NULL, 0, &buf), -EINVAL);
	assert_null(buf);
	assert_int_equal(dml_system_heap_alloc(f->p, "4k-random", HEAP_LEN,
					       &buf), 0);
	cpu_fill(buf, HEAP_LEN, 3);
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_STATIC,
					    DMA_TO_DEVICE, &st), 0);
	assert_int_equal(dml_dma_buf_importer_attachment(st)->map_type,
			 DMA_BUF_MAPPING_SGT);
	device_finds(f, st, HEAP_LEN, 3);
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_TO_DEVICE, &rdma), 0);
	assert_int_equal(dml_dma_buf_importer_attachment(rdma)->map_type,
			 DMA_BUF_MAPPING_PAL);
	assert_int_equal(dml_dma_buf_importer_dma(rdma, 0, &dma, &len), 0);
	assert_int_equal(len, HEAP_LEN);	/* scattered pages, one range */
	device_finds(f, rdma, HEAP_LEN, 3);
	dml_dma_buf_importer_destroy(rdma);
	dml_dma_buf_importer_destroy(st);
	dma_buf_put(buf);
}

/* the exporter syncs for a non-coherent device around CPU access */
static void test_system_heap_non_coherent(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, FXP_NON_COHERENT);
	struct dml_dma_buf_importer *st;
	struct dma_buf *buf;

	*state = f;
	assert_int_equal(dml_system_heap_alloc(f->p, NULL, HEAP_LEN, &buf), 0);
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_STATIC,
					    DMA_BIDIRECTIONAL, &st), 0);
	cpu_fill(buf, HEAP_LEN, 9);
	device_finds(f, st, HEAP_LEN, 9);
	dml_dma_buf_importer_destroy(st);
	dma_buf_put(buf);
}

/*
 * RAM without a memmap: no struct page, so no sg table of pages ("the
 * importer must be able to handle ... resources without struct pages");
 * the table has no CPU list
 */
static void test_ram_no_memmap(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct dml_dma_buf_importer *st, *rdma;
	struct dma_buf_attachment *a;
	struct dma_buf *buf = NULL;
	struct sg_table *sgt;

	*state = f;
	assert_int_equal(dml_ram_add(f->p, NOMAP_BASE, 2 << 20,
				     DML_RAM_NO_MEMMAP), 0);
	assert_int_equal(dml_ram_dma_buf_export(f->p, NOMAP_BASE + 0x800,
						HEAP_LEN, &buf), -EINVAL);
	assert_int_equal(dml_ram_dma_buf_export(f->p, SSD_BAR, HEAP_LEN, &buf),
			 -EINVAL);	/* MMIO is not RAM */
	assert_int_equal(dml_ram_dma_buf_export(f->p, NOMAP_BASE, 0, &buf),
			 -EINVAL);
	assert_null(buf);
	assert_int_equal(dml_ram_dma_buf_export(f->p, NOMAP_BASE, HEAP_LEN,
						&buf), 0);
	cpu_fill(buf, HEAP_LEN, 5);
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_STATIC,
					    DMA_TO_DEVICE, &st), 0);
	device_finds(f, st, HEAP_LEN, 5);
	a = dml_dma_buf_importer_attachment(st);
	assert_int_equal(dma_buf_map_attachment_unlocked(a, DMA_TO_DEVICE,
							 &sgt), 0);
	assert_int_equal(sgt->orig_nents, 0);
	assert_int_equal(sgt->nents, 1);
	dma_buf_unmap_attachment_unlocked(a, sgt, DMA_TO_DEVICE);
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_TO_DEVICE, &rdma), 0);
	device_finds(f, rdma, HEAP_LEN, 5);
	dml_dma_buf_importer_destroy(rdma);
	dml_dma_buf_importer_destroy(st);
	dma_buf_put(buf);
}

/* the device writes @seed's pattern into the whole buffer through @imp */
static void device_writes(struct fxp *f, struct dml_dma_buf_importer *imp,
			  size_t len, u8 seed)
{
	u8 *b = malloc(len);
	u64 off = 0, n;
	dma_addr_t dma;
	size_t i;

	assert_non_null(b);
	for (i = 0; i < len; i++)
		b[i] = (u8)(seed + (i / PAGE_SIZE) * 31 + i % PAGE_SIZE);
	while (off < len) {
		assert_int_equal(dml_dma_buf_importer_dma(imp, off, &dma, &n),
				 0);
		n = min(n, len - off);
		assert_int_equal(dml_dev_dma_write(f->nic_dev, dma, b + off, n),
				 0);
		off += n;
	}
	free(b);
}

/*
 * "Moves: exporter calls dma_buf_move_notify ... each dynamic importer
 * must drop/recreate mappings before further DMA": the device writes
 * into VRAM, the buffer moves to system memory and back, the old
 * address faults after each move, and the device reads its bytes from
 * the new place (the old one is scribbled over)
 */
static void test_vram_move_keeps_data(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct dml_dma_buf_importer *imp;
	struct dma_buf *buf = NULL;
	dma_addr_t old;
	u64 len, faults;
	u8 byte;

	*state = f;
	assert_int_equal(dml_vram_dma_buf_export(f->ssd, 0, VRAM_OFF + 1,
						 VRAM_LEN, &buf), -EINVAL);
	assert_int_equal(dml_vram_dma_buf_export(f->ssd, 0, BAR_LEN - 0x1000,
						 VRAM_LEN, &buf), -EINVAL);
	assert_null(buf);
	assert_int_equal(dml_vram_dma_buf_export(f->ssd, 0, VRAM_OFF, VRAM_LEN,
						 &buf), 0);
	assert_true(dml_vram_dma_buf_in_vram(buf));
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_BIDIRECTIONAL, &imp), 0);
	device_writes(f, imp, VRAM_LEN, 7);
	assert_int_equal(dml_dma_buf_importer_dma(imp, 0, &old, &len), 0);

	assert_int_equal(dml_vram_dma_buf_migrate(buf, false), 0);
	assert_false(dml_vram_dma_buf_in_vram(buf));
	assert_int_equal(dml_dma_buf_importer_invalidations(imp), 1);
	assert_false(dml_dma_buf_importer_mapped(imp));
	memset(dml_kmap_local_phys(f->p, SSD_BAR + VRAM_OFF, VRAM_LEN), 0xee,
	       VRAM_LEN);
	faults = fxp_faults(f);
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	assert_int_equal(dml_dev_dma_read(f->nic_dev, old, &byte, 1), -EFAULT);
	assert_int_equal(fxp_faults(f), faults + 1);
	device_finds(f, imp, VRAM_LEN, 7);	/* mapped again, in RAM */

	device_writes(f, imp, VRAM_LEN, 8);
	assert_int_equal(dml_vram_dma_buf_migrate(buf, true), 0);
	assert_int_equal(dml_vram_dma_buf_migrate(buf, true), 0);	/* there */
	assert_int_equal(dml_dma_buf_importer_invalidations(imp), 2);
	device_finds(f, imp, VRAM_LEN, 8);
	assert_int_equal(dml_vram_dma_buf_migrate(NULL, true), -EINVAL);
	dml_dma_buf_importer_destroy(imp);
	dma_buf_put(buf);
}

/*
 * "either maps P2P, migrates to system memory (GPU drivers), or
 * rejects": an importer that cannot take peer memory moves the buffer
 * at attach and keeps it there; pinned buffers do not move
 */
static void test_vram_placement_rules(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct dml_dma_buf_importer *st, *fd;
	struct dma_buf *buf, *other;

	*state = f;
	assert_int_equal(dml_vram_dma_buf_export(f->gpu, 0, VRAM_OFF, VRAM_LEN,
						 &buf), 0);
	cpu_fill(buf, VRAM_LEN, 1);
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_STATIC,
					    DMA_TO_DEVICE, &st), 0);
	assert_false(dml_vram_dma_buf_in_vram(buf));
	device_finds(f, st, VRAM_LEN, 1);
	assert_int_equal(dml_vram_dma_buf_migrate(buf, true), -EBUSY);
	dml_dma_buf_importer_destroy(st);
	assert_int_equal(dml_vram_dma_buf_migrate(buf, true), 0);

	/* iommufd pins: the buffer stays in VRAM while imported */
	assert_int_equal(dml_vram_dma_buf_export(f->ssd, 0, VRAM_OFF, VRAM_LEN,
						 &other), 0);
	assert_int_equal(dml_dma_buf_import(other, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_IOMMUFD,
					    DMA_TO_DEVICE, &fd), 0);
	assert_int_equal(dml_vram_dma_buf_migrate(other, false), -EBUSY);
	assert_true(dml_vram_dma_buf_in_vram(other));
	dml_dma_buf_importer_destroy(fd);
	assert_int_equal(dml_vram_dma_buf_migrate(other, false), 0);
	assert_int_equal(dml_vram_dma_buf_migrate(buf, false), 0);
	dma_buf_put(other);
	dma_buf_put(buf);
}

struct in_flight {
	struct dml_dma_buf_importer *imp;
	struct dma_fence *fence;
};

/* the device's DMA ends only once the move has begun (invalidated) */
static void *dma_finishes(void *arg)
{
	struct in_flight *fl = arg;

	while (!dml_dma_buf_importer_invalidations(fl->imp))
		sched_yield();
	dma_fence_signal(fl->fence);
	return NULL;
}

/*
 * "accesses still in flight are covered by fences in the dma_resv, which
 * the exporter waits for before reusing memory": a move does not copy
 * until the device's write in flight has signalled
 */
static void test_vram_move_waits_for_fences(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct in_flight fl;
	struct dma_buf *buf;
	pthread_t t;

	*state = f;
	assert_int_equal(dml_vram_dma_buf_export(f->ssd, 0, VRAM_OFF, VRAM_LEN,
						 &buf), 0);
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_BIDIRECTIONAL, &fl.imp), 0);
	device_writes(f, fl.imp, VRAM_LEN, 4);
	assert_int_equal(dml_dma_fence_create(&fl.fence), 0);
	dma_resv_lock(buf->resv, NULL);
	assert_int_equal(dma_resv_reserve_fences(buf->resv, 1), 0);
	assert_int_equal(dma_resv_add_fence(buf->resv, fl.fence,
					    DMA_RESV_USAGE_BOOKKEEP), 0);
	dma_resv_unlock(buf->resv);
	assert_int_equal(pthread_create(&t, NULL, dma_finishes, &fl), 0);
	assert_int_equal(dml_vram_dma_buf_migrate(buf, false), 0);
	assert_true(dma_fence_is_signaled(fl.fence));
	pthread_join(t, NULL);
	device_finds(f, fl.imp, VRAM_LEN, 4);
	dma_fence_put(fl.fence);
	dml_dma_buf_importer_destroy(fl.imp);
	dma_buf_put(buf);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_teardown(test_system_heap, fxp_teardown),
	cmocka_unit_test_teardown(test_system_heap_non_coherent, fxp_teardown),
	cmocka_unit_test_teardown(test_ram_no_memmap, fxp_teardown),
	cmocka_unit_test_teardown(test_vram_move_keeps_data, fxp_teardown),
	cmocka_unit_test_teardown(test_vram_placement_rules, fxp_teardown),
	cmocka_unit_test_teardown(test_vram_move_waits_for_fences, fxp_teardown),
};

DML_TEST_MAIN(tests)
