/* sha256.h: one-shot SHA-256 for the hot paths of key transparency (the
 * map's node hashes, key digests, delta hashes).
 *
 * Through OpenSSL's libcrypto, which uses the CPU's SHA instructions where
 * there are some: on the machines we measured, about 0.17 us for a map
 * node against 0.77 us with libsodium 1.0.18's portable code, which is
 * what decides the time of an epoch (bench/bench_ptree). Each thread keeps
 * one digest context, freed when the thread ends. If libcrypto cannot give
 * SHA-256 at all, libsodium computes the same function. */
#ifndef SEALMAIL_SHA256_H
#define SEALMAIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

void sha256(const void *data, size_t len, uint8_t ret[SHA256_LEN]);

#endif
