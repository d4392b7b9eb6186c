/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dmabuf_io.c - libFuzzer harness for the library's dma-buf
 * exporters and importers (dmalink/dma-buf-exporter.h, dma-buf-importer.h):
 * the input picks an exporter (system heap, RAM without a memmap, device
 * memory, one BAR range, or the decrypted heap of a TDX-like confidential
 * guest whose NIC is not accepted) with a size and place, valid or not,
 * then runs up to four importers of any type through import, address
 * lookups at any offset with a device read, remaps, destroys, revokes and
 * re-enables, moves between VRAM and system memory, CPU access through
 * the exporter, and the SSD's memory decode going off and on (a BAR
 * buffer follows it: revoked while off).  Every call must succeed or
 * return an error; a lookup that succeeds must give an address where the
 * device reads the buffer's bytes; nothing may crash or leak.
 * Build: meson setup with CC=clang (tests/fuzz/meson.build builds it);
 * run: build-fuzz/tests/fuzz/fuzz_dmabuf_io tests/fuzz/corpus/fuzz_dmabuf_io
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dmalink/cc.h>
#include <dmalink/dma-buf-exporter.h>
#include <dmalink/dma-buf-importer.h>

#include "fuzz.h"

#define SSD_BAR		0xa00000000ULL
#define BAR_LEN		(1ULL << 20)
#define NOMAP_BASE	0x40000000ULL
#define NIMP		4
#define NKINDS		5	/* exporters; the last one in a CC guest */

struct m {
	struct dml_platform *p;
	struct dml_device *nic;
	struct dml_pci_dev *ssd;
};

/*
 * an SSD's BAR behind a whitelisted host bridge, a NIC behind an IOMMU;
 * with @cc the machine is a confidential guest
 */
static void build(struct m *m, bool cc)
{
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, cpu_family),
		.ram_size = 8ULL << 20,
		.swiotlb_off = true,
		.cpu_vendor = DML_CPU_INTEL,
		.cpu_family = 6,
	};
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
	struct dml_pci_dev *hb, *rp0, *rp1, *nicf;
	struct dml_iommu *iommu;

	if (dml_platform_create_emu(&eo, &m->p) ||
	    (cc && dml_cc_platform_init(m->p, DML_CC_TDX, 0)) ||
	    dml_pci_host_bridge_add(m->p, 0, 0, 0x8086, 0x2030, "hb", &hb) ||
	    dml_pci_dev_add(hb, DML_PCI_ROOT_PORT, PCI_DEVFN(1, 0), 0x8086,
			    0x2030, "rp0", &rp0) ||
	    dml_pci_dev_add(hb, DML_PCI_ROOT_PORT, PCI_DEVFN(2, 0), 0x8086,
			    0x2030, "rp1", &rp1) ||
	    dml_pci_dev_add(rp0, DML_PCI_ENDPOINT, 0, 0x144d, 0xa80a, "ssd",
			    &m->ssd) ||
	    dml_pci_dev_add(rp1, DML_PCI_ENDPOINT, 0, 0x15b3, 0x1021, "nic",
			    &nicf) ||
	    dml_pci_bar_add(m->ssd, 0, SSD_BAR, BAR_LEN, 0, 0) ||
	    pcim_p2pdma_init(m->ssd) || dml_iommu_create(m->p, NULL, &iommu) ||
	    dml_ram_add(m->p, NOMAP_BASE, 2ULL << 20, DML_RAM_NO_MEMMAP))
		abort();
	o.iommu = iommu;
	o.name = "nic";
	o.pci_dev = nicf;
	if (dml_device_create(m->p, &o, &m->nic))
		abort();
}

static int export(struct m *m, u8 kind, u8 pages, u8 place,
		  struct dma_buf **out)
{
	size_t len = (size_t)pages * 4096;
	u64 off = (u64)place * 4096;
	struct dml_dma_buf_range r = { off, len };

	switch (kind % NKINDS) {
	case 0:
		return dml_system_heap_alloc(m->p, place & 1 ? "4k-random" : NULL,
					     len, out);
	case 1:
		return dml_ram_dma_buf_export(m->p, NOMAP_BASE + off, len, out);
	case 2:
		return dml_vram_dma_buf_export(m->ssd, 0, off, len, out);
	case 3:
		return dml_pci_bar_dma_buf_export(m->ssd, 0, &r, 1, out);
	default:
		return dml_system_cc_decrypted_heap_alloc(m->p, place & 1 ?
							  "4k-random" : NULL,
							  len, out);
	}
}

/* what the CPU put at byte @off of the buffer, through the exporter */
static int cpu_byte(struct dma_buf *buf, u64 off, u8 *b)
{
	void *p;
	int ret;

	if (dma_buf_begin_cpu_access(buf, DMA_FROM_DEVICE))
		return -1;
	ret = dma_buf_mmap(buf, off / 4096, 1 + off % 4096, &p);
	if (!ret)
		*b = ((u8 *)p)[off % 4096];
	dma_buf_end_cpu_access(buf, DMA_FROM_DEVICE);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dml_dma_buf_importer *imps[NIMP] = { 0 };
	bool readable[NIMP] = { 0 }, pinned[NIMP] = { 0 }, decode_off = false;
	struct dma_buf *buf;
	size_t i, pos = 3;
	struct m m;

	dml_set_log(fuzz_quiet, NULL);
	if (size < 3)
		return 0;
	build(&m, data[0] % NKINDS == NKINDS - 1);
	if (export(&m, data[0], data[1], data[2], &buf)) {
		dml_platform_destroy(m.p);
		return 0;
	}
	while (pos + 1 < size) {
		u8 op = data[pos++], arg = data[pos++];
		struct dml_dma_buf_importer **im = &imps[arg % NIMP];
		enum dma_data_direction dir = (enum dma_data_direction)((arg >> 4) % 4);
		enum dml_dma_buf_importer_type type =
			(enum dml_dma_buf_importer_type)((arg >> 2) % 4);
		u64 off = (u64)arg * 61, len;
		dma_addr_t dma;
		u8 dev, cpu;

		switch (op % 8) {
		case 0:	/* import as any type, any direction */
			if (*im || dml_dma_buf_import(buf, m.nic, type, dir, im))
				break;
			readable[arg % NIMP] = dir == DMA_TO_DEVICE ||
					       dir == DMA_BIDIRECTIONAL;
			pinned[arg % NIMP] = type == DML_DMA_BUF_IMPORTER_STATIC;
			break;
		case 1:	/* a lookup the device reads the buffer's bytes through */
			if (!*im || !readable[arg % NIMP] ||
			    dml_dma_buf_importer_dma(*im, off, &dma, &len))
				break;
			if (!len || dml_dev_dma_read(m.nic, dma, &dev, 1))
				abort();
			if (!cpu_byte(buf, off, &cpu) && dev != cpu)
				abort();
			break;
		case 2:
			dml_dma_buf_importer_map(*im);
			break;
		case 3:
			dml_dma_buf_importer_destroy(*im);
			*im = NULL;
			pinned[arg % NIMP] = false;
			break;
		case 4:
			if (arg & 1)
				dml_dma_buf_unrevoke(buf);
			else if (dml_dma_buf_revoke(buf, 0) &&
				 !pinned[0] && !pinned[1] && !pinned[2] &&
				 !pinned[3])
				abort();	/* only a static one keeps its map */
			break;
		case 5:
			dml_vram_dma_buf_migrate(buf, arg & 1);
			break;
		case 6:
			cpu_byte(buf, off, &cpu);
			break;
		case 7:	/* decode going off revokes a BAR buffer, on gives it back */
			if (dml_pci_set_memory_decode(m.ssd, arg & 1))
				abort();
			if (data[0] % NKINDS == 3 && decode_off == (arg & 1) &&
			    dml_dma_buf_revoked(buf) != !(arg & 1))
				abort();
			decode_off = !(arg & 1);
			break;
		}
	}
	for (i = 0; i < NIMP; i++)
		dml_dma_buf_importer_destroy(imps[i]);
	dma_buf_put(buf);
	dml_platform_destroy(m.p);
	return 0;
}
