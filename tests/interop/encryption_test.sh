#!/usr/bin/env bash
# MSE/PE with encryption REQUIRED on the other side (RC4 only, plain refused), Shoal with --encryption
# require: libtorrent seeds and Shoal downloads (Shoal dials: MSE initiator), Shoal seeds and libtorrent
# downloads (libtorrent dials: Shoal is the MSE responder), and the same both ways with Transmission
# ("encryption": 2); the bytes on disk are compared. Then the refusals: a plain-only Shoal gets nothing from a
# libtorrent that requires encryption, and a Shoal that requires it refuses a plain libtorrent.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/transfer_lib.sh"

for t in "$SINGLE" "$MULTI"; do
  name=$(payload_of "$t")
  start_lt_seed "$t" "$DATA" --encryption require
  shoal_get "$t" "$WORK/from-lt-$name" --encryption require
  same_tree "$DATA/$name" "$WORK/from-lt-$name/$name"
  pass "libtorrent (encryption required) -> Shoal: $name"
  kill %?lt_peer 2>/dev/null || true

  start_shoal_seed "$t" --encryption require
  LT_ENCRYPTION=require lt_download "$t" "$WORK/to-lt-$name" "127.0.0.1:$SHOAL_SEED_PORT"
  same_tree "$DATA/$name" "$WORK/to-lt-$name/$name"
  pass "Shoal -> libtorrent (encryption required): $name"
  stop_shoal_seed
done

# Refusals, each side in turn: nothing can be transferred when one side is plain-only.
start_lt_seed "$SINGLE" "$DATA" --encryption require
mkdir -p "$WORK/refused"
if timeout 15 "$SHOAL" get --no-dht --no-lsd "$SINGLE" -o "$WORK/refused" --listen 127.0.0.1 \
  --encryption plain -q 2>"$WORK/refused.log"; then
  fail "a plain-only Shoal downloaded from a libtorrent that requires encryption"
fi
pass "plain-only Shoal gets nothing from libtorrent requiring encryption"
kill %?lt_peer 2>/dev/null || true
start_shoal_seed "$SINGLE" --encryption require
if "$SHOAL_SOURCE_DIR/tests/interop/lt_peer.py" download "$SINGLE" "$WORK/refused-lt" --port "$(free_port)" \
  --timeout 10 --peer "127.0.0.1:$SHOAL_SEED_PORT" --encryption disable >"$WORK/refused-lt.log" 2>&1; then
  fail "a plain libtorrent downloaded from a Shoal that requires encryption"
fi
pass "Shoal requiring encryption refuses plain libtorrent"
stop_shoal_seed

# Transmission requires encryption. It ignores tracker peers on 127.0.0.0/8, so Shoal dials it in both
# directions (as in transfer_transmission_test.sh).
export TR_ENCRYPTION=2
mkdir -p "$WORK/tr-seed"
cp -r "$DATA/single.bin" "$DATA/tree" "$WORK/tr-seed/"
start_transmission "$WORK/tr-seed"
for t in "$SINGLE" "$MULTI"; do
  transmission_add "$t"
done
transmission_wait_done 60
for t in "$SINGLE" "$MULTI"; do
  name=$(payload_of "$t")
  shoal_get "$t" "$WORK/from-tr-$name" --peer "127.0.0.1:$TR_PEER_PORT" --encryption require
  same_tree "$DATA/$name" "$WORK/from-tr-$name/$name"
  pass "Transmission (encryption required) -> Shoal: $name"
done
transmission-remote "$TR_RPC" --exit >/dev/null 2>&1 || true
kill %?transmission-daemon 2>/dev/null || true

start_transmission "$WORK/to-tr"
for t in "$SINGLE" "$MULTI"; do
  name=$(payload_of "$t")
  start_shoal_seed "$t" --peer "127.0.0.1:$TR_PEER_PORT" --encryption require
  transmission_add "$t"
  deadline=$((SECONDS + 90))
  # Transmission 3.00 does not create zero-length files, so only files with data are compared.
  until same_file_data "$DATA/$name" "$WORK/to-tr/$name"; do
    [ $SECONDS -lt $deadline ] || fail "Transmission did not download $name: $(transmission-remote "$TR_RPC" -l)"
    sleep 0.5
  done
  pass "Shoal -> Transmission (encryption required): $name"
  stop_shoal_seed
done
finish
