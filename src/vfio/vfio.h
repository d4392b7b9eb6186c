/* SPDX-License-Identifier: MIT */
/*
 * vfio.h - the VFIO type1 backend, internal side: the container (one per
 * platform), its IOMMU groups, the shared DMA domain with its record of
 * VFIO mappings, and the devices.  Public side: dmalink/vfio.h.
 *
 * Objects and lifetimes:
 *   platform --backend--> container --groups--> group, group, ...
 *                                   --domain--> vfio domain (shared)
 *   device (struct dml_device) --backend--> vfio device --> its group
 * The container, its groups and its domain live until the platform is
 * destroyed; devices come and go (a group never leaves the container
 * early: the last group leaving type1 would drop every mapping).
 *
 * Locking: container->lock serialises device opens (group attach, IOVA
 * window updates); domain->lock guards the mapping record and is held
 * across the MAP/UNMAP ioctl so the record always equals the kernel's
 * view; a device's lock guards its BAR mmaps.
 */
#ifndef DML_VFIO_VFIO_H
#define DML_VFIO_VFIO_H

#include <linux/vfio.h>
#include <pthread.h>

#include <dmalink/vfio.h>

#include "../base/device.h"
#include "../iommu/domain.h"
#include "../pci/pci.h"

/* an IOMMU group attached to the container */
struct dml_vfio_group {
	struct dml_vfio_group *next;
	int fd;
	unsigned int id;
};

/*
 * struct dml_vfio_map - one VFIO mapping: [iova, iova + size) -> vaddr,
 * made by one VFIO_IOMMU_MAP_DMA; @head: a link starts here (an unlink
 * may start here and the link before it may end here).
 */
struct dml_vfio_map {
	dml_iova_t iova;
	u64 size;
	u64 vaddr;
	int prot;
	bool head;
};

/*
 * struct dml_vfio_domain - the container's DMA domain
 * @dom: the generic part (first: dma-iommu sees only this)
 * @c: the container
 * @maps: the mappings, sorted by IOVA, never overlapping
 */
struct dml_vfio_domain {
	struct dml_domain dom;
	struct dml_vfio_container *c;
	pthread_rwlock_t lock;
	struct dml_vfio_map *maps;
	size_t nr, cap;
	u64 mapped_bytes;
	u64 map_calls;
	u64 unmap_calls;
};

/* IOVA pfn ranges the backend reserved in the allocator (inclusive) */
struct dml_vfio_resv {
	unsigned long lo, hi;
};

/*
 * struct dml_vfio_bar_keep - a BAR mmap that the topology holds as the
 * BAR's CPU address (phys_addr_t is the virtual address here): kept until
 * the platform goes, so the address never comes back for other memory
 * while the topology still says it is that BAR; a reopened device maps
 * it again at the same address
 */
struct dml_vfio_bar_keep {
	struct dml_vfio_bar_keep *next;
	void *addr;
	u64 size;
};

struct dml_vfio_container {
	struct dml_platform *plat;
	int fd;
	char sysfs_pci[256];
	char dev_vfio[256];
	pthread_mutex_t lock;
	struct dml_vfio_group *groups;
	struct dml_vfio_domain *domain;	/* NULL until the first group */
	struct dml_vfio_iova_range *ranges;
	unsigned int nr_ranges;
	struct dml_vfio_resv *resv;
	unsigned int nr_resv;
	u64 pgsizes;
	u64 dma_limit;		/* type1 dma_entry_limit, U64_MAX: unknown */
	atomic_ullong ioctl_errors;
	struct dml_vfio_bar_keep *kept;	/* under @lock */
};

#define DML_VFIO_NR_REGIONS VFIO_PCI_NUM_REGIONS

struct dml_vfio_device {
	struct dml_vfio_container *c;
	struct dml_vfio_group *group;
	int fd;
	u32 flags;
	u32 num_regions;
	struct dml_pci_dev *pdev;	/* its function in the topology, or NULL */
	pthread_mutex_t lock;
	struct {
		struct dml_vfio_region info;
		void *map;
		bool kept;	/* @map is the container's (a topology BAR) */
	} r[DML_VFIO_NR_REGIONS];
};

/* the container behind @p, or NULL if @p is not a VFIO platform */
static inline struct dml_vfio_container *dml__vfio_container(struct dml_platform *p)
{
	return p && p->kind == DML_PLATFORM_VFIO ? p->backend : NULL;
}

/* the VFIO device behind @dev, or NULL */
static inline struct dml_vfio_device *dml__vfio_device(struct dml_device *dev)
{
	return dev && dev->plat && dev->plat->kind == DML_PLATFORM_VFIO ?
	       dev->backend : NULL;
}

/*
 * dml__vfio_ioctl - ioctl(2) through the fault-injection hook (when
 * @inject: a failure reads as -ENOMEM, what a failed allocation in the
 * kernel gives); counts failures.  Return: the ioctl's value (>= 0) or
 * -errno.
 */
int dml__vfio_ioctl(struct dml_vfio_container *c, int fd, unsigned long req,
		    void *arg, bool inject);

/* ---- domain.c ---- */

/*
 * dml__vfio_domain_create - the shared domain, after VFIO_SET_IOMMU, over
 * the ranges in @c (aperture = first start .. last end; the holes between
 * ranges reserved).  Return: 0; -EINVAL; -ENOMEM.
 */
int dml__vfio_domain_create(struct dml_vfio_container *c);

/*
 * dml__vfio_domain_narrow - after another group joined and @c->ranges was
 * re-read: reserve whatever is no longer valid.  Return: 0; -ENOMEM.
 */
int dml__vfio_domain_narrow(struct dml_vfio_container *c);

/* dml__vfio_domain_release - unmap what is left (warning), free */
void dml__vfio_domain_release(struct dml_vfio_container *c);

/* ---- container.c ---- */

/*
 * dml__vfio_group_get - the group of PCI device @bdf, attached to the
 * container (the first one also sets the IOMMU and creates the domain).
 * Called with c->lock held.  Return: 0; errors as dml_vfio_device_open().
 */
int dml__vfio_group_get(struct dml_vfio_container *c, const char *bdf,
			struct dml_vfio_group **out);

/* nvme.c: BAR0 as the NVMe driver's register accessors */
struct dml_nvme_bar;
int dml__vfio_nvme_bar(struct dml_device *dev, struct dml_nvme_bar *bar);

#endif /* DML_VFIO_VFIO_H */
