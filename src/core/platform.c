/* SPDX-License-Identifier: MIT */
/*
 * platform.c - the root object: an emulated machine (memory, IOMMU units,
 * devices) or, through src/vfio/, the VFIO host.  Everything a platform
 * owns is released by dml_platform_destroy(); nothing is global.
 * Locking: p->lock guards the device and IOMMU lists.  This is the top
 * wiring layer: it calls down into every layer and nothing calls it.
 */
#include <string.h>

#include "../base/device.h"
#include "../iommu/iommu.h"
#include "../mem/mem.h"

#define DEFAULT_RAM_SIZE (4ULL << 30)

int dml_platform_create_emu(const struct dml_emu_opts *opts,
			    struct dml_platform **out)
{
	struct dml_emu_opts o;
	struct dml_platform *p;
	int ret;

	ret = dml__opts_copy(&o, sizeof(o), opts, "dml_emu_opts");
	if (ret)
		return ret;
	if (!o.ram_size)
		o.ram_size = DEFAULT_RAM_SIZE;
	if (!IS_ALIGNED(o.ram_size, SZ_2M))
		return -EINVAL;
	if (!o.swiotlb_size)
		o.swiotlb_size = DML_SWIOTLB_DEFAULT_SIZE;
	if (o.swiotlb_off)
		o.swiotlb_size = 0;
	else if (!IS_ALIGNED(o.swiotlb_size, SZ_2M) || o.swiotlb_size > o.ram_size)
		return -EINVAL;
	p = dml__zalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->kind = DML_PLATFORM_EMU;
	p->seed = o.seed ? o.seed : 1;
	p->swiotlb_size = o.swiotlb_size;
	p->cpu_vendor = o.cpu_vendor;
	p->cpu_family = o.cpu_family;
	pthread_mutex_init(&p->lock, NULL);
	ret = dml__mem_create(&p->mem);
	if (!ret)
		ret = dml__mem_add(p->mem, 0, o.ram_size, DML_REGION_RAM, "ram");
	if (ret) {
		dml__mem_destroy(p->mem);
		pthread_mutex_destroy(&p->lock);
		dml__free(p);
		return ret;
	}
	*out = p;
	return 0;
}

void dml_platform_destroy(struct dml_platform *p)
{
	unsigned int i;

	if (!p)
		return;
	while (p->devices)
		dml_device_destroy(p->devices);
	for (i = 0; i < p->nr_iommus; i++)
		dml__emu_iommu_destroy(p->iommus[i]);
	if (p->backend_fini)
		p->backend_fini(p);
	dml__platform_release_slots(p);
	dml__mem_destroy(p->mem);
	pthread_mutex_destroy(&p->lock);
	dml__free(p);
}

int dml_iommu_create(struct dml_platform *p, const struct dml_iommu_opts *opts,
		     struct dml_iommu **out)
{
	int ret;

	if (!p || p->kind != DML_PLATFORM_EMU || !out)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	if (p->nr_iommus == DML_MAX_IOMMUS) {
		ret = -ENOSPC;
	} else {
		ret = dml__emu_iommu_create(p, opts, out);
		if (!ret)
			p->iommus[p->nr_iommus++] = *out;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

u64 dml_platform_fault_count(struct dml_platform *p)
{
	return atomic_load(&p->direct_faults);
}
