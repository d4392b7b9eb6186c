/* SPDX-License-Identifier: MIT */
/*
 * util.c - helpers every tool shares (declared in tools.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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
