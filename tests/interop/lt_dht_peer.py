#!/usr/bin/python3
"""A libtorrent peer on a private loopback DHT, for Shoal's DHT interop test.

seed:     lt_dht_peer.py seed TORRENT DATA_DIR --port P --bootstrap HOST:PORT
download: lt_dht_peer.py download MAGNET OUT_DIR --port P --bootstrap HOST:PORT [--timeout S]

Only the DHT finds peers (no trackers, LSD, UPnP, NAT-PMP). libtorrent's DHT limits that would shut out a
network of many nodes on 127.0.0.1 are relaxed, as the issue describes.
"""
import argparse
import sys
import time

import libtorrent as lt
from lt_private_dht import private_dht_settings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["seed", "download"])
    ap.add_argument("torrent")
    ap.add_argument("directory")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()

    settings = lt.default_settings()
    settings.update(private_dht_settings(args.port, args.bootstrap))
    settings.update({
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "min_reconnect_time": 1,
        "dht_announce_interval": 5,
        "alert_mask": lt.alert_category.error | lt.alert_category.status | lt.alert_category.dht,
    })
    ses = lt.session(settings)
    if args.mode == "seed":
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(args.torrent)
        params.flags |= lt.torrent_flags.seed_mode
    else:
        params = lt.parse_magnet_uri(args.torrent)
    params.save_path = args.directory
    handle = ses.add_torrent(params)
    print(f"listening {ses.listen_port()}", flush=True)
    start = time.monotonic()
    last_announce = 0.0
    while True:
        now = time.monotonic()
        if now - last_announce > 3:
            handle.force_dht_announce()
            last_announce = now
        status = handle.status()
        if args.mode == "download" and status.is_seeding:
            print(f"finished {now - start:.3f}", flush=True)
            return 0
        if args.mode == "download" and now - start > args.timeout:
            print(f"timeout at {status.progress * 100:.1f}%, dht nodes {ses.status().dht_nodes}", file=sys.stderr,
                  flush=True)
            return 1
        for alert in ses.pop_alerts():
            if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
                print(f"error: {alert.message()}", file=sys.stderr, flush=True)
                return 1
        ses.wait_for_alert(200)


if __name__ == "__main__":
    sys.exit(main())
