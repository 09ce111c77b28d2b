#!/usr/bin/env bash
# A private Mainline DHT on 127.0.0.1: `shoal dht` is the bootstrap node; libtorrent and Shoal join it. A magnet
# with no tracker and no x.pe, seeded only by libtorrent, downloads in Shoal through the DHT; and libtorrent
# downloads a Shoal-seeded magnet the same way. Bytes compared both ways.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"

udp_port() {
  $LT_PYTHON -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" 1048583 dht
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/t.torrent" --piece-size 32K -q
hash=$(shoal_hash "$WORK/t.torrent")
magnet="magnet:?xt=urn:btih:$hash&dn=payload.bin"

boot=$(udp_port)
"$SHOAL" dht --no-default-routers --bind 127.0.0.1 --bind6 ::1 --port "$boot" --allow-same-ip --max-queries-per-ip 0 >"$WORK/dht.log" 2>&1 &
deadline=$((SECONDS + 10))
until grep -q "listening on udp" "$WORK/dht.log"; do
  [ $SECONDS -lt $deadline ] || fail "shoal dht did not start: $(cat "$WORK/dht.log")"
  sleep 0.1
done

# libtorrent seeds; Shoal finds it through the DHT only.
lt_port=$(free_port)
"$SHOAL_SOURCE_DIR/tests/interop/lt_dht_peer.py" seed "$WORK/t.torrent" "$WORK/data" --port "$lt_port" \
  --bootstrap "127.0.0.1:$boot" >"$WORK/lt-seed.log" 2>&1 &
lt_pid=$!
wait_port "$lt_port"
timeout 120 "$SHOAL" get --no-lsd "$magnet" -o "$WORK/shoal-dl" --listen 127.0.0.1 --dht-bootstrap "127.0.0.1:$boot" \
  --dht-allow-same-ip -v >"$WORK/shoal-get.log" 2>&1 ||
  fail "Shoal could not download the magnet through the DHT: $(grep -E 'dht|metadata|closed' "$WORK/shoal-get.log" | tail -n 5)"
cmp -s "$WORK/data/payload.bin" "$WORK/shoal-dl/payload.bin" || fail "bytes differ (libtorrent -> Shoal)"
pass "libtorrent -> Shoal: magnet found through the DHT, metadata fetched, bytes right"
kill "$lt_pid" 2>/dev/null || true

# Shoal seeds and announces to the DHT; libtorrent finds it through the DHT only.
s_port=$(free_port)
"$SHOAL" seed --no-lsd "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$s_port" --dht-bootstrap "127.0.0.1:$boot" \
  --dht-allow-same-ip -v >"$WORK/shoal-seed.log" 2>&1 &
wait_port "$s_port"
"$SHOAL_SOURCE_DIR/tests/interop/lt_dht_peer.py" download "$magnet" "$WORK/lt-dl" --port "$(free_port)" \
  --bootstrap "127.0.0.1:$boot" --timeout 90 >"$WORK/lt-dl.log" 2>&1 ||
  fail "libtorrent could not download the Shoal-seeded magnet: $(cat "$WORK/lt-dl.log"; grep dht "$WORK/shoal-seed.log" | tail -n 3)"
cmp -s "$WORK/data/payload.bin" "$WORK/lt-dl/payload.bin" || fail "bytes differ (Shoal -> libtorrent)"
pass "Shoal -> libtorrent: magnet found through the DHT, bytes right"

# BEP 33: a scrape counts the seeds that announced themselves (all on 127.0.0.1 here, so one address).
scrape=$("$SHOAL" dht-scrape "$magnet" --dht-bootstrap "127.0.0.1:$boot" --dht-allow-same-ip --json) ||
  fail "dht-scrape failed"
seeds=$(echo "$scrape" | $LT_PYTHON -c 'import json,sys; print(json.load(sys.stdin)["seeds"])')
[ "$seeds" -ge 1 ] || fail "dht-scrape saw no seed: $scrape"
pass "dht-scrape: $scrape"
# BEP 51: the nodes that store the announces hand out the info-hash in their samples.
"$SHOAL" dht-sample --walks 2 --dht-bootstrap "127.0.0.1:$boot" --dht-allow-same-ip >"$WORK/samples" ||
  fail "dht-sample failed"
grep -qi "^$hash\$" "$WORK/samples" || fail "dht-sample did not list $hash: $(cat "$WORK/samples")"
pass "dht-sample lists the announced info-hash"
finish
