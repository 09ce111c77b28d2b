#!/usr/bin/env bash
# Strings a torrent or a peer chooses (comment, created by, file and torrent names, a peer's client name) are
# printed with control bytes escaped: "\x1b]0;pwned\x07" would retitle the terminal and "\x1b[2J" clear it.
# No ESC, no other C0 control but newline, no DEL and no C1 control (U+0080-U+009F) may reach the output of
# `shoal info`, `check`, `seed` or `get -v`; the escaped text itself must be there, so nothing was dropped.
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

# no_controls WHAT FILE: fails if FILE holds a byte a terminal would act on.
no_controls() {
  $LT_PYTHON - "$2" <<'PY' || fail "$1: control bytes reach the terminal"
import re, sys
data = open(sys.argv[1], "rb").read()
bad = [(m.start(), m.group()) for m in re.finditer(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", data)]
for offset, raw in bad[:5]:
    print("  byte %r at %d: %r" % (raw, offset, data[max(0, offset - 30):offset + 30]), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
  pass "$1: no control bytes"
}

mkdir -p "$WORK/src"
make_data "$WORK/src/a" 50000 a
make_data "$WORK/src/b" 30000 b
# A torrent whose every free-text field attacks the terminal; the C1 CSI (U+009B) is valid UTF-8, which the
# path sanitizer keeps in a name, so only escaping at print time stops it.
$LT_PYTHON - "$WORK" <<'PY'
import hashlib, sys

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

work = sys.argv[1]
a, b = open(work + "/src/a", "rb").read(), open(work + "/src/b", "rb").read()
whole, piece = a + b, 16384
pieces = b"".join(hashlib.sha1(whole[i:i + piece]).digest() for i in range(0, len(whole), piece))
files = [{"length": len(a), "path": ["evil\x1b]0;pwned\x07\x1b[2J.bin"]},
         {"length": len(b), "path": ["csi\u009b2J\x1b[2J" + "x" * 300 + ".bin"]}]
info = {"name": "name\u009b2J\x1b]0;pwned\x07", "piece length": piece, "pieces": pieces, "files": files}
torrent = {"info": info, "comment": "\x1b]0;pwned\x07 then \x1b[2J\x7f", "created by": "\x1b[31mred\x1b[0m",
           "announce": "http://127.0.0.1:1/\x1b[2J"}
open(work + "/evil.torrent", "wb").write(bencode(torrent))
PY

"$SHOAL" info "$WORK/evil.torrent" >"$WORK/info.out" 2>&1 || fail "shoal info failed: $(cat "$WORK/info.out")"
no_controls "shoal info" "$WORK/info.out"
grep -qF 'comment:      \x1b]0;pwned\x07 then \x1b[2J\x7f' "$WORK/info.out" || fail "the comment is not shown escaped: $(grep comment "$WORK/info.out")"
grep -qF 'created by:   \x1b[31mred\x1b[0m' "$WORK/info.out" || fail "created by is not shown escaped"
grep -qF 'name:         name\u009b2J' "$WORK/info.out" || fail "the C1 control in the name is not shown escaped"
grep -qF 'csi\u009b2J' "$WORK/info.out" || fail "the C1 control in a file name is not shown escaped"
grep -qF '  csi\u009b2J\x1b[2Jxxx' "$WORK/info.out" || fail "the shortened name's original is not shown escaped"
pass "shoal info shows every field, escaped"
"$SHOAL" info --json "$WORK/evil.torrent" >"$WORK/info.json" 2>"$WORK/info.err" || fail "shoal info --json failed"
no_controls "shoal info --json" "$WORK/info.json"
no_controls "shoal info --json (stderr)" "$WORK/info.err"
$LT_PYTHON -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["comment"].startswith("\x1b]0;pwned\x07"), j["comment"]' \
  "$WORK/info.json" || fail "the JSON does not carry the comment's real characters"
pass "shoal info --json carries the real characters, as JSON escapes"

# The data on disk under the names the torrent maps to, for check and seed.
mapfile -t paths < <($LT_PYTHON -c 'import json,sys; [print(f["path"]) for f in json.load(open(sys.argv[1]))["files"]]' "$WORK/info.json")
mkdir -p "$WORK/seed/$(dirname "${paths[0]}")"
cp "$WORK/src/a" "$WORK/seed/${paths[0]}"
cp "$WORK/src/b" "$WORK/seed/${paths[1]}"
"$SHOAL" check "$WORK/evil.torrent" "$WORK/seed" >"$WORK/check.out" 2>&1 || fail "shoal check failed: $(cat "$WORK/check.out")"
no_controls "shoal check" "$WORK/check.out"

# A peer whose client name (BEP 10 "v") attacks the terminal: `get -v` logs it when the connection closes.
seed_port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd --no-trackers "$WORK/evil.torrent" "$WORK/seed" --listen 127.0.0.1 --port "$seed_port" \
  >"$WORK/seed.out" 2>&1 &
seed_pid=$!
wait_port "$seed_port"
evil_port=$(free_port)
$LT_PYTHON - "$evil_port" "$(shoal_hash "$WORK/evil.torrent")" <<'PY' &
import os, socket, struct, sys
port, info_hash = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(4)
while True:
    conn, _ = listener.accept()
    try:
        conn.recv(68)
        conn.sendall(bytes([19]) + b"BitTorrent protocol" + bytes([0, 0, 0, 0, 0, 0x10, 0, 0]) + info_hash + os.urandom(20))
        client = b"\x1b]0;pwned\x07\xc2\x9b2J\x1b[2Jxxx"
        ext = b"d1:md6:ut_pexi1ee1:v%d:%se" % (len(client), client)
        conn.sendall(struct.pack(">IBB", 2 + len(ext), 20, 0) + ext)
        while conn.recv(65536):  # until Shoal hangs up; it logs the client name then
            pass
    except OSError:
        pass
    conn.close()
PY
wait_port "$evil_port"
# A plain TCP peer: no MSE or uTP attempt holds it past the download (the test is about what it names).
timeout 60 "$SHOAL" get --no-dht --no-lsd --no-trackers --encryption plain --transport tcp "$WORK/evil.torrent" \
  -o "$WORK/dl" --listen 127.0.0.1 -v \
  --peer "127.0.0.1:$evil_port" --peer "127.0.0.1:$seed_port" >"$WORK/get.out" 2>&1 ||
  fail "the download failed: $(tail -c 400 "$WORK/get.out" | od -c | tail -n 5)"
cmp -s "$WORK/src/a" "$WORK/dl/${paths[0]}" && cmp -s "$WORK/src/b" "$WORK/dl/${paths[1]}" || fail "downloaded bytes differ"
pass "download completed"
no_controls "shoal get -v" "$WORK/get.out"
grep -qF "127.0.0.1:$evil_port (\\x1b]0;pwned\\x07\\u009b2J\\x1b[2Jxxx)" "$WORK/get.out" ||
  fail "the hostile client name was not logged escaped: $(grep "$evil_port" "$WORK/get.out" | od -c | head -n 5)"
pass "the peer's client name is logged escaped"
kill "$seed_pid"
wait "$seed_pid" || true
no_controls "shoal seed" "$WORK/seed.out"
finish
