#!/usr/bin/env bash
# One Shoal session, one listen port: it seeds three torrents at once, to libtorrent, aria2 and Transmission,
# while it downloads a fourth from libtorrent. `shoal get T1 T2 T3 T4 --seed` finds T1-T3 complete in its
# output folder (checked, then seeded) and downloads T4 into the same folder. Every client's bytes are
# compared, and every connection the clients made reached Shoal through its one port.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"

DATA="$WORK/data"    # what Shoal seeds (T1-T3), and later holds T4 as well
SOURCE4="$WORK/src4" # what libtorrent seeds (T4)
mkdir -p "$DATA" "$SOURCE4"
make_data "$DATA/one.bin" 1048583 one
make_tree "$DATA/two"
make_data "$DATA/three.bin" 786431 three
make_data "$SOURCE4/four.bin" 1310731 four
pick_tracker
"$SHOAL" create "$DATA/one.bin" -o "$WORK/one.torrent" -t "$TRACKER_URL" --piece-size 32K -q
"$SHOAL" create "$DATA/two" -o "$WORK/two.torrent" -t "$TRACKER_URL" --piece-size 16K -q
"$SHOAL" create "$DATA/three.bin" -o "$WORK/three.torrent" -t "$TRACKER_URL" --piece-size 64K -q
"$SHOAL" create "$SOURCE4/four.bin" -o "$WORK/four.torrent" -t "$TRACKER_URL" --piece-size 32K -q
start_opentracker "$WORK/one.torrent" "$WORK/two.torrent" "$WORK/three.torrent" "$WORK/four.torrent"

# The fourth torrent's only source: a libtorrent seed.
start_lt_seed "$WORK/four.torrent" "$SOURCE4"

# Transmission ignores tracker peers on 127.0.0.0/8: Shoal dials it (--peer). It is started first so that
# it is listening when Shoal dials; Shoal re-dials until the torrent is there.
start_transmission "$WORK/to-tr"

P=$(free_port)
"$SHOAL" get "$WORK/one.torrent" "$WORK/two.torrent" "$WORK/three.torrent" "$WORK/four.torrent" -o "$DATA" \
  --seed --listen 127.0.0.1 --port "$P" --no-dht --no-lsd \
  --peer "127.0.0.1:$LT_SEED_PORT" --peer "127.0.0.1:$TR_PEER_PORT" --max-up 768K -v >"$WORK/shoal.log" 2>&1 &
SHOAL_PID=$!
wait_port "$P"

# The three downloads run at once, each from Shoal alone (no other client has these torrents); --max-up
# keeps them going for a few seconds, so the connections are seen while they last.
LT_PORT=$(free_port)
ARIA_LISTEN=$(free_port)
"$SHOAL_SOURCE_DIR/tests/interop/lt_peer.py" download "$WORK/one.torrent" "$WORK/to-lt" --port "$LT_PORT" \
  --timeout 120 --peer "127.0.0.1:$P" >"$WORK/lt-download.log" 2>&1 &
LT_PID=$!
timeout 180 aria2c --dir="$WORK/to-aria2" --seed-time=0 --listen-port="$ARIA_LISTEN" \
  --enable-dht=false --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false \
  --disable-ipv6=true --summary-interval=0 --console-log-level=warn --bt-tracker-interval=1 \
  "$WORK/two.torrent" >"$WORK/aria2-download.log" 2>&1 &
ARIA_PID=$!
transmission_add "$WORK/three.torrent"

# While the three clients download, every established TCP connection of the Shoal process is either on its
# one listen port (a client dialled in), or one Shoal dialled itself: to a client's listen port (the T4 seed,
# Transmission, or a peer the tracker named) or to the tracker. Sampled until the downloads end.
check_connections() {
  local bad
  bad=$(ss -Htnp state established 2>/dev/null | grep "pid=$SHOAL_PID," |
    awk -v listen="$P" -v dialled=" $LT_SEED_PORT $TR_PEER_PORT $TRACKER_PORT $LT_PORT $ARIA_LISTEN " '
      { n = split($3, lp, ":"); m = split($4, rp, ":")
        if (lp[n] == listen || index(dialled, " " rp[m] " ")) next
        print }') || true
  [ -z "$bad" ] || fail "Shoal has a connection outside its listen port: $bad"
}
# Which downloading clients were seen connected to Shoal's port P (their side of the connection).
LT_SEEN="" ARIA_SEEN=""
note_incoming() {
  local clients
  clients=$(ss -Htnp state established "( dport = :$P )" 2>/dev/null) || true
  grep -q "pid=$LT_PID," <<<"$clients" && LT_SEEN=1
  grep -q '(("aria2c"' <<<"$clients" && ARIA_SEEN=1
  return 0
}

deadline=$((SECONDS + 150))
lt_done="" aria_done="" tr_done="" four_done=""
until [ -n "$lt_done" ] && [ -n "$aria_done" ] && [ -n "$tr_done" ] && [ -n "$four_done" ]; do
  [ $SECONDS -lt $deadline ] || fail "not all done: lt=${lt_done:-no} aria2=${aria_done:-no} \
transmission=${tr_done:-no} four=${four_done:-no}; shoal: $(tail -n 5 "$WORK/shoal.log")"
  kill -0 "$SHOAL_PID" 2>/dev/null || fail "shoal exited: $(tail -n 5 "$WORK/shoal.log")"
  check_connections
  note_incoming
  if [ -z "$lt_done" ] && ! kill -0 "$LT_PID" 2>/dev/null; then
    wait "$LT_PID" || fail "libtorrent download: $(tail -n 5 "$WORK/lt-download.log")"
    lt_done=1
  fi
  if [ -z "$aria_done" ] && ! kill -0 "$ARIA_PID" 2>/dev/null; then
    wait "$ARIA_PID" || fail "aria2 download: $(tail -n 20 "$WORK/aria2-download.log")"
    aria_done=1
  fi
  # Transmission runs on as a daemon: done when its copy matches.
  if [ -z "$tr_done" ] && cmp -s "$DATA/three.bin" "$WORK/to-tr/three.bin"; then tr_done=1; fi
  if [ -z "$four_done" ] && grep -q "four.bin: all wanted data verified" "$WORK/shoal.log"; then four_done=1; fi
  sleep 0.2
done

cmp "$DATA/one.bin" "$WORK/to-lt/one.bin" || fail "libtorrent's one.bin differs"
pass "Shoal -> libtorrent: one.bin"
same_tree "$DATA/two" "$WORK/to-aria2/two"
pass "Shoal -> aria2: two/"
cmp "$DATA/three.bin" "$WORK/to-tr/three.bin" || fail "Transmission's three.bin differs"
pass "Shoal -> Transmission: three.bin"
cmp "$SOURCE4/four.bin" "$DATA/four.bin" || fail "four.bin from libtorrent differs"
pass "libtorrent -> Shoal: four.bin, while seeding the other three"

# One listener: Shoal listened on P alone (TCP), and libtorrent and aria2 reached it there.
listening=$(ss -Htlnp 2>/dev/null | grep "pid=$SHOAL_PID," | awk '{print $4}' | sort -u)
expect_eq "$listening" "127.0.0.1:$P" "Shoal's only TCP listen socket"
[ -n "$LT_SEEN" ] || fail "libtorrent was never seen connected to port $P"
[ -n "$ARIA_SEEN" ] || fail "aria2 was never seen connected to port $P"
pass "libtorrent and aria2 downloaded through port $P"
for name in one.bin two three.bin four.bin; do
  grep -q "$name: all wanted data verified" "$WORK/shoal.log" || fail "Shoal did not report $name complete"
done
pass "Shoal had all four complete in one session"

transmission-remote "$TR_RPC" --exit >/dev/null 2>&1 || true
kill "$SHOAL_PID"
wait "$SHOAL_PID" || fail "shoal get --seed did not stop cleanly on SIGTERM"
pass "shoal stopped cleanly"
finish
