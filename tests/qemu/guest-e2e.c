/* SPDX-License-Identifier: MIT */
/*
 * guest-e2e.c - the end-to-end test program run inside the QEMU guest
 * (tests/qemu/run.sh builds it statically as dml-e2e): the vfio backend
 * driving QEMU's edu devices for real DMA through the emulated VT-d, the
 * shared behaviour tests (tests/shared/shared.c, also run on the emulated
 * platform), and what only VFIO has: a mapping made before a group joins,
 * errno propagation, config space, BARs, reset, peer-to-peer into
 * ivshmem's BAR2 with a host-side check.
 *
 * Devices come from the environment tests/qemu/init sets: DML_EDU0,
 * DML_EDU1, DML_IVSHMEM, DML_NVME (PCI addresses).  Faults are read from
 * the guest kernel's log (/dev/kmsg): intel-iommu prints a "DMAR: [DMA
 * Write ...] ... fault addr ..." line for each fault it is told about.
 *
 * edu: edu.h.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <dmalink/vfio.h>

#include "edu.h"
#include "shared.h"
#include "nvme/nvme.h"
#include "vfio/vfio.h"

#define TP 4096UL

static struct edu edus[2];

static int edu_read(struct dml_tenv *e, struct dml_tdev *t, dma_addr_t addr,
		    unsigned int off, unsigned int len)
{
	/* strictly inside the buffer: QEMU 7.2 aborts on one ending at its end */
	if (!len || off + len >= e->buf_len)
		return -EINVAL;
	return edu_dma(t->priv, (u64)addr, EDU_BUF + off, len, false);
}

static int edu_write(struct dml_tenv *e, struct dml_tdev *t, unsigned int off,
		     dma_addr_t addr, unsigned int len)
{
	if (!len || off + len >= e->buf_len)
		return -EINVAL;
	return edu_dma(t->priv, EDU_BUF + off, (u64)addr, len, true);
}

/* ---- memory: anonymous pages; phys_addr_t is their virtual address ---- */

static int vfio_mem_alloc(struct dml_tenv *e, size_t len, struct dml_tmem *m)
{
	size_t sz = (len + TP - 1) & ~(TP - 1);
	void *p;

	(void)e;
	p = mmap(NULL, sz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	m->cpu = p;
	m->phys = (phys_addr_t)(uintptr_t)p;
	m->len = sz;
	return 0;
}

static void vfio_mem_free(struct dml_tenv *e, struct dml_tmem *m)
{
	(void)e;
	munmap(m->cpu, m->len);
}

/* ---- the guest kernel's DMAR fault lines ---- */

static int kmsg_fd = -1;
static u64 dmar_faults;
static char last_fault[256] = "none";

static void kmsg_drain(void)
{
	char rec[1024], *msg, *nl;
	ssize_t n;

	if (kmsg_fd < 0)
		return;
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overrun: records were lost, go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		if (strstr(msg, "DMAR: [DMA ")) {
			dmar_faults++;
			snprintf(last_fault, sizeof(last_fault), "%.200s", msg);
		}
	}
}

static u64 vfio_fault_count(struct dml_tenv *e)
{
	(void)e;
	kmsg_drain();
	return dmar_faults;
}

static void vfio_fault_text(struct dml_tenv *e, char *buf, size_t len)
{
	(void)e;
	snprintf(buf, len, "%s", last_fault);
}

/* the host compares these bytes with its ivshmem file after power-off */
static void vfio_p2p_written(struct dml_tenv *e, size_t off, const void *bytes,
			     size_t len)
{
	const unsigned char *b = bytes;
	size_t i;

	(void)e;
	printf("@@dml host-check shm %zu ", off);
	for (i = 0; i < len; i++)
		printf("%02x", b[i]);
	printf(" P2P bytes at ivshmem BAR2+%#zx are in the host's backing file\n", off);
	fflush(stdout);
}

/* ---- device setup ---- */

static int open_edu(struct dml_tenv *e, const char *bdf, unsigned int i)
{
	int ret = edu_open(e->p, bdf, &e->dev[i].dev, &edus[i]);

	if (ret)
		return ret;
	e->dev[i].read = edu_read;
	e->dev[i].write = edu_write;
	e->dev[i].priv = &edus[i];
	return 0;
}

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 29 + i * 7 + (i >> 8));
}

/* ---- VFIO-only tests ---- */

static void test_registers(struct dml_tenv *e)
{
	struct edu *d = e->dev[0].priv;
	struct dml_vfio_region r;
	void *unused;
	bool ok = true;
	u32 v;

	CHECK_EQ(dml_vfio_region_info(e->dev[0].dev, DML_VFIO_BAR(0), &r), 0);
	CHECK_EQ(r.size, 1 << 20);
	CHECK(r.flags & DML_VFIO_REGION_MMAP);
	CHECK_EQ(rd32(d->bar, EDU_ID) & 0xffff, 0xed);
	wr32(d->bar, EDU_CHECK, 0x12345678);
	CHECK_EQ(rd32(d->bar, EDU_CHECK), ~0x12345678u);	/* liveness */
	v = 0;
	CHECK_EQ(dml_vfio_region_read(e->dev[0].dev, DML_VFIO_BAR(0), EDU_ID, &v, 4), 0);
	CHECK_EQ(v & 0xffff, 0xed);
	v = 0;
	CHECK_EQ(dml_vfio_config_read(e->dev[0].dev, 0x04, &v, 2), 0);
	CHECK((v & 0x6) == 0x6);			/* memory + bus master */
	CHECK_EQ(dml_vfio_bar_map(e->dev[0].dev, 6, &unused, NULL), -EINVAL);
	CHECK_EQ(dml_vfio_bar_map(e->dev[0].dev, 1, &unused, NULL), -ENXIO);
out:
	tap_result(ok, "edu: config space ids, BAR0 mmap (id, liveness), region read, bus master");
}

static void test_iova_window(struct dml_tenv *e)
{
	struct dml_vfio_iova_range r[16];
	struct dml_vfio_stats st;
	unsigned int nr = 0, i;
	bool ok = true;

	CHECK_EQ(dml_vfio_iova_ranges(e->p, r, 16, &nr), 0);
	CHECK(nr >= 1);
	for (i = 0; i < nr; i++) {
		tap_diag("valid IOVA [%#llx, %#llx]", (unsigned long long)r[i].start,
			 (unsigned long long)r[i].last);
		/* the MSI window is a reserved region: never valid */
		CHECK(r[i].last < 0xfee00000ULL || r[i].start > 0xfeefffffULL);
	}
	CHECK_EQ(dml_vfio_iova_ranges(e->p, r, 0, &nr), -ENOSPC);
	CHECK_EQ(dml_vfio_get_stats(e->p, &st), 0);
	tap_diag("IOMMU page sizes %#llx, mappings allowed %llu",
		 (unsigned long long)st.pgsizes, (unsigned long long)st.dma_avail);
	CHECK(st.pgsizes & TP);
out:
	tap_result(ok, "the container's valid IOVA ranges exclude the MSI window");
}

/*
 * A mapping made before a device's group joins is reached by that device:
 * the container, not the device, owns mappings (type1 replays them into
 * each group it attaches).
 */
static void test_map_before_attach(struct dml_tenv *e, const char *bdf1)
{
	struct dml_tmem m = { 0 };
	dma_addr_t a = DMA_MAPPING_ERROR;
	struct dml_device *d0 = e->dev[0].dev;
	bool ok = true;
	int ret;

	CHECK_EQ(vfio_mem_alloc(e, TP, &m), 0);
	fill(m.cpu, TP, 5);
	a = dma_map_phys(d0, m.phys, TP, DMA_BIDIRECTIONAL, 0);
	CHECK(!dma_mapping_error(d0, a));
	ret = open_edu(e, bdf1, 1);
	CHECK_EQ(ret, 0);
	CHECK_EQ(e->dev[1].read(e, &e->dev[1], a, 0, 1024), 0);
	CHECK_EQ(e->dev[1].write(e, &e->dev[1], 0, a + 2048, 1024), 0);
	CHECK(!memcmp(m.cpu + 2048, m.cpu, 1024));
out:
	if (a != DMA_MAPPING_ERROR)
		dma_unmap_phys(d0, a, TP, DMA_BIDIRECTIONAL, 0);
	if (m.len)
		vfio_mem_free(e, &m);
	tap_result(ok, "a mapping made before the second device's group joined is reached by that device");
}

/* a failing ioctl's errno reaches the caller; nothing is left mapped */
static void test_errno(struct dml_tenv *e)
{
	struct dml_device *dev = e->dev[0].dev;
	struct dma_iova_state st = { 0 };
	struct dml_vfio_stats s0, s1;
	struct dml_tmem m = { 0 }, hole = { 0 };
	size_t linked = 0;
	bool ok = true;
	int ret;

	CHECK_EQ(vfio_mem_alloc(e, 2 * TP, &m), 0);
	CHECK_EQ(vfio_mem_alloc(e, TP, &hole), 0);
	vfio_mem_free(e, &hole);	/* an address nothing backs */
	CHECK(dma_iova_try_alloc(dev, &st, 0, 2 * TP));
	CHECK_EQ(dml_vfio_get_stats(e->p, &s0), 0);

	/* VFIO cannot pin unmapped memory: MAP_DMA fails with EFAULT */
	ret = dma_iova_link(dev, &st, hole.phys, 0, TP, DMA_BIDIRECTIONAL, 0);
	CHECK_EQ(ret, -EFAULT);
	CHECK_EQ(dml_vfio_get_stats(e->p, &s1), 0);
	CHECK_EQ(s1.mappings, s0.mappings);
	CHECK_EQ(s1.ioctl_errors, s0.ioctl_errors + 1);

	/* an injected failure of the ioctl (style C11) */
	dml_fail_nth(1);
	ret = dma_iova_link(dev, &st, m.phys, 0, TP, DMA_BIDIRECTIONAL, 0);
	CHECK(dml_fail_nth_hit());
	dml_fail_nth(0);
	CHECK_EQ(ret, -ENOMEM);
	CHECK_EQ(dml_vfio_get_stats(e->p, &s1), 0);
	CHECK_EQ(s1.mappings, s0.mappings);

	/* and the same link then works, as does the DMA through it */
	CHECK_EQ(dma_iova_link(dev, &st, m.phys, 0, 2 * TP, DMA_BIDIRECTIONAL, 0), 0);
	linked = 2 * TP;
	CHECK_EQ(dma_iova_sync(dev, &st, 0, 2 * TP), 0);
	CHECK_EQ(dml_vfio_get_stats(e->p, &s1), 0);
	CHECK_EQ(s1.mappings, s0.mappings + 1);
	fill(m.cpu, TP, 9);
	CHECK_EQ(e->dev[0].read(e, &e->dev[0], st.addr, 0, 1024), 0);
	CHECK_EQ(e->dev[0].write(e, &e->dev[0], 0, st.addr + TP, 1024), 0);
	CHECK(!memcmp(m.cpu + TP, m.cpu, 1024));
out:
	dml_fail_nth(0);
	if (dma_use_iova(&st))
		dma_iova_destroy(dev, &st, linked, DMA_BIDIRECTIONAL, 0);
	if (m.len)
		vfio_mem_free(e, &m);
	tap_result(ok, "VFIO_IOMMU_MAP_DMA errors reach the caller (-EFAULT, injected -ENOMEM); nothing is left mapped");
}

/*
 * Open @bdf with the n-th allocation or ioctl failing, n = 1, 2, ... until
 * it succeeds (style C11): every failure is a clean error that leaves no
 * device behind, and the retry works.  Return: 0, or the first wrong
 * result.
 */
static int open_sweep(struct dml_tenv *e, const char *bdf, struct dml_device **out)
{
	struct dml_device *d;
	long n;
	int ret;
	bool hit;

	for (n = 1; n < 100; n++) {
		d = NULL;
		dml_fail_nth(n);
		ret = dml_vfio_device_open(e->p, bdf, &d);
		hit = dml_fail_nth_hit();
		dml_fail_nth(0);
		if (!hit) {
			tap_diag("open %s: %ld failure points, each a clean error", bdf, n - 1);
			*out = d;
			return ret;
		}
		if (!ret || d) {
			tap_diag("open %s with failure %ld injected returned %d", bdf, n, ret);
			dml_device_destroy(d);
			return -EPROTO;
		}
	}
	return -ELOOP;
}

/* dma_map_sg failing at each step: nothing stays mapped, then it works */
static void test_sg_sweep(struct dml_tenv *e)
{
	struct dml_device *dev = e->dev[0].dev;
	struct dml_tmem m[3] = { 0 };
	struct scatterlist sg[3];
	struct dml_vfio_stats s0, s1;
	int i, nents = 0;
	long n;
	bool ok = true, hit = true;

	for (i = 0; i < 3; i++)
		CHECK_EQ(vfio_mem_alloc(e, TP, &m[i]), 0);
	CHECK_EQ(dml_vfio_get_stats(e->p, &s0), 0);
	for (n = 1; hit && n < 100; n++) {
		sg_init_table(sg, 3);
		for (i = 0; i < 3; i++)
			sg_set_phys(&sg[i], m[i].phys, TP);
		dml_fail_nth(n);
		nents = dma_map_sg(dev, sg, 3, DMA_BIDIRECTIONAL);
		hit = dml_fail_nth_hit();
		dml_fail_nth(0);
		CHECK_EQ(dml_vfio_get_stats(e->p, &s1), 0);
		if (hit) {
			CHECK_EQ(nents, 0);
			CHECK_EQ(s1.mappings, s0.mappings);
		}
	}
	tap_diag("dma_map_sg: %ld failure points", n - 2);
	CHECK_EQ(nents, 1);
	CHECK_EQ(s1.mappings, s0.mappings + 3);
	dma_unmap_sg(dev, sg, 3, DMA_BIDIRECTIONAL);
	nents = 0;
out:
	dml_fail_nth(0);
	if (nents > 0)
		dma_unmap_sg(dev, sg, 3, DMA_BIDIRECTIONAL);
	for (i = 0; i < 3; i++)
		if (m[i].len)
			vfio_mem_free(e, &m[i]);
	tap_result(ok, "dma_map_sg with each allocation or MAP_DMA failing in turn: no mapping left behind");
}

static void test_nvme(struct dml_tenv *e, const char *bdf)
{
	struct dml_device *nvme = NULL, *other = NULL;
	volatile unsigned char *bar;
	void *p;
	u64 size, cap;
	u32 vs;
	u16 cmd;
	bool ok = true;
	int ret;

	if (!bdf) {
		tap_skip("no NVMe device", "nvme: BAR0 registers and reset");
		return;
	}
	CHECK_EQ(open_sweep(e, bdf, &nvme), 0);
	CHECK_EQ(dml_vfio_device_open(e->p, bdf, &other), -EBUSY);
	CHECK_EQ(dml_vfio_bar_map(nvme, 0, &p, &size), 0);
	bar = p;
	cap = *(volatile u64 *)(bar + 0x0);
	vs = *(volatile u32 *)(bar + 0x8);
	tap_diag("nvme %s: BAR0 %#llx bytes, CAP %#llx, VS %#x", bdf,
		 (unsigned long long)size, (unsigned long long)cap, vs);
	CHECK(cap != 0 && cap != ~0ULL);
	CHECK(vs >= 0x10000 && vs != ~0u);	/* NVMe 1.0 or later */
	CHECK_EQ(dml_vfio_set_bus_master(nvme, true), 0);
	ret = dml_vfio_reset(nvme);
	tap_diag("nvme reset: %d", ret);
	CHECK_EQ(ret, 0);
	CHECK_EQ(dml_vfio_config_read(nvme, 0x04, &cmd, 2), 0);
	tap_diag("nvme command register after reset: %#x", cmd);
	/* the registers are there again after the reset */
	CHECK_EQ(*(volatile u32 *)(bar + 0x8), vs);
out:
	dml_device_destroy(nvme);
	tap_result(ok, "nvme: open (failing each step in turn, then for real; a second open is -EBUSY), BAR0 CAP/VS through the mmap, VFIO_DEVICE_RESET");
}

/*
 * the user-space NVMe driver (src/nvme) on QEMU's controller through VFIO:
 * reset and enable, identify, two I/O queue pairs, 8 blocks written from
 * one queue and read back on the other with the bytes compared, and a
 * read past the namespace's end completed with LBA Out of Range
 */
static void test_nvme_driver(struct dml_tenv *e, const char *bdf)
{
	struct dml_device *dev = NULL;
	struct dml_nvme_ctrl *ctrl = NULL;
	struct dml_nvme_bar bar;
	struct dml_tmem m = { 0 };
	dma_addr_t dma = DMA_MAPPING_ERROR;
	struct nvme_completion cqe;
	struct nvme_command c;
	unsigned char *src, *dst;
	bool ok = true;
	unsigned int i;

	if (!bdf) {
		tap_skip("no NVMe device", "nvme driver: bring-up, identify, write and read back");
		return;
	}
	CHECK_EQ(dml_vfio_device_open(e->p, bdf, &dev), 0);
	CHECK_EQ(dml__vfio_nvme_bar(dev, &bar), 0);
	CHECK_EQ(dml__nvme_ctrl_create(dev, &bar, &ctrl), 0);
	CHECK_EQ(dml__nvme_identify(ctrl), 0);
	tap_diag("nvme driver: %u namespace(s), ns1 %llu blocks of %u bytes, max transfer %u, SGL %d",
		 ctrl->nn, (unsigned long long)ctrl->nsze, 1u << ctrl->lba_shift,
		 ctrl->max_xfer, ctrl->sgl);
	CHECK(ctrl->nsze >= 2 * TP >> ctrl->lba_shift);
	CHECK_EQ(dml__nvme_create_io_queues(ctrl, 2, 32), 0);
	CHECK_EQ(vfio_mem_alloc(e, 2 * TP, &m), 0);
	dma = dma_map_phys(dev, m.phys, 2 * TP, DMA_BIDIRECTIONAL, 0);
	CHECK(!dma_mapping_error(dev, dma));
	src = m.cpu;
	dst = src + TP;
	for (i = 0; i < TP; i++)
		src[i] = (unsigned char)(i * 13 + 7);
	memset(dst, 0, TP);
	c = (struct nvme_command){ .opcode = nvme_cmd_write, .nsid = 1,
		.cdw12 = (u32)(TP >> ctrl->lba_shift) - 1 };
	c.dptr.prp1 = dma;
	CHECK_EQ(dml__nvme_submit_wait(ctrl, 1, &c, &cqe), 0);
	c.opcode = nvme_cmd_read;
	c.dptr.prp1 = dma + TP;
	CHECK_EQ(dml__nvme_submit_wait(ctrl, 2, &c, &cqe), 0);
	CHECK(!memcmp(src, dst, TP));
	c.cdw10 = (u32)ctrl->nsze;
	CHECK_EQ(dml__nvme_submit_wait(ctrl, 2, &c, &cqe), -EIO);
	tap_diag("nvme driver: read past the end: status %#x", cqe.status >> 1);
	CHECK_EQ(NVME_STATUS_SC(cqe.status >> 1), NVME_SC_LBA_RANGE);
out:
	if (dma != DMA_MAPPING_ERROR && !dma_mapping_error(dev, dma))
		dma_unmap_phys(dev, dma, 2 * TP, DMA_BIDIRECTIONAL, 0);
	if (m.cpu)
		vfio_mem_free(e, &m);
	dml__nvme_ctrl_destroy(ctrl);
	dml_device_destroy(dev);
	tap_result(ok, "nvme driver: reset and enable, identify, two I/O queue pairs, 8 blocks written and read back through VFIO, LBA Out of Range surfaced");
}

static void test_edu_reset(struct dml_tenv *e)
{
	int ret = dml_vfio_reset(e->dev[1].dev);

	tap_diag("edu reset: %d", ret);
	tap_result(ret == 0 || ret == -ENOTTY,
		   "edu reset: 0, or -ENOTTY when VFIO has no reset method for it");
}

static void test_leaks(struct dml_tenv *e)
{
	struct dml_vfio_stats st;
	bool ok = true;

	CHECK_EQ(dml_vfio_get_stats(e->p, &st), 0);
	tap_diag("%llu MAP_DMA, %llu UNMAP_DMA, %llu failed ioctls, %llu mappings left",
		 (unsigned long long)st.map_calls, (unsigned long long)st.unmap_calls,
		 (unsigned long long)st.ioctl_errors, (unsigned long long)st.mappings);
	CHECK_EQ(st.mappings, 0);
	CHECK_EQ(st.mapped_bytes, 0);
out:
	tap_result(ok, "every mapping the tests made is gone");
}

int main(void)
{
	const char *edu0 = getenv("DML_EDU0"), *edu1 = getenv("DML_EDU1");
	const char *ivshmem = getenv("DML_IVSHMEM"), *nvme = getenv("DML_NVME");
	struct dml_device *shm = NULL;
	struct dml_tenv e = {
		.backend = "vfio",
		.mask_bits = 28,
		.buf_len = EDU_BUF_LEN,
		.mem_alloc = vfio_mem_alloc,
		.mem_free = vfio_mem_free,
		.fault_count = vfio_fault_count,
		.fault_text = vfio_fault_text,
		.p2p_written = vfio_p2p_written,
	};
	int ret;

	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	kmsg_drain();
	dmar_faults = 0;

	ret = dml_platform_create_vfio(NULL, &e.p);
	tap_result(!ret, "dml_platform_create_vfio (%d)", ret);
	if (ret)
		return tap_done();
	ret = edu0 ? open_edu(&e, edu0, 0) : -ENODEV;
	tap_result(!ret, "open edu %s, 28-bit mask, bus master (%d)", edu0 ? edu0 : "(none)", ret);
	if (ret)
		goto out;
	test_registers(&e);
	test_iova_window(&e);
	if (edu1)
		test_map_before_attach(&e, edu1);
	else
		tap_skip("one edu only", "a mapping made before a group joins");

	if (ivshmem) {
		void *bar2;
		u64 len;

		ret = dml_vfio_device_open(e.p, ivshmem, &shm);
		if (!ret)
			ret = dml_vfio_bar_map(shm, 2, &bar2, &len);
		tap_result(!ret, "open ivshmem %s and mmap BAR2 (%d)", ivshmem, ret);
		if (!ret) {
			e.p2p.phys = (phys_addr_t)(uintptr_t)bar2;
			e.p2p.cpu = bar2;
			e.p2p.len = len;
		}
	}

	dml_shared_run(&e);

	test_errno(&e);
	test_sg_sweep(&e);
	test_nvme(&e, nvme);
	test_nvme_driver(&e, nvme);
	if (e.dev[1].dev)
		test_edu_reset(&e);
	test_leaks(&e);
out:
	dml_platform_destroy(e.p);
	return tap_done();
}
