#!/usr/bin/env bash
# Transmission seeds and Shoal downloads, Shoal seeds and Transmission downloads. Transmission ignores tracker
# peers on 127.0.0.0/8, so Shoal dials it directly (--peer) in both directions.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/transfer_lib.sh"

transmission_both_ways ""
finish
