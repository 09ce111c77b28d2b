#!/usr/bin/env bash
# shoal tracker under hostile input: truncated and unknown UDP packets, forged or borrowed connection ids,
# port 0, huge numwant, oversized packets, bad HTTP queries, oversized headers, a full-scrape attempt and a
# per-IP flood. Each gets a BEP 15 / BEP 3 error or silence, the server keeps answering honest clients, and
# its memory does not grow from the garbage.
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

port=$(free_port)
echo "# no torrents yet" >"$WORK/whitelist"
# A small AddressSanitizer quarantine (where the build has one): freed memory is then given back, and RSS shows
# what the tracker itself holds.
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=8" \
  "$SHOAL" tracker --http "127.0.0.1:$port" --udp "127.0.0.1:$port" --max-requests-per-ip 2000 \
  --whitelist "$WORK/whitelist" >"$WORK/tracker.log" 2>&1 &
tracker_pid=$!
wait_port "$port"
rss_start_kb=$(awk '/VmRSS/ {print $2}' "/proc/$tracker_pid/status")

# The whitelist is read at start and re-read when the file changes: an announce refused before is served after.
h=123456789abcdef123456789abcdef123456789a
q="info_hash=%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A&port=6881&left=1"
curl -s "http://127.0.0.1:$port/announce?$q" | grep -q "whitelist" || fail "a hash not on the whitelist was served"
pass "not on the whitelist: refused"
printf '%s\n4848484848484848484848484848484848484848\n' "$h" >"$WORK/whitelist.new"
mv "$WORK/whitelist.new" "$WORK/whitelist"
deadline=$((SECONDS + 10))
until grep -q "reloaded, 2 info-hashes" "$WORK/tracker.log"; do
  [ $SECONDS -lt $deadline ] || fail "the whitelist was not reloaded: $(cat "$WORK/tracker.log")"
  sleep 0.2
done
curl -s "http://127.0.0.1:$port/announce?$q" | grep -q "5:peers" || fail "the hash added to the whitelist is refused"
pass "whitelist reloaded on change"
echo "not a hash" >"$WORK/whitelist.bad"
mv "$WORK/whitelist.bad" "$WORK/whitelist"
deadline=$((SECONDS + 10))
until grep -q "whitelist not reloaded" "$WORK/tracker.log"; do
  [ $SECONDS -lt $deadline ] || fail "a broken whitelist was not reported"
  sleep 0.2
done
curl -s "http://127.0.0.1:$port/announce?$q" | grep -q "5:peers" || fail "a broken whitelist file dropped the old list"
pass "a broken whitelist file keeps the old list"

$LT_PYTHON - "$port" <<'PY' || fail "hostile UDP/HTTP checks failed"
import os, socket, struct, sys, urllib.request

port = int(sys.argv[1])
MAGIC = 0x41727101980
failures = []

def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)

def udp(source_port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", source_port))
    s.settimeout(1.0)
    return s

def ask(s, packet):
    s.sendto(packet, ("127.0.0.1", port))
    try:
        return s.recvfrom(4096)[0]
    except socket.timeout:
        return None

def connect(s):
    r = ask(s, struct.pack(">QII", MAGIC, 0, 99))
    action, tid, cid = struct.unpack(">IIQ", r)
    assert action == 0 and tid == 99
    return cid

def announce(cid, tid=7, port_field=6881, numwant=50, event=2, info_hash=b"H" * 20, left=100):
    return struct.pack(">QII", cid, 1, tid) + info_hash + b"P" * 20 + struct.pack(">QQQIIIiH", 0, left, 0, event, 0, 0, numwant, port_field)

s = udp()
check(ask(s, b"\x00" * 15) is None, "a 15-byte packet gets no reply")
check(ask(s, struct.pack(">QII", 12345, 0, 1)) is None, "a connect without the magic gets no reply")
r = ask(s, struct.pack(">QII", MAGIC, 9, 5))
check(r is not None and struct.unpack(">II", r[:8]) == (3, 5), "an unknown action gets an error reply")
cid = connect(s)
r = ask(s, announce(cid))
check(r is not None and struct.unpack(">II", r[:8]) == (1, 7), "a proper announce is answered")
check(ask(s, announce(cid ^ 1)) is None, "a forged connection id gets no reply")
other = udp()
check(ask(other, announce(cid)) is None, "an id borrowed from another source port gets no reply")
r = ask(s, announce(cid, port_field=0))
check(r is not None and struct.unpack(">I", r[:4])[0] == 3 and b"port" in r[8:], "port 0 is refused with an error")
r = ask(s, announce(cid, event=9))
check(r is not None and struct.unpack(">I", r[:4])[0] == 3, "an unknown event gets an error reply")
# Many peers in one swarm, then a huge numwant: the reply stays within one packet.
for i in range(300):
    p = udp()
    c = connect(p)
    ask(p, announce(c, port_field=1000 + i))
    p.close()
r = ask(s, announce(cid, numwant=2**31 - 1))
check(r is not None and len(r) <= 1500 and (len(r) - 20) % 6 == 0 and len(r) > 20, f"numwant 2^31-1 is capped ({len(r)} bytes)")
r = ask(s, struct.pack(">QII", cid, 2, 8) + b"H" * 20 * 200)
check(r is not None and len(r) == 8 + 12 * 74, "a scrape of 200 hashes is cut to 74")
r = ask(s, struct.pack(">QII", cid, 2, 8))
check(r is not None and len(r) == 8, "an empty UDP scrape dumps nothing")
check(ask(s, os.urandom(65000)) is None, "a 65000-byte datagram gets no reply")
noise = udp()
for n in range(2000):
    noise.sendto(os.urandom(n % 120), ("127.0.0.1", port))
check(connect(udp()) != 0, "still answering after 2000 random packets")

def http(path, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception as e:
        return None, str(e).encode()

h = "%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A"
status, body = http(f"/announce?info_hash={h}&port=6881&left=1&numwant=999999999")
check(status == 200 and body.startswith(b"d") and b"peers" in body, "HTTP announce answered")
for query, word in [("info_hash=abc&port=1", b"info_hash"), (f"info_hash={h}&port=0", b"port"),
                    (f"info_hash={h}", b"port"), (f"info_hash=%zz&port=1", b"escape"),
                    (f"info_hash={h}&port=1&left=-5", b"number"), (f"info_hash={h}&port=1&event=boom", b"event"),
                    ("info_hash=" + "%ff" * 2000 + "&port=1", b"info_hash")]:
    status, body = http("/announce?" + query)
    check(status == 200 and body.startswith(b"d14:failure reason") and word in body, f"bad query '{query[:40]}' -> failure reason")
status, body = http("/scrape")
check(b"failure reason" in body, "a full scrape is refused")
status, body = http("/announce?" + "x" * 20000)
check(status == 431 and b"failure reason" in body, f"a 20 KB request line is refused ({status})")
status, body = http("/nothing")
check(status == 404, "unknown paths are 404")
raw = socket.create_connection(("127.0.0.1", port))
raw.sendall(b"\xff\xfe garbage \r\n\r\n")
raw.settimeout(3)
try:
    raw.recv(100)
except Exception:
    pass
raw.close()
status, body = http("/stats")
check(status == 200 and b"announces" in body, "still serving /stats after garbage: " + body.decode())
sys.exit(1 if failures else 0)
PY
pass "hostile input handled"

# Nothing above may have made the server grow: garbage keeps no state.
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$tracker_pid/status")
[ $((rss_kb - rss_start_kb)) -lt 65536 ] || fail "tracker RSS grew from $rss_start_kb kB to $rss_kb kB on hostile input"
pass "tracker RSS after hostile input: $rss_kb kB (was $rss_start_kb kB at start)"
kill -TERM "$tracker_pid"
wait "$tracker_pid" || fail "tracker did not exit cleanly on SIGTERM"
grep -q "shutting down" "$WORK/tracker.log" || fail "no clean shutdown message"
pass "SIGTERM stops the tracker cleanly"
finish
