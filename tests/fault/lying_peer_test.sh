#!/usr/bin/env bash
# A peer that answers every request with garbage is banned once its pieces fail the hash check, and the download
# completes from the honest seeder with the right bytes.
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" 2097169 honest
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/t.torrent" --piece-size 32K -q

liar_port=$(free_port)
"$SHOAL_SOURCE_DIR/tests/fault/liar_peer.py" "$WORK/t.torrent" "$liar_port" &
wait_port "$liar_port"
honest_port=$(free_port)
# The honest seeder is slow, so the liar gets plenty of requests.
"$SHOAL" seed --no-dht --no-lsd "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$honest_port" --max-up 1M -q &
wait_port "$honest_port"

timeout 120 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/dl" --listen 127.0.0.1 -v \
  --peer "127.0.0.1:$liar_port" --peer "127.0.0.1:$honest_port" >"$WORK/get.log" 2>&1 ||
  fail "download did not complete: $(tail -n 5 "$WORK/get.log")"
cmp -s "$WORK/data/payload.bin" "$WORK/dl/payload.bin" || fail "downloaded bytes differ"
pass "download completed with the right bytes"
grep -q "127.0.0.1:$liar_port.*sent data that failed the hash check" "$WORK/get.log" ||
  fail "the lying peer was not banned: $(grep "$liar_port" "$WORK/get.log" | head -n 3)"
pass "the lying peer was banned"
reconnects=$(grep -c "127.0.0.1:$liar_port connected" "$WORK/get.log" || true)
[ "$reconnects" -le 1 ] || fail "the banned peer was dialled again ($reconnects connections)"
pass "a banned peer is not dialled again"
finish
