#!/usr/bin/env bash
# A torrent whose file names are longer than a file name may be (NAME_MAX, 255 bytes) downloads under
# shortened names that stay distinct (a hash of the original), said once on stderr; a torrent whose whole path
# cannot fit PATH_MAX (4096 bytes) stops with an error naming the file. Neither may hang: such a path once
# left `shoal get` at "checking 0.0%" forever.
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

# make_torrent OUT NAME FILES_JSON: FILES_JSON is a list of [path components, data file]; a tiny bencoder.
make_torrent() {
  $LT_PYTHON - "$@" <<'PY'
import hashlib, json, sys

def bencode(x):
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, str):
        x = x.encode()
    if isinstance(x, bytes):
        return b"%d:" % len(x) + x
    if isinstance(x, list):
        return b"l" + b"".join(bencode(i) for i in x) + b"e"
    return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted((k.encode(), v) for k, v in x.items())) + b"e"

out, name, files = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
data = [open(f, "rb").read() for _, f in files]
whole, piece = b"".join(data), 16384
pieces = b"".join(hashlib.sha1(whole[i:i + piece]).digest() for i in range(0, len(whole), piece))
info = {"name": name, "piece length": piece, "pieces": pieces,
        "files": [{"length": len(d), "path": p} for (p, _), d in zip(files, data)]}
open(out, "wb").write(bencode({"info": info}))
PY
}

mkdir -p "$WORK/src"
make_data "$WORK/src/one" 70001 one
make_data "$WORK/src/two" 40000 two
make_data "$WORK/src/three" 999 three
long1="$(printf 'n%.0s' $(seq 295))1.bin"  # 300 bytes, and a second one that differs only near the end
long2="$(printf 'n%.0s' $(seq 295))2.bin"
make_torrent "$WORK/long.torrent" longnames \
  "[[[\"$long1\"], \"$WORK/src/one\"], [[\"$long2\"], \"$WORK/src/two\"], [[\"short.txt\"], \"$WORK/src/three\"]]"

# What the torrent's files are called on disk, as `shoal info` says: shortened, distinct, told once.
"$SHOAL" info --json "$WORK/long.torrent" >"$WORK/info.json" 2>"$WORK/info.err" || fail "shoal info: $(cat "$WORK/info.err")"
mapfile -t paths < <($LT_PYTHON -c 'import json,sys; [print(f["path"]) for f in json.load(open(sys.argv[1]))["files"]]' "$WORK/info.json")
[ "${#paths[@]}" = 3 ] || fail "expected 3 files, got: ${paths[*]}"
for p in "${paths[0]}" "${paths[1]}"; do
  leaf=${p##*/}
  [ "${#leaf}" -le 255 ] || fail "a file name of ${#leaf} bytes was not shortened: $leaf"
  [[ $leaf =~ ~[0-9a-f]{8}\.bin$ ]] || fail "no hash and extension at the end of the shortened name: $leaf"
done
[ "${paths[0]}" != "${paths[1]}" ] || fail "two long names that differ only at the end were mapped to one"
pass "long names shortened to fit, distinct, extension kept"
[ "$(grep -c 'note: 2 names in this torrent are longer than 255 bytes' "$WORK/info.err")" = 1 ] ||
  fail "shoal info did not say once that names were shortened: $(cat "$WORK/info.err")"
pass "shoal info says so once on stderr"

# The seeder holds the data under the mapped names, as it would after its own download.
mkdir -p "$WORK/seed/longnames"
cp "$WORK/src/one" "$WORK/seed/${paths[0]}"
cp "$WORK/src/two" "$WORK/seed/${paths[1]}"
cp "$WORK/src/three" "$WORK/seed/${paths[2]}"
seed_port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd --no-trackers "$WORK/long.torrent" "$WORK/seed" --listen 127.0.0.1 --port "$seed_port" -q \
  2>"$WORK/seed.err" &
wait_port "$seed_port"
rc=0
timeout 60 "$SHOAL" get --no-dht --no-lsd --no-trackers "$WORK/long.torrent" -o "$WORK/dl" --listen 127.0.0.1 \
  --peer "127.0.0.1:$seed_port" >"$WORK/get.log" 2>&1 || rc=$?
[ "$rc" != 124 ] || fail "the download hung (killed after 60 s): $(tail -c 400 "$WORK/get.log")"
[ "$rc" = 0 ] || fail "the download failed ($rc): $(tail -c 400 "$WORK/get.log")"
cmp -s "$WORK/src/one" "$WORK/dl/${paths[0]}" || fail "first long-named file differs"
cmp -s "$WORK/src/two" "$WORK/dl/${paths[1]}" || fail "second long-named file differs"
cmp -s "$WORK/src/three" "$WORK/dl/${paths[2]}" || fail "short-named file differs"
pass "the bytes arrived under the shortened names"
[ "$(grep -c 'note: 2 names' "$WORK/get.log")" = 1 ] || fail "get did not say once that names were shortened"
pass "shoal get says so once"
# Again over the finished download: the recheck finds everything under the same names.
timeout 60 "$SHOAL" check -q "$WORK/long.torrent" "$WORK/dl" 2>/dev/null || fail "the download does not check complete"
pass "shoal check finds the data under the same names"

# 20 folders of 250 bytes: every name fits, the whole path cannot.
deep="[[[$(for i in $(seq -w 0 19); do printf '"d%s%s", ' "$i" "$(printf 'y%.0s' $(seq 247))"; done)\"f.bin\"], \"$WORK/src/three\"]]"
make_torrent "$WORK/deep.torrent" deep "$deep"
rc=0
timeout 20 "$SHOAL" get --no-dht --no-lsd --no-trackers "$WORK/deep.torrent" -o "$WORK/dl" --listen 127.0.0.1 \
  --peer "127.0.0.1:$seed_port" -q >"$WORK/deep.log" 2>&1 || rc=$?
[ "$rc" != 124 ] || fail "get of a path beyond PATH_MAX hung: $(tail -c 300 "$WORK/deep.log")"
[ "$rc" = 1 ] || fail "get of a path beyond PATH_MAX: exit code $rc, expected 1"
grep -q 'f.bin: path longer than the file system allows (PATH_MAX' "$WORK/deep.log" ||
  fail "no clear error naming the file: $(tail -c 300 "$WORK/deep.log")"
pass "get of a path beyond PATH_MAX: a clear error naming the file, exit 1"
rc=0
timeout 20 "$SHOAL" check -q "$WORK/deep.torrent" "$WORK/dl" >"$WORK/deep.log" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'f.bin: path longer' "$WORK/deep.log" || fail "check of a path beyond PATH_MAX: exit $rc: $(tail -c 300 "$WORK/deep.log")"
pass "check of a path beyond PATH_MAX: the same error"
finish
