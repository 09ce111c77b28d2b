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
transmission_both_ways " (encryption required)" --encryption require
finish
