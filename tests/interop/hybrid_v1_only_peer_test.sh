#!/usr/bin/env bash
# v1-only peers in a hybrid swarm (BEP 52): a peer that reads only a hybrid's v1 half (no v2 bit, no
# extensions, SHA-1 pieces over the stream with BEP 47 pad files as zeros; tests/interop/v1_only_peer.py, as
# libtorrent 1.2 or Transmission 4 would) and Shoal exchange a multi-file hybrid both ways, and Shoal downloads
# from libtorrent 2.0 (v2 hashes) and the v1-only peer at once. Debian's own v1 clients cannot stand in:
# Transmission 3.00 and aria2 1.36 misread every BEP 52 file tree (see v2_hybrid_interop_test.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"

V1PEER="$SHOAL_SOURCE_DIR/tests/interop/v1_only_peer.py"
make_tree "$WORK/data/tree"
"$SHOAL" create "$WORK/data/tree" -o "$WORK/hybrid.torrent" --hybrid --piece-size 32K -q
pieces=$("$SHOAL" info --json "$WORK/hybrid.torrent" | $LT_PYTHON -c 'import json,sys; print(json.load(sys.stdin)["num_pieces"])')

# Shoal seeds; the v1-only peer downloads and checks every piece by its SHA-1.
seed_port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd --no-upnp --no-natpmp "$WORK/hybrid.torrent" "$WORK/data" --listen 127.0.0.1 \
  --port "$seed_port" -q &
seed_pid=$!
wait_port "$seed_port"
out=$(timeout 120 "$V1PEER" download "$WORK/hybrid.torrent" 127.0.0.1 "$seed_port" "$WORK/v1-got" 2>&1) ||
  fail "the v1-only peer could not download from Shoal: $out"
expect_eq "$out" "verified $pieces pieces" "v1-only peer's SHA-1 check of every piece Shoal sent"
same_tree "$WORK/data/tree" "$WORK/v1-got/tree"
pass "Shoal -> v1-only peer: hybrid tree"
kill "$seed_pid"

# The v1-only peer seeds (it answers no hash request); Shoal downloads from it alone.
v1_port=$(free_port)
"$V1PEER" seed "$WORK/hybrid.torrent" "$WORK/data" "$v1_port" &
wait_port "$v1_port"
timeout 120 "$SHOAL" get --no-dht --no-lsd --no-upnp --no-natpmp --transport tcp "$WORK/hybrid.torrent" \
  -o "$WORK/from-v1" --listen 127.0.0.1 --peer "127.0.0.1:$v1_port" -q >"$WORK/from-v1.log" 2>&1 ||
  fail "Shoal could not download from the v1-only peer: $(tail -n 5 "$WORK/from-v1.log")"
same_tree "$WORK/data/tree" "$WORK/from-v1/tree"
pass "v1-only peer -> Shoal: hybrid tree"

# A mixed swarm: libtorrent (speaking v2) and the v1-only peer both seed; Shoal takes pieces from each. The
# v1-only peer is held to 256 KB/s so that it does not finish the torrent before libtorrent answers.
slow_port=$(free_port)
"$V1PEER" seed "$WORK/hybrid.torrent" "$WORK/data" "$slow_port" 262144 &
wait_port "$slow_port"
start_lt_seed "$WORK/hybrid.torrent" "$WORK/data"
timeout 120 "$SHOAL" get --no-dht --no-lsd --no-upnp --no-natpmp --transport tcp "$WORK/hybrid.torrent" \
  -o "$WORK/mixed" --listen 127.0.0.1 --peer "127.0.0.1:$slow_port" --peer "127.0.0.1:$LT_SEED_PORT" -v \
  >"$WORK/mixed.log" 2>&1 || fail "Shoal could not download from the mixed swarm: $(tail -n 5 "$WORK/mixed.log")"
same_tree "$WORK/data/tree" "$WORK/mixed/tree"
for port in "$slow_port" "$LT_SEED_PORT"; do
  grep -Eq "127.0.0.1:$port .*closed: .*got [1-9][0-9]* B" "$WORK/mixed.log" ||
    fail "nothing came from 127.0.0.1:$port: $(grep "127.0.0.1:$port" "$WORK/mixed.log" | tail -n 3)"
done
pass "libtorrent + v1-only peer -> Shoal: hybrid tree, bytes from each"
finish
