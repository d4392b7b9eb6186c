/* SPDX-License-Identifier: MIT */
/*
 * tools.h - the subcommands of the dmalink command, one file each:
 * replay.c, bench.c, layout.c, topo.c.  Each takes its own argv (argv[0] is the
 * subcommand) and returns the process exit code: 0 success, 1 a failed
 * check (fault, mismatch), 2 bad usage or input.
 */
#ifndef DML_TOOLS_H
#define DML_TOOLS_H

#include <dmalink/dma-mapping.h>

#ifndef min
#define min(a, b) ((a) < (b) ? (a) : (b))
#endif

int dml_cmd_replay(int argc, char **argv);
int dml_cmd_bench(int argc, char **argv);
int dml_cmd_layout(int argc, char **argv);
int dml_cmd_topo(int argc, char **argv);

#endif /* DML_TOOLS_H */
