/* SPDX-License-Identifier: MIT */
/*
 * nvme.h - a user-space NVMe driver on a struct dml_device: open a
 * controller (the emulated one on the emu backend, BAR0 of the real one
 * on vfio), read its namespace's geometry, and run block requests
 * (struct request of blk-mq-dma.h) as reads and writes whose data is
 * mapped as drivers/nvme/host/pci.c maps it.
 *
 * dml_nvme_rw() maps, submits, polls its completion and unmaps before it
 * returns; dml_nvme_rw_many() does the same for up to queue depth - 1
 * commands in flight at once, under one doorbell.  A handle is used by
 * one thread at a time.
 */
#ifndef DMALINK_NVME_H
#define DMALINK_NVME_H

#include <dmalink/blk-mq-dma.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

struct dml_nvme;

/**
 * enum dml_nvme_sgl_mode - when the data pointer is an SGL
 * @DML_NVME_SGL_MODE_AUTO: as nvme-pci: SGLs when the controller supports
 *	them and the request's average segment is at least the sgl_threshold
 *	module parameter's default (32 KiB); PRPs otherwise
 * @DML_NVME_SGL_MODE_ALWAYS: SGLs whenever the controller supports them
 * @DML_NVME_SGL_MODE_NEVER: PRPs only
 */
enum dml_nvme_sgl_mode {
	DML_NVME_SGL_MODE_AUTO,
	DML_NVME_SGL_MODE_ALWAYS,
	DML_NVME_SGL_MODE_NEVER,
};

/**
 * struct dml_nvme_opts - how to open a controller
 * @size: DML_SIZEOF(opts, last field used); 0 only with every field 0
 *	(all defaults), else -EINVAL
 * @emu_blocks: emu backend: namespace 1's size in 512-byte blocks of
 *	zeroed memory (default 131072: 64 MiB; at most 4194304: 2 GiB)
 * @queue_depth: entries of the I/O queue pair (default 64; at most
 *	CAP.MQES + 1)
 * @sgl: the SGL policy (default DML_NVME_SGL_MODE_AUTO)
 * @timeout_ns: a command's timeout, ns (default 30 s, the kernel's
 *	io_timeout)
 * @account_time: time every register access, so dml_nvme_rw() can report
 *	the CPU time spent inside the controller (@dev_ns of struct
 *	dml_nvme_io) and, on emu, the part of it moving data (@data_ns);
 *	two clock reads per access and two per emulated data transfer
 */
struct dml_nvme_opts {
	size_t size;
	u64 emu_blocks;
	u16 queue_depth;
	enum dml_nvme_sgl_mode sgl;
	u64 timeout_ns;
	bool account_time;
};

/**
 * dml_nvme_open - reset and enable an NVMe controller, identify it and
 *	namespace 1, and create one I/O queue pair
 * @dev: the controller's DMA device: on the emu backend a device of
 *	dml_device_create(), which becomes an emulated NVMe controller (NVM
 *	Express Base 2.0 registers, admin and I/O commands, every byte it
 *	moves is device DMA through @dev); on vfio a device of
 *	dml_vfio_device_open() whose BAR0 is an NVMe controller
 * @opts: options (NULL: the defaults)
 * @out: the handle
 *
 * Follows nvme_reset_work() in drivers/nvme/host/pci.c: disable, admin
 * queue, enable within CAP.TO, identify controller and namespace, set
 * features (number of queues), create the I/O CQ then SQ.
 * Return: 0; -EINVAL for a NULL @dev or @out, bad @opts, a controller
 * without the NVM command set or 4 KiB pages, or a namespace block size
 * outside 512 B - 64 KiB; -ENOMEM; -ETIMEDOUT when CSTS.RDY does not
 * follow CC.EN within CAP.TO or an admin command times out; -ENODEV on
 * controller fatal status; -EIO when an admin command completes with an
 * error; the error of mapping BAR0 on vfio.  On error nothing stays
 * mapped or allocated.
 */
int dml_nvme_open(struct dml_device *dev, const struct dml_nvme_opts *opts,
		  struct dml_nvme **out);

/**
 * dml_nvme_close - delete the I/O queues, disable the controller (CC.EN
 *	cleared, as nvme_disable_ctrl() in drivers/nvme/host/core.c) and free
 *	everything mapped for it; on emu the emulated controller goes too
 * @n: the handle, or NULL
 */
void dml_nvme_close(struct dml_nvme *n);

/**
 * struct dml_nvme_ns_info - namespace 1 and the controller's limits
 * @blocks: namespace size, logical blocks (Identify Namespace NSZE)
 * @block_size: logical block size, bytes (the LBA format's LBADS)
 * @max_transfer: largest command, bytes (MDTS); 0: no limit
 * @sgl_supported: the controller takes SGLs for I/O (Identify Controller
 *	SGLS)
 */
struct dml_nvme_ns_info {
	u64 blocks;
	u32 block_size;
	u32 max_transfer;
	bool sgl_supported;
};

/**
 * dml_nvme_ns_info - the geometry of namespace 1
 * @n: the handle
 * @info: filled
 *
 * Return: 0; -EINVAL for a NULL argument.
 */
int dml_nvme_ns_info(const struct dml_nvme *n, struct dml_nvme_ns_info *info);

/**
 * enum dml_nvme_map_strategy - how dml_nvme_rw() maps a request's data
 * @DML_NVME_MAP_IOVA: nvme_map_data() of Linux 6.17+: one physical segment
 *	takes the simple path (one dma_map_phys()); otherwise the request DMA
 *	iterator, which links every segment into one IOVA range when the
 *	IOMMU can merge them, and maps per segment when it cannot
 * @DML_NVME_MAP_PAGE: the iterator's per-segment path for every request
 *	of several segments (one dma_map_phys() per segment, kept to unmap),
 *	as when the request's gaps are not IOMMU-granule aligned
 * @DML_NVME_MAP_SG: nvme_map_data() of Linux 6.16 and before: the
 *	request's segments in a scatterlist (blk_rq_map_sg()), mapped with
 *	dma_map_sgtable(), PRPs or SGLs built from the mapped list
 */
enum dml_nvme_map_strategy {
	DML_NVME_MAP_IOVA,
	DML_NVME_MAP_PAGE,
	DML_NVME_MAP_SG,
};

/**
 * enum dml_nvme_data_path - which path a request's data took
 * @DML_NVME_PATH_SIMPLE: one segment, one dma_map_phys()
 *	(nvme_pci_setup_data_simple())
 * @DML_NVME_PATH_IOVA: one IOVA range of the iterator
 * @DML_NVME_PATH_PAGE: one dma_map_phys() per segment
 * @DML_NVME_PATH_SG: a mapped scatterlist
 */
enum dml_nvme_data_path {
	DML_NVME_PATH_SIMPLE,
	DML_NVME_PATH_IOVA,
	DML_NVME_PATH_PAGE,
	DML_NVME_PATH_SG,
};

/**
 * struct dml_nvme_io - one command of dml_nvme_rw(): what to do, what
 *	happened
 * @slba: first logical block (in)
 * @strategy: how to map the data (in)
 * @path: the path the data took (out)
 * @sgl: the data pointer was an SGL; else PRPs (out)
 * @desc_bytes: bytes of PRP or SGL lists the controller had to read
 *	besides the command: 0 when the data pointer of the command held
 *	everything (out)
 * @dma_segments: DMA segments the controller was given (out)
 * @status: the completion's status field without the phase tag: SC in
 *	bits 7:0, SCT in 10:8, More in 13, DNR in 14; 0 on success (out)
 * @result: this command's outcome, as dml_nvme_rw() returns it;
 *	-ECANCELED for one not submitted because another failed to map (out)
 * @map_ns: CPU time mapping and unmapping the data, descriptors
 *	included, ns (out)
 * @dev_ns: CPU time inside the controller's registers, ns; on emu the
 *	emulated controller runs the command there; 0 without
 *	@account_time of struct dml_nvme_opts; with several commands in
 *	flight, an equal share (out)
 * @total_ns: the whole call, ns; with several commands in flight, its
 *	own mapping and an equal share of the rest (out)
 * @data_ns: of @dev_ns, the emulated controller's CPU time moving the
 *	data bytes (each piece of the data translated by the emulated
 *	IOMMU, checked and copied: the work a real controller's DMA engine
 *	and the IOMMU do without the CPU), ns; the rest of @dev_ns is the
 *	controller's own (command fetch, PRP or SGL walk, completion); 0
 *	on a real controller or without @account_time; with several
 *	commands in flight, an equal share (out)
 */
struct dml_nvme_io {
	u64 slba;
	enum dml_nvme_map_strategy strategy;
	enum dml_nvme_data_path path;
	bool sgl;
	u32 desc_bytes;
	u32 dma_segments;
	u16 status;
	int result;
	u64 map_ns;
	u64 dev_ns;
	u64 total_ns;
	u64 data_ns;
};

/**
 * dml_nvme_rw - run a block request as one NVMe Read or Write on
 *	namespace 1 and wait for it
 * @n: the handle
 * @rq: from dml_blk_rq_init(): DMA_TO_DEVICE writes its data to the
 *	namespace, DMA_FROM_DEVICE reads into it; @rq->data_len a multiple
 *	of the block size, at most max_transfer; the limits should carry
 *	the controller page as virt boundary (4095), as nvme-pci sets them
 * @io: @slba and @strategy in; the rest out
 *
 * Maps the data (@io->strategy), builds PRPs or SGLs (the handle's SGL
 * policy) as nvme_map_data() in drivers/nvme/host/pci.c, submits, polls
 * the completion (nvme_poll_cq()), and unmaps, whatever the outcome.
 * Return: 0; -EINVAL for a NULL argument, a request without data, of a
 * length that is not whole blocks or over max_transfer, blocks past the
 * namespace's end, an unknown strategy, or a request the mapping refuses
 * as malformed or unreachable (BLK_STS_IOERR, BLK_STS_INVAL); -ENOMEM
 * when a mapping or descriptor cannot be had; -EIO when the controller
 * completes it with an error (@io->status says which); -ETIMEDOUT when
 * no completion comes within the timeout (the controller then needs a
 * reset: later calls give -ENODEV); -ENODEV on controller fatal status.
 * Nothing stays mapped after any return.
 */
int dml_nvme_rw(struct dml_nvme *n, struct request *rq, struct dml_nvme_io *io);

/**
 * dml_nvme_rw_many - dml_nvme_rw() for several requests in flight at once
 * @n: the handle
 * @rqs: @nr requests, as dml_nvme_rw() takes them
 * @ios: @nr commands: each @slba and @strategy in, the rest out
 * @nr: 1 to the queue depth - 1
 *
 * Maps every request, writes every command into the submission queue and
 * rings its doorbell once (nvme_queue_rqs() and nvme_commit_rqs() in
 * drivers/nvme/host/pci.c), collects the completions in whatever order
 * they come, then unmaps everything.  The controller may run the
 * commands in any order: requests whose blocks overlap must not go
 * together (NVMe Base 2.0 3.4.1, commands are not ordered).
 * Return: 0 when every command succeeded, else the first failure in
 * array order (each @ios[i].result has its own): -EINVAL for a NULL
 * argument, @nr out of range, or any request dml_nvme_rw() refuses
 * (then nothing is mapped); the errors of dml_nvme_rw() otherwise; when
 * one request fails to map, nothing is submitted.  Nothing stays mapped
 * after any return.
 */
int dml_nvme_rw_many(struct dml_nvme *n, struct request *const *rqs,
		     struct dml_nvme_io *ios, unsigned int nr);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_NVME_H */
