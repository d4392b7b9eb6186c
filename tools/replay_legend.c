/* SPDX-License-Identifier: MIT */
/*
 * replay_legend.c - what each column of the `dmalink replay` table means,
 * printed under the table and in --help (issue 12: the abbreviations were
 * explained nowhere).  One text, so the two can never disagree.
 */
#include "replay.h"

void dml_replay_legend(FILE *f)
{
	fprintf(f,
		"columns (per request = mean over the strategy's requests):\n"
		"  caller ns  CPU ns of the caller's whole cost: its own structure\n"
		"             (sg: sg_alloc_table, filling, sg_free_table; page: the\n"
		"             per-range address array; iova: none) + map + unmap;\n"
		"             p50 ns and p99 ns are its percentiles\n"
		"  map+unmap  mean CPU ns of the DMA API calls alone\n"
		"  inval/rq   IOTLB invalidations (range and global) per request\n"
		"  iova/rq    IOVA allocations per request\n"
		"  pt/rq      IOMMU page-table pages touched per request\n"
		"  meta B/rq  bytes of the caller's mapping state per request (sg:\n"
		"             sg_table + scatterlist; page: the dma_vec array;\n"
		"             iova: struct dma_iova_state)\n"
		"  segs/rq    DMA segments the device is handed per request\n"
		"  faults     DMA faults the device took (must be 0)\n"
		"  verified   requests whose every byte the device moved correctly\n");
}
