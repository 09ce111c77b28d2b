#!/usr/bin/python3
"""Regenerates the hostile BEP 52 torrents in this folder from ../v2/hybrid-multi.torrent (made by
`shoal create --hybrid --piece-size 16K`: seed/a.bin of 20000 bytes, seed/sub/b.bin of 40000, seed/sub/empty).
Each breaks one rule; expected.txt names the error Shoal must give for it."""
import copy
import os


def bdecode(data, i=0):
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c == b"l":
        out, i = [], i + 1
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        out, i = {}, i + 1
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            out[k], i = bdecode(data, i)
        return out, i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    return data[colon + 1:colon + 1 + n], colon + 1 + n


def bencode(x):
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, bytes):
        return b"%d:" % len(x) + x
    if isinstance(x, list):
        return b"l" + b"".join(bencode(i) for i in x) + b"e"
    return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted(x.items())) + b"e"


def leaf(t, *path):
    d = t[b"info"][b"file tree"]
    for p in path:
        d = d[p]
    return d[b""]


def layers(t, edit):
    for k in t[b"piece layers"]:
        t[b"piece layers"][k] = edit(t[b"piece layers"][k])


def deep(t):
    node = t[b"info"][b"file tree"][b"a.bin"]
    for _ in range(70):
        node = {b"d": node}
    t[b"info"][b"file tree"] = node


def unaligned(t):
    files = t[b"info"][b"files"]
    files.append(files.pop(1))  # the pad after a.bin moves to the end: sub/b.bin no longer on a piece boundary


def set_(d, k, v):
    d[k] = v


CASES = {
    # name: (edit, message Shoal gives)
    "meta-version-3": (lambda t: set_(t[b"info"], b"meta version", 3), "unsupported meta version"),
    "piece-length-not-power-of-two": (lambda t: set_(t[b"info"], b"piece length", 49152),
                                      "v2 piece length must be a power of two"),
    "piece-length-8k": (lambda t: set_(t[b"info"], b"piece length", 8192), "v2 piece length must be a power of two"),
    "no-file-tree": (lambda t: t[b"info"].pop(b"file tree"), "missing key: info.file tree"),
    "tree-node-not-a-dict": (lambda t: set_(t[b"info"][b"file tree"], b"x", 1), "invalid file tree"),
    "tree-dotdot": (lambda t: set_(t[b"info"][b"file tree"], b"..", t[b"info"][b"file tree"].pop(b"sub")),
                    "invalid path"),
    "tree-too-deep": (deep, "not a valid torrent"),
    "missing-pieces-root": (lambda t: leaf(t, b"sub", b"b.bin").pop(b"pieces root"), "missing pieces root"),
    "zero-pieces-root": (lambda t: set_(leaf(t, b"sub", b"b.bin"), b"pieces root", bytes(32)), "missing pieces root"),
    "short-pieces-root": (lambda t: set_(leaf(t, b"a.bin"), b"pieces root", b"r" * 31), "pieces root is not 32 bytes"),
    "no-piece-layers": (lambda t: t.pop(b"piece layers"), "missing piece layer"),
    "piece-layer-short": (lambda t: layers(t, lambda v: v[32:]), "piece layer has the wrong size"),
    "piece-layer-tampered": (lambda t: layers(t, lambda v: bytes([v[0] ^ 1]) + v[1:]),
                             "piece layer does not hash to the pieces root"),
    "hybrid-renamed": (lambda t: set_(t[b"info"][b"files"][0], b"path", [b"A.bin"]),
                       "the v1 and v2 halves of the hybrid torrent disagree"),
    "hybrid-length": (lambda t: set_(leaf(t, b"a.bin"), b"length", 20001),
                      "the v1 and v2 halves of the hybrid torrent disagree"),
    "hybrid-unaligned": (unaligned, "not aligned to a piece boundary"),
}

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    base, _ = bdecode(open(os.path.join(here, "..", "v2", "hybrid-multi.torrent"), "rb").read())
    with open(os.path.join(here, "expected.txt"), "w") as index:
        for name, (edit, message) in CASES.items():
            t = copy.deepcopy(base)
            edit(t)
            with open(os.path.join(here, name + ".torrent"), "wb") as f:
                f.write(bencode(t))
            index.write(f"{name}.torrent\t{message}\n")
