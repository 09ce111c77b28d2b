#!/usr/bin/env bash
# BEP 52 transfers between Shoal and libtorrent 2.0 on 127.0.0.1, bytes compared:
#  - v2-only torrents made by `shoal create --v2` (one file; a tree with small, one-block and empty files):
#    libtorrent seeds and Shoal downloads, verifying each piece against its merkle subtree; then Shoal seeds
#    and libtorrent downloads (both sides set the v2 bit of the handshake);
#  - a hybrid made by Shoal: Shoal seeds, libtorrent downloads (and uses the v2 hashes, both sides speaking
#    v2);
#  - a v2-only magnet (btmh): libtorrent seeds, Shoal fetches the info dictionary (checked against the
#    truncated SHA-256), then the piece layers by hash requests (checked against each pieces root), then data;
#    and the other way: Shoal seeds, libtorrent fetches the info dictionary and the piece layers from Shoal;
#  - a hybrid magnet naming both hashes (xt=urn:btih and xt=urn:btmh): Shoal seeds and libtorrent downloads,
#    then libtorrent seeds and Shoal downloads.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"

DATA="$WORK/data"
mkdir -p "$DATA"
make_data "$DATA/single.bin" 3145739 single
make_tree "$DATA/tree"
V2_SINGLE="$WORK/single-v2.torrent"
V2_TREE="$WORK/tree-v2.torrent"
HYBRID_TREE="$WORK/tree-hybrid.torrent"
"$SHOAL" create "$DATA/single.bin" -o "$V2_SINGLE" --v2 --piece-size 64K -q
"$SHOAL" create "$DATA/tree" -o "$V2_TREE" --v2 --piece-size 32K -q
"$SHOAL" create "$DATA/tree" -o "$HYBRID_TREE" --hybrid --piece-size 32K -q

shoal_get() {  # shoal_get TORRENT OUT_DIR PEER
  mkdir -p "$2"
  timeout 120 "$SHOAL" get --no-dht --no-lsd "$1" -o "$2" --listen 127.0.0.1 --peer "$3" \
    --state-dir "$2.state" -v 2>"$WORK/shoal-get.log" ||
    fail "shoal get $(basename "${1:0:60}") failed: $(tail -n 5 "$WORK/shoal-get.log")"
}

start_shoal_seed() {  # start_shoal_seed TORRENT: sets SHOAL_SEED_PORT
  SHOAL_SEED_PORT=$(free_port)
  "$SHOAL" seed --no-dht --no-lsd "$1" "$DATA" --listen 127.0.0.1 --port "$SHOAL_SEED_PORT" \
    --state-dir "$WORK/state-seed" -q >>"$WORK/shoal-seed.log" 2>&1 &
  SHOAL_SEED_PID=$!
  wait_port "$SHOAL_SEED_PORT"
}

stop_shoal_seed() {
  kill "$SHOAL_SEED_PID" 2>/dev/null || true
  wait "$SHOAL_SEED_PID" 2>/dev/null || true
}

for t in "$V2_SINGLE" "$V2_TREE"; do
  case "$t" in
    "$V2_SINGLE") name=single.bin ;;
    *) name=tree ;;
  esac
  "$SHOAL" info "$t" | grep -q "v2" || fail "$(basename "$t") is not a v2 torrent"
  start_lt_seed "$t" "$DATA"
  shoal_get "$t" "$WORK/from-lt-$name" "127.0.0.1:$LT_SEED_PORT"
  same_tree "$DATA/$name" "$WORK/from-lt-$name/$name"
  "$SHOAL" check "$t" "$WORK/from-lt-$name" -q || fail "shoal check of the v2 download of $name"
  pass "libtorrent -> Shoal, v2-only: $name"
  kill %?lt_peer 2>/dev/null || true

  start_shoal_seed "$t"
  lt_download "$t" "$WORK/to-lt-$name" "127.0.0.1:$SHOAL_SEED_PORT"
  same_tree "$DATA/$name" "$WORK/to-lt-$name/$name"
  pass "Shoal -> libtorrent, v2-only: $name"
  stop_shoal_seed
done

v2_hash=$("$SHOAL" info --json "$V2_TREE" | $LT_PYTHON -c 'import json, sys; print(json.load(sys.stdin)["info_hash_v2"])')
start_lt_seed "$V2_TREE" "$DATA"
shoal_get "magnet:?xt=urn:btmh:1220$v2_hash" "$WORK/from-lt-magnet" "127.0.0.1:$LT_SEED_PORT"
same_tree "$DATA/tree" "$WORK/from-lt-magnet/tree"
grep -q "metadata received" "$WORK/shoal-get.log" || fail "the magnet's metadata was not fetched"
pass "libtorrent -> Shoal, v2-only magnet (btmh): tree"
kill %?lt_peer 2>/dev/null || true

start_shoal_seed "$V2_TREE"
lt_download "magnet:?xt=urn:btmh:1220$v2_hash" "$WORK/to-lt-magnet" "127.0.0.1:$SHOAL_SEED_PORT"
same_tree "$DATA/tree" "$WORK/to-lt-magnet/tree"
pass "Shoal -> libtorrent, v2-only magnet (btmh): tree"
stop_shoal_seed

start_shoal_seed "$HYBRID_TREE"
lt_download "$HYBRID_TREE" "$WORK/to-lt-hybrid" "127.0.0.1:$SHOAL_SEED_PORT"
same_tree "$DATA/tree" "$WORK/to-lt-hybrid/tree"
pass "Shoal -> libtorrent, hybrid: tree"
hybrid_json=$("$SHOAL" info --json "$HYBRID_TREE")
hybrid_v1=$(echo "$hybrid_json" | $LT_PYTHON -c 'import json, sys; print(json.load(sys.stdin)["info_hash"])')
hybrid_v2=$(echo "$hybrid_json" | $LT_PYTHON -c 'import json, sys; print(json.load(sys.stdin)["info_hash_v2"])')
HYBRID_MAGNET="magnet:?xt=urn:btih:$hybrid_v1&xt=urn:btmh:1220$hybrid_v2"
lt_download "$HYBRID_MAGNET" "$WORK/to-lt-hybrid-magnet" "127.0.0.1:$SHOAL_SEED_PORT"
same_tree "$DATA/tree" "$WORK/to-lt-hybrid-magnet/tree"
pass "Shoal -> libtorrent, hybrid magnet (btih and btmh): tree"
stop_shoal_seed

start_lt_seed "$HYBRID_TREE" "$DATA"
shoal_get "$HYBRID_MAGNET" "$WORK/from-lt-hybrid-magnet" "127.0.0.1:$LT_SEED_PORT"
same_tree "$DATA/tree" "$WORK/from-lt-hybrid-magnet/tree"
"$SHOAL" check "$HYBRID_TREE" "$WORK/from-lt-hybrid-magnet" -q || fail "shoal check of the hybrid magnet download"
pass "libtorrent -> Shoal, hybrid magnet (btih and btmh): tree"
kill %?lt_peer 2>/dev/null || true
finish
