# Shared set-up for transfer interop tests: a single-file and a multi-file torrent announced to opentracker.
# Sourced after lib.sh and peers.sh. Sets SINGLE, MULTI (torrent paths) and DATA (folder holding both payloads).

DATA="$WORK/data"
mkdir -p "$DATA"
make_data "$DATA/single.bin" "${SHOAL_INTEROP_SINGLE_SIZE:-3145739}" single
make_tree "$DATA/tree"
pick_tracker
SINGLE="$WORK/single.torrent"
MULTI="$WORK/tree.torrent"
"$SHOAL" create "$DATA/single.bin" -o "$SINGLE" -t "$TRACKER_URL" --piece-size 64K -q
"$SHOAL" create "$DATA/tree" -o "$MULTI" -t "$TRACKER_URL" --piece-size 32K -q
start_opentracker "$SINGLE" "$MULTI"

# payload_of TORRENT: the file or folder inside DATA that the torrent describes.
payload_of() {
  case "$1" in
    "$SINGLE") echo single.bin ;;
    "$MULTI") echo tree ;;
  esac
}

# shoal_get TORRENT OUT_DIR [ARGS...]: downloads with Shoal, failing the test unless every piece verifies.
shoal_get() {
  local torrent=$1 out=$2
  shift 2
  mkdir -p "$out"
  timeout 120 "$SHOAL" get --no-dht --no-lsd "$torrent" -o "$out" --listen 127.0.0.1 "$@" 2>"$WORK/shoal-get.log" ||
    fail "shoal get $(basename "$torrent") failed: $(tail -n 5 "$WORK/shoal-get.log")"
}

# start_shoal_seed TORRENT [ARGS...]: seeds DATA with Shoal; sets SHOAL_SEED_PORT.
start_shoal_seed() {
  SHOAL_SEED_PORT=$(free_port)
  "$SHOAL" seed --no-dht --no-lsd "$1" "$DATA" --listen 127.0.0.1 --port "$SHOAL_SEED_PORT" -q "${@:2}" >>"$WORK/shoal-seed.log" 2>&1 &
  SHOAL_SEED_PID=$!
  wait_port "$SHOAL_SEED_PORT"
}

stop_shoal_seed() {
  kill "$SHOAL_SEED_PID" 2>/dev/null || true
  wait "$SHOAL_SEED_PID" 2>/dev/null || true
}

# transmission_both_ways WHAT [SHOAL_FLAGS...]: Transmission seeds both torrents and Shoal downloads them, then
# Shoal seeds each and Transmission downloads it; bytes compared. Transmission ignores tracker peers on
# 127.0.0.0/8, so Shoal dials it directly (--peer) in both directions. WHAT ends each pass line (" over uTP").
# Transmission's own settings come from the TR_* variables start_transmission reads.
transmission_both_ways() {
  local what=$1
  shift
  # Transmission seeds from a copy of the data (it may touch files it serves).
  mkdir -p "$WORK/tr-seed"
  cp -r "$DATA/single.bin" "$DATA/tree" "$WORK/tr-seed/"
  start_transmission "$WORK/tr-seed"
  local t name deadline
  for t in "$SINGLE" "$MULTI"; do
    transmission_add "$t"
  done
  transmission_wait_done 60
  for t in "$SINGLE" "$MULTI"; do
    name=$(payload_of "$t")
    shoal_get "$t" "$WORK/from-tr-$name" --peer "127.0.0.1:$TR_PEER_PORT" "$@"
    same_tree "$DATA/$name" "$WORK/from-tr-$name/$name"
    pass "Transmission -> Shoal$what: $name"
  done
  transmission-remote "$TR_RPC" --exit >/dev/null 2>&1 || true
  kill %?transmission-daemon 2>/dev/null || true

  start_transmission "$WORK/to-tr"
  for t in "$SINGLE" "$MULTI"; do
    name=$(payload_of "$t")
    start_shoal_seed "$t" --peer "127.0.0.1:$TR_PEER_PORT" "$@"
    transmission_add "$t"
    deadline=$((SECONDS + 90))
    # Transmission 3.00 does not create zero-length files, so only files with data are compared.
    until same_file_data "$DATA/$name" "$WORK/to-tr/$name"; do
      [ $SECONDS -lt $deadline ] || fail "Transmission did not download $name: $(transmission-remote "$TR_RPC" -l)"
      sleep 0.5
    done
    pass "Shoal -> Transmission$what: $name"
    stop_shoal_seed
  done
}
