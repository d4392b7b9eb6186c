/* SPDX-License-Identifier: MIT */
/*
 * sysfs.c - the one reader of a Linux machine's PCI topology: mirror
 * /sys/bus/pci/devices (parent chain, class, ids, secondary bus numbers,
 * the ACS capability from extended config space, memory BARs) and the
 * CPU of /proc/cpuinfo into a platform's topology, so the kernel's
 * P2PDMA classification answers for real functions.  Used by the vfio
 * backend for the devices it opens and by `dmalink topo --sysfs`.
 *
 * What the kernel knows and sysfs does not show is said, not guessed:
 * extended config space (hence ACS) is readable by root only; bus offsets
 * are not exported (0 is taken: true on x86).
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci.h"

/* one function found in sysfs */
struct sysfs_fn {
	char bdf[16];
	char path[PATH_MAX];		/* resolved /sys/devices/... */
	unsigned int depth;		/* components below the "pciDDDD:BB" one */
	unsigned int cls;
	unsigned int vendor, device;
	struct dml_pci_dev *pdev;
};

/* a number from a one-line sysfs file, in @base (0: C syntax) */
static unsigned long read_num(const char *dir, const char *file, int base, bool *ok)
{
	char path[PATH_MAX + 32], buf[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	*ok = f && fgets(buf, sizeof(buf), f);
	if (f)
		fclose(f);
	return *ok ? strtoul(buf, NULL, base) : 0;
}

static int cmp_depth(const void *a, const void *b)
{
	const struct sysfs_fn *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return strcmp(x->bdf, y->bdf);
}

/*
 * The ACS control word from extended config space (the capability list
 * from 0x100, PCI_EXT_CAP_ID_ACS, PCI_ACS_CTRL at +6, as pci_find_ext_capability()
 * walks it).  Return: 1 found, 0 none, -1 unreadable (not root).
 */
static int read_acs(const char *dir, u16 *ctrl)
{
	char path[PATH_MAX + 32];
	unsigned char cfg[4096];
	unsigned int pos = 0x100, guard = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/config", dir);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	n = fread(cfg, 1, sizeof(cfg), f);
	fclose(f);
	if (n < sizeof(cfg))
		return -1;	/* only root reads extended config space */
	while (pos >= 0x100 && pos + 8 <= sizeof(cfg) && guard++ < 256) {
		u32 hdr = cfg[pos] | cfg[pos + 1] << 8 | cfg[pos + 2] << 16 |
			  (u32)cfg[pos + 3] << 24;

		if (!hdr || hdr == 0xffffffff)
			break;
		if ((hdr & 0xffff) == 0x000d) {	/* PCI_EXT_CAP_ID_ACS */
			*ctrl = (u16)(cfg[pos + 6] | cfg[pos + 7] << 8);
			return 1;
		}
		pos = hdr >> 20;
	}
	return 0;
}

/* the CPU vendor and family of a /proc/cpuinfo; false if unreadable */
static bool read_cpu(const char *cpuinfo, unsigned int *vendor, unsigned int *family)
{
	char line[256];
	FILE *f = fopen(cpuinfo, "r");

	*vendor = DML_CPU_OTHER;
	*family = 0;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (!v)
			continue;
		v++;
		v += strspn(v, " \t");
		if (!strncmp(line, "vendor_id", 9))
			*vendor = !strncmp(v, "AuthenticAMD", 12) ? DML_CPU_AMD :
				  !strncmp(v, "GenuineIntel", 12) ? DML_CPU_INTEL :
				  DML_CPU_OTHER;
		else if (!strncmp(line, "cpu family", 10)) {
			*family = (unsigned int)strtoul(v, NULL, 10);
			break;
		}
	}
	fclose(f);
	return true;
}

/* the functions of @dir, sorted by depth; *@out NULL when there are none */
static int list_functions(const char *dir, struct sysfs_fn **out, unsigned int *nr_out)
{
	struct sysfs_fn *fn = NULL;
	unsigned int nr = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char link[PATH_MAX + 300], *s;
		bool ok;

		if (de->d_name[0] == '.')
			continue;
		if (nr == cap) {
			struct sysfs_fn *n = realloc(fn, (cap = cap ? 2 * cap : 64) * sizeof(*fn));

			if (!n) {
				free(fn);
				closedir(d);
				return -ENOMEM;
			}
			fn = n;
		}
		memset(&fn[nr], 0, sizeof(fn[nr]));
		snprintf(fn[nr].bdf, sizeof(fn[nr].bdf), "%.12s", de->d_name);
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		if (!realpath(link, fn[nr].path))
			continue;
		for (s = strstr(fn[nr].path, "/pci"); s && (s = strchr(s + 1, '/'));)
			fn[nr].depth++;
		fn[nr].cls = (unsigned int)read_num(fn[nr].path, "class", 0, &ok);
		fn[nr].vendor = (unsigned int)read_num(fn[nr].path, "vendor", 0, &ok);
		fn[nr].device = (unsigned int)read_num(fn[nr].path, "device", 0, &ok);
		if (fn[nr].depth && ok)
			nr++;
	}
	closedir(d);
	if (nr)
		qsort(fn, nr, sizeof(*fn), cmp_depth);
	*out = fn;
	*nr_out = nr;
	return 0;
}

static struct dml_pci_dev *find_bdf(struct dml_platform *p, const char *bdf)
{
	struct dml_pci_dev *pdev;

	for (pdev = dml_pci_walk(p, NULL); pdev; pdev = dml_pci_walk(p, pdev))
		if (!strcmp(pdev->bdf, bdf))
			return pdev;
	return NULL;
}

/*
 * the host bridge of root bus @dom:@bus, added on first sight with the ids
 * the whitelist checks: the function at 00.0 of that bus, else @f's own
 */
static int host_of(struct dml_platform *p, struct sysfs_fn *fn, unsigned int i,
		   unsigned int nr, unsigned int dom, unsigned int bus,
		   struct dml_pci_dev **out)
{
	unsigned int hv = fn[i].vendor, hd = fn[i].device, j;
	char hname[16];

	snprintf(hname, sizeof(hname), "pci%04x:%02x", dom, bus);
	*out = find_bdf(p, hname);
	if (*out)
		return 0;
	for (j = i; j < nr && fn[j].depth == 1; j++) {
		if (!strncmp(fn[j].bdf, fn[i].bdf, 8) && !strcmp(fn[j].bdf + 8, "00.0")) {
			hv = fn[j].vendor;
			hd = fn[j].device;
		}
	}
	return dml_pci_host_bridge_add(p, (u16)dom, (u8)bus, (u16)hv, (u16)hd, NULL, out);
}

/* give bridge @f its secondary bus: sysfs, or on older kernels a child's bus */
static void set_secondary(struct sysfs_fn *fn, unsigned int i, unsigned int nr)
{
	struct sysfs_fn *f = &fn[i];
	size_t l = strlen(f->path);
	unsigned long sec;
	unsigned int j;
	bool ok;

	sec = read_num(f->path, "secondary_bus_number", 10, &ok);
	for (j = i + 1; !ok && j < nr; j++) {
		if (!strncmp(fn[j].path, f->path, l) && fn[j].path[l] == '/' &&
		    fn[j].depth == f->depth + 1) {
			sec = strtoul(fn[j].bdf + 5, NULL, 16);
			ok = true;
		}
	}
	if (ok && sec)
		dml_pci_bridge_set_bus(f->pdev, (u8)sec);
}

/* the memory BARs of the "resource" file (IORESOURCE_MEM), without MMIO */
static void add_bars(struct sysfs_fn *f)
{
	char rpath[PATH_MAX + 16], line[128];
	FILE *rf;
	int bar = 0;

	snprintf(rpath, sizeof(rpath), "%s/resource", f->path);
	rf = fopen(rpath, "r");
	while (rf && bar < PCI_STD_NUM_BARS && fgets(line, sizeof(line), rf)) {
		unsigned long long start, end, flags;

		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) == 3 &&
		    (flags & 0x200) && start && end > start)
			dml_pci_bar_add(f->pdev, bar, start, end - start + 1, 0,
					DML_PCI_BAR_NO_MMIO);
		bar++;
	}
	if (rf)
		fclose(rf);
}

/* place function @i of @fn below its parent; false if it could not be */
static bool place(struct dml_platform *p, struct sysfs_fn *fn, unsigned int i,
		  unsigned int nr, unsigned int flags, struct dml_pci_sysfs_report *rep)
{
	struct sysfs_fn *f = &fn[i];
	struct dml_pci_dev *parent = NULL;
	unsigned int dom, bus, dev, func, j;
	char *slash = strrchr(f->path, '/');
	bool bridge = (f->cls >> 8) == 0x0604;
	enum dml_pci_type type;
	int ret;
	u16 acs;

	if (sscanf(f->bdf, "%x:%x:%x.%u", &dom, &bus, &dev, &func) != 4)
		return false;
	/* the parent: the previous path component, or the host bridge */
	*slash = 0;
	for (j = 0; j < i; j++)
		if (!strcmp(fn[j].path, f->path))
			parent = fn[j].pdev;
	*slash = '/';
	if (f->depth == 1) {
		ret = host_of(p, fn, i, nr, dom, bus, &parent);
		if (ret)
			return false;
		if ((f->cls >> 8) == 0x0600)
			return true;	/* the host bridge's own function */
	}
	if (!parent) {
		dml__warn("pci sysfs: %s not placed: its bridge is not shown", f->bdf);
		return false;
	}
	if (!bridge)
		type = DML_PCI_ENDPOINT;
	else if (parent->type == DML_PCI_HOST_BRIDGE)
		type = DML_PCI_ROOT_PORT;
	else if (parent->type == DML_PCI_SWITCH_UP)
		type = DML_PCI_SWITCH_DOWN;
	else
		type = DML_PCI_SWITCH_UP;
	ret = dml_pci_dev_add(parent, type, (u8)PCI_DEVFN(dev, func), (u16)f->vendor,
			      (u16)f->device, f->bdf, &f->pdev);
	if (ret) {
		dml__warn("pci sysfs: %s not placed below %s (%d)", f->bdf, parent->name, ret);
		return false;
	}
	if (bridge)
		set_secondary(fn, i, nr);
	switch (read_acs(f->path, &acs)) {
	case 1:
		dml_pci_port_set_acs(f->pdev, acs);
		break;
	case -1:
		rep->acs_unreadable++;
		break;
	}
	if (!(flags & DML_PCI_SYSFS_NO_BARS))
		add_bars(f);
	rep->functions++;
	return true;
}

int dml_pci_topology_from_sysfs(struct dml_platform *p, const char *devices,
				const char *cpuinfo, unsigned int flags,
				struct dml_pci_sysfs_report *rep)
{
	struct dml_pci_sysfs_report r = { 0 };
	struct sysfs_fn *fn = NULL;
	unsigned int nr = 0, i;
	int ret;

	if (!p || !devices || (flags & ~DML_PCI_SYSFS_NO_BARS))
		return -EINVAL;
	if (dml_pci_walk(p, NULL))
		return -EEXIST;
	if (cpuinfo)
		r.cpu_read = read_cpu(cpuinfo, &p->cpu_vendor, &p->cpu_family);
	ret = list_functions(devices, &fn, &nr);
	if (ret)
		goto out;
	for (i = 0; i < nr; i++)
		if (!place(p, fn, i, nr, flags, &r))
			r.not_placed++;
	free(fn);
out:
	if (rep)
		*rep = r;
	return ret;
}
