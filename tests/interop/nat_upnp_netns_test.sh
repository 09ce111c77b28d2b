#!/usr/bin/env bash
# Port mapping against a real home router: miniupnpd (UPnP IGD, NAT-PMP and PCP) runs in a namespace `router` that
# NATs a namespace `lan` (the Shoal leecher) towards a namespace `wan` (a tracker and a Shoal seeder). The
# router forwards nothing from outside but what miniupnpd maps, and lets the leecher reach only the tracker, so
# the transfer can happen only if the seeder dials in through the leecher's mapping, at the external address
# and port the leecher announced. Run once with UPnP only, once with NAT-PMP only and once with PCP (RFC 6887);
# after each the mapping must be gone from the router (removed at exit).
#
# Nothing leaves the namespaces: the three are joined by veth pairs only, none to the host. miniupnpd refuses a
# private or reserved address on its outside interface, so the "internet" here is 11.77.0.0/24, reachable
# from these namespaces alone. Needs root (namespaces, nftables); skipped with exit 77 without.
set -euo pipefail

source "$(dirname "$0")/netns_lib.sh"
skip_without miniupnpd nft ip
tag="shoal-nat-$$"
lan="$tag-lan" router="$tag-router" wan="$tag-wan"
if ! ip netns add "$router" 2>/dev/null; then
  echo "skipped: cannot create a network namespace (needs root and iproute2)"
  exit 77
fi
ip netns add "$lan"
ip netns add "$wan"

source "$(dirname "$0")/lib.sh"
teardown() {
  cleanup  # every background job, miniupnpd included (it is one)
  ip netns del "$lan" 2>/dev/null || true
  ip netns del "$router" 2>/dev/null || true
  ip netns del "$wan" 2>/dev/null || true
}
trap teardown EXIT

in_lan() { ip netns exec "$lan" "$@"; }
in_router() { ip netns exec "$router" "$@"; }
in_wan() { ip netns exec "$wan" "$@"; }

# wait_log FILE PATTERN SECONDS: until a line matching PATTERN appears in FILE.
wait_log() {
  local deadline=$((SECONDS + $3))
  until grep -qE -- "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "no '$2' in $1 after $3 s: $(tail -n 5 "$1")"
    sleep 0.1
  done
}

LAN_IP=192.168.77.2 ROUTER_LAN_IP=192.168.77.1 OTHER_LAN_IP=192.168.77.3
ROUTER_WAN_IP=11.77.0.1 WAN_IP=11.77.0.2
ip link add "rl$$" netns "$router" type veth peer name lan0 netns "$lan"
ip link add "rw$$" netns "$router" type veth peer name wan0 netns "$wan"
in_router ip link set "rl$$" name rlan
in_router ip link set "rw$$" name rwan
for ns in "$lan" "$router" "$wan"; do ip -n "$ns" link set lo up; done
ip -n "$lan" addr add "$LAN_IP/24" dev lan0
ip -n "$lan" addr add "$OTHER_LAN_IP/24" dev lan0
ip -n "$lan" link set lan0 up
ip -n "$lan" route add default via "$ROUTER_LAN_IP"
ip -n "$router" addr add "$ROUTER_LAN_IP/24" dev rlan
ip -n "$router" addr add "$ROUTER_WAN_IP/24" dev rwan
ip -n "$router" link set rlan up
ip -n "$router" link set rwan up
# wan has no route to 192.168.77.0/24: it reaches the lan only through the router's outside address.
ip -n "$wan" addr add "$WAN_IP/24" dev wan0
ip -n "$wan" link set wan0 up
in_router sysctl -qw net.ipv4.ip_forward=1

# The router's firewall: NAT out of rwan; from the lan only the tracker is reachable; from outside only what
# miniupnpd maps (its chains are jumped to).
TRACKER_PORT=6969
in_router nft -f - <<NFT
table inet filter {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "rlan" oifname "rwan" tcp dport $TRACKER_PORT accept
    jump miniupnpd
  }
  chain miniupnpd { }
  chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
    oifname "rwan" masquerade
  }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
}
NFT

cat >"$WORK/miniupnpd.conf" <<CONF
ext_ifname=rwan
listening_ip=rlan
http_port=0
enable_upnp=yes
enable_natpmp=yes
secure_mode=yes
system_uptime=no
uuid=3b7b8a52-6d4e-4f3b-9d0e-5c1a9e8f7a21
lease_file=$WORK/miniupnpd.leases
upnp_table_name=filter
upnp_nat_table_name=filter
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
allow 1024-65535 192.168.77.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
# Background processes run as `ip netns exec` itself (it execs the program), never through a shell function,
# so that $! and lib.sh's cleanup name the program and not a subshell that would leave it running.
ip netns exec "$router" miniupnpd -f "$WORK/miniupnpd.conf" -P "$WORK/miniupnpd.pid" -d >"$WORK/miniupnpd.log" 2>&1 &
wait_log "$WORK/miniupnpd.log" "Listening for NAT-PMP" 10
wait_log "$WORK/miniupnpd.log" "HTTP listening on port" 10

mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" 3000017 nat
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/t.torrent" --piece-size 64K \
  --tracker "http://$WAN_IP:$TRACKER_PORT/announce" -q
ip netns exec "$wan" "$SHOAL" tracker --http "$WAN_IP:$TRACKER_PORT" --no-udp --interval 10 >"$WORK/tracker.log" 2>&1 &

# Another host on the lan holds external port 6881 (a raw NAT-PMP request from its address), so the router
# gives the leecher another external port: what trackers are told must be that one, not the listen port.
LISTEN_PORT=6881
in_lan /usr/bin/python3 - "$OTHER_LAN_IP" "$ROUTER_LAN_IP" "$LISTEN_PORT" <<'PY'
import socket, struct, sys
src, gw, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.settimeout(3)
s.sendto(struct.pack("!BBHHHI", 0, 2, 0, 7000, port, 3600), (gw, 5351))
reply = s.recv(64)
version, op, result, _, private, public, lifetime = struct.unpack("!BBHIHHI", reply[:16])
assert result == 0 and public == port, (result, public)
PY
pass "another lan host holds external TCP port $LISTEN_PORT"

# mapped_rules: the router's DNAT rules for the leecher's listen port (empty when unmapped).
mapped_rules() { in_router nft list chain inet filter prerouting_miniupnpd | grep "$LAN_IP" | grep ":$LISTEN_PORT" || true; }

# run_case NAME FLAGS: the leecher maps its port with one method, the seeder outside dials in.
run_case() {
  local name=$1 flags=$2
  rm -rf "$WORK/got-$name"
  ip netns exec "$lan" "$SHOAL" get "$WORK/t.torrent" -o "$WORK/got-$name" --listen 0.0.0.0 --port "$LISTEN_PORT" \
    --no-dht --no-lsd $flags -v >"$WORK/leecher-$name.log" 2>&1 &
  local leecher=$!
  wait_log "$WORK/leecher-$name.log" "port mapped: $name TCP $LISTEN_PORT -> $ROUTER_WAN_IP:[0-9]+" 30
  local external
  external=$(sed -nE "s/.*port mapped: $name TCP $LISTEN_PORT -> $ROUTER_WAN_IP:([0-9]+).*/\1/p" \
    "$WORK/leecher-$name.log" | head -n 1)
  [ "$external" != "$LISTEN_PORT" ] || fail "$name: the router gave the port another host holds"
  pass "$name: the leecher's TCP $LISTEN_PORT is mapped at $ROUTER_WAN_IP:$external"
  # The mapping makes the leecher announce again with the external port: wait for the reply to that announce
  # before the seeder asks the tracker (its first went out with the listen port, before the router answered).
  reannounced() {
    sed -n "/^tracker .*: announcing port $external\$/,\$p" "$WORK/leecher-$name.log" | grep -qE "^tracker .*: [0-9]+ peers"
  }
  local deadline=$((SECONDS + 30))
  until reannounced; do
    [ $SECONDS -lt $deadline ] || fail "$name: no announce after the mapping: $(tail -n 5 "$WORK/leecher-$name.log")"
    sleep 0.1
  done
  [ -n "$(mapped_rules)" ] || fail "$name: no DNAT rule on the router: $(in_router nft list ruleset)"
  ip netns exec "$wan" "$SHOAL" seed "$WORK/t.torrent" "$WORK/data" --listen "$WAN_IP" --port 7881 --no-dht --no-lsd \
    --no-upnp --no-natpmp -v >"$WORK/seeder-$name.log" 2>&1 &
  local seeder=$!
  wait "$leecher" || fail "$name: the leecher did not finish: $(tail -n 20 "$WORK/leecher-$name.log")"
  cmp -s "$WORK/data/payload.bin" "$WORK/got-$name/payload.bin" || fail "$name: bytes differ"
  grep -qE "$ROUTER_WAN_IP:$external" "$WORK/seeder-$name.log" ||
    fail "$name: the seeder never dialled the announced external port: $(tail -n 20 "$WORK/seeder-$name.log")"
  pass "$name: the seeder outside dialled $ROUTER_WAN_IP:$external and the file arrived, bytes right"
  kill "$seeder" 2>/dev/null || true
  wait "$seeder" 2>/dev/null || true
  [ -z "$(mapped_rules)" ] || fail "$name: the mapping is still on the router after exit: $(mapped_rules)"
  pass "$name: the mapping was removed at exit"
}

run_case UPnP --no-natpmp
run_case NAT-PMP "--no-upnp --no-pcp"
run_case PCP --no-upnp

# The daemon maps its peer port by default ("port-forwarding-enabled", as Transmission does), says so in its
# log, and removes the mapping when it stops.
mkdir -p "$WORK/daemon-conf"
cat >"$WORK/daemon-conf/settings.json" <<JSON
{ "listen-address": "0.0.0.0", "peer-port": $LISTEN_PORT, "dht-enabled": false, "lpd-enabled": false }
JSON
ip netns exec "$lan" "$SHOAL" daemon --foreground --config-dir "$WORK/daemon-conf" \
  --download-dir "$WORK/daemon-dl" --rpc "127.0.0.1:9091" >"$WORK/daemon.log" 2>&1 &
daemon=$!
wait_log "$WORK/daemon.log" "port-mapped.*TCP" 30
grep -E "port-mapped.*TCP" "$WORK/daemon.log" | grep -q "$ROUTER_WAN_IP:" ||
  fail "daemon: the mapping names no external address: $(grep port-mapp "$WORK/daemon.log")"
[ -n "$(mapped_rules)" ] || fail "daemon: no DNAT rule on the router: $(in_router nft list ruleset)"
pass "daemon: $(grep -oE '"method":"[^"]+"' "$WORK/daemon.log" | head -n 1) mapped its peer port $LISTEN_PORT"
kill -TERM "$daemon"
wait "$daemon" || fail "daemon: exited with $? on SIGTERM"
[ -z "$(mapped_rules)" ] || fail "daemon: the mapping is still on the router after exit: $(mapped_rules)"
pass "daemon: the mapping was removed when it stopped"
finish
