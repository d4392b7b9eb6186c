/* SPDX-License-Identifier: MIT */
/*
 * trace_int.h - what the block-trace reader's files share: the reader
 * object, the format codes, and the line helpers of trace.c that the
 * record parsers of trace_formats.c use.  Not part of trace.h: callers of
 * the reader see only that.
 */
#ifndef DML_TOOLS_TRACE_INT_H
#define DML_TOOLS_TRACE_INT_H

#include "trace.h"

#define DML_SECTOR_SIZE 512ULL

enum dml_trace_fmt {
	DML_TRACE_DISKSIM,
	DML_TRACE_FIO_V3,
	DML_TRACE_FIO_V2,
	DML_TRACE_MSR,
	DML_TRACE_BLKPARSE,
	DML_TRACE_ALIBABA,
	DML_TRACE_TENCENT,
	DML_TRACE_NR_FMT,
};

/* t->state */
#define DML_TRACE_RUNNING 0
#define DML_TRACE_ENDED 1

struct dml_trace {
	int fd;
	char *path;
	u64 max_bytes;
	enum dml_trace_fmt fmt;
	int state;		/* DML_TRACE_RUNNING, _ENDED or -errno */
	u64 lineno;		/* number of the line last read, from 1 */
	u64 nr_req;		/* requests returned so far */
	char *line;		/* the line last read, NUL-terminated */
	bool pending;		/* @line is a record not parsed yet */
	char **files;		/* fio: file names in "add" order */
	u32 nr_files, cap_files;
	bool blk_tail;		/* blkparse: in the closing summary */
	char msg[512];		/* the sticky error */
	size_t start, end;	/* unread bytes: buf[start, end) */
	bool eof;
	char buf[DML_TRACE_MAX_LINE + 2];
};

/*
 * Record the sticky error "PATH:LINE: FMT: ..." (FMT once the format is
 * known) and set t->state to -EINVAL.
 */
void __attribute__((format(printf, 2, 3)))
dml__trace_set_bad_line(struct dml_trace *t, const char *fmt, ...);

/*
 * bad_line - record "PATH:LINE: what" and evaluate to -EINVAL (a macro, so
 * that the value is plain to readers and to the static analyser, which
 * does not follow variadic calls)
 */
#define bad_line(t, ...) (dml__trace_set_bad_line(t, __VA_ARGS__), -EINVAL)

/* @tok as a message may show it: 24 printable characters at most. */
const char *dml__trace_show(const char *tok, char out[32]);

/* Blank, tab, CR, VT or FF: what separates the fields of text formats. */
bool dml__trace_is_space(char c);

/*
 * Cut @line in place into at most @max whitespace-separated tokens; return
 * how many there are, up to @max + 1 ("one too many").
 */
unsigned int dml__trace_split(char *line, char **tok, unsigned int max);

/* An unsigned decimal named @what; 0, or -EINVAL with the line's message. */
int dml__trace_parse_u64(struct dml_trace *t, const char *tok,
			 const char *what, u64 *val);

/* A request of @bytes at @offset: 1..max_bytes, not past 2^64; 0 or -EINVAL. */
int dml__trace_check_size(struct dml_trace *t, u64 offset, u64 bytes);

/*
 * The record parsers of trace_formats.c: each reads t->line (not blank)
 * and returns 1 with @req filled (but for req->line), 0 for a line that
 * carries no request, or -EINVAL with the sticky message.
 */
int dml__trace_parse_msr(struct dml_trace *t, struct dml_trace_req *req);
int dml__trace_parse_blkparse(struct dml_trace *t, struct dml_trace_req *req);
int dml__trace_parse_alibaba(struct dml_trace *t, struct dml_trace_req *req);
int dml__trace_parse_tencent(struct dml_trace *t, struct dml_trace_req *req);

/*
 * dml__trace_guess - the format of the first record line @line of a file
 * that has no header: DML_TRACE_BLKPARSE, _MSR, _ALIBABA, _TENCENT,
 * _DISKSIM, or DML_TRACE_NR_FMT when none fits.  Only looks at the shape
 * (separators, field count, the opcode field); the parser checks the rest.
 */
enum dml_trace_fmt dml__trace_guess(const char *line);

#endif /* DML_TOOLS_TRACE_INT_H */
