#!/usr/bin/env bash
# Local Service Discovery (BEP 14) with libtorrent, both ways, and Shoal with Shoal over IPv4 and over IPv6:
# torrents with no tracker, no --peer and no DHT, so multicast announces are the only way the peers can meet.
# Bytes compared.
#
# Multicast must never leave the test: everything runs in a network namespace of its own whose only link is
# its loopback, with a multicast route on it. Without the rights to make one (not root), the test is skipped.
set -euo pipefail

if [ -z "${SHOAL_LSD_NETNS:-}" ]; then
  ns="shoal-lsd-$$"
  if ! ip netns add "$ns" 2>/dev/null; then
    echo "skipped: cannot create a network namespace (needs root and iproute2)"
    exit 77
  fi
  trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
  ip -n "$ns" link set lo up
  ip -n "$ns" link set lo multicast on
  # src: announces leave from 127.0.0.1, an address the others can connect back to (without it, 0.0.0.0).
  ip -n "$ns" route add 239.0.0.0/8 dev lo src 127.0.0.1
  rc=0
  ip netns exec "$ns" env SHOAL_LSD_NETNS="$ns" bash "$0" || rc=$?
  exit "$rc"
fi

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
LT_PEER="$SHOAL_SOURCE_DIR/tests/interop/lt_peer.py"

# wait_log FILE PATTERN SECONDS: until a line matching PATTERN appears in FILE.
wait_log() {
  local deadline=$((SECONDS + $3))
  until grep -q -- "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "no '$2' in $1 after $3 s: $(tail -n 5 "$1")"
    sleep 0.1
  done
}

mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" 2097169 lsd
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/t.torrent" --piece-size 32K -q  # no tracker
hash=$(shoal_hash "$WORK/t.torrent")

# (a) libtorrent seeds with LSD only; Shoal finds it. libtorrent announced at its start, before Shoal was
# there: Shoal's own start-up announce makes libtorrent connect, and libtorrent's re-announce (every 2 s
# here) lets Shoal connect; either is enough.
lt_port=$(free_port)
"$LT_PEER" seed "$WORK/t.torrent" "$WORK/data" --port "$lt_port" --lsd --lsd-interval 2 >"$WORK/lt-seed.log" 2>&1 &
lt_pid=$!
wait_port "$lt_port"
timeout 120 "$SHOAL" get "$WORK/t.torrent" -o "$WORK/from-lt" --listen 127.0.0.1 --no-dht -v \
  >"$WORK/shoal-get-a.log" 2>&1 ||
  fail "Shoal did not download from libtorrent through LSD: $(grep -E 'lsd|LSD' "$WORK/shoal-get-a.log" | tail -n 5)"
cmp -s "$WORK/data/payload.bin" "$WORK/from-lt/payload.bin" || fail "bytes differ (libtorrent -> Shoal)"
pass "libtorrent -> Shoal through LSD only, bytes right"
kill "$lt_pid" 2>/dev/null || true
wait "$lt_pid" 2>/dev/null || true

# (b) Shoal seeds; libtorrent (LSD only, default 5-minute re-announce) downloads. Shoal is listening before
# libtorrent starts, so libtorrent's start-up announce is what brings them together: Shoal must decode it.
s_port=$(free_port)
"$SHOAL" seed "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$s_port" --no-dht -v \
  >"$WORK/shoal-seed.log" 2>&1 &
s_pid=$!
wait_log "$WORK/shoal-seed.log" "lsd: announced 1 torrent(s) on port $s_port" 30
lt_dl_port=$(free_port)
"$LT_PEER" download "$WORK/t.torrent" "$WORK/to-lt" --port "$lt_dl_port" --lsd --timeout 90 >"$WORK/lt-dl.log" 2>&1 ||
  fail "libtorrent did not download from Shoal through LSD: $(cat "$WORK/lt-dl.log"; grep -i lsd "$WORK/shoal-seed.log" | tail -n 5)"
cmp -s "$WORK/data/payload.bin" "$WORK/to-lt/payload.bin" || fail "bytes differ (Shoal -> libtorrent)"
grep -q "lsd: peer 127.0.0.1:$lt_dl_port for $hash" "$WORK/shoal-seed.log" ||
  fail "Shoal did not log libtorrent's announce: $(grep -i lsd "$WORK/shoal-seed.log" | tail -n 5)"
pass "Shoal -> libtorrent through LSD only (libtorrent's announce decoded), bytes right"

# A BT-SEARCH sent straight to the seeder's port (unicast, as anyone on the internet could), naming its torrent
# and a port that would be dialled: ignored, because it was not sent to the group.
bait_port=$(free_port)
printf 'BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: %s\r\nInfohash: %s\r\n\r\n\r\n' "$bait_port" "$hash" |
  $LT_PYTHON -c 'import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.stdin.buffer.read(), ("127.0.0.1", 6771))'
wait_log "$WORK/shoal-seed.log" "not to the LSD multicast group" 10
if grep -q "lsd: peer 127.0.0.1:$bait_port" "$WORK/shoal-seed.log"; then fail "a unicast BT-SEARCH named a peer"; fi
pass "a unicast BT-SEARCH to our port is ignored"

# (c) Shoal -> Shoal: the same seeder; a second Shoal process on the same host hears it (multicast loop on,
# cookies tell the two apart). This one names its LSD interface.
timeout 120 "$SHOAL" get "$WORK/t.torrent" -o "$WORK/from-shoal" --listen 127.0.0.1 --no-dht -v --lsd-interface 127.0.0.1 \
  >"$WORK/shoal-get-c.log" 2>&1 ||
  fail "Shoal did not download from Shoal through LSD: $(grep -E 'lsd|LSD' "$WORK/shoal-get-c.log" | tail -n 5)"
cmp -s "$WORK/data/payload.bin" "$WORK/from-shoal/payload.bin" || fail "bytes differ (Shoal -> Shoal)"
grep -q "lsd: peer 127.0.0.1:[0-9]* for $hash" "$WORK/shoal-seed.log" "$WORK/shoal-get-c.log" ||
  fail "neither Shoal logged the other's announce"
pass "Shoal -> Shoal through LSD only, bytes right"

# --no-lsd: a seeder that must stay silent on the group.
"$SHOAL" seed "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$(free_port)" --no-dht --no-lsd -v \
  >"$WORK/shoal-seed-quiet.log" 2>&1 &
quiet_pid=$!
wait_log "$WORK/shoal-seed-quiet.log" "seeding" 30
kill "$quiet_pid"
wait "$quiet_pid" 2>/dev/null || true
if grep -qi "lsd" "$WORK/shoal-seed-quiet.log"; then fail "--no-lsd still started LSD"; fi
pass "--no-lsd: no LSD at all"

# (d) IPv6 only: a veth pair with unique-local addresses gives the namespace an IPv6 multicast route (Linux
# loopback has none); the IPv4 route goes, so only announces to ff15::efc0:988f can bring the peers together.
kill "$s_pid" 2>/dev/null || true
wait "$s_pid" 2>/dev/null || true
if ip link add shoal-va type veth peer name shoal-vb 2>/dev/null; then
  ip link set shoal-va up
  ip link set shoal-vb up
  ip addr add fd00:5:14::1/64 dev shoal-va nodad
  ip addr add fd00:5:14::2/64 dev shoal-vb nodad
  ip route del 239.0.0.0/8
  v6_port=$(free_port)
  "$SHOAL" seed "$WORK/t.torrent" "$WORK/data" --port "$v6_port" --no-dht -v >"$WORK/shoal-seed-v6.log" 2>&1 &
  v6_pid=$!
  wait_log "$WORK/shoal-seed-v6.log" "lsd: announced 1 torrent(s) on port $v6_port to ff15::efc0:988f" 30
  grep -q "lsd: on IPv6 only" "$WORK/shoal-seed-v6.log" || fail "expected LSD on IPv6 only: $(grep lsd "$WORK/shoal-seed-v6.log")"
  timeout 120 "$SHOAL" get "$WORK/t.torrent" -o "$WORK/over-v6" --no-dht -v >"$WORK/shoal-get-v6.log" 2>&1 ||
    fail "Shoal did not download from Shoal through IPv6 LSD: $(grep -E 'lsd|LSD' "$WORK/shoal-get-v6.log" | tail -n 5)"
  cmp -s "$WORK/data/payload.bin" "$WORK/over-v6/payload.bin" || fail "bytes differ (IPv6 LSD)"
  grep -q "lsd: peer \[fd00:5:14::[12]\]:[0-9]* for $hash" "$WORK/shoal-seed-v6.log" "$WORK/shoal-get-v6.log" ||
    fail "no peer learnt from an IPv6 announce: $(grep lsd "$WORK/shoal-seed-v6.log" "$WORK/shoal-get-v6.log")"
  pass "Shoal -> Shoal through IPv6 LSD only, bytes right"
  kill "$v6_pid"
  wait "$v6_pid" 2>/dev/null || true
  ip link del shoal-va
else
  echo "IPv6 part not run: no veth devices here (IPv4 LSD tested above)"
  ip route del 239.0.0.0/8
fi

# (e) No multicast route at all: LSD says once why it is off, and the transfer goes on with the peer given.
e_port=$(free_port)
"$SHOAL" seed "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$e_port" --no-dht --no-lsd -q &
wait_port "$e_port"
timeout 120 "$SHOAL" get "$WORK/t.torrent" -o "$WORK/no-route" --listen 127.0.0.1 --no-dht --peer "127.0.0.1:$e_port" \
  >"$WORK/shoal-get-e.log" 2>&1 || fail "a download failed for want of multicast: $(tail -n 5 "$WORK/shoal-get-e.log")"
cmp -s "$WORK/data/payload.bin" "$WORK/no-route/payload.bin" || fail "bytes differ (no multicast route)"
expect_eq "$(grep -c "going on without local peer discovery" "$WORK/shoal-get-e.log")" 1 \
  "without a multicast route: one LSD message, and the download completes"

# A private torrent never uses LSD (BEP 27), even where multicast works.
ip route add 239.0.0.0/8 dev lo src 127.0.0.1
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/private.torrent" --piece-size 32K --private -q
"$SHOAL" seed "$WORK/private.torrent" "$WORK/data" --listen 127.0.0.1 --port "$(free_port)" --no-dht -v \
  >"$WORK/shoal-seed-private.log" 2>&1 &
private_pid=$!
wait_log "$WORK/shoal-seed-private.log" "seeding" 30
kill "$private_pid"
wait "$private_pid" 2>/dev/null || true
if grep -qi "lsd" "$WORK/shoal-seed-private.log"; then fail "a private torrent used LSD"; fi
pass "private torrent: no LSD"
finish
