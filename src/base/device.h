/* SPDX-License-Identifier: MIT */
/*
 * device.h - the object model at the bottom of the library, the role the
 * kernel's include/linux/device.h plays: struct dml_platform (the root: an
 * emulated machine or the VFIO host) and struct dml_device (what every DMA
 * call takes, the kernel's struct device), behind the opaque handles of
 * dmalink.h.  Every other layer's object appears here only as a forward
 * declaration, so any layer may include this header.
 *
 * Per-platform state of upper layers (the swiotlb pool, the cache model,
 * coherent memory) lives in platform slots: created on first use by the
 * layer that owns it (dml__platform_slot), released by that layer's
 * destructor when the platform goes (dml__platform_release_slots).
 * Mappings belong to a domain, not to a device attach.
 */
#ifndef DML_BASE_DEVICE_H
#define DML_BASE_DEVICE_H

#include <pthread.h>

#include "base.h"

struct dml_mem;
struct dml_iommu;
struct dml_domain;
struct dml_pci_dev;

enum dml_platform_kind {
	DML_PLATFORM_EMU,
	DML_PLATFORM_VFIO,
};

#define DML_MAX_IOMMUS 8

/*
 * enum dml_platform_slot_id - per-platform state of an upper layer; slots
 * are released in the reverse of this order
 */
enum dml_platform_slot_id {
	DML_SLOT_CACHE,		/* src/mem/cache.c: the non-coherent cache model */
	DML_SLOT_SWIOTLB,	/* src/dma/swiotlb.c: the bounce-buffer pool */
	DML_SLOT_PCI,		/* src/pci/: the PCI topology and its providers */
	DML_SLOT_COHERENT,	/* src/dma/coherent.c: coherent allocations */
	DML_NR_SLOTS,
};

/*
 * struct dml_platform_slot - @obj, published with a release store once
 * created; @release, its destructor, set with it
 */
struct dml_platform_slot {
	void *_Atomic obj;
	void (*release)(void *obj);
};

struct dml_platform {
	enum dml_platform_kind kind;
	struct dml_mem *mem;		/* EMU: the physical address space */
	u64 seed;
	pthread_mutex_t lock;		/* device list, iommu list, slot creation */
	struct dml_iommu *iommus[DML_MAX_IOMMUS];
	unsigned int nr_iommus;
	struct dml_device *devices;
	atomic_ullong direct_faults;
	void *backend;			/* VFIO: container state */
	void (*backend_fini)(struct dml_platform *p);
	u64 swiotlb_size;		/* bytes; 0: no bounce buffers */
	unsigned int cpu_vendor;	/* DML_CPU_* (dmalink/pci.h) */
	unsigned int cpu_family;	/* x86 family (0x17: AMD Zen) */
	struct dml_platform_slot slot[DML_NR_SLOTS];
};

struct dml_device {
	struct dml_platform *plat;
	struct dml_device *next;
	char name[32];
	u16 source_id;
	bool pci;
	bool non_coherent;
	bool untrusted;
	bool force_bounce;		/* dma-direct: bounce every mapping */
	bool cc_guest;			/* of a confidential guest: dma-direct's CC path */
	u64 cc_mask;			/* the encryption bits a DMA address may carry */
	unsigned int min_align_mask;	/* dma_get_min_align_mask() */
	u64 dma_mask;
	u64 coherent_dma_mask;
	u64 bus_dma_limit;		/* 0: none */
	unsigned int max_segment_size;
	unsigned long seg_boundary_mask;
	struct dml_iommu *iommu;	/* EMU: unit; NULL for direct */
	struct dml_domain *domain;	/* NULL: dma-direct */
	struct dml_pci_dev *pci_dev;	/* its PCI function; NULL: not PCI */
	bool owns_domain;
	atomic_bool pci_32bit_workaround;	/* try below 4 GiB first */
	atomic_bool dma_skip_sync_off;	/* dma_need_unmap(): ever bounced */
	atomic_bool dma_uses_io_tlb;	/* has had a swiotlb buffer */
	atomic_ullong bytes_read;
	atomic_ullong bytes_written;
	atomic_ullong faults;
	void *backend;			/* VFIO: the device */
	void (*backend_fini)(struct dml_device *dev);
};

/*
 * dml__platform_slot - the object in slot @id of @p, or NULL
 * (acquire load: the object's contents are visible)
 */
static inline void *dml__platform_slot(struct dml_platform *p,
				       enum dml_platform_slot_id id)
{
	return atomic_load_explicit(&p->slot[id].obj, memory_order_acquire);
}

/*
 * dml__platform_slot_get - the object in slot @id, created on first use
 * @create: builds it, called at most once per platform, under p->lock
 *	(it must not take p->lock); NULL on failure (then a later call tries
 *	again)
 * @release: its destructor, called by dml__platform_release_slots()
 * Return: the object; NULL when @create failed.
 */
void *dml__platform_slot_get(struct dml_platform *p, enum dml_platform_slot_id id,
			     void *(*create)(struct dml_platform *p),
			     void (*release)(void *obj));

/* dml__platform_release_slots - release every slot, last id first */
void dml__platform_release_slots(struct dml_platform *p);

/*
 * dml__device_add - link a device its creator built into @p's device list
 * (the kernel's device_add(), without the notifiers: the creator tells the
 * DMA checker itself)
 */
void dml__device_add(struct dml_platform *p, struct dml_device *dev);

/* dml__device_del - unlink @dev from its platform's device list */
void dml__device_del(struct dml_device *dev);

#endif /* DML_BASE_DEVICE_H */
