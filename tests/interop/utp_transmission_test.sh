#!/usr/bin/env bash
# uTP (BEP 29) against Transmission ("utp-enabled": true; it cannot turn TCP off). Shoal runs with
# --transport utp, so it dials only uTP and closes every incoming TCP connection: whatever moved, moved over
# uTP. Transmission ignores peers on 127.0.0.0/8 from trackers, so Shoal dials it both ways (as in
# transfer_transmission_test.sh); the bytes on disk are compared.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/transfer_lib.sh"

export TR_UTP=true
transmission_both_ways " over uTP" --transport utp
finish
