/* SPDX-License-Identifier: MIT */
/*
 * test_trace.c - the block-trace reader (tools/trace.c, included whole, as
 * reference/style.md C12 says): the shipped traces parse completely with
 * the counts data/traces/README.md gives, and every malformed input of
 * real-inputs.md §1a "parsing traps" (written to a temporary file) gives
 * -EINVAL and "FILE:LINE: what" with the right line.
 *
 * Runs with the project root as the working directory.
 */
#include <stdlib.h>	/* before testutil.h, which uses getenv() */
#include <sys/stat.h>

#include "testutil.h"

/*
 * The reader allocates with calloc(); route it through the library's
 * fault-injection hook so test_fail_nth can fail each allocation in turn.
 */
#define calloc(n, size) (dml__should_fail() ? NULL : calloc(n, size))
#include "../../../tools/trace.c"
#include "../../../tools/trace_formats.c"
#undef calloc
#include "../../../tools/util.c"

#define MAX_REQ (64ULL << 20)	/* what replay passes: 64 MiB */

struct tmpfile {
	char path[64];
};

static void tmp_write(struct tmpfile *tf, const void *data, size_t len)
{
	int fd;

	snprintf(tf->path, sizeof(tf->path), "/tmp/dml-trace-XXXXXX");
	fd = mkstemp(tf->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void tmp_str(struct tmpfile *tf, const char *s)
{
	tmp_write(tf, s, strlen(s));
}

static void tmp_remove(struct tmpfile *tf)
{
	unlink(tf->path);
}

struct counts {
	u64 records, reads, writes, bytes, last_line;
	struct dml_trace_req first, last;
	int rc;			/* what ended the read: 0 or -errno */
	char err[512];
};

/* Read a whole trace, counting; @c->rc says how it ended. */
static int read_all(const char *path, u64 max_bytes, struct counts *c)
{
	struct dml_trace_req req;
	struct dml_trace *t;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = dml_trace_open(path, max_bytes, &t, c->err, sizeof(c->err));
	if (rc) {
		assert_null(t);
		c->rc = rc;
		return rc;
	}
	while ((rc = dml_trace_next(t, &req, c->err, sizeof(c->err))) == 1) {
		assert_true(req.bytes >= 1 && req.bytes <= max_bytes);
		assert_true(req.offset + (req.bytes - 1) >= req.offset);
		assert_true(req.line > c->last_line);
		if (!c->records)
			c->first = req;
		c->last = req;
		c->last_line = req.line;
		c->records++;
		c->bytes += req.bytes;
		if (req.write)
			c->writes++;
		else
			c->reads++;
	}
	assert_int_equal(dml_trace_nr_requests(t), c->records);
	dml_trace_close(t);
	c->rc = rc;
	return rc;
}

/* @c->err must be "PATH:LINE: " followed by a text containing @what */
static void assert_err(const struct counts *c, const char *path, long line,
		       const char *what)
{
	char prefix[128];

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%ld: ", path, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	if (strncmp(c->err, prefix, strlen(prefix)) || !strstr(c->err, what))
		fail_msg("message '%s', expected '%s...%s'", c->err, prefix, what);
}

/* ---- the shipped traces ---- */

static void test_tpcc_small(void **state)
{
	struct counts c;

	(void)state;
	assert_int_equal(read_all("data/traces/mqsim/tpcc-small.trace", MAX_REQ, &c), 0);
	assert_int_equal(c.records, 6999);
	assert_int_equal(c.reads, 4381);
	assert_int_equal(c.writes, 2618);
	assert_int_equal(c.bytes, 59718656);
	/* first line: 938513000 4 264719034 16 0 */
	assert_int_equal(c.first.time_ns, 938513000);
	assert_int_equal(c.first.dev, 4);
	assert_int_equal(c.first.offset, 264719034ULL * 512);
	assert_int_equal(c.first.bytes, 16 * 512);
	assert_true(c.first.write);
	assert_int_equal(c.first.line, 1);
	/* last line: 1075002000 7 160057354 16 0 */
	assert_int_equal(c.last.time_ns, 1075002000);
	assert_int_equal(c.last.dev, 7);
	assert_int_equal(c.last.offset, 160057354ULL * 512);
	assert_int_equal(c.last.line, 6999);
}

static void test_wsrch_small_no_final_newline(void **state)
{
	const char *path = "data/traces/mqsim/wsrch-small.trace";
	struct counts c;
	struct stat st;
	char last;
	FILE *f;

	(void)state;
	/* the trap this trace sets: no '\n' after the last record */
	assert_int_equal(stat(path, &st), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, st.st_size - 1, SEEK_SET), 0);
	last = (char)fgetc(f);
	fclose(f);
	assert_true(last != '\n');

	assert_int_equal(read_all(path, MAX_REQ, &c), 0);
	assert_int_equal(c.records, 24783);
	assert_int_equal(c.reads, 24779);
	assert_int_equal(c.writes, 4);
	assert_int_equal(c.bytes, 382117888);
	/* last line, without newline: 60066625000 1 34371424 64 1 */
	assert_int_equal(c.last.line, 24783);
	assert_int_equal(c.last.time_ns, 60066625000ULL);
	assert_int_equal(c.last.dev, 1);
	assert_int_equal(c.last.offset, 34371424ULL * 512);
	assert_int_equal(c.last.bytes, 64 * 512);
	assert_false(c.last.write);
}

static void test_wsrch_small_max_bytes(void **state)
{
	struct counts c;

	(void)state;
	/* its largest request is 1,137,664 bytes (2222 sectors) */
	assert_int_equal(read_all("data/traces/mqsim/wsrch-small.trace",
				  1137664, &c), 0);
	assert_int_equal(c.records, 24783);
	assert_int_equal(read_all("data/traces/mqsim/wsrch-small.trace",
				  1137663, &c), -EINVAL);
	assert_true(strstr(c.err, "size 1137664 exceeds the maximum request of 1137663 bytes"));
}

static void test_fio_fixture(void **state)
{
	struct dml_trace_req req;
	struct dml_trace *t;
	char err[256];
	int i;

	(void)state;
	assert_int_equal(dml_trace_open("data/traces/fio/t0038.iolog", MAX_REQ,
					&t, err, sizeof(err)), 0);
	assert_string_equal(dml_trace_format_name(t), "fio-v3");
	/* 10 writes of 4 KiB at 0, 4096, ... on /dev/null; the 2 GiB trims
	 * between them carry no data and are not held to max_bytes */
	for (i = 0; i < 10; i++) {
		assert_int_equal(dml_trace_next(t, &req, err, sizeof(err)), 1);
		assert_true(req.write);
		assert_int_equal(req.dev, 0);
		assert_int_equal(req.offset, 4096ULL * i);
		assert_int_equal(req.bytes, 4096);
		assert_int_equal(req.line, 5 + 2 * i);
	}
	assert_int_equal(dml_trace_next(t, &req, err, sizeof(err)), 0);
	assert_int_equal(dml_trace_next(t, &req, err, sizeof(err)), 0);
	dml_trace_close(t);

	/* first write: "10752 /dev/null write 0 4096" */
	assert_int_equal(dml_trace_open("data/traces/fio/t0038.iolog", MAX_REQ,
					&t, err, sizeof(err)), 0);
	assert_int_equal(dml_trace_next(t, &req, err, sizeof(err)), 1);
	assert_int_equal(req.time_ns, 10752000);
	dml_trace_close(t);
}

static void test_disksim_format_name(void **state)
{
	struct dml_trace *t;

	(void)state;
	assert_int_equal(dml_trace_open("data/traces/mqsim/tpcc-small.trace",
					MAX_REQ, &t, NULL, 0), 0);
	assert_string_equal(dml_trace_format_name(t), "disksim");
	dml_trace_close(t);
}

/* ---- small well-formed inputs ---- */

static void test_last_line_without_newline(void **state)
{
	struct tmpfile tf;
	struct counts c;

	(void)state;
	tmp_str(&tf, "1 0 0 8 1\n2 3 8 8 0");
	assert_int_equal(read_all(tf.path, MAX_REQ, &c), 0);
	assert_int_equal(c.records, 2);
	assert_int_equal(c.last.line, 2);
	assert_true(c.last.write);
	assert_int_equal(c.last.dev, 3);
	assert_int_equal(c.last.offset, 4096);
	assert_int_equal(c.last.bytes, 4096);
	tmp_remove(&tf);
}

static void test_blank_lines_crlf_and_tabs(void **state)
{
	struct tmpfile tf;
	struct counts c;

	(void)state;
	tmp_str(&tf, "\n  \n1\t0 0  8 1\r\n\r\n\t2 0 8 8 0 \n\n");
	assert_int_equal(read_all(tf.path, MAX_REQ, &c), 0);
	assert_int_equal(c.records, 2);
	assert_int_equal(c.first.line, 3);
	assert_int_equal(c.last.line, 5);
	tmp_remove(&tf);
}

static void test_fio_v2(void **state)
{
	struct tmpfile tf;
	struct counts c;

	(void)state;
	tmp_str(&tf, "fio version 2 iolog\n"
		     "/a add\n/b add\n/a open\n/b open\n"
		     "/a read 0 512\n/b write 512 1024\n/b sync\n/a trim 0 4096\n"
		     "/a close\n/b close\n");
	assert_int_equal(read_all(tf.path, MAX_REQ, &c), 0);
	assert_int_equal(c.records, 2);
	assert_false(c.first.write);
	assert_int_equal(c.first.dev, 0);
	assert_int_equal(c.first.time_ns, 0);
	assert_int_equal(c.first.bytes, 512);
	assert_true(c.last.write);
	assert_int_equal(c.last.dev, 1);
	assert_int_equal(c.last.offset, 512);
	assert_int_equal(c.last.line, 7);
	tmp_remove(&tf);
}

static void test_fio_v3_actions(void **state)
{
	struct tmpfile tf;
	struct counts c;

	(void)state;
	tmp_str(&tf, "fio version 3 iolog\n"
		     "0 f add\n1 f open\n2 f datasync\n3 f sync 0 0\n"
		     "4 f sync_file_range 0 4096\n5 f wait 0 100\n"
		     "6 f trim 0 18446744073709551615\n"
		     "7 f read 18446744073709547520 4096\n8 f close\n");
	assert_int_equal(read_all(tf.path, MAX_REQ, &c), 0);
	assert_int_equal(c.records, 1);
	assert_int_equal(c.first.time_ns, 7000);
	assert_int_equal(c.first.offset, 18446744073709547520ULL);
	assert_int_equal(c.first.line, 9);
	tmp_remove(&tf);
}

static void test_longest_line_accepted(void **state)
{
	char *buf = malloc(DML_TRACE_MAX_LINE + 2);
	struct tmpfile tf;
	struct counts c;

	(void)state;
	assert_non_null(buf);
	memset(buf, ' ', DML_TRACE_MAX_LINE);
	memcpy(buf, "1 0 0 8 1", 9);
	buf[DML_TRACE_MAX_LINE] = '\n';
	tmp_write(&tf, buf, DML_TRACE_MAX_LINE + 1);
	assert_int_equal(read_all(tf.path, MAX_REQ, &c), 0);
	assert_int_equal(c.records, 1);
	tmp_remove(&tf);
	free(buf);
}

/* ---- malformed inputs: one table, each row a trap ---- */

struct bad_case {
	const char *name;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	int open_rc;		/* what dml_trace_open() returns */
	u64 records;		/* good records before the error */
	long line;		/* line the message names; 0: none */
	const char *what;	/* a piece of the message */
};

static const struct bad_case bad_cases[] = {
	{ "empty file", "", 0, -EINVAL, 0, 0, "no records (the file is empty or blank)" },
	{ "blank lines only", "\n \n\t\r\n", 0, -EINVAL, 0, 0, "no records" },
	{ "fio header only", "fio version 3 iolog\n", 0, 0, 0, 0, "no records" },
	{ "fio without requests", "fio version 3 iolog\n1 f add\n2 f open\n3 f close\n",
	  0, 0, 0, 0, "no records" },
	{ "garbage first line", "hello world\n1 0 0 8 1\n", 0, -EINVAL, 0, 1,
	  "unrecognised trace format" },
	{ "binary first line", "\x7f" "ELF\x02\x01\x01", 0, -EINVAL, 0, 1,
	  "unrecognised trace format" },
	{ "garbage field", "1 0 0 8 1\n2 0 abc 8 1\n", 0, 0, 1, 2,
	  "start sector is not a decimal number ('abc')" },
	{ "garbage after a number", "1 0 0 8x 1\n", 0, 0, 0, 1,
	  "size in sectors is not a decimal number ('8x')" },
	{ "hex number", "1 0x10 0 8 1\n", 0, 0, 0, 1,
	  "device number is not a decimal number ('0x10')" },
	{ "plus sign", "1 0 +5 8 1\n", 0, 0, 0, 1, "start sector is not a decimal number ('+5')" },
	{ "negative size", "1 0 0 8 1\n1 0 0 8 1\n3 0 0 -8 1\n", 0, 0, 2, 3,
	  "size in sectors is negative ('-8')" },
	{ "negative time", "5 0 0 8 1\n-5 0 0 8 1\n", 0, 0, 1, 2, "arrival time is negative" },
	{ "overflowing number", "1 0 99999999999999999999 8 1\n", 0, 0, 0, 1,
	  "start sector does not fit in 64 bits ('99999999999999999999')" },
	{ "sector past 2^64 bytes", "1 0 36028797018963968 8 1\n", 0, 0, 0, 1,
	  "start sector 36028797018963968 is past 2^64 bytes" },
	{ "request ends past 2^64", "1 0 36028797018963967 2 1\n", 0, 0, 0, 1,
	  "ends past 2^64" },
	{ "huge size", "1 0 0 8 1\n2 0 0 8388608 1\n", 0, 0, 1, 2,
	  "size 4294967296 exceeds the maximum request of 67108864 bytes" },
	{ "size past 2^64 bytes", "1 0 0 36028797018963968 1\n", 0, 0, 0, 1,
	  "size of 36028797018963968 sectors is past 2^64 bytes" },
	{ "size 0", "1 0 0 0 1\n", 0, 0, 0, 1, "size 0" },
	{ "device past 32 bits", "1 4294967296 0 8 1\n", 0, 0, 0, 1,
	  "device number 4294967296 does not fit in 32 bits" },
	{ "truncated line", "1 0 0 8 1\n2 0 0 8\n", 0, 0, 1, 2,
	  "truncated line: 4 of the 5 fields" },
	{ "truncated last line, no newline", "1 0 0 8 1\n2 0 0", 0, 0, 1, 2,
	  "truncated line: 3 of the 5 fields" },
	{ "extra field", "1 0 0 8 1 7\n", 0, 0, 0, 1, "more than the 5 fields" },
	{ "bad type", "1 0 0 8 1\n\n2 0 0 8 2\n", 0, 0, 1, 3,
	  "type must be 0 (write) or 1 (read), not '2'" },
	{ "letter type", "1 0 0 8 R\n", 0, 0, 0, 1, "not 'R'" },
	{ "type 00", "1 0 0 8 00\n", 0, 0, 0, 1, "not '00'" },
	{ "NUL byte", "1 0 0 8 1\n1 0\0 0 8 1\n", 21, 0, 1, 2, "NUL byte" },
	{ "NUL byte in last line", "1 0 0 8 1\n1 0 0 8 1\0", 20, 0, 1, 2, "NUL byte" },
	{ "fio version 4", "fio version 4 iolog\n", 0, -EINVAL, 0, 1,
	  "fio iolog version '4' is not supported" },
	{ "fio bad header", "fio iolog\n", 0, -EINVAL, 0, 1, "unrecognised header" },
	{ "fio unknown action", "fio version 3 iolog\n1 f add\n2 f frobnicate 0 1\n",
	  0, 0, 0, 3, "unknown action 'frobnicate'" },
	{ "fio file before add", "fio version 3 iolog\n1 f add\n2 g write 0 4096\n",
	  0, 0, 0, 3, "file 'g' is used before its 'add' line" },
	{ "fio truncated write", "fio version 3 iolog\n1 f add\n2 f write 0\n",
	  0, 0, 0, 3, "truncated line: 'write' has an offset but no length" },
	{ "fio write without range", "fio version 3 iolog\n1 f add\n2 f write\n",
	  0, 0, 0, 3, "truncated line: 'write' needs an offset and a length" },
	{ "fio truncated trim", "fio version 3 iolog\n1 f add\n2 f trim\n",
	  0, 0, 0, 3, "'trim' needs an offset and a length" },
	{ "fio add with range", "fio version 3 iolog\n1 f add 0 4096\n",
	  0, 0, 0, 2, "'add' takes no offset and length" },
	{ "fio missing time", "fio version 3 iolog\nf add\n", 0, 0, 0, 2,
	  "truncated line: 2 fields" },
	{ "fio garbage time", "fio version 3 iolog\nf add x\n", 0, 0, 0, 2,
	  "time is not a decimal number ('f')" },
	{ "fio time past 2^64 ns", "fio version 3 iolog\n18446744073709552 f add\n",
	  0, 0, 0, 2, "time 18446744073709552 us is past 2^64 ns" },
	{ "fio negative offset", "fio version 3 iolog\n1 f add\n2 f read -4096 4096\n",
	  0, 0, 0, 3, "offset is negative ('-4096')" },
	{ "fio huge length", "fio version 3 iolog\n1 f add\n2 f read 0 4294967296\n",
	  0, 0, 0, 3, "size 4294967296 exceeds the maximum request of 67108864 bytes" },
	{ "fio zero length", "fio version 3 iolog\n1 f add\n2 f read 0 0\n",
	  0, 0, 0, 3, "size 0" },
	{ "fio read past 2^64", "fio version 3 iolog\n1 f add\n2 f read 18446744073709551615 512\n",
	  0, 0, 0, 3, "ends past 2^64" },
	{ "fio trim past 2^64", "fio version 3 iolog\n1 f add\n2 f trim 18446744073709551615 2\n",
	  0, 0, 0, 3, "ends past 2^64" },
	{ "fio extra field", "fio version 3 iolog\n1 f add\n2 f read 0 512 9\n",
	  0, 0, 0, 3, "more than the 5 fields" },
	{ "fio v2 extra field", "fio version 2 iolog\nf add\nf read 0 512 9\n",
	  0, 0, 0, 3, "more than the 4 fields" },
	/* MSR Cambridge CSV */
	{ "msr bad type", "1,hm,0,Read,0,512,9\n2,hm,0,Trim,0,512,9\n", 0, 0, 1, 2,
	  "msr: type must be Read or Write, not 'Trim'" },
	{ "msr missing field", "1,hm,0,Read,0,512,9\n2,hm,0,Read,0,512\n", 0, 0, 1, 2,
	  "msr: truncated line: 6 of the 7 fields" },
	{ "msr extra field", "1,hm,0,Read,0,512,9\n1,hm,0,Read,0,512,9,7\n", 0, 0, 1, 2,
	  "msr: more than the 7 fields" },
	{ "msr empty host", "1,,0,Read,0,512,9\n", 0, 0, 0, 1, "msr: empty host name" },
	{ "msr negative offset", "1,hm,0,Write,-4096,512,9\n", 0, 0, 0, 1,
	  "msr: offset is negative" },
	{ "msr size 0", "1,hm,0,Write,0,0,9\n", 0, 0, 0, 1, "msr: size 0" },
	{ "msr time past 2^64 ns", "184467440737095517,hm,0,Read,0,512,9\n", 0, 0, 0, 1,
	  "msr: timestamp (100 ns units) 184467440737095517 is past 2^64" },
	/* Alibaba CSV */
	{ "alibaba bad opcode", "1,R,0,4096,5\n1,X,0,4096,6\n", 0, 0, 1, 2,
	  "alibaba: opcode must be R or W, not 'X'" },
	{ "alibaba device past 32 bits", "4294967296,W,0,4096,5\n", 0, 0, 0, 1,
	  "alibaba: device id 4294967296 does not fit in 32 bits" },
	{ "alibaba length 0", "1,W,0,0,5\n", 0, 0, 0, 1, "alibaba: size 0" },
	{ "alibaba garbage time", "1,W,0,512,5s\n", 0, 0, 0, 1,
	  "alibaba: timestamp is not a decimal number ('5s')" },
	/* Tencent CSV */
	{ "tencent bad iotype", "1538323200,8,8,0,1063\n1538323200,8,8,2,1063\n", 0, 0, 1, 2,
	  "tencent: IOType must be 0 (read) or 1 (write), not '2'" },
	{ "tencent offset past 2^64", "1,36028797018963968,8,0,1\n", 0, 0, 0, 1,
	  "tencent: offset (sectors) 36028797018963968 is past 2^64" },
	{ "tencent size over max", "1,0,262144,0,1\n", 0, 0, 0, 1,
	  "tencent: size 134217728 exceeds the maximum request" },
	{ "tencent missing field", "1,0,8,0\n", 0, -EINVAL, 0, 1,
	  "unrecognised trace format" },
	/* blkparse text */
	{ "blkparse bad device", "8,0 0 1 0.1 5 C W 8 + 8 [0]\n8,x 0 2 0.2 5 Q W 8 + 8 [a]\n",
	  0, 0, 1, 2, "blkparse: device minor is not a decimal number ('x')" },
	{ "blkparse minor past 20 bits", "8,1048576 0 1 0.1 5 C W 8 + 8 [0]\n", 0, 0, 0, 1,
	  "blkparse: device 8,1048576 is past the 12-bit major or 20-bit minor" },
	{ "blkparse time without fraction", "8,0 0 1 12 5 C W 8 + 8 [0]\n", 0, 0, 0, 1,
	  "blkparse: time must be 'seconds.nanoseconds'" },
	{ "blkparse time fraction of 10 digits", "8,0 0 1 1.0123456789 5 C W 8 + 8 [0]\n",
	  0, 0, 0, 1, "blkparse: time fraction must have 1 to 9 digits" },
	{ "blkparse truncated", "8,0 0 1 0.1 5\n", 0, 0, 0, 1,
	  "blkparse: truncated line: 5 of the fields" },
	{ "blkparse bad action", "8,0 0 1 0.1 5 C W 8 + 8 [0]\n8,0 0 2 0.2 5 Q3 W 8 + 8 [a]\n",
	  0, 0, 1, 2, "blkparse: action must be one or two letters, not 'Q3'" },
	{ "blkparse bad rwbs", "8,0 0 1 0.1 5 C WX 8 + 8 [0]\n", 0, 0, 0, 1,
	  "blkparse: rwbs letter 'X' is none of" },
	{ "blkparse C without rwbs", "8,0 0 1 0.1 5 C\n", 0, 0, 0, 1,
	  "blkparse: C event without its rwbs" },
	{ "blkparse C without error", "8,0 0 1 0.1 5 C W 8 + 8\n", 0, 0, 0, 1,
	  "blkparse: C event without its '[error]'" },
	{ "blkparse C bad error", "8,0 0 1 0.1 5 C W 8 + 8 (12) [x]\n", 0, 0, 0, 1,
	  "blkparse: error is not a decimal number ('x')" },
	{ "blkparse C unclosed elapsed", "8,0 0 1 0.1 5 C W 8 + 8 ( 12 0)[0]\n", 0, 0, 0, 1,
	  "blkparse: C event without its '[error]'" },
	{ "blkparse C extra field", "8,0 0 1 0.1 5 C W 8 + 8 (12) [0] 9\n", 0, 0, 0, 1,
	  "blkparse: more than 'sector + count (elapsed) [error]'" },
	{ "blkparse C bad sector", "8,0 0 1 0.1 5 C R -8 + 8 [0]\n", 0, 0, 0, 1,
	  "blkparse: sector is negative" },
	{ "blkparse only queued", "8,0 0 1 0.1 5 Q W 8 + 8 [a]\n", 0, 0, 0, 0, "no records" },
};

/* ---- MSR, blkparse, Alibaba, Tencent (trace_formats.c) ---- */

/*
 * One record of each: units as the traces' READMEs give them (MSR FILETIME
 * in 100 ns and bytes; Alibaba bytes and µs; Tencent 512-byte sectors and
 * s, IOType 0 = read), detected from the first line.
 */
static void test_csv_formats(void **state)
{
	static const struct {
		const char *text, *fmt;
		u64 time_ns, offset, bytes;
		u32 dev;
		bool write;
	} cases[] = {
		{ "128166372003061629,hm,1,Read,3154152960,32768,1331\n", "msr",
		  12816637200306162900ULL, 3154152960ULL, 32768, 1, false },
		{ " 7 , hm , 2 , write , 4096 , 512 , 0 \r\n", "msr", 700, 4096, 512, 2,
		  true },
		{ "242,W,1073741824,4096,1577808000000123\n", "alibaba",
		  1577808000000123000ULL, 1073741824ULL, 4096, 242, true },
		{ "1538323200,397040240,256,0,1063\n", "tencent",
		  1538323200000000000ULL, 397040240ULL * 512, 256 * 512, 1063, false },
	};
	struct dml_trace_req req;
	struct dml_trace *t;
	struct tmpfile tf;
	char err[512];
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		tmp_str(&tf, cases[i].text);
		assert_int_equal(dml_trace_open(tf.path, MAX_REQ, &t, err,
						sizeof(err)), 0);
		assert_string_equal(dml_trace_format_name(t), cases[i].fmt);
		assert_int_equal(dml_trace_next(t, &req, err, sizeof(err)), 1);
		assert_int_equal(req.time_ns, cases[i].time_ns);
		assert_int_equal(req.offset, cases[i].offset);
		assert_int_equal(req.bytes, cases[i].bytes);
		assert_int_equal(req.dev, cases[i].dev);
		assert_int_equal(req.write, cases[i].write);
		assert_int_equal(dml_trace_next(t, &req, err, sizeof(err)), 0);
		dml_trace_close(t);
		tmp_remove(&tf);
	}
}

/*
 * blkparse: only C events become requests (trace_formats.c says why);
 * failed, data-less (flush), discard and N completions are skipped, and
 * so is everything from the closing summary on.
 */
static void test_blkparse(void **state)
{
	struct dml_trace_req req;
	struct dml_trace *t;
	struct tmpfile tf;
	char err[512];

	(void)state;
	tmp_str(&tf,
		"  8,0    3        1     0.000000000   697  Q  WS 223490 + 8 [kjournald]\n"
		"  8,0    3        2     0.000001000   697  G  WS 223490 + 8 [kjournald]\n"
		"  8,0    3        3     0.000002000   697  D  WS 223490 + 8 [kjournald]\n"
		"  8,0    0        0     0.000003000     0  m   N cfq697 insert_request\n"
		"  8,0    3        4     0.000004000     0  C  FN 0 [0]\n"
		"  8,0    3        5     0.000005000     0  C  D 64 + 8 [0]\n"
		"  8,0    3        6     0.000006000     0  C  R 64 + 8 [-5]\n"
		"  8,0    3        7     0.000007000     0  C  R 64 + 8 [5]\n"
		"  8,0    3        8     1.5     0  C  WS 223490 + 8 [0]\n"
		"259,3    1        9     2.000000042     0  C  RA 16 + 256 (  120) [0]\n"
		"CPU3 (8,0):\n"
		" Reads Queued:           0,        0KiB\t Writes Queued:           1,        4KiB\n"
		"Total (8,0):\n"
		"Throughput (R/W): 0KiB/s / 4KiB/s\n");
	assert_int_equal(dml_trace_open(tf.path, MAX_REQ, &t, err, sizeof(err)), 0);
	assert_int_equal(dml_trace_next(t, &req, err, sizeof(err)), 1);
	assert_string_equal(dml_trace_format_name(t), "blkparse");
	assert_int_equal(req.line, 9);
	assert_true(req.write);
	assert_int_equal(req.time_ns, 1500000000);
	assert_int_equal(req.dev, 8u << 20);
	assert_int_equal(req.offset, 223490ULL * 512);
	assert_int_equal(req.bytes, 4096);
	assert_int_equal(dml_trace_next(t, &req, err, sizeof(err)), 1);
	assert_false(req.write);
	assert_int_equal(req.time_ns, 2000000042);
	assert_int_equal(req.dev, 259u << 20 | 3);
	assert_int_equal(req.bytes, 256 * 512);
	assert_int_equal(dml_trace_next(t, &req, err, sizeof(err)), 0);
	dml_trace_close(t);
	tmp_remove(&tf);
}

/* --format: forces a reading, rejects unknown names, and "fio" needs its header. */
static void test_forced_format(void **state)
{
	struct dml_trace_req req;
	struct dml_trace *t;
	struct tmpfile tf;
	char err[512];

	(void)state;
	tmp_str(&tf, "1538323200,8,8,0,1063\n");
	assert_int_equal(dml_trace_open_format(tf.path, "tencent", MAX_REQ, &t,
					       err, sizeof(err)), 0);
	assert_int_equal(dml_trace_next(t, &req, err, sizeof(err)), 1);
	dml_trace_close(t);
	assert_int_equal(dml_trace_open_format(tf.path, "auto", MAX_REQ, &t,
					       err, sizeof(err)), 0);
	assert_string_equal(dml_trace_format_name(t), "tencent");
	dml_trace_close(t);
	/* the same line read as MSR is malformed, and says so with the format */
	assert_int_equal(dml_trace_open_format(tf.path, "msr", MAX_REQ, &t,
					       err, sizeof(err)), 0);
	assert_int_equal(dml_trace_next(t, &req, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":1: msr: truncated line: 5 of the 7"));
	dml_trace_close(t);
	assert_int_equal(dml_trace_open_format(tf.path, "fio", MAX_REQ, &t,
					       err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unrecognised header"));
	assert_int_equal(dml_trace_open_format(tf.path, "csv", MAX_REQ, &t,
					       err, sizeof(err)), -EINVAL);
	assert_null(t);
	assert_non_null(strstr(err, "unknown trace format"));
	tmp_remove(&tf);
}

/* The shipped fixtures (data/traces/fixtures) read whole, in their format. */
static void test_fixtures(void **state)
{
	static const struct {
		const char *path, *fmt;
		u64 records;
	} f[] = {
		{ "data/traces/fixtures/msr-hm.csv", "msr", 300 },
		{ "data/traces/fixtures/alibaba.csv", "alibaba", 300 },
		{ "data/traces/fixtures/tencent.csv", "tencent", 300 },
		{ "data/traces/fixtures/blkparse-sda.txt", "blkparse", 141 },
	};
	struct dml_trace *t;
	struct counts c;
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		assert_int_equal(dml_trace_open(f[i].path, MAX_REQ, &t, NULL, 0), 0);
		assert_string_equal(dml_trace_format_name(t), f[i].fmt);
		dml_trace_close(t);
		assert_int_equal(read_all(f[i].path, MAX_REQ, &c), 0);
		assert_int_equal(c.records, f[i].records);
		assert_true(c.reads && c.writes);
	}
}

static void test_malformed(void **state)
{
	struct dml_trace_req req;
	struct dml_trace *t;
	char err[512], err2[512];
	struct tmpfile tf;
	struct counts c;
	unsigned int i;
	u64 n;
	int rc;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *b = &bad_cases[i];

		tmp_write(&tf, b->text, b->len ? b->len : strlen(b->text));
		rc = dml_trace_open(tf.path, MAX_REQ, &t, err, sizeof(err));
		if (rc != b->open_rc)
			fail_msg("%s: open returned %d (%s)", b->name, rc, err);
		if (!rc) {
			n = 0;
			while ((rc = dml_trace_next(t, &req, err, sizeof(err))) == 1)
				n++;
			if (rc != -EINVAL || n != b->records)
				fail_msg("%s: %d after %llu records (%s)", b->name,
					 rc, (unsigned long long)n, err);
			/* sticky: the same error again */
			assert_int_equal(dml_trace_next(t, &req, err2, sizeof(err2)),
					 -EINVAL);
			assert_string_equal(err, err2);
			dml_trace_close(t);
		}
		snprintf(c.err, sizeof(c.err), "%s", err);
		assert_err(&c, tf.path, b->line, b->what);
		tmp_remove(&tf);
	}
}

static void test_line_too_long(void **state)
{
	size_t len = DML_TRACE_MAX_LINE + 100;
	char *buf = malloc(len + 20);
	struct tmpfile tf;
	struct counts c;

	(void)state;
	assert_non_null(buf);
	/* first line too long */
	memset(buf, '1', len);
	buf[len] = '\n';
	tmp_write(&tf, buf, len + 1);
	assert_int_equal(read_all(tf.path, MAX_REQ, &c), -EINVAL);
	assert_err(&c, tf.path, 1, "line longer than 65535 bytes");
	tmp_remove(&tf);

	/* third line one byte too long, at the end of the file */
	memcpy(buf, "1 0 0 8 1\n\n", 11);
	memset(buf + 11, ' ', DML_TRACE_MAX_LINE + 1);
	buf[11] = '2';
	tmp_write(&tf, buf, 11 + DML_TRACE_MAX_LINE + 1);
	assert_int_equal(read_all(tf.path, MAX_REQ, &c), -EINVAL);
	assert_int_equal(c.records, 1);
	assert_err(&c, tf.path, 3, "line longer than");
	tmp_remove(&tf);
	free(buf);
}

static void test_open_errors(void **state)
{
	struct dml_trace *t = (void *)1;
	struct counts c;
	char err[256];

	(void)state;
	assert_int_equal(read_all("data/traces/no-such.trace", MAX_REQ, &c), -ENOENT);
	assert_err(&c, "data/traces/no-such.trace", 0, "No such file");
	assert_int_equal(read_all("data/traces", MAX_REQ, &c), -EISDIR);
	assert_err(&c, "data/traces", 0, "read:");
	assert_int_equal(dml_trace_open("data/traces/mqsim/tpcc-small.trace", 0,
					&t, err, sizeof(err)), -EINVAL);
	assert_null(t);
	/* a NULL or short error buffer is fine */
	assert_int_equal(dml_trace_open("nope", MAX_REQ, &t, NULL, 0), -ENOENT);
	assert_int_equal(dml_trace_open("nope", MAX_REQ, &t, err, 4), -ENOENT);
	assert_string_equal(err, "nop");
	dml_trace_close(NULL);
}

/* Every allocation fails in turn: a clean -ENOMEM, no leak, then success. */
static void test_fail_nth(void **state)
{
	struct tmpfile tf;
	struct counts c;
	long n;

	(void)state;
	/* 20 files: the file-name table grows past its first 8 slots */
	{
		char text[2048];
		size_t off;
		int i;

		off = (size_t)snprintf(text, sizeof(text), "fio version 3 iolog\n");
		for (i = 0; i < 20; i++)
			off += (size_t)snprintf(text + off, sizeof(text) - off,
						"%d /f%d add\n", i, i);
		snprintf(text + off, sizeof(text) - off, "99 /f19 read 0 4096\n");
		tmp_str(&tf, text);
	}
	for (n = 1;; n++) {
		dml_fail_nth(n);
		read_all(tf.path, MAX_REQ, &c);
		if (!dml_fail_nth_hit())
			break;
		assert_int_equal(c.rc, -ENOMEM);
		assert_true(strstr(c.err, "out of memory"));
	}
	dml_fail_nth(0);
	assert_true(n > 4);
	assert_int_equal(c.rc, 0);
	assert_int_equal(c.records, 1);
	assert_int_equal(c.first.dev, 19);
	tmp_remove(&tf);
}

/*
 * Random bytes and mutated records from a fixed seed: the reader returns
 * 1, 0 or -EINVAL with a "PATH:" message, and never crashes (run under
 * ASan/UBSan in CI).
 */
static void test_random_inputs(void **state)
{
	static const char alphabet[] = "0123456789 \t\n-+x\r\0#fiowrteadvsn/";
	static const char *const seeds[] = {
		"1 0 0 8 1\n", "fio version 3 iolog\n1 f add\n2 f write 0 4096\n",
		"fio version 2 iolog\nf add\nf read 0 512\n",
	};
	unsigned int seed = 12345, i, j, len;
	char buf[512], err[512];
	struct dml_trace_req req;
	struct dml_trace *t;
	struct tmpfile tf;
	int rc;

	(void)state;
	for (i = 0; i < 3000; i++) {
		if (i % 2) {
			len = (unsigned int)rand_r(&seed) % sizeof(buf);
			for (j = 0; j < len; j++)
				buf[j] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		} else {
			const char *s = seeds[rand_r(&seed) % ARRAY_SIZE(seeds)];

			len = (unsigned int)strlen(s);
			memcpy(buf, s, len);
			for (j = 0; j < 3; j++)
				buf[rand_r(&seed) % len] =
					alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		}
		tmp_write(&tf, buf, len);
		rc = dml_trace_open(tf.path, 1 << 20, &t, err, sizeof(err));
		if (!rc) {
			while ((rc = dml_trace_next(t, &req, err, sizeof(err))) == 1)
				assert_true(req.bytes && req.bytes <= 1 << 20);
			dml_trace_close(t);
		}
		assert_true(rc == 0 || rc == -EINVAL);
		if (rc)
			assert_int_equal(strncmp(err, tf.path, strlen(tf.path)), 0);
		tmp_remove(&tf);
	}
}

/* The tools' one number parser: decimal for traces, C forms for options. */
static void test_parse_u64(void **state)
{
	static const struct {
		const char *s;
		int base, rc;
		u64 val;
	} cases[] = {
		{ "0", 10, 0, 0 },
		{ "18446744073709551615", 10, 0, UINT64_MAX },
		{ "18446744073709551616", 10, -ERANGE, 0 },
		{ "010", 10, 0, 10 },
		{ "0x10", 10, -EINVAL, 0 },
		{ "0x10", 0, 0, 16 },
		{ "010", 0, 0, 8 },
		{ "4096", 0, 0, 4096 },
		{ "-1", 0, -EINVAL, 0 },
		{ "+1", 0, -EINVAL, 0 },
		{ " 1", 0, -EINVAL, 0 },
		{ "1 ", 0, -EINVAL, 0 },
		{ "", 0, -EINVAL, 0 },
		{ "12k", 10, -EINVAL, 0 },
	};
	unsigned int i;
	u64 v;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		v = 12345;
		assert_int_equal(dml_tool_parse_u64(cases[i].s, cases[i].base, &v),
				 cases[i].rc);
		assert_true(v == (cases[i].rc ? 12345 : cases[i].val));
	}
	assert_int_equal(dml_tool_parse_u64(NULL, 0, &v), -EINVAL);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse_u64),
	cmocka_unit_test(test_tpcc_small),
	cmocka_unit_test(test_wsrch_small_no_final_newline),
	cmocka_unit_test(test_wsrch_small_max_bytes),
	cmocka_unit_test(test_fio_fixture),
	cmocka_unit_test(test_disksim_format_name),
	cmocka_unit_test(test_last_line_without_newline),
	cmocka_unit_test(test_blank_lines_crlf_and_tabs),
	cmocka_unit_test(test_fio_v2),
	cmocka_unit_test(test_fio_v3_actions),
	cmocka_unit_test(test_longest_line_accepted),
	cmocka_unit_test(test_csv_formats),
	cmocka_unit_test(test_blkparse),
	cmocka_unit_test(test_forced_format),
	cmocka_unit_test(test_fixtures),
	cmocka_unit_test(test_malformed),
	cmocka_unit_test(test_line_too_long),
	cmocka_unit_test(test_open_errors),
	cmocka_unit_test(test_fail_nth),
	cmocka_unit_test(test_random_inputs),
};

DML_TEST_MAIN(tests)
