"""BitTorrent peer wire pieces shared by the scripted peers of Shoal's tests (hostile seeds, non-reading
peers, a v1-only peer): the exact info dictionary bytes of a .torrent, a small bencode decoder, handshakes and
message framing. Standard library only; the peers using it talk to 127.0.0.1 only.
"""
import hashlib
import os
import socket
import struct
import threading

PROTOCOL = bytes([19]) + b"BitTorrent protocol"
BLOCK = 16384

# Message ids (BEP 3, BEP 6, BEP 52).
CHOKE, UNCHOKE, INTERESTED, NOT_INTERESTED, HAVE, BITFIELD, REQUEST, PIECE, CANCEL = range(9)
HAVE_ALL, HAVE_NONE, REJECT = 14, 15, 16
HASH_REQUEST, HASHES, HASH_REJECT = 21, 22, 23

# Reserved-byte bits (byte 7).
FAST_BIT, V2_BIT = 0x04, 0x10


def _skip(data, p):
    """Offset just past the bencoded value starting at p."""
    c = data[p:p + 1]
    if c == b"i":
        return data.index(b"e", p) + 1
    if c in (b"l", b"d"):
        p += 1
        while data[p:p + 1] != b"e":
            p = _skip(data, p)
        return p + 1
    colon = data.index(b":", p)
    return colon + 1 + int(data[p:colon])


def info_bytes(path):
    """The info dictionary of a .torrent exactly as it is in the file (what its info-hashes hash)."""
    data = open(path, "rb").read()
    start = data.index(b"4:infod") + 6
    return data[start:_skip(data, start)]


def info_hash_v1(path):
    return hashlib.sha1(info_bytes(path)).digest()


def info_hash_v2_wire(path):
    """BEP 52: the SHA-256 info-hash, truncated to 20 bytes on the wire."""
    return hashlib.sha256(info_bytes(path)).digest()[:20]


def bdecode(data):
    """Decodes one bencoded value (dict keys stay bytes)."""

    def value(p):
        c = data[p:p + 1]
        if c == b"i":
            end = data.index(b"e", p)
            return int(data[p + 1:end]), end + 1
        if c == b"l":
            out, p = [], p + 1
            while data[p:p + 1] != b"e":
                item, p = value(p)
                out.append(item)
            return out, p + 1
        if c == b"d":
            out, p = {}, p + 1
            while data[p:p + 1] != b"e":
                key, p = value(p)
                out[key], p = value(p)
            return out, p + 1
        colon = data.index(b":", p)
        end = colon + 1 + int(data[p:colon])
        return data[colon + 1:end], end

    return value(0)[0]


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return bytes(buf)


def handshake(info_hash, client, reserved_bits=0):
    """Our handshake: `client` is the 8-byte peer id prefix (e.g. b"-LI0001-"), reserved_bits go in byte 7."""
    reserved = bytearray(8)
    reserved[7] = reserved_bits
    return PROTOCOL + bytes(reserved) + info_hash + client + os.urandom(12)


def message(msg_id, payload=b""):
    return struct.pack(">IB", 1 + len(payload), msg_id) + payload


def bitfield_all(num_pieces):
    bits = bytearray((num_pieces + 7) // 8)
    for i in range(num_pieces):
        bits[i // 8] |= 0x80 >> (i % 8)
    return message(BITFIELD, bytes(bits))


def request(index, begin, length):
    return message(REQUEST, struct.pack(">III", index, begin, length))


def piece(index, begin, block):
    return struct.pack(">IBII", 9 + len(block), PIECE, index, begin) + bytes(block)


def read_message(sock):
    """(id, payload) of the next message; (None, b"") for a keep-alive."""
    length = struct.unpack(">I", recv_exact(sock, 4))[0]
    if length == 0:
        return None, b""
    body = recv_exact(sock, length)
    return body[0], body[1:]


def serve_forever(port, handler, *args):
    """Accepts connections on 127.0.0.1:port for ever, each served by handler(conn, *args) on a thread."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handler, args=(conn, *args), daemon=True).start()
