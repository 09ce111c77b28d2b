#!/usr/bin/env bash
# Magnet links with x.pe: Shoal fetches the metadata (ut_metadata) from a libtorrent seed and then the data, and
# libtorrent fetches the metadata and the data from a Shoal seed. Bytes on disk are compared.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/transfer_lib.sh"

for t in "$SINGLE" "$MULTI"; do
  name=$(payload_of "$t")
  hash=$(shoal_hash "$t")
  start_lt_seed "$t" "$DATA"
  shoal_get "magnet:?xt=urn:btih:$hash&dn=$name&x.pe=127.0.0.1:$LT_SEED_PORT" "$WORK/magnet-from-lt-$name"
  same_tree "$DATA/$name" "$WORK/magnet-from-lt-$name/$name"
  pass "Shoal fetched metadata and data of $name from libtorrent by magnet"
  kill %?lt_peer 2>/dev/null || true

  start_shoal_seed "$t" --no-trackers
  lt_download "magnet:?xt=urn:btih:$hash&dn=$name" "$WORK/magnet-to-lt-$name" "127.0.0.1:$SHOAL_SEED_PORT"
  same_tree "$DATA/$name" "$WORK/magnet-to-lt-$name/$name"
  pass "libtorrent fetched metadata and data of $name from Shoal by magnet"
  stop_shoal_seed
done
finish
