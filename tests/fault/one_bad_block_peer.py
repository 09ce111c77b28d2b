#!/usr/bin/python3
"""A seed for Shoal's fault tests that serves a v2-only torrent's real bytes except one: in every piece, the
block at offset 16 KiB has one byte flipped. It serves only the first two blocks of each piece and rejects
requests for the others (BEP 6), so that another peer completes its pieces: each is a piece shared between
an honest peer and this one. It rejects hash requests (it has no hashes to give). Loopback only; standard
library only.

one_bad_block_peer.py TORRENT DATA_FILE PIECE_LENGTH NUM_PIECES PORT
"""
import struct
import sys

import peer_wire as pw


def serve(conn, ih, payload, piece_length, num_pieces):
    try:
        hs = pw.recv_exact(conn, 68)
        if hs[28:48] != ih:
            return
        conn.sendall(pw.handshake(ih, b"-OB0001-", pw.V2_BIT | pw.FAST_BIT) + pw.bitfield_all(num_pieces) +
                     pw.message(pw.UNCHOKE))
        while True:
            msg_id, body = pw.read_message(conn)
            if msg_id == pw.REQUEST:
                index, begin, size = struct.unpack(">III", body[:12])
                if begin >= 32768:
                    conn.sendall(pw.message(pw.REJECT, body[:12]))
                    continue
                start = index * piece_length + begin
                block = bytearray(payload[start:start + size])
                block += bytes(size - len(block))  # the pad after the file reads as zeros
                if begin == 16384 and len(block) > 0:
                    block[0] ^= 0xFF
                conn.sendall(pw.piece(index, begin, block))
            elif msg_id == pw.HASH_REQUEST:  # hash reject, same fields
                conn.sendall(pw.message(pw.HASH_REJECT, body))
    except (ConnectionError, OSError):
        pass
    finally:
        conn.close()


def main():
    torrent, data_file = sys.argv[1], sys.argv[2]
    piece_length, num_pieces, port = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    ih = pw.info_hash_v2_wire(torrent)
    payload = open(data_file, "rb").read()
    pw.serve_forever(port, serve, ih, payload, piece_length, num_pieces)


if __name__ == "__main__":
    main()
