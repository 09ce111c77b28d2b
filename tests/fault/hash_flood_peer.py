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
import socket
import struct
import sys
import threading
import time

import peer_wire as pw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("torrent")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--window", type=int, default=64)
    args = ap.parse_args()

    info = pw.bdecode(pw.info_bytes(args.torrent))
    piece_length = info[b"piece length"]
    tree = info[b"file tree"]
    (name, node), = tree.items()
    leaf = node[b""]
    length, root = leaf[b"length"], leaf[b"pieces root"]
    pieces = (length + piece_length - 1) // piece_length
    per_piece = piece_length // 16384
    v1 = b"pieces" in info
    ih = pw.info_hash_v1(args.torrent) if v1 else pw.info_hash_v2_wire(args.torrent)

    sock = socket.create_connection((args.host, args.port))
    sock.sendall(pw.handshake(ih, b"-HF0001-", pw.V2_BIT | pw.FAST_BIT))
    hs = pw.recv_exact(sock, 68)
    if hs[28:48] != ih:
        sys.exit("wrong info-hash")
    sock.sendall(pw.message(pw.HAVE_NONE))
    print("ready", flush=True)

    counts = {"hashes": 0, "rejects": 0}
    window = threading.Semaphore(args.window)
    done = threading.Event()

    def reader():
        try:
            while not done.is_set():
                msg_id, _ = pw.read_message(sock)
                if msg_id == pw.HASHES:
                    counts["hashes"] += 1
                    window.release()
                elif msg_id == pw.HASH_REJECT:
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
        msg = pw.message(pw.HASH_REQUEST, struct.pack(">32sIIII", root, 0, piece * per_piece, per_piece, proof))
        try:
            sock.sendall(msg)
        except OSError:
            break
        piece = (piece + 1) % pieces
    done.set()
    print("hashes %d rejects %d" % (counts["hashes"], counts["rejects"]), flush=True)
    sock.close()


if __name__ == "__main__":
    main()
