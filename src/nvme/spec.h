/* SPDX-License-Identifier: MIT */
/*
 * spec.h - the NVMe structures and constants the host side (src/nvme: the
 * driver, PRP and SGL construction) and the emulated controller (src/dev)
 * share, as the NVM Express Base Specification 2.0 defines them: the
 * controller registers, the 64-byte submission queue entry, the 16-byte
 * completion queue entry, SGL descriptors, opcodes and status codes.
 * Little-endian layouts; dmalink runs on little-endian hosts only.
 */
#ifndef DML_NVME_SPEC_H
#define DML_NVME_SPEC_H

#include <stdint.h>

/* Controller registers (Base spec 3.1.4), byte offsets into BAR0 */
#define NVME_REG_CAP 0x00	/* 64 bits: capabilities */
#define NVME_REG_VS 0x08	/* version */
#define NVME_REG_INTMS 0x0c
#define NVME_REG_INTMC 0x10
#define NVME_REG_CC 0x14	/* controller configuration */
#define NVME_REG_CSTS 0x1c	/* controller status */
#define NVME_REG_AQA 0x24	/* admin queue attributes */
#define NVME_REG_ASQ 0x28	/* 64 bits: admin SQ base */
#define NVME_REG_ACQ 0x30	/* 64 bits: admin CQ base */
#define NVME_REG_DBS 0x1000	/* doorbells */

/* CAP fields */
#define NVME_CAP_MQES(cap) ((uint32_t)((cap) & 0xffff))	/* entries - 1 */
#define NVME_CAP_TO(cap) ((uint32_t)(((cap) >> 24) & 0xff))	/* 500 ms units */
#define NVME_CAP_DSTRD(cap) ((uint32_t)(((cap) >> 32) & 0xf))
#define NVME_CAP_CSS_NVM (1ULL << 37)
#define NVME_CAP_MPSMIN(cap) ((uint32_t)(((cap) >> 48) & 0xf))
#define NVME_CAP_MPSMAX(cap) ((uint32_t)(((cap) >> 52) & 0xf))

/* CC and CSTS fields */
#define NVME_CC_EN (1U << 0)
#define NVME_CC_CSS_NVM (0U << 4)
#define NVME_CC_MPS_SHIFT 7		/* page size 2^(12 + MPS) */
#define NVME_CC_AMS_RR (0U << 11)
#define NVME_CC_SHN_MASK (3U << 14)
#define NVME_CC_SHN_NORMAL (1U << 14)
#define NVME_CC_IOSQES_SHIFT 16	/* log2 of the SQ entry size: 6 */
#define NVME_CC_IOCQES_SHIFT 20	/* log2 of the CQ entry size: 4 */
#define NVME_CSTS_RDY (1U << 0)
#define NVME_CSTS_CFS (1U << 1)
#define NVME_CSTS_SHST_MASK (3U << 2)
#define NVME_CSTS_SHST_CMPLT (2U << 2)

/* The controller's memory page (CC.MPS = 0): PRP entries address these. */
#define NVME_CTRL_PAGE_SHIFT 12
#define NVME_CTRL_PAGE_SIZE (1U << NVME_CTRL_PAGE_SHIFT)

/* Admin opcodes (5.x) */
enum nvme_admin_opcode {
	nvme_admin_delete_sq = 0x00,
	nvme_admin_create_sq = 0x01,
	nvme_admin_delete_cq = 0x04,
	nvme_admin_create_cq = 0x05,
	nvme_admin_identify = 0x06,
	nvme_admin_set_features = 0x09,
	nvme_admin_get_features = 0x0a,
};

/* NVM command set I/O opcodes */
enum nvme_opcode {
	nvme_cmd_flush = 0x00,
	nvme_cmd_write = 0x01,
	nvme_cmd_read = 0x02,
};

#define NVME_ID_CNS_NS 0x00
#define NVME_ID_CNS_CTRL 0x01
#define NVME_FEAT_NUM_QUEUES 0x07

/* PSDT, the data-pointer type in command dword 0 bits 15:14 */
#define NVME_CMD_PSDT_PRP 0x0
#define NVME_CMD_PSDT_SGL_MPTR_CONTIG 0x1	/* SGL data, MPTR one buffer */
#define NVME_CMD_PSDT_SGL_MPTR_SGL 0x2		/* SGL data, MPTR an SGL */

/* SGL descriptor types (byte 15 bits 7:4) and subtypes (bits 3:0) */
#define NVME_SGL_FMT_DATA_DESC 0x0
#define NVME_SGL_FMT_SEG_DESC 0x2
#define NVME_SGL_FMT_LAST_SEG_DESC 0x3
#define NVME_SGL_FMT_ADDRESS 0x0
#define NVME_SGL_TYPE(type, subtype) ((uint8_t)((type) << 4 | (subtype)))

/* SGL descriptor, 16 bytes */
struct nvme_sgl_desc {
	uint64_t addr;
	uint32_t length;	/* bytes */
	uint8_t rsvd[3];
	uint8_t type;		/* NVME_SGL_TYPE() */
};

/* the data pointer of a command: PRP1/PRP2 or one SGL descriptor */
union nvme_data_ptr {
	struct {
		uint64_t prp1;
		uint64_t prp2;
	};
	struct nvme_sgl_desc sgl;
};

/* Submission queue entry, 64 bytes (common command format, 4.2) */
struct nvme_command {
	uint8_t opcode;
	uint8_t flags;		/* FUSE bits 1:0, PSDT bits 7:6 */
	uint16_t command_id;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t metadata;	/* MPTR */
	union nvme_data_ptr dptr;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

#define NVME_CMD_FLAGS_PSDT(psdt) ((uint8_t)((psdt) << 6))
#define NVME_CMD_PSDT(cmd) (((cmd)->flags >> 6) & 3)

/* Completion queue entry, 16 bytes (4.6) */
struct nvme_completion {
	uint32_t result;	/* DW0, command specific */
	uint32_t rsvd;
	uint16_t sq_head;
	uint16_t sq_id;
	uint16_t command_id;
	uint16_t status;	/* bit 0 phase tag; bits 15:1 status field */
};

/* Status field (status >> 1): SC bits 7:0, SCT bits 10:8, DNR bit 14 */
#define NVME_STATUS_SC(s) ((s) & 0xff)
#define NVME_STATUS_SCT(s) (((s) >> 8) & 0x7)
#define NVME_STATUS_DNR (1U << 14)

/* Generic command status (SCT 0), 4.6.1.2.1 */
enum nvme_status_code {
	NVME_SC_SUCCESS = 0x00,
	NVME_SC_INVALID_OPCODE = 0x01,
	NVME_SC_INVALID_FIELD = 0x02,
	NVME_SC_DATA_XFER_ERROR = 0x04,
	NVME_SC_INTERNAL = 0x06,
	NVME_SC_INVALID_NS = 0x0b,
	NVME_SC_SGL_INVALID_SEG = 0x0d,
	NVME_SC_SGL_INVALID_COUNT = 0x0e,
	NVME_SC_SGL_INVALID_DATA = 0x0f,	/* data SGL length invalid */
	NVME_SC_SGL_INVALID_METADATA = 0x10,
	NVME_SC_SGL_INVALID_TYPE = 0x11,
	NVME_SC_SGL_INVALID_OFFSET = 0x16,
	NVME_SC_PRP_INVALID_OFFSET = 0x13,
	NVME_SC_LBA_RANGE = 0x80,
};

/* Command specific status (SCT 1) for queue creation */
#define NVME_SCT_CMD_SPECIFIC 0x1
#define NVME_SC_QID_INVALID 0x01
#define NVME_SC_QUEUE_SIZE 0x02

_Static_assert(sizeof(struct nvme_sgl_desc) == 16, "SGL descriptor");
_Static_assert(sizeof(struct nvme_command) == 64, "SQ entry");
_Static_assert(sizeof(struct nvme_completion) == 16, "CQ entry");

#endif

/* Additions for the emulated controller and the driver */
#define NVME_CAP_CQR (1ULL << 16)	/* queues physically contiguous */
#define NVME_CAP_TO_SHIFT 24
#define NVME_AQA_ASQS(aqa) ((aqa) & 0xfff)		/* entries - 1 */
#define NVME_AQA_ACQS(aqa) (((aqa) >> 16) & 0xfff)
#define NVME_QUEUE_PHYS_CONTIG (1U << 0)	/* create SQ/CQ cdw11 PC */
/* Identify controller / namespace byte offsets */
#define NVME_ID_CTRL_MDTS 77
#define NVME_ID_CTRL_SQES 512
#define NVME_ID_CTRL_CQES 513
#define NVME_ID_CTRL_NN 516
#define NVME_ID_CTRL_SGLS 536
#define NVME_ID_NS_NSZE 0
#define NVME_ID_NS_NCAP 8
#define NVME_ID_NS_NUSE 16
#define NVME_ID_NS_FLBAS 26
#define NVME_ID_NS_LBAF0 128		/* LBADS bits 23:16 */
#define NVME_IDENTIFY_SIZE 4096
/* Command specific status (SCT 1) */
#define NVME_SC_CQ_INVALID 0x00
#define NVME_SC_QUEUE_DELETE 0x0c
#define NVME_SC_DNR_SHIFT 14
