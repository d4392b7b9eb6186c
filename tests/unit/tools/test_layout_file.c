/* SPDX-License-Identifier: MIT */
/*
 * test_layout_file.c - the captured-layout loader dml_layout_file_load()
 * (src/mem/layout_file.c): the shipped captures in data/layouts load; a
 * good file gives exactly its runs; each malformed file (one table row
 * each: header, run lines, numbers out of range, zero pages, a file cut
 * short) gives -EINVAL and one warning "PATH:LINE: what" with the right line; allocation failures
 * give -ENOMEM and leave nothing behind.
 *
 * Runs with the project root as the working directory.
 */
#include <stdlib.h>	/* before testutil.h, which uses getenv() */
#include <unistd.h>

#include "testutil.h"

#include <dmalink/dmalink.h>

#define HDR "# dmalink layout 1\n# mode: 4k\n"

struct tmpfile {
	char path[64];
};

static void tmp_write(struct tmpfile *tf, const void *data, size_t len)
{
	int fd;

	snprintf(tf->path, sizeof(tf->path), "/tmp/dml-layout-XXXXXX");
	fd = mkstemp(tf->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void tmp_str(struct tmpfile *tf, const char *s)
{
	tmp_write(tf, s, strlen(s));
}

static void assert_zeroed(const struct dml_layout_file *lf)
{
	assert_null(lf->pfn);
	assert_null(lf->npages);
	assert_int_equal(lf->nr_runs, 0);
	assert_int_equal(lf->total_pages, 0);
	assert_int_equal(lf->max_pfn, 0);
	assert_int_equal(lf->mode[0], 0);
}

static void test_good_file(void **state)
{
	struct dml_layout_file lf;
	struct tmpfile tf;

	(void)state;
	tmp_str(&tf, "# dmalink layout 1\n"
		     "# mode: thp\n"
		     "# bytes: 8421376\n"
		     "# machine: Linux 6.1.0 x86_64, Some CPU\n"
		     "# date: 2026-11-21\n"
		     "# any other comment\n"
		     "\n"
		     "0x16ea00 512\n"
		     "0x17ba00   1024  \r\n"
		     "0X7fffffffffffff 1\n"
		     "0x1 519\n");
	dml_test_log_reset();
	assert_int_equal(dml_layout_file_load(tf.path, &lf), 0);
	assert_int_equal(dml_test_log.count, 0);
	assert_string_equal(lf.mode, "thp");
	assert_int_equal(lf.nr_runs, 4);
	assert_int_equal(lf.pfn[0], 0x16ea00);
	assert_int_equal(lf.npages[0], 512);
	assert_int_equal(lf.pfn[1], 0x17ba00);
	assert_int_equal(lf.npages[1], 1024);
	assert_int_equal(lf.pfn[2], (1ULL << 55) - 1);
	assert_int_equal(lf.npages[2], 1);
	assert_int_equal(lf.pfn[3], 1);
	assert_int_equal(lf.npages[3], 519);
	assert_int_equal(lf.total_pages, 2056);
	assert_int_equal(lf.max_pfn, (1ULL << 55) - 1);
	dml_layout_file_free(&lf);
	assert_zeroed(&lf);
	dml_layout_file_free(&lf);	/* a second free is a no-op */
	unlink(tf.path);
}

static void test_no_final_newline(void **state)
{
	struct dml_layout_file lf;
	struct tmpfile tf;

	(void)state;
	tmp_str(&tf, HDR "# bytes: 12288\n0x100 2\n0xff 1");
	assert_int_equal(dml_layout_file_load(tf.path, &lf), 0);
	assert_int_equal(lf.nr_runs, 2);
	assert_int_equal(lf.max_pfn, 0x101);
	dml_layout_file_free(&lf);
	unlink(tf.path);
}

static void check_shipped(const char *path, const char *mode)
{
	struct dml_layout_file lf;
	u64 pages = 0;
	unsigned int i;

	assert_int_equal(dml_layout_file_load(path, &lf), 0);
	assert_string_equal(lf.mode, mode);
	assert_int_equal(lf.total_pages, 16384);	/* 64 MiB */
	for (i = 0; i < lf.nr_runs; i++) {
		assert_true(lf.npages[i] >= 1);
		assert_true(lf.pfn[i] + lf.npages[i] - 1 <= lf.max_pfn);
		/* maximal runs: a run never continues the one before */
		if (i)
			assert_true(lf.pfn[i] != lf.pfn[i - 1] + lf.npages[i - 1]);
		pages += lf.npages[i];
	}
	assert_int_equal(pages, 16384);
	if (!strcmp(mode, "thp")) {
		/* THP runs are whole 2 MiB pages */
		for (i = 0; i < lf.nr_runs; i++) {
			assert_int_equal(lf.pfn[i] % 512, 0);
			assert_int_equal(lf.npages[i] % 512, 0);
		}
	}
	dml_layout_file_free(&lf);
}

static void test_shipped_layouts(void **state)
{
	(void)state;
	check_shipped("data/layouts/4k-64m.layout", "4k");
	check_shipped("data/layouts/thp-64m.layout", "thp");
}

struct bad_case {
	const char *name;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	long line;
	const char *what;
};

static const struct bad_case bad_cases[] = {
	{ "empty file", "", 0, 1, "the first line must be '# dmalink layout 1'" },
	{ "missing header", "# mode: 4k\n# bytes: 4096\n0x1 1\n", 0, 1,
	  "not a dmalink layout" },
	{ "runs without header", "0x1 1\n", 0, 1, "not a dmalink layout" },
	{ "version 2", "# dmalink layout 2\n# mode: 4k\n# bytes: 4096\n0x1 1\n", 0, 1,
	  "not a dmalink layout" },
	{ "blank first line", "\n# dmalink layout 1\n", 0, 1, "not a dmalink layout" },
	{ "no mode", "# dmalink layout 1\n# bytes: 4096\n0x1 1\n", 0, 3,
	  "no '# mode:' line" },
	{ "bad mode", "# dmalink layout 1\n# mode: 2m\n", 0, 2, "mode must be 4k or thp" },
	{ "long mode", "# dmalink layout 1\n# mode: thpthpthpthp\n", 0, 2,
	  "mode must be 4k or thp" },
	{ "second mode", HDR "# mode: thp\n", 0, 3, "second '# mode:' line" },
	{ "no bytes", HDR "0x1 1\n", 0, 3, "no '# bytes:' line" },
	{ "bytes not a number", HDR "# bytes: lots\n", 0, 3, "bytes must be" },
	{ "bytes not page aligned", HDR "# bytes: 4097\n", 0, 3, "bytes must be" },
	{ "bytes 0", HDR "# bytes: 0\n", 0, 3, "bytes must be" },
	{ "negative bytes", HDR "# bytes: -4096\n", 0, 3, "bytes must be" },
	{ "second bytes", HDR "# bytes: 4096\n# bytes: 4096\n", 0, 4,
	  "second '# bytes:' line" },
	{ "no runs", HDR "# bytes: 4096\n\n", 0, 4, "no runs" },
	{ "cut short", HDR "# bytes: 12288\n0x100 2\n", 0, 3,
	  "bytes 12288 do not match the runs' 2 pages" },
	{ "more pages than bytes", HDR "# bytes: 4096\n0x100 2\n", 0, 3,
	  "do not match" },
	{ "zero pages", HDR "# bytes: 4096\n0x100 1\n0x200 0\n", 0, 5, "run of 0 pages" },
	{ "no 0x", HDR "# bytes: 4096\n100 1\n", 0, 4, "expected a run" },
	{ "no npages", HDR "# bytes: 4096\n0x100\n", 0, 4, "expected a run" },
	{ "no hex digits", HDR "# bytes: 4096\n0x 1\n", 0, 4, "expected a run" },
	{ "bad hex", HDR "# bytes: 4096\n0xfg 1\n", 0, 4, "expected a run" },
	{ "hex sign", HDR "# bytes: 4096\n0x-1 1\n", 0, 4, "expected a run" },
	{ "negative pages", HDR "# bytes: 4096\n0x100 -1\n", 0, 4, "expected a run" },
	{ "hex pages", HDR "# bytes: 4096\n0x100 0x1\n", 0, 4, "expected a run" },
	{ "garbage after pages", HDR "# bytes: 4096\n0x100 1x\n", 0, 4, "expected a run" },
	{ "third field", HDR "# bytes: 4096\n0x100 1 1\n", 0, 4, "expected a run" },
	{ "garbage line", HDR "# bytes: 4096\nhello\n", 0, 4, "expected a run" },
	{ "pfn overflows u64", HDR "# bytes: 4096\n0x10000000000000000 1\n", 0, 4,
	  "expected a run" },
	{ "pages overflow u64", HDR "# bytes: 4096\n0x1 99999999999999999999\n", 0, 4,
	  "expected a run" },
	{ "pfn past 55 bits", HDR "# bytes: 4096\n0x80000000000000 1\n", 0, 4,
	  "PFN 0x80000000000000 does not fit in 55 bits" },
	{ "run past 55 bits", HDR "# bytes: 8192\n0x7fffffffffffff 2\n", 0, 4,
	  "goes past PFN 0x7fffffffffffff" },
	{ "run over 32 bits", HDR "# bytes: 4096\n0x1 4294967296\n", 0, 4,
	  "run of 4294967296 pages: more than 4294967295" },
	{ "double 0x", HDR "# bytes: 4096\n0x0x5 1\n", 0, 4, "expected a run" },
	{ "NUL byte", HDR "# bytes: 4096\n0x1\0 1\n",
	  sizeof(HDR "# bytes: 4096\n0x1\0 1\n") - 1, 4, "NUL byte" },
};

static void test_malformed(void **state)
{
	struct dml_layout_file lf;
	struct tmpfile tf;
	char prefix[128];
	unsigned int i;
	int rc;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *b = &bad_cases[i];

		tmp_write(&tf, b->text, b->len ? b->len : strlen(b->text));
		dml_test_log_reset();
		rc = dml_layout_file_load(tf.path, &lf);
		if (rc != -EINVAL)
			fail_msg("%s: returned %d", b->name, rc);
		assert_zeroed(&lf);
		if (dml_test_log.count != 1)
			fail_msg("%s: %u messages, last '%s'", b->name,
				 dml_test_log.count, dml_test_log.last);
		snprintf(prefix, sizeof(prefix), "%s:%ld: ", tf.path, b->line);
		if (strncmp(dml_test_log.last, prefix, strlen(prefix)) ||
		    !strstr(dml_test_log.last, b->what))
			fail_msg("%s: message '%s', expected '%s...%s'", b->name,
				 dml_test_log.last, prefix, b->what);
		unlink(tf.path);
	}
}

static void test_line_too_long(void **state)
{
	struct dml_layout_file lf;
	struct tmpfile tf;
	char buf[2100];
	size_t n;

	(void)state;
	n = (size_t)snprintf(buf, sizeof(buf), HDR "# machine: ");
	memset(buf + n, 'x', 1100);
	buf[n + 1100] = '\n';
	tmp_write(&tf, buf, n + 1101);
	dml_test_log_reset();
	assert_int_equal(dml_layout_file_load(tf.path, &lf), -EINVAL);
	assert_true(strstr(dml_test_log.last, ":3: line longer than 1023 bytes"));
	unlink(tf.path);
}

static void test_cannot_open(void **state)
{
	struct dml_layout_file lf;

	(void)state;
	dml_test_log_reset();
	assert_int_equal(dml_layout_file_load("data/layouts/no-such.layout", &lf),
			 -ENOENT);
	assert_zeroed(&lf);
	assert_true(strstr(dml_test_log.last, "data/layouts/no-such.layout: cannot open"));
	/* a directory opens but cannot be read */
	dml_test_log_reset();
	assert_int_equal(dml_layout_file_load("data/layouts", &lf), -ENOENT);
	assert_zeroed(&lf);
	assert_true(strstr(dml_test_log.last, "read error"));
}

/* 600 runs: the run arrays grow twice; each allocation fails in turn. */
static void test_fail_nth(void **state)
{
	struct dml_layout_file lf;
	struct tmpfile tf;
	char *text, *p;
	unsigned int i;
	long n;

	(void)state;
	text = malloc(64 * 1024);
	assert_non_null(text);
	p = text + sprintf(text, HDR "# bytes: %u\n", 600 * 4096);
	for (i = 0; i < 600; i++)
		p += sprintf(p, "0x%x 1\n", 1000 - i);	/* descending */
	tmp_str(&tf, text);
	free(text);

	for (n = 1;; n++) {
		dml_fail_nth(n);
		if (!dml_layout_file_load(tf.path, &lf))
			break;
		assert_true(dml_fail_nth_hit());
		assert_zeroed(&lf);
	}
	dml_fail_nth(0);
	assert_int_equal(n, 8);	/* parser, then 3 x (pfn, npages) arrays */
	assert_int_equal(lf.nr_runs, 600);
	assert_int_equal(lf.pfn[599], 401);
	assert_int_equal(lf.max_pfn, 1000);
	dml_layout_file_free(&lf);
	unlink(tf.path);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_good_file),
	cmocka_unit_test(test_no_final_newline),
	cmocka_unit_test(test_shipped_layouts),
	cmocka_unit_test(test_malformed),
	cmocka_unit_test(test_line_too_long),
	cmocka_unit_test(test_cannot_open),
	cmocka_unit_test(test_fail_nth),
};

DML_TEST_MAIN(tests)
