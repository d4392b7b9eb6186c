/* SPDX-License-Identifier: MIT */
/*
 * guest-p2p.c - PCI peer-to-peer on real devices in the QEMU guest
 * (tests/qemu/run.sh builds it as dml-p2p): the vfio backend's mirror of
 * the guest's topology (a PCIe switch: TI X3130 upstream port and XIO3130
 * downstream ports below a root port, devices behind it and on the root
 * bus), its ACS reading checked against the IOMMU groups the guest kernel
 * formed, and every (client, provider BAR) pair classified as the kernel
 * does: the pairs the classification allows move bytes from edu into
 * ivshmem's BAR2 through the vIOMMU, checked in the BAR and by the host in
 * its backing file; the pairs it refuses are refused with -EREMOTEIO
 * before any mapping or DMA.  Where the host bridge passes peer traffic,
 * ivshmem's BAR2 is also exported as a dma-buf and imported for edu
 * (test_dmabuf), and revoked across a VFIO_DEVICE_RESET of ivshmem
 * (test_dmabuf_reset: ivshmem sits alone below a root port of its own, so
 * the guest kernel resets it with a secondary bus reset).
 *
 * Environment (tests/qemu/init): DML_EDU0 (root bus), DML_EDU1 (behind
 * the switch), DML_IVSHMEM (below its own root port), DML_NVME (behind
 * the switch), and
 * DML_P2P_HOST: "allowed" or "refused", what the host chose the guest CPU
 * for (an AMD Zen CPU lets the root complex pass peer traffic,
 * cpu_supports_p2pdma(); QEMU's q35 host bridge is on no whitelist).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <dmalink/dma-buf.h>
#include <dmalink/pci-p2pdma.h>
#include <dmalink/vfio.h>

#include "edu.h"
#include "shared.h"

#define TP 4096UL
#define NR_DEVS 4
#define P2P_LEN 256UL		/* bytes edu writes into the BAR per pair */
#define P2P_OFF 0x10000UL		/* where, in ivshmem's BAR2 (shared tests use 0x100-0x3ff) */
#define PCI_COMMAND		0x04	/* config space: the command register */
#define PCI_COMMAND_MEMORY	0x2	/* its memory decode bit */

/* an opened device of the guest */
struct gdev {
	const char *env;	/* its variable */
	const char *bdf;
	struct dml_device *dev;
	struct edu edu;		/* edu: BAR0 mapped, can DMA */
	bool is_edu;
	int bar;		/* its provider BAR (memory peers may use), -1: none */
	void *bar_cpu;
	u64 bar_len;
};

static struct gdev gd[NR_DEVS] = {
	{ .env = "DML_EDU0", .is_edu = true, .bar = -1 },
	{ .env = "DML_EDU1", .is_edu = true, .bar = -1 },
	{ .env = "DML_IVSHMEM", .bar = 2 },
	{ .env = "DML_NVME", .bar = -1 },
};

static const char *map_str(enum pci_p2pdma_map_type map)
{
	switch (map) {
	case PCI_P2PDMA_MAP_BUS_ADDR: return "bus-addr";
	case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE: return "host-bridge";
	case PCI_P2PDMA_MAP_NOT_SUPPORTED: return "not-supported";
	case PCI_P2PDMA_MAP_NONE: return "none";
	default: return "unknown";
	}
}

static struct dml_pci_dev *up(struct dml_pci_dev *pdev)
{
	struct dml_pci_info in;

	dml_pci_get_info(pdev, &in);
	return in.parent;
}

/* ---- 1. the topology the vfio backend read ---- */

static void test_topology(struct dml_platform *p)
{
	static const struct {
		enum dml_pci_type type;
		u16 vendor, device;
	} chain[] = {
		{ DML_PCI_SWITCH_DOWN, 0x104c, 0x8233 },	/* xio3130-downstream */
		{ DML_PCI_SWITCH_UP, 0x104c, 0x8232 },		/* x3130-upstream */
		{ DML_PCI_ROOT_PORT, 0x1b36, 0x000c },		/* pcie-root-port */
		{ DML_PCI_HOST_BRIDGE, 0x8086, 0x29c0 },	/* q35 MCH at 00.0 */
	};
	struct dml_pci_dev *pdev, *o, *sw_up = NULL;
	struct dml_pci_info in;
	unsigned int i, k;
	bool ok = true;

	for (pdev = dml_pci_walk(p, NULL); pdev; pdev = dml_pci_walk(p, pdev)) {
		char acs[16];

		dml_pci_get_info(pdev, &in);
		if (in.acs_cap)
			snprintf(acs, sizeof(acs), "%#x", in.acs_ctrl);
		else
			snprintf(acs, sizeof(acs), "-");
		tap_diag("%*s%s [%04x:%04x] type %d, ACS %s%s", 2 * (int)in.depth, "",
			 in.bdf, in.vendor, in.device, in.type, acs, in.dev ? ", opened" : "");
	}
	for (i = 0; i < NR_DEVS; i++) {
		CHECK(gd[i].dev);
		pdev = dml_pci_dev_of(gd[i].dev);
		CHECK(pdev);
		dml_pci_get_info(pdev, &in);
		CHECK(!strcmp(in.bdf, gd[i].bdf));
		CHECK_EQ(in.type, DML_PCI_ENDPOINT);
		CHECK(in.dev == gd[i].dev);
	}
	/* edu0 on the root bus, ivshmem alone below a root port on it */
	dml_pci_get_info(up(dml_pci_dev_of(gd[0].dev)), &in);
	CHECK_EQ(in.type, DML_PCI_HOST_BRIDGE);
	pdev = up(dml_pci_dev_of(gd[2].dev));
	dml_pci_get_info(pdev, &in);
	CHECK_EQ(in.type, chain[2].type);
	CHECK_EQ(in.vendor, chain[2].vendor);
	CHECK_EQ(in.device, chain[2].device);
	CHECK_EQ(up(pdev), up(dml_pci_dev_of(gd[0].dev)));
	for (o = dml_pci_walk(p, NULL); o; o = dml_pci_walk(p, o))
		CHECK(o == dml_pci_dev_of(gd[2].dev) || up(o) != pdev);
	/* edu1 and nvme behind the switch, each below its downstream port */
	for (k = 1; k < NR_DEVS; k += 2) {
		pdev = up(dml_pci_dev_of(gd[k].dev));
		for (i = 0; i < sizeof(chain) / sizeof(chain[0]); i++, pdev = up(pdev)) {
			CHECK(pdev);
			dml_pci_get_info(pdev, &in);
			CHECK_EQ(in.type, chain[i].type);
			CHECK_EQ(in.vendor, chain[i].vendor);
			CHECK_EQ(in.device, chain[i].device);
			if (i == 1 && !sw_up)
				sw_up = pdev;
			if (i == 1)
				CHECK(pdev == sw_up);	/* one switch */
		}
		CHECK(!pdev);
	}
	CHECK(up(dml_pci_dev_of(gd[1].dev)) != up(dml_pci_dev_of(gd[3].dev)));
out:
	tap_result(ok, "the vfio backend's topology is the guest's: edu0 on the root bus, ivshmem alone below a root port, edu1 and nvme each below a downstream port of one X3130 switch below another root port");
}

/* ---- 2. ACS against the guest's IOMMU groups ---- */

#define ACS_REQ (PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF)

/* another function in @pdev's slot: the device is multi-function */
static bool multifunction(struct dml_platform *p, struct dml_pci_dev *pdev)
{
	struct dml_pci_info a, b;
	struct dml_pci_dev *o;

	dml_pci_get_info(pdev, &a);
	for (o = dml_pci_walk(p, NULL); o; o = dml_pci_walk(p, o)) {
		dml_pci_get_info(o, &b);
		if (o != pdev && b.type != DML_PCI_HOST_BRIDGE && b.domain == a.domain &&
		    b.bus == a.bus && b.devfn >> 3 == a.devfn >> 3)
			return true;
	}
	return false;
}

/*
 * pci_acs_enabled(pdev, REQ_ACS_FLAGS) (drivers/pci/pci.c): ports must
 * have the flags on; endpoints and upstream ports only when multi-function
 */
static bool acs_enabled(struct dml_platform *p, struct dml_pci_dev *pdev)
{
	struct dml_pci_info in;

	dml_pci_get_info(pdev, &in);
	if (in.type == DML_PCI_ROOT_PORT || in.type == DML_PCI_SWITCH_DOWN ||
	    multifunction(p, pdev))
		return in.acs_cap && (in.acs_ctrl & ACS_REQ) == ACS_REQ;
	return true;
}

/* pci_acs_path_enabled(start, NULL, REQ_ACS_FLAGS) */
static bool acs_path_enabled(struct dml_platform *p, struct dml_pci_dev *pdev)
{
	struct dml_pci_info in;

	for (; pdev; pdev = in.parent) {
		dml_pci_get_info(pdev, &in);
		if (in.type == DML_PCI_HOST_BRIDGE)
			return true;
		if (!acs_enabled(p, pdev))
			return false;
	}
	return true;
}

/*
 * The IOMMU group the kernel's pci_device_group() (drivers/iommu/iommu.c)
 * gives @pdev, from dmalink's reading of ACS: the group of the first
 * bridge above whose path up is not isolated by ACS, else the function's
 * own, shared by the functions of its slot when it is multi-function
 * without ACS.  Return: a key, equal for functions of one group.
 */
static unsigned long group_key(struct dml_platform *p, struct dml_pci_dev *pdev)
{
	struct dml_pci_dev *b = up(pdev);
	struct dml_pci_info in;

	dml_pci_get_info(b, &in);
	if (in.type != DML_PCI_HOST_BRIDGE && !acs_path_enabled(p, b))
		return group_key(p, b);
	dml_pci_get_info(pdev, &in);
	if (multifunction(p, pdev) && !acs_enabled(p, pdev))
		return 1ul << 32 | (unsigned long)in.domain << 16 | in.bus << 8 | (in.devfn & ~7u);
	return 2ul << 32 | (unsigned long)in.domain << 16 | in.bus << 8 | in.devfn;
}

/* the guest kernel's group of @bdf, -1 if none */
static int kernel_group(const char *bdf)
{
	char path[128], link[PATH_MAX];
	ssize_t n;
	char *s;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = 0;
	s = strrchr(link, '/');
	return atoi(s ? s + 1 : link);
}

static void test_groups(struct dml_platform *p)
{
	struct dml_pci_dev *a, *b, *ports[2];
	struct dml_pci_info ia, ib;
	unsigned int pairs = 0, shared = 0;
	bool ok = true;
	int i;

	/* the root port isolates (the kernel enabled ACS with an IOMMU on) */
	ports[0] = up(up(up(dml_pci_dev_of(gd[1].dev))));
	ports[1] = up(dml_pci_dev_of(gd[1].dev));
	dml_pci_get_info(ports[0], &ia);
	CHECK(ia.acs_cap);
	CHECK((ia.acs_ctrl & ACS_REQ) == ACS_REQ);
	dml_pci_get_info(ports[1], &ib);
	tap_diag("root port %s ACS %#x; downstream port %s %s ACS (%#x)", ia.bdf,
		 ia.acs_ctrl, ib.bdf, ib.acs_cap ? "has" : "has no", ib.acs_ctrl);

	/* every pair of endpoints: same group as dmalink's ACS says iff the kernel's */
	for (a = dml_pci_walk(p, NULL); a; a = dml_pci_walk(p, a)) {
		dml_pci_get_info(a, &ia);
		if (ia.type != DML_PCI_ENDPOINT || kernel_group(ia.bdf) < 0)
			continue;
		for (b = dml_pci_walk(p, a); b; b = dml_pci_walk(p, b)) {
			bool mine, kern;

			dml_pci_get_info(b, &ib);
			if (ib.type != DML_PCI_ENDPOINT || kernel_group(ib.bdf) < 0)
				continue;
			mine = group_key(p, a) == group_key(p, b);
			kern = kernel_group(ia.bdf) == kernel_group(ib.bdf);
			pairs++;
			shared += kern;
			if (mine != kern) {
				tap_diag("%s and %s: dmalink's ACS says %s group, the kernel's groups %d and %d",
					 ia.bdf, ib.bdf, mine ? "one" : "separate",
					 kernel_group(ia.bdf), kernel_group(ib.bdf));
				ok = false;
			}
		}
	}
	for (i = 0; i < NR_DEVS; i++)
		tap_diag("%s %s: IOMMU group %d", gd[i].env, gd[i].bdf, kernel_group(gd[i].bdf));
	tap_diag("%u endpoint pairs compared, %u of them sharing a group", pairs, shared);
	CHECK(pairs >= 6);
out:
	tap_result(ok, "dmalink's ACS reading agrees with the guest's IOMMU groups for every pair of endpoints");
}

/* ---- 3. every (client, provider BAR) pair ---- */

/*
 * Map @len bytes at @phys for @dev as the kernel's callers of
 * pci_p2pdma_state() do (block/blk-mq-dma.c, drivers/nvme/host/pci.c):
 * a bus address for BUS_ADDR, DMA_ATTR_MMIO through the IOMMU for
 * THRU_HOST_BRIDGE, -EREMOTEIO for a peer the fabric cannot reach.
 */
static int p2p_map(struct dml_device *dev, struct pci_p2pdma_map_state *st,
		   phys_addr_t phys, size_t len, dma_addr_t *out)
{
	unsigned long attrs = 0;

	switch (pci_p2pdma_state(st, dev, phys)) {
	case PCI_P2PDMA_MAP_BUS_ADDR:
		*out = pci_p2pdma_bus_addr_map(st->mem, phys);
		return 0;
	case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
		attrs = DMA_ATTR_MMIO;
		/* fall through */
	case PCI_P2PDMA_MAP_NONE:
		*out = dma_map_phys(dev, phys, len, DMA_BIDIRECTIONAL, attrs);
		return dma_mapping_error(dev, *out) ? -EIO : 0;
	default:
		return -EREMOTEIO;
	}
}

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 41 + i * 3 + (i >> 5));
}

/*
 * edu @c writes @len (at most a page) bytes of fill(@seed) to @dst through
 * its buffer, from RAM it maps for the read; the bytes go to @want
 */
static int edu_put(struct gdev *c, dma_addr_t dst, size_t len, unsigned int seed,
		   unsigned char *want)
{
	dma_addr_t src;
	void *ram;
	int ret;

	ram = mmap(NULL, TP, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (ram == MAP_FAILED)
		return -ENOMEM;
	fill(want, len, seed);
	memcpy(ram, want, len);
	src = dma_map_phys(c->dev, (phys_addr_t)(uintptr_t)ram, TP, DMA_TO_DEVICE, 0);
	ret = dma_mapping_error(c->dev, src) ? -EIO : 0;
	if (!ret)
		ret = edu_dma(&c->edu, src, EDU_BUF, (u32)len, false);
	if (!ret)
		ret = edu_dma(&c->edu, EDU_BUF, dst, (u32)len, true);
	if (!dma_mapping_error(c->dev, src))
		dma_unmap_phys(c->dev, src, TP, DMA_TO_DEVICE, 0);
	munmap(ram, TP);
	return ret;
}

/* do the @len bytes at @off of ivshmem's BAR2 read @want? */
static bool bar_holds(struct gdev *prov, unsigned long off,
		      const unsigned char *want, size_t len)
{
	volatile unsigned char *bar = prov->bar_cpu;
	size_t i;

	for (i = 0; i < len; i++)
		if (bar[off + i] != want[i])
			return false;
	return true;
}

/* ask the host to find @want at @off of the ivshmem backing file */
static void host_check(unsigned long off, const unsigned char *want, size_t len,
		       const char *what)
{
	size_t i;

	printf("@@dml host-check shm %lu ", off);
	for (i = 0; i < len; i++)
		printf("%02x", want[i]);
	printf(" %s at ivshmem BAR2+%#lx is in the host's backing file\n", what, off);
	fflush(stdout);
}

/* edu @c writes P2P_LEN bytes into the BAR of @prov through @map */
static void dma_pair(struct gdev *c, struct gdev *prov, unsigned int n, bool *okp)
{
	struct pci_p2pdma_map_state st = { 0 };
	volatile unsigned char *bar = prov->bar_cpu;
	unsigned long off = P2P_OFF + n * P2P_LEN;
	phys_addr_t phys = (phys_addr_t)(uintptr_t)prov->bar_cpu + off;
	dma_addr_t dst = DMA_MAPPING_ERROR;
	unsigned char want[P2P_LEN];
	char what[64];
	bool ok = true;
	size_t i;

	for (i = 0; i < P2P_LEN; i++)
		bar[off + i] = 0;
	CHECK_EQ(p2p_map(c->dev, &st, phys, P2P_LEN, &dst), 0);
	CHECK_EQ(edu_put(c, dst, P2P_LEN, n + 1, want), 0);
	CHECK(bar_holds(prov, off, want, P2P_LEN));
	snprintf(what, sizeof(what), "P2P from %s (%s)", c->bdf, c->env);
	host_check(off, want, P2P_LEN, what);
out:
	if (dst != DMA_MAPPING_ERROR && st.map == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE)
		dma_unmap_phys(c->dev, dst, P2P_LEN, DMA_BIDIRECTIONAL, DMA_ATTR_MMIO);
	*okp = *okp && ok;
}

/* the pair is refused before anything is mapped, the BAR untouched */
static void refuse_pair(struct dml_platform *p, struct gdev *c, struct gdev *prov,
			unsigned int n, bool *okp)
{
	struct pci_p2pdma_map_state st = { 0 };
	volatile unsigned char *bar = prov->bar_cpu;
	phys_addr_t phys = (phys_addr_t)(uintptr_t)prov->bar_cpu + P2P_OFF + n * P2P_LEN;
	struct dml_vfio_stats s0, s1;
	dma_addr_t dst = DMA_MAPPING_ERROR;
	bool ok = true;
	size_t i;

	for (i = 0; i < P2P_LEN; i++)
		bar[P2P_OFF + n * P2P_LEN + i] = 0xa5;
	CHECK_EQ(dml_vfio_get_stats(p, &s0), 0);
	CHECK_EQ(p2p_map(c->dev, &st, phys, P2P_LEN, &dst), -EREMOTEIO);
	CHECK_EQ(st.map, PCI_P2PDMA_MAP_NOT_SUPPORTED);
	CHECK_EQ(dml_vfio_get_stats(p, &s1), 0);
	CHECK_EQ(s1.map_calls, s0.map_calls);	/* nothing was mapped */
	for (i = 0; i < P2P_LEN; i++)
		CHECK_EQ(bar[P2P_OFF + n * P2P_LEN + i], 0xa5);
out:
	*okp = *okp && ok;
}

/* the start of BAR @bar in sysfs "resource" (x86: bus address = CPU address) */
static u64 sysfs_bar_start(const char *bdf, int bar)
{
	unsigned long long start = 0, end, flags;
	char path[128], line[128];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	for (i = 0; f && i <= bar && fgets(line, sizeof(line), f); i++)
		if (i == bar && sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3)
			start = 0;
	if (f)
		fclose(f);
	return start;
}

static void test_pairs(struct dml_platform *p, const char *host)
{
	bool want_allowed = host && !strcmp(host, "allowed");
	unsigned int i, j, n = 0, moved = 0, refused = 0;
	bool ok = true;

	if (!host || (strcmp(host, "allowed") && strcmp(host, "refused"))) {
		tap_result(false, "DML_P2P_HOST is allowed or refused (it is %s)", host ? host : "unset");
		return;
	}
	for (j = 0; j < NR_DEVS; j++) {
		struct dml_pci_dev *pp = dml_pci_dev_of(gd[j].dev);
		struct p2pdma_provider *prov;

		if (gd[j].bar < 0)
			continue;
		CHECK_EQ(pcim_p2pdma_init(pp), 0);
		prov = pcim_p2pdma_provider(pp, gd[j].bar);
		CHECK(prov);
		CHECK_EQ(prov->phys, (phys_addr_t)(uintptr_t)gd[j].bar_cpu);
		CHECK_EQ(prov->size, gd[j].bar_len);
		tap_diag("provider %s BAR%d: mapped at %#llx, bus address %#llx", gd[j].bdf,
			 gd[j].bar, (unsigned long long)prov->phys,
			 (unsigned long long)(prov->phys + prov->bus_offset));
		/* the bus address is where the guest kernel put the BAR */
		CHECK_EQ(prov->phys + prov->bus_offset, sysfs_bar_start(gd[j].bdf, gd[j].bar));
		for (i = 0; i < NR_DEVS; i++) {
			enum pci_p2pdma_map_type map = pci_p2pdma_map_type(prov, gd[i].dev);
			int dist = pci_p2pdma_distance(pp, gd[i].dev, true);

			tap_diag("  client %s (%s): %s, distance %d", gd[i].bdf, gd[i].env,
				 map_str(map), dist);
			if (i == j) {
				CHECK_EQ(map, PCI_P2PDMA_MAP_BUS_ADDR);	/* itself */
				CHECK_EQ(dist, 0);
				continue;
			}
			/* no switch in common: through the host bridge, or not at all */
			CHECK_EQ(map, want_allowed ? PCI_P2PDMA_MAP_THRU_HOST_BRIDGE :
				      PCI_P2PDMA_MAP_NOT_SUPPORTED);
			if (!gd[i].is_edu)
				continue;	/* only edu does DMA on request */
			if (map == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE) {
				dma_pair(&gd[i], &gd[j], n++, &ok);
				moved++;
			} else {
				refuse_pair(p, &gd[i], &gd[j], n++, &ok);
				refused++;
			}
		}
	}
	tap_diag("%u pairs moved bytes through the host bridge, %u refused", moved, refused);
	CHECK_EQ(moved + refused, 2);
out:
	tap_result(ok, "every edu/ivshmem pair: %s (the CPU the host chose)",
		   want_allowed ? "host-bridge P2P through the vIOMMU, bytes checked in the BAR" :
		   "refused with -EREMOTEIO before any mapping or DMA");
}

/* ---- ivshmem's BAR exported as a dma-buf, edu the importer ---- */

#define DB_OFF	0x20000UL	/* the two exported pages: BAR2 + DB_OFF, + 2 pages */
#define DB_LEN	256UL		/* bytes edu writes across the two ranges' seam */

/*
 * A PAL importer (the proposed physical-address-list mapping type): it
 * maps the exporter's ranges itself, one IOVA reservation with each range
 * linked behind the last (MMIO through the host bridge), and drops the
 * mapping when told, without mapping again until it is used.
 */
struct pal_imp {
	struct dml_device *dev;
	struct dma_buf_attachment *a;
	struct dma_buf_phys_list *pl;	/* NULL: nothing mapped */
	struct dma_iova_state st;
	unsigned int invalidations;
};

/* reservation lock held */
static void pal_unmap(struct pal_imp *im)
{
	if (!im->pl)
		return;
	if (dma_use_iova(&im->st))
		dma_iova_destroy(im->dev, &im->st, im->pl->length,
				 DMA_BIDIRECTIONAL, DMA_ATTR_MMIO);
	memset(&im->st, 0, sizeof(im->st));
	dma_buf_unmap_phys(im->a, im->pl);
	im->pl = NULL;
}

static void pal_invalidate(struct dma_buf_attachment *a)
{
	struct pal_imp *im = a->importer_priv;

	im->invalidations++;
	pal_unmap(im);
}

static const struct dma_buf_attach_ops pal_ops = {
	.allow_peer2peer = true,
	.invalidate_mappings = pal_invalidate,
};

static int pal_map(struct pal_imp *im)
{
	struct pci_p2pdma_map_state p2p = { 0 };
	size_t off = 0, i;
	int ret;

	dma_resv_lock(im->a->dmabuf->resv, NULL);
	ret = dma_buf_map_phys(im->a, &im->pl);
	if (ret) {
		im->pl = NULL;
		goto out;
	}
	if (pci_p2pdma_state(&p2p, im->dev, im->pl->phys[0].paddr) !=
	    PCI_P2PDMA_MAP_THRU_HOST_BRIDGE)
		ret = -EREMOTEIO;
	else if (!dma_iova_try_alloc(im->dev, &im->st, im->pl->phys[0].paddr,
				     im->pl->length))
		ret = -ENOMEM;
	for (i = 0; !ret && i < im->pl->nr_ranges; i++) {
		ret = dma_iova_link(im->dev, &im->st, im->pl->phys[i].paddr, off,
				    im->pl->phys[i].len, DMA_BIDIRECTIONAL,
				    DMA_ATTR_MMIO);
		off += im->pl->phys[i].len;
	}
	if (!ret)
		ret = dma_iova_sync(im->dev, &im->st, 0, off);
	if (ret)
		pal_unmap(im);
out:
	dma_resv_unlock(im->a->dmabuf->resv);
	return ret;
}

/* the importer's end: unmapped under the lock, detached; the buffer put */
static void pal_release(struct pal_imp *im, struct dma_buf *buf)
{
	if (im->a) {
		dma_resv_lock(buf->resv, NULL);
		pal_unmap(im);
		dma_resv_unlock(buf->resv);
		dma_buf_detach(buf, im->a);
	}
	dma_buf_put(buf);
}

static int set_decode(struct gdev *g, bool on)
{
	u16 cmd;
	int ret = dml_vfio_config_read(g->dev, PCI_COMMAND, &cmd, sizeof(cmd));

	if (ret)
		return ret;
	cmd = on ? cmd | PCI_COMMAND_MEMORY : cmd & (u16)~PCI_COMMAND_MEMORY;
	return dml_vfio_config_write(g->dev, PCI_COMMAND, &cmd, sizeof(cmd));
}

/*
 * The VFIO BAR exporter end to end (drivers/vfio/pci/vfio_pci_dmabuf.c):
 * edu writes through its PAL mapping across the seam of two ranges that
 * are apart in the BAR; memory decode off revokes (the importer is told
 * and unmaps), decode on gives the buffer back with a second notify; a
 * write to the address the importer dropped faults in the vIOMMU and
 * leaves the BAR as it was; mapped again, the bytes land; closing
 * ivshmem revokes the buffer for good.
 */
static void test_dmabuf(struct dml_platform *p)
{
	static const enum dma_buf_mapping_type pal[] = { DMA_BUF_MAPPING_PAL };
	const struct dml_dma_buf_range r[2] = {
		{ DB_OFF, TP }, { DB_OFF + 2 * TP, TP },
	};
	struct gdev *c = &gd[0], *prov = &gd[2];
	struct pal_imp im = { .dev = c->dev };
	unsigned char want[DB_LEN], stale[DB_LEN];
	const size_t half = DB_LEN / 2;
	struct dma_buf *buf = NULL;
	struct dma_buf_phys_list *pl;
	dma_addr_t old;
	bool ok = true;

	CHECK_EQ(dml_pci_bar_dma_buf_export(dml_pci_dev_of(prov->dev), 2, r, 2, &buf), 0);
	CHECK_EQ(dma_buf_mapping_attach(buf, c->dev, pal, 1, &pal_ops, &im, &im.a), 0);
	CHECK_EQ(pal_map(&im), 0);
	old = im.st.addr;
	CHECK_EQ(edu_put(c, old + TP - half, DB_LEN, 7, want), 0);
	CHECK(bar_holds(prov, DB_OFF + TP - half, want, half));
	CHECK(bar_holds(prov, DB_OFF + 2 * TP, want + half, half));

	CHECK_EQ(set_decode(prov, false), 0);
	CHECK_EQ(im.invalidations, 1);
	CHECK(!im.pl);
	CHECK(dml_dma_buf_revoked(buf));
	dma_resv_lock(buf->resv, NULL);
	CHECK_EQ(dma_buf_map_phys(im.a, &pl), -ENODEV);
	dma_resv_unlock(buf->resv);
	CHECK_EQ(set_decode(prov, true), 0);
	CHECK_EQ(im.invalidations, 2);
	CHECK(!dml_dma_buf_revoked(buf));

	/* the dropped address: the write faults, the BAR keeps its bytes */
	CHECK_EQ(edu_put(c, old + TP - half, DB_LEN, 8, stale), 0);
	CHECK(bar_holds(prov, DB_OFF + TP - half, want, half));
	CHECK(bar_holds(prov, DB_OFF + 2 * TP, want + half, half));

	CHECK_EQ(pal_map(&im), 0);
	CHECK_EQ(edu_put(c, im.st.addr + TP - half, DB_LEN, 9, want), 0);
	CHECK(bar_holds(prov, DB_OFF + TP - half, want, half));
	CHECK(bar_holds(prov, DB_OFF + 2 * TP, want + half, half));
	host_check(DB_OFF + TP - half, want, half, "dma-buf PAL import, first range");
	host_check(DB_OFF + 2 * TP, want + half, half, "dma-buf PAL import, second range");

	/* vfio_pci_dma_buf_cleanup(): closed, revoked for good */
	dml_device_destroy(prov->dev);
	prov->dev = NULL;
	CHECK_EQ(im.invalidations, 3);
	CHECK(!im.pl);
	CHECK(dml_dma_buf_revoked(buf));
	CHECK_EQ(dml_vfio_device_open(p, prov->bdf, &prov->dev), 0);
	CHECK(dml_dma_buf_revoked(buf));
out:
	pal_release(&im, buf);
	tap_result(ok, "ivshmem BAR2 exported as a dma-buf, edu imports it with PAL: bytes land across two ranges; decode off revokes, on gives back; a write to the dropped address leaves the BAR untouched; close revokes for good");
}

#define DBR_OFF	0x30000UL	/* the page test_dmabuf_reset exports: BAR2 + DBR_OFF */

/*
 * Revoke across a reset (drivers/vfio/pci/vfio_pci_core.c:
 * vfio_pci_ioctl_reset() revokes the BAR dma-bufs before the reset and
 * gives them back after it when memory decode is on again): ivshmem, alone
 * below its root port, has a reset method (a secondary bus reset) and VFIO
 * offers VFIO_DEVICE_RESET.  edu writes through its PAL mapping; the reset
 * tells the importer twice (revoke, then give back) and it unmaps; a write
 * to the dropped address leaves the BAR as it was; the bytes written
 * before the reset are still there, and mapped again, a new write lands.
 */
static void test_dmabuf_reset(void)
{
	static const enum dma_buf_mapping_type pal[] = { DMA_BUF_MAPPING_PAL };
	const struct dml_dma_buf_range r = { DBR_OFF, TP };
	struct gdev *c = &gd[0], *prov = &gd[2];
	struct pal_imp im = { .dev = c->dev };
	unsigned char want[DB_LEN], stale[DB_LEN];
	struct dma_buf *buf = NULL;
	char path[128], method[64] = "";
	dma_addr_t old;
	bool ok = true;
	FILE *f;

	/* the guest kernel has a reset method for ivshmem: VFIO offers it */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset_method", prov->bdf);
	f = fopen(path, "r");
	if (f && fgets(method, sizeof(method), f))
		method[strcspn(method, "\n")] = 0;
	if (f)
		fclose(f);
	tap_diag("ivshmem %s reset_method: %s", prov->bdf, method[0] ? method : "(none)");
	CHECK(method[0]);

	CHECK_EQ(dml_pci_bar_dma_buf_export(dml_pci_dev_of(prov->dev), 2, &r, 1, &buf), 0);
	CHECK_EQ(dma_buf_mapping_attach(buf, c->dev, pal, 1, &pal_ops, &im, &im.a), 0);
	CHECK_EQ(pal_map(&im), 0);
	old = im.st.addr;
	CHECK_EQ(edu_put(c, old, DB_LEN, 10, want), 0);
	CHECK(bar_holds(prov, DBR_OFF, want, DB_LEN));

	CHECK_EQ(dml_vfio_reset(prov->dev), 0);
	CHECK_EQ(im.invalidations, 2);	/* revoked, then given back */
	CHECK(!im.pl);
	CHECK(!dml_dma_buf_revoked(buf));
	CHECK(bar_holds(prov, DBR_OFF, want, DB_LEN));	/* the memory kept its bytes */

	/* the dropped address: the write faults, the BAR keeps its bytes */
	CHECK_EQ(edu_put(c, old, DB_LEN, 11, stale), 0);
	CHECK(bar_holds(prov, DBR_OFF, want, DB_LEN));

	CHECK_EQ(pal_map(&im), 0);
	CHECK_EQ(edu_put(c, im.st.addr, DB_LEN, 12, want), 0);
	CHECK(bar_holds(prov, DBR_OFF, want, DB_LEN));
	host_check(DBR_OFF, want, DB_LEN, "dma-buf PAL import mapped again after VFIO_DEVICE_RESET");
out:
	pal_release(&im, buf);
	tap_result(ok, "ivshmem BAR2 dma-buf across VFIO_DEVICE_RESET (%s reset): the importer is told and unmaps, a write to the dropped address leaves the BAR untouched, the buffer comes back and a new write lands",
		   method[0] ? method : "no");
}

/*
 * A provider's device closed and opened again: its BAR mapping stayed
 * the platform's (the topology still names that address) and comes back
 * at the same address, still the provider's memory
 */
static void test_reopen(struct dml_platform *p)
{
	struct gdev *g = &gd[2];
	struct pci_p2pdma_map_state st = { 0 };
	void *addr = NULL;
	u64 len = 0;
	bool ok = true;

	dml_device_destroy(g->dev);
	g->dev = NULL;
	CHECK_EQ(dml_vfio_device_open(p, g->bdf, &g->dev), 0);
	CHECK_EQ(dml_vfio_bar_map(g->dev, (unsigned int)g->bar, &addr, &len), 0);
	CHECK(addr == g->bar_cpu);
	CHECK_EQ(len, g->bar_len);
	CHECK_EQ(pci_p2pdma_state(&st, gd[0].dev, (phys_addr_t)(uintptr_t)addr + 64),
		 pci_p2pdma_map_type(pcim_p2pdma_provider(dml_pci_dev_of(g->dev), g->bar),
				     gd[0].dev));
	CHECK(st.mem && st.mem->owner == dml_pci_dev_of(g->dev));
out:
	tap_result(ok, "ivshmem closed and reopened: BAR2 comes back at the same address, still the provider");
}

static void cpu_diag(void)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");
	int n = 0;

	while (f && n < 3 && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "vendor_id", 9) || !strncmp(line, "cpu family", 10) ||
		    !strncmp(line, "model name", 10)) {
			line[strcspn(line, "\n")] = 0;
			tap_diag("guest CPU %s", line);
			n++;
		}
	}
	if (f)
		fclose(f);
}

int main(void)
{
	struct dml_platform *p = NULL;
	unsigned int i;
	int ret;

	ret = dml_platform_create_vfio(NULL, &p);
	tap_result(!ret, "dml_platform_create_vfio (%d)", ret);
	if (ret)
		return tap_done();
	cpu_diag();
	for (i = 0; i < NR_DEVS; i++) {
		gd[i].bdf = getenv(gd[i].env);
		if (!gd[i].bdf)
			ret = -ENODEV;
		else if (gd[i].is_edu)
			ret = edu_open(p, gd[i].bdf, &gd[i].dev, &gd[i].edu);
		else
			ret = dml_vfio_device_open(p, gd[i].bdf, &gd[i].dev);
		if (!ret && gd[i].bar >= 0)
			ret = dml_vfio_bar_map(gd[i].dev, (unsigned int)gd[i].bar,
					       &gd[i].bar_cpu, &gd[i].bar_len);
		tap_result(!ret, "open %s %s (%d)", gd[i].env, gd[i].bdf ? gd[i].bdf : "(none)", ret);
		if (ret)
			goto out;
	}
	test_topology(p);
	test_groups(p);
	test_pairs(p, getenv("DML_P2P_HOST"));
	if (!strcmp(getenv("DML_P2P_HOST") ?: "", "allowed")) {
		test_dmabuf_reset();
		test_dmabuf(p);
	}
	test_reopen(p);
out:
	dml_platform_destroy(p);
	return tap_done();
}
