#!/usr/bin/env bash
# A FIFO planted where a torrent's file belongs (open() of a FIFO blocks until a writer comes, so it once hung
# the recheck at "checking 0.0%" forever), or a directory standing there: `shoal check` and `shoal get` both
# stop at once with an error naming the path, and never open it.
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

mkdir -p "$WORK/data/set/sub"
make_data "$WORK/data/set/a.bin" 70001 a
make_data "$WORK/data/set/sub/b.bin" 50000 b
"$SHOAL" create "$WORK/data/set" -o "$WORK/t.torrent" --piece-size 16K -q

# expect_refused WHAT PATTERN COMMAND...: exits 1 within the timeout, with PATTERN on stderr.
expect_refused() {
  local what=$1 pattern=$2 rc=0
  shift 2
  timeout 20 "$@" >"$WORK/out.log" 2>"$WORK/err.log" || rc=$?
  [ "$rc" != 124 ] || fail "$what: hung (killed after 20 s): $(tail -c 300 "$WORK/err.log")"
  [ "$rc" = 1 ] || fail "$what: exit code $rc, expected 1: $(tail -c 300 "$WORK/err.log")"
  grep -q -- "$pattern" "$WORK/err.log" || fail "$what: no clear error: $(tail -c 300 "$WORK/err.log")"
  pass "$what: $(grep -- "$pattern" "$WORK/err.log" | head -n 1)"
}

# Everything else is in place, so only the FIFO stands between the check and success.
mkdir -p "$WORK/dl/set/sub"
cp "$WORK/data/set/a.bin" "$WORK/dl/set/a.bin"
mkfifo "$WORK/dl/set/sub/b.bin"
expect_refused "check over a FIFO" "set/sub/b.bin: is a FIFO" "$SHOAL" check -q "$WORK/t.torrent" "$WORK/dl"
expect_refused "get over a FIFO" "set/sub/b.bin: is a FIFO" "$SHOAL" get --no-dht --no-lsd --no-trackers \
  "$WORK/t.torrent" -o "$WORK/dl" --listen 127.0.0.1 --peer "127.0.0.1:$(free_port)"
[ -p "$WORK/dl/set/sub/b.bin" ] || fail "the FIFO was replaced or removed"
pass "the FIFO is left as it was"

rm "$WORK/dl/set/sub/b.bin"
mkdir "$WORK/dl/set/sub/b.bin"
expect_refused "check over a directory" "set/sub/b.bin: is a directory" "$SHOAL" check -q "$WORK/t.torrent" "$WORK/dl"
expect_refused "get over a directory" "set/sub/b.bin: is a directory" "$SHOAL" get --no-dht --no-lsd --no-trackers \
  "$WORK/t.torrent" -o "$WORK/dl" --listen 127.0.0.1 --peer "127.0.0.1:$(free_port)"

# The same folder without the obstacle checks complete: the refusal was about the FIFO, nothing else.
rmdir "$WORK/dl/set/sub/b.bin"
cp "$WORK/data/set/sub/b.bin" "$WORK/dl/set/sub/b.bin"
timeout 20 "$SHOAL" check -q "$WORK/t.torrent" "$WORK/dl" || fail "the repaired folder does not check complete"
pass "with the obstacle gone the data checks complete"
finish
