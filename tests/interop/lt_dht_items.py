#!/usr/bin/python3
"""A libtorrent DHT node that stores and fetches BEP 44 items on command, for Shoal's item interop test.

lt_dht_items.py --port P --bootstrap HOST:PORT

Prints "ready" once its DHT has bootstrapped, then reads one command per line on stdin and answers with one line:
  put-immutable TEXT                -> put-immutable TARGET_HEX NUM_SUCCESS
  put-mutable SEED_HEX SALT TEXT    -> put-mutable PUBLIC_KEY_HEX SEQ NUM_SUCCESS   (SALT "-" means none)
  get-immutable TARGET_HEX          -> value TEXT | notfound
  get-mutable PUBLIC_KEY_HEX SALT   -> value SEQ TEXT | notfound   (a BEP 46 item {"ih": ...}: TEXT is ih:HEX)
TEXT is stored as a bencoded string. libtorrent's DHT limits that would shut out a network of nodes on
127.0.0.1 are relaxed, as in lt_dht_peer.py.
"""
import argparse
import hashlib
import re
import sys
import time

import libtorrent as lt
from lt_private_dht import private_dht_settings
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def keypair(seed):
    """libtorrent signs with the expanded 64-byte secret key (SHA-512 of the seed, first half clamped)."""
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    expanded = bytearray(hashlib.sha512(seed).digest())
    expanded[0] &= 248
    expanded[31] &= 63
    expanded[31] |= 64
    return public, bytes(expanded)


def raw(field):
    """Binary alert fields arrive as bytes or, for some, as str (the salt): compare them as bytes."""
    if isinstance(field, bytes):
        return field
    if isinstance(field, str):
        return field.encode("utf-8", "surrogateescape")
    return bytes(field)


def feed_text_of(message):
    """ih:HEX from the alert's message, which prints the item as libtorrent's entry::to_string() does."""
    found = re.search(r"'ih': '([0-9a-f]{40})'", message)
    return "ih:" + found.group(1) if found else None


def text_of(item):
    # A BEP 46 feed item: {"ih": <20 bytes>} (keys as str or bytes, as the binding has it).
    if isinstance(item, dict):
        ih = item.get("ih", item.get(b"ih"))
        if ih is not None and "value" not in item:
            return "ih:" + raw(ih).hex()
    # The binding hands immutable items over as {"key": target, "value": data}.
    if isinstance(item, dict):
        item = item.get("value")
    if isinstance(item, bytes):
        return item.decode("utf-8", "replace")
    if isinstance(item, str):
        return item
    return None


class Node:
    def __init__(self, port, bootstrap, timeout, verbose):
        settings = lt.default_settings()
        settings.update(private_dht_settings(port, bootstrap))
        settings.update({
            "alert_mask": lt.alert_category.error | lt.alert_category.status | lt.alert_category.dht |
            (lt.alert_category.dht_log | lt.alert_category.dht_operation if verbose else 0),
        })
        self.ses = lt.session(settings)
        self.timeout = timeout
        self.verbose = verbose

    def wait_for(self, match):
        """Pops alerts until match(alert) returns something other than None; None after the timeout."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            self.ses.wait_for_alert(200)
            for alert in self.ses.pop_alerts():
                if self.verbose:
                    print(f"{type(alert).__name__}: {alert.message()}", file=sys.stderr, flush=True)
                result = match(alert)
                if result is not None:
                    return result
        return None

    def wait_ready(self):
        # libtorrent keeps the bootstrap node out of its routing table (it is a "router"), so with a single
        # `shoal dht` the table may stay empty: the end of the bootstrap lookup is the signal to wait for.
        return self.wait_for(lambda a: True if isinstance(a, lt.dht_bootstrap_alert) else None) is not None

    def put_immutable(self, text):
        target = self.ses.dht_put_immutable_item(text.encode())
        done = self.wait_for(lambda a: a.num_success if isinstance(a, lt.dht_put_alert) and a.target == target
                             else None)
        return f"put-immutable {target} {done if done is not None else -1}"

    def put_mutable(self, seed_hex, salt, text):
        public, secret = keypair(bytes.fromhex(seed_hex))
        self.ses.dht_put_mutable_item(secret, public, text.encode(), salt)

        def match(a):
            if self.verbose and isinstance(a, lt.dht_put_alert):
                print(f"put: key {a.public_key!r} salt {a.salt!r} seq {a.seq} ok {a.num_success}", file=sys.stderr,
                      flush=True)
            if isinstance(a, lt.dht_put_alert) and raw(a.public_key) == public and raw(a.salt) == salt:
                return a
            return None
        alert = self.wait_for(match)
        if alert is None:
            return f"put-mutable {public.hex()} -1 -1"
        return f"put-mutable {public.hex()} {alert.seq} {alert.num_success}"

    def get_immutable(self, target_hex):
        target = lt.sha1_hash(bytes.fromhex(target_hex))
        self.ses.dht_get_immutable_item(target)
        item = self.wait_for(lambda a: a if isinstance(a, lt.dht_immutable_item_alert) and a.target == target
                             else None)
        text = text_of(item.item) if item is not None else None
        return f"value {text}" if text is not None else "notfound"

    def get_mutable(self, key_hex, salt):
        key = bytes.fromhex(key_hex)
        self.ses.dht_get_mutable_item(key, salt)
        best = {}

        def match(a):
            if not isinstance(a, lt.dht_mutable_item_alert) or raw(a.key) != key or raw(a.salt) != salt:
                return None
            if self.verbose:
                print(f"mutable item: {a.item!r} seq {a.seq} authoritative {a.authoritative}", file=sys.stderr,
                      flush=True)
            try:
                text = text_of(a.item)
            except RuntimeError:  # the binding cannot convert a dictionary holding binary strings
                text = feed_text_of(a.message())
            if text is not None and a.seq >= best.get("seq", -1):
                best.update(seq=a.seq, text=text)
            return True if a.authoritative else None  # the lookup is over
        self.wait_for(match)
        return f"value {best['seq']} {best['text']}" if best else "notfound"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--verbose", action="store_true", help="every DHT alert (packets too) on stderr")
    args = ap.parse_args()
    node = Node(args.port, args.bootstrap, args.timeout, args.verbose)
    if not node.wait_ready():
        print("the DHT did not bootstrap", file=sys.stderr, flush=True)
        return 1
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.rstrip("\n").split(" ")
        command = words[0]
        if command == "put-immutable":
            answer = node.put_immutable(" ".join(words[1:]))
        elif command == "put-mutable":
            salt = b"" if words[2] == "-" else words[2].encode()
            answer = node.put_mutable(words[1], salt, " ".join(words[3:]))
        elif command == "get-immutable":
            answer = node.get_immutable(words[1])
        elif command == "get-mutable":
            answer = node.get_mutable(words[1], b"" if words[2] == "-" else words[2].encode())
        else:
            answer = f"unknown command {command}"
        print(answer, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
