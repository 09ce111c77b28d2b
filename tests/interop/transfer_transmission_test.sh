#!/usr/bin/env bash
# Transmission seeds and Shoal downloads, Shoal seeds and Transmission downloads. Transmission ignores tracker
# peers on 127.0.0.0/8, so Shoal dials it directly (--peer) in both directions.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/transfer_lib.sh"

# Transmission seeds from a copy of the data (it may touch files it serves).
mkdir -p "$WORK/tr-seed"
cp -r "$DATA/single.bin" "$DATA/tree" "$WORK/tr-seed/"
start_transmission "$WORK/tr-seed"
for t in "$SINGLE" "$MULTI"; do
  transmission_add "$t"
done
transmission_wait_done 60
for t in "$SINGLE" "$MULTI"; do
  name=$(payload_of "$t")
  shoal_get "$t" "$WORK/from-tr-$name" --peer "127.0.0.1:$TR_PEER_PORT"
  same_tree "$DATA/$name" "$WORK/from-tr-$name/$name"
  pass "Transmission -> Shoal: $name"
done
transmission-remote "$TR_RPC" --exit >/dev/null 2>&1 || true
kill %?transmission-daemon 2>/dev/null || true

start_transmission "$WORK/to-tr"
for t in "$SINGLE" "$MULTI"; do
  name=$(payload_of "$t")
  start_shoal_seed "$t" --peer "127.0.0.1:$TR_PEER_PORT"
  transmission_add "$t"
  deadline=$((SECONDS + 90))
  # Transmission 3.00 does not create zero-length files, so only files with data are compared.
  until same_file_data "$DATA/$name" "$WORK/to-tr/$name"; do
    [ $SECONDS -lt $deadline ] || fail "Transmission did not download $name: $(transmission-remote "$TR_RPC" -l)"
    sleep 0.5
  done
  pass "Shoal -> Transmission: $name"
  stop_shoal_seed
done
finish
