#!/usr/bin/env bash
# uTP (BEP 29) against libtorrent with TCP turned off on libtorrent's side (enable_incoming_tcp and
# enable_outgoing_tcp false) and Shoal on --transport utp: libtorrent seeds and Shoal downloads (Shoal dials),
# Shoal seeds and libtorrent downloads (libtorrent dials, and reports its peers' sockets as uTP); then both
# ways again with encryption required on both sides (MSE/PE over uTP). Single- and multi-file torrents; the
# bytes on disk are compared.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/transfer_lib.sh"

export LT_TRANSPORT=utp
for enc in default require; do
  shoal_enc=prefer
  [ "$enc" = require ] && shoal_enc=require
  for t in "$SINGLE" "$MULTI"; do
    name=$(payload_of "$t")
    start_lt_seed "$t" "$DATA" --transport utp --encryption "$enc"
    shoal_get "$t" "$WORK/from-lt-$enc-$name" --peer "127.0.0.1:$LT_SEED_PORT" --transport utp --encryption "$shoal_enc"
    same_tree "$DATA/$name" "$WORK/from-lt-$enc-$name/$name"
    pass "libtorrent (uTP only, encryption $enc) -> Shoal: $name"
    kill %?lt_peer 2>/dev/null || true

    start_shoal_seed "$t" --transport utp --encryption "$shoal_enc"
    LT_ENCRYPTION=$enc lt_download "$t" "$WORK/to-lt-$enc-$name" "127.0.0.1:$SHOAL_SEED_PORT"
    same_tree "$DATA/$name" "$WORK/to-lt-$enc-$name/$name"
    grep -q "transports utp" "$WORK/lt-download.log" || fail "libtorrent did not download over uTP: $(cat "$WORK/lt-download.log")"
    pass "Shoal -> libtorrent (uTP only, encryption $enc): $name"
    stop_shoal_seed
  done
done
finish
