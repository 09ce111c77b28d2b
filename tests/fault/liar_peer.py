#!/usr/bin/python3
"""A lying BitTorrent seed for Shoal's fault tests: it claims every piece and answers every request with
garbage. Loopback only; standard library only.

liar_peer.py TORRENT PORT
"""
import hashlib
import os
import socket
import struct
import sys
import threading


def info_hash(path):
    data = open(path, "rb").read()
    # The info dictionary is the value after the key "4:info"; find its exact span by a tiny bencode walk.
    start = data.index(b"4:infod") + 6
    pos = start

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

    end = skip(pos)
    return hashlib.sha1(data[start:end]).digest()


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError
        buf += chunk
    return buf


def serve(conn, ih, num_pieces):
    try:
        hs = recv_exact(conn, 68)
        if hs[28:48] != ih:
            return
        conn.sendall(bytes([19]) + b"BitTorrent protocol" + bytes(8) + ih + b"-LI0001-" + os.urandom(12))
        bits = bytearray((num_pieces + 7) // 8)
        for i in range(num_pieces):
            bits[i // 8] |= 0x80 >> (i % 8)
        conn.sendall(struct.pack(">IB", 1 + len(bits), 5) + bytes(bits))
        conn.sendall(struct.pack(">IB", 1, 1))  # unchoke
        while True:
            length = struct.unpack(">I", recv_exact(conn, 4))[0]
            if length == 0:
                continue
            body = recv_exact(conn, length)
            if body[0] == 6:  # request: answer with garbage of the right size
                index, begin, size = struct.unpack(">III", body[1:13])
                conn.sendall(struct.pack(">IBII", 9 + size, 7, index, begin) + os.urandom(size))
    except (ConnectionError, OSError):
        pass
    finally:
        conn.close()


def main():
    torrent, port = sys.argv[1], int(sys.argv[2])
    data = open(torrent, "rb").read()
    pieces_len = int(data[data.index(b"6:pieces") + 8:data.index(b":", data.index(b"6:pieces") + 8)])
    ih = info_hash(torrent)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, ih, pieces_len // 20), daemon=True).start()


if __name__ == "__main__":
    main()
