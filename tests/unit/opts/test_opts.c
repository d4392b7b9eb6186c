/* SPDX-License-Identifier: MIT */
/*
 * test_opts.c - the sized option structs of dmalink.h (DML_SIZEOF): a
 * caller who leaves .size at 0 but sets a field gets -EINVAL and a log
 * line naming the struct, never a call that silently ignores the field;
 * .size 0 with nothing set is all defaults; an unknown non-zero tail is
 * -E2BIG as copy_struct_from_user() (include/linux/uaccess.h) has it, also
 * with the struct named; nothing is created by a refused call.
 */
#include <string.h>

#include "testutil.h"

/* the last log line names @name */
static void assert_logged(const char *name)
{
	assert_true(dml_test_log.count > 0);
	assert_non_null(strstr(dml_test_log.last, name));
}

static void test_size0_field_set(void **state)
{
	struct dml_emu_opts eo = { .ram_size = SZ_1G };
	struct dml_platform *p = NULL;
	struct dml_iommu *iommu = NULL;
	struct dml_device *dev = NULL;
	int ret;

	(void)state;
	dml_test_log_reset();
	assert_int_equal(dml_platform_create_emu(&eo, &p), -EINVAL);
	assert_null(p);
	assert_logged("dml_emu_opts");

	assert_int_equal(dml_platform_create_emu(NULL, &p), 0);
	{
		struct dml_iommu_opts io = { .levels = 5 };

		dml_test_log_reset();
		assert_int_equal(dml_iommu_create(p, &io, &iommu), -EINVAL);
		assert_null(iommu);
		assert_logged("dml_iommu_opts");
		io.size = DML_SIZEOF(&io, levels);
		assert_int_equal(dml_iommu_create(p, &io, &iommu), 0);
	}
	{
		/* the README's trap: the device silently had no IOMMU */
		struct dml_device_opts o = { .iommu = iommu, .pci = true };

		dml_test_log_reset();
		ret = dml_device_create(p, &o, &dev);
		assert_int_equal(ret, -EINVAL);
		assert_null(dev);
		assert_logged("dml_device_opts");
		o.size = DML_SIZEOF(&o, iommu);
		assert_int_equal(dml_device_create(p, &o, &dev), 0);
		assert_ptr_equal(dml_device_iommu(dev), iommu);
	}
	dml_platform_destroy(p);
	dml_test_log_reset();
}

static void test_size0_nothing_set(void **state)
{
	struct dml_emu_opts eo = { .size = 0 };
	struct dml_iommu_opts io = { .size = 0 };
	struct dml_platform *p;
	struct dml_iommu *iommu;

	(void)state;
	dml_test_log_reset();
	assert_int_equal(dml_platform_create_emu(&eo, &p), 0);
	assert_int_equal(dml_iommu_create(p, &io, &iommu), 0);
	assert_int_equal(dml_test_log.count, 0);
	dml_platform_destroy(p);
}

static void test_bad_sizes(void **state)
{
	struct dml_platform *p;
	struct dml_iommu *iommu = NULL;
	struct dml_iommu_opts io = { .size = 4 };
	struct {
		struct dml_iommu_opts o;
		u64 extra;
	} big = { .o = { .size = sizeof(big) }, .extra = 1 };

	(void)state;
	assert_int_equal(dml_platform_create_emu(NULL, &p), 0);
	dml_test_log_reset();
	/* smaller than the size member itself */
	assert_int_equal(dml_iommu_create(p, &io, &iommu), -EINVAL);
	assert_logged("dml_iommu_opts");
	/* a newer caller's field this library does not know: -E2BIG */
	dml_test_log_reset();
	assert_int_equal(dml_iommu_create(p, &big.o, &iommu), -E2BIG);
	assert_logged("dml_iommu_opts");
	assert_null(iommu);
	/* the same tail, zero: accepted */
	big.extra = 0;
	assert_int_equal(dml_iommu_create(p, &big.o, &iommu), 0);
	dml_platform_destroy(p);
	dml_test_log_reset();
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_size0_field_set),
	cmocka_unit_test(test_size0_nothing_set),
	cmocka_unit_test(test_bad_sizes),
};

DML_TEST_MAIN(tests)
