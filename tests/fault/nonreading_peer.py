#!/usr/bin/python3
"""Peers that ask a seeder for blocks and never read its answers, for Shoal's fault tests and bench/hostile.
Each connection handshakes, says interested, requests one block of every piece and then (with --all) every
block of the torrent, and from then on only keeps its socket open: nothing it is sent is ever read.
Loopback only; standard library only.

nonreading_peer.py TORRENT HOST PORT CONNECTIONS [--all]
nonreading_peer.py TORRENT HOST PORT --probe

Prints "sent N" once every connection has sent its requests (the seeder may stop reading some of them: a
send that cannot finish in 2 s is given up), then sleeps until killed. --probe only waits for the seeder's
handshake (it answers once its start-up check is done), prints "ready" and exits.
"""
import socket
import sys
import time

import peer_wire as pw


def info_hash_and_sizes(path):
    info = pw.bdecode(pw.info_bytes(path))
    files = info.get(b"files", [{b"length": info.get(b"length", 0)}])
    total = sum(f[b"length"] for f in files)
    return pw.info_hash_v1(path), info[b"piece length"], len(info[b"pieces"]) // 20, total


def main():
    torrent, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ih, piece_length, num_pieces, total = info_hash_and_sizes(torrent)
    if sys.argv[4] == "--probe":
        s = socket.create_connection((host, port))
        s.sendall(pw.handshake(ih, b"-NR0001-"))
        s.settimeout(300)
        got = b""
        while len(got) < 68:
            chunk = s.recv(68 - len(got))
            if not chunk:
                sys.exit("closed before its handshake")
            got += chunk
        print("ready", flush=True)
        return
    count = int(sys.argv[4])
    everything = "--all" in sys.argv[5:]
    block = pw.BLOCK
    messages = bytearray(pw.message(pw.INTERESTED))
    for i in range(num_pieces):
        messages += pw.request(i, 0, min(block, total - i * piece_length))
    if everything:
        for i in range(num_pieces):
            size = min(piece_length, total - i * piece_length)
            for begin in range(block, size, block):
                messages += pw.request(i, begin, min(block, size - begin))
    socks = []
    sent = 0
    for _ in range(count):
        s = socket.create_connection((host, port))
        # A small receive buffer: what the seeder sends piles up on its side, not in our kernel.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(pw.handshake(ih, b"-NR0001-"))
        s.settimeout(2)
        try:
            s.sendall(messages)
        except (socket.timeout, OSError):
            pass  # the seeder stopped reading us: that is its back-pressure at work
        sent += 1
        socks.append(s)
    print("sent", sent, flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
