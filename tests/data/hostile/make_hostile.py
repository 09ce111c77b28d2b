#!/usr/bin/python3
"""Regenerates the hostile torrents in this folder: each tries to name a path outside the download folder."""
import os


def bencode(x):
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, str):
        x = x.encode("utf-8", "surrogateescape")
    if isinstance(x, bytes):
        return b"%d:" % len(x) + x
    if isinstance(x, list):
        return b"l" + b"".join(bencode(i) for i in x) + b"e"
    items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in x.items())
    return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"


def torrent(name, paths):
    files = [{"length": 1000, "path": p} for p in paths]
    total = 1000 * len(files)
    pieces = b"x" * 20 * ((total + 16383) // 16384)
    info = {"name": name, "piece length": 16384, "pieces": pieces, "files": files}
    return bencode({"announce": "http://127.0.0.1:1/announce", "info": info})


CASES = {
    "dotdot": ("evil", [["..", "..", "etc", "passwd"]]),
    "absolute": ("evil", [["/etc/passwd"], ["/", "root", ".ssh", "authorized_keys"]]),
    "backslash": ("evil", [["..\\..\\windows\\system32"], ["C:\\boot.ini"]]),
    "nul": ("evil", [[b"a\x00b"], [b"\x01\x02ctrl"]]),
    "reserved": ("evil", [["CON"], ["aux.txt"], ["com1"]]),
    "long": ("evil", [["a" * 300 + ".txt"], ["b" * 1000]]),
    "badutf8": ("evil", [[b"\xff\xfe.bin"], [b"\xc0\xaf"]]),
    "dots": ("evil", [[".", "", "x"], ["...", "y"], [". .", "z"]]),
}

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    for fname, (name, paths) in CASES.items():
        with open(os.path.join(here, fname + ".torrent"), "wb") as f:
            f.write(torrent(name, paths))
