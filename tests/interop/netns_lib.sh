# Helpers for tests that build networks of namespaces. Sourced, not run.

# skip_without TOOL...: exits 77 (a skip) when one of the tools is not installed.
skip_without() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
      echo "skipped: $tool is not installed (scripts/install-deps)"
      exit 77
    fi
  done
}

# link NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth pair between two namespaces, both ends up.
link() {
  ip link add "v$$a" netns "$1" type veth peer name "v$$b" netns "$4"
  ip -n "$1" link set dev "v$$a" name "$2"
  ip -n "$4" link set dev "v$$b" name "$5"
  ip -n "$1" addr add "$3" dev "$2"
  ip -n "$4" addr add "$6" dev "$5"
  ip -n "$1" link set dev "$2" up
  ip -n "$4" link set dev "$5" up
}

# tx_router_rx TAG NET: three namespaces in a row, $tx -- $router -- $rx (named TAG-tx, TAG-router, TAG-rx):
# tx is NET.1.1 (up0), rx is NET.0.2 (down0), the router forwards between its in0 and out0. Exits 77 (a skip)
# when namespaces cannot be made; removes them at exit, after lib.sh's cleanup (source lib.sh first).
tx_router_rx() {
  tx="$1-tx" router="$1-router" rx="$1-rx"
  if ! ip netns add "$tx" 2>/dev/null; then
    echo "skipped: cannot create a network namespace (needs root and iproute2)"
    exit 77
  fi
  ip netns add "$router"
  ip netns add "$rx"
  teardown() {
    cleanup
    for ns in "$tx" "$router" "$rx"; do ip netns del "$ns" 2>/dev/null || true; done
  }
  trap teardown EXIT
  for ns in "$tx" "$router" "$rx"; do ip -n "$ns" link set lo up; done
  link "$tx" up0 "$2.1.1/24" "$router" in0 "$2.1.2/24"
  link "$router" out0 "$2.0.254/24" "$rx" down0 "$2.0.2/24"
  ip -n "$tx" route add "$2.0.0/24" via "$2.1.2"
  ip -n "$rx" route add "$2.1.0/24" via "$2.0.254"
  ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1
}
