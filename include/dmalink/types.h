/* SPDX-License-Identifier: MIT */
/*
 * dmalink/types.h - the address types and fixed-width integers every
 * dmalink header uses, with the kernel's names.
 *
 * Three address spaces meet in this library and mixing them is *the* bug
 * class of DMA code:
 *   phys_addr_t  - a backend memory address.  On the emulated platform it is
 *                  the emulated physical address; on the vfio backend it is
 *                  the process virtual address that VFIO pins.
 *   dma_addr_t   - what a device is handed: an IOVA behind an IOMMU, a bus
 *                  address for dma-direct or PCI P2P bus-address mappings.
 *   dml_iova_t   - an IOVA inside an IOMMU domain (allocator and page table).
 * Under sparse (__CHECKER__) they do not mix silently.
 */
#ifndef DMALINK_TYPES_H
#define DMALINK_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#ifdef __CHECKER__
#define __dml_nocast __attribute__((nocast))
#else
#define __dml_nocast
#endif

typedef u64 __dml_nocast phys_addr_t;
typedef u64 __dml_nocast dma_addr_t;
typedef u64 __dml_nocast dml_iova_t;

/* DMA_BIT_MASK(n) - a mask of the low @n bits; n = 64 gives all ones. */
#define DMA_BIT_MASK(n) (((n) == 64) ? ~0ULL : ((1ULL << (n)) - 1))

#endif /* DMALINK_TYPES_H */
