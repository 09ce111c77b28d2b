#!/usr/bin/env bash
# uTP (BEP 29) against Transmission ("utp-enabled": true; it cannot turn TCP off). Shoal runs with
# --transport utp, so it dials only uTP and closes every incoming TCP connection: whatever moved, moved over
# uTP. Transmission ignores peers on 127.0.0.0/8 from trackers, so Shoal dials it both ways (as in
# transfer_transmission_test.sh); the bytes on disk are compared.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/transfer_lib.sh"

export TR_UTP=true
mkdir -p "$WORK/tr-seed"
cp -r "$DATA/single.bin" "$DATA/tree" "$WORK/tr-seed/"
start_transmission "$WORK/tr-seed"
for t in "$SINGLE" "$MULTI"; do
  transmission_add "$t"
done
transmission_wait_done 60
for t in "$SINGLE" "$MULTI"; do
  name=$(payload_of "$t")
  shoal_get "$t" "$WORK/from-tr-$name" --peer "127.0.0.1:$TR_PEER_PORT" --transport utp
  same_tree "$DATA/$name" "$WORK/from-tr-$name/$name"
  pass "Transmission -> Shoal over uTP: $name"
done
transmission-remote "$TR_RPC" --exit >/dev/null 2>&1 || true
kill %?transmission-daemon 2>/dev/null || true

start_transmission "$WORK/to-tr"
for t in "$SINGLE" "$MULTI"; do
  name=$(payload_of "$t")
  start_shoal_seed "$t" --peer "127.0.0.1:$TR_PEER_PORT" --transport utp
  transmission_add "$t"
  deadline=$((SECONDS + 90))
  # Transmission 3.00 does not create zero-length files, so only files with data are compared.
  until same_file_data "$DATA/$name" "$WORK/to-tr/$name"; do
    [ $SECONDS -lt $deadline ] || fail "Transmission did not download $name: $(transmission-remote "$TR_RPC" -l)"
    sleep 0.5
  done
  pass "Shoal -> Transmission over uTP: $name"
  stop_shoal_seed
done
finish
