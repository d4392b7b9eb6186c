/* SPDX-License-Identifier: MIT */
/*
 * test_swiotlb_areas.c - the swiotlb pool's per-thread areas
 * (src/dma/swiotlb.c; shared/reference/kernel-dma-semantics.md §5 and §9
 * item 20, perf-anchors.md G18): threads bouncing on ONE device at the
 * same time each take their slots from an area of their own, so they
 * share no lock, and every byte still arrives.  Every transfer is a real
 * one by the emulated device.
 */
#include <pthread.h>

#include "bfx.h"

#define LOW 0x10000000ULL	/* buffers well below the pool */
#define MAX_THREADS 8
#define ITERS 2000

struct area_worker {
	struct bfx *f;
	pthread_barrier_t *bar;
	unsigned int id;
	phys_addr_t pool;	/* the pool's first byte */
	u64 area_bytes;		/* bytes of one area */
	unsigned long bad;	/* data that did not arrive */
	unsigned int area;	/* the area of the first mapping */
	unsigned long elsewhere;	/* mappings outside that area */
};

static void *area_worker_run(void *arg)
{
	struct area_worker *w = arg;
	unsigned int seed = 99 + w->id, i;
	const phys_addr_t base = LOW + (u64)w->id * (1ULL << 20);
	static _Thread_local u8 buf[16384];

	pthread_barrier_wait(w->bar);
	for (i = 0; i < ITERS; i++) {
		size_t size = 1 + (size_t)(rand_r(&seed) % sizeof(buf));
		phys_addr_t phys = base + (u64)(rand_r(&seed) % 4096);
		enum dma_data_direction dir = (enum dma_data_direction)(i % 3);
		u8 s = (u8)(i * 7 + w->id * 31);
		unsigned int area;
		dma_addr_t a;

		bfx_fill(w->f, phys, size, s);
		a = dma_map_phys(w->f->dev, phys, size, dir, 0);
		if (dma_mapping_error(w->f->dev, a)) {
			w->bad++;
			continue;
		}
		/* dma-direct: the DMA address is the bounce slot's */
		area = (unsigned int)((a - w->pool) / w->area_bytes);
		if (!i)
			w->area = area;
		else if (area != w->area)
			w->elsewhere++;
		if (dir != DMA_FROM_DEVICE &&
		    (dml_dev_dma_read(w->f->dev, a, buf, size) ||
		     !buf_check(buf, size, s)))
			w->bad++;
		if (dir != DMA_TO_DEVICE) {
			buf_fill(buf, size, (u8)(s + 1));
			if (dml_dev_dma_write(w->f->dev, a, buf, size))
				w->bad++;
		}
		dma_unmap_phys(w->f->dev, a, size, dir, 0);
		if (!bfx_check(w->f, phys, size,
			       dir == DMA_TO_DEVICE ? s : (u8)(s + 1)))
			w->bad++;
	}
	return NULL;
}

/*
 * §9.20 / G18: as many threads as areas (2..8) bounce on one device at
 * once.  Each thread's slots all come from one area, no two threads share
 * one (a thread starts in the area of its number, and one mapping at a
 * time always fits there), the data arrives both ways, and the pool is
 * empty afterwards.
 */
static void test_threads_bounce_each_in_own_area(void **state)
{
	struct bfx_opts o = { .force_bounce = true };
	struct bfx *f = bfx_create(&o);
	struct area_worker w[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	struct dml_swiotlb_stats st;
	pthread_barrier_t bar;
	unsigned int i, j, n;
	dma_addr_t a;

	(void)state;
	/* the pool is created on first use: one mapping to see its shape */
	a = dma_map_phys(f->dev, LOW, 64, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	dma_unmap_phys(f->dev, a, 64, DMA_TO_DEVICE, 0);
	st = bfx_sw(f);
	assert_true(st.nareas >= 1 && (st.nareas & (st.nareas - 1)) == 0);
	assert_int_equal(st.nslabs % st.nareas, 0);
	n = st.nareas < 2 ? 2 : st.nareas > MAX_THREADS ? MAX_THREADS :
							  st.nareas;

	pthread_barrier_init(&bar, NULL, n);
	for (i = 0; i < n; i++) {
		w[i] = (struct area_worker){
			.f = f, .bar = &bar, .id = i, .pool = st.phys,
			.area_bytes = st.nslabs / st.nareas * IO_TLB_SIZE,
		};
		assert_int_equal(pthread_create(&t[i], NULL, area_worker_run,
						&w[i]), 0);
	}
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&bar);

	for (i = 0; i < n; i++) {
		assert_int_equal(w[i].bad, 0);
		assert_int_equal(w[i].elsewhere, 0);
		assert_true(w[i].area < st.nareas);
		/* distinct areas whenever there are enough of them */
		for (j = 0; j < i && n <= st.nareas; j++)
			assert_int_not_equal(w[i].area, w[j].area);
	}
	st = bfx_sw(f);
	assert_int_equal(st.used, 0);
	assert_int_equal(st.maps, 1 + n * ITERS);
	assert_int_equal(st.full, 0);
	bfx_destroy(f);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_threads_bounce_each_in_own_area),
};

DML_TEST_MAIN(tests)
