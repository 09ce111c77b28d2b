#!/usr/bin/env bash
# A swarm on loopback: one Shoal seeder (upload limited, so leechers must trade among themselves) and eight Shoal
# leechers that find each other through opentracker. Every leecher must complete with verified bytes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"

leechers=8
mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" 6291469 swarm
pick_tracker
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/swarm.torrent" -t "$TRACKER_URL" --piece-size 64K -q
start_opentracker "$WORK/swarm.torrent"

seed_port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$WORK/swarm.torrent" "$WORK/data" --listen 127.0.0.1 --port "$seed_port" --max-up 2M -q \
  >"$WORK/seed.log" 2>&1 &
wait_port "$seed_port"

pids=()
for i in $(seq "$leechers"); do
  timeout 180 "$SHOAL" get --no-dht --no-lsd "$WORK/swarm.torrent" -o "$WORK/leecher-$i" --listen 127.0.0.1 -q \
    >"$WORK/leecher-$i.log" 2>&1 &
  pids+=($!)
done
for i in $(seq "$leechers"); do
  wait "${pids[$((i - 1))]}" || fail "leecher $i did not complete: $(tail -n 3 "$WORK/leecher-$i.log")"
  cmp -s "$WORK/data/payload.bin" "$WORK/leecher-$i/payload.bin" || fail "leecher $i has different bytes"
  pass "leecher $i complete and verified"
done
finish
