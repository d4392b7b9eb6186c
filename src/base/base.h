/* SPDX-License-Identifier: MIT */
/*
 * base.h - what every dmalink source file uses: kernel-style helpers
 * (ALIGN, min, likely), warnings in the kernel's words (DML_WARN_ON,
 * dml__warn_once), the allocation and fault-injection hook that every
 * allocation and backend call goes through (reference/style.md C11), and a
 * small spinlock.  Internal: nothing here is installed.
 */
#ifndef DML_BASE_H
#define DML_BASE_H

#include <dmalink/dmalink.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

typedef unsigned __int128 u128;

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/*
 * A thread-local the hot paths read: the initial-exec model is one
 * %fs-relative load, where the shared library's default (general dynamic)
 * calls __tls_get_addr and spills the caller's registers around it.
 */
#define DML_TLS_HOT __attribute__((tls_model("initial-exec")))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define SZ_4K 0x1000ULL
#define SZ_2M 0x200000ULL
#define SZ_1G 0x40000000ULL
#define PAGE_SHIFT 12
#define PAGE_SIZE SZ_4K

static inline unsigned int dml__ffs64(u64 x) { return (unsigned int)__builtin_ctzll(x); }
static inline unsigned int dml__fls64(u64 x) { return x ? 64 - (unsigned int)__builtin_clzll(x) : 0; }
static inline bool dml__is_pow2(u64 x) { return x && !(x & (x - 1)); }
static inline u64 dml__roundup_pow2(u64 x) { return x <= 1 ? 1 : 1ULL << dml__fls64(x - 1); }
/* order_base_2 - ceil(log2(@x)), 0 for @x <= 1 (include/linux/log2.h) */
static inline unsigned int order_base_2(u64 x) { return x <= 1 ? 0 : dml__fls64(x - 1); }

/*
 * dml__bit_runs - bit i of the result is set iff bits i .. i + @n - 1 of
 * @x are all set (@n in 1..128): the start of every run of @n free slots
 * in a bitmap of free bits, found in log2(@n) shifts
 */
static inline u128 dml__bit_runs(u128 x, unsigned int n)
{
	unsigned int have = 1;

	while (have < n) {
		unsigned int s = min(have, n - have);

		x &= x >> s;
		have += s;
	}
	return x;
}

/* ---- messages (src/base/log.c) ---- */

/* Print a kernel-style message at @level (0 error, 1 warning, 2 info). */
void dml__log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define dml__warn(...) dml__log(1, __VA_ARGS__)
#define dml__info(...) dml__log(2, __VA_ARGS__)

/* DML_WARN_ON(x) - warn with file:line when @x holds; evaluates to !!x. */
#define DML_WARN_ON(x) ({ \
	bool __c = !!(x); \
	if (unlikely(__c)) \
		dml__log(1, "WARNING: %s:%d: %s", __FILE__, __LINE__, #x); \
	__c; })

/* dml__warn_once - like dml__warn() but at most once per call site. */
#define dml__warn_once(...) ({ \
	static atomic_bool __done; \
	if (!atomic_exchange_explicit(&__done, true, memory_order_relaxed)) \
		dml__log(1, __VA_ARGS__); })

/* ---- allocation and fault injection (src/base/alloc.c) ---- */

/*
 * dml__should_fail - the one fault-injection hook: every allocation and
 * every backend call (page-table page, IOVA node, swiotlb slot, ioctl)
 * asks it first.  True when the armed countdown (dml_fail_nth) reaches
 * this call.  Costs one thread-local load when disarmed.
 */
bool dml__should_fail_slow(void);
extern _Thread_local long dml__fail_countdown DML_TLS_HOT;
static inline bool dml__should_fail(void)
{
	return unlikely(dml__fail_countdown > 0) && dml__should_fail_slow();
}

/* zeroed allocation through the hook; NULL on failure */
void *dml__zalloc(size_t size);
/* allocation aligned to @align (a power of two >= sizeof(void *)) */
void *dml__zalloc_aligned(size_t align, size_t size);
void dml__free(void *p);
/*
 * @size bytes of zeroed anonymous memory straight from the kernel (pages
 * appear on first touch; no swap reserved), through the hook; NULL on
 * failure.  For the emulated platform's large backing stores.
 */
void *dml__vm_zalloc(size_t size);
void dml__vm_free(void *p, size_t size);

/* ---- spinlock ---- */

static inline void dml__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/*
 * dml_spinlock_t - the library's one spinlock (include/linux/spinlock.h
 * semantics, without preemption or irq control): test-and-test-and-set.
 * The uncontended lock is one exchange inline; a waiter spins out of line
 * (dml__spin_lock_slow()) on a plain load, with a pause each round, and
 * tries the exchange again only when the lock looks free, so waiters do
 * not bounce the cache line among themselves.  After a while spinning it
 * yields the CPU, as a preempted holder cannot release it meanwhile.
 * Zeroed memory is an unlocked lock.
 */
typedef struct { atomic_int v; } dml_spinlock_t;
#define DML_SPINLOCK_INIT { 0 }

/* the contended side of dml_spin_lock(): returns with @l held */
void dml__spin_lock_slow(dml_spinlock_t *l);

static inline void dml_spin_init(dml_spinlock_t *l)
{
	atomic_store_explicit(&l->v, 0, memory_order_relaxed);
}

static inline void dml_spin_lock(dml_spinlock_t *l)
{
	if (unlikely(atomic_exchange_explicit(&l->v, 1, memory_order_acquire)))
		dml__spin_lock_slow(l);
}

static inline void dml_spin_unlock(dml_spinlock_t *l)
{
	atomic_store_explicit(&l->v, 0, memory_order_release);
}

/*
 * dml__opts_copy - copy a sized options struct (its first member is the
 * size) into @dst, zero-extending; NULL, or size 0 with every other byte
 * of @dst_size zero, gives all zeros.  @name (the struct's tag) names it
 * in the log line of every refusal.
 * Return: 0; -EINVAL if the size is 0 and a field is set, or too small to
 * hold itself; -E2BIG if the caller's struct is longer and the unknown
 * bytes are not zero.
 */
int dml__opts_copy(void *dst, size_t dst_size, const void *src,
		   const char *name);

/* ---- time ---- */
u64 dml__now_ns(void);

#endif /* DML_BASE_H */
