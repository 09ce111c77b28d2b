#!/usr/bin/env bash
# libtorrent seeds and Shoal downloads (peers found through opentracker), and Shoal seeds and libtorrent
# downloads; single- and multi-file torrents; the bytes on disk are compared.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/transfer_lib.sh"

for t in "$SINGLE" "$MULTI"; do
  name=$(payload_of "$t")
  start_lt_seed "$t" "$DATA"
  shoal_get "$t" "$WORK/from-lt-$name"
  same_tree "$DATA/$name" "$WORK/from-lt-$name/$name"
  pass "libtorrent -> Shoal: $name"
  kill %?lt_peer 2>/dev/null || true

  start_shoal_seed "$t"
  lt_download "$t" "$WORK/to-lt-$name" "127.0.0.1:$SHOAL_SEED_PORT"
  same_tree "$DATA/$name" "$WORK/to-lt-$name/$name"
  pass "Shoal -> libtorrent: $name"
  stop_shoal_seed
done
finish
