/* SPDX-License-Identifier: MIT */
/*
 * checker.h - what the tests of the DMA-API checker (src/dma/debug/)
 * share: reading and clearing its reports, a fixture without an IOMMU,
 * and a dma_map_phys() that must succeed.  Every test examines its
 * reports and clears them; the harness (testutil.h) then fails it on any
 * report left over.
 */
#ifndef DML_TEST_DEBUG_CHECKER_H
#define DML_TEST_DEBUG_CHECKER_H

#include "dma/fixture.h"
#include "dma/debug.h"

#define G 4096UL

/* print the reports kept so far (to see why an assertion failed) */
static inline void show_reports(void)
{
	u64 i, n = dml_dma_debug_error_count();

	for (i = 0; i < n; i++) {
		struct dml_dma_debug_error e;

		if (dml_dma_debug_error_get(i, &e))
			break;
		print_message("# report %llu (%s): %s\n", (unsigned long long)i,
			      dml_dma_debug_category_name(e.category), e.message);
	}
}

/* exactly @n reports so far, all of category @cat; then forget them */
static inline void take(enum dml_dma_debug_category cat, u64 n)
{
	if (dml_dma_debug_error_count() != n ||
	    dml_dma_debug_category_count(cat) != n)
		show_reports();
	assert_int_equal(dml_dma_debug_error_count(), n);
	assert_int_equal(dml_dma_debug_category_count(cat), n);
	dml_dma_debug_clear_errors();
}

static inline void none(void)
{
	take(DML_DMA_DEBUG_LEAK, 0);
}

/* the first report's message contains @s */
static inline void first_says(const char *s)
{
	struct dml_dma_debug_error e;

	assert_int_equal(dml_dma_debug_error_get(0, &e), 0);
	if (!strstr(e.message, s))
		print_message("# message: %s\n", e.message);
	assert_non_null(strstr(e.message, s));
}

static inline int direct_setup(void **state)
{
	struct fx_opts o = { .no_iommu = true };

	*state = fx_create(&o);
	dml_test_log_reset();
	return 0;
}

static inline dma_addr_t map_ok(struct fx *f, phys_addr_t phys, size_t size,
			 enum dma_data_direction dir, unsigned long attrs)
{
	dma_addr_t a = dma_map_phys(f->dev, phys, size, dir, attrs);

	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	return a;
}

#endif /* DML_TEST_DEBUG_CHECKER_H */
