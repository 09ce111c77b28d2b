#!/usr/bin/env bash
# Torrents made by mktorrent, transmission-create and libtorrent parse in Shoal with the info-hash,
# size and file list those tools report.
source "$(dirname "$0")/lib.sh"

make_data "$WORK/single.bin" 2500000 single
make_tree "$WORK/tree"

lt_create() {  # lt_create INPUT OUT PIECE_SIZE
  $LT_PYTHON - "$1" "$2" "$3" <<'PY'
import os, sys, libtorrent as lt
path, out, piece = sys.argv[1], sys.argv[2], int(sys.argv[3])
fs = lt.file_storage()
lt.add_files(fs, path)
flags = lt.create_torrent.v1_only if hasattr(lt.create_torrent, "v1_only") else 0
t = lt.create_torrent(fs, piece, flags=flags)
t.add_tracker("http://127.0.0.1:6969/announce")
lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(path)))
open(out, "wb").write(lt.bencode(t.generate()))
PY
}

lt_summary() {  # total size and sorted file list as libtorrent sees them
  $LT_PYTHON - "$1" <<'PY'
import sys, libtorrent as lt
ti = lt.torrent_info(sys.argv[1])
fs = ti.files()
files = sorted(f"{fs.file_path(i)}:{fs.file_size(i)}" for i in range(fs.num_files()) if not fs.pad_file_at(i))
print(ti.total_size(), " ".join(files))
PY
}

shoal_summary() {
  "$SHOAL" info --json "$1" | $LT_PYTHON -c '
import json, sys
j = json.load(sys.stdin)
files = sorted(f"{f[\"path\"]}:{f[\"length\"]}" for f in j["files"] if not f["pad"])
print(j["total_size"], " ".join(files))'
}

for input in single.bin tree; do
  (cd "$WORK" && mktorrent -l 18 -a http://127.0.0.1:6969/announce -o "$WORK/mk-$input.torrent" "$input" >/dev/null)
  (cd "$WORK" && transmission-create -s 64 -t http://127.0.0.1:6969/announce -o "$WORK/tr-$input.torrent" \
    "$input" >/dev/null)
  lt_create "$WORK/$input" "$WORK/lt-$input.torrent" 32768

  for maker in mk tr lt; do
    t="$WORK/$maker-$input.torrent"
    expect_eq "$(shoal_hash "$t")" "$(transmission_hash "$t")" "$maker/$input info-hash vs transmission-show"
    expect_eq "$(shoal_hash "$t")" "$(libtorrent_hash "$t")" "$maker/$input info-hash vs libtorrent"
    expect_eq "$(shoal_summary "$t")" "$(lt_summary "$t")" "$maker/$input size and files vs libtorrent"
  done
done
finish
