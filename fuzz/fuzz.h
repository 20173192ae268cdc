/* fuzz.h: the libFuzzer entry points, declared once for every fuzz target
 * and for replay.c, which drives the same targets without libFuzzer. */
#ifndef SEALMAIL_FUZZ_H
#define SEALMAIL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Called once before the first input; may abort() if the harness cannot
 * be set up (a fixture is missing), never because of an input. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Runs one input. Returns 0; a contract violation or memory error aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A contract the target checks besides memory safety: when it is broken,
 * says which (and in which target) and aborts, so that libFuzzer keeps the
 * input and the corpus replay fails. */
#define fuzz_check(ok, what) fuzz_check_at((ok), (what), __FILE__)

static inline void fuzz_check_at(int ok, const char *what, const char *file)
{
	if (!ok) {
		fprintf(stderr, "%s: contract broken: %s\n", file, what);
		abort();
	}
}

#endif
