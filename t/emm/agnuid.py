#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# NAME
#	agnuid.py - build OpenEMM agnUID tokens for the EMM tests
# SYNOPSIS
#	agnuid.py [--prefix P] [--creation-ms MS] [--url N] [--bitopt N]
#		VERSION LICENCE COMPANY MAILING CUSTOMER SECRET
# DESCRIPTION
#	Prints one token as doc/agnuid.md describes the formats (written
#	for this project from that page): integers big-endian base 64 over
#	A-Z a-z 0-9 - _, the signature the URL-safe base64 (no padding) of
#	the SHA-512 of the items joined with ".". v2 needs --creation-ms
#	(mailing_tbl.creation_date in ms); v5 writes a msgpack map with
#	the keys _c, _l, _m, _r (sorted, zero values left out).
import argparse
import base64
import hashlib

ALPHA = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
         "0123456789-_")


def enc(v):
    if v == 0:
        return "A"
    out = ""
    while v > 0:
        out = ALPHA[v & 63] + out
        v >>= 6
    return out


def b64(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def mp_int(v):
    if 0 <= v < 128:
        return bytes([v])
    if v < 1 << 16:
        return b"\xcd" + v.to_bytes(2, "big")
    if v < 1 << 32:
        return b"\xce" + v.to_bytes(4, "big")
    return b"\xcf" + v.to_bytes(8, "big")


def mp_map(d):
    items = sorted((k, v) for k, v in d.items() if v)
    out = bytes([0x80 | len(items)])
    for k, v in items:
        kb = k.encode()
        out += bytes([0xa0 | len(kb)]) + kb + mp_int(v)
    return out


def sign(items, secret):
    data = b".".join(i if isinstance(i, bytes) else str(i).encode()
                     for i in items + [secret])
    return b64(hashlib.sha512(data).digest())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefix", default="")
    ap.add_argument("--creation-ms", type=int, default=0)
    ap.add_argument("--url", type=int, default=0)
    ap.add_argument("--bitopt", type=int, default=0)
    ap.add_argument("version", type=int)
    ap.add_argument("licence", type=int)
    ap.add_argument("company", type=int)
    ap.add_argument("mailing", type=int)
    ap.add_argument("customer", type=int)
    ap.add_argument("secret")
    a = ap.parse_args()
    pre = [a.prefix] if a.prefix else []
    if a.version == 2:
        t0 = a.creation_ms & 0xFFFF
        t1 = (a.creation_ms * 37) & 0xFFFF
        toks = [enc(2), enc(a.licence), enc(a.mailing),
                enc(a.customer ^ t0), enc(a.url ^ t1 ^ a.company)]
        sig = sign(pre + [2, a.licence, a.mailing, a.customer, a.url],
                   a.secret)
    elif a.version == 3:
        toks = [enc(3), enc(a.licence), enc(a.mailing), enc(a.customer),
                enc(a.url), enc(a.bitopt)]
        sig = sign(pre + [3, a.licence, a.mailing, a.customer, a.url,
                          a.bitopt], a.secret)
    elif a.version == 4:
        toks = [enc(4), enc(a.licence), enc(a.company), enc(a.mailing),
                enc(a.customer), enc(a.url), enc(a.bitopt)]
        sig = sign(pre + [4, a.licence, a.company, a.mailing, a.customer,
                          a.url, a.bitopt], a.secret)
    elif a.version == 5:
        raw = mp_map({"_c": a.company, "_l": a.licence, "_m": a.mailing,
                      "_r": a.customer, "_u": a.url})
        toks = [enc(5), b64(raw)]
        sig = sign(pre + [5, raw], a.secret)
    else:
        raise SystemExit("version must be 2..5")
    print(".".join(pre + toks + [sig]))


main()
