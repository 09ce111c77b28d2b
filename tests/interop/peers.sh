# Starting real BitTorrent clients and opentracker on 127.0.0.1 for transfer interop tests. Sourced after lib.sh.
# Each start_* function runs the client in the background (killed by lib.sh's cleanup) and waits until it
# accepts connections; nothing listens beyond loopback and DHT, LSD, PEX, UPnP and NAT-PMP are off.

# A TCP port that is free now on 127.0.0.1.
free_port() {
  $LT_PYTHON -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT [SECONDS]: wait until something accepts TCP connections on 127.0.0.1:PORT.
wait_port() {
  local port=$1 deadline=$((SECONDS + ${2:-30}))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "nothing listens on 127.0.0.1:$port"
    sleep 0.1
  done
}

# The tracker's URL is needed inside torrents before their hashes (and so the whitelist) exist: pick the port
# first with pick_tracker, make the torrents, then start_opentracker with them.
pick_tracker() {
  TRACKER_PORT=$(free_port)
  TRACKER_URL="http://127.0.0.1:$TRACKER_PORT/announce"
}

# start_opentracker TORRENT...: Debian's opentracker only serves whitelisted info-hashes.
start_opentracker() {
  : >"$WORK/whitelist"
  for t in "$@"; do shoal_hash "$t" >>"$WORK/whitelist"; done
  opentracker -i 127.0.0.1 -p "$TRACKER_PORT" -P "$TRACKER_PORT" -w "$WORK/whitelist" >"$WORK/opentracker.log" 2>&1 &
  wait_port "$TRACKER_PORT"
}

# start_lt_seed TORRENT DATA_DIR: sets LT_SEED_PORT.
start_lt_seed() {
  LT_SEED_PORT=$(free_port)
  "$SHOAL_SOURCE_DIR/tests/interop/lt_peer.py" seed "$1" "$2" --port "$LT_SEED_PORT" "${@:3}" \
    >"$WORK/lt-seed.log" 2>&1 &
  wait_port "$LT_SEED_PORT"
}

# lt_download TORRENT OUT_DIR PEER...: downloads with libtorrent from the given peers; fails on timeout.
# LT_ENCRYPTION=require: MSE/PE forced. LT_TRANSPORT=utp: uTP only (TCP off both ways).
lt_download() {
  local torrent=$1 out=$2
  shift 2
  local args=(--encryption "${LT_ENCRYPTION:-default}" --transport "${LT_TRANSPORT:-tcp}")
  for p in "$@"; do args+=(--peer "$p"); done
  "$SHOAL_SOURCE_DIR/tests/interop/lt_peer.py" download "$torrent" "$out" --port "$(free_port)" \
    --timeout 120 "${args[@]}" >"$WORK/lt-download.log" 2>&1 || fail "libtorrent download: $(cat "$WORK/lt-download.log")"
}

# start_transmission DOWNLOAD_DIR: a transmission-daemon with its own config; sets TR_PEER_PORT, TR_RPC.
# TR_ENCRYPTION: 0 prefer plain, 1 prefer encrypted (default), 2 require encryption (MSE/PE).
# TR_UTP=true: uTP enabled (Transmission has no way to turn TCP off).
start_transmission() {
  local conf="$WORK/transmission-$RANDOM"
  mkdir -p "$conf" "$1"
  TR_PEER_PORT=$(free_port)
  local rpc
  rpc=$(free_port)
  cat >"$conf/settings.json" <<JSON
{
  "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1", "rpc-bind-address": "127.0.0.1",
  "rpc-port": $rpc, "rpc-authentication-required": false, "rpc-whitelist-enabled": false,
  "rpc-host-whitelist-enabled": false, "peer-port": $TR_PEER_PORT, "peer-port-random-on-start": false,
  "port-forwarding-enabled": false, "dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
  "utp-enabled": ${TR_UTP:-false}, "download-dir": "$1", "incomplete-dir-enabled": false,
  "speed-limit-up-enabled": false, "speed-limit-down-enabled": false, "ratio-limit-enabled": false,
  "message-level": 1, "encryption": ${TR_ENCRYPTION:-1}
}
JSON
  transmission-daemon -f -g "$conf" >"$WORK/transmission.log" 2>&1 &
  wait_port "$rpc"
  TR_RPC="127.0.0.1:$rpc"
  wait_port "$TR_PEER_PORT"
}

# transmission_add TORRENT: adds a torrent to the running daemon (its download dir holds any existing data).
transmission_add() {
  transmission-remote "$TR_RPC" -a "$1" >/dev/null || fail "transmission-remote could not add $1"
}

# transmission_wait_done SECONDS: waits until every torrent in the daemon is 100% done and verified.
transmission_wait_done() {
  local deadline=$((SECONDS + $1))
  until transmission-remote "$TR_RPC" -t all -i | grep -q "Percent Done: 100%"; do
    [ $SECONDS -lt $deadline ] || fail "transmission did not finish: $(transmission-remote "$TR_RPC" -l)"
    sleep 0.5
  done
}

# start_aria2_seed TORRENT DATA_DIR [ARGS...]: aria2 verifies the data and seeds it; sets ARIA_PORT.
start_aria2_seed() {
  ARIA_PORT=$(free_port)
  aria2c --dir="$2" --check-integrity=true --seed-ratio=0.0 --listen-port="$ARIA_PORT" \
    --enable-dht=false --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false \
    --disable-ipv6=true --summary-interval=0 --console-log-level=warn "${@:3}" "$1" >"$WORK/aria2-seed.log" 2>&1 &
  wait_port "$ARIA_PORT" 60
}

# aria2_download TORRENT OUT_DIR: aria2 downloads (peers from the torrent's tracker) and exits when complete.
aria2_download() {
  timeout 180 aria2c --dir="$2" --seed-time=0 --listen-port="$(free_port)" \
    --enable-dht=false --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false \
    --disable-ipv6=true --summary-interval=0 --console-log-level=warn --bt-tracker-interval=1 \
    "$1" >"$WORK/aria2-download.log" 2>&1 || fail "aria2 download: $(tail -n 20 "$WORK/aria2-download.log")"
}

# same_tree A B: byte-for-byte comparison of two files or directory trees.
same_tree() {
  diff -r "$1" "$2" >/dev/null || fail "data differs: $1 vs $2"
}

# same_file_data A B: every non-empty file under A exists under B with the same bytes (silent; exit status only).
same_file_data() {
  local a=$1 b=$2 f
  if [ -f "$a" ]; then
    cmp -s "$a" "$b"
    return
  fi
  while IFS= read -r -d '' f; do
    cmp -s "$a/$f" "$b/$f" || return 1
  done < <(cd "$a" && find . -type f -size +0 -print0)
}
