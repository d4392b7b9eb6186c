/* SPDX-License-Identifier: MIT */
/*
 * dmalink/cc.h - confidential computing on the emulated platform: a guest
 * whose RAM is encrypted (private) unless converted to shared, the DMA
 * address encodings of both, and the conversions between them, with the
 * kernel's names (include/linux/cc_platform.h, include/linux/set_memory.h,
 * include/linux/dma-direct.h, arch/x86/coco/core.c).
 *
 * Differences, because there is no CPU page table here:
 *  - set_memory_decrypted() and set_memory_encrypted() take the platform
 *    and a physical address, not a kernel virtual address.
 *  - cc_platform_has() asks one platform, not the running kernel.
 *
 * Two flavours of memory encryption, as on x86:
 *  - DML_CC_SEV (AMD SEV-like): a C-bit in an address marks it encrypted;
 *    an encrypted DMA address has the C-bit set, a shared one has it
 *    clear (__sme_set() / __sme_clr() of include/linux/mem_encrypt.h).
 *  - DML_CC_TDX (Intel TDX-like): a shared bit marks the shared alias; an
 *    encrypted DMA address has it clear, a shared one has it set (the bit
 *    cc_mkdec() sets in arch/x86/coco/core.c).
 */
#ifndef DMALINK_CC_H
#define DMALINK_CC_H

#include <dmalink/dma-mapping.h>
#include <dmalink/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

/**
 * enum dml_cc_flavour - the memory-encryption flavour of a platform
 * @DML_CC_NONE: no encryption: every address is both encodings
 * @DML_CC_SEV: AMD SEV-like C-bit (CC_VENDOR_AMD)
 * @DML_CC_TDX: Intel TDX-like shared bit (CC_VENDOR_INTEL)
 */
enum dml_cc_flavour {
	DML_CC_NONE,
	DML_CC_SEV,
	DML_CC_TDX,
};

/* DML_CC_SEV_CBIT_DEFAULT - the C-bit of AMD EPYC Milan and later (CPUID 0x8000001f EBX[5:0]) */
#define DML_CC_SEV_CBIT_DEFAULT 51
/* DML_CC_TDX_SHARED_DEFAULT - the shared bit of a TD with a 48-bit GPA width (GPAW - 1) */
#define DML_CC_TDX_SHARED_DEFAULT 47

/**
 * dml_cc_platform_init - make an emulated platform a confidential guest
 * @p: emulated platform, with no device created yet
 * @flavour: DML_CC_SEV or DML_CC_TDX
 * @bit: position of the C-bit or shared bit, 32..62; 0 for the flavour's
 *	default (DML_CC_SEV_CBIT_DEFAULT, DML_CC_TDX_SHARED_DEFAULT)
 *
 * From then on every RAM page is private (encrypted) until
 * set_memory_decrypted() converts it, and DMA addresses carry the
 * flavour's encoding.  The encryption bit must lie above every region of
 * the physical address space, and regions added later must stay below it.
 * Follows sme_me_mask / cc_set_mask() of arch/x86/coco/core.c.
 * Return: 0; -EINVAL if @p is not emulated, @flavour is not a CC flavour,
 * @bit is out of range or inside the physical address space; -EBUSY if
 * @p is already a confidential guest or has devices.
 */
int dml_cc_platform_init(struct dml_platform *p, enum dml_cc_flavour flavour,
			 unsigned int bit);

/**
 * enum cc_attr - what cc_platform_has() answers (include/linux/cc_platform.h)
 * @CC_ATTR_MEM_ENCRYPT: memory encryption is active
 * @CC_ATTR_GUEST_MEM_ENCRYPT: guest memory encryption is active (the
 *	platform is a confidential guest: devices need unencrypted DMA
 *	unless accepted)
 */
enum cc_attr {
	CC_ATTR_MEM_ENCRYPT,
	CC_ATTR_GUEST_MEM_ENCRYPT,
};

/**
 * cc_platform_has - whether @p has confidential-computing attribute @attr
 * @p: platform (NULL: false)
 * @attr: the attribute
 *
 * Follows cc_platform_has() of arch/x86/coco/core.c.
 * Return: true if the attribute is active; false otherwise.
 */
bool cc_platform_has(struct dml_platform *p, enum cc_attr attr);

/**
 * set_memory_decrypted - convert RAM pages from private to shared
 * @p: platform
 * @phys: emulated physical address of the first page, 4 KiB aligned
 * @numpages: number of 4 KiB pages, in one RAM region
 *
 * Each page that changes state is scrubbed (zeroed) before it becomes
 * shared, as the hardware makes it: private bytes are never readable
 * through the shared encoding.  Pages already shared are left alone.
 * On a platform without encryption it does nothing, as in the kernel.
 * Follows set_memory_decrypted() of arch/x86/mm/pat/set_memory.c.
 * Return: 0; -EINVAL for a misaligned @phys, negative @numpages, or a
 * range that is not in one RAM region (nothing converted).
 */
int set_memory_decrypted(struct dml_platform *p, phys_addr_t phys,
			 int numpages);

/**
 * set_memory_encrypted - convert RAM pages from shared back to private
 * @p: platform
 * @phys: emulated physical address of the first page, 4 KiB aligned
 * @numpages: number of 4 KiB pages, in one RAM region
 *
 * The twin of set_memory_decrypted(): each page that changes state is
 * zeroed as it becomes private, pages already private are left alone.
 * Follows set_memory_encrypted() of arch/x86/mm/pat/set_memory.c.
 * Return: 0; -EINVAL as set_memory_decrypted().
 */
int set_memory_encrypted(struct dml_platform *p, phys_addr_t phys,
			 int numpages);

/**
 * dml_cc_phys_shared - whether [@phys, +@len) is all shared memory
 * @p: platform
 * @phys: emulated physical address
 * @len: bytes (0 is taken as 1)
 *
 * On a platform without encryption all memory is shared; MMIO counts as
 * shared, but for private MMIO (a memory BAR of a device in TDISP RUN,
 * dml_tvm_mmio_map()).
 * Return: true if every byte is shared; false if any is private or the
 * range is outside the physical address space.
 */
bool dml_cc_phys_shared(struct dml_platform *p, phys_addr_t phys, u64 len);

/**
 * phys_to_dma_unencrypted - DMA address of @phys in the shared encoding
 * @dev: the device that will use it
 * @phys: emulated physical address (bus = physical on the emulated platform)
 *
 * SEV: the C-bit clear; TDX: the shared bit set; no encryption: @phys.
 * Follows phys_to_dma_unencrypted() of include/linux/dma-direct.h.
 * Return: the address; DMA_MAPPING_ERROR if @dev is NULL.
 */
dma_addr_t phys_to_dma_unencrypted(struct dml_device *dev, phys_addr_t phys);

/**
 * phys_to_dma_encrypted - DMA address of @phys in the private encoding
 * @dev: the device that will use it
 * @phys: emulated physical address
 *
 * SEV: the C-bit set; TDX: the shared bit clear; no encryption: @phys.
 * The kernel calls it phys_to_dma() (include/linux/dma-direct.h).
 * Return: the address; DMA_MAPPING_ERROR if @dev is NULL.
 */
dma_addr_t phys_to_dma_encrypted(struct dml_device *dev, phys_addr_t phys);

/**
 * enum dml_tdisp_state - the state of a TDISP device interface (TDI)
 * @DML_TDISP_CONFIG_UNLOCKED: not bound; the host may configure it
 * @DML_TDISP_CONFIG_LOCKED: bound to a TVM, configuration locked
 * @DML_TDISP_RUN: started: may be accepted into its TVM
 * @DML_TDISP_ERROR: a configuration change or an error while locked or
 *	running; only a stop leaves it
 *
 * The four TDI states of the PCIe 6.x specification's TDISP chapter.
 */
enum dml_tdisp_state {
	DML_TDISP_CONFIG_UNLOCKED,
	DML_TDISP_CONFIG_LOCKED,
	DML_TDISP_RUN,
	DML_TDISP_ERROR,
};

/**
 * dml_tdisp_state - the TDISP state of a PCI function
 * @pdev: an endpoint
 * Return: its state; DML_TDISP_CONFIG_UNLOCKED for NULL or a function
 * that is not an endpoint (they have no TDI).
 */
enum dml_tdisp_state dml_tdisp_state(const struct dml_pci_dev *pdev);

/**
 * dml_tdisp_start - START_INTERFACE_REQUEST: CONFIG_LOCKED to RUN
 * @pdev: an endpoint bound to a TVM by dml_tsm_bind()
 *
 * Follows the TDISP chapter of the PCIe 6.x specification.
 * Return: 0; -EINVAL if @pdev is NULL or not an endpoint; -EBUSY in any
 * state but CONFIG_LOCKED (INVALID_INTERFACE_STATE), nothing changed.
 */
int dml_tdisp_start(struct dml_pci_dev *pdev);

/**
 * dml_tdisp_error - a change to the TDI's configuration (a BAR, the
 * memory enable, a capability) or an error it detects
 * @pdev: an endpoint
 *
 * In CONFIG_LOCKED or RUN the TDI goes to ERROR and, if it was accepted,
 * stops being accepted at once; in CONFIG_UNLOCKED the host may change
 * the configuration and in ERROR it already is: nothing changes.
 * Leaving RUN (here or by dml_tsm_unbind()) then revokes every dma-buf of
 * @pdev's BARs that has PAL_PRIVATE attachments (dml_dma_buf_revoke():
 * importers are told and unmap; the caller must not hold such a buffer's
 * reservation lock).  The buffer stays revoked when the TDI re-enters RUN
 * (a new lock and accept) until memory decode goes off and on again or
 * dml_dma_buf_unrevoke() is called.
 * Follows the TDISP chapter of the PCIe 6.x specification.
 * Return: 0; -EINVAL if @pdev is NULL or not an endpoint.
 */
int dml_tdisp_error(struct dml_pci_dev *pdev);

/* struct dml_tvm - a trusted virtual machine (a confidential guest) */
struct dml_tvm;

/**
 * dml_tvm_create - a TVM of an emulated confidential guest
 * @p: emulated platform
 * @out: the TVM
 *
 * Return: 0; -EINVAL if @p is not emulated; -ENOMEM.
 */
int dml_tvm_create(struct dml_platform *p, struct dml_tvm **out);

/**
 * dml_tvm_destroy - stop and unbind every device of @tvm, then free it
 * @tvm: the TVM (NULL: nothing); destroy it before its platform
 */
void dml_tvm_destroy(struct dml_tvm *tvm);

/**
 * dml_tsm_bind - the TSM binds a device interface to a TVM and locks it
 * (LOCK_INTERFACE_REQUEST: CONFIG_UNLOCKED to CONFIG_LOCKED)
 * @tvm: the TVM
 * @pdev: an endpoint of @tvm's platform
 *
 * Follows pci_tsm_bind() of drivers/pci/tsm.c.
 * Return: 0; -EINVAL if either is NULL, @pdev is not an endpoint or is on
 * another platform; -EBUSY if @pdev is not CONFIG_UNLOCKED (already
 * bound), nothing changed.
 */
int dml_tsm_bind(struct dml_tvm *tvm, struct dml_pci_dev *pdev);

/**
 * dml_tsm_accept - the TVM accepts a device interface: from then on it
 * may DMA to private memory and its MMIO is private
 * @tvm: the TVM
 * @pdev: an endpoint bound to @tvm
 *
 * Acceptance lasts while the TDI stays in RUN: an error or a stop ends it.
 * Follows the guest side of pci_tsm (include/linux/pci-tsm.h).
 * Return: 0; -EINVAL if either is NULL or @pdev is not bound to @tvm;
 * -EBUSY if @pdev is not in RUN, nothing changed.
 */
int dml_tsm_accept(struct dml_tvm *tvm, struct dml_pci_dev *pdev);

/**
 * dml_tsm_accepted - whether @dev's PCI function is accepted into a TVM
 * and in RUN
 * @dev: device (NULL or not PCI: false)
 */
bool dml_tsm_accepted(const struct dml_device *dev);

/**
 * dml_tvm_mmio_map - the TVM's CPU mapping of private MMIO: a memory BAR
 * of a device interface bound to @tvm, in TDISP RUN and accepted
 * @tvm: the TVM
 * @phys: emulated physical address in the BAR
 * @len: bytes the caller will touch (0 is taken as 1), within the BAR
 *
 * In RUN a TDI's BARs are private MMIO: dml_kmap_local_phys(), the host
 * CPU's mapping, returns NULL for them, and only the TVM reaches them,
 * through this mapping (the secure EPT the host builds without ever
 * mapping them itself), and DMA only from peers accepted into the same
 * TVM.  Proposed: Xu Yilun's private MMIO RFC series for TDX Connect
 * (2025: KVM maps the BAR into the TVM from VFIO's host-unaccessible
 * dma-buf); the TDISP chapter of the PCIe 6.x specification.
 * Return: a pointer valid until the platform is destroyed; NULL if either
 * argument is NULL or the range is not in one BAR of a device bound to
 * @tvm, accepted and in RUN.
 */
void *dml_tvm_mmio_map(struct dml_tvm *tvm, phys_addr_t phys, u64 len);

/**
 * dml_tsm_unbind - STOP_INTERFACE_REQUEST and unbind: CONFIG_LOCKED, RUN
 * or ERROR to CONFIG_UNLOCKED; acceptance ends
 * @pdev: an endpoint
 *
 * Follows pci_tsm_unbind() of drivers/pci/tsm.c.
 * Return: 0; -EINVAL if @pdev is NULL or not an endpoint; -EBUSY if it is
 * CONFIG_UNLOCKED (nothing bound), nothing changed.
 */
int dml_tsm_unbind(struct dml_pci_dev *pdev);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_CC_H */
