/* SPDX-License-Identifier: MIT */
/*
 * ptes.c - the loops over runs of page-table entries that map and unmap
 * spend their time in: is a run empty, is it all present, fill it with
 * consecutive addresses, zero it.
 *
 * Reads of a run its caller owns (no other thread writes those entries:
 * is it empty, all present) are written with GCC vector extensions: a
 * generic version on 16-byte vectors (SSE2 on x86-64, NEON on arm64, both
 * native) and, on x86-64, an AVX2 version on 32-byte vectors chosen once at
 * load time when the CPU has AVX2 (the library is built for baseline
 * x86-64).  The choice never changes afterwards; all versions give the same
 * results.  Writes (fill, zero, clear bits) and the emptiness check of a
 * whole table, which reads entries other threads own, go entry by entry
 * with emu_pte_write() / emu_pte_read(): a device walk or another thread
 * may read or write a neighbouring entry at the same time (emu.h).
 * Nothing here takes a lock or fails.
 */
#include "emu.h"

typedef u64 v2 __attribute__((vector_size(16), aligned(8), may_alias));

#define LD2(p) (*(const v2 *)(p))
#define ST2(p, v) (*(v2 *)(p) = (v))

static u64 or_generic(const u64 *p, unsigned int n)
{
	v2 a = { 0, 0 }, b = { 0, 0 };
	u64 r = 0;
	unsigned int i = 0;

	for (; i + 4 <= n; i += 4) {
		a |= LD2(p + i);
		b |= LD2(p + i + 2);
	}
	for (; i < n; i++)
		r |= p[i];
	a |= b;
	return r | a[0] | a[1];
}

static u64 and_generic(const u64 *p, unsigned int n)
{
	v2 a = { ~0ULL, ~0ULL }, b = { ~0ULL, ~0ULL };
	u64 r = ~0ULL;
	unsigned int i = 0;

	for (; i + 4 <= n; i += 4) {
		a &= LD2(p + i);
		b &= LD2(p + i + 2);
	}
	for (; i < n; i++)
		r &= p[i];
	a &= b;
	return r & a[0] & a[1];
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX2_KERNELS 1

typedef u64 v4 __attribute__((vector_size(32), aligned(8), may_alias));

#define LD4(p) (*(const v4 *)(p))
#define ST4(p, v) (*(v4 *)(p) = (v))
#define AVX2 __attribute__((target("avx2")))

AVX2 static u64 or_avx2(const u64 *p, unsigned int n)
{
	v4 a = { 0, 0, 0, 0 }, b = { 0, 0, 0, 0 };
	u64 r = 0;
	unsigned int i = 0;

	for (; i + 8 <= n; i += 8) {
		a |= LD4(p + i);
		b |= LD4(p + i + 4);
	}
	for (; i < n; i++)
		r |= p[i];
	a |= b;
	return r | a[0] | a[1] | a[2] | a[3];
}

AVX2 static u64 and_avx2(const u64 *p, unsigned int n)
{
	v4 a = { ~0ULL, ~0ULL, ~0ULL, ~0ULL }, b = a;
	u64 r = ~0ULL;
	unsigned int i = 0;

	for (; i + 8 <= n; i += 8) {
		a &= LD4(p + i);
		b &= LD4(p + i + 4);
	}
	for (; i < n; i++)
		r &= p[i];
	a &= b;
	return r & a[0] & a[1] & a[2] & a[3];
}

#endif

/* the kernels in use; see emu_ptes_select() */
struct emu_ptes_ops emu_ptes = {
	.or = or_generic,
	.and = and_generic,
};

/*
 * emu_ptes_select - pick the widest kernels the CPU runs, once, before main
 * (a constructor, so emu_ptes is never written while anything reads it).
 */
__attribute__((constructor)) static void emu_ptes_select(void)
{
#ifdef HAVE_AVX2_KERNELS
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2")) {
		emu_ptes.or = or_avx2;
		emu_ptes.and = and_avx2;
	}
#endif
}

/**
 * emu_ptes_count_present - how many of the @n entries at @p are present
 * (R or W set); the slow path of a run that is partly mapped
 */
unsigned int emu_ptes_count_present(const u64 *p, unsigned int n)
{
	unsigned int i, c = 0;

	for (i = 0; i < n; i++)
		c += (p[i] & VTD_PTE_PRESENT) != 0;
	return c;
}

/**
 * emu_ptes_fill - p[i] = @first + i * 4 KiB for @n entries, each written
 * once with a release store (the caller owns them; walkers may read them)
 */
void emu_ptes_fill(u64 *p, unsigned int n, u64 first)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		emu_pte_write(&p[i], first + (u64)i * SZ_4K);
}

/** emu_ptes_zero - p[i] = 0 for @n entries, release stores */
void emu_ptes_zero(u64 *p, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		emu_pte_write(&p[i], 0);
}

/**
 * emu_ptes_clear_bits - p[i] &= ~@bits for @n entries the caller owns (0
 * stays 0, and is not written)
 */
void emu_ptes_clear_bits(u64 *p, unsigned int n, u64 bits)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		u64 e = emu_pte_read(&p[i]);

		if (e & bits)
			emu_pte_write(&p[i], e & ~bits);
	}
}

/**
 * emu_ptes_empty - are all 512 entries of table @p zero?  Reads with
 * emu_pte_read() (other threads may own entries of @p); stops at the
 * first non-zero entry.
 */
bool emu_ptes_empty(const u64 *p)
{
	unsigned int i;

	for (i = 0; i < EMU_PTES; i++)
		if (emu_pte_read(&p[i]))
			return false;
	return true;
}
