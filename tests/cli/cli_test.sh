#!/usr/bin/env bash
# The command line as a user meets it: deterministic output, magnets, and one-line errors on bad input.
source "$(dirname "$0")/../interop/lib.sh"

make_tree "$WORK/tree"

# Same input and options give byte-identical torrents; --date none omits the date.
"$SHOAL" create "$WORK/tree" -o "$WORK/a.torrent" --date 1600000000 -q
"$SHOAL" create "$WORK/tree" -o "$WORK/b.torrent" --date 1600000000 --threads 1 -q
cmp -s "$WORK/a.torrent" "$WORK/b.torrent" || fail "create is not deterministic"
pass "create is deterministic across thread counts"
"$SHOAL" create "$WORK/tree" -o "$WORK/nodate.torrent" --date none -q
grep -q "creation date" "$WORK/nodate.torrent" && fail "--date none still wrote a creation date"
pass "--date none omits the creation date"

# Refuses to overwrite without --force.
if "$SHOAL" create "$WORK/tree" -o "$WORK/a.torrent" -q 2>"$WORK/err"; then fail "overwrote without --force"; fi
grep -q "exists" "$WORK/err" || fail "overwrite refusal does not say why: $(cat "$WORK/err")"
pass "create refuses to overwrite"
"$SHOAL" create "$WORK/tree" -o "$WORK/a.torrent" -q --force --date 1600000000
pass "create --force overwrites"

# Progress goes to stderr as plain lines when not a terminal, the summary to stdout.
"$SHOAL" create "$WORK/tree" -o "$WORK/c.torrent" >"$WORK/out" 2>"$WORK/progress"
grep -q "hashing: 100.0%" "$WORK/progress" || fail "no final progress line: $(cat "$WORK/progress")"
grep -q "info-hash" "$WORK/out" || fail "no summary on stdout"
pass "progress and summary"

# info shows a magnet link that info accepts back with the same hash.
hash=$(shoal_hash "$WORK/a.torrent")
magnet=$("$SHOAL" info "$WORK/a.torrent" | sed -n 's/^magnet: *//p')
case "$magnet" in magnet:\?xt=urn:btih:$hash*) ;; *) fail "magnet '$magnet' does not carry $hash" ;; esac
expect_eq "$("$SHOAL" info --json "$magnet" | $LT_PYTHON -c 'import json,sys; print(json.load(sys.stdin)["info_hash"])')" \
  "$hash" "magnet from info parses back to the same hash"

# Every bad input exits non-zero with exactly one line naming the problem.
expect_error() {  # expect_error PATTERN ARGS...
  local pattern=$1
  shift
  if "$SHOAL" "$@" >"$WORK/out" 2>"$WORK/err"; then fail "'shoal $*' succeeded"; fi
  [ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "'shoal $*' printed more than one error line: $(cat "$WORK/err")"
  grep -qi -- "$pattern" "$WORK/err" || fail "'shoal $*' error does not mention '$pattern': $(cat "$WORK/err")"
  pass "error for: shoal $*"
}
printf 'd4:spami1ee' > "$WORK/nodict.torrent"
printf 'not bencode at all' > "$WORK/garbage.torrent"
head -c 100 "$WORK/a.torrent" > "$WORK/truncated.torrent"
mkdir -p "$WORK/emptydir"
expect_error "no such file" info "$WORK/missing.torrent"
expect_error "info" info "$WORK/nodict.torrent"
expect_error "byte" info "$WORK/garbage.torrent"
expect_error "byte" info "$WORK/truncated.torrent"
expect_error "magnet" info "magnet:?dn=nohash"
expect_error "magnet" info "magnet:?xt=urn:btih:1234"
expect_error "piece-size" create "$WORK/tree" -o "$WORK/x.torrent" --piece-size 1000
expect_error "piece-size" create "$WORK/tree" -o "$WORK/x.torrent" --piece-size banana
expect_error "date" create "$WORK/tree" -o "$WORK/x.torrent" --date yesterday
expect_error "missing" create "$WORK/missing" -o "$WORK/x.torrent"
expect_error "no files" create "$WORK/emptydir" -o "$WORK/x.torrent"
expect_error "x.pe" get --no-dht --no-lsd -o "$WORK/none" "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"
# A DHT nobody answers in (a closed port on loopback): a clear error after the join wait, not a minute of retries.
expect_error "no DHT node answered" get -q --no-lsd --dht-bootstrap 127.0.0.1:9 -o "$WORK/none" \
  "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"

# check: exit 0 when the data is complete, 2 when a piece is damaged, 1 with a message when there is no folder.
"$SHOAL" check "$WORK/a.torrent" "$WORK" -q || fail "check of intact data did not exit 0"
cp -r "$WORK/tree" "$WORK/damaged"
first=$(cd "$WORK/damaged" && find . -type f -size +1k | sort | head -n 1)
printf 'X' | dd of="$WORK/damaged/$first" bs=1 seek=100 conv=notrunc 2>/dev/null
mkdir -p "$WORK/dmg" && mv "$WORK/damaged" "$WORK/dmg/tree"
rc=0; "$SHOAL" check "$WORK/a.torrent" "$WORK/dmg" >"$WORK/out" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "check of damaged data exited $rc, expected 2"
grep -q "pieces verified" "$WORK/out" || fail "check prints no summary: $(cat "$WORK/out")"
pass "check tells complete from damaged data"
expect_error "not a directory" check "$WORK/a.torrent" "$WORK/missing-dir"
finish
