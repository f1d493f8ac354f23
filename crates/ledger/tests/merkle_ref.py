#!/usr/bin/env python3
"""Independent RFC 6962 / RFC 9162 reference, used by python_crosscheck.rs.

Written from the RFC text with nothing but hashlib: MTH, PATH and SUBPROOF as the RFC's recursive
definitions, and the RFC 9162 verification algorithms. Reads a JSON request on stdin:

  {"cases": [{"entries": [hex...], "root_sizes": [n, ...], "inclusion": [[m, n], ...], "consistency": [[m, n], ...],
              "check_inclusion": [[m, n, leaf_hex, [hex...], root_hex], ...],
              "check_consistency": [[m, n, [hex...], root1_hex, root2_hex], ...]}]}

and writes, for each case, the leaf hashes, the roots of the sizes asked for, the proofs asked for and
whether each given proof verifies.
"""
import hashlib
import json
import sys


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    if len(d) == 0:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = split(len(d))
    return node_hash(mth(d[:k]), mth(d[k:]))


def path(m, d):
    if len(d) <= 1:
        return []
    k = split(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = split(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def verify_inclusion(m, n, leaf, proof, root):
    # RFC 9162 section 2.1.3.2
    if m >= n:
        return False
    fn, sn, r = m, n - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, proof, first, second):
    # RFC 9162 section 2.1.4.2, for 0 < m < n
    if not 0 < m < n or not proof:
        return False
    if m & (m - 1) == 0:
        proof = [first] + proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first and sr == second and sn == 0


def hx(hs):
    return [h.hex() for h in hs]


def run(case):
    d = [leaf_hash(bytes.fromhex(e)) for e in case["entries"]]
    out = {
        "leaf_hashes": hx(d),
        "roots": hx(mth(d[:n]) for n in case["root_sizes"]),
        "inclusion": [hx(path(m, d[:n])) for m, n in case["inclusion"]],
        "consistency": [hx(subproof(m, d[:n], True)) for m, n in case["consistency"]],
        "check_inclusion": [
            verify_inclusion(m, n, bytes.fromhex(leaf), [bytes.fromhex(p) for p in proof], bytes.fromhex(root))
            for m, n, leaf, proof, root in case["check_inclusion"]
        ],
        "check_consistency": [
            verify_consistency(m, n, [bytes.fromhex(p) for p in proof], bytes.fromhex(r1), bytes.fromhex(r2))
            for m, n, proof, r1, r2 in case["check_consistency"]
        ],
    }
    return out


if __name__ == "__main__":
    req = json.load(sys.stdin)
    json.dump({"cases": [run(c) for c in req["cases"]]}, sys.stdout)
