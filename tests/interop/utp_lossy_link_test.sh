#!/usr/bin/env bash
# uTP over a slow, lossy link: a user-space UDP relay (udp_relay.py; the kernel here has no tc netem) adds
# 50 ms each way and drops 1% of datagrams (seeded) between two Shoal processes on loopback, uTP only. The
# transfer must complete with the bytes intact; its throughput is printed beside libtorrent's uTP (TCP off)
# over the same relay settings, in the same run.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"

size=${SHOAL_LOSSY_SIZE:-4194304}
mkdir -p "$WORK/data"
make_data "$WORK/data/lossy.bin" "$size" lossy
# No tracker: the only path between the two is the relay.
"$SHOAL" create "$WORK/data/lossy.bin" -o "$WORK/lossy.torrent" --piece-size 256K -q
relay="$SHOAL_SOURCE_DIR/tests/interop/udp_relay.py"

# through_relay NAME SEED_PORT: starts a relay to 127.0.0.1:SEED_PORT; sets RELAY_PORT.
through_relay() {
  RELAY_PORT=$(free_port)
  $LT_PYTHON "$relay" --listen "$RELAY_PORT" --target "127.0.0.1:$2" --delay-ms 50 --loss 0.01 --seed 7 \
    >"$WORK/relay-$1.log" 2>&1 &
  RELAY_PID=$!
  until ss -uln | grep -q ":$RELAY_PORT "; do sleep 0.05; done
}

seed_port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$WORK/lossy.torrent" "$WORK/data" --listen 127.0.0.1 --port "$seed_port" \
  --no-trackers --transport utp -q >"$WORK/shoal-seed.log" 2>&1 &
seed_pid=$!
wait_port "$seed_port"
through_relay shoal "$seed_port"
mkdir -p "$WORK/shoal-dl"
start=$(date +%s.%N)
timeout 300 "$SHOAL" get --no-dht --no-lsd "$WORK/lossy.torrent" -o "$WORK/shoal-dl" --listen 127.0.0.1 \
  --no-trackers --peer "127.0.0.1:$RELAY_PORT" --transport utp -q 2>"$WORK/shoal-get.log" ||
  fail "Shoal over the lossy relay: $(tail -n 5 "$WORK/shoal-get.log")"
shoal_secs=$(echo "$(date +%s.%N) - $start" | bc -l)
cmp "$WORK/data/lossy.bin" "$WORK/shoal-dl/lossy.bin" || fail "Shoal over the lossy relay corrupted the data"
kill "$seed_pid" "$RELAY_PID" 2>/dev/null || true
wait "$seed_pid" "$RELAY_PID" 2>/dev/null || true
pass "Shoal -> Shoal over uTP, 50 ms each way, 1% loss: $(printf '%.0f' "$(echo "$size / $shoal_secs / 1000" | bc -l)") kB/s"

seed_port=$(free_port)
"$SHOAL_SOURCE_DIR/tests/interop/lt_peer.py" seed "$WORK/lossy.torrent" "$WORK/data" --port "$seed_port" \
  --transport utp >"$WORK/lt-seed.log" 2>&1 &
lt_seed_pid=$!
wait_port "$seed_port"
through_relay lt "$seed_port"
start=$(date +%s.%N)
"$SHOAL_SOURCE_DIR/tests/interop/lt_peer.py" download "$WORK/lossy.torrent" "$WORK/lt-dl" --port "$(free_port)" \
  --peer "127.0.0.1:$RELAY_PORT" --transport utp --timeout 300 >"$WORK/lt-download.log" 2>&1 ||
  fail "libtorrent over the lossy relay: $(cat "$WORK/lt-download.log")"
lt_secs=$(echo "$(date +%s.%N) - $start" | bc -l)
kill "$lt_seed_pid" "$RELAY_PID" 2>/dev/null || true
cmp "$WORK/data/lossy.bin" "$WORK/lt-dl/lossy.bin" || fail "libtorrent over the lossy relay corrupted the data"
pass "libtorrent -> libtorrent over uTP, same link: $(printf '%.0f' "$(echo "$size / $lt_secs / 1000" | bc -l)") kB/s"
finish
