#!/usr/bin/env bash
# Web seeds (BEP 19, GetRight style) against Debian's lighttpd on 127.0.0.1: a single-file and a multi-file
# torrent fetched from the web seed alone (Range requests, the multi-file URL mapping, names escaped), the web
# seed beside a seeding Shoal peer, and a second server whose copy has a flipped byte in every piece: that
# seed is banned and the download completes from the good one; a magnet link's ws= web seed; keep-alive
# (connections counted by a small Python server) and a kept-alive connection the server closed. Bytes are
# compared every time.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"

LIGHTTPD=$(command -v lighttpd || echo /usr/sbin/lighttpd)
[ -x "$LIGHTTPD" ] || fail "lighttpd is not installed (scripts/install-deps)"

# lighttpd_conf NAME ROOT: a server for ROOT on 127.0.0.1 (temporary config, access log kept); sets PORT_<NAME>.
lighttpd_conf() {
  local name=$1 root=$2 port
  port=$(free_port)
  cat >"$WORK/$name.conf" <<CONF
server.document-root = "$root"
server.bind = "127.0.0.1"
server.port = $port
server.modules = ("mod_accesslog", "mod_redirect")
url.redirect = ("^/moved/(.*)\$" => "/\$1")
server.errorlog = "$WORK/$name.error.log"
accesslog.filename = "$WORK/$name.access.log"
accesslog.format = "%s %r %b"
mimetype.assign = ("" => "application/octet-stream")
CONF
  printf -v "PORT_$name" '%s' "$port"
}
# run_lighttpd NAME / stop_lighttpd NAME: lighttpd writes its access log when it stops, so each case stops
# the server before reading what it was asked.
run_lighttpd() {
  "$LIGHTTPD" -D -f "$WORK/$1.conf" >>"$WORK/$1.out" 2>&1 &
  printf -v "PID_$1" '%s' "$!"
  local port_var="PORT_$1"
  wait_port "${!port_var}"
}
stop_lighttpd() {
  local pid_var="PID_$1"
  kill "${!pid_var}"
  wait "${!pid_var}" 2>/dev/null || true
}

get() {  # get TORRENT OUT [shoal get flags...]
  local torrent=$1 out=$2
  shift 2
  timeout 120 "$SHOAL" get "$torrent" -o "$out" --listen 127.0.0.1 --no-dht --no-lsd --no-trackers --no-upnp \
    --no-natpmp "$@"
}

mkdir -p "$WORK/good" "$WORK/bad"
make_data "$WORK/good/payload file.bin" 3145741 single  # a space in the name: the URL escapes it
make_tree "$WORK/good/tree"
lighttpd_conf good "$WORK/good"
run_lighttpd good

# 1. Single file, web seed alone: the url-list entry ends in '/', so the file's name is appended.
"$SHOAL" create "$WORK/good/payload file.bin" -o "$WORK/single.torrent" --piece-size 64K \
  --web-seed "http://127.0.0.1:$PORT_good/" -q
get "$WORK/single.torrent" "$WORK/dl1" 2>"$WORK/dl1.err" || fail "single-file download from the web seed: $(tail -n 3 "$WORK/dl1.err")"
cmp -s "$WORK/good/payload file.bin" "$WORK/dl1/payload file.bin" || fail "single file: bytes differ"
stop_lighttpd good
grep -q '^206 GET /payload%20file.bin ' "$WORK/good.access.log" || fail "no Range request for the file: $(head -n 3 "$WORK/good.access.log")"
grep -q "web seeds" "$WORK/dl1.err" || fail "the status line does not show the web seed: $(tail -n 2 "$WORK/dl1.err")"
pass "single file from the web seed alone ($(grep -c '^206 ' "$WORK/good.access.log") range requests)"

# 2. Multi-file (v1, no pad files), web seed alone: URL = seed + name + / + path.
"$SHOAL" create "$WORK/good/tree" -o "$WORK/multi.torrent" --piece-size 32K \
  --web-seed "http://127.0.0.1:$PORT_good/" -q
"$SHOAL" info --json "$WORK/multi.torrent" | $LT_PYTHON -c '
import json, sys
files = json.load(sys.stdin)["files"]
sys.exit(1 if any(f.get("pad") for f in files) else 0)' || fail "the multi-file torrent has pad files"
run_lighttpd good
get "$WORK/multi.torrent" "$WORK/dl2" -q || fail "multi-file download from the web seed"
stop_lighttpd good
diff -r "$WORK/good/tree" "$WORK/dl2/tree" >/dev/null || fail "multi-file: trees differ"
grep -q '^206 GET /tree/sub/deeper/c.txt ' "$WORK/good.access.log" || fail "no request for tree/sub/deeper/c.txt"
pass "multi-file torrent from the web seed alone (URL per file: name/path)"

# 2b. A web seed that redirects (301 to the same server, another path): followed, within the client's limits.
"$SHOAL" create "$WORK/good/payload file.bin" -o "$WORK/moved.torrent" --piece-size 64K \
  --web-seed "http://127.0.0.1:$PORT_good/moved/" -q
run_lighttpd good
get "$WORK/moved.torrent" "$WORK/dl2b" -q || fail "download through a redirecting web seed"
stop_lighttpd good
cmp -s "$WORK/good/payload file.bin" "$WORK/dl2b/payload file.bin" || fail "redirected: bytes differ"
grep -q '^301 GET /moved/payload%20file.bin ' "$WORK/good.access.log" || fail "no redirect was served"
pass "a redirecting web seed is followed"

# 3. The web seed beside a seeding Shoal peer: both serve, the bytes are right.
seed_port=$(free_port)
"$SHOAL" seed "$WORK/single.torrent" "$WORK/good" --listen 127.0.0.1 --port "$seed_port" --no-trackers \
  --no-dht --no-lsd --no-upnp --no-natpmp -q &
wait_port "$seed_port"
run_lighttpd good
before=$(grep -c '^206 ' "$WORK/good.access.log")
get "$WORK/single.torrent" "$WORK/dl3" --peer "127.0.0.1:$seed_port" --max-down 2M -v 2>"$WORK/dl3.err" ||
  fail "mixed download: $(tail -n 3 "$WORK/dl3.err")"
cmp -s "$WORK/good/payload file.bin" "$WORK/dl3/payload file.bin" || fail "mixed: bytes differ"
stop_lighttpd good
after=$(grep -c '^206 ' "$WORK/good.access.log")
[ "$after" -gt "$before" ] || fail "the web seed was not used beside the peer"
from_peer=$(grep -oE "127.0.0.1:$seed_port .*got [0-9]+ B" "$WORK/dl3.err" | grep -oE "got [0-9]+" | tr -dc 0-9)
[ "${from_peer:-0}" -gt 0 ] || fail "nothing came from the peer: $(grep -m3 "127.0.0.1:$seed_port" "$WORK/dl3.err")"
pass "web seed and a Shoal peer together ($((after - before)) range requests, $from_peer bytes from the peer)"

# 4. A second server whose copy has a flipped byte in every piece: banned, and the good one finishes.
cp "$WORK/good/payload file.bin" "$WORK/bad/payload file.bin"
$LT_PYTHON - "$WORK/bad/payload file.bin" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    size = f.seek(0, 2)
    for offset in range(1000, size, 65536):
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x5a]))
PY
cmp -s "$WORK/good/payload file.bin" "$WORK/bad/payload file.bin" && fail "the bad copy is not corrupted"
lighttpd_conf bad "$WORK/bad"
run_lighttpd bad
run_lighttpd good
# The bad seed comes from the command line (--web-seed), the good one from the torrent; --max-down slows the
# good one enough that the bad one gets a run of its own.
get "$WORK/single.torrent" "$WORK/dl4" --web-seed "http://127.0.0.1:$PORT_bad/" -v 2>"$WORK/dl4.err" ||
  fail "download with a lying web seed: $(tail -n 3 "$WORK/dl4.err")"
cmp -s "$WORK/good/payload file.bin" "$WORK/dl4/payload file.bin" || fail "lying seed: bytes differ"
stop_lighttpd bad
stop_lighttpd good
grep -q '^206 ' "$WORK/bad.access.log" || fail "the bad seed was never asked"
grep -q "web seed http://127.0.0.1:$PORT_bad/ banned" "$WORK/dl4.err" ||
  fail "the bad seed was not banned: $(grep -m3 "web seed" "$WORK/dl4.err")"
pass "a web seed serving corrupted bytes is banned; the download completes from the good one"

# 4b. --max-down covers web seeds: 3 MiB at 512 KiB/s takes about six seconds (the bucket's first second of
# burst aside).
run_lighttpd good
start=$(date +%s%N)
get "$WORK/single.torrent" "$WORK/dl4b" --max-down 512K -q || fail "rate-limited download"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
stop_lighttpd good
cmp -s "$WORK/good/payload file.bin" "$WORK/dl4b/payload file.bin" || fail "rate-limited: bytes differ"
[ "$elapsed_ms" -ge 4000 ] || fail "3 MiB at --max-down 512K took only ${elapsed_ms} ms"
pass "--max-down limits web seeds (${elapsed_ms} ms for 3 MiB at 512 KiB/s)"

# 4c. An https web seed: the certificate is verified (refused until trusted through SSL_CERT_FILE). The
# refusal has no event to wait for but the log line, polled within a deadline.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 1 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
cat "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/server.pem"
lighttpd_conf tls "$WORK/good"
cat >>"$WORK/tls.conf" <<CONF
server.modules += ("mod_openssl")
ssl.engine = "enable"
ssl.pemfile = "$WORK/server.pem"
CONF
run_lighttpd tls
SSL_CERT_FILE=/nonexistent get "$WORK/multi.torrent" "$WORK/untrusted" --no-web-seeds \
  --web-seed "https://127.0.0.1:$PORT_tls/" -v 2>"$WORK/untrusted.err" & pid=$!
# Not trusted: the seed fails the handshake (and backs off); nothing else has the data.
deadline=$((SECONDS + 20))
until grep -q "certificate verify failed" "$WORK/untrusted.err"; do
  [ $SECONDS -lt $deadline ] || fail "no certificate error: $(grep -m2 "web seed" "$WORK/untrusted.err")"
  sleep 0.2
done
kill "$pid"
wait "$pid" 2>/dev/null || true
SSL_CERT_FILE="$WORK/cert.pem" get "$WORK/multi.torrent" "$WORK/dl4c" --no-web-seeds \
  --web-seed "https://127.0.0.1:$PORT_tls/" -q || fail "download from an https web seed"
stop_lighttpd tls
diff -r "$WORK/good/tree" "$WORK/dl4c/tree" >/dev/null || fail "https: trees differ"
grep -q '^206 GET /tree/a.bin ' "$WORK/tls.access.log" || fail "the https seed was not asked"
pass "an https web seed: an untrusted certificate refused, a trusted one used"

# 5. --no-web-seeds: the torrent's web seed is left alone (nothing else has the data: it cannot finish).
before=$(wc -l <"$WORK/good.access.log")
run_lighttpd good
rc=0
timeout 5 "$SHOAL" get "$WORK/single.torrent" -o "$WORK/dl5" --listen 127.0.0.1 --no-dht --no-lsd --no-trackers \
  --no-upnp --no-natpmp --no-web-seeds -q || rc=$?
[ "$rc" = 124 ] || fail "--no-web-seeds: ended with $rc"
stop_lighttpd good
[ "$(wc -l <"$WORK/good.access.log")" = "$before" ] || fail "--no-web-seeds: the web seed was asked"
pass "--no-web-seeds leaves the torrent's web seed alone"

# 6. A magnet link with ws= (BEP 19 in magnets): the metadata comes from a Shoal peer that has none of the
# data (and never gets a web seed of its own), so every byte comes from the link's web seed.
meta_port=$(free_port)
"$SHOAL" get "$WORK/single.torrent" -o "$WORK/empty6" --listen 127.0.0.1 --port "$meta_port" --no-trackers \
  --no-dht --no-lsd --no-upnp --no-natpmp --no-web-seeds -q & meta_pid=$!
wait_port "$meta_port"
hash=$(shoal_hash "$WORK/single.torrent")
before=$(grep -c '^206 ' "$WORK/good.access.log" || true)
run_lighttpd good
get "magnet:?xt=urn:btih:$hash&dn=payload&ws=http%3A%2F%2F127.0.0.1%3A$PORT_good%2F" "$WORK/dl6" \
  --peer "127.0.0.1:$meta_port" -v 2>"$WORK/dl6.err" || fail "magnet with ws=: $(tail -n 3 "$WORK/dl6.err")"
stop_lighttpd good
kill "$meta_pid" 2>/dev/null || true  # it may have finished: from the magnet's downloader, once that had it all
wait "$meta_pid" 2>/dev/null || true
cmp -s "$WORK/good/payload file.bin" "$WORK/dl6/payload file.bin" || fail "magnet with ws=: bytes differ"
after=$(grep -c '^206 ' "$WORK/good.access.log")
[ "$after" -gt "$before" ] || fail "the magnet's web seed was not asked"
pass "a magnet's ws= web seed is used once the metadata arrives ($((after - before)) range requests)"

# 7. Keep-alive: consecutive ranges go over one connection. A small HTTP/1.1 server counts the connections
# that carried requests (lighttpd's log does not tell connections apart). The multi-file torrent takes one
# range per file per run.
range_server() {  # range_server NAME [--drop-every N]: sets PORT_<NAME>, PID_<NAME> (stop_lighttpd NAME stops it)
  local name=$1
  shift
  $LT_PYTHON "$(dirname "$0")/range_server.py" "$WORK/good" "$WORK/$name.port" "$WORK/$name.stats" "$@" &
  printf -v "PID_$name" '%s' "$!"
  local deadline=$((SECONDS + 20))
  until [ -s "$WORK/$name.port" ]; do
    [ $SECONDS -lt $deadline ] || fail "the range server did not start"
    sleep 0.1
  done
  printf -v "PORT_$name" '%s' "$(cat "$WORK/$name.port")"
}
range_server ka
get "$WORK/multi.torrent" "$WORK/dl7" --no-web-seeds --web-seed "http://127.0.0.1:$PORT_ka/" -v \
  2>"$WORK/dl7.err" || fail "keep-alive download: $(tail -n 3 "$WORK/dl7.err")"
stop_lighttpd ka
diff -r "$WORK/good/tree" "$WORK/dl7/tree" >/dev/null || fail "keep-alive: trees differ"
read -r connections requests <"$WORK/ka.stats"
[ "$requests" -ge 5 ] || fail "keep-alive: only $requests requests"
[ "$connections" -lt "$requests" ] || fail "keep-alive: $connections connections for $requests requests"
pass "keep-alive: $requests range requests over $connections connection(s)"

# 7b. A server that closes the kept-alive connection after every second answer (as an idle timeout striking
# just then): the client finds the connection closed on its next request and sends it again on a new one,
# without a failure (no backoff).
range_server drop --drop-every 2
get "$WORK/multi.torrent" "$WORK/dl7b" --no-web-seeds --web-seed "http://127.0.0.1:$PORT_drop/" -v \
  2>"$WORK/dl7b.err" || fail "closing server: $(tail -n 3 "$WORK/dl7b.err")"
stop_lighttpd drop
diff -r "$WORK/good/tree" "$WORK/dl7b/tree" >/dev/null || fail "closing server: trees differ"
read -r connections requests <"$WORK/drop.stats"
[ "$connections" -gt 1 ] || fail "closing server: the connection was never replaced"
if grep -q "web seed http://127.0.0.1:$PORT_drop/: " "$WORK/dl7b.err"; then
  fail "closing server: the seed failed: $(grep -m2 "web seed http://127.0.0.1:$PORT_drop/: " "$WORK/dl7b.err")"
fi
pass "a kept-alive connection closed by the server is replaced without a failure ($requests requests, $connections connections)"
finish
