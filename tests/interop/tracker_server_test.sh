#!/usr/bin/env bash
# `shoal tracker` stands in for opentracker: libtorrent, aria2, Transmission and Shoal announce to it over HTTP
# and UDP and complete swarms whose peers they found only through it (aria2 also by magnet). And the Shoal
# client completes a swarm through opentracker over UDP. Every download's bytes are compared.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"

DATA="$WORK/data"
mkdir -p "$DATA"
make_data "$DATA/payload.bin" 2097169 tracker
st_port=$(free_port)
HTTP_URL="http://127.0.0.1:$st_port/announce"
UDP_URL="udp://127.0.0.1:$st_port/announce"
# One torrent per pairing, so every swarm starts empty and its peers can only come from the tracker.
make_torrent() {  # make_torrent NAME URL [ARGS...]
  "$SHOAL" create "$DATA/payload.bin" -o "$WORK/$1.torrent" -t "$2" --piece-size 32K --comment "$1" -q "${@:3}"
  shoal_hash "$WORK/$1.torrent" >>"$WORK/st-whitelist"
}
: >"$WORK/st-whitelist"
make_torrent lt-aria2-http "$HTTP_URL"
# aria2 speaks UDP trackers only with its DHT switched on; a private torrent keeps it off the DHT (BEP 27),
# and a DHT state file of its own means it knows no nodes to contact.
make_torrent aria2-lt-udp "$UDP_URL" --private
make_torrent tr-shoal-udp "$UDP_URL"
make_torrent tr-shoal-http "$HTTP_URL"
make_torrent shoal-lt-udp "$UDP_URL"
make_torrent lt-shoal-http "$HTTP_URL"
make_torrent shoal-aria2-magnet "$HTTP_URL"
"$SHOAL" tracker --http "127.0.0.1:$st_port" --udp "127.0.0.1:$st_port" --whitelist "$WORK/st-whitelist" \
  --interval 30 -v >"$WORK/shoal-tracker.log" 2>&1 &
wait_port "$st_port"

# libtorrent seeds, aria2 downloads: HTTP.
start_lt_seed "$WORK/lt-aria2-http.torrent" "$DATA"
aria2_download "$WORK/lt-aria2-http.torrent" "$WORK/aria2-http"
cmp -s "$DATA/payload.bin" "$WORK/aria2-http/payload.bin" || fail "aria2 (HTTP) bytes differ"
pass "libtorrent -> aria2 through shoal tracker over HTTP"
kill %?lt_peer 2>/dev/null || true

# aria2 seeds, libtorrent downloads: UDP.
start_aria2_seed "$WORK/aria2-lt-udp.torrent" "$DATA" --enable-dht=true --dht-listen-port="$(free_port)" \
  --dht-file-path="$WORK/aria2-dht.dat"
lt_download "$WORK/aria2-lt-udp.torrent" "$WORK/lt-udp"
cmp -s "$DATA/payload.bin" "$WORK/lt-udp/payload.bin" || fail "libtorrent (UDP) bytes differ"
pass "aria2 -> libtorrent through shoal tracker over UDP"
kill %?aria2c 2>/dev/null || true

# Transmission seeds (announcing over UDP, then HTTP); Shoal finds it only through the tracker.
start_transmission "$DATA"
for name in tr-shoal-udp tr-shoal-http; do
  transmission_add "$WORK/$name.torrent"
done
for name in tr-shoal-udp tr-shoal-http; do
  timeout 120 "$SHOAL" get --no-dht --no-lsd "$WORK/$name.torrent" -o "$WORK/$name" --listen 127.0.0.1 -v >"$WORK/$name.log" 2>&1 ||
    fail "Shoal could not download $name: $(grep -E 'tracker|closed' "$WORK/$name.log" | tail -n 5)"
  cmp -s "$DATA/payload.bin" "$WORK/$name/payload.bin" || fail "$name bytes differ"
  grep -q "127.0.0.1:$TR_PEER_PORT connected" "$WORK/$name.log" || fail "$name: Transmission was not the peer"
  pass "Transmission -> Shoal through shoal tracker (${name##*-})"
done

# Shoal seeds, libtorrent downloads (UDP); libtorrent seeds, Shoal downloads (HTTP).
SHOAL_SEED_PORT=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$WORK/shoal-lt-udp.torrent" "$DATA" --listen 127.0.0.1 --port "$SHOAL_SEED_PORT" -q &
wait_port "$SHOAL_SEED_PORT"
lt_download "$WORK/shoal-lt-udp.torrent" "$WORK/lt-from-shoal"
cmp -s "$DATA/payload.bin" "$WORK/lt-from-shoal/payload.bin" || fail "libtorrent from Shoal (UDP) bytes differ"
pass "Shoal -> libtorrent through shoal tracker over UDP"
# Shoal seeds, aria2 downloads by magnet. aria2 announces left=0 while it fetches the metadata, as a seed
# would: the tracker must still tell it of the swarm's seeds, or it never learns of a peer.
SHOAL_MAGNET_SEED_PORT=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$WORK/shoal-aria2-magnet.torrent" "$DATA" --listen 127.0.0.1 \
  --port "$SHOAL_MAGNET_SEED_PORT" -q &
wait_port "$SHOAL_MAGNET_SEED_PORT"
magnet_hash=$(shoal_hash "$WORK/shoal-aria2-magnet.torrent")
aria2_download "magnet:?xt=urn:btih:$magnet_hash&tr=$(printf %s "$HTTP_URL" | sed 's/:/%3A/g; s|/|%2F|g')" \
  "$WORK/aria2-magnet"
cmp -s "$DATA/payload.bin" "$WORK/aria2-magnet/payload.bin" || fail "aria2 (magnet) bytes differ"
pass "Shoal -> aria2 by magnet through shoal tracker over HTTP"
start_lt_seed "$WORK/lt-shoal-http.torrent" "$DATA"
timeout 120 "$SHOAL" get --no-dht --no-lsd "$WORK/lt-shoal-http.torrent" -o "$WORK/shoal-http" --listen 127.0.0.1 -q ||
  fail "Shoal could not download from libtorrent through the HTTP tracker"
cmp -s "$DATA/payload.bin" "$WORK/shoal-http/payload.bin" || fail "Shoal (HTTP) bytes differ"
pass "libtorrent -> Shoal through shoal tracker over HTTP"

# Scrape (BEP 48 over HTTP, BEP 15 over UDP): the finished swarms report their seeders and completed counts.
for name in shoal-lt-udp lt-shoal-http; do
  "$SHOAL" info "$WORK/$name.torrent" --scrape >"$WORK/$name.scrape"
  grep -Eq "scrape: .*: [1-9][0-9]* seeders, [0-9]+ leechers, [0-9]+ completed" "$WORK/$name.scrape" ||
    fail "scrape of $name: $(grep scrape "$WORK/$name.scrape")"
  pass "info --scrape ($name): $(grep scrape: "$WORK/$name.scrape" | sed 's/^scrape: *//')"
done
stats=$(curl -s "http://127.0.0.1:$st_port/stats")
echo "$stats" | grep -q '"announces":[1-9]' || fail "no announces counted: $stats"
pass "stats: $stats"

# The Shoal client through opentracker over UDP.
pick_tracker
"$SHOAL" create "$DATA/payload.bin" -o "$WORK/ot-udp.torrent" -t "udp://127.0.0.1:$TRACKER_PORT/announce" \
  --piece-size 32K --comment ot -q
start_opentracker "$WORK/ot-udp.torrent"
ot_seed=$(free_port)
"$SHOAL" seed --no-dht --no-lsd "$WORK/ot-udp.torrent" "$DATA" --listen 127.0.0.1 --port "$ot_seed" -q &
wait_port "$ot_seed"
timeout 120 "$SHOAL" get --no-dht --no-lsd "$WORK/ot-udp.torrent" -o "$WORK/ot-udp" --listen 127.0.0.1 -v >"$WORK/ot-udp.log" 2>&1 ||
  fail "Shoal could not complete through opentracker over UDP: $(grep tracker "$WORK/ot-udp.log" | tail -n 3)"
cmp -s "$DATA/payload.bin" "$WORK/ot-udp/payload.bin" || fail "opentracker UDP swarm bytes differ"
grep -q "127.0.0.1:$ot_seed connected" "$WORK/ot-udp.log" || fail "the seeder was not found through opentracker"
pass "Shoal -> Shoal through opentracker over UDP"
finish
