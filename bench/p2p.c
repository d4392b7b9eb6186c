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
 *    exceed.
 * Usage: bench-p2p [CALLS]   (default 10^7)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <dmalink/dma-mapping.h>
#include <dmalink/pci-p2pdma.h>

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
	struct dml_pci_dev *hb, *rp, *up, *down[2], *gpu, *nic;
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
	struct dml_device *gpu_dev, *nic_dev;
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
	o.pci_dev = gpu;
	check(dml_device_create(p, &o, &gpu_dev), "gpu device");
	o.pci_dev = nic;
	check(dml_device_create(p, &o, &nic_dev), "nic device");
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
	printf("cached pair: %s (target: a few ns)\n", cached < 5.0 ? "ok" : "slow");
	dml_platform_destroy(p);
	return 0;
}
