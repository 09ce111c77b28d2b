#!/usr/bin/env bash
# A peer that asks a Shoal seeder for the leaf hashes (BEP 52) of every piece in a loop, each a new piece:
# the seeder hashes them on its pool within its caps and rejects the rest, so its network thread keeps
# serving an honest leecher (which completes with the right bytes, at a rate printed beside the rate with no
# flood) and its memory stays bounded. SHOAL_FLOOD_SECONDS sets how long the flood lasts (default 8).
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"
flood=$(dirname "$0")/hash_flood_peer.py

# 32 pieces of 4 MiB: their leaf layers (16 KiB each) are twice what the seeder keeps, so a flood that walks
# the pieces in order misses the cache every time and every answer is hashed anew.
size=$((128 * 1024 * 1024))
mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" "$size" flood
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/t.torrent" --piece-size 4M --v2 -q
seed_port=$(free_port)
# ASan keeps freed memory in quarantine (256 MiB by default) and would measure itself, not the seeder.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4:thread_local_quarantine_size_kb=64" \
  "$SHOAL" seed --no-dht --no-lsd "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$seed_port" -q &
seeder=$!
wait_port "$seed_port"
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

# download NAME: one honest download from the seeder; prints its seconds.
download() {
  rm -rf "$WORK/dl-$1" "$WORK/state"
  local start end
  start=$(date +%s.%N)
  timeout 300 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/dl-$1" --listen 127.0.0.1 \
    --peer "127.0.0.1:$seed_port" -q >"$WORK/$1.log" 2>&1 || fail "$1: the download did not complete: $(tail -n 3 "$WORK/$1.log")"
  end=$(date +%s.%N)
  cmp -s "$WORK/data/payload.bin" "$WORK/dl-$1/payload.bin" || fail "$1: bytes differ"
  echo "$end - $start" | bc -l
}

# start_flood SECONDS: the flooding peer, connected when this returns; stop_flood waits for its counts.
start_flood() {
  rm -f "$WORK/flood.fifo"
  mkfifo "$WORK/flood.fifo"
  /usr/bin/python3 "$flood" "$WORK/t.torrent" 127.0.0.1 "$seed_port" --seconds "$1" \
    >"$WORK/flood.fifo" 2>"$WORK/flood.err" &
  flooder=$!
  exec 4<"$WORK/flood.fifo"
  local ready
  read -r ready <&4 || fail "the flooding peer did not connect: $(cat "$WORK/flood.err")"
  [ "$ready" = ready ] || fail "the flooding peer said: $ready"
}
stop_flood() {
  read -r flood_line <&4 || fail "the flooding peer said nothing at the end: $(cat "$WORK/flood.err")"
  wait "$flooder" || true
  exec 4<&-
  local hashes rejects
  hashes=$(echo "$flood_line" | awk '{print $2}')
  rejects=$(echo "$flood_line" | awk '{print $4}')
  [ "$hashes" -gt 0 ] || fail "the flooding peer got no hashes: $flood_line"
  [ "$rejects" -gt 0 ] || fail "the flooding peer got no rejects (no cap on leaf hashing?): $flood_line"
}
seconds=${SHOAL_FLOOD_SECONDS:-6}

# Memory: the flood alone, measured from an idle seeder. Leaf hashing maps one piece at a time and the
# layers kept are bounded, so the flood adds little however long it lasts.
echo 5 >"/proc/$seeder/clear_refs"
idle=$(rss_mb "$seeder")
start_flood "$seconds"
stop_flood
peak=$(peak_rss_mb "$seeder")
[ $((peak - idle)) -lt 32 ] || fail "the seeder's RSS peaked at $peak MiB under the flood, from $idle MiB idle"
pass "the flood alone: $flood_line; seeder RSS $idle MiB idle, peak $peak MiB under the flood"

# Responsiveness: an honest download with no flood, then one under it.
quiet=$(download quiet)
pass "download with no flood: $(printf '%.1f' "$quiet") s"
start_flood "$seconds"
flooded=$(download flooded)
stop_flood
kill -0 "$seeder" || fail "the seeder died under the flood"
pass "download under the flood: $(printf '%.1f' "$flooded") s (with no flood $(printf '%.1f' "$quiet") s; flood: $flood_line)"
finish
