#!/usr/bin/env bash
# A long fat path: a Shoal seeder behind wan_relay (bench/wan_relay.cpp: 200 ms each way, 80 Mbit/s, push-back
# past two bandwidth-delay products), a Shoal leecher through it. The leecher keeps more requests in flight
# than the path holds (10 MB/s x 400 ms = 244 blocks of 16 KiB), which its close log reports with the round
# trip it measured, and gets the file at most of the line's rate.
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

: "${WAN_RELAY:?WAN_RELAY must point at the wan_relay binary (bench/, SHOAL_BUILD_BENCH)}"
delay_ms=200
rate_mbit=80
size=$((24 * 1024 * 1024))
bdp_blocks=$((rate_mbit * 1000000 / 8 * 2 * delay_ms / 1000 / 16384))

mkdir -p "$WORK/data"
make_data "$WORK/data/far.bin" "$size" far
"$SHOAL" create "$WORK/data/far.bin" -o "$WORK/t.torrent" --piece-size 1M -q

port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$port" \
  >"$WORK/seed.log" 2>&1 &
wait_port "$port"
"$WAN_RELAY" --to "127.0.0.1:$port" --delay-ms "$delay_ms" --rate-mbit "$rate_mbit" \
  --port-file "$WORK/relay.port" >/dev/null 2>"$WORK/relay.log" &
for _ in $(seq 100); do [ -s "$WORK/relay.port" ] && break; sleep 0.05; done
relay_port=$(cat "$WORK/relay.port")
[ -n "$relay_port" ] || fail "the relay did not start: $(cat "$WORK/relay.log")"

start=$(date +%s.%N)
timeout 120 "$SHOAL" get --no-dht --no-lsd --no-trackers "$WORK/t.torrent" \
  -o "$WORK/dl" --listen 127.0.0.1 --peer "127.0.0.1:$relay_port" -v >"$WORK/get.log" 2>&1 ||
  fail "the download through the relay did not complete: $(tail -n 5 "$WORK/get.log")"
end=$(date +%s.%N)
cmp -s "$WORK/data/far.bin" "$WORK/dl/far.bin" || fail "downloaded bytes differ"
seconds=$(echo "$end - $start" | bc -l)
pass "$((size / 1048576)) MiB through a ${delay_ms} ms, ${rate_mbit} Mbit/s relay in $(printf '%.1f' "$seconds") s"

# "... closed: both seeding; got N B, sent 0 B; requests in flight at most D, round trip R ms"
line=$(grep -m1 'requests in flight at most' "$WORK/get.log") ||
  fail "no close line with the queue depth: $(tail -n 5 "$WORK/get.log")"
echo "$line"
depth=$(sed -n 's/.*requests in flight at most \([0-9]*\).*/\1/p' <<<"$line")
rtt=$(sed -n 's/.*round trip \([0-9]*\) ms.*/\1/p' <<<"$line")
[ -n "$rtt" ] && [ "$rtt" -ge $((2 * delay_ms)) ] && [ "$rtt" -lt $((2 * delay_ms + 200)) ] ||
  fail "measured round trip '$rtt' ms, the path's is $((2 * delay_ms)) ms"
pass "the leecher measured the path's round trip: $rtt ms"
[ "$depth" -gt "$bdp_blocks" ] || fail "at most $depth requests in flight, the path holds $bdp_blocks"
pass "requests in flight reached $depth, above the path's bandwidth-delay product of $bdp_blocks blocks"
# The line's time plus a few round trips of slow start and the seeder's start; loose for a debug build.
ideal=$(echo "$size / ($rate_mbit * 1000000 / 8)" | bc -l)
(($(echo "$seconds < 2 * $ideal + 4" | bc -l))) ||
  fail "took $seconds s, the line needs $(printf '%.1f' "$ideal") s"
pass "within twice the line's time plus 4 s (line: $(printf '%.1f' "$ideal") s)"
finish
