/* SPDX-License-Identifier: MIT */
/*
 * p2p.c - what P2P classification costs the mapping paths, in ns per
 * call (single thread, best of 5 runs of N calls):
 *  - pci_p2pdma_state() on a cached provider/client pair (the state holds
 *    the provider: one comparison and a load; target a few ns);
 *  - pci_p2pdma_state() on host RAM (the BAR table's bounds check: what
 *    every non-P2P segment pays);
 *  - pci_p2pdma_state() alternating between two providers (the BAR table
 *    lookup and the provider's cached map type: the slow path);
 *  - a bus-address mapping of a BAR range (state + pci_p2pdma_bus_addr_map),
 *    with the state kept across the segments of one request (as dma_map_sg
 *    keeps it) and with a fresh state per call, against dma_map_phys +
 *    dma_unmap_phys of RAM on a dma-direct device: the cost it should not
 *    exceed;
 *  - dma_map_sg + dma_unmap_sg of 64 x 4 KiB of a peer's BAR below the same
 *    switch (bus addresses) by a device behind an IOMMU, against the same
 *    list of RAM on a dma-direct device: no more, since the IOMMU is never
 *    touched;
 *  - host-bridge P2P (a BAR on another root port of a whitelisted host):
 *    the caller's pci_p2pdma_state() + dma_map_phys(DMA_ATTR_MMIO) +
 *    unmap, and the same with dma_iova_link/unlink in a reserved IOVA
 *    range, against the MMIO calls alone: the same cost.
 * Usage: bench-p2p [CALLS]   (default 10^7; the mapping cases run CALLS/100)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <dmalink/dma-mapping.h>
#include <dmalink/pci-p2pdma.h>
#include <dmalink/scatterlist.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* keeps results alive so the compiler cannot drop the calls */
static volatile unsigned long long sink;

#define MEASURE(name, n, body) ({					\
	double best = 1e30;						\
	int run;							\
	for (run = 0; run < 5; run++) {					\
		double t0 = now_ns();					\
		unsigned long long _i;					\
		for (_i = 0; _i < (n); _i++) { body; }			\
		double dt = (now_ns() - t0) / (double)(n);		\
		best = dt < best ? dt : best;				\
	}								\
	printf("%-44s %8.2f ns\n", name, best);				\
	best; })

static void check(int ret, const char *what)
{
	if (ret) {
		fprintf(stderr, "bench-p2p: %s: %d\n", what, ret);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	unsigned long long n = argc > 1 ? strtoull(argv[1], NULL, 0) : 10000000ULL;
	struct dml_emu_opts eo = { .size = DML_SIZEOF(&eo, swiotlb_off),
				   .ram_size = 64ULL << 20, .swiotlb_off = true };
	struct dml_pci_dev *hb, *rp, *rp2, *up, *down[2], *gpu, *nic, *nic1, *ssd;
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
	struct dml_device *gpu_dev, *nic_dev, *iommu_dev;
	const phys_addr_t bar3 = 0xa00000000ULL;
	struct scatterlist bus_sg[64], ram_sg[64];
	double sg_bus, sg_ram, hb_phys, mmio_phys, hb_link, mmio_link;
	struct dma_iova_state ist;
	struct dml_iommu *iommu;
	unsigned long long m;
	int i;
	struct pci_p2pdma_map_state st = { 0 };
	const phys_addr_t bar = 0x800000000ULL, bar2 = 0x900000000ULL;
	double cached, direct, bus, fresh;
	struct dml_platform *p;

	check(dml_platform_create_emu(&eo, &p), "platform");
	check(dml_pci_host_bridge_add(p, 0, 0, 0x8086, 0x2020, NULL, &hb), "host");
	check(dml_pci_dev_add(hb, DML_PCI_ROOT_PORT, PCI_DEVFN(1, 0), 0x8086, 0x2030,
			      NULL, &rp), "root port");
	check(dml_pci_switch_add(rp, 0, 0x10b5, 0x8747, NULL, 2, &up, down), "switch");
	check(dml_pci_dev_add(down[0], DML_PCI_ENDPOINT, 0, 0x10de, 0x20b0, "gpu", &gpu),
	      "gpu");
	check(dml_pci_dev_add(down[1], DML_PCI_ENDPOINT, 0, 0x15b3, 0x101b, "nic", &nic),
	      "nic");
	check(dml_pci_bar_add(gpu, 0, bar, 16 << 20, 0x1000000000ULL, 0), "gpu BAR");
	check(dml_pci_bar_add(nic, 0, bar2, 1 << 20, 0, 0), "nic BAR");
	check(pcim_p2pdma_init(gpu), "init gpu");
	check(pcim_p2pdma_init(nic), "init nic");
	check(dml_pci_dev_add(hb, DML_PCI_ROOT_PORT, PCI_DEVFN(2, 0), 0x8086, 0x2031,
			      NULL, &rp2), "root port 2");
	check(dml_pci_dev_add(rp2, DML_PCI_ENDPOINT, 0, 0x144d, 0xa80a, "ssd", &ssd),
	      "ssd");
	check(dml_pci_bar_add(ssd, 0, bar3, 1 << 20, 0, 0), "ssd BAR");
	check(pcim_p2pdma_init(ssd), "init ssd");
	check(dml_pci_dev_add(down[1], DML_PCI_ENDPOINT, PCI_DEVFN(0, 1), 0x15b3,
			      0x101b, "nic.1", &nic1), "nic.1");
	check(dml_iommu_create(p, NULL, &iommu), "iommu");
	o.pci_dev = gpu;
	check(dml_device_create(p, &o, &gpu_dev), "gpu device");
	o.pci_dev = nic;
	check(dml_device_create(p, &o, &nic_dev), "nic device");
	o.pci_dev = nic1;
	o.iommu = iommu;
	check(dml_device_create(p, &o, &iommu_dev), "nic.1 device");
	if (pci_p2pdma_state(&st, nic_dev, bar) != PCI_P2PDMA_MAP_BUS_ADDR) {
		fprintf(stderr, "bench-p2p: gpu -> nic is not a bus-address pair\n");
		return 1;
	}

	printf("bench-p2p: %llu calls per run, best of 5\n", n);
	cached = MEASURE("pci_p2pdma_state, cached pair", n,
			 sink += pci_p2pdma_state(&st, nic_dev, bar + (_i & 0xfff000)));
	MEASURE("pci_p2pdma_state, host RAM", n, {
		struct pci_p2pdma_map_state s0 = { 0 };

		sink += pci_p2pdma_state(&s0, nic_dev, (_i & 0xfff) << 12);
	});
	MEASURE("pci_p2pdma_state, provider changes", n,
		sink += pci_p2pdma_state(&st, gpu_dev, (_i & 1) ? bar : bar2));
	bus = MEASURE("bus-address map, state kept across segments", n, {
		phys_addr_t a = bar + (_i & 0xfff000);

		if (pci_p2pdma_state(&st, nic_dev, a) == PCI_P2PDMA_MAP_BUS_ADDR)
			sink += pci_p2pdma_bus_addr_map(st.mem, a);
	});
	fresh = MEASURE("bus-address map, fresh state each call", n, {
		struct pci_p2pdma_map_state s0 = { 0 };

		if (pci_p2pdma_state(&s0, nic_dev, bar + 0x1000) == PCI_P2PDMA_MAP_BUS_ADDR)
			sink += pci_p2pdma_bus_addr_map(s0.mem, bar + 0x1000);
	});
	direct = MEASURE("dma_map_phys + unmap, dma-direct RAM", n, {
		dma_addr_t a = dma_map_phys(nic_dev, 0x100000, 4096, DMA_TO_DEVICE, 0);

		sink += a;
		dma_unmap_phys(nic_dev, a, 4096, DMA_TO_DEVICE, 0);
	});
	printf("ratio bus-address map / dma-direct map+unmap: %.2f (fresh state: %.2f)\n",
	       bus / direct, fresh / direct);

	m = n / 100 ? n / 100 : 1;
	sg_init_table(bus_sg, 64);
	sg_init_table(ram_sg, 64);
	for (i = 0; i < 64; i++) {
		sg_set_phys(&bus_sg[i], bar + i * 4096ULL, 4096);
		sg_set_phys(&ram_sg[i], 0x100000 + i * 8192ULL, 4096);
	}
	sg_bus = MEASURE("dma_map_sg+unmap 64x4K bus addresses, IOMMU", m, {
		if (dma_map_sg(iommu_dev, bus_sg, 64, DMA_TO_DEVICE) != 64)
			exit(1);
		dma_unmap_sg(iommu_dev, bus_sg, 64, DMA_TO_DEVICE);
	});
	sg_ram = MEASURE("dma_map_sg+unmap 64x4K RAM, dma-direct", m, {
		if (dma_map_sg(nic_dev, ram_sg, 64, DMA_TO_DEVICE) != 64)
			exit(1);
		dma_unmap_sg(nic_dev, ram_sg, 64, DMA_TO_DEVICE);
	});
	printf("ratio sg bus addresses (IOMMU device) / sg RAM (dma-direct): %.2f\n",
	       sg_bus / sg_ram);

	if (pci_p2pdma_state(&st, iommu_dev, bar3) != PCI_P2PDMA_MAP_THRU_HOST_BRIDGE) {
		fprintf(stderr, "bench-p2p: nic.1 -> ssd is not a host-bridge pair\n");
		return 1;
	}
	hb_phys = MEASURE("host bridge: state + dma_map_phys(MMIO) + unmap", m, {
		struct pci_p2pdma_map_state s0 = { 0 };
		dma_addr_t a;

		if (pci_p2pdma_state(&s0, iommu_dev, bar3) != PCI_P2PDMA_MAP_THRU_HOST_BRIDGE)
			exit(1);
		a = dma_map_phys(iommu_dev, bar3, 4096, DMA_TO_DEVICE, DMA_ATTR_MMIO);
		sink += a;
		dma_unmap_phys(iommu_dev, a, 4096, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	});
	mmio_phys = MEASURE("dma_map_phys(MMIO) + unmap alone", m, {
		dma_addr_t a = dma_map_phys(iommu_dev, bar3, 4096, DMA_TO_DEVICE,
					    DMA_ATTR_MMIO);

		sink += a;
		dma_unmap_phys(iommu_dev, a, 4096, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	});
	if (!dma_iova_try_alloc(iommu_dev, &ist, bar3, 4096)) {
		fprintf(stderr, "bench-p2p: no IOVA\n");
		return 1;
	}
	hb_link = MEASURE("host bridge: state + dma_iova_link(MMIO) + unlink", m, {
		struct pci_p2pdma_map_state s0 = { 0 };

		if (pci_p2pdma_state(&s0, iommu_dev, bar3) != PCI_P2PDMA_MAP_THRU_HOST_BRIDGE ||
		    dma_iova_link(iommu_dev, &ist, bar3, 0, 4096, DMA_TO_DEVICE,
				  DMA_ATTR_MMIO))
			exit(1);
		dma_iova_unlink(iommu_dev, &ist, 0, 4096, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	});
	mmio_link = MEASURE("dma_iova_link(MMIO) + unlink alone", m, {
		if (dma_iova_link(iommu_dev, &ist, bar3, 0, 4096, DMA_TO_DEVICE,
				  DMA_ATTR_MMIO))
			exit(1);
		dma_iova_unlink(iommu_dev, &ist, 0, 4096, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	});
	dma_iova_free(iommu_dev, &ist);
	printf("ratio host bridge / MMIO alone: dma_map_phys %.2f, dma_iova_link %.2f\n",
	       hb_phys / mmio_phys, hb_link / mmio_link);
	printf("cached pair: %s (target: a few ns)\n", cached < 5.0 ? "ok" : "slow");
	dml_platform_destroy(p);
	return 0;
}
