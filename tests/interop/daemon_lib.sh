# Starting `shoal daemon` for tests. Sourced after lib.sh and peers.sh.

# write_daemon_config DIR [EXTRA_JSON_MEMBERS]: a settings.json on loopback, no DHT or LSD.
write_daemon_config() {
  mkdir -p "$1"
  cat >"$1/settings.json" <<JSON
{
  "listen-address": "127.0.0.1",
  "dht-enabled": false,
  "lpd-enabled": false${2:+,
  $2}
}
JSON
}

# start_daemon CONFIG_DIR DOWNLOAD_DIR [ARGS...]: sets DAEMON_PID and RPC_PORT (RPC_PORT kept if already set).
start_daemon() {
  local conf=$1 dl=$2
  shift 2
  RPC_PORT=${RPC_PORT:-$(free_port)}
  "$SHOAL" daemon --foreground --config-dir "$conf" --download-dir "$dl" --rpc "127.0.0.1:$RPC_PORT" "$@" \
    >>"$WORK/daemon.log" 2>&1 &
  DAEMON_PID=$!
  wait_port "$RPC_PORT" 60
}

# stop_daemon: SIGTERM, and wait for a clean exit.
stop_daemon() {
  kill -TERM "$DAEMON_PID"
  wait "$DAEMON_PID" || fail "the daemon exited with $? on SIGTERM"
}

# tr ARGS...: transmission-remote against the daemon.
tr() {
  transmission-remote "127.0.0.1:$RPC_PORT" "$@"
}

# start_shoal_tracker: a `shoal tracker` on loopback; sets TRACKER_URL.
start_shoal_tracker() {
  local port
  port=$(free_port)
  TRACKER_URL="http://127.0.0.1:$port/announce"
  "$SHOAL" tracker --http "127.0.0.1:$port" --no-udp --interval 10 >"$WORK/tracker.log" 2>&1 &
  wait_port "$port"
}

# wait_until SECONDS WHAT COMMAND...: re-runs COMMAND until it succeeds; fails the test after SECONDS.
wait_until() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting for: $what"
    sleep 0.3
  done
}
