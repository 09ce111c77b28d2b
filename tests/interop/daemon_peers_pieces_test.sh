#!/usr/bin/env bash
# transmission-remote reads what the engine knows of a torrent through `shoal daemon`: its peers (-pi:
# address, flags, client), its piece bitfield (-ic), file priorities set with -ph/-pl (-if) and the per-torrent
# peer limit (-pr). A two-file torrent downloads slowly from a local seeder found through a `shoal tracker`.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/daemon_lib.sh"

start_shoal_tracker
mkdir -p "$WORK/data/pair"
make_data "$WORK/data/pair/first.bin" 786433 first
make_data "$WORK/data/pair/second.bin" 786431 second
"$SHOAL" create "$WORK/data/pair" -o "$WORK/t.torrent" -t "$TRACKER_URL" --piece-size 32K -q
seed_port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$seed_port" \
  --max-up 300K -q &
seed_pid=$!
wait_port "$seed_port"

write_daemon_config "$WORK/conf"
start_daemon "$WORK/conf" "$WORK/dl"

tr --start-paused -a "$WORK/t.torrent" | grep -q success || fail "add"
tr -t 1 -ph 1 | grep -q success || fail "priority high"
tr -t 1 -pl 0 | grep -q success || fail "priority low"
files=$(tr -t 1 -if)
echo "$files" | grep -E "^ *0:.* Low .*first.bin" >/dev/null || fail "file 0 not Low: $files"
echo "$files" | grep -E "^ *1:.* High .*second.bin" >/dev/null || fail "file 1 not High: $files"
pass "transmission-remote -pl/-ph set file priorities; -if shows them"

tr -t 1 -pr 7 | grep -q success || fail "peer limit"
tr -t 1 -i | grep -qE "Peer limit: 7" || fail "peer limit not shown: $(tr -t 1 -i | grep -i peer)"
pass "transmission-remote -pr sets the torrent's peer limit"

tr -t 1 -s | grep -q success || fail "start"
# While the download runs: the seeder is a peer we download from, named by its client string.
seeder_listed() { tr -t 1 -pi | grep -E "^127\.0\.0\.1 +[A-Za-z?]*D[A-Za-z?]* .*Shoal" >/dev/null; }
wait_until 60 "the seeder in -pi with flag D and client Shoal" seeder_listed
pass "transmission-remote -pi lists the seeder (address, flags, client)"

done_listed() { tr -l | grep -E "^ +1 +100%.*pair" >/dev/null; }
wait_until 120 "the download reaches 100%" done_listed
for f in first second; do
  cmp -s "$WORK/data/pair/$f.bin" "$WORK/dl/pair/$f.bin" || fail "$f.bin differs"
done
pieces=$(tr -t 1 -ic | command tr -cd '01')
[ "${#pieces}" -ge 48 ] || fail "-ic shows ${#pieces} pieces: $(tr -t 1 -ic)"
case "$pieces" in *0*) fail "-ic shows a missing piece after 100%: $pieces" ;; esac
pass "transmission-remote -ic shows every piece (${#pieces}) once complete"

# Resume data lives in the SQLite store, not in files of the engine's: proof by a change the resume data
# cannot see (one byte flipped, the file's size and mtime kept). Restarted with the seeder gone, the torrent
# is complete at once because its resume data was found and the stamps match; a recheck would find the bad
# piece and leave it below 100% with nobody to fetch it from.
stop_daemon
[ -z "$(ls -A "$WORK/conf/engine/resume" 2>/dev/null)" ] ||
  fail "the engine wrote resume files of its own: $(ls "$WORK/conf/engine/resume")"
kill "$seed_pid"
wait "$seed_pid" 2>/dev/null || true
touch -r "$WORK/dl/pair/first.bin" "$WORK/stamp"
printf 'X' | dd of="$WORK/dl/pair/first.bin" bs=1 seek=1000 conv=notrunc status=none
touch -r "$WORK/stamp" "$WORK/dl/pair/first.bin"
start_daemon "$WORK/conf" "$WORK/dl"
wait_until 30 "complete from the stored resume data" done_listed
pass "resume data comes back from the SQLite store (no engine resume files, no recheck)"

stop_daemon
finish
