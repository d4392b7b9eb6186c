/* SPDX-License-Identifier: MIT */
/*
 * internal.h - the case tables of dml-bench-internal, the white-box
 * benchmarks of the library's internals (they call dml__ functions and
 * backend ops directly, so they live here and not in the dmalink command).
 */
#ifndef DML_BENCH_INTERNAL_H
#define DML_BENCH_INTERNAL_H

#include "bench.h"

/* bench_iova.c: the IOVA allocator (src/iova/iova.c) */
extern const struct dml_bench_case dml_bench_iova_cases[];
/* bench_pgtable.c: the emulated VT-d page table through domain ops */
extern const struct dml_bench_case dml_bench_pgtable_cases[];

#endif /* DML_BENCH_INTERNAL_H */
