#!/usr/bin/env bash
# BEP 52 piece layers wider than one hashes message, by btmh magnet, between Shoal and libtorrent 2.0 on
# 127.0.0.1, bytes compared. One v2-only file of 9,000 pieces of 16 KiB (~141 MiB): its piece layer is more
# than the 8,192 hashes libtorrent answers (or sends) in one message, so it travels in runs of 512, each with
# the uncle hashes that prove it against the file's pieces root.
#  - libtorrent seeds; Shoal fetches the info dictionary, then the layer run by run, then the data;
#  - Shoal seeds; libtorrent does the same from Shoal.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"

DATA="$WORK/data"
mkdir -p "$DATA"
make_data "$DATA/big.bin" $((9000 * 16384 - 1234)) big
TORRENT="$WORK/big-v2.torrent"
"$SHOAL" create "$DATA/big.bin" -o "$TORRENT" --v2 --piece-size 16K -q
v2_hash=$("$SHOAL" info --json "$TORRENT" | $LT_PYTHON -c 'import json, sys; print(json.load(sys.stdin)["info_hash_v2"])')
MAGNET="magnet:?xt=urn:btmh:1220$v2_hash"

start_lt_seed "$TORRENT" "$DATA"
mkdir -p "$WORK/from-lt"
timeout 300 "$SHOAL" get --no-dht --no-lsd "$MAGNET" -o "$WORK/from-lt" --listen 127.0.0.1 \
  --peer "127.0.0.1:$LT_SEED_PORT" --state-dir "$WORK/from-lt.state" -v 2>"$WORK/shoal-get.log" ||
  fail "shoal get by btmh magnet failed: $(tail -n 5 "$WORK/shoal-get.log")"
cmp "$DATA/big.bin" "$WORK/from-lt/big.bin" || fail "the download from libtorrent differs"
grep -q "metadata received" "$WORK/shoal-get.log" || fail "the magnet's metadata was not fetched"
grep -q "piece layer of 9000 pieces received in 18 run(s)" "$WORK/shoal-get.log" ||
  fail "the piece layer did not come in runs: $(grep -i layer "$WORK/shoal-get.log" | head -n 3)"
if grep -q "do not prove out" "$WORK/shoal-get.log"; then fail "libtorrent's layer runs did not prove out"; fi
"$SHOAL" check "$TORRENT" "$WORK/from-lt" -q || fail "shoal check of the download from libtorrent"
pass "libtorrent -> Shoal, btmh magnet, a piece layer of 9,000 hashes"
kill %?lt_peer 2>/dev/null || true

SEED_PORT=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$TORRENT" "$DATA" --listen 127.0.0.1 --port "$SEED_PORT" \
  --state-dir "$WORK/seed.state" -q >"$WORK/shoal-seed.log" 2>&1 &
SEED_PID=$!
wait_port "$SEED_PORT" 120
lt_download "$MAGNET" "$WORK/to-lt" "127.0.0.1:$SEED_PORT"
cmp "$DATA/big.bin" "$WORK/to-lt/big.bin" || fail "the download to libtorrent differs"
pass "Shoal -> libtorrent, btmh magnet, a piece layer of 9,000 hashes"
kill "$SEED_PID" 2>/dev/null || true
wait "$SEED_PID" 2>/dev/null || true
finish
