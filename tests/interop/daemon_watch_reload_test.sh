#!/usr/bin/env bash
# The daemon's watch directory and SIGHUP, end to end (the scanner and the config reader have unit tests):
#   - SIGHUP re-reads settings.json: a watch directory and a session download limit added to the file while the
#     daemon runs take effect without a restart (transmission-remote -si shows the limit);
#   - a .torrent and a .magnet dropped into the watch directory are added (listed, renamed *.added), the
#     torrent downloads from a local seeder; a file that is no torrent is renamed *.invalid and nothing is added;
#   - a settings.json broken while the daemon runs is refused on SIGHUP and the daemon keeps its last settings.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/daemon_lib.sh"

start_shoal_tracker
mkdir -p "$WORK/data" "$WORK/watch"
make_data "$WORK/data/watched.bin" 700001 watched
"$SHOAL" create "$WORK/data/watched.bin" -o "$WORK/watched.torrent" -t "$TRACKER_URL" --piece-size 32K -q
seed_port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$WORK/watched.torrent" "$WORK/data" --listen 127.0.0.1 --port "$seed_port" -q &
wait_port "$seed_port"

write_daemon_config "$WORK/conf"
start_daemon "$WORK/conf" "$WORK/dl"
tr -si | grep -qE "Download speed limit: Unlimited" || fail "a download limit before any was set: $(tr -si | grep -i limit)"

write_daemon_config "$WORK/conf" "\"watch-dir\": \"$WORK/watch\", \"session\": {\"speed-limit-down\": 321, \"speed-limit-down-enabled\": true}"
reloads() { grep -c '"reloaded"\|reloaded' "$WORK/daemon.log" || true; }
before=$(reloads)
kill -HUP "$DAEMON_PID"
reloaded() { [ "$(reloads)" -gt "$before" ]; }
wait_until 10 "the daemon reloads on SIGHUP" reloaded
tr -si | grep -qE "Download speed limit: 321 kB/s" || fail "the reloaded limit is not in effect: $(tr -si | grep -i limit)"
pass "SIGHUP re-reads settings.json: the new session download limit is in effect"
# The limit is lifted again over RPC: the download below is not meant to crawl.
tr -D | grep -q success || fail "lifting the download limit"

echo "not a torrent" >"$WORK/watch/junk.torrent"
cp "$WORK/watched.torrent" "$WORK/watch/watched.torrent"
magnet_hash=$(printf '%040d' 7)
echo "magnet:?xt=urn:btih:$magnet_hash&dn=watched-magnet" >"$WORK/watch/link.magnet"
added() { [ -f "$WORK/watch/watched.torrent.added" ] && [ -f "$WORK/watch/link.magnet.added" ] && [ -f "$WORK/watch/junk.torrent.invalid" ]; }
wait_until 30 "the watch directory is scanned" added
[ ! -e "$WORK/watch/watched.torrent" ] || fail "the added .torrent was left in place"
out=$(tr -l)
echo "$out" | grep -q "watched.bin" || fail "the watched .torrent is not listed: $out"
echo "$out" | grep -q "watched-magnet" || fail "the watched .magnet is not listed: $out"
[ "$(echo "$out" | grep -cE '^ +[0-9]+')" = 2 ] || fail "junk was added too: $out"
pass "a .torrent and a .magnet in the watch directory are added and renamed *.added; junk is *.invalid"

done_listed() { tr -l | grep -E "^ +[0-9]+ +100%.*watched.bin" >/dev/null; }
wait_until 90 "the watched torrent downloads" done_listed
cmp -s "$WORK/data/watched.bin" "$WORK/dl/watched.bin" || fail "the watched torrent's bytes differ"
pass "the torrent added from the watch directory downloads, bytes right"

echo "{ broken" >"$WORK/conf/settings.json"
before=$(grep -c "reload-failed" "$WORK/daemon.log" || true)
kill -HUP "$DAEMON_PID"
refused() { [ "$(grep -c "reload-failed" "$WORK/daemon.log" || true)" -gt "$before" ]; }
wait_until 10 "a broken settings.json is refused" refused
kill -0 "$DAEMON_PID" || fail "the daemon died on a broken settings.json"
tr -l | grep -q "watched.bin" || fail "the daemon lost its torrents on a refused reload"
pass "a broken settings.json is refused on SIGHUP; the daemon runs on with its last settings"

stop_daemon
finish
