/* SPDX-License-Identifier: MIT */
/*
 * nvme.c - dml_nvme_open(): which controller a struct dml_device is.  On
 * the emulated platform the device becomes an emulated NVMe controller
 * (src/dev/nvme_emu.c), owned by the handle; on vfio the device's BAR0 is
 * the controller (src/vfio/nvme.c).  The driver itself is src/nvme/api.c.
 */
#include <errno.h>

#include "../base/base.h"
#include "../dev/nvme_emu.h"
#include "../vfio/vfio.h"

/* the emulated namespace's default size, 512-byte blocks: 64 MiB */
#define EMU_DEFAULT_BLOCKS 131072

static void emu_free(void *backend)
{
	dml__nvme_emu_destroy(backend);
}

int dml_nvme_open(struct dml_device *dev, const struct dml_nvme_opts *opts,
		  struct dml_nvme **out)
{
	struct dml_nvme_emu *emu = NULL;
	struct dml_nvme_opts o;
	struct dml_nvme_bar bar;
	int ret;

	if (!dev || !out)
		return -EINVAL;
	ret = dml__opts_copy(&o, sizeof(o), opts, "dml_nvme_opts");
	if (ret)
		return ret;
	if (dev->plat->kind == DML_PLATFORM_EMU) {
		ret = dml__nvme_emu_create(dev, o.emu_blocks ? o.emu_blocks :
					   EMU_DEFAULT_BLOCKS, &emu);
		if (ret)
			return ret;
		dml__nvme_emu_bar(emu, &bar);
	} else {
		if (o.emu_blocks)
			return -EINVAL;
		ret = dml__vfio_nvme_bar(dev, &bar);
		if (ret)
			return ret;
	}
	ret = dml__nvme_open(dev, &bar, &o, out);
	if (ret) {
		dml__nvme_emu_destroy(emu);
		return ret;
	}
	if (emu) {
		(*out)->backend = emu;
		(*out)->backend_free = emu_free;
	}
	return 0;
}
