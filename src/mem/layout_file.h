/* SPDX-License-Identifier: MIT */
/*
 * layout_file.h - captured physical memory layouts (`--layout file:PATH`),
 * internal side: loading the text file that `dmalink layout capture`
 * writes.  The file is one buffer's physical layout as the kernel gave it
 * (shared/reference/real-inputs.md §1b): the PFNs of its 4 KiB pages in
 * virtual-address order, as runs of physically contiguous frames.
 *
 * Format, version 1 (text, one item per line):
 *
 *	# dmalink layout 1		required, the first line
 *	# mode: 4k|thp			required
 *	# bytes: <N>			required: buffer size in bytes, which
 *					must equal the runs' pages * 4096
 *	# machine: <free text>		optional
 *	# date: YYYY-MM-DD		optional
 *	0x<pfn hex> <npages decimal>	one per run, at least one
 *
 * A run is a maximal stretch of pages whose PFNs ascend by one; pages in
 * descending physical order therefore appear as many 1-page runs.  PFNs
 * fit in 55 bits (pagemap bits 0-54).  Other lines starting with '#' are
 * comments, blank lines are ignored, lines are at most 1023 bytes.
 */
#ifndef DML_MEM_LAYOUT_FILE_H
#define DML_MEM_LAYOUT_FILE_H

#include "../base/base.h"

/* The first line of every layout file. */
#define DML_LAYOUT_FILE_MAGIC "# dmalink layout 1"

/* PFNs are pagemap bits 0-54. */
#define DML_LAYOUT_PFN_BITS 55

/**
 * struct dml_layout_file - a loaded layout
 * @pfn: first frame number of each run (4 KiB frames)
 * @npages: length of each run in 4 KiB pages (>= 1)
 * @nr_runs: entries in @pfn and @npages (>= 1)
 * @total_pages: sum of @npages; the "# bytes:" header divided by 4096
 * @max_pfn: the highest frame any run covers (inclusive: pfn + npages - 1)
 * @mode: "4k" or "thp", NUL-terminated
 */
struct dml_layout_file {
	u64 *pfn;
	u32 *npages;
	unsigned int nr_runs;
	u64 total_pages;
	u64 max_pfn;
	char mode[8];
};

/**
 * dml__layout_file_load - read a layout file written by `dmalink layout
 * capture`
 * @path: the file
 * @out: filled on success; zeroed on failure (so dml__layout_file_free()
 *	is always safe on it)
 *
 * Every problem is reported once with dml__warn() as "PATH:LINE: what";
 * a problem of the whole file (no runs, no mode) names the last line, a
 * bytes header that does not match the runs names the header's line, and
 * a file that cannot be opened or read gives "PATH: what".
 *
 * Return: 0; -ENOENT if @path cannot be opened or read (the message gives
 * the reason from errno); -EINVAL for a malformed file: a missing or wrong
 * first line, a missing, repeated or unknown mode, a missing, repeated or
 * malformed bytes header, a bytes value that does not match the runs, a
 * run line that is not "0x<hex pfn> <decimal npages>", a PFN range past
 * 55 bits, 0 pages, more than U32_MAX pages in a run, no runs, more than
 * UINT_MAX runs, a line longer than 1023 bytes or holding a NUL byte;
 * -ENOMEM.
 */
int dml__layout_file_load(const char *path, struct dml_layout_file *out);

/**
 * dml__layout_file_free - release what dml__layout_file_load() allocated
 * @lf: a loaded or zeroed layout; zeroed on return (a second call is a no-op)
 */
void dml__layout_file_free(struct dml_layout_file *lf);

#endif /* DML_MEM_LAYOUT_FILE_H */
