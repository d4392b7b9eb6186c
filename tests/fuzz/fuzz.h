/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what every libFuzzer harness of tests/fuzz shares: the entry
 * points libFuzzer calls, and a log sink that keeps the library's
 * warnings (expected on malformed input) off the fuzzer's output.
 */
#ifndef DML_FUZZ_H
#define DML_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* dml_set_log() sink that drops every message */
static inline void fuzz_quiet(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	(void)msg;
}

#endif /* DML_FUZZ_H */
