/* SPDX-License-Identifier: MIT */
/*
 * testutil.h - what every unit test includes: cmocka, TAP output, a log
 * sink that captures dmalink's messages (so tests assert that a warning
 * fired, and the suite's output stays readable), and a small emulated
 * machine builder.
 *
 * The DMA-API checker (dmalink/dma-debug.h) is on under DML_TEST_MAIN,
 * reporting every error (unless DMALINK_DMA_DEBUG=0 turns it off).  Each
 * test must make exactly the reports it expects: none, unless it says
 * which categories with dml_test_expect_dma_debug() or is listed in
 * debug/expected.h; every expected category must occur, any other report
 * fails the test (reports made in teardown, such as leaks found by
 * dml_platform_destroy(), count too).  Tests that examine reports
 * themselves call dml_dma_debug_clear_errors() when done with them.
 */
#ifndef DML_TESTUTIL_H
#define DML_TESTUTIL_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <stdlib.h>

#include <dmalink/dma-debug.h>
#include <dmalink/pci.h>

#include "dma/dma.h"

#include "debug/expected.h"

/* Messages since the last dml_test_log_reset(); the last one is kept. */
struct dml_test_log {
	unsigned int count;
	char last[512];
};
extern struct dml_test_log dml_test_log;

static inline void dml_test_log_sink(void *arg, int level, const char *msg)
{
	struct dml_test_log *l = arg;

	(void)level;
	l->count++;
	snprintf(l->last, sizeof(l->last), "%s", msg);
	if (getenv("DML_TEST_VERBOSE"))
		fprintf(stderr, "# dmalink: %s\n", msg);
}

static inline void dml_test_log_reset(void)
{
	dml_test_log.count = 0;
	dml_test_log.last[0] = 0;
	dml_set_log(dml_test_log_sink, &dml_test_log);
}

/* the test being run and what it expects of the checker */
struct dml_test_run {
	const struct CMUnitTest *orig;
	const char *file;
	size_t next;
	size_t cur;
	bool passed;
	unsigned long long expect;
};
extern struct dml_test_run dml_test_run;

/*
 * dml_test_expect_dma_debug - the running test makes reports of @cat on
 * purpose (at least one; see the top of this file)
 */
static inline void dml_test_expect_dma_debug(enum dml_dma_debug_category cat)
{
	dml_test_run.expect |= 1ULL << cat;
}

/* every report since the test started is expected, and every expectation met */
static inline int dml_test_debug_verify(const char *name)
{
	unsigned long long want, seen = 0;
	u64 n = dml_dma_debug_error_count(), i;
	int bad = 0;
	unsigned int c;

	want = dml_test_run.expect | dml_test_expected_for(dml_test_run.file, name);
	for (i = 0; i < n; i++) {
		struct dml_dma_debug_error e;

		if (dml_dma_debug_error_get(i, &e))
			break;
		seen |= 1ULL << e.category;
		if (!(want & (1ULL << e.category))) {
			print_error("# %s: unexpected DMA-API report (%s): %s\n", name,
				    dml_dma_debug_category_name(e.category),
				    e.message);
			bad = 1;
		}
	}
	for (c = 0; c < DML_DMA_DEBUG_NR; c++) {
		if ((want & ~seen) & (1ULL << c)) {
			print_error("# %s: expected a DMA-API report (%s) that did not come\n",
				    name, dml_dma_debug_category_name(c));
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static inline int dml_test_setup_wrap(void **state)
{
	const struct CMUnitTest *t;

	dml_test_run.cur = dml_test_run.next++;
	t = &dml_test_run.orig[dml_test_run.cur];
	dml_test_run.passed = false;
	dml_test_run.expect = 0;
	dml_dma_debug_clear_errors();
	return t->setup_func ? t->setup_func(state) : 0;
}

static inline void dml_test_func_wrap(void **state)
{
	dml_test_run.orig[dml_test_run.cur].test_func(state);
	dml_test_run.passed = true;
}

static inline int dml_test_teardown_wrap(void **state)
{
	const struct CMUnitTest *t = &dml_test_run.orig[dml_test_run.cur];
	int ret = t->teardown_func ? t->teardown_func(state) : 0;

	if (!ret && dml_test_run.passed && dml_dma_debug_enabled())
		ret = dml_test_debug_verify(t->name);
	return ret;
}

/* run @n tests of @file, each wrapped with the checker's verdict */
static inline int dml_test_run_group(const struct CMUnitTest *tests, size_t n,
				     const char *file)
{
	struct CMUnitTest *w = calloc(n, sizeof(*w));
	const char *env = getenv("DMALINK_DMA_DEBUG");
	size_t i;
	int ret;

	assert_non_null(w);
	if (!env || (strcmp(env, "0") && strcmp(env, "off"))) {
		dml_dma_debug_enable(true);
		dml_dma_debug_set_show(-1);
	}
	dml_test_run.orig = tests;
	dml_test_run.file = file;
	for (i = 0; i < n; i++) {
		w[i] = tests[i];
		w[i].test_func = dml_test_func_wrap;
		w[i].setup_func = dml_test_setup_wrap;
		w[i].teardown_func = dml_test_teardown_wrap;
	}
	ret = _cmocka_run_group_tests("tests", w, n, NULL, NULL);
	free(w);
	return ret;
}

/*
 * dma_need_unmap() as a program without the checker sees it: the harness
 * runs with the checker on, and then every unmap is needed (ref §1.4).
 */
static inline bool dml_test_need_unmap_unchecked(struct dml_device *dev)
{
	return dml__need_unmap_nodebug(dev);
}

/* the PCI function named @name in @p's topology; fails the test if none */
static inline struct dml_pci_dev *dml_test_pci_find(struct dml_platform *p,
						    const char *name)
{
	struct dml_pci_dev *pdev;

	for (pdev = dml_pci_walk(p, NULL); pdev; pdev = dml_pci_walk(p, pdev)) {
		struct dml_pci_info in;

		dml_pci_get_info(pdev, &in);
		if (!strcmp(in.name, name))
			return pdev;
	}
	fail_msg("no %s", name);
	return NULL;
}

/* DML_TEST_MAIN - run @tests with TAP output, the log captured, the checker on */
#define DML_TEST_MAIN(tests)                                          \
	struct dml_test_log dml_test_log;                             \
	struct dml_test_run dml_test_run;                             \
	int main(void)                                                \
	{                                                             \
		cmocka_set_message_output(CM_OUTPUT_TAP);             \
		dml_test_log_reset();                                 \
		return dml_test_run_group(tests,                      \
			sizeof(tests) / sizeof((tests)[0]), __FILE__); \
	}

#endif /* DML_TESTUTIL_H */
