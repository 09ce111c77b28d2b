#!/usr/bin/env bash
# `shoal daemon`'s RPC security, from outside: a foreign Host gets 421 (DNS rebinding), a request without the
# session id 409, a wrong password 401, a path outside the allowed roots is refused, and a completion hook
# given a torrent named `$(touch x); rm -rf ~` runs it as one inert argument: no file is created, nothing is
# removed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/daemon_lib.sh"

# A HOME of the test's own: if the name ever reached a shell, `rm -rf ~` would hit this folder only.
export HOME="$WORK/home"
mkdir -p "$HOME" "$WORK/hookcwd"
echo keep >"$HOME/canary"

# The hook records its arguments, one per line, and its working directory.
cat >"$WORK/hook.sh" <<'SH'
#!/bin/sh
printf '%s\n' "$@" >"$HOOK_OUT"
pwd >>"$HOOK_OUT"
SH
chmod +x "$WORK/hook.sh"
export HOOK_OUT="$WORK/hook.out"
# The hook's environment is fixed by the daemon (HOOK_OUT would not pass), so a wrapper carries it.
cat >"$WORK/hook-wrapper" <<SH
#!/bin/sh
cd "$WORK/hookcwd" && HOOK_OUT="$HOOK_OUT" exec "$WORK/hook.sh" "\$@"
SH
chmod +x "$WORK/hook-wrapper"

password_hash=$(echo 's3cret' | "$SHOAL" daemon --hash-password)
case "$password_hash" in pbkdf2-sha256\$*) ;; *) fail "hash-password printed: $password_hash" ;; esac
write_daemon_config "$WORK/conf" "\"rpc-username\": \"admin\", \"rpc-password-hash\": \"$password_hash\",
  \"allowed-roots\": [\"$WORK/dl\"], \"done-hook\": [\"$WORK/hook-wrapper\", \"{name}\", \"{dir}\", \"{hash}\"],
  \"done-hook-timeout-seconds\": 10"
grep -q s3cret "$WORK/conf/settings.json" && fail "the password itself is in the config"
start_daemon "$WORK/conf" "$WORK/dl"
URL="http://127.0.0.1:$RPC_PORT/transmission/rpc"

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

expect_eq "$(status -u admin:s3cret -H 'Host: evil.example' -d '{"method":"session-get"}' "$URL")" 421 \
  "a foreign Host header gets 421"
expect_eq "$(status -u admin:s3cret -H 'Host: attacker.test:9091' "http://127.0.0.1:$RPC_PORT/")" 421 \
  "the web UI refuses a foreign Host too"
expect_eq "$(status -u admin:wrong -d '{"method":"session-get"}' "$URL")" 401 "a wrong password gets 401"
expect_eq "$(status -d '{"method":"session-get"}' "$URL")" 401 "no credentials get 401"
expect_eq "$(status -u admin:s3cret -d '{"method":"session-get"}' "$URL")" 409 "no session id gets 409"
expect_eq "$(status -u admin:s3cret -H 'X-Transmission-Session-Id: stale' -d '{"method":"session-get"}' "$URL")" \
  409 "a stale session id gets 409"
sid=$(curl -s -D - -o /dev/null -u admin:s3cret "$URL" | sed -n 's/^X-Transmission-Session-Id: *\([A-Za-z0-9]*\).*/\1/ip')
[ -n "$sid" ] || fail "the 409 carried no session id"
rpc() { curl -s -u admin:s3cret -H "X-Transmission-Session-Id: $sid" -d "$1" "$URL"; }
rpc '{"method":"session-get","arguments":{"fields":["rpc-version"]}}' | grep -q '"rpc-version":17' ||
  fail "a request with credentials and session id was not answered"
pass "with credentials and the session id, the RPC answers (spec 17)"
expect_eq "$(status -u admin:s3cret -H "X-Transmission-Session-Id: $sid" --data-binary @<(head -c 20000000 /dev/zero) "$URL")" \
  413 "a 20 MB request body gets 413"

# Paths from RPC stay inside the allowed roots.
mkdir -p "$WORK/data"
make_data "$WORK/data/a.bin" 70000 a
"$SHOAL" create "$WORK/data/a.bin" -o "$WORK/a.torrent" -q
meta=$(base64 -w0 "$WORK/a.torrent")
for dir in /etc "$WORK/dl/../outside" "$HOME"; do
  out=$(rpc "{\"method\":\"torrent-add\",\"arguments\":{\"metainfo\":\"$meta\",\"download-dir\":\"$dir\"}}")
  echo "$out" | grep -q 'outside the allowed roots' || fail "download-dir $dir was not refused: $out"
done
mkdir -p "$WORK/dl" && ln -s /etc "$WORK/dl/escape"
out=$(rpc "{\"method\":\"torrent-add\",\"arguments\":{\"metainfo\":\"$meta\",\"download-dir\":\"$WORK/dl/escape\"}}")
echo "$out" | grep -q 'outside the allowed roots' || fail "a symlink out of the root was not refused: $out"
out=$(rpc '{"method":"torrent-add","arguments":{"filename":"/etc/passwd"}}')
echo "$out" | grep -q 'outside the allowed roots' || fail "reading /etc/passwd as a torrent was not refused: $out"
out=$(rpc '{"method":"session-set","arguments":{"script-torrent-done-filename":"/bin/sh"}}')
echo "$out" | grep -q 'config file' || fail "the hook could be set over RPC: $out"
rpc '{"method":"torrent-get","arguments":{"fields":["id"]}}' | grep -q '"torrents":\[\]' ||
  fail "a refused add left a torrent behind"
pass "download-dir, a symlink, a filename and the hook outside the owner's control are all refused"

# A torrent whose name is shell syntax completes; the hook gets the name as one argument.
evil='$(touch x); rm -rf ~'
mkdir -p "$WORK/evil"
make_data "$WORK/evil/$evil" 100003 evil
start_shoal_tracker
"$SHOAL" create "$WORK/evil/$evil" -o "$WORK/evil.torrent" -t "$TRACKER_URL" -q
seed_port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$WORK/evil.torrent" "$WORK/evil" --listen 127.0.0.1 --port "$seed_port" -q &
wait_port "$seed_port"
meta=$(base64 -w0 "$WORK/evil.torrent")
rpc "{\"method\":\"torrent-add\",\"arguments\":{\"metainfo\":\"$meta\"}}" | grep -q torrent-added || fail "evil add"
wait_until 90 "the completion hook runs" test -s "$HOOK_OUT"
expect_eq "$(sed -n 1p "$HOOK_OUT")" "$evil" "the hook got the name as one literal argument"
expect_eq "$(sed -n 2p "$HOOK_OUT")" "$WORK/dl" "the hook got the download dir"
expect_eq "$(sed -n 3p "$HOOK_OUT")" "$(shoal_hash "$WORK/evil.torrent")" "the hook got the info-hash"
[ ! -e "$WORK/hookcwd/x" ] && [ ! -e x ] && [ ! -e "$WORK/dl/x" ] || fail "a file named x was created"
[ -f "$HOME/canary" ] || fail "HOME was emptied"
cmp -s "$WORK/evil/$evil" "$WORK/dl/$evil" || fail "the evil-named file differs"
pass "no file x was created and HOME is intact"
grep -q '"event":"hook-done"' "$WORK/daemon.log" || fail "no hook-done log line: $(tail -n 3 "$WORK/daemon.log")"
pass "logs are JSON lines when stderr is not a terminal"

metrics=$(curl -s -u admin:s3cret "http://127.0.0.1:$RPC_PORT/metrics")
echo "$metrics" | grep -q '^shoal_torrents{state="seeding"} 1$' || fail "metrics: $metrics"
pass "GET /metrics reports torrents by state"
stop_daemon
finish
