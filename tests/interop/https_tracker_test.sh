#!/usr/bin/env bash
# HTTPS trackers: the certificate is verified against the host name (a self-signed one is refused with a clear
# error unless the user trusts it through SSL_CERT_FILE), redirects are followed, gzip replies are inflated.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/peers.sh"

mkdir -p "$WORK/data"
make_data "$WORK/data/payload.bin" 1048583 https
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 1 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
seed_port=$(free_port)
tls_port=$(free_port)
# A tracker that only speaks TLS, redirects /redirect/... to /announce and gzips its reply: it always names
# the seeder.
$LT_PYTHON - "$tls_port" "$seed_port" "$WORK" >"$WORK/https.log" 2>&1 <<'PY' &
import gzip, http.server, socket, ssl, struct, sys
port, seed, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", "/announce?" + self.path.split("?", 1)[1])
            self.end_headers()
            print("redirected", flush=True)
            return
        body = b"d8:intervali60e5:peers6:" + socket.inet_aton("127.0.0.1") + struct.pack(">H", seed) + b"e"
        gzipped = "gzip" in self.headers.get("Accept-Encoding", "")
        if gzipped:
            body = gzip.compress(body)
        self.send_response(200)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        print("announce gzip" if gzipped else "announce plain", flush=True)
server = http.server.HTTPServer(("127.0.0.1", port), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(f"{work}/cert.pem", f"{work}/key.pem")
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
wait_port "$tls_port"
"$SHOAL" create "$WORK/data/payload.bin" -o "$WORK/t.torrent" -t "https://127.0.0.1:$tls_port/redirect/announce" \
  --piece-size 32K -q
"$SHOAL" seed --no-dht --no-lsd "$WORK/t.torrent" "$WORK/data" --listen 127.0.0.1 --port "$seed_port" --no-trackers -q &
wait_port "$seed_port"

# Not trusted: refused, and the user is told why.
rc=0
SSL_CERT_FILE=/nonexistent timeout 8 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/untrusted" --listen 127.0.0.1 \
  2>"$WORK/untrusted.err" || rc=$?
[ "$rc" = 124 ] || fail "the download with an untrusted tracker certificate ended with $rc"
grep -q "certificate verify failed" "$WORK/untrusted.err" ||
  fail "no clear TLS error: $(grep tracker "$WORK/untrusted.err" | head -n 3)"
pass "an untrusted certificate is refused: $(grep -m1 "certificate" "$WORK/untrusted.err" | tr -d '\r')"

# Trusted: redirect followed, gzip inflated, peer found, bytes right.
SSL_CERT_FILE="$WORK/cert.pem" timeout 60 "$SHOAL" get --no-dht --no-lsd "$WORK/t.torrent" -o "$WORK/dl" --listen 127.0.0.1 -q ||
  fail "download through the HTTPS tracker failed"
cmp -s "$WORK/data/payload.bin" "$WORK/dl/payload.bin" || fail "bytes differ"
grep -q redirected "$WORK/https.log" || fail "the redirect was not followed"
grep -q "announce gzip" "$WORK/https.log" || fail "gzip was not offered"
pass "HTTPS tracker: certificate verified, redirect followed, gzip reply used"
finish
