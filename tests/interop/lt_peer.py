#!/usr/bin/python3
"""A libtorrent peer for Shoal's interop tests and benchmarks, confined to 127.0.0.1.

seed:     lt_peer.py seed TORRENT DATA_DIR --port P [--peer HOST:PORT]... [--high-performance] [--lsd]
          [--encryption require|disable]
download: lt_peer.py download (TORRENT|MAGNET) OUT_DIR --port P [--peer HOST:PORT]... [--timeout S] [--lsd]
          [--encryption require|disable]

Prints "listening PORT" once ready and "finished SECONDS" when a download completes (exit 0), or exits 1 on
timeout or error. DHT, UPnP and NAT-PMP are off; trackers in the torrent are used as they are. LSD (BEP 14
multicast) is off unless --lsd: only for tests inside their own network namespace. With --lsd, each peer
found through LSD is printed once as "lsd-peer IP:PORT". With --encryption require, MSE/PE with RC4 is forced
both ways (pe_forced, pe_rc4): plain peers are refused; --encryption disable speaks plain only.
"""
import argparse
import sys
import time

import libtorrent as lt


def make_session(port, high_performance, lsd_interval, encryption, transport="tcp"):
    pack = lt.high_performance_seed() if high_performance else lt.default_settings()
    pack.update({
        "listen_interfaces": f"127.0.0.1:{port}",
        "enable_dht": False,
        "enable_lsd": lsd_interval is not None,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "min_reconnect_time": 1,
        "peer_connect_timeout": 3,
        "announce_to_all_trackers": True,
        "announce_to_all_tiers": True,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "alert_mask": lt.alert_category.error | lt.alert_category.status,
    })
    if transport != "tcp":
        # uTP (BEP 29); "utp" turns TCP off both ways, so every transfer is over uTP.
        pack.update({"enable_outgoing_utp": True, "enable_incoming_utp": True})
        if transport == "utp":
            pack.update({"enable_outgoing_tcp": False, "enable_incoming_tcp": False})
    if encryption == "require":
        pack.update({
            "out_enc_policy": int(lt.enc_policy.forced),
            "in_enc_policy": int(lt.enc_policy.forced),
            "allowed_enc_level": int(lt.enc_level.rc4),
            "prefer_rc4": True,
        })
    elif encryption == "disable":
        pack.update({"out_enc_policy": int(lt.enc_policy.disabled), "in_enc_policy": int(lt.enc_policy.disabled)})
    if lsd_interval is not None:
        # libtorrent announces each torrent at start, then one torrent per interval / torrents.
        pack["local_service_announce_interval"] = lsd_interval
    return lt.session(pack)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["seed", "download"])
    ap.add_argument("torrent")
    ap.add_argument("directory")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--peer", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--high-performance", action="store_true")
    ap.add_argument("--lsd", action="store_true", help="find peers by local service discovery")
    ap.add_argument("--lsd-interval", type=int, default=300, help="LSD re-announce period (seconds)")
    ap.add_argument("--encryption", choices=["default", "require", "disable"], default="default",
                    help="require: MSE/PE with RC4 forced both ways; disable: plain only")
    ap.add_argument("--transport", choices=["tcp", "utp", "both"], default="tcp",
                    help="peer connections over TCP only (default), uTP only, or both")
    args = ap.parse_args()

    ses = make_session(args.port, args.high_performance, args.lsd_interval if args.lsd else None,
                       args.encryption, args.transport)
    if args.torrent.startswith("magnet:"):
        params = lt.parse_magnet_uri(args.torrent)  # metadata then comes from peers (ut_metadata)
    else:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(args.torrent)
    params.save_path = args.directory
    if args.mode == "seed":
        params.flags |= lt.torrent_flags.seed_mode
    handle = ses.add_torrent(params)
    print(f"listening {ses.listen_port()}", flush=True)

    start = time.monotonic()
    last_dial = 0.0
    lsd_peers = set()
    transports = set()
    while True:
        now = time.monotonic()
        # Keep dialling the given peers: the other side may not be listening yet.
        if args.peer and now - last_dial > 1.0:
            for peer in args.peer:
                host, port = peer.rsplit(":", 1)
                handle.connect_peer((host, int(port)))
            last_dial = now
        if args.lsd:
            for peer in handle.get_peer_info():
                if peer.source & lt.peer_info.lsd and peer.ip not in lsd_peers:
                    lsd_peers.add(peer.ip)
                    print(f"lsd-peer {peer.ip[0]}:{peer.ip[1]}", flush=True)
        for peer in handle.get_peer_info():
            # peer_info::utp_socket is bit 17 of the flags (not exported by the Python bindings).
            transports.add("utp" if int(peer.flags) & (1 << 17) else "tcp")
        status = handle.status()
        if args.mode == "download" and status.is_seeding:
            print(f"transports {','.join(sorted(transports))}", flush=True)
            print(f"finished {now - start:.3f}", flush=True)
            return 0
        if args.mode == "download" and now - start > args.timeout:
            print(f"timeout at {status.progress * 100:.1f}%", file=sys.stderr, flush=True)
            return 1
        for alert in ses.pop_alerts():
            if isinstance(alert, lt.lsd_error_alert):
                print(f"lsd error: {alert.message()}", file=sys.stderr, flush=True)
            if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
                print(f"error: {alert.message()}", file=sys.stderr, flush=True)
                return 1
        ses.wait_for_alert(200)


if __name__ == "__main__":
    sys.exit(main())
