/* SPDX-License-Identifier: MIT */
/*
 * ptes.c - the loops over runs of page-table entries that map and unmap
 * spend their time in: is a run empty, is it all present, fill an empty
 * run with consecutive addresses (checking it is empty on the way), clear
 * it (counting what was present), is a whole table empty.  Written with
 * GCC vector extensions: a generic version on 16-byte vectors (SSE2 on
 * x86-64, NEON on arm64, both native) and, on x86-64, an AVX2 version on
 * 32-byte vectors chosen once at load time when the CPU has AVX2 (the
 * library is built for baseline x86-64).  The choice never changes
 * afterwards; all versions give the same results.  Nothing here takes a
 * lock or fails.
 *
 * Entries are READ_ONCE / WRITE_ONCE objects (emu.h): a device walk, or
 * the emptiness check of another thread's unmap, may read an entry while
 * its owner writes it, and fill/zero/empty touch tables other threads
 * use.  Every vector access here is aligned to 8 bytes and split by the
 * CPU into naturally aligned 8-byte accesses, each single-copy atomic
 * (x86-64: Intel SDM vol. 3 §9.1.1, and 16-byte aligned accesses are
 * atomic whole on CPUs with AVX; arm64: each element of a vector load or
 * store is single-copy atomic), so a reader sees each entry old or new,
 * never torn: the guarantee WRITE_ONCE gives, one entry at a time.  The C
 * memory model cannot express that, so a ThreadSanitizer build
 * (EMU_PTES_ATOMIC) uses loops of __atomic loads and stores instead,
 * which ThreadSanitizer checks: the same results, entry by entry.
 */
#include "emu.h"

#ifdef EMU_TSAN
#define EMU_PTES_ATOMIC 1
#endif

#ifndef EMU_PTES_ATOMIC
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

static unsigned int fill_generic(u64 *p, unsigned int n, u64 first)
{
	v2 a = { first, first + SZ_4K };
	v2 b = { first + 2 * SZ_4K, first + 3 * SZ_4K };
	const v2 step = { 4 * SZ_4K, 4 * SZ_4K };
	unsigned int i = 0;

	for (; i + 4 <= n; i += 4) {
		v2 o = LD2(p + i) | LD2(p + i + 2);

		if (o[0] | o[1])
			break;
		ST2(p + i, a);
		ST2(p + i + 2, b);
		a += step;
		b += step;
	}
	for (; i < n; i++) {
		if (p[i])
			return i;
		p[i] = first + (u64)i * SZ_4K;
	}
	return n;
}

static unsigned int clear_generic(u64 *p, unsigned int n)
{
	const v2 z = { 0, 0 }, pr = { VTD_PTE_PRESENT, VTD_PTE_PRESENT };
	v2 a = { 0, 0 }, b = { 0, 0 };
	unsigned int i = 0, r = 0;

	for (; i + 4 <= n; i += 4) {
		/* a lane compares to -1 where present: subtracting counts it */
		a -= (v2)((LD2(p + i) & pr) != 0);
		b -= (v2)((LD2(p + i + 2) & pr) != 0);
		ST2(p + i, z);
		ST2(p + i + 2, z);
	}
	for (; i < n; i++) {
		r += (p[i] & VTD_PTE_PRESENT) != 0;
		p[i] = 0;
	}
	a += b;
	return r + (unsigned int)(a[0] + a[1]);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX2_KERNELS 1

typedef u64 v4 __attribute__((vector_size(32), aligned(8), may_alias));
typedef long long v4s __attribute__((vector_size(32)));

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

AVX2 static unsigned int fill_avx2(u64 *p, unsigned int n, u64 first)
{
	v4 a = { first, first + SZ_4K, first + 2 * SZ_4K, first + 3 * SZ_4K };
	v4 b = a + 4 * SZ_4K;
	const v4 step = { 8 * SZ_4K, 8 * SZ_4K, 8 * SZ_4K, 8 * SZ_4K };
	unsigned int i = 0;

	for (; i + 8 <= n; i += 8) {
		v4 o = LD4(p + i) | LD4(p + i + 4);

		/* vptest, not a lane-by-lane reduction */
		if (!__builtin_ia32_ptestz256((v4s)o, (v4s)o))
			break;
		ST4(p + i, a);
		ST4(p + i + 4, b);
		a += step;
		b += step;
	}
	for (; i < n; i++) {
		if (p[i])
			return i;
		p[i] = first + (u64)i * SZ_4K;
	}
	return n;
}

AVX2 static unsigned int clear_avx2(u64 *p, unsigned int n)
{
	const v4 z = { 0, 0, 0, 0 };
	const v4 pr = { VTD_PTE_PRESENT, VTD_PTE_PRESENT, VTD_PTE_PRESENT,
			VTD_PTE_PRESENT };
	v4 a = z, b = z;
	unsigned int i = 0, r = 0;

	for (; i + 8 <= n; i += 8) {
		a -= (v4)((LD4(p + i) & pr) != 0);
		b -= (v4)((LD4(p + i + 4) & pr) != 0);
		ST4(p + i, z);
		ST4(p + i + 4, z);
	}
	for (; i < n; i++) {
		r += (p[i] & VTD_PTE_PRESENT) != 0;
		p[i] = 0;
	}
	a += b;
	return r + (unsigned int)(a[0] + a[1] + a[2] + a[3]);
}
#endif

#endif /* !EMU_PTES_ATOMIC */

#ifdef EMU_PTES_ATOMIC
static u64 or_atomic(const u64 *p, unsigned int n)
{
	u64 r = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		r |= __atomic_load_n(&p[i], __ATOMIC_RELAXED);
	return r;
}

static u64 and_atomic(const u64 *p, unsigned int n)
{
	u64 r = ~0ULL;
	unsigned int i;

	for (i = 0; i < n; i++)
		r &= __atomic_load_n(&p[i], __ATOMIC_RELAXED);
	return r;
}

static unsigned int fill_atomic(u64 *p, unsigned int n, u64 first)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (__atomic_load_n(&p[i], __ATOMIC_RELAXED))
			return i;
		__atomic_store_n(&p[i], first + (u64)i * SZ_4K, __ATOMIC_RELAXED);
	}
	return n;
}

static unsigned int clear_atomic(u64 *p, unsigned int n)
{
	unsigned int i, r = 0;

	for (i = 0; i < n; i++) {
		r += (__atomic_load_n(&p[i], __ATOMIC_RELAXED) & VTD_PTE_PRESENT) != 0;
		__atomic_store_n(&p[i], 0, __ATOMIC_RELAXED);
	}
	return r;
}

/* the kernels in use: entry by entry (see the top of this file) */
struct emu_ptes_ops emu_ptes = {
	.or = or_atomic,
	.and = and_atomic,
	.fill = fill_atomic,
	.clear = clear_atomic,
};
#else
/* the kernels in use; see emu_ptes_select() */
struct emu_ptes_ops emu_ptes = {
	.or = or_generic,
	.and = and_generic,
	.fill = fill_generic,
	.clear = clear_generic,
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
		emu_ptes.fill = fill_avx2;
		emu_ptes.clear = clear_avx2;
	}
#endif
}
#endif /* EMU_PTES_ATOMIC */

/**
 * emu_ptes_count_present - how many of the @n entries at @p are present
 * (R or W set); the slow path of a run that is partly mapped
 */
unsigned int emu_ptes_count_present(const u64 *p, unsigned int n)
{
	unsigned int i, c = 0;

	for (i = 0; i < n; i++)
		c += (__atomic_load_n(&p[i], __ATOMIC_RELAXED) & VTD_PTE_PRESENT) != 0;
	return c;
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
 * emu_ptes_empty - are all 512 entries of table @p zero?  Looks at 64 at a
 * time and stops at the first non-zero run.
 */
bool emu_ptes_empty(const u64 *p)
{
	unsigned int i;

	for (i = 0; i < EMU_PTES; i += 64)
		if (emu_ptes.or(p + i, 64))
			return false;
	return true;
}
