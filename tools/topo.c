/* SPDX-License-Identifier: MIT */
/*
 * topo.c - `dmalink topo`: a PCI topology as a tree (ids, ACS bits, BARs)
 * and its peer-to-peer matrix (map type and distance of every provider
 * and client pair, as the kernel's P2PDMA code classifies them), read
 * from a topology description (docs/topology.md) or mirrored from a real
 * machine's /sys/bus/pci.  Given two functions it answers the question
 * users ask: can they do P2P, and by which path.
 *
 * The mirror is an emulated platform built with dmalink/pci.h, so the
 * answer comes from the same classification the mapping paths use.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dmalink/pci-p2pdma.h>

#include "tools.h"

#define MAX_NOTES 64

struct topo {
	struct dml_platform *p;
	bool json;
	char *notes[MAX_NOTES];		/* warnings of the classification, etc. */
	unsigned int nr_notes;
	unsigned int dropped_notes;
};

static void note(struct topo *t, const char *msg)
{
	unsigned int i;

	for (i = 0; i < t->nr_notes; i++)
		if (!strcmp(t->notes[i], msg))
			return;
	if (t->nr_notes == MAX_NOTES) {
		t->dropped_notes++;
		return;
	}
	t->notes[t->nr_notes] = strdup(msg);
	if (t->notes[t->nr_notes])
		t->nr_notes++;
}

static void log_sink(void *arg, int level, const char *msg)
{
	(void)level;
	note(arg, msg);
}

static const char *type_str(enum dml_pci_type type)
{
	switch (type) {
	case DML_PCI_HOST_BRIDGE: return "host bridge";
	case DML_PCI_ROOT_PORT: return "root port";
	case DML_PCI_SWITCH_UP: return "switch upstream port";
	case DML_PCI_SWITCH_DOWN: return "switch downstream port";
	default: return "endpoint";
	}
}

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

static const char *const acs_names[] = { "sv", "tb", "rr", "cr", "uf", "ec", "dt" };

/* "rr,cr", "none" (capability, nothing set) or "-" (no capability) */
static void acs_str(const struct dml_pci_info *in, char *buf, size_t len)
{
	unsigned int i;
	size_t n = 0;

	buf[0] = 0;
	if (!in->acs_cap) {
		snprintf(buf, len, "-");
		return;
	}
	for (i = 0; i < sizeof(acs_names) / sizeof(acs_names[0]); i++)
		if (in->acs_ctrl & (1u << i))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "",
					      acs_names[i]);
	if (!n)
		snprintf(buf, len, "none");
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* a provider: an endpoint with a memory BAR; its first such BAR, or -1 */
static int provider_bar(const struct dml_pci_info *in)
{
	int i;

	if (in->type != DML_PCI_ENDPOINT)
		return -1;
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		if (in->bar[i].size)
			return i;
	return -1;
}

/* bind a device to every endpoint and set up every provider */
static int attach(struct topo *t)
{
	struct dml_pci_dev *pdev;
	int ret;

	for (pdev = dml_pci_walk(t->p, NULL); pdev; pdev = dml_pci_walk(t->p, pdev)) {
		struct dml_pci_info in;
		struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
		struct dml_device *dev;

		dml_pci_get_info(pdev, &in);
		if (in.type != DML_PCI_ENDPOINT)
			continue;
		o.name = in.name;
		o.pci_dev = pdev;
		ret = dml_device_create(t->p, &o, &dev);
		if (!ret && provider_bar(&in) >= 0)
			ret = pcim_p2pdma_init(pdev);
		if (ret) {
			fprintf(stderr, "dmalink topo: %s: %s\n", in.name, strerror(-ret));
			return 1;
		}
	}
	return 0;
}

static void print_tree(struct topo *t)
{
	struct dml_pci_dev *pdev;
	bool first = true;

	if (t->json)
		printf("\"functions\":[");
	else
		printf("topology:\n");
	for (pdev = dml_pci_walk(t->p, NULL); pdev; pdev = dml_pci_walk(t->p, pdev)) {
		struct dml_pci_info in, par;
		bool bfirst;
		char acs[40];
		int i;

		dml_pci_get_info(pdev, &in);
		acs_str(&in, acs, sizeof(acs));
		if (t->json) {
			printf("%s{\"name\":", first ? "" : ",");
			json_str(in.name);
			printf(",\"bdf\":\"%s\",\"type\":\"%s\",\"id\":\"%04x:%04x\"",
			       in.bdf, type_str(in.type), in.vendor, in.device);
			if (in.parent) {
				dml_pci_get_info(in.parent, &par);
				printf(",\"parent\":");
				json_str(par.name);
			}
			if (in.type != DML_PCI_HOST_BRIDGE)
				printf(",\"acs\":\"%s\"", acs);
			printf(",\"bars\":[");
			for (i = 0, bfirst = true; i < PCI_STD_NUM_BARS; i++) {
				if (!in.bar[i].size)
					continue;
				printf("%s{\"index\":%d,\"phys\":\"0x%llx\",\"size\":%llu,"
				       "\"bus_offset\":\"0x%llx\"}", bfirst ? "" : ",",
				       i, (unsigned long long)in.bar[i].phys,
				       (unsigned long long)in.bar[i].size,
				       (unsigned long long)in.bar[i].bus_offset);
				bfirst = false;
			}
			printf("]}");
			first = false;
			continue;
		}
		printf("%*s%s", 2 * (int)in.depth + 2, "", in.bdf);
		if (strcmp(in.name, in.bdf))
			printf(" %s", in.name);
		printf(" [%04x:%04x] %s", in.vendor, in.device, type_str(in.type));
		if (in.type != DML_PCI_HOST_BRIDGE)
			printf(", ACS %s", acs);
		printf("\n");
		for (i = 0; i < PCI_STD_NUM_BARS; i++) {
			const struct dml_pci_bar_info *b = &in.bar[i];

			if (!b->size)
				continue;
			printf("%*sBAR%d 0x%llx-0x%llx (%llu KiB), bus 0x%llx\n",
			       2 * (int)in.depth + 4, "", i,
			       (unsigned long long)b->phys,
			       (unsigned long long)(b->phys + b->size - 1),
			       (unsigned long long)(b->size >> 10),
			       (unsigned long long)(b->phys + b->bus_offset));
		}
	}
	if (t->json)
		printf("]");
}

/* one column of the matrix, after @pad blanks owed by the one before */
static void cell(int *pad, int w, const char *text)
{
	printf("%*s %s", *pad, "", text);
	*pad = w - (int)strlen(text);
}

/* classify every provider/client pair: "map/distance" */
static void print_matrix(struct topo *t)
{
	struct dml_pci_dev *prov, *cl;
	bool first = true;
	int w = 6, pad = 0;

	for (cl = dml_pci_walk(t->p, NULL); cl; cl = dml_pci_walk(t->p, cl)) {
		struct dml_pci_info in;

		dml_pci_get_info(cl, &in);
		if (in.dev && (int)strlen(in.name) > w)
			w = (int)strlen(in.name);
	}
	w = w < 16 ? 16 : w;
	if (t->json) {
		printf(",\"matrix\":[");
	} else {
		printf("\np2p matrix: provider (row, its first memory BAR) used by client (column): map type/distance\n");
		pad = w;
		for (cl = dml_pci_walk(t->p, NULL); cl; cl = dml_pci_walk(t->p, cl)) {
			struct dml_pci_info in;

			dml_pci_get_info(cl, &in);
			if (in.dev)
				cell(&pad, w, in.name);
		}
		printf("\n");
	}
	for (prov = dml_pci_walk(t->p, NULL); prov; prov = dml_pci_walk(t->p, prov)) {
		struct dml_pci_info pin;
		int bar;

		dml_pci_get_info(prov, &pin);
		bar = provider_bar(&pin);
		if (bar < 0)
			continue;
		if (!t->json) {
			printf("%s", pin.name);
			pad = w - (int)strlen(pin.name);
		}
		for (cl = dml_pci_walk(t->p, NULL); cl; cl = dml_pci_walk(t->p, cl)) {
			struct dml_pci_info cin;
			enum pci_p2pdma_map_type map;
			char text[40];
			int dist;

			dml_pci_get_info(cl, &cin);
			if (!cin.dev)
				continue;
			map = pci_p2pdma_map_type(pcim_p2pdma_provider(prov, bar), cin.dev);
			dist = pci_p2pdma_distance(prov, cin.dev, false);
			if (t->json) {
				printf("%s{\"provider\":", first ? "" : ",");
				json_str(pin.name);
				printf(",\"client\":");
				json_str(cin.name);
				printf(",\"map\":\"%s\",\"distance\":%d}", map_str(map), dist);
				first = false;
				continue;
			}
			if (dist < 0)
				snprintf(text, sizeof(text), "%s", map_str(map));
			else
				snprintf(text, sizeof(text), "%s/%d", map_str(map), dist);
			cell(&pad, w, text);
		}
		if (!t->json)
			printf("\n");
	}
	if (t->json)
		printf("]");
}

/* the functions from @a up to the host bridge, @a first */
static unsigned int chain(struct dml_pci_dev *a, struct dml_pci_dev **out, unsigned int max)
{
	unsigned int n = 0;

	while (a && n < max) {
		struct dml_pci_info in;

		out[n++] = a;
		dml_pci_get_info(a, &in);
		a = in.parent;
	}
	return n;
}

/*
 * the path from @prov to @cl: up to where their ways up meet, then down;
 * a NULL entry where it crosses between host bridges.  Return: entries.
 */
static unsigned int path(struct dml_pci_dev *prov, struct dml_pci_dev *cl,
			 struct dml_pci_dev **out)
{
	struct dml_pci_dev *pa[64], *pb[64];
	unsigned int na = chain(prov, pa, 64), nb = chain(cl, pb, 64), i, j = nb, n = 0;

	for (i = 0; i < na; i++) {
		out[n++] = pa[i];
		for (j = 0; j < nb && pb[j] != pa[i]; j++)
			;
		if (j < nb)
			break;
	}
	if (i == na)
		out[n++] = NULL;
	while (j-- > 0)
		out[n++] = pb[j];
	return n;
}

static struct dml_pci_dev *find(struct topo *t, const char *name)
{
	struct dml_pci_dev *pdev;

	for (pdev = dml_pci_walk(t->p, NULL); pdev; pdev = dml_pci_walk(t->p, pdev)) {
		struct dml_pci_info in;

		dml_pci_get_info(pdev, &in);
		if (!strcmp(in.name, name) || !strcmp(in.bdf, name))
			return pdev;
	}
	return NULL;
}

/* can @pa's memory be used by @pb, and by which path */
static void answer_one(struct topo *t, struct dml_pci_dev *pa, struct dml_pci_dev *pb,
		       bool first)
{
	enum pci_p2pdma_map_type map = PCI_P2PDMA_MAP_NOT_SUPPORTED;
	struct dml_pci_dev *hops[130];
	struct dml_pci_info a, b, in;
	unsigned int n, i;
	int bar, dist = -1;
	const char *why;

	dml_pci_get_info(pa, &a);
	dml_pci_get_info(pb, &b);
	bar = provider_bar(&a);
	if (bar >= 0 && b.dev) {
		map = pci_p2pdma_map_type(pcim_p2pdma_provider(pa, bar), b.dev);
		dist = pci_p2pdma_distance(pa, b.dev, false);
	}
	why = bar < 0 ? "no: the provider is not an endpoint with a memory BAR" :
	      !b.dev ? "no: the client is not an endpoint" :
	      map == PCI_P2PDMA_MAP_BUS_ADDR ? "yes, directly below a common bridge: bus addresses, no IOMMU" :
	      map == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE ? "yes, through the root complex: mapped like host memory with DMA_ATTR_MMIO" :
	      "no: the path crosses a host bridge that does not allow it";
	n = path(pa, pb, hops);
	if (t->json) {
		printf("%s{\"provider\":", first ? "" : ",");
		json_str(a.name);
		printf(",\"client\":");
		json_str(b.name);
		printf(",\"map\":\"%s\",\"distance\":%d,\"answer\":",
		       bar >= 0 && b.dev ? map_str(map) : "none", dist);
		json_str(why);
		printf(",\"path\":[");
	} else {
		printf("%s used by %s: %s", a.name, b.name, why);
		if (dist >= 0)
			printf(", distance %d", dist);
		printf("\n  path: ");
	}
	for (i = 0; i < n; i++) {
		if (hops[i])
			dml_pci_get_info(hops[i], &in);
		if (t->json) {
			printf("%s", i ? "," : "");
			json_str(hops[i] ? in.name : "(between host bridges)");
		} else {
			printf("%s%s", i ? " -> " : "", hops[i] ? in.name : "(between host bridges)");
		}
	}
	printf(t->json ? "]}" : "\n");
}

static void print_notes(struct topo *t)
{
	unsigned int i;

	if (t->json) {
		printf("\"notes\":[");
		for (i = 0; i < t->nr_notes; i++) {
			printf("%s", i ? "," : "");
			json_str(t->notes[i]);
		}
		printf("]");
		return;
	}
	if (t->nr_notes)
		printf("\nnotes:\n");
	for (i = 0; i < t->nr_notes; i++)
		printf("  %s\n", t->notes[i]);
	if (t->dropped_notes)
		printf("  (%u more)\n", t->dropped_notes);
}

/* the topology of @root/sys/bus/pci mirrored into @t->p (the library's reader) */
static int load_sysfs(struct topo *t, const char *root)
{
	struct dml_pci_sysfs_report rep;
	char dir[PATH_MAX], cpu[PATH_MAX], msg[128];
	int ret;

	snprintf(dir, sizeof(dir), "%s/sys/bus/pci/devices", root);
	snprintf(cpu, sizeof(cpu), "%s/proc/cpuinfo", root);
	ret = dml_pci_topology_from_sysfs(t->p, dir, cpu, 0, &rep);
	if (ret) {
		fprintf(stderr, "dmalink topo: cannot read %s: %s\n", dir, strerror(-ret));
		return 2;
	}
	if (!rep.cpu_read)
		note(t, "could not read /proc/cpuinfo: the AMD rule is not applied");
	if (rep.acs_unreadable) {
		snprintf(msg, sizeof(msg),
			 "ACS of %u functions unreadable (extended config space needs root): taken as no redirect",
			 rep.acs_unreadable);
		note(t, msg);
	}
	note(t, "bus offsets are not in sysfs: taken as 0");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dmalink topo [--json] FILE [A B]\n"
		"       dmalink topo [--json] --sysfs [--root DIR] [A B]\n"
		"Print a PCI topology as a tree (ids, ACS bits, BARs) and its\n"
		"peer-to-peer matrix (map type and distance of each provider/client\n"
		"pair, as drivers/pci/p2pdma.c classifies them).\n"
		"  FILE        a topology description (docs/topology.md)\n"
		"  --sysfs     mirror this machine's /sys/bus/pci instead\n"
		"  --root DIR  read DIR/sys and DIR/proc instead of / (--sysfs)\n"
		"  A B         two functions (name or BDF): can each use the other's\n"
		"              memory for P2P, and by which path\n"
		"  --json      the tree, matrix and notes as JSON\n"
		"Exit: 0; 2 for bad usage or a malformed FILE (FILE:LINE named).\n");
}

int dml_cmd_topo(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sysfs", no_argument, NULL, 's' },
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, cpu_family),
		.ram_size = 2ULL << 20,
		.swiotlb_off = true,
	};
	struct topo t = { 0 };
	const char *root = "", *file = NULL;
	struct dml_pci_dev *pa = NULL, *pb = NULL;
	bool sysfs = false;
	int c, ret = 0, nargs;
	unsigned int i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'j': t.json = true; break;
		case 's': sysfs = true; break;
		case 'r': root = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	nargs = argc - optind;
	if (!sysfs && nargs >= 1)
		file = argv[optind++], nargs--;
	if ((!sysfs && !file) || (nargs != 0 && nargs != 2)) {
		usage(stderr);
		return 2;
	}
	ret = dml_platform_create_emu(&eo, &t.p);
	if (ret) {
		fprintf(stderr, "dmalink topo: cannot create the platform: %s\n", strerror(-ret));
		return 1;
	}
	if (sysfs) {
		/* the reader's warnings (functions not placed) become notes */
		dml_set_log(log_sink, &t);
		ret = load_sysfs(&t, root);
		dml_set_log(NULL, NULL);
	} else {
		char *buf = NULL, err[512];
		size_t len = 0;

		ret = dml_tool_read_file(file, &buf, &len);
		if (ret) {
			fprintf(stderr, "dmalink topo: %s: %s\n", file, strerror(-ret));
			ret = 2;
			goto out;
		}
		ret = dml_pci_topology_parse(t.p, buf, len, file, err, sizeof(err));
		free(buf);
		if (ret) {
			fprintf(stderr, "dmalink topo: %s\n", err);
			ret = 2;
			goto out;
		}
	}
	if (ret || (ret = attach(&t)))
		goto out;
	if (nargs == 2) {
		pa = find(&t, argv[optind]);
		pb = find(&t, argv[optind + 1]);
		if (!pa || !pb) {
			fprintf(stderr, "dmalink topo: no function '%s'\n",
				argv[optind + (pa ? 1 : 0)]);
			ret = 2;
			goto out;
		}
	}
	/* the classification's warnings become notes */
	dml_set_log(log_sink, &t);
	if (t.json)
		printf("{");
	if (pa) {
		printf(t.json ? "\"answers\":[" : "");
		answer_one(&t, pa, pb, true);
		answer_one(&t, pb, pa, false);
		printf(t.json ? "]," : "");
	} else {
		print_tree(&t);
		print_matrix(&t);
		printf(t.json ? "," : "");
	}
	dml_set_log(NULL, NULL);
	print_notes(&t);
	if (t.json)
		printf("}\n");
out:
	dml_set_log(NULL, NULL);
	dml_platform_destroy(t.p);
	for (i = 0; i < t.nr_notes; i++)
		free(t.notes[i]);
	return ret;
}
