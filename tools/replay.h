/* SPDX-License-Identifier: MIT */
/*
 * replay.h - what replay.c hands to replay_p2p.c for `dmalink replay
 * --target p2p` (the options that apply there and the entry point), and
 * to replay_report.c (the replay's state and statistics it reports);
 * replay_cc.c (`--cc`) reuses replay.c's per-request engine on two
 * devices of one confidential guest.
 */
#ifndef DML_TOOLS_REPLAY_H
#define DML_TOOLS_REPLAY_H

#include <stdio.h>

#include <dmalink/nvme.h>

#include "tools.h"

/**
 * struct dml_replay_p2p_opts - the options of `replay --target p2p`
 * @target: --target p2p was given
 * @strategies: a bit per strategy to run, as replay.c's --strategy:
 *	bit 0 page, bit 1 sg, bit 2 iova
 * @limit: requests to replay at most, 0: all
 * @max_request: largest request accepted, bytes (also capped at the BAR)
 * @format: --format, the trace format (trace.h), for both targets;
 *	NULL: detected
 * @json: one JSON object on stdout instead of the table
 * @no_iommu: the client is a dma-direct device
 * @topology: topology file (docs/topology.md); NULL: the built-in one
 * @client: name or BDF of the replaying function (with @topology)
 * @provider: name or BDF of the provider, "NAME/BAR" to pick a BAR
 *	(with @topology; default its first memory BAR)
 */
struct dml_replay_p2p_opts {
	bool target;
	unsigned int strategies;
	u64 limit;
	u64 max_request;
	const char *format;
	bool json;
	bool no_iommu;
	const char *topology;
	const char *client;
	const char *provider;
};

/**
 * dml_replay_p2p_opt - parse one p2p option, or --format, into @o
 * @o: the p2p options
 * @c: the option's getopt_long() value: 'T' --target, 'P' --topology,
 *	'c' --p2p-client, 'p' --p2p-provider, 'F' --format (both targets)
 * @arg: its argument (kept, not copied)
 *
 * Return: 0; -EINVAL for a --target other than ram, p2p or dmabuf
 * (printed).
 */
int dml_replay_p2p_opt(struct dml_replay_p2p_opts *o, int c, const char *arg);

/**
 * dml_replay_p2p_check - check the options of --target p2p together
 * @o: the p2p options as parsed
 * @ram_only: an option of --target ram only was given (--layout, --levels,
 *	--lazy, --caching-mode, --bounce, --plot)
 *
 * Prints what is wrong on stderr.
 * Return: 0; -EINVAL for a combination that makes no sense.
 */
int dml_replay_p2p_check(const struct dml_replay_p2p_opts *o, bool ram_only);

/** dml_replay_p2p_usage - print the --help lines of the p2p options to @f */
void dml_replay_p2p_usage(FILE *f);

/**
 * dml_replay_p2p - replay @trace with each request's buffer in a peer's BAR
 * @o: options
 * @trace: the trace file
 *
 * Return: the exit code: 0 every mapped request verified and no fault
 * (refused requests, -EREMOTEIO, are counted, not failures), 1 a fault or
 * a mismatch, 2 bad usage or input.
 */
int dml_replay_p2p(const struct dml_replay_p2p_opts *o, const char *trace);

/**
 * struct dml_replay_dmabuf_opts - the options of `replay --target dmabuf`
 * @target: --target dmabuf was given
 * @exporter: --dmabuf-exporter: heap, ram, vram or bar (NULL: heap)
 * @importer: --dmabuf-importer: rdma, iommufd or static (NULL: rdma)
 * @move: --dmabuf-move: every @move-th request's buffer (vram only) is
 *	migrated to the other memory after a third of its bytes and back
 *	after two thirds, under the importer; 0: never
 * @limit, @max_request, @format, @json, @no_iommu: as for p2p, copied
 *	from replay's options
 */
struct dml_replay_dmabuf_opts {
	bool target;
	const char *exporter;
	const char *importer;
	u64 move;
	u64 limit;
	u64 max_request;
	const char *format;
	bool json;
	bool no_iommu;
};

/**
 * dml_replay_dmabuf_opt - parse --target ('T': dmabuf or not),
 * --dmabuf-exporter ('X'), --dmabuf-importer ('I') or --dmabuf-move
 * ('M') into @o
 * @o: the dmabuf options
 * @c: the option's getopt_long() value
 * @arg: its argument (kept, not copied)
 *
 * Return: 0; -EINVAL for an unknown exporter or importer, or a
 * --dmabuf-move that is not a number from 1 on (printed).
 */
int dml_replay_dmabuf_opt(struct dml_replay_dmabuf_opts *o, int c,
			  const char *arg);

/**
 * dml_replay_dmabuf_check - check the dmabuf options together
 * @o: the dmabuf options as parsed
 * @other: an option of another target was given (ram or p2p only)
 *
 * Prints what is wrong on stderr.
 * Return: 0; -EINVAL.
 */
int dml_replay_dmabuf_check(const struct dml_replay_dmabuf_opts *o,
			    bool other);

/** dml_replay_dmabuf_usage - print the --help lines of the dmabuf options */
void dml_replay_dmabuf_usage(FILE *f);

/**
 * dml_replay_dmabuf - replay @trace with each request's buffer exported
 * as a dma-buf and mapped through an importer
 * @o: options
 * @trace: the trace file
 *
 * Return: the exit code: 0 every imported request verified and no fault
 * (imports the exporter refuses and moves a pinned importer refuses,
 * -EBUSY, are counted, not failures), 1 a fault, a mismatch, or a move
 * the importer was not told of, 2 bad usage or input.
 */
int dml_replay_dmabuf(const struct dml_replay_dmabuf_opts *o, const char *trace);

/**
 * dml_replay_legend - explain every column of the replay table on @f
 * @f: stdout under the table, or the --help stream
 */
void dml_replay_legend(FILE *f);

/**
 * struct dml_replay_nvme_opts - the options of `replay --device nvme`
 * @device: --device nvme: each request becomes NVMe commands
 * @sgl_given: --sgl was given
 * @sgl: --sgl, when the data pointer is an SGL
 * @vfio: --vfio, the BDF of a real controller bound to vfio-pci; NULL:
 *	the emulated one
 * @ns_bytes: --namespace, bytes of namespace 1 replayed; 0: 64 MiB
 * @image: --image, where to write what the namespace must hold; NULL
 */
struct dml_replay_nvme_opts {
	bool device;
	bool sgl_given;
	enum dml_nvme_sgl_mode sgl;
	const char *vfio;
	u64 ns_bytes;
	const char *image;
};

/* the mapping strategies of `replay --strategy`, in --strategy's bit order */
enum strategy { S_PAGE, S_SG, S_IOVA, S_NR };

/* their names, as --strategy takes and the table prints them */
extern const char *const dml_replay_strategy_name[S_NR];

/*
 * A latency histogram of fixed size, so a replay's memory does not grow
 * with the trace: values below 64 ns exactly, above in 64 sub-buckets per
 * power of two (a bucket is at most 1/64 of its value wide).  The mean is
 * exact; a percentile is the middle of the bucket holding it.
 */
#define HIST_SUB_BITS 6
#define HIST_SUB (1U << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct ns_hist {
	u64 count[HIST_BUCKETS];
	u64 n;
	double total;
};

struct strat_stats {
	u64 requests, bytes, segments, fallbacks;
	u64 inval, iova_allocs, pt_touched, meta_bytes, faults;
	u64 verified, mismatches;
	u64 bounced;			/* --bounce: bytes copied by swiotlb */
	struct ns_hist caller_ns;	/* per request: structure + map + unmap */
	struct ns_hist map_ns;		/* per request: map + unmap */
};

struct replay_opts {
	unsigned int strategies;	/* bit per enum strategy */
	const char *layout;
	bool json;
	bool quiet;			/* --quiet: no progress line */
	const char *plot;		/* --plot: the SVG of the latency CDFs */
	u64 limit;
	bool lazy, caching_mode, no_iommu, bounce;
	unsigned int levels;
	u64 seed;
	u64 max_request;
	struct dml_replay_p2p_opts p2p;	/* --target, --topology, --p2p-* */
	struct dml_replay_dmabuf_opts dmabuf;	/* --target dmabuf, --dmabuf-* */
	int cc;				/* --cc: DML_CC_SEV or DML_CC_TDX; 0: none */
	struct dml_replay_nvme_opts nvme;	/* --device, --sgl */
};

/**
 * dml_replay_nvme_opt - parse --device or --sgl into @o
 * @o: the nvme options
 * @c: the option's getopt_long() value: 'd' --device, 'g' --sgl,
 *	'V' --vfio, 'N' --namespace, 'Y' --image
 * @arg: its argument
 *
 * Return: 0; -EINVAL for a --device other than dma or nvme, a --sgl
 * other than auto, always or never, or a --namespace that is not a
 * multiple of 4 KiB from 1 MiB to 2 GiB (printed).
 */
int dml_replay_nvme_opt(struct dml_replay_nvme_opts *o, int c, const char *arg);

/** dml_replay_nvme_usage - print the --help lines of the nvme options to @f */
void dml_replay_nvme_usage(FILE *f);

/**
 * dml_replay_nvme - replay @trace as NVMe commands (replay_nvme.c)
 * @o: all of replay's options; those that make no sense with --device
 *	nvme are refused
 * @trace: the trace file
 *
 * Return: the exit code: 0 every command completed, every byte read
 * verified and no fault; 1 a fault, an error or a mismatch; 2 bad usage
 * or input.
 */
int dml_replay_nvme(const struct replay_opts *o, const char *trace);

struct replay {
	struct replay_opts o;
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
	struct dml_layout *layout;
	struct dml_phys_range *ranges;
	unsigned int max_ranges;
	u64 clock_caller_ns;		/* the clock reads' own share of each view */
	u64 clock_map_ns;
	u8 *devbuf;			/* the device's side of a transfer */
	u8 *expect;
	u64 buf_bytes;			/* size of both: the largest request yet */
	struct strat_stats st[S_NR];
};

/* the mean, p50 and p99 of a latency histogram, ns */
struct summary {
	double mean, p50, p99;
};

/*
 * dml_replay_pattern - fill @len bytes of @buf with a pattern that differs
 * per @seed (request, strategy) and byte: what a write carries and a
 * read must find (replay.c)
 */
void dml_replay_pattern(u8 *buf, u64 len, u64 seed);

/** dml_replay_summarize - mean, p50 and p99 of the samples in @h (replay_report.c) */
struct summary dml_replay_summarize(const struct ns_hist *h);

/**
 * dml_replay_run_one - map one request's ranges with strategy @s, let the
 *	device move the bytes, unmap, verify, and count it in @r->st[@s]
 *	(replay.c; the cost views are described at the top of that file)
 * @r: the replay: its device, ranges and flat buffers
 * @s: the strategy
 * @nr: ranges of the request in @r->ranges
 * @bytes: the request's bytes (their sum)
 * @write: the device reads the buffer (a write request); else it writes it
 * @seed: the data pattern's seed
 *
 * Return: 0 (counted, verified or not); -errno when mapping failed (not
 * counted: the caller counts it).
 */
int dml_replay_run_one(struct replay *r, enum strategy s, unsigned int nr,
		       u64 bytes, bool write, u64 seed);

/**
 * dml_replay_size_bufs - grow @r's two flat buffers to @bytes, if smaller
 * Return: 0 or -ENOMEM.
 */
int dml_replay_size_bufs(struct replay *r, u64 bytes);

/**
 * dml_replay_split_ranges - split @r's @nr ranges at dma_max_mapping_size()
 *	of @r->dev, as drivers cap their segments
 * Return: the number of ranges now (@nr when nothing needed splitting or
 * the pieces would not fit in @r->ranges).
 */
unsigned int dml_replay_split_ranges(struct replay *r, unsigned int nr);

/**
 * dml_replay_cc_opt - parse --cc's argument into @o->cc
 * @o: the replay's options
 * @arg: "sev" or "tdx"
 *
 * Return: 0; -EINVAL for another flavour (printed).
 */
int dml_replay_cc_opt(struct replay_opts *o, const char *arg);

/** dml_replay_cc_usage - print the --help lines of --cc to @f */
void dml_replay_cc_usage(FILE *f);

/**
 * dml_replay_cc - replay @trace in a confidential guest, side by side with
 *	the device not accepted into the TVM (bounced) and accepted (direct)
 *	(replay_cc.c)
 * @o: the options as parsed, @o->cc set
 * @trace: the trace file
 *
 * Return: the exit code: 0 every request verified on both sides and no
 * fault (requests the two-step API refuses, -EPERM, are counted, not
 * failures), 1 a fault, mismatch or failed mapping, 2 bad usage or input.
 */
int dml_replay_cc(const struct replay_opts *o, const char *trace);

/**
 * dml_replay_report - print the results of a ram replay on stdout: the
 *	table with header, legend and footer, or with --json one JSON object
 * @r: the finished replay
 * @path: the trace's name as given
 * @fmt: its format's name
 * @secs: the replay's wall time, seconds
 */
void dml_replay_report(const struct replay *r, const char *path,
		       const char *fmt, double secs);

/**
 * dml_replay_plot - draw the CDF of each strategy's caller ns per request
 *	(x log scale) into the SVG @r->o.plot with gnuplot (plot.h)
 * @r: the finished replay
 * @trace: the trace's name, for the title
 *
 * Return: 0; -errno of dml_plot_draw() (printed).
 */
int dml_replay_plot(const struct replay *r, const char *trace);

#endif /* DML_TOOLS_REPLAY_H */
