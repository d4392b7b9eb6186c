/* SPDX-License-Identifier: MIT */
/*
 * env_probe.c - a program for test_debug_report's test_env_variable: it makes
 * one DMA-API misuse (an unmap of memory never mapped) on a dma-direct
 * device and exits with 10 + the number of reports when the checker is on
 * (DMALINK_DMA_DEBUG read at program start), 0 when it is off, 1 when the
 * machine cannot be built.
 */
#include <dmalink/dma-debug.h>

int main(void)
{
	struct dml_platform *p;
	struct dml_device *dev;
	int ret;

	if (dml_platform_create_emu(NULL, &p))
		return 1;
	if (dml_device_create(p, NULL, &dev)) {
		dml_platform_destroy(p);
		return 1;
	}
	dma_unmap_phys(dev, 0x12345000, 4096, DMA_TO_DEVICE, 0);
	ret = dml_dma_debug_enabled() ? 10 + (int)dml_dma_debug_error_count() : 0;
	dml_platform_destroy(p);
	return ret;
}
