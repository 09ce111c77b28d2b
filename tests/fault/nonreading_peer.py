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
import hashlib
import os
import socket
import struct
import sys
import time


def info_hash_and_sizes(path):
    data = open(path, "rb").read()
    start = data.index(b"4:infod") + 6

    def skip(p):
        c = data[p:p + 1]
        if c == b"i":
            return data.index(b"e", p) + 1
        if c in (b"l", b"d"):
            p += 1
            while data[p:p + 1] != b"e":
                p = skip(p)
            return p + 1
        colon = data.index(b":", p)
        return colon + 1 + int(data[p:colon])

    end = skip(start)
    info = data[start:end]
    at = info.index(b"12:piece lengthi") + 16
    piece_length = int(info[at:info.index(b"e", at)])
    pieces_at = info.index(b"6:pieces") + 8
    num_pieces = int(info[pieces_at:info.index(b":", pieces_at)]) // 20
    # Total size: the sum of every "6:lengthi...e" in the info dictionary (single or multi-file).
    total, pos = 0, 0
    while True:
        pos = info.find(b"6:lengthi", pos)
        if pos < 0:
            break
        total += int(info[pos + 9:info.index(b"e", pos + 9)])
        pos += 9
    return hashlib.sha1(info).digest(), piece_length, num_pieces, total


def request(index, begin, length):
    return struct.pack(">IBIII", 13, 6, index, begin, length)


def main():
    torrent, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ih, piece_length, num_pieces, total = info_hash_and_sizes(torrent)
    if sys.argv[4] == "--probe":
        s = socket.create_connection((host, port))
        s.sendall(bytes([19]) + b"BitTorrent protocol" + bytes(8) + ih + b"-NR0001-" + os.urandom(12))
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
    block = 16384
    messages = bytearray(struct.pack(">IB", 1, 2))  # interested
    for i in range(num_pieces):
        messages += request(i, 0, min(block, total - i * piece_length))
    if everything:
        for i in range(num_pieces):
            size = min(piece_length, total - i * piece_length)
            for begin in range(block, size, block):
                messages += request(i, begin, min(block, size - begin))
    socks = []
    sent = 0
    for _ in range(count):
        s = socket.create_connection((host, port))
        # A small receive buffer: what the seeder sends piles up on its side, not in our kernel.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(bytes([19]) + b"BitTorrent protocol" + bytes(8) + ih + b"-NR0001-" + os.urandom(12))
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
