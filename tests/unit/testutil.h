/* SPDX-License-Identifier: MIT */
/*
 * testutil.h - what every unit test includes: cmocka, TAP output, a log
 * sink that captures dmalink's messages (so tests assert that a warning
 * fired, and the suite's output stays readable), and a small emulated
 * machine builder.
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

#include <dmalink/dma-mapping.h>

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

/* DML_TEST_MAIN - run @tests with TAP output and the log captured */
#define DML_TEST_MAIN(tests)                                          \
	struct dml_test_log dml_test_log;                             \
	int main(void)                                                \
	{                                                             \
		cmocka_set_message_output(CM_OUTPUT_TAP);             \
		dml_test_log_reset();                                 \
		return cmocka_run_group_tests(tests, NULL, NULL);     \
	}

#endif /* DML_TESTUTIL_H */
