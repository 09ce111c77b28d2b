#!/usr/bin/env bash
# BEP 55 holepunch between two peers behind NAT. Namespaces:
#   lan-a ── nat-a ──┐                 ┌── nat-b ── lan-b
#   (seeder A)       └──── relay ──────┘            (leecher B)
# nat-a and nat-b masquerade their lan out of their wan side and drop every connection that starts outside
# (as home routers do, with no port forwarding); relay routes between the two wan links and runs a third
# Shoal connected to both, a leecher throttled to 16 KB/s. B learns A's address through the relay's PEX, its
# dial is dropped by nat-a, B asks the relay for a rendezvous, the relay tells both to connect, and both dial at
# once from their listen ports (TCP simultaneous open): each NAT sees an outgoing connection and lets the
# other's SYN in. B must then have received data from A over that connection.
# With the argument `utp` every peer speaks uTP only: the punched connection is uTP from the session's UDP
# socket (each side's SYN opens its own NAT for the other's).
#
# Nothing leaves the namespaces (veth pairs between them only). Needs root; skipped with exit 77 without.
set -euo pipefail
transport=${1:-tcp}

source "$(dirname "$0")/netns_lib.sh"
skip_without iptables ip
tag="shoal-hp-$$"
lan_a="$tag-lan-a" nat_a="$tag-nat-a" relay="$tag-relay" nat_b="$tag-nat-b" lan_b="$tag-lan-b"
if ! ip netns add "$relay" 2>/dev/null; then
  echo "skipped: cannot create a network namespace (needs root and iproute2)"
  exit 77
fi
for ns in "$lan_a" "$nat_a" "$nat_b" "$lan_b"; do ip netns add "$ns"; done

source "$(dirname "$0")/lib.sh"
teardown() {
  cleanup
  for ns in "$lan_a" "$nat_a" "$relay" "$nat_b" "$lan_b"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap teardown EXIT

wait_log() {  # wait_log FILE PATTERN SECONDS
  local deadline=$((SECONDS + $3))
  until grep -qE -- "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "no '$2' in $1 after $3 s: $(tail -n 5 "$1")"
    sleep 0.1
  done
}

for ns in "$lan_a" "$nat_a" "$relay" "$nat_b" "$lan_b"; do ip -n "$ns" link set lo up; done
link "$lan_a" eth0 192.168.1.2/24 "$nat_a" lan 192.168.1.1/24
link "$nat_a" wan 11.88.1.2/24 "$relay" to-a 11.88.1.1/24
link "$lan_b" eth0 192.168.2.2/24 "$nat_b" lan 192.168.2.1/24
link "$nat_b" wan 11.88.2.2/24 "$relay" to-b 11.88.2.1/24
ip -n "$lan_a" route add default via 192.168.1.1
ip -n "$lan_b" route add default via 192.168.2.1
ip -n "$nat_a" route add default via 11.88.1.1
ip -n "$nat_b" route add default via 11.88.2.1
ip netns exec "$relay" sysctl -qw net.ipv4.ip_forward=1
for nat in "$nat_a" "$nat_b"; do
  ip netns exec "$nat" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$nat" iptables -t nat -A POSTROUTING -o wan -j MASQUERADE
  ip netns exec "$nat" iptables -P FORWARD DROP
  ip netns exec "$nat" iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  ip netns exec "$nat" iptables -A FORWARD -i lan -o wan -j ACCEPT
  # The router itself answers nothing from outside (no RST for a SYN that matches no connection: dropped).
  ip netns exec "$nat" iptables -A INPUT -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  ip netns exec "$nat" iptables -A INPUT -i wan -j DROP
done

mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" 4194319 holepunch
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/t.torrent" --piece-size 64K -q  # no tracker
common=(--no-dht --no-lsd --no-upnp --no-natpmp --transport "$transport" -v)

# The relay: listening on both wan links, downloading slowly (it stays a leecher with little to give).
ip netns exec "$relay" "$SHOAL" get "$WORK/t.torrent" -o "$WORK/relay" --listen 0.0.0.0 --port 6881 \
  --max-down 16K --max-up 16K --seed "${common[@]}" >"$WORK/relay.log" 2>&1 &
wait_log "$WORK/relay.log" "listening on port 6881" 30

b_cmd=(ip netns exec "$lan_b" "$SHOAL" get "$WORK/t.torrent" -o "$WORK/b" --listen 0.0.0.0 --port 7002
  --peer 11.88.2.1:6881 "${common[@]}")
a_cmd=(ip netns exec "$lan_a" "$SHOAL" seed "$WORK/t.torrent" "$WORK/data" --listen 0.0.0.0 --port 7001
  --peer 11.88.1.1:6881 "${common[@]}")
if [ "$transport" = tcp ]; then
  # A, the seeder behind nat-a, dials the relay.
  "${a_cmd[@]}" >"$WORK/a.log" 2>&1 &
  wait_log "$WORK/relay.log" "11\.88\.1\.2:[0-9]+ .*(connected|joined|handshake)" 30
  # Nothing from outside reaches A directly: a dial to its external address is dropped.
  if ip netns exec "$relay" timeout 3 bash -c 'exec 3<>/dev/tcp/11.88.1.2/7001' 2>/dev/null; then
    fail "nat-a lets a connection from outside in"
  fi
  pass "A sits behind a NAT that lets nothing in"
  # B, the leecher behind nat-b, dials the relay and can finish only through A.
  timeout 120 "${b_cmd[@]}" >"$WORK/b.log" 2>&1 ||
    fail "B did not finish: $(grep -iE 'holepunch|11\.88\.1\.2' "$WORK/b.log" | tail -n 10; tail -n 5 "$WORK/b.log")"
else
  # Over UDP two peers that dial each other within a few seconds punch through by themselves (each SYN opens
  # its own NAT for the other's), so the order is reversed to leave only the rendezvous: B joins the relay
  # first and hears of nobody; A joins once the relay's first PEX to B has passed with nothing to tell (the
  # next is a minute away) and hears of B through PEX; A's own dial dies at nat-b; A asks for the rendezvous.
  timeout 120 "${b_cmd[@]}" >"$WORK/b.log" 2>&1 &
  b_pid=$!
  wait_log "$WORK/relay.log" "11\.88\.2\.2:7002 pex: nothing new to tell it" 30
  "${a_cmd[@]}" >"$WORK/a.log" 2>&1 &
  wait_log "$WORK/a.log" "11\.88\.2\.2:7002 dialling \(MSE\)" 30
  wait "$b_pid" || fail "B did not finish: $(grep -iE 'holepunch|11\.88\.1\.2' "$WORK/b.log" | tail -n 10; tail -n 5 "$WORK/b.log")"
  # A's own dial to B got no answer before the rendezvous: nat-b let nothing in.
  sed -n '1,/dialling (holepunch)/p' "$WORK/a.log" | grep -qE "11\.88\.2\.2:7002 connected" &&
    fail "A reached B before the rendezvous: nat-b let a uTP dial in"
  pass "A's direct uTP dial to B died at nat-b"
fi
cmp -s "$WORK/data/payload.bin" "$WORK/b/payload.bin" || fail "bytes differ"
grep -q "holepunch: relaying a rendezvous" "$WORK/relay.log" ||
  fail "the relay relayed no rendezvous: $(grep -i holepunch "$WORK/relay.log")"
grep -q "11.88.1.2:7001 dialling (holepunch)" "$WORK/b.log" || fail "B made no holepunch dial to A"
grep -q "dialling (holepunch)" "$WORK/a.log" || fail "A made no holepunch dial to B"
# TCP: the simultaneous open is an outgoing connection on both sides. uTP: the first SYN through makes the
# connection (the other side sees it as incoming); a second one, if both got through, is a duplicate.
grep -qE "11.88.1.2:7001 connected \((outgoing|incoming)\)" "$WORK/b.log" || fail "B never connected to A"
# B's farewell to A says what came over the punched connection: more than nothing.
from_a=$(grep -E "^11\.88\.1\.2:7001 .*closed: .*; got " "$WORK/b.log" | sed -nE 's/.*; got ([0-9.]+ [KMG]?i?B),.*/\1/p' | tail -n 1)
[ -n "$from_a" ] && [ "$from_a" != "0 B" ] || fail "B got nothing from A: $(grep '11.88.1.2:7001' "$WORK/b.log" | tail -n 5)"
pass "B reached A through a BEP 55 rendezvous ($transport through both NATs), $from_a from A, bytes right"
finish
