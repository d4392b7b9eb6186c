/* SPDX-License-Identifier: MIT */
/*
 * test_debug_report.c - the checker's reports and registry
 * (src/dma/debug/report.c, registry.c): the leak report when a device or
 * platform goes, the first error only printed by default (§9 item 21),
 * the public error API, abort mode, turning the checker on and off, and
 * DMALINK_DMA_DEBUG read at program start.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checker.h"

/* ------------------------------------------------------------------ */
/* Leaks (ref §6 item 8)                                               */
/* ------------------------------------------------------------------ */

static void test_leak_on_device_destroy(void **state)
{
	struct fx *f = *state;
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, iommu),
		.name = "leaky",
		.pci = true,
		.iommu = f->iommu,
	};
	struct dml_dma_debug_error e;
	struct dma_iova_state st;
	struct dml_device *dev;

	assert_int_equal(dml_device_create(f->p, &dop, &dev), 0);
	assert_int_equal(dma_mapping_error(dev, dma_map_phys(dev, 0x40000000, G,
							     DMA_TO_DEVICE, 0)), 0);
	assert_true(dma_iova_try_alloc(dev, &st, 0, 2 * G));
	assert_int_equal(dma_iova_link(dev, &st, 0x40100000, 0, G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(dev, &st, 0x40200000, G, G, DMA_TO_DEVICE, 0), 0);
	dml_test_log_reset();
	dml_device_destroy(dev);
	assert_int_equal(dml_dma_debug_error_get(0, &e), 0);
	assert_string_equal(e.device, "leaky");
	assert_non_null(strstr(e.message, "device driver has pending DMA allocations while released from device [count=4]"));
	assert_true(e.map_depth > 0);
	/* the printed report lists what is still mapped */
	assert_true(dml_test_log.count >= 4);
	take(DML_DMA_DEBUG_LEAK, 1);
}

static void test_leak_on_platform_destroy(void **state)
{
	struct fx *f = fx_create(NULL);

	(void)state;
	assert_int_equal(dma_mapping_error(f->dev, dma_map_phys(f->dev, 0x40000000,
								G, DMA_FROM_DEVICE, 0)), 0);
	fx_destroy(f);
	first_says("[count=1]");
	take(DML_DMA_DEBUG_LEAK, 1);
}

/* ------------------------------------------------------------------ */
/* Reporting                                                           */
/* ------------------------------------------------------------------ */

/* §9.21: only the first report is printed by default; all are counted */
static void test_9_21_first_error_only(void **state)
{
	struct fx *f = *state;
	u64 w;

	dml_dma_debug_set_show(1);
	w = dml_warn_count();
	dma_unmap_phys(f->dev, 0x11000000, G, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, 0x12000000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_warn_count(), w + 1);
	assert_int_equal(dml_dma_debug_error_count(), 2);
	dml_dma_debug_set_show(0);
	dma_unmap_phys(f->dev, 0x13000000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_warn_count(), w + 1);
	dml_dma_debug_set_show(-1);
	dma_unmap_phys(f->dev, 0x14000000, G, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, 0x15000000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_warn_count(), w + 3);
	take(DML_DMA_DEBUG_FREE_NOT_ALLOCATED, 5);
}

static void test_error_api(void **state)
{
	struct fx *f = *state;
	struct dml_dma_debug_error e;
	dma_addr_t a = map_ok(f, 0x40000000, 2 * G, DMA_TO_DEVICE, 0);
	unsigned int i, j;

	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dma_debug_error_get(0, &e), 0);
	assert_int_equal(e.category, DML_DMA_DEBUG_FREE_WRONG_SIZE);
	assert_string_equal(e.device, "testdev");
	assert_int_equal(e.addr, a);
	assert_int_equal(e.size, G);
	assert_true(!strncmp(e.message, "DMA-API: testdev: device driver frees", 37));
	assert_true(e.call_depth > 0 && e.call_depth <= DML_DMA_DEBUG_TRACE_DEPTH);
	assert_true(e.map_depth > 0 && e.map_depth <= DML_DMA_DEBUG_TRACE_DEPTH);
	assert_int_equal(dml_dma_debug_error_get(1, &e), -ENOENT);
	assert_int_equal(dml_dma_debug_error_get(0, NULL), -EINVAL);
	/* no backtraces when told so */
	dml_dma_debug_clear_errors();
	dml_dma_debug_set_trace_depth(0);
	a = map_ok(f, 0x40000000, 2 * G, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dma_debug_error_get(0, &e), 0);
	assert_int_equal(e.call_depth, 0);
	assert_int_equal(e.map_depth, 0);
	dml_dma_debug_set_trace_depth(5);
	dml_dma_debug_clear_errors();
	assert_int_equal(dml_dma_debug_error_count(), 0);
	assert_int_equal(dml_dma_debug_error_get(0, &e), -ENOENT);

	for (i = 0; i < DML_DMA_DEBUG_NR; i++) {
		const char *n = dml_dma_debug_category_name(i);

		assert_string_not_equal(n, "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(n, dml_dma_debug_category_name(j));
	}
	assert_string_equal(dml_dma_debug_category_name(DML_DMA_DEBUG_NR), "unknown");
	assert_int_equal(dml_dma_debug_category_count(DML_DMA_DEBUG_NR), 0);

	/* the first DML_DMA_DEBUG_KEPT reports are kept, all are counted */
	dml_dma_debug_set_show(0);
	for (i = 0; i < DML_DMA_DEBUG_KEPT + 6; i++)
		dma_unmap_phys(f->dev, 0x10000000 + (dma_addr_t)i * G, G,
			       DMA_TO_DEVICE, 0);
	dml_dma_debug_set_show(-1);
	assert_int_equal(dml_dma_debug_error_get(DML_DMA_DEBUG_KEPT - 1, &e), 0);
	assert_int_equal(dml_dma_debug_error_get(DML_DMA_DEBUG_KEPT, &e), -ENOENT);
	take(DML_DMA_DEBUG_FREE_NOT_ALLOCATED, DML_DMA_DEBUG_KEPT + 6);
}

/* abort mode: the first report ends the process (tests, fuzzing) */
static void test_abort_mode(void **state)
{
	struct fx *f = *state;
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)
			dup2(fd, 2);
		dml_set_log(NULL, NULL);
		dml_dma_debug_set_abort(true);
		dma_unmap_phys(f->dev, 0x12345000, G, DMA_TO_DEVICE, 0);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	none();
}

/* the checker watches the devices created while it is on */
static void test_enable_scope(void **state)
{
	struct fx *f = *state;
	struct dml_device_opts dop = { .size = DML_SIZEOF(&dop, iommu), .name = "late",
				       .pci = true, .iommu = f->iommu };
	struct dml_device *dev;

	dml_dma_debug_enable(false);
	assert_false(dml_dma_debug_enabled());
	dma_unmap_phys(f->dev, 0x12345000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dma_debug_error_count(), 0);
	dml_dma_debug_enable(true);
	/* f->dev was created before: not watched any more */
	dma_unmap_phys(f->dev, 0x12345000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 0);
	none();
	assert_int_equal(dml_device_create(f->p, &dop, &dev), 0);
	dma_unmap_phys(dev, 0x12345000, G, DMA_TO_DEVICE, 0);
	take(DML_DMA_DEBUG_FREE_NOT_ALLOCATED, 1);
	dml_device_destroy(dev);
	dml_dma_debug_set_show(-1);
}

/* DMALINK_DMA_DEBUG at program start (debug-env-probe, next to us) */
static int run_probe(const char *env, int *status)
{
	char exe[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 64);
	pid_t pid;

	if (n <= 0)
		return -1;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	strcpy(slash, "/debug/debug-env-probe");
	if (access(exe, X_OK)) {
		strcpy(slash, "/debug-env-probe");
		if (access(exe, X_OK))
			return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (env)
			setenv("DMALINK_DMA_DEBUG", env, 1);
		else
			unsetenv("DMALINK_DMA_DEBUG");
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	return waitpid(pid, status, 0) == pid ? 0 : -1;
}

static void test_env_variable(void **state)
{
	int st;

	(void)state;
	if (run_probe(NULL, &st))
		skip();
	/* probe exit code: 10 + reports counted, 0 when the checker is off */
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(run_probe("1", &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 11);
	assert_int_equal(run_probe("1,all", &st), 0);
	assert_int_equal(WEXITSTATUS(st), 11);
	assert_int_equal(run_probe("0", &st), 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(run_probe("off", &st), 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(run_probe("1,abort", &st), 0);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_leak_on_device_destroy, fx_setup, fx_teardown),
	cmocka_unit_test(test_leak_on_platform_destroy),
	cmocka_unit_test_setup_teardown(test_9_21_first_error_only, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_error_api, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_abort_mode, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_enable_scope, fx_setup, fx_teardown),
	cmocka_unit_test(test_env_variable),
};

DML_TEST_MAIN(tests)
