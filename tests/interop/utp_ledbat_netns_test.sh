#!/usr/bin/env bash
# LEDBAT yields (BEP 29): a Shoal uTP upload shares a bottleneck with an ordinary TCP flow (iperf3) and leaves
# it most of the link. Three namespaces: tx -- router -- rx; the router's egress towards rx is a tbf qdisc (40
# Mbit/s with up to 400 ms of queue: this kernel has no netem, and tbf is the bottleneck a home uplink is).
# The bottleneck must be on a router, not on the sender's own interface: there, TCP small queues would hold
# the TCP flow to a few kilobytes in the qdisc while UDP queues freely, and TCP would starve whatever uTP did.
#   1. iperf3 alone for 5 s: the TCP baseline.
#   2. Shoal seeds to Shoal over uTP alone: it must fill the idle link (at least half the rate), so a uTP that
#      merely sends little cannot pass step 3.
#   3. iperf3 again while the uTP transfer runs: TCP must keep at least 70% of its baseline. TCP fills the
#      queue, the one-way delay uTP measures rises past its 100 ms target, and uTP backs off.
# Nothing leaves the namespaces. Needs root; skipped with exit 77 without.
set -euo pipefail

source "$(dirname "$0")/netns_lib.sh"
skip_without ip tc iperf3
source "$(dirname "$0")/lib.sh"
tx_router_rx "shoal-ledbat-$$" 10.98
RATE_MBIT=40
# burst above the largest GSO packet veth hands over, or tbf drops it.
ip netns exec "$router" tc qdisc add dev out0 root tbf rate ${RATE_MBIT}mbit burst 96kb latency 400ms

rx_bytes() { ip netns exec "$rx" cat /sys/class/net/down0/statistics/rx_bytes; }
# iperf3_mbit SECONDS: a TCP flow tx -> rx; prints the receiver's Mbit/s.
iperf3_mbit() {
  ip netns exec "$tx" iperf3 -c 10.98.0.2 -p 5201 -t "$1" -J >"$WORK/iperf3.json" ||
    fail "iperf3: $(tail -n 5 "$WORK/iperf3.json")"
  /usr/bin/python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' \
    "$WORK/iperf3.json"
}
ip netns exec "$rx" iperf3 -s -p 5201 >"$WORK/iperf3-server.log" 2>&1 &
until ip netns exec "$rx" ss -tln | grep -q ":5201 "; do sleep 0.05; done

base=$(iperf3_mbit 5)
pass "TCP alone: $base Mbit/s over the ${RATE_MBIT} Mbit/s bottleneck"

mkdir -p "$WORK/data"
make_data "$WORK/data/big.bin" $((96 * 1024 * 1024)) ledbat
"$SHOAL" create "$WORK/data/big.bin" -o "$WORK/big.torrent" --piece-size 1M -q
ip netns exec "$tx" "$SHOAL" seed --no-dht --no-lsd --no-trackers --no-upnp --no-natpmp "$WORK/big.torrent" "$WORK/data" \
  --listen 10.98.1.1 --port 7000 --transport utp -q >"$WORK/seed.log" 2>&1 &
until ip netns exec "$tx" ss -uln | grep -q ":7000 "; do sleep 0.05; done
ip netns exec "$rx" "$SHOAL" get --no-dht --no-lsd --no-trackers --no-upnp --no-natpmp "$WORK/big.torrent" -o "$WORK/got" \
  --listen 10.98.0.2 --peer 10.98.1.1:7000 --transport utp -q >"$WORK/get.log" 2>&1 &
get_pid=$!
# The transfer is under way once a few MB have arrived; then uTP alone is measured over 4 s.
start_bytes=$(rx_bytes)
deadline=$((SECONDS + 30))
until [ $(($(rx_bytes) - start_bytes)) -gt 4000000 ]; do
  [ $SECONDS -lt $deadline ] || fail "the uTP transfer did not start: $(tail -n 5 "$WORK/get.log")"
  kill -0 "$get_pid" 2>/dev/null || fail "the leecher exited early: $(tail -n 5 "$WORK/get.log")"
  sleep 0.1
done
b0=$(rx_bytes)
t0=$(date +%s.%N)
sleep 4  # a measurement window, not a synchronisation
alone=$(echo "($(rx_bytes) - $b0) * 8 / ($(date +%s.%N) - $t0) / 1000000" | bc -l)
pass "uTP alone: $(printf '%.1f' "$alone") Mbit/s"
awk -v a="$alone" -v r="$RATE_MBIT" 'BEGIN { exit !(a >= 0.5 * r) }' ||
  fail "uTP alone used $(printf '%.1f' "$alone") of ${RATE_MBIT} Mbit/s: too little to tell yielding from not sending"

b0=$(rx_bytes)
t0=$(date +%s.%N)
shared=$(iperf3_mbit 6)
total=$(echo "($(rx_bytes) - $b0) * 8 / ($(date +%s.%N) - $t0) / 1000000" | bc -l)
kill -0 "$get_pid" 2>/dev/null || fail "the uTP transfer ended before the shared window did: make the file larger"
utp_share=$(echo "$total - $shared" | bc -l)
pass "TCP beside uTP: $shared Mbit/s (uTP about $(printf '%.1f' "$utp_share") Mbit/s), baseline $base"
awk -v s="$shared" -v b="$base" 'BEGIN { exit !(s >= 0.7 * b) }' ||
  fail "TCP kept only $shared of $base Mbit/s beside uTP: LEDBAT did not yield"
pass "LEDBAT yields: TCP keeps $(printf '%.0f' "$(echo "100 * $shared / $base" | bc -l)")% of its baseline"
finish
