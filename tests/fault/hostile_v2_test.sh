#!/usr/bin/env bash
# The hostile BEP 52 bank (tests/data/hostile-v2, see make_hostile_v2.py): each torrent breaks one rule of v2
# or hybrid metainfo, and `shoal info` and `shoal get` each refuse it at once with the error named in
# expected.txt: an exit status of 1, never a crash, a hang or a file written. The untouched hybrid it was
# made from parses, so the bank tests the rules and not a broken base.
source "$(dirname "$0")/../interop/lib.sh"

bank="$SHOAL_SOURCE_DIR/tests/data/hostile-v2"
base="$SHOAL_SOURCE_DIR/tests/data/v2/hybrid-multi.torrent"
"$SHOAL" info "$base" >/dev/null || fail "the base hybrid does not parse"
pass "the base hybrid parses"

while IFS=$'\t' read -r file message; do
  for command in info get; do
    args=()
    [ "$command" = get ] && args=(-o "$WORK/dl" --no-dht --no-lsd --no-upnp --no-natpmp --no-trackers -q)
    set +e
    timeout 60 "$SHOAL" "$command" "$bank/$file" "${args[@]}" >"$WORK/out" 2>"$WORK/err"
    status=$?
    set -e
    [ "$status" = 1 ] || fail "shoal $command $file: exit status $status, expected 1 ($(cat "$WORK/err"))"
    grep -qF -- "$message" "$WORK/err" || fail "shoal $command $file: '$(cat "$WORK/err")' does not say '$message'"
    pass "shoal $command refuses $file: $message"
  done
done <"$bank/expected.txt"
[ -z "$(find "$WORK/dl" -type f 2>/dev/null)" ] || fail "a refused torrent left files in the download folder"
pass "no file written for any refused torrent"
finish
