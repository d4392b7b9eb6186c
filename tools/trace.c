/* SPDX-License-Identifier: MIT */
/*
 * trace.c - the streaming block-trace reader of `dmalink replay` (API and
 * formats in trace.h).  Owns: the line reader, format detection and
 * --format, the DiskSim ASCII and fio iolog (v2, v3) record parsers, and
 * their error messages; the CSV and blkparse parsers are in
 * trace_formats.c.
 *
 * Line reader.  One buffer of DML_TRACE_MAX_LINE + 2 bytes holds the
 * unread part of the file; buf[start, end) is what read(2) returned and
 * no line has consumed yet.  A line is cut at '\n' (which becomes the
 * NUL terminator) or at the end of the file, so a last line without a
 * newline reads like any other.  A line that fills the whole buffer
 * without a newline is too long, and a line holding a NUL byte is
 * garbage: both are errors, never a silent truncation.
 *
 * Numbers are decimal, unsigned, without sign or base prefix, and must fit
 * in 64 bits (dml_tool_parse_u64() in base 10).  Every product or sum is checked for
 * overflow before it is formed.
 *
 * Errors are sticky: the first one is kept in t->msg and repeated.
 *
 * The file formats are documented from fio's and MQSim's documentation and
 * their sample files; no code of either is used here.
 */
#include "trace_int.h"
#include "tools.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const fmt_names[] = {
	[DML_TRACE_DISKSIM] = "disksim",
	[DML_TRACE_FIO_V3] = "fio-v3",
	[DML_TRACE_FIO_V2] = "fio-v2",
	[DML_TRACE_MSR] = "msr",
	[DML_TRACE_BLKPARSE] = "blkparse",
	[DML_TRACE_ALIBABA] = "alibaba",
	[DML_TRACE_TENCENT] = "tencent",
};

static void copy_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

/* Record the sticky error "PATH:LINE: FMT: ..." (see bad_line()). */
void dml__trace_set_bad_line(struct dml_trace *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(t->msg, sizeof(t->msg), "%s:%llu: %s%s", t->path,
		     (unsigned long long)t->lineno,
		     t->fmt < DML_TRACE_NR_FMT ? fmt_names[t->fmt] : "",
		     t->fmt < DML_TRACE_NR_FMT ? ": " : "");
	if (n < 0 || (size_t)n >= sizeof(t->msg))
		n = (int)strlen(t->msg);
	va_start(ap, fmt);
	vsnprintf(t->msg + n, sizeof(t->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	t->state = -EINVAL;
}

/* Record a sticky error that names no line, return @rc. */
static int bad_file(struct dml_trace *t, int rc, const char *what)
{
	snprintf(t->msg, sizeof(t->msg), "%s: %s", t->path, what);
	t->state = rc;
	return rc;
}

/*
 * A token as it may appear in a message: at most 24 printable characters,
 * anything else shown as '?', "..." when cut.
 */
const char *dml__trace_show(const char *tok, char out[32])
{
	size_t i;

	for (i = 0; i < 24 && tok[i]; i++)
		out[i] = isprint((unsigned char)tok[i]) ? tok[i] : '?';
	if (tok[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = 0;
	return out;
}

/* -errno after a failed call; -EIO should errno say nothing */
static int neg_errno(void)
{
	int rc = -errno;

	return rc < 0 ? rc : -EIO;
}

bool dml__trace_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Cut @line in place into at most @max tokens; return how many there are,
 * up to @max + 1 (so "one too many" is seen without keeping the rest).
 */
unsigned int dml__trace_split(char *line, char **tok, unsigned int max)
{
	unsigned int n = 0;
	char *p = line;

	for (;;) {
		while (dml__trace_is_space(*p))
			p++;
		if (!*p)
			return n;
		if (n == max)
			return n + 1;
		tok[n++] = p;
		while (*p && !dml__trace_is_space(*p))
			p++;
		if (*p)
			*p++ = 0;
	}
}

/* Parse an unsigned decimal; 0, or -EINVAL with the reason in the message. */
int dml__trace_parse_u64(struct dml_trace *t, const char *tok,
			  const char *what, u64 *val)
{
	int rc = dml_tool_parse_u64(tok, 10, val);
	char s[32];

	if (!rc)
		return 0;
	if (tok[0] == '-')
		return bad_line(t, "%s is negative ('%s')", what, dml__trace_show(tok, s));
	if (rc == -ERANGE)
		return bad_line(t, "%s does not fit in 64 bits ('%s')", what,
				dml__trace_show(tok, s));
	return bad_line(t, "%s is not a decimal number ('%s')", what,
			dml__trace_show(tok, s));
}

/* Check a request size in bytes against 1..max_bytes and its end. */
int dml__trace_check_size(struct dml_trace *t, u64 offset, u64 bytes)
{
	u64 last;

	if (!bytes)
		return bad_line(t, "size 0: a request moves at least one byte");
	if (bytes > t->max_bytes)
		return bad_line(t, "size %llu exceeds the maximum request of %llu bytes",
				(unsigned long long)bytes,
				(unsigned long long)t->max_bytes);
	if (__builtin_add_overflow(offset, bytes - 1, &last))
		return bad_line(t, "request at offset %llu of %llu bytes ends past 2^64",
				(unsigned long long)offset,
				(unsigned long long)bytes);
	return 0;
}

/*
 * Read the next line into t->line.  Return: 1, 0 at the end of the file,
 * -EINVAL (too long, NUL byte), -errno from read(2).
 */
static int read_line(struct dml_trace *t)
{
	size_t len;
	ssize_t n;
	char *nl;

	for (;;) {
		nl = memchr(t->buf + t->start, '\n', t->end - t->start);
		if (nl) {
			*nl = 0;
			t->line = t->buf + t->start;
			len = (size_t)(nl - t->line);
			t->start += len + 1;
			break;
		}
		if (t->eof) {
			if (t->start == t->end)
				return 0;
			t->buf[t->end] = 0;	/* last line, no newline */
			t->line = t->buf + t->start;
			len = t->end - t->start;
			t->start = t->end;
			break;
		}
		if (t->end - t->start > DML_TRACE_MAX_LINE) {
			t->lineno++;
			return bad_line(t, "line longer than %u bytes",
					DML_TRACE_MAX_LINE);
		}
		if (t->start) {
			memmove(t->buf, t->buf + t->start, t->end - t->start);
			t->end -= t->start;
			t->start = 0;
		}
		n = read(t->fd, t->buf + t->end, sizeof(t->buf) - 1 - t->end);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			t->state = neg_errno();
			snprintf(t->msg, sizeof(t->msg), "%s: read: %s", t->path,
				 strerror(-t->state));
			return t->state;
		}
		if (!n)
			t->eof = true;
		t->end += (size_t)n;
	}
	t->lineno++;
	if (memchr(t->line, 0, len))
		return bad_line(t, "NUL byte in line (binary file?)");
	return 1;
}

static bool is_blank(const char *s)
{
	while (dml__trace_is_space(*s))
		s++;
	return !*s;
}

/*
 * DiskSim ASCII: arrival_ns device start_sector nr_sectors type,
 * type 0 = write, 1 = read; sectors are 512 bytes.
 */
static int parse_disksim(struct dml_trace *t, struct dml_trace_req *req)
{
	u64 time_ns = 0, dev = 0, lba = 0, nsect = 0;
	unsigned int n;
	char *tok[5];
	char s[32];
	int rc;

	n = dml__trace_split(t->line, tok, 5);
	if (n < 5)
		return bad_line(t, "truncated line: %u of the 5 fields 'time_ns device start_sector sectors type'",
				n);
	if (n > 5)
		return bad_line(t, "more than the 5 fields 'time_ns device start_sector sectors type'");
	rc = dml__trace_parse_u64(t, tok[0], "arrival time", &time_ns);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[1], "device number", &dev);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[2], "start sector", &lba);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[3], "size in sectors", &nsect);
	if (rc)
		return rc;
	if (dev > UINT32_MAX)
		return bad_line(t, "device number %llu does not fit in 32 bits",
				(unsigned long long)dev);
	if (lba > UINT64_MAX / DML_SECTOR_SIZE)
		return bad_line(t, "start sector %llu is past 2^64 bytes",
				(unsigned long long)lba);
	if (nsect > UINT64_MAX / DML_SECTOR_SIZE)
		return bad_line(t, "size of %llu sectors is past 2^64 bytes",
				(unsigned long long)nsect);
	rc = dml__trace_check_size(t, lba * DML_SECTOR_SIZE, nsect * DML_SECTOR_SIZE);
	if (rc)
		return rc;
	if (strcmp(tok[4], "0") && strcmp(tok[4], "1"))
		return bad_line(t, "type must be 0 (write) or 1 (read), not '%s'",
				dml__trace_show(tok[4], s));

	req->time_ns = time_ns;
	req->dev = (u32)dev;
	req->offset = lba * DML_SECTOR_SIZE;
	req->bytes = nsect * DML_SECTOR_SIZE;
	req->write = tok[4][0] == '0';
	return 1;
}

/* fio: index of file @name, -1 if never added */
static long fio_file(struct dml_trace *t, const char *name)
{
	u32 i;

	for (i = 0; i < t->nr_files; i++)
		if (!strcmp(t->files[i], name))
			return i;
	return -1;
}

static int fio_add(struct dml_trace *t, const char *name)
{
	char **files;
	size_t len;
	u32 cap;

	if (fio_file(t, name) >= 0)
		return 0;
	if (t->nr_files == DML_TRACE_MAX_FILES)
		return bad_line(t, "more than %u files", DML_TRACE_MAX_FILES);
	if (t->nr_files == t->cap_files) {
		cap = t->cap_files ? 2 * t->cap_files : 8;
		files = calloc(cap, sizeof(*files));
		if (!files)
			return bad_file(t, -ENOMEM, "out of memory");
		if (t->nr_files)
			memcpy(files, t->files, t->nr_files * sizeof(*files));
		free(t->files);
		t->files = files;
		t->cap_files = cap;
	}
	len = strlen(name);
	t->files[t->nr_files] = calloc(1, len + 1);
	if (!t->files[t->nr_files])
		return bad_file(t, -ENOMEM, "out of memory");
	memcpy(t->files[t->nr_files], name, len + 1);
	t->nr_files++;
	return 0;
}

/* How a fio action is handled: which fields it takes, whether it moves data. */
enum fio_kind {
	FIO_FILE,	/* add, open, close: no offset and length */
	FIO_IO,		/* read, write: offset and length, a request */
	FIO_RANGE,	/* trim: offset and length, no request */
	FIO_OTHER,	/* sync & co: offset and length optional, no request */
};

static const struct {
	const char *name;
	enum fio_kind kind;
} fio_actions[] = {
	{ "add", FIO_FILE },
	{ "open", FIO_FILE },
	{ "close", FIO_FILE },
	{ "read", FIO_IO },
	{ "write", FIO_IO },
	{ "trim", FIO_RANGE },
	{ "sync", FIO_OTHER },
	{ "datasync", FIO_OTHER },
	{ "sync_file_range", FIO_OTHER },
	{ "wait", FIO_OTHER },
};

/*
 * fio iolog: v3 "time_us file action [offset length]", v2 the same
 * without the time.  Return 1 for a request, 0 for a line without one.
 */
static int parse_fio(struct dml_trace *t, struct dml_trace_req *req)
{
	unsigned int b = t->fmt == DML_TRACE_FIO_V3 ? 1 : 0;
	const char *shape = b ? "'time_us file action [offset length]'"
			      : "'file action [offset length]'";
	u64 time_us = 0, offset = 0, len = 0;
	enum fio_kind kind;
	unsigned int n, i;
	char *tok[5];
	char s[32];
	long file;
	int rc;

	n = dml__trace_split(t->line, tok, 4 + b);
	if (n > 4 + b)
		return bad_line(t, "more than the %u fields %s", 4 + b, shape);
	if (n < 2 + b)
		return bad_line(t, "truncated line: %u field%s, expected %s", n,
				n == 1 ? "" : "s", shape);
	if (b) {
		rc = dml__trace_parse_u64(t, tok[0], "time", &time_us);
		if (rc)
			return rc;
		if (time_us > UINT64_MAX / 1000)
			return bad_line(t, "time %llu us is past 2^64 ns",
					(unsigned long long)time_us);
	}
	for (i = 0; i < ARRAY_SIZE(fio_actions); i++)
		if (!strcmp(tok[b + 1], fio_actions[i].name))
			break;
	if (i == ARRAY_SIZE(fio_actions))
		return bad_line(t, "unknown action '%s'", dml__trace_show(tok[b + 1], s));
	kind = fio_actions[i].kind;

	if (kind == FIO_FILE && n != 2 + b)
		return bad_line(t, "'%s' takes no offset and length",
				fio_actions[i].name);
	if (n == 3 + b)
		return bad_line(t, "truncated line: '%s' has an offset but no length",
				fio_actions[i].name);
	if ((kind == FIO_IO || kind == FIO_RANGE) && n != 4 + b)
		return bad_line(t, "truncated line: '%s' needs an offset and a length",
				fio_actions[i].name);
	if (n == 4 + b) {
		rc = dml__trace_parse_u64(t, tok[b + 2], "offset", &offset);
		if (!rc)
			rc = dml__trace_parse_u64(t, tok[b + 3], "length", &len);
		if (rc)
			return rc;
	}

	if (!strcmp(fio_actions[i].name, "add"))
		return fio_add(t, tok[b]);
	file = fio_file(t, tok[b]);
	if (file < 0)
		return bad_line(t, "file '%s' is used before its 'add' line",
				dml__trace_show(tok[b], s));
	if (kind != FIO_IO) {
		if (len && __builtin_add_overflow(offset, len - 1, &offset))
			return bad_line(t, "range at offset %s of %llu bytes ends past 2^64",
					dml__trace_show(tok[b + 2], s),
					(unsigned long long)len);
		return 0;
	}
	rc = dml__trace_check_size(t, offset, len);
	if (rc)
		return rc;

	req->time_ns = time_us * 1000;
	req->dev = (u32)file;
	req->offset = offset;
	req->bytes = len;
	req->write = fio_actions[i].name[0] == 'w';
	return 1;
}

/* "fio version N iolog": the format, or -EINVAL with the reason */
static int parse_fio_header(struct dml_trace *t)
{
	unsigned int n;
	char *tok[4];
	char s[32];

	n = dml__trace_split(t->line, tok, 4);
	if (n != 4 || strcmp(tok[1], "version") || strcmp(tok[3], "iolog"))
		return bad_line(t, "unrecognised header: expected 'fio version 3 iolog'");
	if (!strcmp(tok[2], "3"))
		t->fmt = DML_TRACE_FIO_V3;
	else if (!strcmp(tok[2], "2"))
		t->fmt = DML_TRACE_FIO_V2;
	else
		return bad_line(t, "fio iolog version '%s' is not supported (2 and 3 are)",
				dml__trace_show(tok[2], s));
	return 0;
}

/* The format called @name ("fio" for either version), NR if none. */
static enum dml_trace_fmt fmt_by_name(const char *name)
{
	unsigned int i;

	if (!strcmp(name, "fio"))
		return DML_TRACE_FIO_V3;
	for (i = 0; i < DML_TRACE_NR_FMT; i++)
		if (!strcmp(name, fmt_names[i]))
			return (enum dml_trace_fmt)i;
	return DML_TRACE_NR_FMT;
}

/*
 * Find the first non-empty line and decide the format from it: @forced,
 * or what the line looks like when @forced is DML_TRACE_NR_FMT.
 */
static int detect(struct dml_trace *t, enum dml_trace_fmt forced)
{
	enum dml_trace_fmt fmt;
	const char *p;
	int rc;

	do {
		rc = read_line(t);
		if (rc < 0)
			return rc;
		if (!rc)
			return bad_file(t, -EINVAL, "no records (the file is empty or blank)");
	} while (is_blank(t->line));

	for (p = t->line; dml__trace_is_space(*p); p++)
		;
	if (forced == DML_TRACE_FIO_V3 || forced == DML_TRACE_FIO_V2 ||
	    (forced == DML_TRACE_NR_FMT && !strncmp(p, "fio", 3) &&
	     (dml__trace_is_space(p[3]) || !p[3])))
		return parse_fio_header(t);
	fmt = forced == DML_TRACE_NR_FMT ? dml__trace_guess(p) : forced;
	if (fmt == DML_TRACE_NR_FMT)
		return bad_line(t, "unrecognised trace format: expected a 'fio version 3 iolog' header, or a record of DiskSim ASCII, MSR Cambridge CSV, blkparse text, Alibaba or Tencent CSV (--format names one)");
	t->fmt = fmt;
	t->pending = true;
	return 0;
}

int dml_trace_open(const char *path, u64 max_bytes, struct dml_trace **out,
		   char *err, size_t errlen)
{
	return dml_trace_open_format(path, NULL, max_bytes, out, err, errlen);
}

int dml_trace_open_format(const char *path, const char *format, u64 max_bytes,
			  struct dml_trace **out, char *err, size_t errlen)
{
	enum dml_trace_fmt forced = DML_TRACE_NR_FMT;
	struct dml_trace *t;
	size_t len;
	int rc;

	*out = NULL;
	if (!max_bytes) {
		copy_err(err, errlen, "maximum request size is 0");
		return -EINVAL;
	}
	if (format && strcmp(format, "auto")) {
		forced = fmt_by_name(format);
		if (forced == DML_TRACE_NR_FMT) {
			copy_err(err, errlen, "unknown trace format (auto, " DML_TRACE_FORMATS ")");
			return -EINVAL;
		}
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		copy_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->fd = -1;
	t->fmt = DML_TRACE_NR_FMT;	/* messages name it once known */
	t->state = DML_TRACE_RUNNING;
	len = strlen(path);
	t->path = calloc(1, len + 1);
	if (!t->path) {
		copy_err(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto err_free;
	}
	memcpy(t->path, path, len + 1);
	t->max_bytes = max_bytes;

	/* "-": standard input, duplicated so that closing the reader is alike */
	t->fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC)
				  : fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
	if (t->fd < 0) {
		rc = neg_errno();
		snprintf(t->msg, sizeof(t->msg), "%s: %s", path, strerror(-rc));
		copy_err(err, errlen, t->msg);
		goto err_free;
	}
	rc = detect(t, forced);
	if (rc) {
		copy_err(err, errlen, t->msg);
		goto err_free;
	}
	*out = t;
	return 0;

err_free:
	dml_trace_close(t);
	return rc;
}

static int (*const parsers[DML_TRACE_NR_FMT])(struct dml_trace *t,
					     struct dml_trace_req *req) = {
	[DML_TRACE_DISKSIM] = parse_disksim,
	[DML_TRACE_FIO_V3] = parse_fio,
	[DML_TRACE_FIO_V2] = parse_fio,
	[DML_TRACE_MSR] = dml__trace_parse_msr,
	[DML_TRACE_BLKPARSE] = dml__trace_parse_blkparse,
	[DML_TRACE_ALIBABA] = dml__trace_parse_alibaba,
	[DML_TRACE_TENCENT] = dml__trace_parse_tencent,
};

int dml_trace_next(struct dml_trace *t, struct dml_trace_req *req, char *err,
		   size_t errlen)
{
	int rc;

	while (t->state == DML_TRACE_RUNNING) {
		if (t->pending) {
			t->pending = false;
		} else {
			rc = read_line(t);
			if (rc < 0)
				break;
			if (!rc) {
				if (!t->nr_req)
					bad_file(t, -EINVAL, "no records");
				else
					t->state = DML_TRACE_ENDED;
				break;
			}
		}
		if (is_blank(t->line))
			continue;
		rc = parsers[t->fmt](t, req);
		if (rc == 1) {
			req->line = t->lineno;
			t->nr_req++;
			return 1;
		}
	}
	rc = t->state;
	if (rc == DML_TRACE_ENDED)
		return 0;
	copy_err(err, errlen, t->msg);
	return rc;
}

void dml_trace_usage(FILE *f)
{
	fprintf(f,
		"      --format FMT         trace format: auto (default: from the first\n"
		"                           record), disksim, fio, msr (MSR Cambridge / SNIA\n"
		"                           CSV), blkparse (text; C events only), alibaba,\n"
		"                           tencent (CBS CSV); see data/traces/README.md\n");
}

void dml_trace_close(struct dml_trace *t)
{
	u32 i;

	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	for (i = 0; i < t->nr_files; i++)
		free(t->files[i]);
	free(t->files);
	free(t->path);
	free(t);
}

const char *dml_trace_format_name(const struct dml_trace *t)
{
	return fmt_names[t->fmt];
}

u64 dml_trace_nr_requests(const struct dml_trace *t)
{
	return t->nr_req;
}

int dml_trace_position(const struct dml_trace *t, u64 *done, u64 *total)
{
	struct stat st;
	off_t at;

	if (fstat(t->fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0)
		return -ESPIPE;
	at = lseek(t->fd, 0, SEEK_CUR);
	if (at < 0)
		return -ESPIPE;
	*total = (u64)st.st_size;
	*done = (u64)at - (t->end - t->start);
	return 0;
}
