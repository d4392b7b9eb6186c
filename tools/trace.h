/* SPDX-License-Identifier: MIT */
/*
 * trace.h - the block-trace reader behind `dmalink replay`: one request at
 * a time from a DiskSim ASCII trace (the MQSim samples), a fio iolog
 * (version 3, or version 2 without timestamps), an MSR Cambridge / SNIA
 * IOTTA CSV, blkparse text (its C events), an Alibaba 2020 or a Tencent
 * CBS 2018 block-trace CSV, whichever the file's first non-empty line
 * says it is, or the one --format names.  Field layouts: trace_formats.c.  Formats and where they come from:
 * data/traces/README.md and shared/reference/real-inputs.md §1a.
 *
 * The reader streams: memory use is one 64 KiB line buffer and the list of
 * fio file names, whatever the trace length.  It never trusts the file: a
 * malformed line stops the trace with -EINVAL and a message
 * "FILE:LINE: FORMAT: what is wrong" (FORMAT as dml_trace_format_name()
 * says, absent while the format is not yet known).
 */
#ifndef DML_TOOLS_TRACE_H
#define DML_TOOLS_TRACE_H

#include <dmalink/types.h>
#include <stddef.h>
#include <stdio.h>

/* The longest line the reader accepts, in bytes, newline excluded. */
#define DML_TRACE_MAX_LINE 65535

/* The names dml_trace_open_format() takes, besides "auto". */
#define DML_TRACE_FORMATS "disksim, fio, msr, blkparse, alibaba, tencent"

/* fio iolog: the most distinct file names ("add" lines) one trace may use. */
#define DML_TRACE_MAX_FILES 4096

struct dml_trace;

/**
 * struct dml_trace_req - one block request of a trace
 * @time_ns: arrival time in ns, as recorded (DiskSim: the first field;
 *	fio v3: the first field, in µs, times 1000; fio v2: always 0; MSR:
 *	FILETIME times 100; Alibaba: µs times 1000; Tencent: s times 10^9;
 *	blkparse: the completion time).  Not checked to be monotonic.
 * @dev: device number (DiskSim: the second field; fio: the index of the
 *	file name in the order of its "add" line, from 0; MSR: DiskNumber;
 *	Alibaba: device_id; Tencent: VolumeID; blkparse: major << 20 | minor)
 * @offset: start on the device in bytes (DiskSim, Tencent, blkparse:
 *	sectors of 512 bytes times 512)
 * @bytes: length in bytes, 1 to the reader's max_bytes
 * @write: true for a write (DiskSim type 0, fio "write"), false for a read
 *	(DiskSim type 1, fio "read")
 * @line: line number of the record in the file, from 1
 *
 * @offset + @bytes never wraps past U64_MAX.
 */
struct dml_trace_req {
	u64 time_ns;
	u32 dev;
	u64 offset;
	u64 bytes;
	bool write;
	u64 line;
};

/**
 * dml_trace_open - open a block trace and detect its format
 * @path: file to read; "-" reads standard input (messages then name "-")
 * @max_bytes: largest request accepted, in bytes (> 0); a bigger read or
 *	write is a malformed line ("size N exceeds the maximum request of M
 *	bytes")
 * @out: the reader on success, NULL on failure
 * @err: buffer for the reason of a failure, "PATH: what" (may be NULL)
 * @errlen: size of @err in bytes
 *
 * Reads up to the first non-empty line.  "fio version 3 iolog" and "fio
 * version 2 iolog" select fio; otherwise that line is the first record
 * and its shape selects the format: "maj,min" then blanks for blkparse,
 * 7 CSV fields with Read or Write fourth for MSR, 5 with R or W second
 * for Alibaba, 5 with 0 or 1 fourth for Tencent, a digit and no comma for
 * DiskSim ASCII.  Same as dml_trace_open_format() with "auto".
 *
 * Return: 0; -EINVAL for @max_bytes 0, an empty or blank file ("no records
 * (the file is empty or blank)"), an over-long or unrecognised first
 * non-empty line, one holding a NUL byte, or an unsupported fio iolog
 * version; -errno from open(2) or read(2) (-ENOENT, -EACCES, -EISDIR,
 * -EIO ...); -ENOMEM.
 */
int dml_trace_open(const char *path, u64 max_bytes, struct dml_trace **out,
		   char *err, size_t errlen);

/**
 * dml_trace_open_format - open a block trace in a given format
 * @path: file to read
 * @format: "auto" or NULL to detect it as dml_trace_open() does, or one of
 *	DML_TRACE_FORMATS ("fio" takes either version from its header);
 *	the first non-empty line is then read as a record of that format,
 *	and a line that does not fit is a malformed line
 * @max_bytes, @out, @err, @errlen: as for dml_trace_open()
 *
 * Return: as dml_trace_open(); -EINVAL for an unknown @format.
 */
int dml_trace_open_format(const char *path, const char *format, u64 max_bytes,
			  struct dml_trace **out, char *err, size_t errlen);

/**
 * dml_trace_next - read the next request
 * @t: reader from dml_trace_open()
 * @req: filled in when the return value is 1
 * @err: buffer for the reason of a failure (may be NULL)
 * @errlen: size of @err in bytes
 *
 * Skips blank lines, and the lines that carry no data transfer after
 * checking their shape: fio add, open, close, trim, sync, datasync,
 * sync_file_range, wait; blkparse events other than C, C events that
 * failed, carry no data or are neither a read nor a write, and the
 * closing summary from its first "CPUn (" or "Total (" line on.  A last line without a newline is read like any other.
 *
 * A trace that ends without a single request is an error ("FILE: no
 * records"), so that replaying it cannot silently measure nothing.
 *
 * Errors are sticky: once -EINVAL or -errno is returned, later calls return
 * the same value and message; after the end, later calls return 0 again.
 *
 * Return: 1 with @req filled; 0 at the end of the trace; -EINVAL for a
 * malformed line, with @err "FILE:LINE: FORMAT: what is wrong" (garbage, a
 * negative or overflowing number, a missing or extra field, a size of 0 or
 * above max_bytes, a bad DiskSim type code, an unknown fio action, a fio
 * file used before its "add", a line longer than DML_TRACE_MAX_LINE or
 * holding a NUL byte), or for a trace without requests; -errno from
 * read(2); -ENOMEM (a fio "add").
 */
int dml_trace_next(struct dml_trace *t, struct dml_trace_req *req, char *err,
		   size_t errlen);

/** dml_trace_usage - the --format lines of `dmalink replay --help`, on @f */
void dml_trace_usage(FILE *f);

/** dml_trace_close - close the file and free the reader; NULL is ignored */
void dml_trace_close(struct dml_trace *t);

/**
 * dml_trace_format_name - the detected format, for messages and reports
 * @t: reader
 *
 * Return: "disksim", "fio-v3", "fio-v2", "msr", "blkparse", "alibaba" or
 * "tencent" (static strings).
 */
const char *dml_trace_format_name(const struct dml_trace *t);

/**
 * dml_trace_nr_requests - requests returned so far by dml_trace_next()
 * @t: reader
 */
u64 dml_trace_nr_requests(const struct dml_trace *t);

/**
 * dml_trace_position - how far the reader is through its file, for a
 *	progress line
 * @t: reader
 * @done: bytes of the file consumed so far (read and handed out as lines)
 * @total: the file's size, bytes
 *
 * Return: 0; -ESPIPE when the trace is not a regular file (standard input
 * from a pipe), whose size is not known.
 */
int dml_trace_position(const struct dml_trace *t, u64 *done, u64 *total);

#endif /* DML_TOOLS_TRACE_H */
