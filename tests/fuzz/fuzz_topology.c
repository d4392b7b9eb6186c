/* SPDX-License-Identifier: MIT */
/*
 * fuzz_topology.c - libFuzzer harness for the topology description parser
 * (dml_pci_topology_parse, docs/topology.md): any input must give 0 or a
 * clean error naming a line, never a crash, a leak or a read past the
 * buffer; whatever it built must classify without crashing, and the map
 * type and the distance of every pair must agree.
 * Build: meson setup with CC=clang (tests/meson.build builds it then);
 * run: build/tests/fuzz_topology -max_len=4096 data/topologies/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dmalink/pci-p2pdma.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, swiotlb_off),
		.ram_size = 2ULL << 20,
		.swiotlb_off = true,
	};
	struct dml_pci_dev *a, *fn[32];
	struct dml_device *dev[32];
	struct dml_platform *p;
	unsigned int n, i, j;
	char err[256];
	int ret;

	dml_set_log(fuzz_quiet, NULL);
	if (dml_platform_create_emu(&eo, &p))
		return 0;
	ret = dml_pci_topology_parse(p, (const char *)data, size, "fuzz", err, sizeof(err));
	if (ret && strncmp(err, "fuzz:", 5))
		abort();	/* every error names the line */
	/* bind a device to each endpoint, then classify every pair */
	for (a = dml_pci_walk(p, NULL), n = 0; a && n < 32; a = dml_pci_walk(p, a)) {
		struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev), .pci_dev = a };
		struct dml_pci_info in;

		dml_pci_get_info(a, &in);
		if (in.type != DML_PCI_ENDPOINT || dml_device_create(p, &o, &dev[n]))
			continue;
		fn[n++] = a;
		if (pcim_p2pdma_init(a))
			abort();
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			int bar;

			for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
				struct p2pdma_provider *pr = pcim_p2pdma_provider(fn[i], bar);
				enum pci_p2pdma_map_type map;

				if (!pr)
					continue;
				map = pci_p2pdma_map_type(pr, dev[j]);
				if ((map == PCI_P2PDMA_MAP_NOT_SUPPORTED) !=
				    (pci_p2pdma_distance(fn[i], dev[j], false) < 0))
					abort();	/* the two answers agree */
			}
		}
	}
	dml_platform_destroy(p);
	return 0;
}
