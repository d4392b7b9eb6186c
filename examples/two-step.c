/* SPDX-License-Identifier: MIT */
/*
 * two-step.c - a complete dmalink program, the one the README quotes: an
 * emulated machine with a VT-d IOMMU and one PCI device behind it, a
 * buffer scattered over 4 KiB pages, mapped as ONE contiguous DMA range
 * with the two-step API (dma_iova_try_alloc, dma_iova_link per range, one
 * dma_iova_sync), read by the device through the IOMMU, checked byte for
 * byte, and everything torn down.  Exit 0 when every byte arrived.
 *
 * Build against an installed dmalink:
 *	cc two-step.c $(pkg-config --cflags --libs dmalink) -o two-step
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmalink/dma-mapping.h>
#include <dmalink/dmalink.h>

#define BUF_BYTES	(64 * 1024)
#define MAX_RANGES	16

/* Map a buffer made of nr physically scattered ranges as ONE DMA range. */
static int map_buffer(struct dml_device *dev, const struct dml_phys_range *r,
		      unsigned int nr, size_t total, struct dma_iova_state *st)
{
	size_t off = 0;
	unsigned int i;
	int ret = 0;

	if (!dma_iova_try_alloc(dev, st, r[0].phys, total))
		return -EAGAIN;		/* fall back to dma_map_phys per range */
	for (i = 0; i < nr; i++) {
		ret = dma_iova_link(dev, st, r[i].phys, off, r[i].len,
				    DMA_TO_DEVICE, 0);
		if (ret)
			break;
		off += r[i].len;
	}
	if (!ret)
		ret = dma_iova_sync(dev, st, 0, total);	/* one IOTLB sync */
	if (ret)
		dma_iova_destroy(dev, st, off, DMA_TO_DEVICE, 0);
	return ret;	/* the device now sees [st->addr, st->addr + total) */
}

/* the CPU fills the buffer: byte i of the buffer is (i * 7) & 0xff */
static int fill(struct dml_platform *p, const struct dml_phys_range *r,
		unsigned int nr)
{
	size_t pos = 0, j;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		unsigned char *cpu = dml_kmap_local_phys(p, r[i].phys, r[i].len);

		if (!cpu)
			return -EFAULT;
		for (j = 0; j < r[i].len; j++, pos++)
			cpu[j] = (unsigned char)(pos * 7);
	}
	return 0;
}

int main(void)
{
	/* every options struct says how much of it the caller filled in */
	struct dml_iommu_opts io = { .size = DML_SIZEOF(&io, levels), .levels = 4 };
	struct dml_device_opts dop = { .size = DML_SIZEOF(&dop, iommu),
				       .name = "example", .pci = true };
	struct dml_phys_range r[MAX_RANGES];
	struct dma_iova_state st = { 0 };
	struct dml_platform *p = NULL;
	struct dml_layout *l = NULL;
	struct dml_iommu *iommu;
	struct dml_device *dev;
	static unsigned char seen[BUF_BYTES];
	unsigned int nr = 0;
	size_t i;
	int ret;

	ret = dml_platform_create_emu(NULL, &p);	/* 4 GiB of RAM */
	if (!ret)
		ret = dml_iommu_create(p, &io, &iommu);
	if (!ret) {
		dop.iommu = iommu;
		ret = dml_device_create(p, &dop, &dev);
	}
	if (!ret)	/* memory as Linux hands it out: 4 KiB pages anywhere */
		ret = dml_layout_create(p, "4k-random", &l);
	if (!ret)
		ret = dml_layout_alloc(l, BUF_BYTES, r, MAX_RANGES, &nr);
	if (!ret)
		ret = fill(p, r, nr);
	if (!ret)
		ret = map_buffer(dev, r, nr, BUF_BYTES, &st);
	if (ret) {
		fprintf(stderr, "two-step: setup failed: %s\n", strerror(-ret));
		goto out;
	}
	printf("%u physical ranges mapped at IOVA 0x%llx, %d bytes\n", nr,
	       (unsigned long long)st.addr, BUF_BYTES);

	/* the device reads the whole buffer through the IOMMU in one go */
	ret = dml_dev_dma_read(dev, st.addr, seen, BUF_BYTES);
	for (i = 0; !ret && i < BUF_BYTES; i++)
		if (seen[i] != (unsigned char)(i * 7))
			ret = -EIO;
	printf("device DMA: %s\n", ret ? strerror(-ret) : "every byte arrived");

	dma_iova_destroy(dev, &st, BUF_BYTES, DMA_TO_DEVICE, 0);
	dml_layout_free(l, r, nr);
out:
	if (l)
		dml_layout_destroy(l);
	dml_platform_destroy(p);	/* the IOMMU and the device go too */
	return ret ? 1 : 0;
}
