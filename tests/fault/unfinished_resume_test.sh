#!/usr/bin/env bash
# Resume data keeps the blocks of unfinished pieces (v1, v2 and hybrid): big pieces (4 MiB, a 16 MiB file),
# a rate-limited seeder, the leecher stopped in the middle of a piece and started again. The restart
# downloads fewer bytes than what was missing rounded up to whole pieces (blocks already on disk are not
# fetched again), and the file verifies.
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

piece=$((4 * 1024 * 1024))
size=$((16 * 1024 * 1024))
mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" "$size" unfinished

for mode in v1 v2 hybrid; do
  flag=()
  [ "$mode" = v1 ] || flag=("--$mode")
  rm -rf "$WORK/dl" "$WORK/state"
  "$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/$mode.torrent" --piece-size 4M "${flag[@]}" -q
  seed_port=$(free_port)
  "$SHOAL" seed --no-dht --no-lsd "$WORK/$mode.torrent" "$WORK/data" --listen 127.0.0.1 --port "$seed_port" \
    --max-up 2M -q &
  seeder=$!
  wait_port "$seed_port"

  "$SHOAL" get --no-dht --no-lsd "$WORK/$mode.torrent" -o "$WORK/dl" --listen 127.0.0.1 \
    --peer "127.0.0.1:$seed_port" --state-dir "$WORK/state" >"$WORK/first.log" 2>&1 &
  leecher=$!
  # The first piece verified (25 %); then about half a piece more at 2 MB/s, so the stop lands inside the
  # next piece. (A delay to place the stop, not a synchronisation: wherever it lands, the checks below
  # measure what the restart fetched against what was verified on disk.)
  deadline=$((SECONDS + 60))
  until grep -qE "downloading +(2[5-9]|[3-9][0-9])\.[0-9]%" "$WORK/first.log"; do
    [ $SECONDS -lt $deadline ] || fail "$mode: the first download made no progress: $(tail -n 2 "$WORK/first.log")"
    kill -0 "$leecher" 2>/dev/null || fail "$mode: the first download ended early: $(tail -n 2 "$WORK/first.log")"
    sleep 0.1
  done
  sleep 1
  kill -INT "$leecher"
  wait "$leecher" 2>/dev/null || true
  pass "$mode: stopped mid-download"

  # What is verified on disk now, by an independent check; the rest rounded up to whole pieces.
  # (check exits 2: incomplete.)
  verified=$({ "$SHOAL" check "$WORK/$mode.torrent" "$WORK/dl" 2>/dev/null || true; } |
    sed -n 's/.*: \([0-9]*\) of 4 pieces verified.*/\1/p')
  [ -n "$verified" ] || fail "$mode: shoal check said nothing about the pieces"
  [ "$verified" -lt 4 ] || fail "$mode: the stop came too late, every piece was verified"
  missing_rounded=$(((4 - verified) * piece))

  timeout 120 "$SHOAL" get --no-dht --no-lsd "$WORK/$mode.torrent" -o "$WORK/dl" --listen 127.0.0.1 \
    --peer "127.0.0.1:$seed_port" --state-dir "$WORK/state" -v >"$WORK/second.log" 2>&1 ||
    fail "$mode: the restart did not complete: $(tail -n 5 "$WORK/second.log")"
  cmp -s "$WORK/data/payload.bin" "$WORK/dl/payload.bin" || fail "$mode: bytes differ after the restart"
  pass "$mode: restart completed with the right bytes"
  kept=$(sed -n 's/.*resume data: kept \([0-9]*\) block(s) of unfinished pieces.*/\1/p' "$WORK/second.log")
  [ -n "$kept" ] && [ "$kept" -gt 0 ] || fail "$mode: no blocks of unfinished pieces were kept: $(grep resume "$WORK/second.log")"
  fetched=$(sed -n "s/.*127.0.0.1:$seed_port.* got \([0-9]*\) B.*/\1/p" "$WORK/second.log" | awk '{s += $1} END {print s + 0}')
  [ "$fetched" -gt 0 ] || fail "$mode: no bytes counted from the seeder"
  [ "$fetched" -lt "$missing_rounded" ] ||
    fail "$mode: the restart fetched $fetched bytes, not less than the $missing_rounded missing in whole pieces"
  [ "$fetched" -le $((missing_rounded - kept * 16384)) ] ||
    fail "$mode: the restart fetched $fetched bytes, more than $missing_rounded less the $kept blocks kept"
  pass "$mode: the restart fetched $fetched bytes of $missing_rounded missing in whole pieces ($kept blocks kept)"
  kill "$seeder"
  wait "$seeder" 2>/dev/null || true
done
finish
