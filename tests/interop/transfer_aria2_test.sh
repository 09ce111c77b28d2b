#!/usr/bin/env bash
# aria2 seeds and Shoal downloads, Shoal seeds and aria2 downloads; both find each other through opentracker.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/transfer_lib.sh"

for t in "$SINGLE" "$MULTI"; do
  name=$(payload_of "$t")
  start_aria2_seed "$t" "$DATA"
  shoal_get "$t" "$WORK/from-aria2-$name"
  same_tree "$DATA/$name" "$WORK/from-aria2-$name/$name"
  pass "aria2 -> Shoal: $name"
  kill %?aria2c 2>/dev/null || true

  start_shoal_seed "$t"
  aria2_download "$t" "$WORK/to-aria2-$name"
  same_tree "$DATA/$name" "$WORK/to-aria2-$name/$name"
  pass "Shoal -> aria2: $name"
  stop_shoal_seed
done
finish
