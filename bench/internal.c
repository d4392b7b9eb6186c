/* SPDX-License-Identifier: MIT */
/*
 * internal.c - dml-bench-internal: the white-box micro-benchmarks of the
 * library's internals (IOVA allocator, emulated page table), with the
 * options and output of `dmalink bench` (tools/bench.c).
 */
#include "internal.h"
#include "tools.h"

static const struct dml_bench_case *const tables[] = {
	dml_bench_iova_cases,
	dml_bench_pgtable_cases,
};

int main(int argc, char **argv)
{
	return dml_bench_main("dml-bench-internal", argc, argv, tables,
			      ARRAY_SIZE(tables));
}
