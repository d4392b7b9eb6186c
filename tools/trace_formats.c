/* SPDX-License-Identifier: MIT */
/*
 * trace_formats.c - the record parsers for the public block traces that
 * come as CSV or as blkparse text (API in trace.h, reader in trace.c):
 *
 * - MSR Cambridge (SNIA IOTTA 388), one request a line, no header:
 *   Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime with the
 *   time in Windows FILETIME units of 100 ns, Type "Read" or "Write",
 *   offset and size in bytes, the response time in 100 ns (checked, not
 *   used).
 * - Alibaba block traces 2020: device_id,opcode,offset,length,timestamp
 *   with opcode "R" or "W", offset and length in bytes, time in µs.
 * - Tencent CBS 2018: Timestamp,Offset,Size,IOType,VolumeID with the time
 *   in s, offset and size in 512-byte sectors, IOType 0 = read, 1 = write.
 * - blkparse text in its default format: "maj,min cpu seq sec.nsec pid
 *   action rwbs [sector + count] ..." with the per-CPU summary at the end.
 *
 * blkparse: only the C (complete) events are replayed.  A C event carries
 * the request as the device moved it, after the block layer merged and
 * split bios, once per request, and only when it finished; that is the
 * unit the driver maps for DMA (blk_rq_dma_map_iter_start() in
 * block/blk-mq-dma.c works on a request).  Q events are bios before
 * merging: replaying them would map more, smaller buffers than the driver
 * ever did.  The time of a C event is its completion, not its arrival;
 * replay uses the order of the records, not their spacing.  C events with
 * a non-zero error ("[5]" or "[-5]"), without data (flush: no "+ count") or that are not a
 * read or a write (discard "D", "N") are skipped, after their shape is
 * checked.  Every other event line is checked up to its action.
 *
 * Field formats come from the traces' READMEs and blkparse(1); no code of
 * any of them is used here.
 */
#include "trace_int.h"
#include "tools.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#define NS_PER_S 1000000000ULL

/*
 * Cut a CSV line in place at its commas into at most @max fields, blanks
 * around each field removed; return how many there are, up to @max + 1.
 * No quoting: none of these traces quotes a field.
 */
static unsigned int split_csv(char *line, char **tok, unsigned int max)
{
	unsigned int n = 0;
	char *p = line, *end;

	for (;;) {
		while (dml__trace_is_space(*p))
			p++;
		if (n == max)
			return n + 1;
		tok[n++] = p;
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		p = end;
		while (end > tok[n - 1] && dml__trace_is_space(end[-1]))
			end--;
		if (!*p) {
			*end = 0;
			return n;
		}
		*end = 0;
		p++;
	}
}

/* Check the field count of a CSV record; 0 or -EINVAL naming @shape. */
static int csv_fields(struct dml_trace *t, char **tok, unsigned int want,
		      const char *shape)
{
	unsigned int n = split_csv(t->line, tok, want);

	if (n < want)
		return bad_line(t, "truncated line: %u of the %u fields '%s'", n,
				want, shape);
	if (n > want)
		return bad_line(t, "more than the %u fields '%s'", want, shape);
	return 0;
}

/* @v * @mul into @out; -EINVAL naming @what when past 2^64. */
static int scale(struct dml_trace *t, u64 v, u64 mul, const char *what,
		 u64 *out)
{
	if (__builtin_mul_overflow(v, mul, out))
		return bad_line(t, "%s %llu is past 2^64 after scaling by %llu",
				what, (unsigned long long)v,
				(unsigned long long)mul);
	return 0;
}

static int parse_dev(struct dml_trace *t, const char *tok, const char *what,
		     u32 *dev)
{
	u64 v;
	int rc = dml__trace_parse_u64(t, tok, what, &v);

	if (rc)
		return rc;
	if (v > UINT32_MAX)
		return bad_line(t, "%s %llu does not fit in 32 bits", what,
				(unsigned long long)v);
	*dev = (u32)v;
	return 0;
}

/* Fill @req after the size check; return 1. */
static int request(struct dml_trace *t, struct dml_trace_req *req,
		   u64 time_ns, u32 dev, u64 offset, u64 bytes, bool write)
{
	int rc = dml__trace_check_size(t, offset, bytes);

	if (rc)
		return rc;
	req->time_ns = time_ns;
	req->dev = dev;
	req->offset = offset;
	req->bytes = bytes;
	req->write = write;
	return 1;
}

#define MSR_SHAPE "Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime"

int dml__trace_parse_msr(struct dml_trace *t, struct dml_trace_req *req)
{
	u64 ts, time_ns, offset, bytes, resp;
	char *tok[7];
	char s[32];
	bool write;
	u32 dev;
	int rc;

	rc = csv_fields(t, tok, 7, MSR_SHAPE);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[0], "timestamp", &ts);
	if (!rc)
		rc = scale(t, ts, 100, "timestamp (100 ns units)", &time_ns);
	if (rc)
		return rc;
	if (!tok[1][0])
		return bad_line(t, "empty host name");
	rc = parse_dev(t, tok[2], "disk number", &dev);
	if (rc)
		return rc;
	if (!strcasecmp(tok[3], "Write"))
		write = true;
	else if (!strcasecmp(tok[3], "Read"))
		write = false;
	else
		return bad_line(t, "type must be Read or Write, not '%s'",
				dml__trace_show(tok[3], s));
	rc = dml__trace_parse_u64(t, tok[4], "offset", &offset);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[5], "size", &bytes);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[6], "response time", &resp);
	if (rc)
		return rc;
	return request(t, req, time_ns, dev, offset, bytes, write);
}

#define ALIBABA_SHAPE "device_id,opcode,offset,length,timestamp"

int dml__trace_parse_alibaba(struct dml_trace *t, struct dml_trace_req *req)
{
	u64 offset, bytes, time_us, time_ns;
	char *tok[5];
	char s[32];
	u32 dev;
	int rc;

	rc = csv_fields(t, tok, 5, ALIBABA_SHAPE);
	if (!rc)
		rc = parse_dev(t, tok[0], "device id", &dev);
	if (rc)
		return rc;
	if (strcmp(tok[1], "R") && strcmp(tok[1], "W"))
		return bad_line(t, "opcode must be R or W, not '%s'",
				dml__trace_show(tok[1], s));
	rc = dml__trace_parse_u64(t, tok[2], "offset", &offset);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[3], "length", &bytes);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[4], "timestamp", &time_us);
	if (!rc)
		rc = scale(t, time_us, 1000, "timestamp (us)", &time_ns);
	if (rc)
		return rc;
	return request(t, req, time_ns, dev, offset, bytes, tok[1][0] == 'W');
}

#define TENCENT_SHAPE "Timestamp,Offset,Size,IOType,VolumeID"

int dml__trace_parse_tencent(struct dml_trace *t, struct dml_trace_req *req)
{
	u64 time_s, time_ns, lba, nsect, offset, bytes;
	char *tok[5];
	char s[32];
	u32 dev;
	int rc;

	rc = csv_fields(t, tok, 5, TENCENT_SHAPE);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[0], "timestamp", &time_s);
	if (!rc)
		rc = scale(t, time_s, NS_PER_S, "timestamp (s)", &time_ns);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[1], "offset", &lba);
	if (!rc)
		rc = scale(t, lba, DML_SECTOR_SIZE, "offset (sectors)", &offset);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[2], "size", &nsect);
	if (!rc)
		rc = scale(t, nsect, DML_SECTOR_SIZE, "size (sectors)", &bytes);
	if (rc)
		return rc;
	if (strcmp(tok[3], "0") && strcmp(tok[3], "1"))
		return bad_line(t, "IOType must be 0 (read) or 1 (write), not '%s'",
				dml__trace_show(tok[3], s));
	rc = parse_dev(t, tok[4], "volume id", &dev);
	if (rc)
		return rc;
	return request(t, req, time_ns, dev, offset, bytes, tok[3][0] == '1');
}

/* "maj,min" into the kernel's dev_t layout (12-bit major, 20-bit minor). */
static int blk_dev(struct dml_trace *t, char *tok, u32 *dev)
{
	char *comma = strchr(tok, ',');
	u64 maj, min;
	char s[32];
	int rc;

	if (!comma)
		return bad_line(t, "device must be 'major,minor', not '%s'",
				dml__trace_show(tok, s));
	*comma = 0;
	rc = dml__trace_parse_u64(t, tok, "device major", &maj);
	if (!rc)
		rc = dml__trace_parse_u64(t, comma + 1, "device minor", &min);
	if (rc)
		return rc;
	if (maj >= 1u << 12 || min >= 1u << 20)
		return bad_line(t, "device %llu,%llu is past the 12-bit major or 20-bit minor",
				(unsigned long long)maj, (unsigned long long)min);
	*dev = (u32)(maj << 20 | min);
	return 0;
}

/* "sec.nsec" (1 to 9 fraction digits) into ns. */
static int blk_time(struct dml_trace *t, char *tok, u64 *ns)
{
	char *dot = strchr(tok, '.');
	u64 sec, frac = 0;
	size_t len;
	char s[32];
	int rc;

	if (!dot)
		return bad_line(t, "time must be 'seconds.nanoseconds', not '%s'",
				dml__trace_show(tok, s));
	*dot = 0;
	len = strlen(dot + 1);
	if (!len || len > 9)
		return bad_line(t, "time fraction must have 1 to 9 digits");
	rc = dml__trace_parse_u64(t, tok, "time (s)", &sec);
	if (!rc)
		rc = dml__trace_parse_u64(t, dot + 1, "time fraction", &frac);
	if (!rc)
		rc = scale(t, sec, NS_PER_S, "time (s)", ns);
	if (rc)
		return rc;
	for (; len < 9; len++)
		frac *= 10;
	if (__builtin_add_overflow(*ns, frac, ns))
		return bad_line(t, "time is past 2^64 ns");
	return 0;
}

/* Does this line open blkparse's closing summary ("CPU0 (8,0):", "Total (8,0):")? */
static bool blk_summary(const char *line)
{
	while (dml__trace_is_space(*line))
		line++;
	return (!strncmp(line, "CPU", 3) && isdigit((unsigned char)line[3])) ||
	       !strncmp(line, "Total (", 7);
}

/*
 * The part of a C event after its rwbs: "sector + count [(elapsed)]
 * [error]".  Return 1 with @lba, @nsect for a request that moved data
 * without error, 0 for one to skip, -EINVAL.
 */
static int blk_complete(struct dml_trace *t, char *rest, u64 *lba,
			u64 *nsect)
{
	char *tok[8];
	unsigned int n = dml__trace_split(rest, tok, 7), i = 3;
	u64 error;
	char s[32];
	size_t len;
	int rc;

	if (n < 3 || strcmp(tok[1], "+"))
		return 0;	/* no "sector + count": no data (flush) */
	if (n > 7)
		return bad_line(t, "more than 'sector + count (elapsed) [error]' after the rwbs");

	rc = dml__trace_parse_u64(t, tok[0], "sector", lba);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[2], "sector count", nsect);
	if (rc)
		return rc;
	if (i < n && tok[i][0] == '(') {
		/* elapsed time since the issue, "(  120)": not used */
		while (i < n && tok[i][strlen(tok[i]) - 1] != ')')
			i++;
		if (i < n)
			i++;	/* past the token that closes it */
	}
	if (i >= n)
		return bad_line(t, "C event without its '[error]'");
	if (n > i + 1)
		return bad_line(t, "more than 'sector + count (elapsed) [error]' after the rwbs");
	len = strlen(tok[i]);
	if (len < 3 || tok[i][0] != '[' || tok[i][len - 1] != ']')
		return bad_line(t, "expected '[error]', not '%s'",
				dml__trace_show(tok[i], s));
	tok[i][len - 1] = 0;
	/* the kernel's -errno, which some blkparse versions print signed */
	rc = dml__trace_parse_u64(t, tok[i] + 1 + (tok[i][1] == '-'), "error",
				  &error);
	if (rc)
		return rc;
	return error ? 0 : 1;
}

int dml__trace_parse_blkparse(struct dml_trace *t, struct dml_trace_req *req)
{
	u64 cpu, seq, time_ns, pid, lba = 0, nsect = 0, offset, bytes;
	char *tok[7], *rest, *p;
	bool read, write, other = false;
	unsigned int n;
	char s[32];
	u32 dev;
	int rc;

	if (t->blk_tail || blk_summary(t->line)) {
		t->blk_tail = true;	/* the summary: no more events */
		return 0;
	}
	n = dml__trace_split(t->line, tok, 6);
	if (n < 6)
		return bad_line(t, "truncated line: %u of the fields 'maj,min cpu seq time pid action'",
				n);
	rc = blk_dev(t, tok[0], &dev);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[1], "cpu", &cpu);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[2], "sequence number", &seq);
	if (!rc)
		rc = blk_time(t, tok[3], &time_ns);
	if (!rc)
		rc = dml__trace_parse_u64(t, tok[4], "pid", &pid);
	if (rc)
		return rc;
	for (p = tok[5]; *p; p++)
		if (!isalpha((unsigned char)*p))
			break;
	if (*p || strlen(tok[5]) > 2)
		return bad_line(t, "action must be one or two letters, not '%s'",
				dml__trace_show(tok[5], s));
	if (strcmp(tok[5], "C"))
		return 0;	/* only completions are replayed (see above) */
	if (n == 6)
		return bad_line(t, "C event without its rwbs");
	rest = tok[5] + strlen(tok[5]) + 1;
	while (dml__trace_is_space(*rest))
		rest++;
	for (p = rest; *p && !dml__trace_is_space(*p); p++) {
		if (!strchr("FDWRNSMAEBT", *p))
			return bad_line(t, "rwbs letter '%c' is none of FDWRNSMAEBT",
					isprint((unsigned char)*p) ? *p : '?');
		if (*p == 'D' || *p == 'E' || *p == 'N')
			other = true;
	}
	read = memchr(rest, 'R', (size_t)(p - rest));
	write = memchr(rest, 'W', (size_t)(p - rest));
	rc = blk_complete(t, p, &lba, &nsect);
	if (rc <= 0)
		return rc;
	if (other || read == write)
		return 0;	/* discard, N, or neither read nor write */
	rc = scale(t, lba, DML_SECTOR_SIZE, "sector", &offset);
	if (!rc)
		rc = scale(t, nsect, DML_SECTOR_SIZE, "sector count", &bytes);
	if (rc)
		return rc;
	return request(t, req, time_ns, dev, offset, bytes, write);
}

/* Field @k of CSV @line (blanks trimmed) as [*f, *f + *len); false if absent. */
static bool csv_field(const char *line, unsigned int k, const char **f,
		      size_t *len)
{
	const char *end;

	for (; k; k--) {
		line = strchr(line, ',');
		if (!line)
			return false;
		line++;
	}
	while (dml__trace_is_space(*line))
		line++;
	end = strchr(line, ',');
	if (!end)
		end = line + strlen(line);
	while (end > line && dml__trace_is_space(end[-1]))
		end--;
	*f = line;
	*len = (size_t)(end - line);
	return true;
}

static bool csv_field_is(const char *line, unsigned int k, const char *want,
			 bool nocase)
{
	size_t len;
	const char *f;

	if (!csv_field(line, k, &f, &len) || len != strlen(want))
		return false;
	return nocase ? !strncasecmp(f, want, len) : !strncmp(f, want, len);
}

enum dml_trace_fmt dml__trace_guess(const char *line)
{
	unsigned int commas = 0;
	const char *p;

	while (dml__trace_is_space(*line))
		line++;
	if (!isdigit((unsigned char)*line))
		return DML_TRACE_NR_FMT;
	for (p = line; isdigit((unsigned char)*p); p++)
		;
	if (*p == ',' && isdigit((unsigned char)p[1])) {
		for (p++; isdigit((unsigned char)*p); p++)
			;
		if (dml__trace_is_space(*p))
			return DML_TRACE_BLKPARSE;	/* "8,0   3  1 ..." */
	}
	for (p = line; *p; p++)
		commas += *p == ',';
	if (commas == 6 && (csv_field_is(line, 3, "Read", true) ||
			    csv_field_is(line, 3, "Write", true)))
		return DML_TRACE_MSR;
	if (commas == 4 && (csv_field_is(line, 1, "R", false) ||
			    csv_field_is(line, 1, "W", false)))
		return DML_TRACE_ALIBABA;
	if (commas == 4 && (csv_field_is(line, 3, "0", false) ||
			    csv_field_is(line, 3, "1", false)))
		return DML_TRACE_TENCENT;
	if (!commas)
		return DML_TRACE_DISKSIM;
	return DML_TRACE_NR_FMT;
}
