#!/usr/bin/env bash
# BEP 52 torrents between Shoal and libtorrent 2.0, both ways:
#  - from the same data and piece size, `shoal create --v2 | --hybrid` and libtorrent's creator make the same
#    info dictionary: same v1 and v2 info-hashes (so the same file tree order, merkle roots, pad files);
#  - libtorrent loads Shoal's torrents with the hashes `shoal info` reports, and its full check of the data
#    (SHA-256 blocks against the merkle roots, and SHA-1 pieces for a hybrid) finds every piece valid;
#  - Shoal reads libtorrent's v2 and hybrid torrents with libtorrent's hashes, sizes and files;
#  - v1-only readers see Shoal's hybrid as they see libtorrent's. Debian's get BEP 52 file trees wrong
#    either way: transmission-show 3.00 rejects them (its bencode parser refuses the empty "" key holding each
#    file's attributes) and aria2c 1.36 reports a v1 info-hash that is not the SHA-1 of the info bytes. Where
#    one reads libtorrent's hybrid right, it must read Shoal's right too.
source "$(dirname "$0")/lib.sh"

make_data "$WORK/single.bin" 3145731 single
make_tree "$WORK/tree"

lt_create() {  # lt_create INPUT OUT PIECE_SIZE v2|hybrid
  $LT_PYTHON - "$@" <<'PY'
import os, sys, libtorrent as lt
path, out, piece, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
fs = lt.file_storage()
lt.add_files(fs, path)
t = lt.create_torrent(fs, piece, flags=lt.create_torrent.v2_only if kind == "v2" else 0)
lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(path)))
open(out, "wb").write(lt.bencode(t.generate()))
PY
}

lt_hashes() {  # "V1 V2" as libtorrent sees them, "-" for a missing half
  $LT_PYTHON - "$1" <<'PY'
import sys, libtorrent as lt
h = lt.torrent_info(sys.argv[1]).info_hashes()
print(str(h.v1) if h.has_v1() else "-", str(h.v2) if h.has_v2() else "-")
PY
}

shoal_hashes() {
  "$SHOAL" info --json "$1" | $LT_PYTHON -c '
import json, sys
j = json.load(sys.stdin)
print(j.get("info_hash_v1", "-"), j.get("info_hash_v2", "-"))'
}

# Piece count and the real files in order. Not the total size: a hybrid's v1 half may end without a pad.
lt_summary() {
  $LT_PYTHON - "$1" <<'PY'
import sys, libtorrent as lt
ti = lt.torrent_info(sys.argv[1])
fs = ti.files()
files = [fs.file_path(i) + ":" + str(fs.file_size(i)) for i in range(fs.num_files()) if not fs.file_flags(i) & 1]
print(ti.num_pieces(), " ".join(files))
PY
}

shoal_summary() {
  "$SHOAL" info --json "$1" | $LT_PYTHON -c '
import json, sys
j = json.load(sys.stdin)
files = [f["path"] + ":" + str(f["length"]) for f in j["files"] if not f["pad"]]
print(j["num_pieces"], " ".join(files))'
}

# libtorrent checks the data on disk against the torrent; prints "ok" when every piece passes. Loopback only,
# no DHT, LSD, UPnP or NAT-PMP; waits for the torrent_checked alert rather than polling.
lt_verifies() {  # lt_verifies TORRENT SAVE_PATH
  $LT_PYTHON - "$1" "$2" <<'PY'
import sys, libtorrent as lt
s = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False,
                "enable_upnp": False, "enable_natpmp": False,
                "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.error_notification})
h = s.add_torrent({"ti": lt.torrent_info(sys.argv[1]), "save_path": sys.argv[2]})
verdict = "timeout"
for _ in range(600):
    if s.wait_for_alert(100) is None:
        continue
    for a in s.pop_alerts():
        if isinstance(a, lt.torrent_checked_alert):
            st = h.status()
            verdict = "ok" if st.is_seeding else f"{st.num_pieces} of {h.torrent_file().num_pieces()} pieces"
        elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
            verdict = a.message()
    if verdict != "timeout":
        break
print(verdict)
PY
}

for input in single.bin tree; do
  for piece in 16K 64K; do
    bytes=$((${piece%K} * 1024))
    for kind in v2 hybrid; do
      ours="$WORK/shoal-$kind-$input-$piece.torrent"
      theirs="$WORK/lt-$kind-$input-$piece.torrent"
      "$SHOAL" create "$WORK/$input" -o "$ours" --"$kind" --piece-size "$piece" --date none -q
      lt_create "$WORK/$input" "$theirs" "$bytes" "$kind"

      hashes=$(shoal_hashes "$ours")
      expect_eq "$(lt_hashes "$ours")" "$hashes" "libtorrent reads Shoal's $kind $input/$piece with its hashes"
      expect_eq "$(lt_hashes "$theirs")" "$hashes" "libtorrent's $kind $input/$piece has the same info-hashes"
      expect_eq "$(shoal_hashes "$theirs")" "$(lt_hashes "$theirs")" \
        "Shoal reads libtorrent's $kind $input/$piece with its hashes"
      expect_eq "$(shoal_summary "$theirs")" "$(lt_summary "$theirs")" \
        "Shoal's size, pieces and files of libtorrent's $kind $input/$piece"
      expect_eq "$(lt_verifies "$ours" "$WORK")" "ok" "libtorrent verifies the data of Shoal's $kind $input/$piece"
    done
    hybrid="$WORK/shoal-hybrid-$input-$piece.torrent"
    lt_hybrid="$WORK/lt-hybrid-$input-$piece.torrent"
    aria_ours=$(aria2c -S "$hybrid" | sed -n 's/^Info Hash: *//p')
    aria_theirs=$(aria2c -S "$lt_hybrid" | sed -n 's/^Info Hash: *//p')
    expect_eq "$aria_ours" "$aria_theirs" "aria2c sees Shoal's hybrid $input/$piece as libtorrent's"
    if [ "$aria_theirs" = "$(shoal_hash "$lt_hybrid")" ]; then
      expect_eq "$aria_ours" "$(shoal_hash "$hybrid")" "aria2c reads Shoal's hybrid $input/$piece by its v1 half"
    else
      echo "note: aria2c gets the v1 info-hash of every hybrid wrong (libtorrent's too)"
    fi
    if transmission-show "$lt_hybrid" >/dev/null 2>&1; then
      expect_eq "$(transmission_hash "$hybrid")" "$(shoal_hash "$hybrid")" \
        "transmission-show reads Shoal's hybrid $input/$piece by its v1 half"
    elif transmission-show "$hybrid" >/dev/null 2>&1; then
      fail "transmission-show reads Shoal's hybrid but not libtorrent's"
    else
      echo "note: this transmission-show reads no hybrid torrent (neither libtorrent's nor Shoal's)"
    fi
  done
done

# `shoal info` names the version and both hashes in its text output too.
text=$("$SHOAL" info "$WORK/shoal-hybrid-tree-16K.torrent")
grep -q '^version: *hybrid' <<<"$text" || fail "shoal info shows no hybrid version: $text"
grep -q '^info-hash v2: *[0-9a-f]\{64\}$' <<<"$text" || fail "shoal info shows no v2 info-hash: $text"
pass "shoal info shows the version and both info-hashes"
finish
