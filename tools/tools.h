/* SPDX-License-Identifier: MIT */
/*
 * tools.h - the subcommands of the dmalink command, one file each:
 * replay.c, bench.c, layout.c, topo.c.  Each takes its own argv (argv[0] is the
 * subcommand) and returns the process exit code: 0 success, 1 a failed
 * check (fault, mismatch), 2 bad usage or input.
 *
 * Also the few helpers every tool shares (util.c): the tools see only the
 * library's public headers, so they keep their own.
 */
#ifndef DML_TOOLS_H
#define DML_TOOLS_H

#include <stddef.h>

#include <dmalink/dma-mapping.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))

int dml_cmd_replay(int argc, char **argv);
int dml_cmd_bench(int argc, char **argv);
int dml_cmd_layout(int argc, char **argv);
int dml_cmd_topo(int argc, char **argv);

/**
 * dml_tool_parse_u64 - strict unsigned number, the one parser of the tools
 * @s: the text; all of it must be the number
 * @base: 10 for decimal only (trace fields: "0x10" and "010" are refused
 *	or read as decimal), 0 for strtoull()'s C forms (options: 4096,
 *	0x1000, 010 in octal)
 * @val: out: the number, written only on success
 *
 * Unlike strtoull() alone, refuses a sign, leading white space, an empty
 * string and trailing characters, and never wraps a negative number.
 *
 * Return: 0; -ERANGE if the number does not fit in 64 bits; -EINVAL for
 * anything else that is not a number in @base.
 */
int dml_tool_parse_u64(const char *s, int base, u64 *val);

/*
 * dml_tool_clock_cost - what six CLOCK_MONOTONIC reads t0..t5 cost the two
 * views a timed section takes from them: *@outer_ns of (t2 - t0) +
 * (t5 - t3) and *@inner_ns of (t2 - t1) + (t4 - t3), in ns, with no work
 * between the reads (the median of 2001 tries), to subtract from the same
 * views around real work
 */
void dml_tool_clock_cost(u64 *outer_ns, u64 *inner_ns);

/**
 * dml_tool_read_file - read a whole file into memory
 * @path: file to read
 * @buf: out: the bytes (not NUL-terminated), to free(); set on success only
 * @len: out: bytes in @buf
 *
 * Return: 0; -errno from fopen(3) (-ENOENT, -EACCES ...); -ENOMEM.
 */
int dml_tool_read_file(const char *path, char **buf, size_t *len);

#endif /* DML_TOOLS_H */
