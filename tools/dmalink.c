/* SPDX-License-Identifier: MIT */
/*
 * dmalink.c - the dmalink command: dispatch to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include <dmalink/version.h>

#include "bench.h"
#include "tools.h"

/* the public-API cases; bench/dml-bench-internal runs the white-box ones */
static const struct dml_bench_case *const bench_tables[] = {
	dml_bench_dma_cases,
	dml_bench_swiotlb_cases,
	dml_bench_hmm_cases,
	dml_bench_dmabuf_cases,
	dml_bench_cc_cases,
};

/**
 * dml_cmd_bench - the `dmalink bench` command
 * @argc: number of entries in @argv
 * @argv: argv[0] is "bench", then the options (dml_bench_main())
 *
 * Return: the exit status of dml_bench_main().
 */
int dml_cmd_bench(int argc, char **argv)
{
	return dml_bench_main("dmalink bench", argc, argv, bench_tables,
			      ARRAY_SIZE(bench_tables));
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} cmds[] = {
	{ "replay", dml_cmd_replay, "replay a block trace through each mapping strategy" },
	{ "bench", dml_cmd_bench, "micro-benchmarks in ns, with ratios to anchors" },
	{ "layout", dml_cmd_layout, "capture or show a physical memory layout" },
	{ "topo", dml_cmd_topo, "PCI topology and peer-to-peer matrix (file or sysfs)" },
};

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: dmalink COMMAND [options]\n\ncommands:\n");
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].what);
	fprintf(f, "\n'dmalink COMMAND --help' for a command's options;\n"
		"'dmalink -V' or 'dmalink --version' for the release.\n");
}

int main(int argc, char **argv)
{
	unsigned int i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("dmalink %d.%d.%d\n", DMALINK_VERSION_MAJOR,
		       DMALINK_VERSION_MINOR, DMALINK_VERSION_PATCH);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "dmalink: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
