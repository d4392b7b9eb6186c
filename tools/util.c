/* SPDX-License-Identifier: MIT */
/*
 * util.c - helpers every tool shares (declared in tools.h): the number
 * parser, the cost of the clock reads around a timed section, reading a
 * whole file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tools.h"

int dml_tool_parse_u64(const char *s, int base, u64 *val)
{
	unsigned long long v;
	char *end;

	/* strtoull() would also take white space, a sign (and wrap '-') */
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	*val = v;
	return 0;
}

static u64 read_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

#define CLOCK_SAMPLES 2001

void dml_tool_clock_cost(u64 *outer_ns, u64 *inner_ns)
{
	static u64 outer[CLOCK_SAMPLES], inner[CLOCK_SAMPLES];
	unsigned int i;

	for (i = 0; i < CLOCK_SAMPLES; i++) {
		u64 t0 = read_ns(), t1 = read_ns(), t2 = read_ns();
		u64 t3 = read_ns(), t4 = read_ns(), t5 = read_ns();

		outer[i] = (t2 - t0) + (t5 - t3);
		inner[i] = (t2 - t1) + (t4 - t3);
	}
	qsort(outer, CLOCK_SAMPLES, sizeof(u64), cmp_u64);
	qsort(inner, CLOCK_SAMPLES, sizeof(u64), cmp_u64);
	*outer_ns = outer[CLOCK_SAMPLES / 2];
	*inner_ns = inner[CLOCK_SAMPLES / 2];
}

int dml_tool_read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *b;

	if (!f)
		return -errno;
	b = malloc(cap);
	while (b) {
		size_t r = fread(b + n, 1, cap - n, f);
		char *nb;

		n += r;
		if (n < cap)
			break;
		cap *= 2;
		nb = realloc(b, cap);
		if (!nb)
			free(b);
		b = nb;
	}
	fclose(f);
	if (!b)
		return -ENOMEM;
	*buf = b;
	*len = n;
	return 0;
}
