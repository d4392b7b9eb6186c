/* SPDX-License-Identifier: MIT */
/*
 * container.c - the VFIO host as a platform: one type1 container, the IOMMU
 * groups that join it, and the valid IOVA ranges VFIO reports
 * (Documentation/driver-api/vfio.rst "VFIO Usage Example";
 * include/uapi/linux/vfio.h for every ioctl used here).
 *
 * Invariants:
 * - The IOMMU is set (VFIO_SET_IOMMU, type1v2) when the first group joins;
 *   from then on c->domain exists and c->ranges holds what
 *   VFIO_IOMMU_GET_INFO last reported.
 * - A group that joined stays until the platform is destroyed: type1 drops
 *   every mapping when the last group leaves, and the container, not the
 *   device, owns the mappings (prior art §7.5: the SPDK/DPDK ordering trap).
 * - After each join the ranges are re-read and anything no longer valid is
 *   reserved in the allocator, so the IOVA handed out is always inside the
 *   intersection of every group's valid ranges.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio.h"

/* Without the IOVA range capability (kernels before 5.4): 39 bits, the
 * narrowest common VT-d address width (prior art §6.7, unvme #4). */
#define FALLBACK_IOVA_LAST DMA_BIT_MASK(39)

int dml__vfio_ioctl(struct dml_vfio_container *c, int fd, unsigned long req,
		    void *arg, bool inject)
{
	int ret;

	if (inject && dml__should_fail()) {
		ret = -ENOMEM;
	} else {
		ret = ioctl(fd, req, arg);
		if (ret < 0)
			ret = -errno;
	}
	if (ret < 0)
		atomic_fetch_add(&c->ioctl_errors, 1);
	return ret;
}

static void copy_path(char *dst, size_t len, const char *src, const char *def)
{
	snprintf(dst, len, "%s", src ? src : def);
}

static void container_fini(struct dml_platform *p)
{
	struct dml_vfio_container *c = p->backend;
	struct dml_vfio_group *g;

	if (!c)
		return;
	dml__vfio_domain_release(c);
	while (c->kept) {
		struct dml_vfio_bar_keep *k = c->kept;

		c->kept = k->next;
		munmap(k->addr, k->size);
		dml__free(k);
	}
	while ((g = c->groups)) {
		c->groups = g->next;
		ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER);
		close(g->fd);
		dml__free(g);
	}
	close(c->fd);
	pthread_mutex_destroy(&c->lock);
	dml__free(c->ranges);
	dml__free(c->resv);
	dml__free(c);
	p->backend = NULL;
}

int dml_platform_create_vfio(const struct dml_vfio_opts *opts,
			     struct dml_platform **out)
{
	struct dml_vfio_container *c;
	struct dml_vfio_opts o;
	struct dml_platform *p;
	int ret;

	if (!out)
		return -EINVAL;
	ret = dml__opts_copy(&o, sizeof(o), opts, "dml_vfio_opts");
	if (ret)
		return ret;
	c = dml__zalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	copy_path(c->sysfs_pci, sizeof(c->sysfs_pci), o.sysfs_pci,
		  "/sys/bus/pci/devices");
	copy_path(c->dev_vfio, sizeof(c->dev_vfio), o.dev_vfio, "/dev/vfio");
	c->dma_limit = UINT64_MAX;
	c->fd = open(o.container_path ? o.container_path : "/dev/vfio/vfio",
		     O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = dml__vfio_ioctl(c, c->fd, VFIO_GET_API_VERSION, NULL, true);
	if (ret < 0)
		goto err_close;
	if (ret != VFIO_API_VERSION) {
		dml__warn("vfio: API version %d, expected %d", ret, VFIO_API_VERSION);
		ret = -EPROTO;
		goto err_close;
	}
	ret = dml__vfio_ioctl(c, c->fd, VFIO_CHECK_EXTENSION,
			      (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU, true);
	if (ret < 0)
		goto err_close;
	if (ret == 0) {
		dml__warn("vfio: the kernel has no VFIO_TYPE1v2_IOMMU");
		ret = -EOPNOTSUPP;
		goto err_close;
	}
	p = dml__zalloc(sizeof(*p));
	if (!p) {
		ret = -ENOMEM;
		goto err_close;
	}
	p->kind = DML_PLATFORM_VFIO;
	p->seed = 1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&c->lock, NULL);
	c->plat = p;
	p->backend = c;
	p->backend_fini = container_fini;
	/*
	 * The machine's PCI topology and CPU, for the P2PDMA classification
	 * of the devices opened; BARs join it when mmapped
	 * (dml_vfio_bar_map()).  Without it (no sysfs, no memory) devices
	 * are simply not placed: a device that is not PCI is never P2P.
	 */
	ret = dml_pci_topology_from_sysfs(p, c->sysfs_pci, "/proc/cpuinfo",
					  DML_PCI_SYSFS_NO_BARS, NULL);
	if (ret)
		dml__info("vfio: no PCI topology from %s (%d)", c->sysfs_pci, ret);
	*out = p;
	return 0;

err_close:
	close(c->fd);
err_free:
	dml__free(c);
	return ret;
}

/*
 * Read VFIO_IOMMU_GET_INFO into c->ranges, c->pgsizes, c->dma_limit.
 * The info struct grows with its capability chain: ask once, and again
 * with the size the kernel wants.
 */
static int read_iommu_info(struct dml_vfio_container *c)
{
	struct vfio_iommu_type1_info *info;
	struct dml_vfio_iova_range *r = NULL;
	unsigned int nr = 0, i;
	u32 argsz = sizeof(*info), off;
	int ret;

	for (;;) {
		info = dml__zalloc(argsz);
		if (!info)
			return -ENOMEM;
		info->argsz = argsz;
		ret = dml__vfio_ioctl(c, c->fd, VFIO_IOMMU_GET_INFO, info, true);
		if (ret < 0)
			goto out;
		if (info->argsz <= argsz)
			break;
		argsz = info->argsz;
		dml__free(info);
	}

	c->pgsizes = (info->flags & VFIO_IOMMU_INFO_PGSIZES) ?
		     info->iova_pgsizes : PAGE_SIZE;
	off = (info->flags & VFIO_IOMMU_INFO_CAPS) ? info->cap_offset : 0;
	while (off && off + sizeof(struct vfio_info_cap_header) <= argsz) {
		struct vfio_info_cap_header *h = (void *)((char *)info + off);

		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE && !r) {
			struct vfio_iommu_type1_info_cap_iova_range *cap = (void *)h;

			if (off + sizeof(*cap) + (u64)cap->nr_iovas *
			    sizeof(cap->iova_ranges[0]) > argsz || !cap->nr_iovas) {
				ret = -EPROTO;
				goto out;
			}
			r = dml__zalloc(cap->nr_iovas * sizeof(*r));
			if (!r) {
				ret = -ENOMEM;
				goto out;
			}
			nr = cap->nr_iovas;
			for (i = 0; i < nr; i++) {
				r[i].start = cap->iova_ranges[i].start;
				r[i].last = cap->iova_ranges[i].end;
			}
		} else if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
			/* avail = dma_entry_limit - mappings now */
			u64 inuse = 0;

			if (c->domain) {
				pthread_rwlock_rdlock(&c->domain->lock);
				inuse = c->domain->nr;
				pthread_rwlock_unlock(&c->domain->lock);
			}
			c->dma_limit = inuse +
				((struct vfio_iommu_type1_info_dma_avail *)h)->avail;
		}
		if (h->next <= off)
			break;
		off = h->next;
	}
	if (!r) {
		r = dml__zalloc(sizeof(*r));
		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		r->start = 0;
		r->last = FALLBACK_IOVA_LAST;
		nr = 1;
	}
	dml__free(c->ranges);
	c->ranges = r;
	c->nr_ranges = nr;
	ret = 0;
out:
	dml__free(info);
	return ret;
}

/* the IOMMU group number of @bdf from sysfs, or -ENODEV */
static int group_id(struct dml_vfio_container *c, const char *bdf,
		    unsigned int *id)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	struct stat st;
	ssize_t n;
	char *end;

	snprintf(path, sizeof(path), "%s/%s", c->sysfs_pci, bdf);
	if (stat(path, &st)) {
		dml__warn("vfio: no PCI device %s", bdf);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "%s/%s/iommu_group", c->sysfs_pci, bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		dml__warn("vfio: %s has no IOMMU group (is the IOMMU on?)", bdf);
		return -ENODEV;
	}
	link[n] = 0;
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	errno = 0;
	*id = (unsigned int)strtoul(base, &end, 10);
	if (errno || end == base || *end)
		return -ENODEV;
	return 0;
}

int dml__vfio_group_get(struct dml_vfio_container *c, const char *bdf,
			struct dml_vfio_group **out)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct dml_vfio_group *g;
	char path[PATH_MAX];
	unsigned int id;
	bool first;
	int ret;

	ret = group_id(c, bdf, &id);
	if (ret)
		return ret;
	for (g = c->groups; g; g = g->next) {
		if (g->id == id) {
			*out = g;
			return 0;
		}
	}

	g = dml__zalloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->id = id;
	snprintf(path, sizeof(path), "%s/%u", c->dev_vfio, id);
	g->fd = open(path, O_RDWR | O_CLOEXEC);
	if (g->fd < 0) {
		ret = -errno;
		dml__warn("vfio: cannot open %s: %s", path, strerror(-ret));
		goto err_free;
	}
	ret = dml__vfio_ioctl(c, g->fd, VFIO_GROUP_GET_STATUS, &status, true);
	if (ret < 0)
		goto err_close;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		dml__warn("vfio: group %u is not viable: bind all its devices to vfio-pci",
			  id);
		ret = -EBUSY;
		goto err_close;
	}
	ret = dml__vfio_ioctl(c, g->fd, VFIO_GROUP_SET_CONTAINER, &c->fd, true);
	if (ret < 0)
		goto err_close;
	first = !c->domain;
	if (first) {
		ret = dml__vfio_ioctl(c, c->fd, VFIO_SET_IOMMU,
				      (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU, true);
		if (ret < 0)
			goto err_unset;
	}
	ret = read_iommu_info(c);
	if (ret)
		goto err_unset;
	ret = first ? dml__vfio_domain_create(c) : dml__vfio_domain_narrow(c);
	if (ret)
		goto err_unset;
	g->next = c->groups;
	c->groups = g;
	*out = g;
	return 0;

err_unset:
	/* the first group leaving also unsets the IOMMU: back to the start */
	ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER);
	if (!first && read_iommu_info(c))
		dml__warn("vfio: cannot re-read the IOVA ranges after a failed attach");
err_close:
	close(g->fd);
err_free:
	dml__free(g);
	return ret;
}

int dml_vfio_iova_ranges(struct dml_platform *p, struct dml_vfio_iova_range *r,
			 unsigned int max, unsigned int *nr)
{
	struct dml_vfio_container *c = dml__vfio_container(p);
	int ret = 0;

	if (!c || !nr || (max && !r))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	if (!c->domain) {
		ret = -ENODEV;
		*nr = 0;
	} else {
		*nr = c->nr_ranges;
		if (max < c->nr_ranges)
			ret = -ENOSPC;
		else
			memcpy(r, c->ranges, c->nr_ranges * sizeof(*r));
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int dml_vfio_get_stats(struct dml_platform *p, struct dml_vfio_stats *st)
{
	struct dml_vfio_container *c = dml__vfio_container(p);
	struct dml_vfio_domain *vd;

	if (!c || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&c->lock);
	vd = c->domain;
	if (vd) {
		pthread_rwlock_rdlock(&vd->lock);
		st->mappings = vd->nr;
		st->mapped_bytes = vd->mapped_bytes;
		st->map_calls = vd->map_calls;
		st->unmap_calls = vd->unmap_calls;
		pthread_rwlock_unlock(&vd->lock);
		st->pgsizes = c->pgsizes;
		st->dma_avail = c->dma_limit == UINT64_MAX ? UINT64_MAX :
				c->dma_limit - st->mappings;
	}
	st->ioctl_errors = atomic_load(&c->ioctl_errors);
	pthread_mutex_unlock(&c->lock);
	return vd ? 0 : -ENODEV;
}
