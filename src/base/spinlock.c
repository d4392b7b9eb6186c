/* SPDX-License-Identifier: MIT */
/*
 * spinlock.c - the contended side of dml_spinlock_t (base.h): spin on a
 * plain load with a pause, yield when the holder seems preempted, and try
 * the exchange only when the lock looks free.
 */
#include "base.h"

#include <sched.h>

/* pauses before a waiter yields the CPU to a possibly preempted holder */
#define SPIN_PAUSES 128

/**
 * dml__spin_lock_slow - wait for and take a contended spinlock
 * @l: the lock, whose first exchange in dml_spin_lock() found it held
 *
 * Test-and-test-and-set (queued_spin_lock_slowpath() in
 * kernel/locking/qspinlock.c does the same job with a queue): waiters read
 * the line shared and only write it when it looks free.
 */
void dml__spin_lock_slow(dml_spinlock_t *l)
{
	unsigned int spins = 0;

	do {
		do {
			if (++spins < SPIN_PAUSES) {
				dml__cpu_relax();
			} else {
				spins = 0;
				sched_yield();
			}
		} while (atomic_load_explicit(&l->v, memory_order_relaxed));
	} while (atomic_exchange_explicit(&l->v, 1, memory_order_acquire));
}
