/* SPDX-License-Identifier: MIT */
/*
 * device.c - PCI devices bound to vfio-pci as struct dml_device: opening
 * one by address (its group joins the container), its regions (BARs, ROM,
 * config space) read, written or mmapped through the VFIO device file,
 * bus mastering and reset (include/uapi/linux/vfio.h; vfio-pci region
 * layout: VFIO_PCI_*_REGION_INDEX).
 *
 * A device holds its VFIO device fd and its BAR mmaps; closing it
 * (dml_device_destroy) releases both and nothing else: its group and the
 * mappings stay with the container.  The DMA side of the device is the
 * container's shared domain (owns_domain = false).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vfio.h"
#include "../dma/debug.h"

#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4
#define PCI_BASE_ADDRESS_0	0x10
#define PCI_BASE_ADDRESS_MEM_TYPE_MASK	0x06
#define PCI_BASE_ADDRESS_MEM_TYPE_64	0x04
#define PCI_BASE_ADDRESS_MEM_MASK	(~0x0fULL)

/* "DDDD:BB:DD.F" -> requester id (bus << 8 | dev << 3 | fn) */
static int parse_bdf(const char *bdf, u16 *rid)
{
	unsigned int dom, bus, dev, fn;
	char tail;

	if (!bdf || strlen(bdf) != 12 ||
	    sscanf(bdf, "%4x:%2x:%2x.%1x%c", &dom, &bus, &dev, &fn, &tail) != 4 ||
	    dev > 31 || fn > 7)
		return -EINVAL;
	*rid = (u16)(bus << 8 | dev << 3 | fn);
	return 0;
}

static void vfio_device_fini(struct dml_device *dev)
{
	struct dml_vfio_device *vdev = dev->backend;
	unsigned int i;

	if (!vdev)
		return;
	/* vfio_pci_dma_buf_cleanup(): exported BARs are revoked for good */
	if (vdev->pdev)
		dml__pci_bar_event(vdev->pdev, DML_PCI_BAR_GONE);
	for (i = 0; i < DML_VFIO_NR_REGIONS; i++)
		if (vdev->r[i].map && !vdev->r[i].kept)
			munmap(vdev->r[i].map, vdev->r[i].info.size);
	close(vdev->fd);
	pthread_mutex_destroy(&vdev->lock);
	dml__free(vdev);
	dev->backend = NULL;
}

/*
 * The memory decode a config write of [@offset, +@len) leaves: 1 on, 0
 * off, -1 when it does not write PCI_COMMAND's low byte
 * (vfio_basic_config_write()).
 */
static int written_decode(u64 offset, const void *buf, size_t len)
{
	if (offset > PCI_COMMAND || offset + len <= PCI_COMMAND)
		return -1;
	return !!(((const u8 *)buf)[PCI_COMMAND - offset] & PCI_COMMAND_MEMORY);
}

/* the function's decode state from the device's PCI_COMMAND */
static void sync_decode(struct dml_device *dev)
{
	struct dml_vfio_device *vdev = dev->backend;
	u16 cmd;

	if (dml_vfio_config_read(dev, PCI_COMMAND, &cmd, sizeof(cmd)))
		return;
	dml__pci_bar_event(vdev->pdev, cmd & PCI_COMMAND_MEMORY ?
					DML_PCI_BAR_DECODE_ON :
					DML_PCI_BAR_DECODE_OFF);
}

static bool already_open(struct dml_platform *p, const char *bdf)
{
	struct dml_device *d;
	bool found = false;

	pthread_mutex_lock(&p->lock);
	for (d = p->devices; d && !found; d = d->next)
		found = d->backend && !strcmp(d->name, bdf);
	pthread_mutex_unlock(&p->lock);
	return found;
}

static int read_regions(struct dml_vfio_container *c,
			struct dml_vfio_device *vdev)
{
	unsigned int i, n = min(vdev->num_regions, (u32)DML_VFIO_NR_REGIONS);
	int ret;

	for (i = 0; i < n; i++) {
		struct vfio_region_info info = {
			.argsz = sizeof(info),
			.index = i,
		};

		ret = dml__vfio_ioctl(c, vdev->fd, VFIO_DEVICE_GET_REGION_INFO,
				      &info, true);
		if (ret == -EINVAL && i == VFIO_PCI_VGA_REGION_INDEX)
			continue;	/* no VGA region: normal */
		if (ret < 0)
			return ret;
		vdev->r[i].info.size = info.size;
		vdev->r[i].info.offset = info.offset;
		vdev->r[i].info.flags = info.flags & (DML_VFIO_REGION_READ |
						      DML_VFIO_REGION_WRITE |
						      DML_VFIO_REGION_MMAP);
	}
	return 0;
}

/*
 * bind @dev to its function in the topology read from sysfs at creation,
 * so pci_p2pdma_map_type() classifies it; a function not found (no sysfs
 * topology) leaves it unplaced, as a device that is not PCI
 */
static int bind_function(struct dml_platform *p, struct dml_device *dev,
			 const char *bdf)
{
	struct dml_vfio_device *vdev = dev->backend;
	struct dml_pci_dev *pdev;
	int ret;

	dev->plat = p;
	for (pdev = dml_pci_walk(p, NULL); pdev; pdev = dml_pci_walk(p, pdev)) {
		if (pdev->type != DML_PCI_ENDPOINT || strcmp(pdev->bdf, bdf))
			continue;
		ret = dml__pci_bind(dev, pdev);
		if (!ret) {
			vdev->pdev = pdev;
			sync_decode(dev);
		}
		return ret;
	}
	return 0;
}

int dml_vfio_device_open(struct dml_platform *p, const char *bdf,
			 struct dml_device **out)
{
	struct dml_vfio_container *c = dml__vfio_container(p);
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct dml_vfio_device *vdev;
	struct dml_vfio_group *g;
	struct dml_device *dev;
	u16 rid;
	int ret;

	if (!c || !out || parse_bdf(bdf, &rid))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	if (already_open(p, bdf)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	ret = dml__vfio_group_get(c, bdf, &g);
	if (ret)
		goto out_unlock;

	vdev = dml__zalloc(sizeof(*vdev));
	dev = dml__zalloc(sizeof(*dev));
	if (!vdev || !dev) {
		ret = -ENOMEM;
		goto err_free;
	}
	vdev->c = c;
	vdev->group = g;
	pthread_mutex_init(&vdev->lock, NULL);
	ret = dml__vfio_ioctl(c, g->fd, VFIO_GROUP_GET_DEVICE_FD, (void *)bdf,
			      true);
	if (ret < 0)
		goto err_lock;
	vdev->fd = ret;
	ret = dml__vfio_ioctl(c, vdev->fd, VFIO_DEVICE_GET_INFO, &info, true);
	if (ret < 0)
		goto err_close;
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		dml__warn("vfio: %s is not a PCI device", bdf);
		ret = -ENODEV;
		goto err_close;
	}
	vdev->flags = info.flags;
	vdev->num_regions = info.num_regions;
	ret = read_regions(c, vdev);
	if (ret)
		goto err_close;

	snprintf(dev->name, sizeof(dev->name), "%s", bdf);
	dev->source_id = rid;
	dev->pci = true;
	/* the kernel's PCI defaults (pci_setup_device, dma_parms) */
	dev->dma_mask = DMA_BIT_MASK(32);
	dev->coherent_dma_mask = DMA_BIT_MASK(32);
	dev->max_segment_size = 65536;
	dev->seg_boundary_mask = 0xffffffffUL;
	atomic_init(&dev->pci_32bit_workaround, true);
	dev->domain = &c->domain->dom;
	dev->owns_domain = false;
	dev->backend = vdev;
	dev->backend_fini = vfio_device_fini;
	ret = bind_function(p, dev, bdf);
	if (ret)
		goto err_close;
	dml__device_add(p, dev);
	if (dml__dma_debug_active())
		dml__dma_debug_device_add(dev);
	pthread_mutex_unlock(&c->lock);
	*out = dev;
	return 0;

err_close:
	close(vdev->fd);
err_lock:
	pthread_mutex_destroy(&vdev->lock);
err_free:
	dml__free(dev);
	dml__free(vdev);
out_unlock:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int dml_vfio_region_info(struct dml_device *dev, unsigned int index,
			 struct dml_vfio_region *info)
{
	struct dml_vfio_device *vdev = dml__vfio_device(dev);

	if (!vdev || !info || index >= DML_VFIO_NR_REGIONS)
		return -EINVAL;
	*info = vdev->r[index].info;
	return 0;
}

/*
 * the bus address of BAR @bar: vfio-pci's virtualised BAR register holds
 * the BAR's pci_resource_start() (vfio_bar_fixup() in
 * drivers/vfio/pci/vfio_pci_config.c), two of them for a 64-bit BAR
 */
static int bar_bus_addr(struct dml_device *dev, unsigned int bar, u64 *bus)
{
	u32 lo, hi = 0;
	int ret = dml_vfio_config_read(dev, PCI_BASE_ADDRESS_0 + 4 * bar, &lo, 4);

	if (!ret && (lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64 &&
	    bar < 5)
		ret = dml_vfio_config_read(dev, PCI_BASE_ADDRESS_0 + 4 * (bar + 1), &hi, 4);
	*bus = ((u64)hi << 32) | (lo & PCI_BASE_ADDRESS_MEM_MASK);
	return ret;
}

/*
 * the freshly mmapped BAR joins the topology at its mapping address
 * (phys_addr_t on this backend), bus offset = bus address - that address,
 * and the mapping is the container's from now on (struct
 * dml_vfio_bar_keep).  Called with vdev->lock held.
 */
static int bar_to_topology(struct dml_device *dev, struct dml_vfio_device *vdev,
			   unsigned int bar)
{
	struct dml_vfio_container *c = vdev->c;
	struct dml_vfio_bar_keep *k;
	void *map = vdev->r[bar].map;
	u64 size = vdev->r[bar].info.size, bus;
	int ret = bar_bus_addr(dev, bar, &bus);

	if (ret)
		return ret;
	k = dml__zalloc(sizeof(*k));
	if (!k)
		return -ENOMEM;
	ret = dml_pci_bar_add(dev->pci_dev, (int)bar, (phys_addr_t)(uintptr_t)map,
			      size, bus - (u64)(uintptr_t)map, DML_PCI_BAR_NO_MMIO);
	if (ret) {
		dml__free(k);
		return ret;
	}
	k->addr = map;
	k->size = size;
	pthread_mutex_lock(&c->lock);
	k->next = c->kept;
	c->kept = k;
	pthread_mutex_unlock(&c->lock);
	vdev->r[bar].kept = true;
	return 0;
}

int dml_vfio_bar_map(struct dml_device *dev, unsigned int bar, void **addr,
		     u64 *size)
{
	struct dml_vfio_device *vdev = dml__vfio_device(dev);
	struct dml_vfio_region *r;
	void *map;
	int prot = 0, ret = 0;

	if (!vdev || !addr || bar > 5)
		return -EINVAL;
	r = &vdev->r[bar].info;
	if (!r->size)
		return -ENXIO;
	if (!(r->flags & DML_VFIO_REGION_MMAP))
		return -EOPNOTSUPP;
	if (r->flags & DML_VFIO_REGION_READ)
		prot |= PROT_READ;
	if (r->flags & DML_VFIO_REGION_WRITE)
		prot |= PROT_WRITE;
	pthread_mutex_lock(&vdev->lock);
	if (!vdev->r[bar].map && dev->pci_dev &&
	    dev->pci_dev->bar[bar].provider.size) {
		/* reopened: the topology's BAR is the mapping kept before */
		vdev->r[bar].map = (void *)(uintptr_t)dev->pci_dev->bar[bar].provider.phys;
		vdev->r[bar].kept = true;
	}
	if (!vdev->r[bar].map) {
		map = mmap(NULL, r->size, prot, MAP_SHARED, vdev->fd,
			   (off_t)r->offset);
		if (map == MAP_FAILED)
			ret = -errno;
		else
			vdev->r[bar].map = map;
		if (!ret && dev->pci_dev)
			ret = bar_to_topology(dev, vdev, bar);
		if (ret && vdev->r[bar].map) {
			munmap(vdev->r[bar].map, r->size);
			vdev->r[bar].map = NULL;
		}
	}
	if (!ret) {
		*addr = vdev->r[bar].map;
		if (size)
			*size = r->size;
	}
	pthread_mutex_unlock(&vdev->lock);
	return ret;
}

static int region_check(struct dml_vfio_device *vdev, unsigned int index,
			u64 offset, size_t len, u32 need)
{
	const struct dml_vfio_region *r;

	if (!vdev || index >= DML_VFIO_NR_REGIONS || !len)
		return -EINVAL;
	r = &vdev->r[index].info;
	if (!(r->flags & need) || offset > r->size || len > r->size - offset)
		return -EINVAL;
	return 0;
}

int dml_vfio_region_read(struct dml_device *dev, unsigned int index,
			 u64 offset, void *buf, size_t len)
{
	struct dml_vfio_device *vdev = dml__vfio_device(dev);
	ssize_t n;
	int ret;

	ret = region_check(vdev, index, offset, len, DML_VFIO_REGION_READ);
	if (ret || !buf)
		return ret ? ret : -EINVAL;
	n = pread(vdev->fd, buf, len, (off_t)(vdev->r[index].info.offset + offset));
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int dml_vfio_region_write(struct dml_device *dev, unsigned int index,
			  u64 offset, const void *buf, size_t len)
{
	struct dml_vfio_device *vdev = dml__vfio_device(dev);
	ssize_t n;
	int ret, mem;

	ret = region_check(vdev, index, offset, len, DML_VFIO_REGION_WRITE);
	if (ret || !buf)
		return ret ? ret : -EINVAL;
	mem = index == DML_VFIO_CONFIG && vdev->pdev ?
		written_decode(offset, buf, len) : -1;
	if (!mem)	/* revoked before the BARs stop decoding */
		dml__pci_bar_event(vdev->pdev, DML_PCI_BAR_DECODE_OFF);
	n = pwrite(vdev->fd, buf, len, (off_t)(vdev->r[index].info.offset + offset));
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	if (mem == 1)
		dml__pci_bar_event(vdev->pdev, DML_PCI_BAR_DECODE_ON);
	return 0;
}

int dml_vfio_config_read(struct dml_device *dev, u64 offset, void *buf,
			 size_t len)
{
	return dml_vfio_region_read(dev, DML_VFIO_CONFIG, offset, buf, len);
}

int dml_vfio_config_write(struct dml_device *dev, u64 offset,
			  const void *buf, size_t len)
{
	return dml_vfio_region_write(dev, DML_VFIO_CONFIG, offset, buf, len);
}

int dml_vfio_set_bus_master(struct dml_device *dev, bool enable)
{
	struct dml_vfio_device *vdev = dml__vfio_device(dev);
	u16 cmd;
	int ret;

	if (!vdev)
		return -EINVAL;
	pthread_mutex_lock(&vdev->lock);
	ret = dml_vfio_config_read(dev, PCI_COMMAND, &cmd, sizeof(cmd));
	if (ret)
		goto out;
	if (enable)
		cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	else
		cmd &= (u16)~PCI_COMMAND_MASTER;
	ret = dml_vfio_config_write(dev, PCI_COMMAND, &cmd, sizeof(cmd));
out:
	pthread_mutex_unlock(&vdev->lock);
	return ret;
}

int dml_vfio_reset(struct dml_device *dev)
{
	struct dml_vfio_device *vdev = dml__vfio_device(dev);
	int ret;

	if (!vdev)
		return -EINVAL;
	if (!(vdev->flags & VFIO_DEVICE_FLAGS_RESET))
		return -ENOTTY;
	/* vfio_pci_ioctl_reset(): exported BARs are revoked across it */
	if (vdev->pdev)
		dml__pci_bar_event(vdev->pdev, DML_PCI_BAR_DECODE_OFF);
	ret = dml__vfio_ioctl(vdev->c, vdev->fd, VFIO_DEVICE_RESET, NULL, true);
	if (vdev->pdev)
		sync_decode(dev);
	return ret < 0 ? ret : 0;
}

int dml_vfio_device_fd(struct dml_device *dev)
{
	struct dml_vfio_device *vdev = dml__vfio_device(dev);

	return vdev ? vdev->fd : -EINVAL;
}
