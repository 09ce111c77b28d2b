#!/usr/bin/python3
"""libtorrent beside bench/session_load: loads the same N torrents (DIR/torrents, data in DIR/data) into one
session in seed mode (no hashing, as Shoal with resume data), waits until every one is seeding, then idles.

usage: session_lt.py DIR N IDLE_SECONDS
Prints one line of key=value pairs with the same keys as session_load. DHT, LSD, UPnP, NAT-PMP off; listens
on 127.0.0.1 only; trackers: none in these torrents.
"""
import os
import resource
import sys
import time

import libtorrent as lt


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main():
    directory, n, idle = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    rss_before = rss_bytes()
    start = time.monotonic()
    ses = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        # As many active torrents as there are: none waits in libtorrent's queue.
        "active_downloads": -1,
        "active_seeds": -1,
        "active_limit": -1,
        "alert_mask": lt.alert_category.error | lt.alert_category.status,
        # One add_torrent_alert per torrent must fit (the default queue of 2,000 drops the rest).
        "alert_queue_size": 2 * n + 1000,
    })
    for i in range(n):
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(os.path.join(directory, "torrents", f"t{i:05d}.torrent"))
        p.save_path = os.path.join(directory, "data")
        p.flags |= lt.torrent_flags.seed_mode
        p.flags &= ~lt.torrent_flags.auto_managed
        p.flags &= ~lt.torrent_flags.paused
        ses.async_add_torrent(p)
    added = 0
    while added < n:
        ses.wait_for_alert(1000)
        for a in ses.pop_alerts():
            if isinstance(a, lt.add_torrent_alert):
                if a.error.value():
                    print(f"add failed: {a.error.message()}", file=sys.stderr)
                    return 1
                added += 1
    seeding = lt.torrent_status.states.seeding
    while True:
        states = [h.status().state for h in ses.get_torrents()]
        if len(states) == n and all(s == seeding for s in states):
            break
        time.sleep(0.05)
    load = time.monotonic() - start
    rss_loaded = rss_bytes()
    ses.pop_alerts()
    cpu0 = cpu_seconds()
    t0 = time.monotonic()
    time.sleep(idle)
    cpu = (cpu_seconds() - cpu0) / (time.monotonic() - t0)
    rss_idle = rss_bytes()
    print(f"torrents={n} load_seconds={load:.3f} rss_before={rss_before} rss_loaded={rss_loaded} "
          f"rss_idle={rss_idle} idle_cpu={cpu:.5f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
