#!/usr/bin/python3
"""A hostile peer for Shoal's fault tests and benchmarks: it connects to a seeder of a v2 (or hybrid)
single-file torrent and asks, in a loop and without waiting for answers beyond a window, for the leaf hashes
(BEP 52 hash request, base layer 0) of every piece, each a different piece from the last, so that no cache
can answer. It reads everything the seeder sends and counts the hashes and hash rejects. Loopback only;
standard library only.

hash_flood_peer.py TORRENT HOST PORT [--seconds S] [--window W]
Prints "ready" once connected, then at the end "hashes H rejects R".
"""
import argparse
import hashlib
import os
import socket
import struct
import sys
import threading
import time


def bdecode(data, p=0):
    c = data[p:p + 1]
    if c == b"i":
        end = data.index(b"e", p)
        return int(data[p + 1:end]), end + 1
    if c == b"l":
        p += 1
        out = []
        while data[p:p + 1] != b"e":
            v, p = bdecode(data, p)
            out.append(v)
        return out, p + 1
    if c == b"d":
        p += 1
        out = {}
        while data[p:p + 1] != b"e":
            k, p = bdecode(data, p)
            v, p = bdecode(data, p)
            out[k] = v
        return out, p + 1
    colon = data.index(b":", p)
    n = int(data[p:colon])
    return data[colon + 1:colon + 1 + n], colon + 1 + n


def info_span(data):
    start = data.index(b"4:infod") + 6
    _, end = bdecode(data, start)
    return data[start:end]


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError
        buf += chunk
    return bytes(buf)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("torrent")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--window", type=int, default=64)
    args = ap.parse_args()

    raw = open(args.torrent, "rb").read()
    info_raw = info_span(raw)
    info, _ = bdecode(info_raw)
    piece_length = info[b"piece length"]
    tree = info[b"file tree"]
    (name, node), = tree.items()
    leaf = node[b""]
    length, root = leaf[b"length"], leaf[b"pieces root"]
    pieces = (length + piece_length - 1) // piece_length
    per_piece = piece_length // 16384
    v1 = b"pieces" in info
    ih = hashlib.sha1(info_raw).digest() if v1 else hashlib.sha256(info_raw).digest()[:20]

    sock = socket.create_connection((args.host, args.port))
    reserved = bytearray(8)
    reserved[7] |= 0x10 | 0x04  # BEP 52, BEP 6
    sock.sendall(bytes([19]) + b"BitTorrent protocol" + bytes(reserved) + ih + b"-HF0001-" + os.urandom(12))
    hs = recv_exact(sock, 68)
    if hs[28:48] != ih:
        sys.exit("wrong info-hash")
    sock.sendall(struct.pack(">IB", 1, 15))  # have none
    print("ready", flush=True)

    counts = {"hashes": 0, "rejects": 0}
    window = threading.Semaphore(args.window)
    done = threading.Event()

    def reader():
        try:
            while not done.is_set():
                n = struct.unpack(">I", recv_exact(sock, 4))[0]
                if n == 0:
                    continue
                body = recv_exact(sock, n)
                if body[0] == 22:
                    counts["hashes"] += 1
                    window.release()
                elif body[0] == 23:
                    counts["rejects"] += 1
                    window.release()
        except (ConnectionError, OSError):
            done.set()

    threading.Thread(target=reader, daemon=True).start()
    proof = max(0, (per_piece - 1).bit_length() - 1)
    end = time.monotonic() + args.seconds
    piece = 0
    while time.monotonic() < end and not done.is_set():
        if not window.acquire(timeout=0.5):
            continue
        msg = struct.pack(">B32sIIII", 21, root, 0, piece * per_piece, per_piece, proof)
        try:
            sock.sendall(struct.pack(">I", len(msg)) + msg)
        except OSError:
            break
        piece = (piece + 1) % pieces
    done.set()
    print("hashes %d rejects %d" % (counts["hashes"], counts["rejects"]), flush=True)
    sock.close()


if __name__ == "__main__":
    main()
