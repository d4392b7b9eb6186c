/* SPDX-License-Identifier: MIT */
/*
 * log.c - where dmalink's kernel-style messages go: stderr by default, or a
 * sink set with dml_set_log() (tests capture warnings through it).  Counts
 * warnings so tests can assert that a WARN site fired, or did not.
 */
#include "base.h"

#include <stdarg.h>
#include <stdio.h>

static dml_log_fn log_fn;
static void *log_arg;
static atomic_ullong warn_count;

void dml_set_log(dml_log_fn fn, void *arg)
{
	log_fn = fn;
	log_arg = arg;
}

u64 dml_warn_count(void)
{
	return atomic_load(&warn_count);
}

void dml__log(int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (level <= 1)
		atomic_fetch_add(&warn_count, 1);
	if (log_fn)
		log_fn(log_arg, level, msg);
	else
		fprintf(stderr, "dmalink: %s\n", msg);
}
