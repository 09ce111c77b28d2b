#!/usr/bin/env bash
# transmission-remote (Debian transmission-cli) drives `shoal daemon`: add, list, info, stop, start, verify,
# set limits, remove, with the outputs checked. The torrent downloads from a local seeder found through a
# local `shoal tracker`.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/daemon_lib.sh"

start_shoal_tracker
mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" 1048583 remote
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/t.torrent" -t "$TRACKER_URL" --piece-size 32K -q
hash=$(shoal_hash "$WORK/t.torrent")
seed_port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$seed_port" -q &
wait_port "$seed_port"

write_daemon_config "$WORK/conf"
start_daemon "$WORK/conf" "$WORK/dl"

out=$(tr -a "$WORK/t.torrent")
echo "$out" | grep -q 'responded: "success"' || fail "add: $out"
pass "transmission-remote -a"

out=$(tr -l)
echo "$out" | grep -q "payload.bin" || fail "list does not show the torrent: $out"
echo "$out" | grep -qE '^Sum:' || fail "list has no Sum line: $out"
pass "transmission-remote -l lists it"

done_listed() { tr -l | grep -E "^ +1 +100%.*payload.bin" >/dev/null; }
wait_until 90 "the download reaches 100% in the list" done_listed
cmp -s "$WORK/data/payload.bin" "$WORK/dl/payload.bin" || fail "downloaded bytes differ"
pass "downloaded through the daemon; list shows 100%"

info=$(tr -t 1 -i)
echo "$info" | grep -q "Name: payload.bin" || fail "info name: $info"
echo "$info" | grep -q "Hash: $hash" || fail "info hash: $info"
echo "$info" | grep -q "Percent Done: 100%" || fail "info percent: $info"
echo "$info" | grep -q "Location: $WORK/dl" || fail "info location: $info"
echo "$info" | grep -qE "Total size: 1.0[0-9]* MB" || fail "info size: $info"
pass "transmission-remote -i shows name, hash, progress, location and size"

tr -t "$hash" -S | grep -q success || fail "stop"
stopped() { tr -l | grep -E "^ +1 .*Stopped.*payload.bin" >/dev/null; }
wait_until 20 "the torrent shows Stopped" stopped
pass "transmission-remote -S stops it (addressed by hash)"

tr -t 1 -s | grep -q success || fail "start"
seeding() { tr -l | grep -E "^ +1 +100%.*(Seeding|Idle).*payload.bin" >/dev/null; }
wait_until 30 "the torrent seeds again" seeding
pass "transmission-remote -s starts it"

tr -t 1 -v | grep -q success || fail "verify"
wait_until 30 "the torrent seeds after verifying" seeding
tr -t 1 -i | grep -q "Percent Done: 100%" || fail "verify lost pieces"
pass "transmission-remote -v verifies and keeps 100%"

tr -t 1 -d 120 -u 45 | grep -q success || fail "set limits"
info=$(tr -t 1 -i)
echo "$info" | grep -q "Download Limit: 120 kB/s" || fail "download limit: $(echo "$info" | grep -i limit)"
echo "$info" | grep -q "Upload Limit: 45 kB/s" || fail "upload limit: $(echo "$info" | grep -i limit)"
tr -t 1 -D -U | grep -q success || fail "unset limits"
tr -t 1 -i | grep -q "Download Limit: Unlimited" || fail "download limit not lifted"
pass "transmission-remote -d/-u set per-torrent limits, -D/-U lift them"

tr -d 500 | grep -q success || fail "session limit"
tr -si | grep -qE "Download speed limit: 500 kB/s" || fail "session info: $(tr -si | grep -i limit)"
pass "transmission-remote sets and shows the session download limit"
tr -si | grep -qE "Encryption: preferred" || fail "default encryption: $(tr -si | grep -i encrypt)"
tr -er | grep -q success || fail "encryption required"
tr -si | grep -qE "Encryption: required" || fail "session info after -er: $(tr -si | grep -i encrypt)"
pass "transmission-remote -er requires encryption and -si shows it"

# The limit survives a restart: it is in the daemon's state store.
stop_daemon
start_daemon "$WORK/conf" "$WORK/dl"
tr -t 1 -d 77 >/dev/null
stop_daemon
start_daemon "$WORK/conf" "$WORK/dl"
tr -t 1 -i | grep -q "Download Limit: 77 kB/s" || fail "the per-torrent limit was lost over a restart"
tr -l | grep -qE "^ +1 .*payload.bin" || fail "the torrent was lost over a restart (same id)"
pass "torrent, id and limits survive a restart"

# torrent-rename-path (transmission-remote 3.00 has no option for it; Transmission's web client and newer
# remotes send it): raw RPC with the session-id handshake, then the list, the files and the disk agree, and the
# name survives a restart.
rpc() {
  local url="http://127.0.0.1:$RPC_PORT/transmission/rpc" sid
  sid=$(curl -s -D - -o /dev/null "$url" | sed -n 's/^X-Transmission-Session-Id: *\([A-Za-z0-9]*\).*/\1/ip')
  curl -s -H "X-Transmission-Session-Id: $sid" -d "$1" "$url"
}
out=$(rpc '{"method":"torrent-rename-path","arguments":{"ids":[1],"path":"payload.bin","name":"renamed.bin"}}')
echo "$out" | grep -q '"result":"success"' || fail "rename: $out"
echo "$out" | grep -q '"name":"renamed.bin"' || fail "rename answer: $out"
out=$(rpc '{"method":"torrent-rename-path","arguments":{"ids":[1],"path":"renamed.bin","name":"../escape.bin"}}')
echo "$out" | grep -q '"result":"success"' && fail "a name with a path in it was accepted: $out"
renamed_seeding() { tr -l | grep -E "^ +1 +100%.*(Seeding|Idle).*renamed.bin" >/dev/null; }
wait_until 30 "the renamed torrent seeds again" renamed_seeding
tr -t 1 -f | grep -q "renamed.bin" || fail "the files list does not show the new name: $(tr -t 1 -f)"
[ -f "$WORK/dl/renamed.bin" ] && [ ! -e "$WORK/dl/payload.bin" ] || fail "the file was not renamed on disk: $(ls "$WORK/dl")"
cmp -s "$WORK/data/payload.bin" "$WORK/dl/renamed.bin" || fail "renamed bytes differ"
[ ! -e "$WORK/escape.bin" ] || fail "a rename escaped the download folder"
stop_daemon
start_daemon "$WORK/conf" "$WORK/dl"
wait_until 30 "the renamed torrent seeds after a restart" renamed_seeding
tr -t 1 -i | grep -q "Percent Done: 100%" || fail "the renamed file was not found after a restart"
pass "torrent-rename-path renames on disk and in the list, refuses a path as the name, survives a restart"

tr -t 1 -r | grep -q success || fail "remove"
tr -l | grep -q renamed.bin && fail "still listed after remove"
[ -f "$WORK/dl/renamed.bin" ] || fail "remove without --remove-and-delete deleted the data"
pass "transmission-remote -r removes it and keeps the data"

stop_daemon
pass "SIGTERM stops the daemon cleanly"
finish
