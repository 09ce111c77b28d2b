#!/usr/bin/env bash
# BEP 52 per-block blame: a v2-only torrent served by an honest seed and by a peer whose every piece has one bad
# block (the second). Pieces the two shared fail; their leaf hashes, asked of a peer, show which block was
# bad, so the bad peer is banned and the honest seed, which sent good blocks of the same pieces, never is.
# The download completes with the right bytes.
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" 2097169 honest
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/t.torrent" --v2 --piece-size 64K -q
read -r piece_length num_pieces < <("$SHOAL" info --json "$WORK/t.torrent" |
  $LT_PYTHON -c 'import json, sys; j = json.load(sys.stdin); print(j["piece_length"], j["num_pieces"])')

bad_port=$(free_port)
"$SHOAL_SOURCE_DIR/tests/fault/one_bad_block_peer.py" "$WORK/t.torrent" "$WORK/data/payload.bin" \
  "$piece_length" "$num_pieces" "$bad_port" &
wait_port "$bad_port"
honest_port=$(free_port)
# The honest seed is slow, so that the two share pieces.
"$SHOAL" seed --no-dht --no-lsd "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$honest_port" \
  --max-up 1M --state-dir "$WORK/seed-state" -q &
wait_port "$honest_port"

timeout 120 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/dl" --listen 127.0.0.1 -v \
  --state-dir "$WORK/get-state" --peer "127.0.0.1:$bad_port" --peer "127.0.0.1:$honest_port" >"$WORK/get.log" 2>&1 ||
  fail "download did not complete: $(tail -n 5 "$WORK/get.log")"
cmp -s "$WORK/data/payload.bin" "$WORK/dl/payload.bin" || fail "downloaded bytes differ"
pass "download completed with the right bytes"
grep -q "127.0.0.1:$bad_port.*sent data that failed the hash check" "$WORK/get.log" ||
  fail "the peer with bad blocks was not banned: $(grep "$bad_port" "$WORK/get.log" | head -n 3)"
pass "the peer that sent one bad block a piece was banned"
if grep -q "127.0.0.1:$honest_port.*sent data that failed the hash check" "$WORK/get.log"; then
  fail "the honest seed was banned"
fi
pass "the honest seed was not"
# The bad peer never completes a piece alone: it was caught by leaf hashes (asked of it first, rejected, then
# answered by the honest Shoal seed from the piece it read).
blamed=$(grep -c "blamed block by block" "$WORK/get.log" || true)
[ "$blamed" -ge 1 ] || fail "no piece was blamed from its leaf hashes"
pass "caught by leaf hashes ($blamed pieces blamed block by block)"
finish
