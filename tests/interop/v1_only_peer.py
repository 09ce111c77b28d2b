#!/usr/bin/python3
"""A peer that speaks BitTorrent v1 only, for a hybrid swarm (BEP 52): as the clients that read a hybrid's v1
half and ignore the rest (libtorrent 1.2, Transmission 4), it handshakes with the v1 info-hash and no v2 or
extension bits, and checks pieces by their SHA-1 only, pad files (BEP 47) being zeros in the stream. Loopback
only; standard library only.

v1_only_peer.py seed TORRENT DATA_DIR PORT [RATE]   serve the data (DATA_DIR holds the torrent's name), at
                                                    most RATE bytes a second per connection when given
v1_only_peer.py download TORRENT HOST PORT OUT_DIR   fetch every piece, check each SHA-1, write the files

download prints "verified N pieces" and exits 0 when every piece matched; any mismatch exits 1.
"""
import hashlib
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fault"))
import peer_wire as pw  # noqa: E402

CLIENT = b"-V1O001-"
WINDOW = 64  # requests in flight


class Layout:
    """The v1 stream of a torrent: its files (pad files included, as zeros) in order, and its pieces."""

    def __init__(self, torrent):
        info = pw.bdecode(pw.info_bytes(torrent))
        self.info_hash = pw.info_hash_v1(torrent)
        self.piece_length = info[b"piece length"]
        self.hashes = [info[b"pieces"][i:i + 20] for i in range(0, len(info[b"pieces"]), 20)]
        name = info[b"name"].decode()
        if b"files" in info:
            self.files = [(os.path.join(name, *(c.decode() for c in f[b"path"])), f[b"length"],
                           b"p" in f.get(b"attr", b"")) for f in info[b"files"]]
        else:
            self.files = [(name, info[b"length"], False)]
        self.total = sum(length for _, length, _ in self.files)

    def piece_size(self, index):
        return min(self.piece_length, self.total - index * self.piece_length)

    def read_stream(self, data_dir):
        out = bytearray()
        for path, length, pad in self.files:
            out += bytes(length) if pad else open(os.path.join(data_dir, path), "rb").read()
        if len(out) != self.total:
            sys.exit("data does not match the torrent's sizes")
        return bytes(out)

    def write_files(self, stream, out_dir):
        offset = 0
        for path, length, pad in self.files:
            if not pad:
                target = os.path.join(out_dir, path)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(stream[offset:offset + length])
            offset += length


def serve(conn, layout, stream, rate):
    try:
        hs = pw.recv_exact(conn, 68)
        if hs[28:48] != layout.info_hash:
            return
        conn.sendall(pw.handshake(layout.info_hash, CLIENT) + pw.bitfield_all(len(layout.hashes)) +
                     pw.message(pw.UNCHOKE))
        while True:
            msg_id, payload = pw.read_message(conn)
            if msg_id == pw.REQUEST:
                index, begin, size = struct.unpack(">III", payload[:12])
                start = index * layout.piece_length + begin
                conn.sendall(pw.piece(index, begin, stream[start:start + size]))
                if rate:
                    time.sleep(size / rate)
    except (ConnectionError, OSError):
        pass
    finally:
        conn.close()


def seed(torrent, data_dir, port, rate):
    layout = Layout(torrent)
    stream = layout.read_stream(data_dir)
    pw.serve_forever(port, serve, layout, stream, rate)


def download(torrent, host, port, out_dir):
    layout = Layout(torrent)
    sock = socket.create_connection((host, port), timeout=60)
    sock.sendall(pw.handshake(layout.info_hash, CLIENT))
    hs = pw.recv_exact(sock, 68)
    if hs[:20] != pw.PROTOCOL or hs[28:48] != layout.info_hash:
        sys.exit("unexpected handshake")
    blocks = [(i, b, min(pw.BLOCK, layout.piece_size(i) - b)) for i in range(len(layout.hashes))
              for b in range(0, layout.piece_size(i), pw.BLOCK)]
    stream = bytearray(layout.total)
    pending, in_flight, received = list(reversed(blocks)), set(), 0
    sock.sendall(pw.message(pw.INTERESTED))
    choked = True
    while received < len(blocks):
        msg_id, payload = pw.read_message(sock)
        if msg_id == pw.UNCHOKE:
            choked = False
        elif msg_id == pw.CHOKE:
            choked = True  # BEP 3 without the fast extension: what was asked is dropped, ask again
            pending.extend(in_flight)
            in_flight.clear()
        elif msg_id == pw.PIECE:
            index, begin = struct.unpack(">II", payload[:8])
            block = payload[8:]
            key = (index, begin, len(block))
            if key in in_flight:
                in_flight.discard(key)
                start = index * layout.piece_length + begin
                stream[start:start + len(block)] = block
                received += 1
        elif msg_id in (pw.HASH_REQUEST, pw.HASHES, pw.HASH_REJECT, pw.HAVE_ALL, pw.HAVE_NONE, pw.REJECT):
            sys.exit(f"message {msg_id} from a peer that knows we speak neither BEP 52 nor BEP 6")
        while not choked and pending and len(in_flight) < WINDOW:
            key = pending.pop()
            in_flight.add(key)
            sock.sendall(pw.request(*key))
    for i, expected in enumerate(layout.hashes):
        start = i * layout.piece_length
        if hashlib.sha1(stream[start:start + layout.piece_size(i)]).digest() != expected:
            sys.exit(f"piece {i} does not match its SHA-1")
    layout.write_files(bytes(stream), out_dir)
    print(f"verified {len(layout.hashes)} pieces", flush=True)


def main():
    if sys.argv[1] == "seed":
        seed(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 0)
    elif sys.argv[1] == "download":
        download(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
