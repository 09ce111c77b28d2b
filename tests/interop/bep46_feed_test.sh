#!/usr/bin/env bash
# BEP 46 updatable torrents on a private loopback DHT: `shoal dht` bootstraps it, a libtorrent node
# (lt_dht_items.py) stays up throughout and must hold and relay the feed item. `shoal publish` seeds a folder
# under a key; `shoal get 'magnet:?xs=urn:btpk:...' --follow` resolves the key and downloads it. The folder
# changes (one file rewritten, one added) and is published again (seq 2): the follower downloads the new version
# into the same folder, fewer bytes than the whole. A hostile node (bep46_forger.py) then replays the genuine
# seq 1 item and offers a seq 1000 item with a broken signature, as answers to the follower's lookups and as
# puts to every node: the nodes refuse the puts, and the follower stays on seq 2.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"

udp_port() {
  $LT_PYTHON -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
field() {  # field NAME FILE: the value of "NAME: value" in publish's output
  sed -n "s/^$1: //p" "$2" | head -n 1
}
wait_line() {  # wait_line PATTERN FILE SECONDS WHAT
  local deadline=$((SECONDS + $3))
  until grep -qE "$1" "$2" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "$4: no '$1' in $2 after $3 s: $(tail -n 20 "$2")"
    sleep 0.2
  done
}
tree_size() {
  find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s}'
}

boot=$(udp_port)
"$SHOAL" dht --bind 127.0.0.1 --port "$boot" --allow-same-ip --max-queries-per-ip 0 --no-default-routers \
  >"$WORK/dht.log" 2>&1 &
wait_line "listening on udp" "$WORK/dht.log" 10 "shoal dht"

mkfifo "$WORK/lt.in" "$WORK/lt.out"
lt_port=$(free_port)
"$LT_PYTHON" "$SHOAL_SOURCE_DIR/tests/interop/lt_dht_items.py" --port "$lt_port" --bootstrap "127.0.0.1:$boot" \
  <"$WORK/lt.in" >"$WORK/lt.out" 2>"$WORK/lt.log" &
exec 3>"$WORK/lt.in" 4<"$WORK/lt.out"
lt_ask() {  # lt_ask COMMAND...: the answer lands in LT_ANSWER
  echo "$*" >&3
  read -r -t 90 LT_ANSWER <&4 || fail "libtorrent helper did not answer ($*): $(tail -n 5 "$WORK/lt.log")"
}
read -r -t 90 LT_ANSWER <&4 || fail "libtorrent helper did not start: $(tail -n 5 "$WORK/lt.log")"
expect_eq "$LT_ANSWER" "ready" "libtorrent joined the private DHT"

net=(--dht-bootstrap "127.0.0.1:$boot" --dht-allow-same-ip --listen 127.0.0.1 --no-lsd --no-upnp --no-natpmp)
pub_port=$(free_port)
pub_dht=$(udp_port)
mkdir -p "$WORK/pub/feed/docs"
make_data "$WORK/pub/feed/a.bin" 2000000 a
make_data "$WORK/pub/feed/b.bin" 600000 b
make_data "$WORK/pub/feed/docs/d.txt" 300000 d
publish() {  # publish N: start the publisher; its output in pubN.out
  "$SHOAL" publish "$WORK/pub/feed" --key-file "$WORK/feed.key" --salt feed --piece-size 16384 --watch-seconds 1 "${net[@]}" \
    --port "$pub_port" --dht-port "$pub_dht" --state-dir "$WORK/pub-state" >"$WORK/pub$1.out" 2>"$WORK/pub$1.err" &
  PUB=$!
  wait_line "^published seq" "$WORK/pub$1.out" 60 "publish $1"
}

publish 1
expect_eq "$(stat -c %a "$WORK/feed.key")" 600 "the new key file is mode 0600"
grep -q "^published seq 1 on [1-9]" "$WORK/pub1.out" || fail "seq 1 reached no node: $(cat "$WORK/pub1.out")"
pass "shoal publish stored seq 1: $(grep '^published' "$WORK/pub1.out")"
key=$(field public-key "$WORK/pub1.out")
ih1=$(field info-hash "$WORK/pub1.out")
magnet=$(field magnet "$WORK/pub1.out")
expect_eq "$magnet" "magnet:?xs=urn:btpk:$key&s=66656564" "the printed magnet names the key and the hex salt"
lt_ask get-mutable "$key" feed
expect_eq "$LT_ANSWER" "value 1 ih:$ih1" "libtorrent gets the feed item (BEP 46 value) from the DHT"

# The hostile node answers lookups from the start; the follower knows it (a bootstrap node of its own).
forger_port=$(udp_port)
"$LT_PYTHON" "$SHOAL_SOURCE_DIR/tests/interop/bep46_forger.py" --key-file "$WORK/feed.key" --salt feed \
  --old-ih "$ih1" --port "$forger_port" --serve >"$WORK/forger.log" 2>&1 &
wait_line "^serving" "$WORK/forger.log" 10 "forger"

fol_dht=$(udp_port)
"$SHOAL" get "$magnet" -o "$WORK/dl" --follow --poll-interval 2 "${net[@]}" --dht-bootstrap "127.0.0.1:$forger_port" \
  --port "$(free_port)" --dht-port "$fol_dht" --state-dir "$WORK/fol-state" >"$WORK/fol.out" 2>"$WORK/fol.err" &
FOL=$!
wait_line "seq 1: complete" "$WORK/fol.out" 120 "follower, version 1"
diff -r "$WORK/pub/feed" "$WORK/dl/feed" >/dev/null || fail "version 1 differs from the publisher's folder"
pass "the follower resolved the key and downloaded version 1 ($(grep 'seq 1: complete' "$WORK/fol.out"))"

# Version 2: one file rewritten, one added; the publisher restarts and hashes the folder again.
kill -TERM "$PUB"
wait "$PUB" || true
make_data "$WORK/pub/feed/b.bin" 600000 b2
make_data "$WORK/pub/feed/docs/e.bin" 200000 e
publish 2
grep -q "^published seq 2 on [1-9]" "$WORK/pub2.out" || fail "seq 2 reached no node: $(cat "$WORK/pub2.out")"
expect_eq "$(cat "$WORK/feed.key.seq")" 2 "the state file beside the key holds seq 2"
ih2=$(field info-hash "$WORK/pub2.out")
[ "$ih2" != "$ih1" ] || fail "the changed folder kept its info-hash"
lt_ask get-mutable "$key" feed
expect_eq "$LT_ANSWER" "value 2 ih:$ih2" "libtorrent holds and relays the updated item"

wait_line "seq 2: complete" "$WORK/fol.out" 120 "follower, version 2"
diff -r "$WORK/pub/feed" "$WORK/dl/feed" >/dev/null || fail "version 2 differs from the publisher's folder"
line=$(grep "seq 2: complete" "$WORK/fol.out")
got=$(sed -n 's/.*downloaded \([0-9]*\) bytes of \([0-9]*\).*/\1/p' <<<"$line")
total=$(sed -n 's/.*downloaded \([0-9]*\) bytes of \([0-9]*\).*/\2/p' <<<"$line")
expect_eq "$total" "$(tree_size "$WORK/pub/feed")" "version 2 is the whole new folder"
[ "$got" -gt 0 ] && [ "$got" -lt $((total / 2)) ] ||
  fail "version 2 took $got of $total bytes: unchanged files were downloaded again"
pass "the follower downloaded only the changes: $got of $total bytes (800,000 changed)"

# The hostile puts: no node takes the broken signature; the nodes holding seq 2 (shoal dht, libtorrent, the
# follower's) refuse the replayed seq 1. The publisher's own node holds no copy of its item, so it may take the
# replay, as BEP 44 says: a lookup then meets seq 1 beside seq 2, which is what the follower must sort out.
"$LT_PYTHON" "$SHOAL_SOURCE_DIR/tests/interop/bep46_forger.py" --key-file "$WORK/feed.key" --salt feed \
  --old-ih "$ih1" --port "$(udp_port)" --put-to "127.0.0.1:$boot" --put-to "127.0.0.1:$lt_port" \
  --put-to "127.0.0.1:$pub_dht" --put-to "127.0.0.1:$fol_dht" >"$WORK/puts.log" 2>&1 ||
  fail "forger puts: $(cat "$WORK/puts.log")"
[ "$(grep -c '^put forged .* error 206' "$WORK/puts.log")" = 4 ] ||
  fail "a node took the item with a broken signature: $(cat "$WORK/puts.log")"
for port in "$boot" "$lt_port" "$fol_dht"; do
  grep -q "^put replay 127.0.0.1:$port error 302" "$WORK/puts.log" ||
    fail "the node on port $port took the replayed seq 1: $(cat "$WORK/puts.log")"
done
pass "every node refused the broken signature, every holder of seq 2 the replayed seq 1"
lt_ask get-mutable "$key" feed
expect_eq "$LT_ANSWER" "value 2 ih:$ih2" "libtorrent still relays seq 2"

# The forger answered the follower's lookups with both; after a few more polls the follower is still on seq 2.
served=$(grep -c "answered get from 127.0.0.1:$fol_dht" "$WORK/forger.log" || true)
[ "$served" -ge 1 ] || fail "the forger was never asked by the follower: $(tail -n 5 "$WORK/forger.log")"
before=$served
deadline=$((SECONDS + 30))
until [ "$(grep -c "answered get from 127.0.0.1:$fol_dht" "$WORK/forger.log")" -ge $((before + 2)) ]; do
  [ $SECONDS -lt $deadline ] || fail "the follower stopped polling"
  sleep 0.5
done
grep -q "seq 1000: new" "$WORK/fol.out" && fail "the follower took the forged item: $(cat "$WORK/fol.out")"
[ "$(grep -c "new version" "$WORK/fol.out")" = 1 ] || fail "the follower switched again: $(cat "$WORK/fol.out")"
diff -r "$WORK/pub/feed" "$WORK/dl/feed" >/dev/null || fail "the follower's folder changed"
pass "the follower ignored the forged and the replayed item ($(grep -c "answered get from 127.0.0.1:$fol_dht" "$WORK/forger.log") answers from the forger)"

# Version 3 while the publisher runs: it sees the folder change, hashes it again and publishes seq 3.
make_data "$WORK/pub/feed/docs/d.txt" 300000 d3
wait_line "^published seq 3 on [1-9]" "$WORK/pub2.out" 60 "publish 3 (folder watched)"
ih3=$(sed -n 's/^info-hash: //p' "$WORK/pub2.out" | tail -n 1)
[ "$ih3" != "$ih2" ] || fail "the publisher did not rebuild the torrent: $(cat "$WORK/pub2.out")"
pass "the running publisher saw the change and published seq 3"
wait_line "seq 3: complete" "$WORK/fol.out" 120 "follower, version 3"
diff -r "$WORK/pub/feed" "$WORK/dl/feed" >/dev/null || fail "version 3 differs from the publisher's folder"
pass "the follower moved on to version 3 ($(grep 'seq 3: complete' "$WORK/fol.out"))"

# Without --follow, the link is resolved once: the current version, then exit 0.
"$SHOAL" get "$magnet" -o "$WORK/once" "${net[@]}" --port "$(free_port)" --state-dir "$WORK/once-state" \
  >"$WORK/once.out" 2>"$WORK/once.err" || fail "shoal get of the link failed: $(cat "$WORK/once.err")"
grep -q "^seq 3: complete" "$WORK/once.out" || fail "get did not take seq 3: $(cat "$WORK/once.out")"
diff -r "$WORK/pub/feed" "$WORK/once/feed" >/dev/null || fail "a one-time get differs from the publisher's folder"
pass "shoal get without --follow resolves the link, downloads seq 3 and exits"

kill -TERM "$FOL" "$PUB"
wait "$FOL" || fail "the follower did not stop cleanly on SIGTERM"
wait "$PUB" || true

# A key file others may read is refused.
chmod 644 "$WORK/feed.key"
if "$SHOAL" publish "$WORK/pub/feed" --key-file "$WORK/feed.key" "${net[@]}" >"$WORK/pub3.out" 2>&1; then
  fail "publish used a world-readable key"
fi
grep -q "may be read or written by others" "$WORK/pub3.out" || fail "no reason given: $(cat "$WORK/pub3.out")"
pass "a key file readable by others is refused"
exec 3>&-
finish
