/* SPDX-License-Identifier: MIT */
/*
 * fuzz_trace.c - libFuzzer harness for the files the dmalink command
 * reads: block traces in every format of tools/trace.c and
 * trace_formats.c (DiskSim ASCII, fio iolog v2 and v3, MSR Cambridge CSV,
 * blkparse text, Alibaba and Tencent CSV; the reader is included whole,
 * as tests/unit/tools/test_trace.c does) and captured layout files
 * (dml_layout_file_load()).
 *
 * The first byte picks what the rest is: a trace as it is (format
 * detected), a trace after a fio v3 or v2 header, a trace read with
 * --format msr, blkparse, alibaba or tencent forced, or a layout file
 * after its magic line, so that the fuzzer starts inside each format.  The file is written to a memfd
 * and opened by path (/proc/self/fd/N) like any file.  The reader must
 * end with success or -EINVAL and a message (never a crash, a hang, a
 * leak or a sanitizer report), errors must be sticky, and what it returns
 * must keep its documented bounds.
 */
#include <sys/mman.h>

#include "../../tools/trace.c"
#include "../../tools/trace_formats.c"
#include "../../tools/util.c"

#include <dmalink/dmalink.h>

#include "fuzz.h"

#define MAX_REQ (64ULL << 20)	/* what replay passes: 64 MiB */

#define FUZZ_CHECK(x)							\
	do {								\
		if (!(x)) {						\
			fprintf(stderr, "fuzz_trace.c:%d: check failed: %s\n", \
				__LINE__, #x);				\
			abort();					\
		}							\
	} while (0)

enum what {
	W_TRACE, W_FIO3, W_FIO2, W_LAYOUT,
	W_MSR, W_BLKPARSE, W_ALIBABA, W_TENCENT, W_NR
};

static const char *const head[W_NR] = {
	[W_TRACE] = "",
	[W_FIO3] = "fio version 3 iolog\n",
	[W_FIO2] = "fio version 2 iolog\n",
	[W_LAYOUT] = DML_LAYOUT_FILE_MAGIC "\n",
	[W_MSR] = "", [W_BLKPARSE] = "", [W_ALIBABA] = "", [W_TENCENT] = "",
};

/* the --format each kind forces; NULL: detected */
static const char *const forced[W_NR] = {
	[W_MSR] = "msr",
	[W_BLKPARSE] = "blkparse",
	[W_ALIBABA] = "alibaba",
	[W_TENCENT] = "tencent",
};

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memfd = memfd_create("fuzz_trace", MFD_CLOEXEC);
	FUZZ_CHECK(memfd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	dml_set_log(fuzz_quiet, NULL);	/* the layout loader logs its errors */
	return 0;
}

static void put_file(enum what k, const u8 *data, size_t size)
{
	size_t h = strlen(head[k]);

	FUZZ_CHECK(ftruncate(memfd, 0) == 0);
	FUZZ_CHECK(pwrite(memfd, head[k], h, 0) == (ssize_t)h);
	FUZZ_CHECK(pwrite(memfd, data, size, (off_t)h) == (ssize_t)size);
}

static void fuzz_layout(void)
{
	struct dml_layout_file lf;
	u64 pages = 0, max = 0;
	unsigned int i;
	int rc = dml_layout_file_load(path, &lf);

	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	if (!rc) {
		FUZZ_CHECK(lf.nr_runs >= 1);
		for (i = 0; i < lf.nr_runs; i++) {
			FUZZ_CHECK(lf.npages[i] >= 1);
			FUZZ_CHECK(lf.pfn[i] + lf.npages[i] - 1 <
				   (1ULL << DML_LAYOUT_PFN_BITS));
			pages += lf.npages[i];
			if (lf.pfn[i] + lf.npages[i] - 1 > max)
				max = lf.pfn[i] + lf.npages[i] - 1;
		}
		FUZZ_CHECK(pages == lf.total_pages && max == lf.max_pfn);
		FUZZ_CHECK(!strcmp(lf.mode, "4k") || !strcmp(lf.mode, "thp"));
	} else {
		FUZZ_CHECK(!lf.pfn && !lf.npages && !lf.nr_runs);
	}
	dml_layout_file_free(&lf);
}

static void fuzz_trace(const char *format)
{
	char err[512] = "", again[512] = "";
	struct dml_trace_req req;
	struct dml_trace *t;
	u64 n = 0, line = 0;
	int rc;

	rc = dml_trace_open_format(path, format, MAX_REQ, &t, err, sizeof(err));
	if (rc) {
		FUZZ_CHECK(rc == -EINVAL && err[0] && !t);
		return;
	}
	while ((rc = dml_trace_next(t, &req, err, sizeof(err))) == 1) {
		FUZZ_CHECK(req.bytes >= 1 && req.bytes <= MAX_REQ);
		FUZZ_CHECK(req.offset + req.bytes >= req.offset);
		FUZZ_CHECK(req.line > line);
		line = req.line;
		n++;
	}
	FUZZ_CHECK(rc == 0 || (rc == -EINVAL && err[0]));
	FUZZ_CHECK(n || rc);	/* a trace without requests is an error */
	FUZZ_CHECK(dml_trace_nr_requests(t) == n);
	/* sticky: the same end, the same message */
	FUZZ_CHECK(dml_trace_next(t, &req, again, sizeof(again)) == rc);
	FUZZ_CHECK(!rc || !strcmp(err, again));
	dml_trace_close(t);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	enum what k;

	if (!size)
		return 0;
	k = (enum what)(data[0] % W_NR);
	put_file(k, data + 1, size - 1);
	if (k == W_LAYOUT)
		fuzz_layout();
	else
		fuzz_trace(forced[k]);
	return 0;
}
