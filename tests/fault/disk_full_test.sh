#!/usr/bin/env bash
# A download into a folder on a tiny tmpfs stops with a clear "no space" error instead of crashing, and the
# pieces it verified before the disk filled are kept: a later download from that data fetches only the rest.
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

if [ "$(id -u)" != 0 ]; then
  echo "skipped: mounting a tmpfs needs root"
  echo "0 passed, 0 failed"
  exit 0
fi
size=3145741
mkdir -p "$WORK/data" "$WORK/small"
make_data "$WORK/data/payload.bin" "$size" diskfull
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/t.torrent" --piece-size 32K -q
mount -t tmpfs -o size=1m tmpfs "$WORK/small"
trap 'umount "$WORK/small" 2>/dev/null || true; cleanup' EXIT
seed_port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$seed_port" -q &
wait_port "$seed_port"

if timeout 60 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/small/dl" --listen 127.0.0.1 \
  --peer "127.0.0.1:$seed_port" -q 2>"$WORK/get.err"; then
  fail "a download bigger than the disk succeeded"
fi
grep -qi "no space left on device" "$WORK/get.err" || fail "no clear error: $(cat "$WORK/get.err")"
pass "stopped with: $(tail -n 1 "$WORK/get.err")"

# Move what was saved to a roomy folder and finish there: the verified pieces are found by the recheck.
mkdir -p "$WORK/roomy"
cp -a "$WORK/small/dl/." "$WORK/roomy/"
timeout 60 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/roomy" --listen 127.0.0.1 --peer "127.0.0.1:$seed_port" -v \
  >"$WORK/second.log" 2>&1 || fail "could not finish: $(tail -n 3 "$WORK/second.log")"
cmp -s "$WORK/data/payload.bin" "$WORK/roomy/payload.bin" || fail "bytes differ"
fetched=$(sed -n "s/.*127.0.0.1:$seed_port.* got \([0-9]*\) B.*/\1/p" "$WORK/second.log" | awk '{s += $1} END {print s + 0}')
[ "$fetched" -lt "$size" ] || fail "every byte was fetched again: nothing verified was kept"
pass "finished elsewhere fetching $fetched of $size bytes"
finish
