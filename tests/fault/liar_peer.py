#!/usr/bin/python3
"""A lying BitTorrent seed for Shoal's fault tests: it claims every piece and answers every request with
garbage. Loopback only; standard library only.

liar_peer.py TORRENT PORT
"""
import os
import struct
import sys

import peer_wire as pw


def serve(conn, ih, num_pieces):
    try:
        hs = pw.recv_exact(conn, 68)
        if hs[28:48] != ih:
            return
        conn.sendall(pw.handshake(ih, b"-LI0001-") + pw.bitfield_all(num_pieces) + pw.message(pw.UNCHOKE))
        while True:
            msg_id, payload = pw.read_message(conn)
            if msg_id == pw.REQUEST:  # answer with garbage of the right size
                index, begin, size = struct.unpack(">III", payload[:12])
                conn.sendall(pw.piece(index, begin, os.urandom(size)))
    except (ConnectionError, OSError):
        pass
    finally:
        conn.close()


def main():
    torrent, port = sys.argv[1], int(sys.argv[2])
    info = pw.bdecode(pw.info_bytes(torrent))
    ih = pw.info_hash_v1(torrent)
    pw.serve_forever(port, serve, ih, len(info[b"pieces"]) // 20)


if __name__ == "__main__":
    main()
