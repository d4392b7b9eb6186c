/* SPDX-License-Identifier: MIT */
/*
 * shared.c - the DMA behaviours both backends must share, as tests over a
 * struct dml_tenv (shared.h), plus the small TAP printer they use.
 *
 * Each test allocates what it needs, checks with CHECK*, and undoes
 * everything at `out:` whatever happened, so a failing test does not leave
 * mappings behind that would disturb the next one.  Device transfers stay
 * inside the first 3 KiB of the device buffer (QEMU 7.2's edu aborts on a
 * transfer that ends exactly at the end of its 4 KiB buffer), and every
 * transfer that must fault is small: the guest kernel rate-limits its
 * DMAR messages (10 per 5 s) and QEMU collapses faults of one source.
 *
 * References are to shared/reference/kernel-dma-semantics.md ("ref §N")
 * and include/dmalink/dma-mapping.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shared.h"

#define TP 4096UL	/* test page: the granule on both backends */

/* ---- TAP ---- */

static int tap_n, tap_failed;

void tap_result(bool ok, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!ok)
		tap_failed++;
	printf("%sok %d - ", ok ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void tap_skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("ok %d - ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
	fflush(stdout);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int tap_done(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

/* ---- helpers ---- */

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 37 + i * 13 + (i >> 8));
}

static bool all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void mem_free(struct dml_tenv *e, struct dml_tmem *m)
{
	if (m->len)
		e->mem_free(e, m);
	memset(m, 0, sizeof(*m));
}

bool dml_shared_wait_fault(struct dml_tenv *e, u64 before)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 200; i++) {
		if (e->fault_count(e) > before)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static void diag_fault(struct dml_tenv *e)
{
	char line[256] = "";

	if (e->fault_text)
		e->fault_text(e, line, sizeof(line));
	tap_diag("%s fault: %s", e->backend, line);
}

/*
 * Put @len known bytes (fill(seed)) into the device buffer at @off through
 * a scratch TO_DEVICE mapping made with dma_map_phys().
 */
static int load_device(struct dml_tenv *e, struct dml_tdev *t, unsigned int off,
		       unsigned int len, unsigned int seed)
{
	struct dml_tmem m;
	dma_addr_t a;
	int ret;

	ret = e->mem_alloc(e, TP, &m);
	if (ret)
		return ret;
	fill(m.cpu, len, seed);
	a = dma_map_phys(t->dev, m.phys, len, DMA_TO_DEVICE, 0);
	if (dma_mapping_error(t->dev, a)) {
		mem_free(e, &m);
		return -ENOMEM;
	}
	ret = t->read(e, t, a, off, len);
	dma_unmap_phys(t->dev, a, len, DMA_TO_DEVICE, 0);
	mem_free(e, &m);
	return ret;
}

/* ---- (a) two-step over separately allocated ranges ---- */

static void test_two_step_ranges(struct dml_tenv *e)
{
	struct dml_tdev *t = &e->dev[0];
	struct dml_device *dev = t->dev;
	struct dma_iova_state st = { 0 };
	struct dml_tmem m[4] = { 0 }, gap[4] = { 0 };
	unsigned char want[3000];
	size_t linked = 0;
	bool ok = true;
	int i;

	for (i = 0; i < 4; i++) {
		CHECK_EQ(e->mem_alloc(e, TP, &m[i]), 0);
		/* keep the ranges apart in the backend's address space */
		CHECK_EQ(e->mem_alloc(e, TP, &gap[i]), 0);
		fill(m[i].cpu, TP, (unsigned int)i + 1);
	}
	memcpy(want, m[0].cpu + TP - 1500, 1500);
	memcpy(want + 1500, m[1].cpu, 1500);

	CHECK(dma_iova_try_alloc(dev, &st, m[0].phys, 4 * TP));
	CHECK(dma_use_iova(&st));
	CHECK_EQ(dma_iova_size(&st), 4 * TP);
	CHECK(st.addr + 4 * TP - 1 <= DMA_BIT_MASK(e->mask_bits));
	for (i = 0; i < 4; i++) {
		CHECK_EQ(dma_iova_link(dev, &st, m[i].phys, i * TP, TP,
				       DMA_BIDIRECTIONAL, 0), 0);
		linked += TP;
	}
	CHECK_EQ(dma_iova_sync(dev, &st, 0, linked), 0);

	/* memory -> device across the range 0/1 boundary, back across 2/3 */
	CHECK_EQ(t->read(e, t, st.addr + TP - 1500, 0, 3000), 0);
	CHECK_EQ(t->write(e, t, 0, st.addr + 3 * TP - 1500, 3000), 0);
	CHECK(!memcmp(m[2].cpu + TP - 1500, want, 1500));
	CHECK(!memcmp(m[3].cpu, want + 1500, 1500));
	/* and nothing else moved */
	fill(gap[0].cpu, TP, 3);
	CHECK(!memcmp(m[2].cpu, gap[0].cpu, TP - 1500));
	fill(gap[0].cpu, TP, 4);
	CHECK(!memcmp(m[3].cpu + 1500, gap[0].cpu + 1500, TP - 1500));
out:
	if (dma_use_iova(&st))
		dma_iova_destroy(dev, &st, linked, DMA_BIDIRECTIONAL, 0);
	for (i = 0; i < 4; i++) {
		mem_free(e, &m[i]);
		mem_free(e, &gap[i]);
	}
	tap_result(ok, "two-step: 4 separate ranges, one link each, one sync; the device copies across range boundaries");
}

/* ---- (b) unlink revokes ---- */

static void test_unlink_revokes(struct dml_tenv *e)
{
	struct dml_tdev *t = &e->dev[0];
	struct dml_device *dev = t->dev;
	struct dma_iova_state st = { 0 };
	struct dml_tmem m[2] = { 0 };
	unsigned char want[2048];
	size_t linked = 0;
	bool ok = true;
	u64 before;

	CHECK_EQ(e->mem_alloc(e, TP, &m[0]), 0);
	CHECK_EQ(e->mem_alloc(e, TP, &m[1]), 0);
	fill(m[0].cpu, TP, 11);
	memcpy(want, m[0].cpu, sizeof(want));
	CHECK(dma_iova_try_alloc(dev, &st, 0, 2 * TP));
	CHECK_EQ(dma_iova_link(dev, &st, m[0].phys, 0, TP, DMA_BIDIRECTIONAL, 0), 0);
	linked = TP;
	CHECK_EQ(dma_iova_link(dev, &st, m[1].phys, TP, TP, DMA_BIDIRECTIONAL, 0), 0);
	linked = 2 * TP;
	CHECK_EQ(dma_iova_sync(dev, &st, 0, 2 * TP), 0);

	/* linked: the device's write lands */
	CHECK_EQ(t->read(e, t, st.addr, 0, 2048), 0);
	CHECK_EQ(t->write(e, t, 0, st.addr + TP, 2048), 0);
	CHECK(!memcmp(m[1].cpu, want, 2048));

	/* unlinked: it does not, and the IOMMU reports a fault */
	memset(m[1].cpu, 0x5a, TP);
	CHECK_EQ(dma_iova_unlink(dev, &st, TP, TP, DMA_BIDIRECTIONAL, 0), 0);
	linked = TP;
	before = e->fault_count(e);
	t->write(e, t, 0, st.addr + TP, 64);
	CHECK(all_bytes(m[1].cpu, TP, 0x5a));
	CHECK(dml_shared_wait_fault(e, before));
	diag_fault(e);

	/* the other link still works */
	CHECK_EQ(t->write(e, t, 0, st.addr + 2048, 1024), 0);
	CHECK(!memcmp(m[0].cpu + 2048, want, 1024));
out:
	if (dma_use_iova(&st))
		dma_iova_destroy(dev, &st, linked, DMA_BIDIRECTIONAL, 0);
	mem_free(e, &m[0]);
	mem_free(e, &m[1]);
	tap_result(ok, "unlink revokes: a device write to an unlinked IOVA faults and leaves memory unchanged");
}

/* ---- unlink then relink at once: no stale translation ---- */

static void test_relink(struct dml_tenv *e)
{
	struct dml_tdev *t = &e->dev[0];
	struct dml_device *dev = t->dev;
	struct dma_iova_state st = { 0 };
	struct dml_tmem m[2] = { 0 };
	unsigned char want[2048];
	size_t linked = 0;
	bool ok = true;

	CHECK_EQ(e->mem_alloc(e, TP, &m[0]), 0);
	CHECK_EQ(e->mem_alloc(e, TP, &m[1]), 0);
	memset(m[0].cpu, 0x11, TP);
	memset(m[1].cpu, 0x22, TP);
	CHECK_EQ(load_device(e, t, 0, 2048, 21), 0);
	fill(want, sizeof(want), 21);

	CHECK(dma_iova_try_alloc(dev, &st, 0, TP));
	CHECK_EQ(dma_iova_link(dev, &st, m[0].phys, 0, TP, DMA_BIDIRECTIONAL, 0), 0);
	linked = TP;
	CHECK_EQ(dma_iova_sync(dev, &st, 0, TP), 0);
	CHECK_EQ(t->write(e, t, 0, st.addr, 16), 0);	/* warms any IOTLB */
	CHECK(!memcmp(m[0].cpu, want, 16));
	CHECK_EQ(dma_iova_unlink(dev, &st, 0, TP, DMA_BIDIRECTIONAL, 0), 0);
	linked = 0;
	CHECK_EQ(dma_iova_link(dev, &st, m[1].phys, 0, TP, DMA_BIDIRECTIONAL, 0), 0);
	linked = TP;
	CHECK_EQ(dma_iova_sync(dev, &st, 0, TP), 0);
	CHECK_EQ(t->write(e, t, 0, st.addr, 2048), 0);
	CHECK(!memcmp(m[1].cpu, want, 2048));
	CHECK(all_bytes(m[0].cpu + 16, TP - 16, 0x11));
out:
	if (dma_use_iova(&st))
		dma_iova_destroy(dev, &st, linked, DMA_BIDIRECTIONAL, 0);
	mem_free(e, &m[0]);
	mem_free(e, &m[1]);
	tap_result(ok, "unlink then relink at the same offset: the device reaches the new memory, never the old");
}

/* ---- (c) the DMA mask, exhaustion and the dma_map_phys fallback ---- */

static void test_mask_and_fallback(struct dml_tenv *e)
{
	const size_t chunk = 16 * TP;
	struct dml_tdev *t = &e->dev[0];
	struct dml_device *dev = t->dev;
	u64 max = DMA_BIT_MASK(e->mask_bits);
	size_t cap = (size_t)((max + 1) / chunk) + 64, n = 0, i;
	struct dma_iova_state *s = calloc(cap, sizeof(*s));
	struct dma_iova_state big = { .addr = 1, .__size = 1 };
	struct dml_tmem m[3] = { 0 };
	dma_addr_t a[3] = { DMA_MAPPING_ERROR, DMA_MAPPING_ERROR, DMA_MAPPING_ERROR };
	unsigned char want[2048];
	bool ok = true;

	CHECK(s);
	CHECK_EQ(dma_get_mask(dev), max);
	/* reserve the whole window in 64 KiB pieces: all below the mask */
	while (n < cap && dma_iova_try_alloc(dev, &s[n], 0, chunk)) {
		CHECK(s[n].addr + chunk - 1 <= max);
		n++;
	}
	tap_diag("%s: %zu reservations of 64 KiB below %#llx", e->backend, n,
		 (unsigned long long)max);
	CHECK(n < cap);
	CHECK(n >= (max + 1) / chunk / 2);
	/* free every other one: plenty of IOVA left, but no 256 KiB run */
	for (i = 1; i < n; i += 2)
		dma_iova_free(dev, &s[i]);
	CHECK(!dma_iova_try_alloc(dev, &big, 0, 4 * chunk));
	CHECK(!dma_use_iova(&big));		/* zeroed even on failure */
	CHECK_EQ(big.addr, 0);

	/* the fallback (ref §1.4 step 3): dma_map_phys per range */
	for (i = 0; i < 3; i++) {
		CHECK_EQ(e->mem_alloc(e, TP, &m[i]), 0);
		fill(m[i].cpu, TP, 30 + (unsigned int)i);
		a[i] = dma_map_phys(dev, m[i].phys, TP, DMA_BIDIRECTIONAL, 0);
		CHECK(!dma_mapping_error(dev, a[i]));
		CHECK(a[i] + TP - 1 <= max);
	}
	memcpy(want, m[0].cpu, sizeof(want));
	CHECK_EQ(t->read(e, t, a[0], 0, 2048), 0);
	CHECK_EQ(t->write(e, t, 0, a[2], 2048), 0);
	CHECK(!memcmp(m[2].cpu, want, 2048));
out:
	for (i = 0; i < 3; i++) {
		if (a[i] != DMA_MAPPING_ERROR)
			dma_unmap_phys(dev, a[i], TP, DMA_BIDIRECTIONAL, 0);
		mem_free(e, &m[i]);
	}
	for (i = 0; i < n; i += 2)
		dma_iova_free(dev, &s[i]);
	free(s);
	tap_result(ok, "DMA mask %u bits: every IOVA below it; a full window makes dma_iova_try_alloc fail and dma_map_phys still works",
		   e->mask_bits);
}

/* ---- (d) direction ---- */

static void test_direction(struct dml_tenv *e)
{
	struct dml_tdev *t = &e->dev[0];
	struct dml_device *dev = t->dev;
	struct dma_iova_state to = { 0 }, from = { 0 };
	size_t to_len = 0, from_len = 0;
	struct dml_tmem m[3] = { 0 };
	unsigned char keep[2 * TP];
	dma_addr_t a = DMA_MAPPING_ERROR;
	bool ok = true;
	u64 before;
	int i;

	CHECK_EQ(e->mem_alloc(e, 2 * TP, &m[0]), 0);
	CHECK_EQ(e->mem_alloc(e, TP, &m[1]), 0);
	CHECK_EQ(e->mem_alloc(e, TP, &m[2]), 0);
	fill(m[0].cpu, 2 * TP, 41);
	memcpy(keep, m[0].cpu, 2 * TP);

	/* TO_DEVICE: the device may read ... */
	CHECK(dma_iova_try_alloc(dev, &to, 0, 2 * TP));
	CHECK_EQ(dma_iova_link(dev, &to, m[0].phys, 0, 2 * TP, DMA_TO_DEVICE, 0), 0);
	to_len = 2 * TP;
	CHECK_EQ(dma_iova_sync(dev, &to, 0, 2 * TP), 0);
	CHECK_EQ(t->read(e, t, to.addr, 0, 2048), 0);
	a = dma_map_phys(dev, m[1].phys, TP, DMA_FROM_DEVICE, 0);
	CHECK(!dma_mapping_error(dev, a));
	CHECK_EQ(t->write(e, t, 0, a, 2048), 0);
	CHECK(!memcmp(m[1].cpu, keep, 2048));

	/*
	 * ... but not write.  The write goes to the second page, which the
	 * device never read: QEMU's VT-d denies a write that hits a read-only
	 * IOTLB entry without logging a fault, and only a page walk reports.
	 */
	CHECK_EQ(load_device(e, t, 0, 64, 42), 0);
	before = e->fault_count(e);
	t->write(e, t, 0, to.addr + TP + 1024, 64);
	CHECK(!memcmp(m[0].cpu, keep, 2 * TP));
	CHECK(dml_shared_wait_fault(e, before));
	diag_fault(e);

	/* FROM_DEVICE: the device may write */
	CHECK(dma_iova_try_alloc(dev, &from, 0, TP));
	CHECK_EQ(dma_iova_link(dev, &from, m[2].phys, 0, TP, DMA_FROM_DEVICE, 0), 0);
	from_len = TP;
	CHECK_EQ(dma_iova_sync(dev, &from, 0, TP), 0);
	CHECK_EQ(t->write(e, t, 0, from.addr + 100, 64), 0);
	fill(keep, 64, 42);
	CHECK(!memcmp(m[2].cpu + 100, keep, 64));
out:
	if (a != DMA_MAPPING_ERROR)
		dma_unmap_phys(dev, a, TP, DMA_FROM_DEVICE, 0);
	if (dma_use_iova(&to))
		dma_iova_destroy(dev, &to, to_len, DMA_TO_DEVICE, 0);
	if (dma_use_iova(&from))
		dma_iova_destroy(dev, &from, from_len, DMA_FROM_DEVICE, 0);
	for (i = 0; i < 3; i++)
		mem_free(e, &m[i]);
	tap_result(ok, "direction: a TO_DEVICE link refuses a device write (fault, memory unchanged); FROM_DEVICE takes one");
}

/* ---- (f) two devices, each with its own IOVA state ---- */

static void test_two_devices(struct dml_tenv *e)
{
	struct dml_tdev *t0 = &e->dev[0], *t1 = &e->dev[1];
	struct dma_iova_state s0 = { 0 }, s1 = { 0 };
	size_t l0 = 0, l1 = 0;
	struct dml_tmem m0 = { 0 }, m1 = { 0 };
	unsigned char want0[1024], want1[1024];
	bool ok = true;
	u64 before;

	if (!t1->dev) {
		tap_skip("one device only", "two devices, each with its own IOVA state");
		return;
	}
	CHECK_EQ(e->mem_alloc(e, TP, &m0), 0);
	CHECK_EQ(e->mem_alloc(e, TP, &m1), 0);
	fill(m0.cpu, TP, 51);
	fill(m1.cpu, TP, 52);
	memcpy(want0, m0.cpu, sizeof(want0));
	memcpy(want1, m1.cpu, sizeof(want1));

	CHECK(dma_iova_try_alloc(t0->dev, &s0, 0, TP));
	CHECK(dma_iova_try_alloc(t1->dev, &s1, 0, TP));
	CHECK_EQ(dma_iova_link(t0->dev, &s0, m0.phys, 0, TP, DMA_BIDIRECTIONAL, 0), 0);
	l0 = TP;
	CHECK_EQ(dma_iova_link(t1->dev, &s1, m1.phys, 0, TP, DMA_BIDIRECTIONAL, 0), 0);
	l1 = TP;
	CHECK_EQ(dma_iova_sync(t0->dev, &s0, 0, TP), 0);
	CHECK_EQ(dma_iova_sync(t1->dev, &s1, 0, TP), 0);

	/* each device copies the first KiB of its buffer to offset 2 KiB */
	CHECK_EQ(t0->read(e, t0, s0.addr, 0, 1024), 0);
	CHECK_EQ(t1->read(e, t1, s1.addr, 0, 1024), 0);
	CHECK_EQ(t0->write(e, t0, 0, s0.addr + 2048, 1024), 0);
	CHECK_EQ(t1->write(e, t1, 0, s1.addr + 2048, 1024), 0);
	CHECK(!memcmp(m0.cpu + 2048, want0, 1024));
	CHECK(!memcmp(m1.cpu + 2048, want1, 1024));

	/* destroying device 0's state leaves device 1's alone */
	dma_iova_destroy(t0->dev, &s0, l0, DMA_BIDIRECTIONAL, 0);
	l0 = 0;
	memset(m1.cpu + 2048, 0, 1024);
	CHECK_EQ(t1->write(e, t1, 0, s1.addr + 2048, 1024), 0);
	CHECK(!memcmp(m1.cpu + 2048, want1, 1024));

	/* and device 0 has lost its mapping */
	memset(m0.cpu, 0x77, TP);
	before = e->fault_count(e);
	t0->write(e, t0, 0, s0.addr, 64);
	CHECK(all_bytes(m0.cpu, TP, 0x77));
	CHECK(dml_shared_wait_fault(e, before));
out:
	if (l0 && dma_use_iova(&s0))
		dma_iova_destroy(t0->dev, &s0, l0, DMA_BIDIRECTIONAL, 0);
	if (dma_use_iova(&s1))
		dma_iova_destroy(t1->dev, &s1, l1, DMA_BIDIRECTIONAL, 0);
	mem_free(e, &m0);
	mem_free(e, &m1);
	tap_result(ok, "two devices, each with its own IOVA state: destroying one leaves the other working");
}

/* ---- (g) error paths, each followed by DMA that must still work ---- */

static void test_errors(struct dml_tenv *e)
{
	struct dml_tdev *t = &e->dev[0];
	struct dml_device *dev = t->dev;
	struct dma_iova_state st = { 0 }, gone = { 0 }, zero = { .addr = 1, .__size = 1 };
	struct dml_tmem a = { 0 }, b = { 0 }, c = { 0 };
	bool a_linked = false, b_linked = false;
	unsigned char want[2048];
	bool ok = true;
	int ret;

	CHECK_EQ(e->mem_alloc(e, TP, &a), 0);
	CHECK_EQ(e->mem_alloc(e, 2 * TP, &b), 0);
	CHECK_EQ(e->mem_alloc(e, TP, &c), 0);
	fill(a.cpu, TP, 61);
	memcpy(want, a.cpu, sizeof(want));

	/* try_alloc of nothing: false, state zeroed (ref §1.3) */
	CHECK(!dma_iova_try_alloc(dev, &zero, 0, 0));
	CHECK(!dma_use_iova(&zero));

	/* [A: 0..1P) [hole: 1P..2P) [B: 2P..4P) */
	CHECK(dma_iova_try_alloc(dev, &st, 0, 4 * TP));
	CHECK_EQ(dma_iova_link(dev, &st, a.phys, 0, TP, DMA_BIDIRECTIONAL, 0), 0);
	a_linked = true;
	CHECK_EQ(dma_iova_link(dev, &st, b.phys, 2 * TP, 2 * TP, DMA_BIDIRECTIONAL, 0), 0);
	b_linked = true;
	CHECK_EQ(dma_iova_sync(dev, &st, 0, 4 * TP), 0);

	/* unlink of what was never linked, of half a link, across a hole */
	CHECK_EQ(dma_iova_unlink(dev, &st, TP, TP, DMA_BIDIRECTIONAL, 0), -ENOENT);
	CHECK_EQ(dma_iova_unlink(dev, &st, 2 * TP, TP, DMA_BIDIRECTIONAL, 0), -ENOENT);
	CHECK_EQ(dma_iova_unlink(dev, &st, 0, 4 * TP, DMA_BIDIRECTIONAL, 0), -ENOENT);
	/* link beyond the reservation, across its end, over a link */
	CHECK_EQ(dma_iova_link(dev, &st, c.phys, 4 * TP, TP, DMA_BIDIRECTIONAL, 0), -EINVAL);
	CHECK_EQ(dma_iova_link(dev, &st, c.phys, 3 * TP, 2 * TP, DMA_BIDIRECTIONAL, 0), -EINVAL);
	CHECK_EQ(dma_iova_link(dev, &st, c.phys, 0, TP, DMA_BIDIRECTIONAL, 0), -EEXIST);
	/* an unaligned phys anywhere but offset 0 */
	CHECK_EQ(dma_iova_link(dev, &st, c.phys + 8, TP, 64, DMA_BIDIRECTIONAL, 0), -EIO);
	/* sync outside the reservation */
	CHECK_EQ(dma_iova_sync(dev, &st, 4 * TP, TP), -EINVAL);
	/* link after free */
	CHECK(dma_iova_try_alloc(dev, &gone, 0, TP));
	dma_iova_free(dev, &gone);
	ret = dma_iova_link(dev, &gone, c.phys, 0, TP, DMA_BIDIRECTIONAL, 0);
	if (!ret)	/* mapped freed IOVA: undo it before it hurts others */
		dma_iova_unlink(dev, &gone, 0, TP, DMA_BIDIRECTIONAL, 0);
	CHECK_EQ(ret, -EINVAL);

	/* A and B are untouched: copy A's first 2 KiB across B's two pages */
	CHECK_EQ(t->read(e, t, st.addr, 0, 2048), 0);
	CHECK_EQ(t->write(e, t, 0, st.addr + 3 * TP - 1024, 2048), 0);
	CHECK(!memcmp(b.cpu + TP - 1024, want, 2048));

	/* whole links unlink */
	CHECK_EQ(dma_iova_unlink(dev, &st, 2 * TP, 2 * TP, DMA_BIDIRECTIONAL, 0), 0);
	b_linked = false;
	CHECK_EQ(dma_iova_unlink(dev, &st, 0, TP, DMA_BIDIRECTIONAL, 0), 0);
	a_linked = false;
out:
	if (dma_use_iova(&st)) {
		if (b_linked)
			dma_iova_unlink(dev, &st, 2 * TP, 2 * TP, DMA_BIDIRECTIONAL, 0);
		if (a_linked)
			dma_iova_unlink(dev, &st, 0, TP, DMA_BIDIRECTIONAL, 0);
		dma_iova_free(dev, &st);
	}
	mem_free(e, &a);
	mem_free(e, &b);
	mem_free(e, &c);
	tap_result(ok, "errors: unlink of unlinked/half/holey ranges -ENOENT, link beyond -EINVAL, over a link -EEXIST, after free -EINVAL; other links keep working");
}

/* ---- dma_map_phys at a sub-page offset ---- */

static void test_map_phys(struct dml_tenv *e)
{
	struct dml_tdev *t = &e->dev[0];
	struct dml_device *dev = t->dev;
	struct dml_tmem m[2] = { 0 };
	dma_addr_t a = DMA_MAPPING_ERROR, b = DMA_MAPPING_ERROR;
	bool ok = true;

	CHECK_EQ(e->mem_alloc(e, 2 * TP, &m[0]), 0);
	CHECK_EQ(e->mem_alloc(e, 2 * TP, &m[1]), 0);
	fill(m[0].cpu, 2 * TP, 71);
	a = dma_map_phys(dev, m[0].phys + 3000, 3000, DMA_TO_DEVICE, 0);
	CHECK(!dma_mapping_error(dev, a));
	CHECK_EQ(a % TP, 3000);			/* the offset is kept */
	b = dma_map_phys(dev, m[1].phys + 200, 3000, DMA_FROM_DEVICE, 0);
	CHECK(!dma_mapping_error(dev, b));
	CHECK_EQ(b % TP, 200);
	CHECK_EQ(t->read(e, t, a, 0, 3000), 0);	/* crosses a page */
	CHECK_EQ(t->write(e, t, 0, b, 3000), 0);
	CHECK(!memcmp(m[1].cpu + 200, m[0].cpu + 3000, 3000));
	CHECK(all_bytes(m[1].cpu, 200, 0));
	CHECK(all_bytes(m[1].cpu + 3200, 2 * TP - 3200, 0));
out:
	if (a != DMA_MAPPING_ERROR)
		dma_unmap_phys(dev, a, 3000, DMA_TO_DEVICE, 0);
	if (b != DMA_MAPPING_ERROR)
		dma_unmap_phys(dev, b, 3000, DMA_FROM_DEVICE, 0);
	mem_free(e, &m[0]);
	mem_free(e, &m[1]);
	tap_result(ok, "dma_map_phys at sub-page offsets: the device reads and writes exactly those bytes");
}

/* ---- dma_map_sg: one IOVA range, merged into one DMA segment ---- */

static void test_map_sg(struct dml_tenv *e)
{
	struct dml_tdev *t = &e->dev[0];
	struct dml_device *dev = t->dev;
	struct dml_tmem m[3] = { 0 }, gap[3] = { 0 };
	struct scatterlist sg[3];
	unsigned char want[3000];
	int i, n = 0;
	bool ok = true;

	for (i = 0; i < 3; i++) {
		CHECK_EQ(e->mem_alloc(e, TP, &m[i]), 0);
		CHECK_EQ(e->mem_alloc(e, TP, &gap[i]), 0);	/* keep apart */
		fill(m[i].cpu, TP, 81 + (unsigned int)i);
	}
	memcpy(want, m[0].cpu + TP - 1500, 1500);
	memcpy(want + 1500, m[1].cpu, 1500);
	sg_init_table(sg, 3);
	for (i = 0; i < 3; i++)
		sg_set_phys(&sg[i], m[i].phys, TP);
	n = dma_map_sg(dev, sg, 3, DMA_BIDIRECTIONAL);
	CHECK_EQ(n, 1);		/* granule-aligned entries merge (ref §1.2) */
	CHECK_EQ(sg_dma_len(&sg[0]), 3 * TP);
	CHECK_EQ(t->read(e, t, sg_dma_address(&sg[0]) + TP - 1500, 0, 3000), 0);
	CHECK_EQ(t->write(e, t, 0, sg_dma_address(&sg[0]) + 2 * TP - 1500, 3000), 0);
	CHECK(!memcmp(m[1].cpu + TP - 1500, want, 1500));
	CHECK(!memcmp(m[2].cpu, want + 1500, 1500));
out:
	if (n > 0)
		dma_unmap_sg(dev, sg, 3, DMA_BIDIRECTIONAL);
	for (i = 0; i < 3; i++) {
		mem_free(e, &m[i]);
		mem_free(e, &gap[i]);
	}
	tap_result(ok, "dma_map_sg: 3 separate pages become one DMA segment the device crosses");
}

/* ---- (e) peer-to-peer through the host bridge ---- */

static void test_p2p(struct dml_tenv *e)
{
	struct dml_tdev *t = &e->dev[0];
	struct dml_device *dev = t->dev;
	struct dma_iova_state st = { 0 };
	size_t linked = 0, len = 64 * 1024;
	dma_addr_t r = DMA_MAPPING_ERROR;
	unsigned char want[64];
	bool ok = true;

	if (!e->p2p.len) {
		tap_skip("no peer BAR", "P2P: a device writes into another device's BAR");
		return;
	}
	if (len > e->p2p.len)
		len = e->p2p.len;
	fill(want, sizeof(want), 91);
	CHECK_EQ(load_device(e, t, 0, 64, 91), 0);

	/* two-step: link the BAR with DMA_ATTR_MMIO (ref §1.5) */
	memset(e->p2p.cpu + 0x100, 0, 64);
	CHECK(dma_iova_try_alloc(dev, &st, e->p2p.phys, len));
	CHECK_EQ(dma_iova_link(dev, &st, e->p2p.phys, 0, len, DMA_BIDIRECTIONAL,
			       DMA_ATTR_MMIO), 0);
	linked = len;
	CHECK_EQ(dma_iova_sync(dev, &st, 0, len), 0);
	CHECK_EQ(t->write(e, t, 0, st.addr + 0x100, 64), 0);
	CHECK(!memcmp(e->p2p.cpu + 0x100, want, 64));
	if (e->p2p_written)
		e->p2p_written(e, 0x100, want, 64);

	/* single mapping: dma_map_resource */
	memset(e->p2p.cpu + 0x300, 0, 64);
	r = dma_map_resource(dev, e->p2p.phys + 0x300, 64, DMA_FROM_DEVICE, 0);
	CHECK(!dma_mapping_error(dev, r));
	CHECK_EQ(r % TP, 0x300);
	CHECK_EQ(t->write(e, t, 0, r, 64), 0);
	CHECK(!memcmp(e->p2p.cpu + 0x300, want, 64));
	if (e->p2p_written)
		e->p2p_written(e, 0x300, want, 64);
out:
	if (r != DMA_MAPPING_ERROR)
		dma_unmap_resource(dev, r, 64, DMA_FROM_DEVICE, 0);
	if (dma_use_iova(&st))
		dma_iova_destroy(dev, &st, linked, DMA_BIDIRECTIONAL, DMA_ATTR_MMIO);
	tap_result(ok, "P2P: the device writes into a peer BAR linked with DMA_ATTR_MMIO and mapped with dma_map_resource");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void dml_shared_run(struct dml_tenv *e)
{
	static void (*const tests[])(struct dml_tenv *) = {
		test_two_step_ranges,
		test_unlink_revokes,
		test_relink,
		test_direction,
		test_two_devices,
		test_errors,
		test_map_phys,
		test_map_sg,
		test_mask_and_fallback,
		test_p2p,
	};
	unsigned int i;
	double t;

	tap_diag("shared DMA behaviour tests on the %s backend", e->backend);
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		t = now_s();
		tests[i](e);
		tap_diag("%.2f s", now_s() - t);
	}
}
