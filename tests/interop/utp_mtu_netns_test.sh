#!/usr/bin/env bash
# uTP path MTU discovery through a router: tx -- router -- rx, Shoal seeds from tx to a Shoal leecher on rx over
# uTP only; the seeder's verbose log names the packet size its connection settled on, and the bytes compare.
#   1. The router's link towards rx has an MTU of 1280 and the router sends no ICMP "fragmentation needed"
#      (filtered, as many firewalls do): only probing finds the size, 1280 less IPv4 and UDP headers = 1252.
#   2. The same link with ICMP allowed: the router's answer to a probe names the size at once.
#   3. Jumbo frames (MTU 9000) on every link: 8972.
# Nothing leaves the namespaces. Needs root; skipped with exit 77 without.
set -euo pipefail

source "$(dirname "$0")/netns_lib.sh"
skip_without ip iptables
source "$(dirname "$0")/lib.sh"
tx_router_rx "shoal-mtu-$$" 10.97

# set_mtus TX_SIDE RX_SIDE: the tx-router link's MTU and the router-rx link's.
set_mtus() {
  ip -n "$tx" link set dev up0 mtu "$1"
  ip -n "$router" link set dev in0 mtu "$1"
  ip -n "$router" link set dev out0 mtu "$2"
  ip -n "$rx" link set dev down0 mtu "$2"
  # Forget what an earlier run taught the kernel about the path.
  ip -n "$tx" route flush cache 2>/dev/null || true
}

mkdir -p "$WORK/data"
make_data "$WORK/data/mtu.bin" $((24 * 1024 * 1024)) mtu
"$SHOAL" create "$WORK/data/mtu.bin" -o "$WORK/mtu.torrent" --piece-size 1M -q

# transfer NAME EXPECTED_SIZE: seeds tx -> rx over uTP; the seeder's log must name EXPECTED_SIZE.
port=7000
transfer() {
  local name=$1 expected=$2
  port=$((port + 1))
  ip netns exec "$tx" "$SHOAL" seed --no-dht --no-lsd --no-trackers --no-upnp --no-natpmp "$WORK/mtu.torrent" \
    "$WORK/data" --listen 10.97.1.1 --port "$port" --transport utp -v >"$WORK/seed-$name.log" 2>&1 &
  local seed_pid=$!
  until ip netns exec "$tx" ss -uln | grep -q ":$port "; do sleep 0.05; done
  timeout 300 ip netns exec "$rx" "$SHOAL" get --no-dht --no-lsd --no-trackers --no-upnp --no-natpmp \
    "$WORK/mtu.torrent" -o "$WORK/got-$name" --listen 10.97.0.2 --peer "10.97.1.1:$port" --transport utp -q \
    >"$WORK/get-$name.log" 2>&1 || fail "$name: the download failed: $(tail -n 5 "$WORK/get-$name.log")"
  kill "$seed_pid"
  wait "$seed_pid" 2>/dev/null || true
  cmp -s "$WORK/data/mtu.bin" "$WORK/got-$name/mtu.bin" || fail "$name: the downloaded bytes differ"
  pass "$name: 24 MiB over uTP, bytes identical"
  local line
  line=$(grep "utp: path MTU to 10.97.0.2" "$WORK/seed-$name.log" | tail -n 1 || true)
  [ -n "$line" ] || fail "$name: the seeder logged no path MTU: $(tail -n 20 "$WORK/seed-$name.log")"
  echo "  seeder: $line"
  case "$line" in
    *"packets of $expected bytes"*) pass "$name: uTP packets of $expected bytes" ;;
    *) fail "$name: expected packets of $expected bytes" ;;
  esac
}

set_mtus 1500 1280
ip netns exec "$router" iptables -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
transfer mtu1280-no-icmp 1252
ip netns exec "$router" iptables -D OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
transfer mtu1280-icmp 1252
set_mtus 9000 9000
transfer jumbo9000 8972
finish
