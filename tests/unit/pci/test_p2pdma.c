/* SPDX-License-Identifier: MIT */
/*
 * test_p2pdma.c - PCI P2PDMA classification over the emulated topology,
 * one test per row of shared/reference/kernel-dma-semantics.md §9 item 19
 * (classification table, distances 0/2/4, ACS redirect => host bridge with
 * warnings, whitelist with its same-host-bridge entries, AMD Zen rule,
 * non-PCI => not supported, cache per client, bus address = phys +
 * bus_offset), and the topology calls those rows stand on (§4).
 */
#include <dmalink/pci-p2pdma.h>
#include <pthread.h>

#include "pci/pci.h"
#include "testutil.h"

#define SKX_ROOT_PORT	0x2030	/* Intel Skylake-E root port: whitelisted */
#define HSX_HOST	0x2f00	/* Intel Xeon E5 v3: whitelisted, same host only */
#define NOT_LISTED	0x1234

#define GPU_BAR		0x800000000ULL
#define NIC_BAR		0x900000000ULL
#define SSD_BAR		0xa00000000ULL

/*
 * The machine of most tests:
 *   hb (host bridge 0000:00)
 *    +- rp0 -- sw (upstream) -+- d0 -- gpu (fn 0, BAR0) and gpu.1 (fn 1)
 *    |                        +- d1 -- nic (BAR0)
 *    +- rp1 -- ssd (BAR0)
 * and a device bound to each endpoint.
 */
struct fx {
	struct dml_platform *p;
	struct dml_pci_dev *hb, *rp0, *rp1, *up, *down[2];
	struct dml_pci_dev *gpu, *gpu1, *nic, *ssd;
	struct dml_device *gpu_dev, *gpu1_dev, *nic_dev, *ssd_dev;
};

static struct dml_device *bind(struct fx *f, struct dml_pci_dev *pdev)
{
	struct dml_device_opts o = {
		.size = DML_SIZEOF(&o, pci_dev),
		.pci_dev = pdev,
	};
	struct dml_device *dev;

	assert_int_equal(dml_device_create(f->p, &o, &dev), 0);
	assert_ptr_equal(dml_pci_dev_of(dev), pdev);
	return dev;
}

static struct fx *fx_build(u16 host_device, unsigned int cpu_vendor,
			   unsigned int cpu_family)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, cpu_family),
		.cpu_vendor = cpu_vendor,
		.cpu_family = cpu_family,
	};

	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(&eo, &f->p), 0);
	assert_int_equal(dml_pci_host_bridge_add(f->p, 0, 0, 0x8086, host_device,
						 "hb", &f->hb), 0);
	assert_int_equal(dml_pci_dev_add(f->hb, DML_PCI_ROOT_PORT, PCI_DEVFN(1, 0),
					 0x8086, host_device, "rp0", &f->rp0), 0);
	assert_int_equal(dml_pci_dev_add(f->hb, DML_PCI_ROOT_PORT, PCI_DEVFN(2, 0),
					 0x8086, host_device, "rp1", &f->rp1), 0);
	assert_int_equal(dml_pci_switch_add(f->rp0, 0, 0x10b5, 0x8747, "sw", 2,
					    &f->up, f->down), 0);
	assert_int_equal(dml_pci_dev_add(f->down[0], DML_PCI_ENDPOINT, PCI_DEVFN(0, 0),
					 0x10de, 0x2330, "gpu", &f->gpu), 0);
	assert_int_equal(dml_pci_dev_add(f->down[0], DML_PCI_ENDPOINT, PCI_DEVFN(0, 1),
					 0x10de, 0x22a3, "gpu.1", &f->gpu1), 0);
	assert_int_equal(dml_pci_dev_add(f->down[1], DML_PCI_ENDPOINT, PCI_DEVFN(0, 0),
					 0x15b3, 0x1021, "nic", &f->nic), 0);
	assert_int_equal(dml_pci_dev_add(f->rp1, DML_PCI_ENDPOINT, PCI_DEVFN(0, 0),
					 0x144d, 0xa80a, "ssd", &f->ssd), 0);
	assert_int_equal(dml_pci_bar_add(f->gpu, 0, GPU_BAR, 16 << 20, 0, 0), 0);
	assert_int_equal(dml_pci_bar_add(f->nic, 0, NIC_BAR, 1 << 20, 0, 0), 0);
	assert_int_equal(dml_pci_bar_add(f->ssd, 0, SSD_BAR, 1 << 20, 0, 0), 0);
	assert_int_equal(pcim_p2pdma_init(f->gpu), 0);
	assert_int_equal(pcim_p2pdma_init(f->nic), 0);
	assert_int_equal(pcim_p2pdma_init(f->ssd), 0);
	f->gpu_dev = bind(f, f->gpu);
	f->gpu1_dev = bind(f, f->gpu1);
	f->nic_dev = bind(f, f->nic);
	f->ssd_dev = bind(f, f->ssd);
	dml_test_log_reset();
	return f;
}

static int fx_setup(void **state)
{
	*state = fx_build(SKX_ROOT_PORT, DML_CPU_INTEL, 6);
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	dml_platform_destroy(f->p);
	free(f);
	return 0;
}

static struct p2pdma_provider *bar0(struct dml_pci_dev *pdev)
{
	struct p2pdma_provider *pr = pcim_p2pdma_provider(pdev, 0);

	assert_non_null(pr);
	return pr;
}

/* the map type and distance of one provider/client pair, both checked */
static void expect(struct dml_pci_dev *provider, struct dml_device *client,
		   enum pci_p2pdma_map_type map, int dist)
{
	assert_int_equal(pci_p2pdma_map_type(bar0(provider), client), map);
	assert_int_equal(pci_p2pdma_distance(provider, client, false), dist);
}

/* §9.19 distance 0: a device's own BAR, through no link at all */
static void test_19_distance_0_same_function(void **state)
{
	struct fx *f = *state;

	expect(f->gpu, f->gpu_dev, PCI_P2PDMA_MAP_BUS_ADDR, 0);
	assert_int_equal(dml_test_log.count, 0);
}

/* §9.19 distance 2: two functions of one device meet at their port */
static void test_19_distance_2_functions(void **state)
{
	struct fx *f = *state;

	expect(f->gpu, f->gpu1_dev, PCI_P2PDMA_MAP_BUS_ADDR, 2);
}

/* §9.19 distance 4: two devices below one switch meet at its upstream port */
static void test_19_distance_4_switch(void **state)
{
	struct fx *f = *state;

	expect(f->gpu, f->nic_dev, PCI_P2PDMA_MAP_BUS_ADDR, 4);
	expect(f->nic, f->gpu_dev, PCI_P2PDMA_MAP_BUS_ADDR, 4);
	assert_int_equal(dml_test_log.count, 0);
}

/*
 * §9.19 ACS redirect => through the host bridge, with a warning that
 * names every redirecting bridge and the kernel parameter that clears it
 */
static void test_19_acs_redirect_thru_host_bridge(void **state)
{
	struct fx *f = *state;
	struct dml_pci_info d0, d1;
	char want[128];

	dml_pci_get_info(f->down[0], &d0);
	dml_pci_get_info(f->down[1], &d1);
	assert_int_equal(dml_pci_port_set_acs(f->down[0], PCI_ACS_RR), 0);
	assert_int_equal(dml_pci_port_set_acs(f->down[1], PCI_ACS_CR), 0);
	/* the path is still 4 links long; only the route changes */
	assert_int_equal(pci_p2pdma_map_type(bar0(f->gpu), f->nic_dev),
			 PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
	assert_true(dml_test_log.count >= 2);
	snprintf(want, sizeof(want), "pci=disable_acs_redir=%s;%s", d0.bdf, d1.bdf);
	assert_non_null(strstr(dml_test_log.last, want));
	assert_int_equal(pci_p2pdma_distance(f->gpu, f->nic_dev, false), 4);
}

/* §9.19 only RR, CR and EC redirect; SV, TB, UF, DT do not */
static void test_19_acs_bits_that_redirect(void **state)
{
	struct fx *f = *state;
	static const u16 bits[] = { PCI_ACS_RR, PCI_ACS_CR, PCI_ACS_EC };
	unsigned int i;
	int dist;

	assert_int_equal(dml_pci_port_set_acs(f->down[1], PCI_ACS_SV | PCI_ACS_TB |
					      PCI_ACS_UF | PCI_ACS_DT), 0);
	assert_int_equal(dml__pci_calc_map_type(f->gpu, f->nic, &dist, false),
			 PCI_P2PDMA_MAP_BUS_ADDR);
	for (i = 0; i < ARRAY_SIZE(bits); i++) {
		assert_int_equal(dml_pci_port_set_acs(f->down[1], bits[i]), 0);
		assert_int_equal(dml__pci_calc_map_type(f->gpu, f->nic, &dist, false),
				 PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
		assert_int_equal(dist, 4);
	}
	/* the common bridge itself counts on the provider's side */
	assert_int_equal(dml_pci_port_set_acs(f->down[1], 0), 0);
	assert_int_equal(dml_pci_port_set_acs(f->up, PCI_ACS_RR), 0);
	assert_int_equal(dml__pci_calc_map_type(f->gpu, f->nic, &dist, false),
			 PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
	/* a bridge above the common one is not on the path */
	assert_int_equal(dml_pci_port_set_acs(f->up, 0), 0);
	assert_int_equal(dml_pci_port_set_acs(f->rp0, PCI_ACS_RR | PCI_ACS_CR), 0);
	assert_int_equal(dml__pci_calc_map_type(f->gpu, f->nic, &dist, false),
			 PCI_P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(dml_pci_port_set_acs(f->hb, PCI_ACS_RR), -EINVAL);
	assert_int_equal(dml_pci_port_set_acs(f->rp0, 0x80), -EINVAL);
}

/* §9.19 ACS redirect on a host bridge not on the whitelist: not supported */
static void test_19_acs_redirect_not_whitelisted(void **state)
{
	struct fx *f = fx_build(NOT_LISTED, DML_CPU_INTEL, 6);

	(void)state;
	assert_int_equal(dml_pci_port_set_acs(f->down[1], PCI_ACS_RR), 0);
	assert_int_equal(pci_p2pdma_map_type(bar0(f->gpu), f->nic_dev),
			 PCI_P2PDMA_MAP_NOT_SUPPORTED);
	assert_non_null(strstr(dml_test_log.last, "do not share an upstream bridge or whitelisted host bridge"));
	assert_int_equal(pci_p2pdma_distance(f->gpu, f->nic_dev, false), -1);
	dml_test_log_reset();
	assert_int_equal(pci_p2pdma_distance(f->gpu, f->nic_dev, true), -1);
	assert_true(dml_test_log.count >= 3);
	fx_teardown((void **)&f);
}

/*
 * §9.19 no common upstream bridge: the whitelist decides.  Different root
 * ports of a whitelisted host bridge: through it, the distance counting
 * each side's functions up to its root bus (gpu 4, ssd 2); of a host
 * bridge not listed: refused with the kernel's warning.
 */
static void test_19_whitelist(void **state)
{
	struct fx *f = *state, *g;

	expect(f->gpu, f->ssd_dev, PCI_P2PDMA_MAP_THRU_HOST_BRIDGE, 6);
	expect(f->ssd, f->nic_dev, PCI_P2PDMA_MAP_THRU_HOST_BRIDGE, 6);
	assert_int_equal(dml_test_log.count, 0);

	g = fx_build(NOT_LISTED, DML_CPU_INTEL, 6);
	assert_int_equal(pci_p2pdma_map_type(bar0(g->gpu), g->ssd_dev),
			 PCI_P2PDMA_MAP_NOT_SUPPORTED);
	assert_non_null(strstr(dml_test_log.last, "do not share an upstream bridge"));
	assert_int_equal(pci_p2pdma_distance(g->gpu, g->ssd_dev, false), -1);
	/* below one switch the host bridge does not matter */
	expect(g->gpu, g->nic_dev, PCI_P2PDMA_MAP_BUS_ADDR, 4);
	fx_teardown((void **)&g);
}

/*
 * §9.19 whitelist entries that need both devices below the same host
 * bridge (Xeon E5 v3): allowed within one, refused across two; entries
 * without that flag (Skylake-E) allow it across host bridges
 */
static void test_19_whitelist_same_host_bridge(void **state)
{
	static const struct { u16 device; enum pci_p2pdma_map_type across; } c[] = {
		{ HSX_HOST, PCI_P2PDMA_MAP_NOT_SUPPORTED },
		{ SKX_ROOT_PORT, PCI_P2PDMA_MAP_THRU_HOST_BRIDGE },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		struct fx *f = fx_build(c[i].device, DML_CPU_INTEL, 6);
		struct dml_pci_dev *hb2, *rp, *acc;
		struct dml_device *acc_dev;

		/* within host bridge hb: allowed by both entries */
		assert_int_equal(pci_p2pdma_map_type(bar0(f->gpu), f->ssd_dev),
				 PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
		/* a second host bridge of the same kind, an accelerator below */
		assert_int_equal(dml_pci_host_bridge_add(f->p, 0, 0x80, 0x8086,
							 c[i].device, "hb2", &hb2), 0);
		assert_int_equal(dml_pci_dev_add(hb2, DML_PCI_ROOT_PORT, PCI_DEVFN(1, 0),
						 0x8086, c[i].device, NULL, &rp), 0);
		assert_int_equal(dml_pci_dev_add(rp, DML_PCI_ENDPOINT, 0, 0x1d0f,
						 0xcd01, "acc", &acc), 0);
		acc_dev = bind(f, acc);
		assert_int_equal(pci_p2pdma_map_type(bar0(f->gpu), acc_dev), c[i].across);
		fx_teardown((void **)&f);
	}
}

/* §9.19 the AMD rule: family 0x17 (Zen) or later passes any host bridge */
static void test_19_amd_zen(void **state)
{
	static const struct { unsigned int vendor, family; enum pci_p2pdma_map_type map; } c[] = {
		{ DML_CPU_AMD, 0x17, PCI_P2PDMA_MAP_THRU_HOST_BRIDGE },
		{ DML_CPU_AMD, 0x19, PCI_P2PDMA_MAP_THRU_HOST_BRIDGE },
		{ DML_CPU_AMD, 0x16, PCI_P2PDMA_MAP_NOT_SUPPORTED },
		{ DML_CPU_INTEL, 0x17, PCI_P2PDMA_MAP_NOT_SUPPORTED },
		{ DML_CPU_OTHER, 0x19, PCI_P2PDMA_MAP_NOT_SUPPORTED },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		struct fx *f = fx_build(NOT_LISTED, c[i].vendor, c[i].family);

		assert_int_equal(pci_p2pdma_map_type(bar0(f->gpu), f->ssd_dev), c[i].map);
		/* and with ACS redirect below one switch */
		assert_int_equal(dml_pci_port_set_acs(f->down[0], PCI_ACS_RR), 0);
		assert_int_equal(pci_p2pdma_map_type(bar0(f->gpu), f->nic_dev), c[i].map);
		fx_teardown((void **)&f);
	}
}

/* §9.19 a client that is not a PCI device: not supported, distance -1 */
static void test_19_non_pci(void **state)
{
	struct fx *f = *state;
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci), .pci = false };
	struct dml_device *plat_dev, *clients[2];

	assert_int_equal(dml_device_create(f->p, &o, &plat_dev), 0);
	assert_null(dml_pci_dev_of(plat_dev));
	assert_int_equal(pci_p2pdma_map_type(bar0(f->gpu), plat_dev),
			 PCI_P2PDMA_MAP_NOT_SUPPORTED);
	assert_int_equal(pci_p2pdma_map_type(bar0(f->gpu), NULL),
			 PCI_P2PDMA_MAP_NOT_SUPPORTED);
	assert_int_equal(pci_p2pdma_map_type(NULL, f->nic_dev),
			 PCI_P2PDMA_MAP_NOT_SUPPORTED);
	assert_int_equal(pci_p2pdma_distance(f->gpu, plat_dev, true), -1);
	assert_non_null(strstr(dml_test_log.last, "not a PCI device"));
	clients[0] = f->nic_dev;
	clients[1] = plat_dev;
	assert_int_equal(pci_p2pdma_distance_many(f->gpu, clients, 2, false), -1);
	assert_int_equal(pci_p2pdma_distance_many(f->gpu, clients, 1, false), 4);
	clients[1] = f->gpu1_dev;
	assert_int_equal(pci_p2pdma_distance_many(f->gpu, clients, 2, false), 6);
	assert_int_equal(pci_p2pdma_distance_many(f->gpu, clients, 0, false), -1);
	dml_device_destroy(plat_dev);
}

/*
 * §9.19 the cache is per provider and client: an answer once computed
 * stays, even after ACS changes (the kernel reads ACS at enumeration and
 * never re-classifies), while a client not yet classified sees the new
 * ACS; pci_p2pdma_distance_many() recomputes and refreshes it
 */
static void test_19_cache_per_client(void **state)
{
	struct fx *f = *state;
	struct p2pdma_provider *pr = bar0(f->gpu);

	assert_int_equal(pci_p2pdma_map_type(pr, f->nic_dev), PCI_P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(dml_pci_port_set_acs(f->down[0], PCI_ACS_RR), 0);
	/* cached for nic: still the bus address, no warning */
	assert_int_equal(pci_p2pdma_map_type(pr, f->nic_dev), PCI_P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(dml_test_log.count, 0);
	/* gpu.1 was never classified: its path now redirects */
	assert_int_equal(pci_p2pdma_map_type(pr, f->gpu1_dev),
			 PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
	/* the cache is the provider function's: the nic's BAR knows nothing */
	assert_int_equal(pci_p2pdma_map_type(bar0(f->nic), f->gpu_dev),
			 PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
	/* a recomputation stores the new answer */
	assert_int_equal(pci_p2pdma_distance(f->gpu, f->nic_dev, false), 4);
	assert_int_equal(pci_p2pdma_map_type(pr, f->nic_dev),
			 PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
}

/*
 * §9.19 bus address = phys + bus_offset; pci_p2pdma_state() finds the
 * provider from a physical address, answers NONE for RAM, and on a
 * cached provider answers from the state alone
 */
static void test_19_bus_offset_and_state(void **state)
{
	struct fx *f = *state;
	const u64 off = 0x10000000000ULL;	/* bus = phys + 1 TiB */
	struct pci_p2pdma_map_state st = { 0 };
	struct dml_pci_dev *fn2;
	struct p2pdma_provider *pr;

	assert_int_equal(dml_pci_dev_add(f->down[0], DML_PCI_ENDPOINT, PCI_DEVFN(0, 2),
					 0x10de, 0x22a3, "gpu.2", &fn2), 0);
	assert_int_equal(dml_pci_bar_add(fn2, 2, 0xb00000000ULL, 64 << 10, off, 0), 0);
	assert_int_equal(pcim_p2pdma_init(fn2), 0);
	pr = pcim_p2pdma_provider(fn2, 2);
	assert_non_null(pr);
	assert_ptr_equal(pr->owner, fn2);
	assert_int_equal(pr->bus_offset, off);
	assert_int_equal(pci_p2pdma_bus_addr_map(pr, 0xb00000123ULL),
			 0xb00000123ULL + off);
	/* the bus address leads back to the BAR, the CPU address does not */
	assert_ptr_equal(dml__pci_bar_find_bus(f->p, 0xb00000123ULL + off), &fn2->bar[2]);
	assert_null(dml__pci_bar_find_bus(f->p, 0xb00000123ULL + off + (64 << 10)));
	assert_ptr_equal(dml__pci_bar_find(f->p, 0xb0000fff0ULL), &fn2->bar[2]);
	assert_null(dml__pci_bar_find(f->p, 0xb00010000ULL));

	/* host RAM: NONE, state untouched */
	assert_int_equal(pci_p2pdma_state(&st, f->nic_dev, 0x1000), PCI_P2PDMA_MAP_NONE);
	assert_null(st.mem);
	/* the BAR: classified and kept in the state */
	assert_int_equal(pci_p2pdma_state(&st, f->nic_dev, 0xb00000040ULL),
			 PCI_P2PDMA_MAP_BUS_ADDR);
	assert_ptr_equal(st.mem, pr);
	/* answered from the state: even a changed map in it is returned */
	st.map = PCI_P2PDMA_MAP_THRU_HOST_BRIDGE;
	assert_int_equal(pci_p2pdma_state(&st, f->nic_dev, 0xb0000ff00ULL),
			 PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
	/* another provider refreshes it */
	assert_int_equal(pci_p2pdma_state(&st, f->nic_dev, SSD_BAR + 8),
			 PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
	assert_ptr_equal(st.mem, bar0(f->ssd));
	assert_int_equal(pci_p2pdma_state(&st, f->nic_dev, GPU_BAR),
			 PCI_P2PDMA_MAP_BUS_ADDR);
	/* the MMIO region is real memory a device can reach */
	assert_false(dml_phys_is_ram(f->p, 0xb00000000ULL, 4096));
	assert_non_null(dml_kmap_local_phys(f->p, 0xb00000000ULL, 4096));
}

/*
 * the route the device model will take: a bus address of a peer BAR below
 * the same switch is claimed by it unless ACS redirects now (whatever the
 * cache says); anything else goes up to the root complex, which passes
 * peer traffic only when the host bridge allows it
 */
static void test_route(void **state)
{
	struct fx *f = *state, *g;
	struct dml_pci_bar *bar;

	assert_int_equal(dml__pci_route(f->nic_dev, GPU_BAR + 0x40, &bar), DML_PCI_ROUTE_PEER);
	assert_ptr_equal(bar, &f->gpu->bar[0]);
	assert_int_equal(dml__pci_route(f->nic_dev, 0x1000, &bar), DML_PCI_ROUTE_UPSTREAM);
	assert_null(bar);
	/* another root port: up to the root complex, which allows it here */
	assert_int_equal(dml__pci_route(f->nic_dev, SSD_BAR, &bar), DML_PCI_ROUTE_UPSTREAM);
	assert_true(dml__pci_host_allows_p2p(f->ssd, f->nic));
	/* classified (and cached) as a bus address, then ACS turned on */
	assert_int_equal(pci_p2pdma_map_type(bar0(f->gpu), f->nic_dev), PCI_P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(dml_pci_port_set_acs(f->down[1], PCI_ACS_RR), 0);
	assert_int_equal(dml__pci_route(f->nic_dev, GPU_BAR + 0x40, &bar), DML_PCI_ROUTE_UPSTREAM);
	assert_int_equal(pci_p2pdma_map_type(bar0(f->gpu), f->nic_dev), PCI_P2PDMA_MAP_BUS_ADDR);
	/* a device without a PCI function is routed nowhere but up */
	{
		struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci), .pci = false };
		struct dml_device *d;

		assert_int_equal(dml_device_create(f->p, &o, &d), 0);
		assert_int_equal(dml__pci_route(d, GPU_BAR, &bar), DML_PCI_ROUTE_UPSTREAM);
		dml_device_destroy(d);
	}
	g = fx_build(NOT_LISTED, DML_CPU_INTEL, 6);
	assert_false(dml__pci_host_allows_p2p(g->ssd, g->nic));
	assert_int_equal(dml_test_log.count, 0);
	fx_teardown((void **)&g);
	g = fx_build(NOT_LISTED, DML_CPU_AMD, 0x19);
	assert_true(dml__pci_host_allows_p2p(g->ssd, g->nic));
	fx_teardown((void **)&g);
}

/* a BAR of a function without pcim_p2pdma_init() is no provider */
static void test_provider_needs_init(void **state)
{
	struct fx *f = *state;
	struct pci_p2pdma_map_state st = { 0 };
	struct dml_pci_dev *fn;

	assert_int_equal(dml_pci_dev_add(f->down[1], DML_PCI_ENDPOINT, PCI_DEVFN(0, 1),
					 0x15b3, 0x1021, NULL, &fn), 0);
	assert_int_equal(dml_pci_bar_add(fn, 0, 0xc00000000ULL, 4096, 0, 0), 0);
	assert_null(pcim_p2pdma_provider(fn, 0));	/* warns */
	assert_true(dml_test_log.count > 0);
	assert_int_equal(pci_p2pdma_state(&st, f->gpu_dev, 0xc00000000ULL),
			 PCI_P2PDMA_MAP_NONE);
	assert_int_equal(pcim_p2pdma_init(fn), 0);
	assert_int_equal(pcim_p2pdma_init(fn), 0);	/* idempotent */
	assert_null(pcim_p2pdma_provider(fn, 1));	/* no such BAR */
	assert_null(pcim_p2pdma_provider(fn, 6));
	assert_int_equal(pci_p2pdma_state(&st, f->gpu_dev, 0xc00000000ULL),
			 PCI_P2PDMA_MAP_BUS_ADDR);
	assert_int_equal(pcim_p2pdma_init(f->hb), -EINVAL);
}

/* the topology refuses what hardware cannot be, and numbers buses */
static void test_topology_rules(void **state)
{
	struct fx *f = *state;
	struct dml_pci_dev *x, *y;
	struct dml_pci_info info;

	assert_int_equal(dml_pci_dev_add(f->hb, DML_PCI_SWITCH_DOWN, 8, 0, 0, NULL, &x), -EINVAL);
	assert_int_equal(dml_pci_dev_add(f->gpu, DML_PCI_ENDPOINT, 8, 0, 0, NULL, &x), -EINVAL);
	assert_int_equal(dml_pci_dev_add(f->up, DML_PCI_ENDPOINT, 8, 0, 0, NULL, &x), -EINVAL);
	assert_int_equal(dml_pci_dev_add(f->hb, DML_PCI_HOST_BRIDGE, 8, 0, 0, NULL, &x), -EINVAL);
	assert_int_equal(dml_pci_dev_add(f->hb, DML_PCI_ROOT_PORT, PCI_DEVFN(1, 0), 0, 0, NULL, &x),
			 -EEXIST);
	assert_int_equal(dml_pci_host_bridge_add(f->p, 0, 0, 0, 0, NULL, &x), -EEXIST);
	/* BARs: aligned, not overlapping, once */
	assert_int_equal(dml_pci_bar_add(f->gpu, 0, 0xd00000000ULL, 4096, 0, 0), -EEXIST);
	assert_int_equal(dml_pci_bar_add(f->gpu, 1, GPU_BAR + 4096, 4096, 0, 0), -EINVAL);
	assert_int_equal(dml_pci_bar_add(f->gpu, 1, 0xd00000800ULL, 4096, 0, 0), -EINVAL);
	assert_int_equal(dml_pci_bar_add(f->gpu, 6, 0xd00000000ULL, 4096, 0, 0), -EINVAL);
	assert_int_equal(dml_pci_bar_add(f->gpu, 1, ~0ULL - 4095, 8192, 0, 0), -EINVAL);
	assert_int_equal(dml_pci_bar_add(f->hb, 0, 0xd00000000ULL, 4096, 0, 0), -EINVAL);
	/* RAM is not a BAR: the region table refuses the overlap */
	assert_int_equal(dml_pci_bar_add(f->gpu, 1, 0x1000, 4096, 0, 0), -EINVAL);
	/* described only: any size, no memory behind it */
	assert_int_equal(dml_pci_bar_add(f->gpu, 1, 0xd00000000ULL, 256, 0,
					 DML_PCI_BAR_NO_MMIO), 0);
	assert_null(dml_kmap_local_phys(f->p, 0xd00000000ULL, 16));
	/* a second device on a bound function */
	{
		struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev), .pci_dev = f->gpu };
		struct dml_device *d;

		assert_int_equal(dml_device_create(f->p, &o, &d), -EBUSY);
		o.pci_dev = f->rp0;
		assert_int_equal(dml_device_create(f->p, &o, &d), -EINVAL);
	}
	/* buses: rp0 1, rp1 2, sw 3, its downstream ports 4 and 5 */
	dml_pci_get_info(f->nic, &info);
	assert_string_equal(info.bdf, "0000:05:00.0");
	assert_string_equal(info.name, "nic");
	assert_int_equal(info.depth, 4);
	assert_ptr_equal(info.dev, f->nic_dev);
	assert_int_equal(info.bar[0].size, 1 << 20);
	dml_pci_get_info(f->down[1], &info);
	assert_string_equal(info.name, "sw.d1");
	assert_int_equal(info.secondary, 5);
	/* the requester id of a bound device is its function's */
	assert_int_equal(f->nic_dev->source_id, 0x0500);
	/* tree order */
	x = dml_pci_walk(f->p, NULL);
	assert_ptr_equal(x, f->hb);
	y = dml_pci_walk(f->p, x);
	assert_ptr_equal(y, f->rp0);
	for (x = f->hb; x && x != f->ssd; x = dml_pci_walk(f->p, x))
		;
	assert_ptr_equal(x, f->ssd);
	assert_null(dml_pci_walk(f->p, f->ssd));
}

/*
 * a PCI device created without a place sits on the first host bridge's
 * root bus; with none, on a default one no whitelist knows
 */
static void test_default_place(void **state)
{
	struct dml_platform *p;
	struct dml_device *a, *b;
	struct dml_pci_info info;
	int dist;

	(void)state;
	assert_int_equal(dml_platform_create_emu(NULL, &p), 0);
	assert_int_equal(dml_device_create(p, NULL, &a), 0);
	assert_int_equal(dml_device_create(p, NULL, &b), 0);
	assert_non_null(dml_pci_dev_of(a));
	dml_pci_get_info(dml_pci_dev_of(a), &info);
	assert_int_equal(info.type, DML_PCI_ENDPOINT);
	assert_int_equal(info.depth, 1);
	dml_pci_get_info(info.parent, &info);
	assert_int_equal(info.type, DML_PCI_HOST_BRIDGE);
	assert_string_equal(info.bdf, "pci0000:00");
	assert_int_equal(dml__pci_calc_map_type(dml_pci_dev_of(a), dml_pci_dev_of(b),
						&dist, false),
			 PCI_P2PDMA_MAP_NOT_SUPPORTED);
	assert_int_equal(dist, 2);
	/* destroying a device takes its implicit function away */
	dml_device_destroy(a);
	assert_ptr_equal(dml_pci_walk(p, NULL), dml_pci_dev_of(b)->parent);
	assert_ptr_equal(dml_pci_walk(p, dml_pci_dev_of(b)->parent), dml_pci_dev_of(b));
	assert_null(dml_pci_walk(p, dml_pci_dev_of(b)));
	dml_platform_destroy(p);
}

#define NR_CLIENTS 96
#define NR_THREADS 4

struct race {
	struct p2pdma_provider *pr;
	struct dml_device **dev;
	unsigned int seed;
	unsigned int wrong;
};

static void *race_fn(void *arg)
{
	struct race *r = arg;
	unsigned int i, k;

	for (k = 0; k < 20; k++) {
		for (i = 0; i < NR_CLIENTS; i++) {
			unsigned int c = (i * 7 + r->seed * 13 + k) % NR_CLIENTS;
			struct pci_p2pdma_map_state st = { 0 };

			if (pci_p2pdma_map_type(r->pr, r->dev[c]) != PCI_P2PDMA_MAP_BUS_ADDR ||
			    pci_p2pdma_state(&st, r->dev[c], GPU_BAR + c) != PCI_P2PDMA_MAP_BUS_ADDR)
				r->wrong++;
		}
	}
	return NULL;
}

/*
 * the cache is read without a lock while other threads fill it and grow
 * it: every reader sees a whole entry or none, never a wrong map type
 */
static void test_cache_concurrent(void **state)
{
	struct fx *f = *state;
	struct dml_device *dev[NR_CLIENTS];
	struct race r[NR_THREADS];
	pthread_t th[NR_THREADS];
	struct dml_pci_dev *sw_up, *sw_down[3], *fn;
	unsigned int i;

	/* 96 functions: 3 downstream ports of a second switch below d1 */
	assert_int_equal(dml_pci_switch_add(f->down[1], PCI_DEVFN(1, 0), 0x10b5, 0x8747,
					    NULL, 3, &sw_up, sw_down), 0);
	for (i = 0; i < NR_CLIENTS; i++) {
		assert_int_equal(dml_pci_dev_add(sw_down[i / 32], DML_PCI_ENDPOINT,
						 (u8)(i % 32 * 8), 0x8086, 0x0a54, NULL, &fn), 0);
		dev[i] = bind(f, fn);
	}
	for (i = 0; i < NR_THREADS; i++) {
		r[i] = (struct race){ .pr = bar0(f->gpu), .dev = dev, .seed = i };
		assert_int_equal(pthread_create(&th[i], NULL, race_fn, &r[i]), 0);
	}
	for (i = 0; i < NR_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(r[i].wrong, 0);
	}
	/* gpu: 2 links up to the first switch; the client: 4 */
	assert_int_equal(pci_p2pdma_distance(f->gpu, dev[95], false), 6);
}

/* every allocation of the topology calls fails cleanly and can be retried */
static void test_fail_nth(void **state)
{
	long n;

	(void)state;
	for (n = 1; n < 64; n++) {
		struct dml_platform *p;
		struct dml_pci_dev *hb = NULL, *rp = NULL, *ep = NULL;
		struct dml_device *dev = NULL;
		struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
		int ret;
		bool hit;

		assert_int_equal(dml_platform_create_emu(NULL, &p), 0);
		dml_fail_nth(n);
		ret = dml_pci_host_bridge_add(p, 0, 0, 0x8086, SKX_ROOT_PORT, NULL, &hb);
		if (!ret)
			ret = dml_pci_dev_add(hb, DML_PCI_ROOT_PORT, 8, 0, 0, NULL, &rp);
		if (!ret)
			ret = dml_pci_dev_add(rp, DML_PCI_ENDPOINT, 0, 0, 0, NULL, &ep);
		if (!ret)
			ret = dml_pci_bar_add(ep, 0, GPU_BAR, 4096, 0, 0);
		if (!ret)
			ret = pcim_p2pdma_init(ep);
		if (!ret) {
			o.pci_dev = ep;
			ret = dml_device_create(p, &o, &dev);
		}
		hit = dml_fail_nth_hit();
		dml_fail_nth(0);
		if (!hit) {
			assert_int_equal(ret, 0);
			assert_int_equal(pci_p2pdma_map_type(pcim_p2pdma_provider(ep, 0), dev),
					 PCI_P2PDMA_MAP_BUS_ADDR);
			dml_platform_destroy(p);
			return;
		}
		assert_int_equal(ret, -ENOMEM);
		dml_platform_destroy(p);
	}
	fail_msg("never got through");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_19_distance_0_same_function, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_19_distance_2_functions, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_19_distance_4_switch, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_19_acs_redirect_thru_host_bridge, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_19_acs_bits_that_redirect, fx_setup, fx_teardown),
	cmocka_unit_test(test_19_acs_redirect_not_whitelisted),
	cmocka_unit_test_setup_teardown(test_19_whitelist, fx_setup, fx_teardown),
	cmocka_unit_test(test_19_whitelist_same_host_bridge),
	cmocka_unit_test(test_19_amd_zen),
	cmocka_unit_test_setup_teardown(test_19_non_pci, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_19_cache_per_client, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_19_bus_offset_and_state, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_route, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_provider_needs_init, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_topology_rules, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_cache_concurrent, fx_setup, fx_teardown),
	cmocka_unit_test(test_default_place),
	cmocka_unit_test(test_fail_nth),
};

DML_TEST_MAIN(tests)
