#!/usr/bin/env bash
# A torrent of 5,000 small files in 50 folders under `ulimit -n 256` (the file-handle pool's bound is then
# 256 / 4 = 64): Shoal downloads it from libtorrent, seeds it to libtorrent and `shoal check`s it, and while
# it runs never holds more than 64 descriptors in the download folder (sampled from /proc/PID/fd), however
# many files there are. Storage once kept two descriptors per file: "Too many open files" past ~500 files.
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

files=${SHOAL_MANY_FILES:-5000}
bound=64  # FilePool::default_bound() under a limit of 256

# make_files DIR COUNT FOLDERS MIN MAX SEED: COUNT files of MIN-MAX bytes spread over FOLDERS folders.
"$LT_PYTHON" - "$WORK/data/set" "$files" 50 1024 8192 15 <<'PY'
import os, random, sys
root, count, folders, low, high, seed = sys.argv[1], *map(int, sys.argv[2:])
rng = random.Random(seed)
for i in range(count):
    d = os.path.join(root, f"d{i % folders:02}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05}.bin"), "wb") as f:
        f.write(rng.randbytes(rng.randint(low, high)))
PY
"$SHOAL" create "$WORK/data/set" -o "$WORK/t.torrent" --piece-size 16K -q

# watch_fds PID OUT: until PID exits, samples how many descriptors of it and its children (`timeout` runs
# Shoal as its child) name something in the download folder, and writes the largest count seen (and the
# number of samples) to OUT.
watch_fds() {
  local pid=$1 out=$2 most=0 samples=0 n p
  while kill -0 "$pid" 2>/dev/null; do
    n=0
    for p in "$pid" $(pgrep -P "$pid"); do
      n=$((n + $(find "/proc/$p/fd" -mindepth 1 -lname "$WORK/dl*" 2>/dev/null | wc -l || true)))
    done
    [ "$n" -gt "$most" ] && most=$n
    samples=$((samples + 1))
    sleep 0.02
  done
  echo "$most $samples" >"$out"
}

start_lt_seed "$WORK/t.torrent" "$WORK/data"
mkdir -p "$WORK/dl"
(
  ulimit -n 256
  exec timeout 300 "$SHOAL" get --no-dht --no-lsd --no-trackers "$WORK/t.torrent" -o "$WORK/dl" \
    --listen 127.0.0.1 --peer "127.0.0.1:$LT_SEED_PORT" -q 2>"$WORK/get.err"
) &
get_pid=$!
watch_fds "$get_pid" "$WORK/get.fds" &
watcher=$!
wait "$get_pid" || fail "download under ulimit -n 256 failed: $(tail -n 5 "$WORK/get.err")"
wait "$watcher"
same_tree "$WORK/data/set" "$WORK/dl/set"
read -r most samples <"$WORK/get.fds"
[ "$most" -le "$bound" ] || fail "the download held $most descriptors in its folder (bound $bound)"
pass "$files files downloaded from libtorrent under ulimit -n 256; at most $most files open ($samples samples)"

port=$(free_port)
(
  ulimit -n 256
  exec timeout 300 "$SHOAL" seed --no-dht --no-lsd --no-trackers "$WORK/t.torrent" "$WORK/dl" --listen 127.0.0.1 \
    --port "$port" -q 2>"$WORK/seed.err"
) &
seed_pid=$!
watch_fds "$seed_pid" "$WORK/seed.fds" &
watcher=$!
wait_port "$port"
lt_download "$WORK/t.torrent" "$WORK/lt" "127.0.0.1:$port"
kill "$seed_pid"
wait "$seed_pid" 2>/dev/null || true
wait "$watcher"
same_tree "$WORK/data/set" "$WORK/lt/set"
read -r most samples <"$WORK/seed.fds"
[ "$most" -le "$bound" ] || fail "the seed held $most descriptors in its folder (bound $bound)"
pass "seeded to libtorrent under ulimit -n 256; at most $most files open ($samples samples)"

(
  ulimit -n 256
  exec timeout 300 "$SHOAL" check "$WORK/t.torrent" "$WORK/dl"
) >"$WORK/check.out" 2>&1 || fail "shoal check under ulimit -n 256: $(tail -n 3 "$WORK/check.out")"
pass "shoal check under ulimit -n 256: $(tr '\r' '\n' <"$WORK/check.out" | grep -v '^ *$' | tail -n 1)"
finish
