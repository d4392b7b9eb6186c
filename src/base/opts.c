/* SPDX-License-Identifier: MIT */
/*
 * opts.c - copying a caller's sized options struct (reference/style.md C5):
 * the first member is its size, set with DML_SIZEOF(); a shorter struct is
 * zero-extended, a longer one is accepted only if the bytes we do not know
 * are zero (-E2BIG otherwise, as iommufd does).
 */
#include <string.h>

#include "base.h"

int dml__opts_copy(void *dst, size_t dst_size, const void *src)
{
	size_t size, i;

	memset(dst, 0, dst_size);
	if (!src)
		return 0;
	size = *(const size_t *)src;
	if (!size)
		return 0;
	if (size < sizeof(size_t))
		return -EINVAL;
	for (i = dst_size; i < size; i++)
		if (((const u8 *)src)[i])
			return -E2BIG;
	memcpy(dst, src, min(size, dst_size));
	return 0;
}
