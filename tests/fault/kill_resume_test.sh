#!/usr/bin/env bash
# kill -9 in the middle of a download, then a restart: the download completes with the right bytes, and the
# pieces verified before the kill are kept (the restart fetches less than the whole torrent).
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

size=4194319
mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" "$size" resume
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/t.torrent" --piece-size 32K -q
seed_port=$(free_port)
# A slow seeder so the kill lands mid-download.
"$SHOAL" seed --no-dht --no-lsd "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$seed_port" --max-up 1M -q &
wait_port "$seed_port"

"$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/dl" --listen 127.0.0.1 --peer "127.0.0.1:$seed_port" >"$WORK/first.log" 2>&1 &
leecher=$!
# Wait until it reports a third of the data, then kill it without warning.
deadline=$((SECONDS + 60))
until grep -qE "downloading +(3[3-9]|[4-9][0-9])\.[0-9]%" "$WORK/first.log"; do
  [ $SECONDS -lt $deadline ] || fail "the first download made no progress: $(tail -n 2 "$WORK/first.log")"
  kill -0 "$leecher" 2>/dev/null || fail "the first download ended early: $(tail -n 2 "$WORK/first.log")"
  sleep 0.2
done
kill -9 "$leecher"
wait "$leecher" 2>/dev/null || true
pass "killed mid-download"

timeout 120 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/dl" --listen 127.0.0.1 --peer "127.0.0.1:$seed_port" -v \
  >"$WORK/second.log" 2>&1 || fail "the restart did not complete: $(tail -n 5 "$WORK/second.log")"
cmp -s "$WORK/data/payload.bin" "$WORK/dl/payload.bin" || fail "bytes differ after the restart"
pass "restart completed with the right bytes"
fetched=$(sed -n "s/.*127.0.0.1:$seed_port.* got \([0-9]*\) B.*/\1/p" "$WORK/second.log" | awk '{s += $1} END {print s + 0}')
[ "$fetched" -lt $((size * 80 / 100)) ] || fail "the restart fetched $fetched of $size bytes: verified pieces were lost"
pass "the restart fetched only $fetched of $size bytes"
finish
