# Shared helpers for interop and CLI tests. Sourced, not run.
# Every test gets a private temporary directory, removed on exit; nothing touches the network beyond 127.0.0.1.
set -euo pipefail

: "${SHOAL:?SHOAL must point at the shoal binary}"
# python3-libtorrent installs for Debian's interpreter, which may not be the python3 first on PATH.
LT_PYTHON=/usr/bin/python3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shoal-test.XXXXXX")
# Readable by others: opentracker drops root privileges before it reads its whitelist.
chmod 755 "$WORK"
# Each test keeps its Shoal state (resume data, DHT table) in its own folder, removed with it.
export SHOAL_STATE_DIR="$WORK/state"
cleanup() {
  local pids
  pids=$(jobs -p)
  [ -n "$pids" ] && kill $pids 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "${SHOAL_KEEP_WORK:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

CHECKS=0
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
pass() {
  CHECKS=$((CHECKS + 1))
  echo "ok: $* (at ${SECONDS}s)"
}
expect_eq() {  # expect_eq ACTUAL EXPECTED WHAT
  [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
  pass "$3"
}
finish() {
  echo "$CHECKS passed, 0 failed"
}

# Deterministic pseudo-random bytes: make_data FILE SIZE SEED
make_data() {
  # Process substitution: openssl dies of SIGPIPE when head has enough, which must not fail the test.
  head -c "$2" < <(openssl enc -aes-128-ctr -nosalt -pass "pass:$3" -pbkdf2 -in /dev/zero 2>/dev/null) > "$1"
}

# A multi-file tree with nesting, an empty file, and sizes that make pieces span file boundaries.
make_tree() {
  local root=$1
  mkdir -p "$root/sub/deeper" "$root/other"
  make_data "$root/a.bin" 700001 a
  make_data "$root/sub/b.bin" 123457 b
  make_data "$root/sub/deeper/c.txt" 1048576 c
  : > "$root/other/empty"
  make_data "$root/other/z.dat" 333 z
}

shoal_hash() {  # shoal_hash TORRENT -> info-hash hex per shoal info --json
  "$SHOAL" info --json "$1" | $LT_PYTHON -c 'import json,sys; print(json.load(sys.stdin)["info_hash"])'
}

transmission_hash() {
  transmission-show "$1" | sed -n 's/^ *Hash: *//p' | head -n 1
}

libtorrent_hash() {
  $LT_PYTHON - "$1" <<'PY'
import sys, libtorrent as lt
ti = lt.torrent_info(sys.argv[1])
print(str(ti.info_hashes().v1) if hasattr(ti, "info_hashes") else str(ti.info_hash()))
PY
}
