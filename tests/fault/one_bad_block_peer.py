#!/usr/bin/python3
"""A seed for Shoal's fault tests that serves a v2-only torrent's real bytes except one: in every piece, the
block at offset 16 KiB has one byte flipped. It serves only the first two blocks of each piece and rejects
requests for the others (BEP 6), so that another peer completes its pieces: each is a piece shared between
an honest peer and this one. It rejects hash requests (it has no hashes to give). Loopback only; standard
library only.

one_bad_block_peer.py TORRENT DATA_FILE PIECE_LENGTH NUM_PIECES PORT
"""
import hashlib
import os
import socket
import struct
import sys
import threading


def info_bytes(path):
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

    return data[start:skip(start)]


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError
        buf += chunk
    return buf


def serve(conn, ih, payload, piece_length, num_pieces):
    try:
        hs = recv_exact(conn, 68)
        if hs[28:48] != ih:
            return
        reserved = bytearray(8)
        reserved[7] |= 0x10 | 0x04  # BEP 52, BEP 6
        conn.sendall(bytes([19]) + b"BitTorrent protocol" + bytes(reserved) + ih + b"-OB0001-" + os.urandom(12))
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
            if body[0] == 6:
                index, begin, size = struct.unpack(">III", body[1:13])
                if begin >= 32768:
                    conn.sendall(struct.pack(">IB", 13, 16) + body[1:13])  # reject
                    continue
                start = index * piece_length + begin
                block = bytearray(payload[start:start + size])
                block += bytes(size - len(block))  # the pad after the file reads as zeros
                if begin == 16384 and len(block) > 0:
                    block[0] ^= 0xFF
                conn.sendall(struct.pack(">IBII", 9 + size, 7, index, begin) + bytes(block))
            elif body[0] == 21:  # hash request: hash reject, same fields
                conn.sendall(struct.pack(">IB", length, 23) + body[1:])
    except (ConnectionError, OSError):
        pass
    finally:
        conn.close()


def main():
    torrent, data_file = sys.argv[1], sys.argv[2]
    piece_length, num_pieces, port = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    ih = hashlib.sha256(info_bytes(torrent)).digest()[:20]  # BEP 52: v2 info-hash truncated on the wire
    payload = open(data_file, "rb").read()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, ih, payload, piece_length, num_pieces), daemon=True).start()


if __name__ == "__main__":
    main()
