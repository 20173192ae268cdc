#!/usr/bin/env python3
"""tlog-corpus.py: writes the seed corpus of fuzz_tlog into fuzz/corpus/tlog.

The seeds use the fixed tree of fuzz_tlog.c (leaf i is the two bytes i, i >> 8),
so the valid ones pass its soundness and completeness checks and the mutated
ones start next to them. Proofs are made from the RFC 9162 definitions here,
independently of tlog.c. Files named crash-* are regression inputs; they are
kept."""
import hashlib
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "tlog")
U64 = 2**64 - 1


def leaf(i):
    return hashlib.sha256(b"\x00" + bytes([i & 0xFF, (i >> 8) & 0xFF])).digest()


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def k_of(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    if len(d) == 1:
        return d[0]
    k = k_of(len(d))
    return node(mth(d[:k]), mth(d[k:]))


def path(m, d):
    if len(d) == 1:
        return []
    k = k_of(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    if m == len(d):
        return [] if b else [mth(d)]
    k = k_of(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


D = [leaf(i) for i in range(300)]
root = lambda n: mth(D[:n]) if n else hashlib.sha256(b"").digest()


def seed(name, kind, a, b, ha, hb, proof, tail=b""):
    data = bytes([kind]) + struct.pack("<QQ", a, b) + ha + hb + b"".join(proof) + tail
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def flip(p, i):
    p = list(p)
    p[i] = bytes([p[i][0] ^ 0x10]) + p[i][1:]
    return p


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if not f.startswith("crash-"):
            os.unlink(os.path.join(OUT, f))
    for i, n in [(0, 1), (5, 8), (6, 7), (69, 70), (255, 300), (299, 300), (0, 300)]:
        p = path(i, D[:n])
        seed(f"incl-{i}-{n}", 0, i, n, D[i], root(n), p)
        if p:
            seed(f"incl-{i}-{n}-flipped", 0, i, n, D[i], root(n), flip(p, len(p) - 1))
            seed(f"incl-{i}-{n}-short", 0, i, n, D[i], root(n), p[:-1])
        seed(f"incl-{i}-{n}-extra", 0, i, n, D[i], root(n), p + [D[0]])
    seed("incl-wrong-leaf", 0, 5, 8, D[4], root(8), path(5, D[:8]))
    seed("incl-index-eq-size", 0, 8, 8, D[0], root(8), path(5, D[:8]))
    seed("incl-huge", 0, 0, U64, D[0], root(8), [D[1]] * 64)
    seed("incl-huge-last", 0, U64 - 1, U64, D[0], root(8), [D[1]] * 64)
    seed("incl-65-hashes", 0, 3, 300, D[3], root(300), [D[2]] * 65)
    seed("incl-partial-tail", 0, 5, 8, D[5], root(8), path(5, D[:8]), b"\x01\x02\x03")
    for m, n in [(1, 1), (1, 8), (6, 8), (3, 7), (4, 8), (70, 300), (256, 300), (299, 300)]:
        p = subproof(m, D[:n], True)
        seed(f"cons-{m}-{n}", 1, m, n, root(m), root(n), p)
        if p:
            seed(f"cons-{m}-{n}-flipped", 1, m, n, root(m), root(n), flip(p, 0))
            seed(f"cons-{m}-{n}-swapped", 1, m, n, root(n), root(m), p)
    seed("cons-from-empty", 1, 0, 8, root(0), root(8), [])
    seed("cons-old-gt-new", 1, 8, 6, root(8), root(6), subproof(6, D[:8], True))
    seed("cons-forged-old", 1, 6, 8, root(5), root(8), subproof(6, D[:8], True))
    seed("cons-huge", 1, 2**63 + 1, U64, D[0], D[1], [D[2]] * 65)
    seed("cons-huge-one", 1, 1, U64, D[0], D[1], [D[2]] * 64)
    seed("too-short", 0, 0, 1, D[0], b"", [])


if __name__ == "__main__":
    main()
