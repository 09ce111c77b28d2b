#!/usr/bin/env bash
# A v2-only torrent added to `shoal daemon` by btmh magnet (transmission-remote -a), downloaded from
# libtorrent: the info dictionary and the piece layers come from libtorrent, and the metainfo the daemon keeps
# carries the layers once they are in (`shoal check` verifies the data with that .torrent, whose v2 info-hash
# is the link's). With libtorrent gone, the daemon restarted and asked to verify: every piece is found again
# (without the layers, no multi-piece file could be checked), bytes compared.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/daemon_lib.sh"

mkdir -p "$WORK/data/tree/sub"
make_data "$WORK/data/tree/a.bin" 700001 a
make_data "$WORK/data/tree/sub/b.bin" 1048576 b
make_data "$WORK/data/tree/c.txt" 999 c
"$SHOAL" create "$WORK/data/tree" -o "$WORK/t.torrent" --v2 --piece-size 32K -q
v2_hash=$("$SHOAL" info --json "$WORK/t.torrent" | $LT_PYTHON -c 'import json, sys; print(json.load(sys.stdin)["info_hash_v2"])')
start_lt_seed "$WORK/t.torrent" "$WORK/data"

write_daemon_config "$WORK/conf"
start_daemon "$WORK/conf" "$WORK/dl"
# Through the RPC itself: transmission-remote refuses a magnet link without a v1 info-hash on its own side.
rpc() {
  local url="http://127.0.0.1:$RPC_PORT/transmission/rpc" sid
  sid=$(curl -s -D - -o /dev/null "$url" | sed -n 's/^X-Transmission-Session-Id: *\([A-Za-z0-9]*\).*/\1/ip')
  curl -s -H "X-Transmission-Session-Id: $sid" -d "$1" "$url"
}
magnet="magnet:?xt=urn:btmh:1220$v2_hash&dn=tree&x.pe=127.0.0.1:$LT_SEED_PORT"
out=$(rpc "{\"method\":\"torrent-add\",\"arguments\":{\"filename\":\"$magnet\"}}")
echo "$out" | grep -q '"result":"success"' || fail "add: $out"
done_listed() { tr -l | grep -E "^ +1 +100%.*tree" >/dev/null; }
wait_until 120 "the magnet's download reaches 100%" done_listed
same_tree "$WORK/data/tree" "$WORK/dl/tree"
pass "shoal daemon downloads a v2-only torrent by btmh magnet from libtorrent"

kill %?lt_peer 2>/dev/null || true
stop_daemon
# The .torrent the daemon stored: the same v2 info-hash, and its piece layers check every piece.
$LT_PYTHON -c 'import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute("select torrent_bytes from torrents").fetchone()
open(sys.argv[2], "wb").write(row[0])' "$WORK/conf/state.sqlite" "$WORK/saved.torrent"
saved_hash=$("$SHOAL" info --json "$WORK/saved.torrent" | $LT_PYTHON -c 'import json, sys; print(json.load(sys.stdin)["info_hash_v2"])')
expect_eq "$saved_hash" "$v2_hash" "the saved .torrent keeps the v2 info-hash"
grep -q "12:piece layers" "$WORK/saved.torrent" || fail "the saved .torrent has no piece layers"
"$SHOAL" check "$WORK/saved.torrent" "$WORK/dl" -q || fail "shoal check of the saved .torrent"
pass "shoal check verifies every piece with the saved .torrent's piece layers"
start_daemon "$WORK/conf" "$WORK/dl"
seeding() { tr -l | grep -E "^ +1 +100%.*(Seeding|Idle).*tree" >/dev/null; }
wait_until 60 "the torrent seeds after a restart" seeding
tr -t 1 -v | grep -q success || fail "verify"
wait_until 60 "the torrent seeds after verifying" seeding
tr -t 1 -i | grep -q "Percent Done: 100%" || fail "the verify after a restart lost pieces: $(tr -t 1 -i)"
same_tree "$WORK/data/tree" "$WORK/dl/tree"
pass "restarted with no peer, the daemon verifies every piece with the piece layers it kept"
stop_daemon
finish
