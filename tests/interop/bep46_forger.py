#!/usr/bin/python3
"""A hostile DHT node for Shoal's BEP 46 test: it tries to make followers of a feed take a version that its
publisher never signed, or an old one.

bep46_forger.py --key-file K --salt S --old-ih HEX [--put-to HOST:PORT]... --port P [--serve]

K holds the publisher's Ed25519 seed (the test lends it, so that a genuine old item can be replayed). Two items:
  replay  - the genuine item of sequence number 1 naming --old-ih (what the publisher stored first);
  forged  - sequence number 1000 naming a made-up info-hash, signed, then with its signature broken.
It first puts both on every --put-to node (get for a token, then put) and prints one line per answer:
  put replay HOST:PORT error CODE MESSAGE | put replay HOST:PORT stored
then "puts done" and, with --serve, "serving" and until killed answers pings, find_node and get_peers with an empty node list and every get
of the feed's target with one of the two items, in turn, printing "answered get from HOST:PORT with KIND".
"""
import argparse
import hashlib
import os
import socket
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


class Raw(bytes):
    """Bytes that are already bencoded (an item's "v")."""


def bencode(x):
    if isinstance(x, Raw):
        return bytes(x)
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, str):
        x = x.encode()
    if isinstance(x, bytes):
        return b"%d:%s" % (len(x), x)
    if isinstance(x, dict):
        keys = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in x.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in keys) + b"e"
    raise TypeError(type(x))


def bdecode(data, i=0):
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c == b"l":
        out, i = [], i + 1
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        out, i = {}, i + 1
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            v, i = bdecode(data, i)
            out[k] = v
        return out, i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    return data[colon + 1:colon + 1 + n], colon + 1 + n


def signature_buffer(salt, seq, value):
    return (bencode(b"salt") + bencode(salt) if salt else b"") + b"3:seqi%de1:v" % seq + value


def endpoint(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key-file", required=True)
    ap.add_argument("--salt", default="")
    ap.add_argument("--old-ih", required=True)
    ap.add_argument("--put-to", action="append", default=[])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--serve", action="store_true")
    args = ap.parse_args()

    private = Ed25519PrivateKey.from_private_bytes(open(args.key_file, "rb").read())
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    salt = args.salt.encode()
    target = hashlib.sha1(public + salt).digest()
    items = {}
    replay_value = bencode({"ih": bytes.fromhex(args.old_ih)})
    items["replay"] = (1, replay_value, private.sign(signature_buffer(salt, 1, replay_value)))
    forged_value = bencode({"ih": hashlib.sha1(b"not the publisher's folder").digest()})
    signature = bytearray(private.sign(signature_buffer(salt, 1000, forged_value)))
    signature[7] ^= 0x20
    items["forged"] = (1000, forged_value, bytes(signature))

    node_id = os.urandom(20)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", args.port))
    sock.settimeout(5)

    def ask(to, query, arguments):
        arguments["id"] = node_id
        sock.sendto(bencode({"t": b"fg", "y": b"q", "q": query, "a": arguments}), to)
        while True:
            data, sender = sock.recvfrom(65536)
            if sender == to:
                return bdecode(data)[0]

    for text in args.put_to:
        to = endpoint(text)
        for kind, (seq, value, sig) in items.items():
            try:
                got = ask(to, b"get", {"target": target})
                token = got.get(b"r", {}).get(b"token", b"")
                reply = ask(to, b"put", {"token": token, "k": public, "salt": salt, "seq": seq, "sig": sig,
                                         "v": Raw(value)})
            except socket.timeout:
                print(f"put {kind} {text} timeout", flush=True)
                continue
            if b"e" in reply:
                code, message = reply[b"e"][0], reply[b"e"][1].decode("utf-8", "replace")
                print(f"put {kind} {text} error {code} {message}", flush=True)
            else:
                print(f"put {kind} {text} stored", flush=True)

    print("puts done", flush=True)
    if not args.serve:
        return 0
    print("serving", flush=True)
    sock.settimeout(None)
    turn = 0
    while True:
        data, sender = sock.recvfrom(65536)
        try:
            message = bdecode(data)[0]
        except (ValueError, IndexError):
            continue
        if not isinstance(message, dict) or message.get(b"y") != b"q":
            continue
        reply = {"id": node_id, "nodes": b""}
        arguments = message.get(b"a", {})
        if message.get(b"q") == b"get" and arguments.get(b"target") == target:
            kind = ("forged", "replay")[turn % 2]
            turn += 1
            seq, value, sig = items[kind]
            reply.update({"token": b"tk", "k": public, "seq": seq, "sig": sig, "v": Raw(value)})
            print(f"answered get from {sender[0]}:{sender[1]} with {kind}", flush=True)
        elif message.get(b"q") in (b"get", b"get_peers"):
            reply["token"] = b"tk"
        sock.sendto(bencode({"t": message.get(b"t", b""), "y": b"r", "r": reply}), sender)


if __name__ == "__main__":
    sys.exit(main())
