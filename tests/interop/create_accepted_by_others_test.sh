#!/usr/bin/env bash
# Torrents made by `shoal create` load in libtorrent and transmission-show with the same info-hash,
# and libtorrent verifies the data against Shoal's piece hashes.
source "$(dirname "$0")/lib.sh"

make_data "$WORK/single.bin" 3145731 single
make_tree "$WORK/tree"

for input in single.bin tree; do
  for piece in 16K 256K 4M; do
    t="$WORK/$input-$piece.torrent"
    "$SHOAL" create "$WORK/$input" -o "$t" --piece-size "$piece" -t http://127.0.0.1:6969/announce \
      --comment "interop" --date 1700000000 -q
    ours=$(shoal_hash "$t")
    expect_eq "$(transmission_hash "$t")" "$ours" "transmission-show info-hash of $input/$piece"
    expect_eq "$(libtorrent_hash "$t")" "$ours" "libtorrent info-hash of $input/$piece"
    # libtorrent re-hashes the data itself and must find every piece valid.
    verdict=$($LT_PYTHON - "$t" "$WORK" <<'PY'
import sys, hashlib, libtorrent as lt
ti = lt.torrent_info(sys.argv[1])
fs = ti.files()
stream = b"".join(open(sys.argv[2] + "/" + fs.file_path(i), "rb").read() for i in range(fs.num_files()))
bad = sum(1 for p in range(ti.num_pieces())
          if hashlib.sha1(stream[p * ti.piece_length():(p + 1) * ti.piece_length()]).digest()
          != bytes(ti.hash_for_piece(p)))
print("ok" if bad == 0 and len(stream) == ti.total_size() else f"{bad} bad pieces")
PY
)
    expect_eq "$verdict" "ok" "libtorrent's view of every piece hash of $input/$piece"
  done
done

# The private flag and web seeds survive into the other clients' view.
"$SHOAL" create "$WORK/single.bin" -o "$WORK/private.torrent" --private --web-seed http://127.0.0.1:1/ws -q
expect_eq "$(transmission-show "$WORK/private.torrent" | sed -n 's/^ *Privacy: *//p')" "Private torrent" \
  "transmission sees the private flag"
expect_eq "$($LT_PYTHON -c 'import sys,libtorrent as lt; print(lt.torrent_info(sys.argv[1]).priv())' \
  "$WORK/private.torrent")" "True" "libtorrent sees the private flag"
finish
