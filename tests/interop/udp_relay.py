#!/usr/bin/env python3
"""A user-space UDP relay standing in for a slow, lossy link (the kernel here has no tc netem).

Datagrams to --listen go to --target after --delay-ms (each way), a fraction --loss of them dropped (seeded);
the target's answers go back to whoever sent last. One client at a time. --log prints each uTP header.
"""
import argparse
import heapq
import random
import select
import socket
import struct
import sys
import time


def describe(data):
    if len(data) < 20:
        return f"short {len(data)}"
    t, ext, cid, ts, tsd, wnd, seq, ack = struct.unpack(">BBHIIIHH", data[:20])
    names = ["DATA", "FIN", "STATE", "RESET", "SYN"]
    kind = names[t >> 4] if (t >> 4) < len(names) else f"type{t >> 4}"
    return f"{kind} id={cid} seq={seq} ack={ack} wnd={wnd} ext={ext} len={len(data)}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--target", required=True, help="HOST:PORT")
    ap.add_argument("--delay-ms", type=float, default=0)
    ap.add_argument("--loss", type=float, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log", action="store_true")
    args = ap.parse_args()
    host, port = args.target.rsplit(":", 1)
    target = (host, int(port))
    rng = random.Random(args.seed)
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(("127.0.0.1", args.listen))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.bind(("127.0.0.1", 0))
    for s in (front, back):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        s.setblocking(False)
    client = None
    queue = []  # (due, n, socket, data, address)
    n = 0
    delay = args.delay_ms / 1000
    print(f"relay {args.listen} -> {args.target}", flush=True)
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else 1.0
        ready, _, _ = select.select([front, back], [], [], timeout)
        now = time.monotonic()
        for s in ready:
            for _ in range(64):
                try:
                    data, addr = s.recvfrom(65536)
                except BlockingIOError:
                    break
                if s is front:
                    client = addr
                    out, to, tag = back, target, ">"
                else:
                    if client is None:
                        continue
                    out, to, tag = front, client, "<"
                if args.log:
                    print(f"{now:.6f} {tag} {describe(data)}", flush=True)
                if args.loss > 0 and rng.random() < args.loss:
                    continue
                n += 1
                heapq.heappush(queue, (now + delay, n, out, data, to))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, data, to = heapq.heappop(queue)
            try:
                out.sendto(data, to)
            except OSError:
                pass


if __name__ == "__main__":
    sys.exit(main())
