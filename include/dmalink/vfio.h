/* SPDX-License-Identifier: MIT */
/*
 * dmalink/vfio.h - the vfio backend: real PCI devices through Linux VFIO
 * type1 (Documentation/driver-api/vfio.rst, include/uapi/linux/vfio.h),
 * driven by the same DMA API as the emulated platform.
 *
 * The platform is one VFIO container.  The container owns the IOVA space
 * and every mapping; devices of any number of IOMMU groups join it, and a
 * mapping made before a device joins is visible to that device too (type1
 * replays the container's mappings into each group it attaches), so the
 * SPDK/DPDK trap of mappings lost to a late attach cannot happen.  A
 * group, once attached, stays attached until dml_platform_destroy(): the
 * last group leaving a type1 container would drop every mapping.
 *
 * On this backend phys_addr_t is the process virtual address that VFIO
 * pins (VFIO_IOMMU_MAP_DMA's vaddr): anonymous or file-backed memory of
 * this process, or the mmap of a device BAR (dml_vfio_bar_map(), for
 * peer-to-peer DMA with DMA_ATTR_MMIO).  Every function below that takes a
 * phys_addr_t says so again.
 *
 * Differences from the emulated backend that callers can see:
 * - dma_iova_try_alloc() uses dmalink's IOVA allocator over the usable
 *   window: the intersection of VFIO's valid IOVA ranges
 *   (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, which already excludes the
 *   reserved regions of every attached group), the device's DMA mask and
 *   the x86 MSI window.
 * - dma_iova_link() is one VFIO_IOMMU_MAP_DMA at state->addr + offset with
 *   read/write protection from the direction; the kernel pins and syncs,
 *   so dma_iova_sync() has nothing to flush but still checks its range.
 * - dma_iova_unlink() must match whole links (VFIO cannot split a
 *   mapping): anything else is -ENOENT and changes nothing.
 * - A failing ioctl's errno is returned as is (e.g. -ENOSPC when type1's
 *   dma_entry_limit is reached, -EFAULT for an address VFIO cannot pin);
 *   nothing is left half-mapped after an error.
 *
 * Thread safety: the DMA API may be called concurrently on one platform;
 * the helpers below may be called concurrently for different devices.
 */
#ifndef DMALINK_VFIO_H
#define DMALINK_VFIO_H

#include <dmalink/dmalink.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

/**
 * struct dml_vfio_opts - options of the VFIO host platform
 * @size: DML_SIZEOF(opts, last field used); 0 only with every field 0
 *	(all defaults), else -EINVAL
 * @container_path: the container device (default "/dev/vfio/vfio")
 * @sysfs_pci: where PCI devices are found (default
 *	"/sys/bus/pci/devices"); their iommu_group link names the group
 * @dev_vfio: directory of the group devices (default "/dev/vfio")
 */
struct dml_vfio_opts {
	size_t size;
	const char *container_path;
	const char *sysfs_pci;
	const char *dev_vfio;
};

/**
 * dml_platform_create_vfio - open a VFIO type1 container as a platform
 * @opts: options, or NULL for the defaults
 * @out: the platform on success
 *
 * Opens the container and checks the API version and the type1v2
 * extension, and mirrors the machine's PCI topology into the platform
 * with dml_pci_topology_from_sysfs() (@opts->sysfs_pci, /proc/cpuinfo;
 * no BARs), so the P2PDMA classification (dmalink/pci-p2pdma.h) answers
 * for the devices opened as the kernel's does; where that cannot be read
 * the devices are simply not PCI functions to it.  The IOMMU itself is
 * set when the first device joins (VFIO_SET_IOMMU needs a group).  Destroy with dml_platform_destroy(),
 * which closes the devices, unmaps whatever is still mapped (with a
 * warning) and closes the groups and the container.
 * Return: 0; -EINVAL or -E2BIG for bad @opts; the errno of open(2) on the
 * container (-ENOENT: the vfio module is not loaded; -EACCES);
 * -EPROTO if VFIO_GET_API_VERSION is not VFIO_API_VERSION;
 * -EOPNOTSUPP if the kernel has no VFIO_TYPE1v2_IOMMU; -ENOMEM.
 */
int dml_platform_create_vfio(const struct dml_vfio_opts *opts,
			     struct dml_platform **out);

/**
 * dml_vfio_device_open - open a PCI device bound to vfio-pci
 * @p: a VFIO platform
 * @bdf: PCI address, "DDDD:BB:DD.F" (e.g. "0000:00:03.0")
 * @out: the device on success
 *
 * The device is bound to its function in the platform's PCI topology
 * (dml_pci_dev_of()).  Its IOMMU group joins the platform's container (the first group
 * also sets the type1v2 IOMMU and creates the shared DMA domain; every
 * later group narrows the usable IOVA window to VFIO's new valid ranges).
 * The device gets the kernel's PCI defaults: DMA and coherent masks of
 * DMA_BIT_MASK(32) (set the real ones with dma_set_mask(), e.g. 28 bits
 * for QEMU's edu), 64 KiB segments, 4 GiB segment boundary, coherent.  Its
 * name (dml_device_name()) is @bdf.  Memory space and bus mastering are
 * left as they are: see dml_vfio_set_bus_master().  Close it with
 * dml_device_destroy(); its mappings stay in the container, which owns them.
 * Return: 0; -EINVAL if @p is not a VFIO platform or @bdf is malformed;
 * -ENODEV if no such PCI device exists or it has no IOMMU group (IOMMU
 * off); -EBUSY if the group is not viable (a device of the group is bound
 * to a host driver other than vfio-pci) or @bdf is already open here;
 * the errno of the failing open(2) or ioctl (VFIO_GROUP_SET_CONTAINER,
 * VFIO_SET_IOMMU, VFIO_IOMMU_GET_INFO, VFIO_GROUP_GET_DEVICE_FD,
 * VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO); -ENOMEM.  On error
 * nothing is left open except groups already attached for other devices.
 */
int dml_vfio_device_open(struct dml_platform *p, const char *bdf,
			 struct dml_device **out);

/* Region indexes of a vfio-pci device (VFIO_PCI_*_REGION_INDEX). */
#define DML_VFIO_BAR(n)		(n)	/* BARs 0..5 */
#define DML_VFIO_ROM		6
#define DML_VFIO_CONFIG		7

/* Flags of struct dml_vfio_region (VFIO_REGION_INFO_FLAG_* values). */
#define DML_VFIO_REGION_READ	(1u << 0)
#define DML_VFIO_REGION_WRITE	(1u << 1)
#define DML_VFIO_REGION_MMAP	(1u << 2)

/**
 * struct dml_vfio_region - one region of a device, as VFIO reports it
 * @size: bytes (0: the region does not exist, e.g. an unused BAR)
 * @offset: its offset in the device file descriptor, bytes
 * @flags: DML_VFIO_REGION_*
 */
struct dml_vfio_region {
	u64 size;
	u64 offset;
	u32 flags;
};

/**
 * dml_vfio_region_info - describe region @index of @dev
 * @dev: a device from dml_vfio_device_open()
 * @index: DML_VFIO_BAR(0..5), DML_VFIO_ROM or DML_VFIO_CONFIG
 * @info: out
 * Return: 0; -EINVAL if @dev is not a VFIO device or @index is out of
 * range.
 */
int dml_vfio_region_info(struct dml_device *dev, unsigned int index,
			 struct dml_vfio_region *info);

/**
 * dml_vfio_bar_map - map a BAR into this process (mmap of its region)
 * @dev: a device from dml_vfio_device_open()
 * @bar: 0..5
 * @addr: out: the mapping, valid until dml_device_destroy(@dev) (for a
 *	device placed in the topology: until dml_platform_destroy())
 * @size: out: its size in bytes (may be NULL)
 *
 * The first call mmaps the whole region shared, read/write as VFIO
 * allows; later calls return the same mapping.  Access it with loads and
 * stores of the width the device wants (volatile).  On this backend the
 * returned address is also the BAR's phys_addr_t: link it with
 * DMA_ATTR_MMIO into another device's IOVA space for peer-to-peer DMA
 * through the host bridge (type1 maps VM_PFNMAP memory by address).
 * When @dev is placed in the topology, the BAR joins it at that address
 * (dml_pci_bar_add()), with the bus offset that makes it answer its bus
 * address (vfio-pci's virtualised BAR register); pcim_p2pdma_init() on
 * the function then makes it a provider.  Such a mapping is the
 * platform's from then on: it outlives dml_device_destroy(@dev) (so the
 * address is never reused while the topology names it), a reopened
 * device gets the same address back, and it goes with the platform.
 * Return: 0; -EINVAL for a bad @bar or a device that is not VFIO; -ENXIO
 * if the BAR does not exist (size 0); -EOPNOTSUPP if VFIO does not allow
 * mmap of it; the errno of mmap(2); for a placed device, the error of
 * reading its BAR register or of dml_pci_bar_add() (-ENOMEM), the BAR
 * then left unmapped.
 */
int dml_vfio_bar_map(struct dml_device *dev, unsigned int bar, void **addr,
		     u64 *size);

/**
 * dml_vfio_region_read - read @len bytes at @offset of region @index
 * @dev: a device from dml_vfio_device_open()
 * @index: region (DML_VFIO_CONFIG for config space)
 * @offset: bytes from the start of the region
 * @buf: destination
 * @len: bytes; config space and BARs want naturally aligned 1, 2 or 4
 *	(8 for BARs) byte accesses
 *
 * A pread(2) on the device file descriptor.
 * Return: 0; -EINVAL if the range is outside the region or the region is
 * not readable; the errno of pread(2); -EIO on a short read.
 */
int dml_vfio_region_read(struct dml_device *dev, unsigned int index,
			 u64 offset, void *buf, size_t len);

/**
 * dml_vfio_region_write - write @len bytes at @offset of region @index
 *
 * As dml_vfio_region_read(), with pwrite(2); -EINVAL too if the region is
 * not writable.  A config write that clears PCI_COMMAND_MEMORY first
 * revokes the dma-bufs exported from the function's BARs; one that sets
 * it gives them back afterwards (drivers/vfio/pci/vfio_pci_config.c,
 * vfio_pci_dmabuf.c).
 */
int dml_vfio_region_write(struct dml_device *dev, unsigned int index,
			  u64 offset, const void *buf, size_t len);

/**
 * dml_vfio_config_read - read PCI config space (little endian, as on the
 * bus); dml_vfio_region_read() of DML_VFIO_CONFIG
 */
int dml_vfio_config_read(struct dml_device *dev, u64 offset, void *buf,
			 size_t len);

/**
 * dml_vfio_config_write - write PCI config space (VFIO virtualises parts
 * of it, e.g. the BARs); dml_vfio_region_write() of DML_VFIO_CONFIG
 */
int dml_vfio_config_write(struct dml_device *dev, u64 offset,
			  const void *buf, size_t len);

/**
 * dml_vfio_set_bus_master - enable or disable DMA by @dev
 * @dev: a device from dml_vfio_device_open()
 * @enable: true sets Memory Space Enable and Bus Master Enable in the
 *	command register (PCI Local Bus 3.0 §6.2.2, bits 1 and 2); false
 *	clears Bus Master Enable only
 * Return: 0; as dml_vfio_config_read()/dml_vfio_config_write().
 */
int dml_vfio_set_bus_master(struct dml_device *dev, bool enable);

/**
 * dml_vfio_reset - reset @dev (VFIO_DEVICE_RESET: FLR, PM or bus reset,
 *	as the kernel chooses)
 * @dev: a device from dml_vfio_device_open()
 *
 * Config space is restored by the kernel; bus mastering is off afterwards
 * on most devices.  Mappings are not touched (they belong to the
 * container).  The dma-bufs exported from the function's BARs are
 * revoked before the reset and given back after it if memory decode is
 * on again (vfio_pci_ioctl_reset()).  Closing the device
 * (dml_device_destroy()) revokes them for good.
 * Return: 0; -EINVAL if @dev is not VFIO; -ENOTTY if VFIO reports no reset
 * method for the device (no VFIO_DEVICE_FLAGS_RESET), else the errno of
 * the ioctl.
 */
int dml_vfio_reset(struct dml_device *dev);

/**
 * dml_vfio_device_fd - the VFIO device file descriptor of @dev, for what
 * dmalink does not wrap (interrupts: VFIO_DEVICE_SET_IRQS); owned by
 * @dev.  Return: the fd, or -EINVAL if @dev is not a VFIO device.
 */
int dml_vfio_device_fd(struct dml_device *dev);

/**
 * struct dml_vfio_iova_range - a valid IOVA range
 * @start: first byte
 * @last: last byte (inclusive, so a range can end at U64_MAX)
 */
struct dml_vfio_iova_range {
	u64 start;
	u64 last;
};

/**
 * dml_vfio_iova_ranges - the valid IOVA ranges of the container
 * @p: a VFIO platform
 * @r: out: up to @max ranges, ascending
 * @max: capacity of @r
 * @nr: out: the number of ranges (also when -ENOSPC)
 *
 * What VFIO_IOMMU_GET_INFO reported after the last group joined; the DMA
 * API further limits each device to its mask and skips the MSI window.
 * Return: 0; -EINVAL if @p is not VFIO; -ENODEV before the first device
 * is open (no IOMMU set yet); -ENOSPC if @max is too small.
 */
int dml_vfio_iova_ranges(struct dml_platform *p, struct dml_vfio_iova_range *r,
			 unsigned int max, unsigned int *nr);

/**
 * struct dml_vfio_stats - the container's mappings and ioctls
 * @mappings: VFIO mappings alive now (one per link or dma_map_phys)
 * @mapped_bytes: bytes they cover
 * @map_calls: successful VFIO_IOMMU_MAP_DMA calls since creation
 * @unmap_calls: successful VFIO_IOMMU_UNMAP_DMA calls since creation
 * @ioctl_errors: failed ioctls (injected failures included)
 * @pgsizes: the IOMMU page sizes VFIO reported (bit n: 2^n bytes)
 * @dma_avail: mappings type1 still allows (dma_entry_limit minus those
 *	in use) when the kernel reports it, else U64_MAX
 */
struct dml_vfio_stats {
	u64 mappings;
	u64 mapped_bytes;
	u64 map_calls;
	u64 unmap_calls;
	u64 ioctl_errors;
	u64 pgsizes;
	u64 dma_avail;
};

/**
 * dml_vfio_get_stats - copy the container's counters into @st
 * Return: 0; -EINVAL if @p is not VFIO; -ENODEV before the first device
 * is open.
 */
int dml_vfio_get_stats(struct dml_platform *p, struct dml_vfio_stats *st);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_VFIO_H */
