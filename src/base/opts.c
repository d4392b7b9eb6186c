/* SPDX-License-Identifier: MIT */
/*
 * opts.c - copying a caller's sized options struct (reference/style.md C5):
 * the first member is its size, set with DML_SIZEOF(); a shorter struct is
 * zero-extended, a longer one is accepted only if the bytes we do not know
 * are zero (-E2BIG otherwise, as iommufd does).  A caller who forgot the
 * size (0) but set a field gets -EINVAL, never fields silently ignored;
 * every refusal names the struct in the log.
 */
#include <string.h>

#include "base.h"

/* the first non-zero byte of [from, to) of @p, or @to */
static size_t first_set(const void *p, size_t from, size_t to)
{
	while (from < to && !((const u8 *)p)[from])
		from++;
	return from;
}

int dml__opts_copy(void *dst, size_t dst_size, const void *src,
		   const char *name)
{
	size_t size, i;

	memset(dst, 0, dst_size);
	if (!src)
		return 0;
	size = *(const size_t *)src;
	if (!size) {
		/* no size: the caller's struct is this header's own */
		i = first_set(src, sizeof(size_t), dst_size);
		if (i == dst_size)
			return 0;
		dml__warn("struct %s: .size is 0 but byte %zu is set; set .size = DML_SIZEOF(&opts, <last field>) or sizeof(opts)",
			  name, i);
		return -EINVAL;
	}
	if (size < sizeof(size_t)) {
		dml__warn("struct %s: .size %zu is smaller than the size field itself",
			  name, size);
		return -EINVAL;
	}
	i = first_set(src, dst_size, size);
	if (i < size) {
		dml__warn("struct %s: .size %zu is beyond the %zu bytes this library knows and byte %zu is set",
			  name, size, dst_size, i);
		return -E2BIG;
	}
	memcpy(dst, src, min(size, dst_size));
	return 0;
}
