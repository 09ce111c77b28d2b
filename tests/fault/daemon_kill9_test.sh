#!/usr/bin/env bash
# `shoal daemon` killed with SIGKILL at random moments (deterministic by seed) while 5 torrents download from
# a local seeder, 20 times: after every restart all 5 torrents are back with the same ids, no torrent has
# fewer verified bytes than the daemon reported before the kill, and at the end every file is byte-identical
# to the seeder's (a piece marked done without being verified would differ).
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"
source "$(dirname "$0")/../interop/daemon_lib.sh"

KILLS=${KILLS:-20}
RANDOM=${SEED:-11}
start_shoal_tracker
mkdir -p "$WORK/data"
seed_args=()
for i in 1 2 3 4 5; do
  mkdir -p "$WORK/data/t$i"
  make_data "$WORK/data/t$i/file$i.bin" $((2097152 + i * 4099)) "kill$i"
  "$SHOAL" create "$WORK/data/t$i/file$i.bin" -o "$WORK/t$i.torrent" -t "$TRACKER_URL" --piece-size 16K -q
  seed_args+=("$WORK/t$i.torrent" "$WORK/data/t$i")
done
seed_port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "${seed_args[@]}" --listen 127.0.0.1 --port "$seed_port" --max-up 1M -q &
wait_port "$seed_port"

write_daemon_config "$WORK/conf"
start_daemon "$WORK/conf" "$WORK/dl"
for i in 1 2 3 4 5; do
  tr -a "$WORK/t$i.torrent" | grep -q success || fail "add t$i"
done

# rpc JSON: one RPC request with the CSRF handshake; prints the response.
rpc() {
  local sid
  sid=$(curl -s -D - -o /dev/null "http://127.0.0.1:$RPC_PORT/transmission/rpc" |
    sed -n 's/^X-Transmission-Session-Id: *\([A-Za-z0-9]*\).*/\1/ip')
  curl -s -H "X-Transmission-Session-Id: $sid" -d "$1" "http://127.0.0.1:$RPC_PORT/transmission/rpc"
}
# "id hash haveValid status" per torrent, sorted by id.
snapshot() {
  rpc '{"method":"torrent-get","arguments":{"fields":["id","hashString","haveValid","status"]}}' |
    $LT_PYTHON -c 'import json,sys
for t in sorted(json.load(sys.stdin)["arguments"]["torrents"], key=lambda t: t["id"]):
    print(t["id"], t["hashString"], t["haveValid"], t["status"])'
}
ids_of() { awk '{print $1, $2}' <<<"$1"; }
checking() { awk '$4 == 1 || $4 == 2 {found=1} END {exit !found}' <<<"$1"; }

first=$(snapshot)
[ "$(wc -l <<<"$first")" -eq 5 ] || fail "not 5 torrents after adding: $first"
for k in $(seq 1 "$KILLS"); do
  # 0.3 to 1.5 s of work, then SIGKILL.
  sleep "$(printf '0.%d' $((3 + RANDOM % 10)))"
  before=$(snapshot)
  kill -9 "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
  start_daemon "$WORK/conf" "$WORK/dl"
  after=$(snapshot)
  checks_done() { after=$(snapshot); ! checking "$after"; }
  wait_until 120 "rechecks after kill $k" checks_done
  [ "$(ids_of "$after")" = "$(ids_of "$first")" ] || fail "kill $k: torrents changed: $(ids_of "$after")"
  paste <(awk '{print $3}' <<<"$before") <(awk '{print $3}' <<<"$after") | while read -r b a; do
    [ "$a" -ge "$b" ] || fail "kill $k: verified bytes went from $b to $a"
  done
  echo "kill $k: $(awk '{printf "%d%% ", 100 * $3 / 2100000}' <<<"$after")"
done
pass "$KILLS kills: 0 torrents lost, 0 verified bytes lost"

all_done() { snapshot | awk '$4 != 6 {bad=1} END {exit bad}'; }
wait_until 240 "all 5 downloads complete" all_done
for i in 1 2 3 4 5; do
  cmp -s "$WORK/data/t$i/file$i.bin" "$WORK/dl/file$i.bin" || fail "t$i: downloaded bytes differ"
done
pass "every file is byte-identical: no unverified piece was marked done"
stop_daemon
finish
