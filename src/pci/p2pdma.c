/* SPDX-License-Identifier: MIT */
/*
 * p2pdma.c - the kernel's P2PDMA classification (drivers/pci/p2pdma.c,
 * 6.19) over the emulated topology: providers per BAR, the map type and
 * distance of a provider/client pair, the host bridge whitelist and the
 * AMD Zen rule, and the per-provider cache of map types.
 *
 * Terms: the provider is the function whose BAR holds the memory, the
 * client the function that does the DMA.  The "common upstream bridge" is
 * the first function met walking up from the provider that is also on the
 * client's way up (either function itself included).  The distance is
 * the number of links from each side up to it.
 *
 * The cache (struct dml_pci_map_cache) belongs to the provider function,
 * keyed by the client function's id; it is filled by the first
 * classification of a pair and never invalidated (see
 * dmalink/pci-p2pdma.h).  Lookups are lock-free; its mutex orders the
 * stores, the only lock on these paths.
 */
#include <stdio.h>
#include <string.h>

#include "pci.h"

#define PCI_VENDOR_ID_INTEL	0x8086
#define PCI_VENDOR_ID_GOOGLE	0x1ae0
#define ANY_DEVICE		(-1)

/*
 * Host bridges known to route peer-to-peer traffic between their root
 * ports (pci_p2pdma_whitelist[] in drivers/pci/p2pdma.c, 6.19): the ids
 * of the host bridge's 00.0 function or root port.  @same_host: only
 * between two devices below that one host bridge.
 */
static const struct whitelist_entry {
	u16 vendor;
	int device;
	bool same_host;
} whitelist[] = {
	{ PCI_VENDOR_ID_INTEL, 0x3c00, true },	/* Xeon E5 / Core i7 */
	{ PCI_VENDOR_ID_INTEL, 0x3c01, true },
	{ PCI_VENDOR_ID_INTEL, 0x2f00, true },	/* Xeon E7 v3 / E5 v3 */
	{ PCI_VENDOR_ID_INTEL, 0x2f01, true },
	{ PCI_VENDOR_ID_INTEL, 0x2030, false },	/* Skylake-E root ports */
	{ PCI_VENDOR_ID_INTEL, 0x2031, false },
	{ PCI_VENDOR_ID_INTEL, 0x2032, false },
	{ PCI_VENDOR_ID_INTEL, 0x2033, false },
	{ PCI_VENDOR_ID_INTEL, 0x2020, false },
	{ PCI_VENDOR_ID_INTEL, 0x09a2, false },
	{ PCI_VENDOR_ID_INTEL, 0x0b25, false },	/* DSA (Sapphire Rapids) */
	{ PCI_VENDOR_ID_INTEL, 0x0cfe, false },	/* IAX (Sapphire Rapids) */
	{ PCI_VENDOR_ID_INTEL, 0x11fb, false },	/* DSA (Granite Rapids-D) */
	{ PCI_VENDOR_ID_INTEL, 0x1212, false },	/* DSA (Diamond Rapids) */
	{ PCI_VENDOR_ID_INTEL, 0x1216, false },	/* IAA (Diamond Rapids) */
	{ PCI_VENDOR_ID_INTEL, 0x4940, false },	/* QAT 4xxx */
	{ PCI_VENDOR_ID_INTEL, 0x4942, false },	/* QAT 401xx */
	{ PCI_VENDOR_ID_INTEL, 0x4944, false },	/* QAT 402xx */
	{ PCI_VENDOR_ID_INTEL, 0x4946, false },	/* QAT 420xx */
	{ PCI_VENDOR_ID_INTEL, 0x4948, false },	/* QAT 6xxx */
	{ PCI_VENDOR_ID_GOOGLE, ANY_DEVICE, false },	/* Google SoCs */
};

/* __host_bridge_whitelist(): whether host bridge @h lets P2P through */
static bool host_whitelisted(const struct dml_pci_dev *h, bool same_host, bool warn)
{
	unsigned int i;

	if (!h->vendor)		/* no 00.0 function or root port to check */
		return false;
	for (i = 0; i < ARRAY_SIZE(whitelist); i++) {
		const struct whitelist_entry *e = &whitelist[i];

		if (e->vendor != h->vendor ||
		    (e->device != ANY_DEVICE && e->device != h->device))
			continue;
		return !e->same_host || same_host;
	}
	if (warn)
		dml__warn("%s: Host bridge not in P2PDMA whitelist: %04x:%04x",
			  h->bdf, h->vendor, h->device);
	return false;
}

/* host_bridge_whitelist(): both host bridges allow it */
static bool hosts_whitelisted(const struct dml_pci_dev *a,
			      const struct dml_pci_dev *b, bool warn)
{
	if (a->host == b->host)
		return host_whitelisted(a->host, true, warn);
	return host_whitelisted(a->host, false, warn) &&
	       host_whitelisted(b->host, false, warn);
}

/* append "BDF;" to the list of redirecting functions */
static void acs_list_add(char *buf, size_t len, const struct dml_pci_dev *pdev)
{
	size_t n = strlen(buf);

	if (n < len)
		snprintf(buf + n, len - n, "%s;", pdev->bdf);
}

enum pci_p2pdma_map_type dml__pci_calc_map_type(struct dml_pci_dev *provider,
						struct dml_pci_dev *client,
						int *dist, bool verbose)
{
	const struct dml_pci_dev *a, *b, *common = NULL;
	int dist_a = 0, dist_b = 0, acs_cnt = 0;
	bool acs_redirects = false;
	char acs_list[128] = "";

	/* up from the provider until a function on the client's way up */
	for (a = provider; a && !common; a = dml__pci_upstream_bridge(a)) {
		if (dml__pci_acs_redirects(a)) {
			acs_list_add(acs_list, sizeof(acs_list), a);
			acs_cnt++;
		}
		for (b = client, dist_b = 0; b; b = dml__pci_upstream_bridge(b)) {
			if (a == b) {
				common = a;
				break;
			}
			dist_b++;
		}
		if (!common)
			dist_a++;
	}
	*dist = dist_a + dist_b;
	if (!common)
		goto through_host_bridge;

	/* the client's side, below the common bridge */
	for (b = client; b != common; b = dml__pci_upstream_bridge(b)) {
		if (dml__pci_acs_redirects(b)) {
			acs_list_add(acs_list, sizeof(acs_list), b);
			acs_cnt++;
		}
	}
	if (!acs_cnt)
		return PCI_P2PDMA_MAP_BUS_ADDR;
	if (verbose) {
		acs_list[strlen(acs_list) - 1] = 0;	/* the last ';' */
		dml__warn("%s: ACS redirect is set between the client and provider (%s)",
			  client->bdf, provider->bdf);
		dml__warn("%s: to disable ACS redirect for this path, add the kernel parameter: pci=disable_acs_redir=%s",
			  client->bdf, acs_list);
	}
	acs_redirects = true;

through_host_bridge:
	if (!dml__pci_cpu_supports_p2pdma(provider->plat) &&
	    !hosts_whitelisted(provider, client, acs_redirects)) {
		if (verbose)
			dml__warn("%s: cannot be used for peer-to-peer DMA as the client and provider (%s) do not share an upstream bridge or whitelisted host bridge",
				  client->bdf, provider->bdf);
		return PCI_P2PDMA_MAP_NOT_SUPPORTED;
	}
	return PCI_P2PDMA_MAP_THRU_HOST_BRIDGE;
}

static unsigned int map_hash(u32 client, unsigned int mask)
{
	return (client * 0x9e3779b1u) & mask;
}

bool dml__pci_host_allows_p2p(struct dml_pci_dev *a, struct dml_pci_dev *b)
{
	return dml__pci_cpu_supports_p2pdma(a->plat) || hosts_whitelisted(a, b, false);
}

enum dml_pci_route dml__pci_route(struct dml_device *dev, dma_addr_t addr,
				  struct dml_pci_bar **bar)
{
	struct dml_pci_bar *b = dev->pci_dev ? dml__pci_bar_find_bus(dev->plat, addr) : NULL;
	int dist;

	*bar = NULL;
	if (!b || dml__pci_calc_map_type(b->pdev, dev->pci_dev, &dist, false) !=
		  PCI_P2PDMA_MAP_BUS_ADDR)
		return DML_PCI_ROUTE_UPSTREAM;
	*bar = b;
	return DML_PCI_ROUTE_PEER;
}

/* the cached map type of @client, PCI_P2PDMA_MAP_UNKNOWN if none; lock-free */
static enum pci_p2pdma_map_type cache_lookup(struct dml_pci_map_cache *c, u32 client)
{
	struct dml_pci_map_table *t = atomic_load_explicit(&c->tab, memory_order_acquire);
	u64 key = (u64)(client + 1) << 32;
	unsigned int i;

	if (!t)
		return PCI_P2PDMA_MAP_UNKNOWN;
	for (i = map_hash(client, t->mask);; i = (i + 1) & t->mask) {
		u64 v = atomic_load_explicit(&t->slot[i], memory_order_relaxed);

		if (!v)
			return PCI_P2PDMA_MAP_UNKNOWN;
		if ((v & ~0xffffffffULL) == key)
			return (enum pci_p2pdma_map_type)(v & 0xff);
	}
}

/* put @v (key and map) into @t, which has room; c->lock held */
static void table_put(struct dml_pci_map_table *t, u64 v)
{
	unsigned int i = map_hash((u32)(v >> 32) - 1, t->mask);

	for (;; i = (i + 1) & t->mask) {
		u64 old = atomic_load_explicit(&t->slot[i], memory_order_relaxed);

		if (!old || (old & ~0xffffffffULL) == (v & ~0xffffffffULL)) {
			t->nr += !old;
			atomic_store_explicit(&t->slot[i], v, memory_order_release);
			return;
		}
	}
}

/*
 * cache_store - remember @map for @client (xa_store(): on -ENOMEM the
 * pair is simply computed again next time)
 */
static void cache_store(struct dml_pci_map_cache *c, u32 client,
			enum pci_p2pdma_map_type map)
{
	struct dml_pci_map_table *t, *n;
	unsigned int i, size;

	pthread_mutex_lock(&c->lock);
	t = atomic_load_explicit(&c->tab, memory_order_relaxed);
	if (!t || 2 * (t->nr + 1) > t->mask + 1) {
		size = t ? 2 * (t->mask + 1) : 16;
		n = dml__zalloc(sizeof(*n) + size * sizeof(n->slot[0]));
		if (!n)
			goto out;
		n->mask = size - 1;
		for (i = 0; t && i <= t->mask; i++) {
			u64 v = atomic_load_explicit(&t->slot[i], memory_order_relaxed);

			if (v)
				table_put(n, v);
		}
		n->retired = t;
		atomic_store_explicit(&c->tab, n, memory_order_release);
		t = n;
	}
	table_put(t, (u64)(client + 1) << 32 | map);
out:
	pthread_mutex_unlock(&c->lock);
}

/* calc_map_type_and_dist(): classify, and cache when the provider is set up */
static enum pci_p2pdma_map_type calc_and_store(struct dml_pci_dev *provider,
					       struct dml_pci_dev *client,
					       int *dist, bool verbose)
{
	enum pci_p2pdma_map_type map;
	struct dml_pci_map_cache *c;

	map = dml__pci_calc_map_type(provider, client, dist, verbose);
	c = atomic_load_explicit(&provider->p2pdma, memory_order_acquire);
	if (c)
		cache_store(c, client->id, map);
	return map;
}

int pcim_p2pdma_init(struct dml_pci_dev *pdev)
{
	struct dml_pci_map_cache *c, *none = NULL;

	if (!pdev || pdev->type == DML_PCI_HOST_BRIDGE)
		return -EINVAL;
	if (atomic_load(&pdev->p2pdma))
		return 0;
	c = dml__zalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	if (!atomic_compare_exchange_strong(&pdev->p2pdma, &none, c)) {
		pthread_mutex_destroy(&c->lock);
		dml__free(c);
	}
	return 0;
}

struct p2pdma_provider *pcim_p2pdma_provider(struct dml_pci_dev *pdev, int bar)
{
	if (!pdev || bar < 0 || bar >= PCI_STD_NUM_BARS || !pdev->bar[bar].provider.size)
		return NULL;
	if (DML_WARN_ON(!atomic_load(&pdev->p2pdma)))
		return NULL;	/* pcim_p2pdma_init() was not called */
	return &pdev->bar[bar].provider;
}

enum pci_p2pdma_map_type pci_p2pdma_map_type(struct p2pdma_provider *provider,
					     struct dml_device *dev)
{
	struct dml_pci_dev *pdev, *client;
	enum pci_p2pdma_map_type map;
	struct dml_pci_map_cache *c;
	int dist;

	if (!provider)
		return PCI_P2PDMA_MAP_NOT_SUPPORTED;
	pdev = provider->owner;
	c = atomic_load_explicit(&pdev->p2pdma, memory_order_acquire);
	if (!c || !dev || !dev->pci_dev || dev->plat != pdev->plat)
		return PCI_P2PDMA_MAP_NOT_SUPPORTED;
	client = dev->pci_dev;
	/*
	 * a confidential guest: the BARs of a provider in TDISP RUN are
	 * private MMIO, which only a client accepted into the same TVM
	 * reaches; the others cannot bounce MMIO, so they fail (not cached:
	 * the states change)
	 */
	if (unlikely(dml__tdisp_run(pdev)) && !dml__tdisp_tvm_peer(client, pdev))
		return PCI_P2PDMA_MAP_NOT_SUPPORTED;
	map = cache_lookup(c, client->id);
	if (map == PCI_P2PDMA_MAP_UNKNOWN)
		map = calc_and_store(pdev, client, &dist, true);
	return map;
}

enum pci_p2pdma_map_type __pci_p2pdma_update_state(struct pci_p2pdma_map_state *state,
						   struct dml_device *dev,
						   phys_addr_t phys)
{
	struct dml_pci_bar *bar = dev && dev->plat ?
				  dml__pci_bar_find(dev->plat, phys) : NULL;

	if (!bar || !atomic_load_explicit(&bar->pdev->p2pdma, memory_order_acquire))
		return PCI_P2PDMA_MAP_NONE;
	state->mem = &bar->provider;
	state->map = pci_p2pdma_map_type(&bar->provider, dev);
	return state->map;
}

int pci_p2pdma_distance_many(struct dml_pci_dev *provider,
			     struct dml_device **clients, int num_clients,
			     bool verbose)
{
	bool not_supported = false;
	int total = 0, i;

	if (!provider || num_clients <= 0 || !clients)
		return -1;
	for (i = 0; i < num_clients; i++) {
		struct dml_pci_dev *client = dml_pci_dev_of(clients[i]);
		int dist;

		if (!client || client->plat != provider->plat) {
			if (verbose)
				dml__warn("%s: cannot be used for peer-to-peer DMA as it is not a PCI device",
					  clients[i] ? clients[i]->name : "(null)");
			return -1;
		}
		if (calc_and_store(provider, client, &dist, verbose) ==
		    PCI_P2PDMA_MAP_NOT_SUPPORTED)
			not_supported = true;
		if (not_supported && !verbose)
			break;
		total += dist;
	}
	return not_supported ? -1 : total;
}
