#!/usr/bin/env bash
# A file deleted under a running download stops that torrent with an error naming the file (no crash, no
# writes into nowhere), and a restart notices the resume data no longer matches, rechecks, and completes.
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

size=4194319
mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" "$size" deleted
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/t.torrent" --piece-size 32K -q
seed_port=$(free_port)
# Slow enough that the download is still running when its file disappears.
"$SHOAL" seed --no-dht --no-lsd "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$seed_port" --max-up 300K -q &
wait_port "$seed_port"

timeout 60 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/dl" --listen 127.0.0.1 --no-trackers \
  --peer "127.0.0.1:$seed_port" -q 2>"$WORK/get.err" &
get_pid=$!
deadline=$((SECONDS + 30))
until [ -s "$WORK/dl/payload.bin" ]; do
  [ $SECONDS -lt $deadline ] || fail "the download never created its file"
  sleep 0.1
done
rm "$WORK/dl/payload.bin"
rc=0
wait "$get_pid" || rc=$?
[ "$rc" != 0 ] || fail "the download reported success after its file was deleted"
[ "$rc" != 124 ] || fail "the download did not notice its file was deleted (timed out)"
grep -q "payload.bin was deleted" "$WORK/get.err" || fail "no clear error: $(cat "$WORK/get.err")"
pass "stopped with: $(tail -n 1 "$WORK/get.err")"

timeout 90 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/dl" --listen 127.0.0.1 --no-trackers \
  --peer "127.0.0.1:$seed_port" -q || fail "the restarted download did not complete"
cmp -s "$WORK/data/payload.bin" "$WORK/dl/payload.bin" || fail "bytes differ after the restart"
pass "a restart rechecked and completed with the right bytes"
finish
