# Helpers for tests that build networks of namespaces. Sourced, not run.

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
