#!/usr/bin/env bash
# BEP 44 items across Shoal and libtorrent on a private loopback DHT: `shoal dht` is the bootstrap node, a
# libtorrent node (lt_dht_items.py) stays up throughout. Shoal puts an immutable and a salted mutable item and
# libtorrent reads them; libtorrent puts both kinds (and updates its mutable one) and `shoal dht-get` reads
# them. Values and sequence numbers compared both ways.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"

udp_port() {
  $LT_PYTHON -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
field() {  # field NAME FILE: the value of "NAME: value" in a dht-put/dht-get output
  sed -n "s/^$1: //p" "$2" | head -n 1
}

boot=$(udp_port)
"$SHOAL" dht --bind 127.0.0.1 --port "$boot" --allow-same-ip --max-queries-per-ip 0 >"$WORK/dht.log" 2>&1 &
deadline=$((SECONDS + 10))
until grep -qs "listening on udp" "$WORK/dht.log"; do
  [ $SECONDS -lt $deadline ] || fail "shoal dht did not start: $(cat "$WORK/dht.log")"
  sleep 0.1
done
dht_flags=(--dht-bootstrap "127.0.0.1:$boot" --dht-allow-same-ip --timeout 30)

# The libtorrent node, spoken to through two FIFOs: one command line in, one answer line out.
mkfifo "$WORK/lt.in" "$WORK/lt.out"
"$LT_PYTHON" "$SHOAL_SOURCE_DIR/tests/interop/lt_dht_items.py" --port "$(free_port)" --bootstrap "127.0.0.1:$boot" --verbose \
  <"$WORK/lt.in" >"$WORK/lt.out" 2>"$WORK/lt.log" &
exec 3>"$WORK/lt.in" 4<"$WORK/lt.out"
lt_read() {
  read -r -t 90 LT_ANSWER <&4 || fail "libtorrent helper did not answer ($1): $(tail -n 5 "$WORK/lt.log")"
}
lt_ask() {  # lt_ask COMMAND...: the answer lands in LT_ANSWER
  echo "$*" >&3
  lt_read "$*"
}
lt_read "start"
expect_eq "$LT_ANSWER" "ready" "libtorrent joined the DHT through shoal dht"

# Shoal -> libtorrent, immutable.
"$SHOAL" dht-put "${dht_flags[@]}" "immutable from shoal" >"$WORK/put1.txt" 2>&1 ||
  fail "shoal dht-put (immutable) failed: $(cat "$WORK/put1.txt")"
target=$(field target "$WORK/put1.txt")
stored=$(field "stored on" "$WORK/put1.txt" | cut -d' ' -f1)
[ "$stored" -ge 2 ] || fail "Shoal's immutable put was stored on $stored nodes, expected shoal dht and libtorrent"
pass "Shoal put an immutable item; shoal dht and libtorrent acknowledged it ($stored nodes)"
lt_ask get-immutable "$target"
expect_eq "$LT_ANSWER" "value immutable from shoal" "libtorrent reads Shoal's immutable item"

# Shoal -> libtorrent, mutable with salt (the key file is created on first use).
"$SHOAL" dht-put "${dht_flags[@]}" --mutable --key-file "$WORK/shoal.key" --salt shoal-salt "mutable from shoal" \
  >"$WORK/put2.txt" 2>&1 || fail "shoal dht-put (mutable) failed: $(cat "$WORK/put2.txt")"
[ "$(stat -c %a "$WORK/shoal.key")" = 600 ] || fail "the key file is not mode 0600"
key=$(field public-key "$WORK/put2.txt")
expect_eq "$(field seq "$WORK/put2.txt")" 1 "a new mutable item starts at seq 1"
stored=$(field "stored on" "$WORK/put2.txt" | cut -d' ' -f1)
[ "$stored" -ge 2 ] || fail "Shoal's mutable put was stored on $stored nodes: libtorrent refused it? $(cat "$WORK/put2.txt")"
pass "libtorrent accepted Shoal's signature ($stored nodes stored the mutable item)"
lt_ask get-mutable "$key" shoal-salt
expect_eq "$LT_ANSWER" "value 1 mutable from shoal" "libtorrent reads Shoal's mutable item (value and seq)"

# A second put of the same key and salt finds seq 1 and goes to 2; libtorrent sees the update.
"$SHOAL" dht-put "${dht_flags[@]}" --mutable --key-file "$WORK/shoal.key" --salt shoal-salt "shoal, second version" \
  >"$WORK/put3.txt" 2>&1 || fail "shoal dht-put (update) failed: $(cat "$WORK/put3.txt")"
expect_eq "$(field seq "$WORK/put3.txt")" 2 "Shoal's update takes the next sequence number"
lt_ask get-mutable "$key" shoal-salt
expect_eq "$LT_ANSWER" "value 2 shoal, second version" "libtorrent reads the updated item"

# libtorrent -> Shoal, immutable.
lt_ask put-immutable immutable from libtorrent
read -r _ lt_target lt_stored <<<"$LT_ANSWER"
[ "${lt_stored:--1}" -ge 1 ] || fail "libtorrent's immutable put reached no node: $LT_ANSWER"
"$SHOAL" dht-get "${dht_flags[@]}" "$lt_target" >"$WORK/get1.txt" 2>&1 ||
  fail "shoal dht-get did not find libtorrent's immutable item: $(cat "$WORK/get1.txt")"
expect_eq "$(field value "$WORK/get1.txt")" "immutable from libtorrent" "Shoal reads libtorrent's immutable item"

# libtorrent -> Shoal, mutable with salt, then an update.
seed=$(openssl rand -hex 32)
lt_ask put-mutable "$seed" lt-salt mutable from libtorrent
read -r _ lt_key lt_seq lt_stored <<<"$LT_ANSWER"
[ "${lt_stored:--1}" -ge 1 ] || fail "libtorrent's mutable put reached no node: $LT_ANSWER"
"$SHOAL" dht-get "${dht_flags[@]}" --key "$lt_key" --salt lt-salt >"$WORK/get2.txt" 2>&1 ||
  fail "shoal dht-get did not find libtorrent's mutable item: $(cat "$WORK/get2.txt")"
expect_eq "$(field value "$WORK/get2.txt")" "mutable from libtorrent" "Shoal reads libtorrent's mutable item"
expect_eq "$(field seq "$WORK/get2.txt")" "$lt_seq" "Shoal sees libtorrent's sequence number"
lt_ask put-mutable "$seed" lt-salt libtorrent, second version
read -r _ _ lt_seq2 _ <<<"$LT_ANSWER"
[ "$lt_seq2" -gt "$lt_seq" ] || fail "libtorrent's update did not raise seq: $LT_ANSWER"
"$SHOAL" dht-get "${dht_flags[@]}" --key "$lt_key" --salt lt-salt >"$WORK/get3.txt" 2>&1 ||
  fail "shoal dht-get lost libtorrent's mutable item: $(cat "$WORK/get3.txt")"
expect_eq "$(field value "$WORK/get3.txt")/$(field seq "$WORK/get3.txt")" "libtorrent, second version/$lt_seq2" \
  "Shoal reads libtorrent's update (shoal dht took the newer seq)"

# The wrong salt is another item: not found, exit code 2.
set +e
"$SHOAL" dht-get "${dht_flags[@]}" --timeout 10 --key "$lt_key" --salt other-salt >"$WORK/get4.txt" 2>&1
rc=$?
set -e
expect_eq "$rc" 2 "an item nobody stored is not found (exit 2)"
exec 3>&-
finish
