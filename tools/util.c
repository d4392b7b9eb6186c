/* SPDX-License-Identifier: MIT */
/*
 * util.c - helpers every tool shares (declared in tools.h).
 */
#include <ctype.h>
#include <errno.h>
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
