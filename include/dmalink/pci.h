/* SPDX-License-Identifier: MIT */
/*
 * dmalink/pci.h - the PCI topology of an emulated platform: host bridges,
 * root ports, switches (an upstream port and its downstream ports) and
 * endpoint functions, each with an ACS capability a test can set, and
 * BARs that are MMIO regions with a bus offset.  Peer-to-peer DMA between
 * them is classified by the kernel's P2PDMA API (dmalink/pci-p2pdma.h).
 *
 * struct dml_pci_dev is the kernel's struct pci_dev: one PCI function,
 * bridges and ports included (include/linux/pci.h).  The kernel embeds a
 * struct device in it; here the DMA client is a separate struct dml_device
 * bound to an endpoint function (struct dml_device_opts.pci_dev), so a
 * topology can be described before any device does DMA.
 *
 * Bus numbers are assigned as enumeration would: a host bridge owns its
 * root bus, every bridge added below it gets the next free bus of that
 * host bridge as its secondary bus, and functions sit on their parent
 * bridge's secondary bus.  The topology lives as long as the platform;
 * nothing in it is removed, except the integrated endpoint made for a
 * device created without a place (dml_device_create()).
 */
#ifndef DMALINK_PCI_H
#define DMALINK_PCI_H

#include <dmalink/dmalink.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

struct dml_pci_dev;

/** enum dml_pci_type - what a PCI function is (the PCIe port types) */
enum dml_pci_type {
	DML_PCI_HOST_BRIDGE,	/* a root complex: the top of one hierarchy */
	DML_PCI_ROOT_PORT,	/* PCI_EXP_TYPE_ROOT_PORT, on a root bus */
	DML_PCI_SWITCH_UP,	/* PCI_EXP_TYPE_UPSTREAM, below a port */
	DML_PCI_SWITCH_DOWN,	/* PCI_EXP_TYPE_DOWNSTREAM, below an upstream port */
	DML_PCI_ENDPOINT,	/* PCI_EXP_TYPE_ENDPOINT, or an integrated
				 * endpoint (PCI_EXP_TYPE_RC_END) on a root bus */
};

/* ACS control bits (include/uapi/linux/pci_regs.h, PCI_ACS_CTRL) */
#define PCI_ACS_SV	0x0001	/* Source Validation */
#define PCI_ACS_TB	0x0002	/* Translation Blocking */
#define PCI_ACS_RR	0x0004	/* P2P Request Redirect */
#define PCI_ACS_CR	0x0008	/* P2P Completion Redirect */
#define PCI_ACS_UF	0x0010	/* Upstream Forwarding */
#define PCI_ACS_EC	0x0020	/* P2P Egress Control */
#define PCI_ACS_DT	0x0040	/* Direct Translated P2P */

/* PCI_STD_NUM_BARS - BARs 0-5 of a type 0 header (include/linux/pci.h) */
#define PCI_STD_NUM_BARS 6

/* PCI_DEVFN(slot, fn) - a device/function number (include/uapi/linux/pci.h) */
#define PCI_DEVFN(slot, func) ((((slot) & 0x1f) << 3) | ((func) & 0x07))

/* CPU vendors for struct dml_emu_opts.cpu_vendor (arch/x86 X86_VENDOR_*) */
#define DML_CPU_OTHER	0
#define DML_CPU_INTEL	1
#define DML_CPU_AMD	2

/**
 * dml_pci_host_bridge_add - add a host bridge (root complex) to a platform
 * @p: platform
 * @domain: PCI domain (segment) number
 * @bus: its root bus number
 * @vendor: vendor id of the function the kernel's P2PDMA whitelist checks
 *	for this host bridge: the device at 00.0 on the root bus, or its
 *	first root port where there is none (pci_host_bridge_dev() in
 *	drivers/pci/p2pdma.c); 0: none, which no whitelist entry matches
 * @device: device id of that function
 * @name: label for messages (copied, 31 characters kept); NULL: the
 *	bridge's name "pciDDDD:BB"
 * @out: the host bridge
 *
 * Return: 0; -EINVAL for a NULL argument; -EEXIST if @domain:@bus is
 * already the root bus of a host bridge of @p; -ENOMEM.
 */
int dml_pci_host_bridge_add(struct dml_platform *p, u16 domain, u8 bus,
			    u16 vendor, u16 device, const char *name,
			    struct dml_pci_dev **out);

/**
 * dml_pci_dev_add - add a PCI function below @parent
 * @parent: a host bridge (root ports and integrated endpoints go on its
 *	root bus), a root port or downstream port (a switch upstream port or
 *	an endpoint below it), or a switch upstream port (downstream ports)
 * @type: DML_PCI_ROOT_PORT, DML_PCI_SWITCH_UP, DML_PCI_SWITCH_DOWN or
 *	DML_PCI_ENDPOINT
 * @devfn: device and function number on @parent's bus (PCI_DEVFN())
 * @vendor: vendor id
 * @device: device id
 * @name: label (copied, 31 characters kept); NULL: the BDF name
 * @out: the function
 *
 * A bridge (every type but an endpoint) gets the next free bus number of
 * its host bridge as its secondary bus.  The new function has no ACS
 * capability (dml_pci_port_set_acs() adds one) and no BARs.
 * Return: 0; -EINVAL for a NULL argument or a @type that cannot sit below
 * @parent; -EEXIST if @devfn is taken on that bus; -ENOSPC when the host
 * bridge has no bus number left; -ENOMEM.
 */
int dml_pci_dev_add(struct dml_pci_dev *parent, enum dml_pci_type type,
		    u8 devfn, u16 vendor, u16 device, const char *name,
		    struct dml_pci_dev **out);

/**
 * dml_pci_switch_add - add a PCIe switch: an upstream port below @port and
 * @nr_down downstream ports below it, at devices 0, 1, ... of its bus
 * @port: a root port or a downstream port of another switch
 * @devfn: the upstream port's device/function on @port's secondary bus
 * @vendor: vendor id of every port of the switch
 * @device: device id of every port
 * @name: label of the upstream port; downstream port i is "NAME.dI"
 *	(NULL: BDF names)
 * @nr_down: downstream ports, 1 to 32
 * @up: out: the upstream port
 * @down: out: @nr_down downstream ports
 *
 * Return: as dml_pci_dev_add(); -EINVAL for @nr_down out of range.  On
 * failure the ports already added stay in the topology.
 */
int dml_pci_switch_add(struct dml_pci_dev *port, u8 devfn, u16 vendor,
		       u16 device, const char *name, unsigned int nr_down,
		       struct dml_pci_dev **up, struct dml_pci_dev **down);

/**
 * dml_pci_bridge_set_bus - give a bridge the secondary bus number it has
 * on a real machine, instead of the next free one
 * @bridge: a root port or switch port with nothing below it yet
 * @secondary: bus number, above its host bridge's root bus
 *
 * Bridges added afterwards are numbered above the highest number used.
 * Return: 0; -EINVAL for a host bridge, an endpoint, a bridge with
 * functions below it, or a number not above the root bus; -EEXIST if
 * another bridge of the host bridge has that number.
 */
int dml_pci_bridge_set_bus(struct dml_pci_dev *bridge, u8 secondary);

/**
 * dml_pci_port_set_acs - give a function an ACS capability and set its
 * control register (PCI_ACS_CTRL)
 * @pdev: a port, or an endpoint (a multi-function device's ACS)
 * @ctrl: PCI_ACS_* bits; 0 leaves the capability present with nothing
 *	enabled
 *
 * Request Redirect, Completion Redirect and Egress Control on the path
 * between two functions send their peer-to-peer traffic up to the root
 * complex (pci_bridge_has_acs_redir() in drivers/pci/p2pdma.c).  Results
 * already cached by pci_p2pdma_map_type() are kept, as in the kernel,
 * where ACS is set at enumeration and never re-read (see
 * dmalink/pci-p2pdma.h).
 * Return: 0; -EINVAL for a host bridge, NULL, or bits outside 0x7f.
 */
int dml_pci_port_set_acs(struct dml_pci_dev *pdev, u16 ctrl);

/* Flags of dml_pci_bar_add(). */
#define DML_PCI_BAR_NO_MMIO (1u << 0) /* describe only: no MMIO region added */

/**
 * dml_pci_bar_add - give a function a memory BAR
 * @pdev: an endpoint or a port
 * @bar: BAR index, 0 to PCI_STD_NUM_BARS - 1
 * @phys: CPU physical base (emulated physical address), 4 KiB aligned
 * @size: bytes, a multiple of 4 KiB
 * @bus_offset: PCI bus address minus CPU physical address: a peer reaches
 *	byte @phys + x of the BAR at bus address @phys + x + @bus_offset
 *	(pci_bus_address() - pci_resource_start(); wraps modulo 2^64)
 * @flags: DML_PCI_BAR_*; without DML_PCI_BAR_NO_MMIO the BAR is also
 *	added to the platform's memory as dml_mmio_add() does, so devices
 *	can really DMA into it
 *
 * A BAR added to a function whose TDISP interface is CONFIG_LOCKED or
 * RUN moves it to ERROR (dml_tdisp_error()), as TDISP makes any
 * configuration change of a locked interface an error; a refused request
 * changes nothing.
 * Return: 0; -EINVAL for a NULL @pdev, a host bridge, @bar out of range,
 * misalignment, a wrapping range or an MMIO region that overlaps another;
 * -EEXIST if the BAR is already set; -ENOSPC if the platform's region
 * table is full; -ENOMEM.
 */
int dml_pci_bar_add(struct dml_pci_dev *pdev, int bar, phys_addr_t phys,
		    u64 size, u64 bus_offset, unsigned int flags);

/**
 * dml_pci_set_memory_decode - turn a function's memory decode off or on,
 * as a write of PCI_COMMAND_MEMORY does (drivers/vfio/pci/vfio_pci_config.c:
 * vfio_basic_config_write() and vfio_pci_dma_buf_move())
 * @pdev: a function of an emulated platform
 * @enable: false: its BARs stop decoding; true: they decode again
 *
 * Turning decode off revokes every dma-buf exported from the function's
 * BARs (dml_pci_bar_dma_buf_export()): importers are told and must
 * unmap, later maps fail with -ENODEV.  Turning it on gives the buffers
 * back, and importers are told again.  A call that does not change the
 * state does nothing.  A function starts with decode on.  On a platform
 * of the vfio backend write PCI_COMMAND with dml_vfio_config_write(),
 * which does the same for the real device.  Turning decode off on a
 * function whose TDISP interface is CONFIG_LOCKED or RUN moves it to
 * ERROR (dml_tdisp_error(): a configuration change while locked) once
 * the BAR's users have been told.
 * Return: 0; -EINVAL for a NULL @pdev or a host bridge; -EOPNOTSUPP on a
 * vfio platform.
 */
int dml_pci_set_memory_decode(struct dml_pci_dev *pdev, bool enable);

/**
 * struct dml_pci_bar_info - one BAR as dml_pci_get_info() reports it
 * @size: bytes; 0: no such BAR
 * @phys: CPU physical base
 * @bus_offset: bus address minus CPU physical address
 */
struct dml_pci_bar_info {
	u64 size;
	phys_addr_t phys;
	u64 bus_offset;
};

/**
 * struct dml_pci_info - a function of the topology
 * @type: what it is
 * @name: its label
 * @bdf: "DDDD:BB:DD.F" (host bridges: "pciDDDD:BB")
 * @domain: PCI domain
 * @bus: the bus it sits on (host bridges: the root bus)
 * @devfn: PCI_DEVFN() (0 for host bridges)
 * @secondary: bridges: the bus below it; 0 otherwise
 * @vendor: vendor id
 * @device: device id
 * @depth: 0 for host bridges, 1 for functions on a root bus, ...
 * @parent: the function above (NULL for host bridges)
 * @acs_cap: the function has an ACS capability
 * @acs_ctrl: its PCI_ACS_* control bits
 * @dev: the struct dml_device bound to it, NULL if none
 * @bar: its BARs
 */
struct dml_pci_info {
	enum dml_pci_type type;
	const char *name;
	char bdf[16];
	u16 domain;
	u8 bus;
	u8 devfn;
	u8 secondary;
	u16 vendor;
	u16 device;
	unsigned int depth;
	struct dml_pci_dev *parent;
	bool acs_cap;
	u16 acs_ctrl;
	struct dml_device *dev;
	struct dml_pci_bar_info bar[PCI_STD_NUM_BARS];
};

/** dml_pci_get_info - fill @info for @pdev (pointers valid while @pdev is) */
void dml_pci_get_info(const struct dml_pci_dev *pdev, struct dml_pci_info *info);

/**
 * dml_pci_walk - the topology in tree order, host bridges in the order
 * they were added, children in the order they were added
 * @p: platform
 * @prev: the previous function, NULL for the first host bridge
 *
 * Not safe against functions being added meanwhile.
 * Return: the next function; NULL at the end.
 */
struct dml_pci_dev *dml_pci_walk(struct dml_platform *p, struct dml_pci_dev *prev);

/**
 * dml_pci_dev_of - the PCI function a device is bound to
 * @dev: device
 * Return: the function; NULL for a device that is not PCI.
 */
struct dml_pci_dev *dml_pci_dev_of(const struct dml_device *dev);

/**
 * dml_pci_topology_parse - build a topology from its text description
 * @p: an emulated platform; its topology is added to
 * @buf: the text (need not be NUL-terminated)
 * @len: bytes of @buf
 * @fname: file name for messages ("FILE:LINE: ..."); NULL: "<buffer>"
 * @err: out: the message naming FILE:LINE of the first error, or ""
 * @errlen: bytes of @err (0: no message)
 *
 * One statement per line, '#' comments, blank-separated fields:
 *   cpu      intel|amd|other FAMILY
 *   host     NAME DOMAIN:BUS VENDOR:DEVICE
 *   rootport NAME PARENT DEV.FN VENDOR:DEVICE [acs=FLAGS]
 *   switch   NAME PARENT DEV.FN VENDOR:DEVICE PORTS [acs=FLAGS]
 *   endpoint NAME PARENT DEV.FN VENDOR:DEVICE [acs=FLAGS]
 *   acs      NAME FLAGS
 *   bar      NAME INDEX PHYS SIZE [offset=BUS_OFFSET]
 * each a call of this header (a switch's downstream ports are NAME.d0,
 * NAME.d1, ...; FLAGS: none or a comma list of sv,tb,rr,cr,uf,ec,dt; a
 * BAR is added with its MMIO region); the dmalink distribution documents
 * it in full (docs/topology.md).  A "cpu" line sets the platform's CPU
 * (the option of struct dml_emu_opts).  Parsing stops at the first error;
 * what was added before it stays.
 * Return: 0; -EINVAL for a malformed description; or the error of the
 * call the line made (-EEXIST, -ENOSPC, -ENOMEM); @err names FILE:LINE
 * and what is wrong.
 */
int dml_pci_topology_parse(struct dml_platform *p, const char *buf, size_t len,
			   const char *fname, char *err, size_t errlen);

/* Flags of dml_pci_topology_from_sysfs(). */
#define DML_PCI_SYSFS_NO_BARS (1u << 0) /* leave BARs out (the vfio backend
					 * adds each at its mmap address) */

/**
 * struct dml_pci_sysfs_report - what dml_pci_topology_from_sysfs() read
 * and what it could not
 * @functions: functions placed in the topology (host bridges' own
 *	functions not counted)
 * @not_placed: functions left out: their bridge is not shown, or adding
 *	them failed (each named in a warning)
 * @acs_unreadable: functions whose extended config space could not be
 *	read (only root reads past byte 64): taken as having no ACS
 * @cpu_read: the CPU file was read (else the AMD rule is not applied)
 */
struct dml_pci_sysfs_report {
	unsigned int functions;
	unsigned int not_placed;
	unsigned int acs_unreadable;
	bool cpu_read;
};

/**
 * dml_pci_topology_from_sysfs - mirror a Linux machine's PCI topology
 * into @p, as the kernel enumerated it
 * @p: a platform without a topology yet
 * @devices: the devices directory ("/sys/bus/pci/devices"): each entry a
 *	link into /sys/devices, whose path gives the parent chain
 * @cpuinfo: a /proc/cpuinfo to take the CPU vendor and family from (the
 *	AMD rule of the classification); NULL: leave @p's as they are
 * @flags: DML_PCI_SYSFS_*
 * @rep: out: what was read and what was not (may be NULL)
 *
 * Functions on a root bus hang below a host bridge per root bus, whose
 * whitelist ids are those of the function at 00.0 of that bus (the host
 * bridge's own function, class 0x0600, is not added).  Bridges are root
 * ports on a root bus, downstream ports below an upstream port, upstream
 * ports elsewhere; their secondary bus is secondary_bus_number (older
 * kernels: a child's bus).  ACS control comes from the ACS extended
 * capability in the "config" file.  Memory BARs (IORESOURCE_MEM lines of
 * "resource") are added without MMIO regions, with bus offset 0 (sysfs
 * does not show it; true on x86).  Follows what the kernel's
 * pci_scan_bridge(), pci_find_ext_capability() and
 * pci_bridge_has_acs_redir() (drivers/pci/probe.c, pci.c, p2pdma.c) see.
 * Return: 0 (functions that could not be placed are in @rep); -EINVAL
 * for a NULL @p or @devices or unknown flags; -EEXIST if @p already has
 * a topology; the errno of opendir(2) on @devices; -ENOMEM.
 */
int dml_pci_topology_from_sysfs(struct dml_platform *p, const char *devices,
				const char *cpuinfo, unsigned int flags,
				struct dml_pci_sysfs_report *rep);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_PCI_H */
