#!/usr/bin/env bash
# Peers that ask for blocks and never read them cost the seeder a bounded amount of memory: four connections
# ask for one block of every piece of a 256 MiB torrent (4 MiB pieces), then for every block, and never read.
# The seeder's peak RSS during the attack grows by less than 100 MiB plus its 64 MiB read cache over the idle
# seeder's (which, in a debug build, holds ASan's shadow memory and a large binary), and an honest download from
# it still completes.
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

attacker="$SHOAL_SOURCE_DIR/tests/fault/nonreading_peer.py"
mkdir -p "$WORK/data"
make_data "$WORK/data/big.bin" $((256 * 1024 * 1024)) hostile
"$SHOAL" create "$WORK/data/big.bin" -o "$WORK/t.torrent" --piece-size 4M -q

port=$(free_port)
# ASan keeps freed memory in quarantine (256 MiB by default) and would measure itself, not the seeder.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4:thread_local_quarantine_size_kb=64" \
  "$SHOAL" seed --no-dht --no-lsd "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$port" -v \
  >"$WORK/seed.log" 2>&1 &
seeder=$!
wait_port "$port"
# The start-up check maps the files (their pages count in RSS): measure from when it is over.
"$attacker" "$WORK/t.torrent" 127.0.0.1 "$port" --probe >/dev/null || fail "the seeder never answered"
echo 5 >"/proc/$seeder/clear_refs"  # resets VmHWM to the current RSS
idle_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$seeder/status")

mkfifo "$WORK/attack"
"$attacker" "$WORK/t.torrent" 127.0.0.1 "$port" 4 --all >"$WORK/attack" &
read -r -t 60 line <"$WORK/attack" || fail "the attacker did not get its requests out"
pass "four connections asked for every block and read nothing ($line)"

timeout 180 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/dl" --listen 127.0.0.1 -q \
  --peer "127.0.0.1:$port" >"$WORK/get.log" 2>&1 ||
  fail "the honest download did not complete: $(tail -n 5 "$WORK/get.log")"
cmp -s "$WORK/data/big.bin" "$WORK/dl/big.bin" || fail "downloaded bytes differ"
pass "an honest download from the same seeder completed"

kill -0 "$seeder" 2>/dev/null || fail "the seeder died: $(tail -n 5 "$WORK/seed.log")"
hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$seeder/status")
grown_kb=$((hwm_kb - idle_kb))
limit_kb=$(((100 + 64) * 1024))
echo "seeder RSS: $((idle_kb / 1024)) MiB idle, peak $((hwm_kb / 1024)) MiB: +$((grown_kb / 1024)) MiB (limit +$((limit_kb / 1024)) MiB)"
[ "$grown_kb" -lt "$limit_kb" ] || fail "seeder RSS grew by $((grown_kb / 1024)) MiB >= $((limit_kb / 1024)) MiB"
pass "the seeder's RSS grew by less than 100 MiB + the read cache"
finish
