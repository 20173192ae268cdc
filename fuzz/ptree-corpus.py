#!/usr/bin/env python3
"""ptree-corpus.py: writes the seed corpus of fuzz_ptree into fuzz/corpus/ptree.

Each seed is be16 len || snapshot || idx || proof, as fuzz_ptree.c reads it.
The trees, snapshots and proofs are made here from the definitions in
ptree.h and the layout in ptree.c, independently of ptree.c; the records
are numbered in an order ptree.c never uses (inner nodes in pre-order,
leaves in falling index order), since a snapshot may order them freely.
Files named crash-* are regression inputs; they are kept."""
import hashlib
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "ptree")
LEAF = 0x80000000


def H(b):
    return hashlib.sha256(b).digest()


def bit(idx, b):
    return (idx[b // 8] >> (7 - b % 8)) & 1


def diff(a, b):
    for k in range(256):
        if bit(a, k) != bit(b, k):
            return k
    return 256


def leaf_hash(l):
    idx, counter, epoch, com = l
    return H(b"\x00" + idx + struct.pack(">QQ", counter, epoch) + com)


def build(leaves):
    """(snapshot bytes, root hash, node table) for a list of leaves."""
    leaves = sorted(leaves)
    order = sorted(range(len(leaves)), key=lambda i: leaves[i][0], reverse=True)
    leaf_no = {i: n for n, i in enumerate(order)}
    inner = []  # [bit, left, right, hash]

    def node(lo, hi):
        if hi - lo == 1:
            return LEAF | leaf_no[lo], leaf_hash(leaves[lo])
        b = diff(leaves[lo][0], leaves[hi - 1][0])
        k = lo
        while not bit(leaves[k][0], b):
            k += 1
        me = len(inner)
        inner.append(None)
        lref, lh = node(lo, k)
        rref, rh = node(k, hi)
        h = H(b"\x01" + bytes([b]) + lh + rh)
        inner[me] = [b, lref, rref, h]
        return me, h

    if leaves:
        root, rh = node(0, len(leaves))
    else:
        root, rh = 0xFFFFFFFF, H(b"\x02")
    out = b"sealmail-ptree/v1\n" + struct.pack("<III", len(leaves), len(inner), root) + rh
    for b, l, r, h in inner:
        out += bytes([b]) + struct.pack("<II", l, r) + h
    for i in order:
        idx, counter, epoch, com = leaves[i]
        out += idx + struct.pack("<QQ", counter, epoch) + com + leaf_hash(leaves[i])
    return out, rh, root, inner, [leaves[i] for i in order]


def prove(tree, idx):
    _, _, root, inner, by_no = tree
    if root == 0xFFFFFFFF:
        return 0, 0, (bytes(32), 0, 0, bytes(32)), []
    path, ref = [], root

    def h_of(r):
        return leaf_hash(by_no[r & ~LEAF]) if r & LEAF else inner[r][3]

    while not ref & LEAF:
        b, l, r, _ = inner[ref]
        go, sib = (r, l) if bit(idx, b) else (l, r)
        path.append((b, h_of(sib)))
        ref = go
    leaf = by_no[ref & ~LEAF]
    return int(leaf[0] == idx), 1, leaf, path[::-1]


def seed(tree, idx):
    snap = tree[0]
    found, has_leaf, leaf, path = prove(tree, idx)
    p = bytes([found, has_leaf]) + leaf[0] + struct.pack(">QQ", leaf[1], leaf[2]) + leaf[3]
    p += struct.pack(">H", len(path)) + b"".join(bytes([b]) + s for b, s in path)
    return struct.pack(">H", len(snap)) + snap + idx + p


def mk_leaf(i, idx):
    return (idx, i + 1, 1000 + i, H(b"commitment %d" % i))


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if not name.startswith("crash-"):
            os.remove(os.path.join(OUT, name))
    rnd = [H(b"idx %d" % i) for i in range(8)]
    near = [rnd[0][:31] + bytes([rnd[0][31] ^ 1]), rnd[0][:16] + bytes(16)]
    sets = {
        "empty": [],
        "one": [mk_leaf(0, rnd[0])],
        "three": [mk_leaf(i, rnd[i]) for i in range(3)],
        "eight": [mk_leaf(i, rnd[i]) for i in range(8)],
        "near": [mk_leaf(i, x) for i, x in enumerate([rnd[0]] + near + [rnd[1]])],
    }
    absent = H(b"absent")
    for name, leaves in sets.items():
        tree = build(leaves)
        probes = {"absent": absent}
        if leaves:
            probes["found"] = leaves[-1][0]
            probes["last-bit"] = leaves[0][0][:31] + bytes([leaves[0][0][31] ^ 2])
        for what, idx in probes.items():
            with open(os.path.join(OUT, "%s-%s" % (name, what)), "wb") as f:
                f.write(seed(tree, idx))


if __name__ == "__main__":
    main()
