#!/usr/bin/env bash
# Peer exchange (BEP 11) and dual-stack listening between Shoal nodes, with no tracker:
#  - B knows only A; A is connected to the seeder S; B learns S's address through A's ut_pex and dials it.
#  - A seeder on the default listen address (::) serves an IPv6 leecher on [::1] and an IPv4 one on 127.0.0.1.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"

mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" 4194319 pex
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/t.torrent" --piece-size 64K -q

# S is slow so the swarm lives long enough for PEX to run (first message a couple of seconds after connecting).
s_port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$s_port" --max-up 400K -v \
  >"$WORK/s.log" 2>&1 &
wait_port "$s_port"
a_port=$(free_port)
timeout 120 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/a" --listen 127.0.0.1 --port "$a_port" --no-trackers -v \
  --peer "127.0.0.1:$s_port" >"$WORK/a.log" 2>&1 &
a_pid=$!
wait_port "$a_port"
b_port=$(free_port)
timeout 120 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/b" --listen 127.0.0.1 --port "$b_port" --no-trackers -v \
  --peer "127.0.0.1:$a_port" >"$WORK/b.log" 2>&1 || fail "B did not complete: $(tail -n 5 "$WORK/b.log")"
cmp -s "$WORK/data/payload.bin" "$WORK/b/payload.bin" || fail "B's bytes differ"
pass "B completed with the right bytes"
grep -Eq "127.0.0.1:$a_port pex: [0-9]+ added, [0-9]+ dropped, [1-9][0-9]* new" "$WORK/b.log" ||
  fail "B learned no new peer from A's PEX: $(grep pex "$WORK/b.log" | head -n 3)"
pass "B learned a new peer from A's ut_pex"
# B and S only know of each other through PEX (A tells each about the other): whichever dials first, they meet.
grep -q "127.0.0.1:$s_port connected (outgoing)" "$WORK/b.log" ||
  grep -q "127.0.0.1:$b_port connected (outgoing)" "$WORK/s.log" ||
  fail "B and S never connected, though A's PEX told them of each other"
pass "B and the seeder met through PEX"
wait "$a_pid" || fail "A did not complete: $(tail -n 5 "$WORK/a.log")"
cmp -s "$WORK/data/payload.bin" "$WORK/a/payload.bin" || fail "A's bytes differ"
pass "A completed with the right bytes"

# Dual stack: one listening socket on ::, reached over IPv6 and IPv4.
if ! ip -6 addr show dev lo 2>/dev/null | grep -q "::1"; then
  fail "this machine has no ::1 on lo; the IPv6 part of this test cannot run"
fi
d_port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$WORK/t.torrent" "$WORK/data" --port "$d_port" -q &
wait_port "$d_port"
timeout 60 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/v6" --listen ::1 --no-trackers -q --peer "[::1]:$d_port" ||
  fail "the IPv6 leecher did not complete"
cmp -s "$WORK/data/payload.bin" "$WORK/v6/payload.bin" || fail "IPv6 leecher's bytes differ"
pass "IPv6 leecher completed from a seeder listening on ::"
timeout 60 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/v4" --listen 127.0.0.1 --no-trackers -q --peer "127.0.0.1:$d_port" ||
  fail "the IPv4 leecher did not complete"
cmp -s "$WORK/data/payload.bin" "$WORK/v4/payload.bin" || fail "IPv4 leecher's bytes differ"
pass "IPv4 leecher completed from the same dual-stack socket"
finish
