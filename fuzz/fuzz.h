/* fuzz.h: the libFuzzer entry points, declared once for every fuzz target
 * and for replay.c, which drives the same targets without libFuzzer. */
#ifndef SEALMAIL_FUZZ_H
#define SEALMAIL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Called once before the first input; may abort() if the harness cannot
 * be set up (a fixture is missing), never because of an input. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Runs one input. Returns 0; a contract violation or memory error aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
