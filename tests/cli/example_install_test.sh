#!/usr/bin/env bash
# Shoal as an embedder meets it: `cmake --install` the build tree into a fresh prefix, build examples/ against
# it with find_package(shoal) alone, download from a `shoal seed` on 127.0.0.1 with the example (a .torrent
# and a magnet link) and compare the bytes; pkg-config's shoal.pc compiles and links a program too.
# Needs SHOAL (the shoal binary), SHOAL_SOURCE_DIR and SHOAL_BUILD_DIR (the build tree to install).
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"
: "${SHOAL_SOURCE_DIR:?}" "${SHOAL_BUILD_DIR:?}"
CXX=${SHOAL_CXX:-c++}
PREFIX="$WORK/prefix"

cmake --install "$SHOAL_BUILD_DIR" --prefix "$PREFIX" >"$WORK/install.log" 2>&1 ||
  fail "cmake --install failed: $(tail -n 5 "$WORK/install.log")"
[ -f "$PREFIX/include/shoal/session.hpp" ] || fail "include/shoal/session.hpp not installed"
stray=$(cd "$PREFIX/include" && find . -type f ! -path './shoal/*.hpp')
[ -z "$stray" ] || fail "headers other than include/shoal/*.hpp installed: $stray"
pass "only include/shoal/*.hpp installed"

# The public headers include only the standard library and each other: no Boost, no src/.
outside=$(grep -ho '#include [<"][^>"]*[>"]' "$PREFIX"/include/shoal/*.hpp | grep -v '#include "shoal/' |
  grep -v '#include <[a-z_]*>' || true)
[ -z "$outside" ] || fail "installed headers include outside the standard library: $outside"
# Neither Boost nor the build's warning and sanitizer compile flags leak into the exported targets.
leaks=$(grep -E 'Boost|-Werror|-Wall|-fno-omit-frame-pointer|/src\b|shoal_options' \
  "$PREFIX"/lib*/cmake/shoal/*.cmake "$PREFIX"/lib*/pkgconfig/shoal.pc || true)
[ -z "$leaks" ] || fail "exported targets carry build-only settings: $leaks"
pass "exported package needs no Boost and carries no build flags"

# The example as an embedder builds it: its own project, plain release flags, the installed prefix only.
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$SHOAL_SOURCE_DIR/examples" -B "$WORK/example" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$CXX" "${launcher[@]}" -DCMAKE_PREFIX_PATH="$PREFIX" >"$WORK/example.log" 2>&1 ||
  fail "configuring examples/ failed: $(tail -n 20 "$WORK/example.log")"
cmake --build "$WORK/example" >>"$WORK/example.log" 2>&1 ||
  fail "building examples/ failed: $(tail -n 20 "$WORK/example.log")"
EXAMPLE="$WORK/example/magnet_download"
pass "examples/ builds against the installed package"

# pkg-config: shoal.pc resolves from wherever the prefix is, names the include dir, and links a program.
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
pkg-config --exists shoal || fail "pkg-config does not find shoal in $PKG_CONFIG_PATH"
incdir=$(pkg-config --variable=includedir shoal)
expect_eq "$(realpath "$incdir")" "$(realpath "$PREFIX/include")" "shoal.pc names the installed include dir"
flags=$(pkg-config --cflags --libs shoal)
cflag_dir=$(pkg-config --cflags-only-I shoal | sed -n 's/^ *-I\([^ ]*\).*/\1/p')
[ -n "$cflag_dir" ] && [ "$(realpath "$cflag_dir")" = "$(realpath "$PREFIX/include")" ] ||
  fail "pkg-config --cflags does not name $PREFIX/include: $flags"
cat >"$WORK/pc.cpp" <<'CPP'
#include <shoal/session.hpp>
#include <shoal/version.hpp>
#include <cstdio>
int main() { std::printf("%s %s\n", shoal::version().data(), shoal::to_string(shoal::TorrentState::seeding)); }
CPP
# shellcheck disable=SC2086  # the flags are words
"$CXX" -std=c++20 -O1 "$WORK/pc.cpp" -o "$WORK/pc" $flags 2>"$WORK/pc.log" ||
  fail "a program built with pkg-config's flags does not compile or link: $(tail -n 20 "$WORK/pc.log")"
"$WORK/pc" | grep -q " seeding$" || fail "the pkg-config program does not run"
pass "pkg-config --cflags --libs shoal builds a working program"

# A seed on loopback; the example downloads from it once from the .torrent and once from its magnet link.
make_data "$WORK/payload.bin" 1234567 example
"$SHOAL" create "$WORK/payload.bin" -o "$WORK/payload.torrent" --piece-size 32K -q
magnet=$("$SHOAL" info "$WORK/payload.torrent" | sed -n 's/^magnet: *//p')
port=$(free_port)
"$SHOAL" seed --no-dht --no-lsd --no-trackers "$WORK/payload.torrent" "$WORK" --listen 127.0.0.1 --port "$port" -q \
  >"$WORK/seed.log" 2>&1 &
wait_port "$port"
offline=(--no-dht --no-lsd --no-trackers --listen 127.0.0.1 --peer "127.0.0.1:$port")

timeout 120 "$EXAMPLE" "${offline[@]}" "$WORK/payload.torrent" "$WORK/from-torrent" >"$WORK/t.log" 2>&1 ||
  fail "example on the .torrent exited $?: $(tail -n 5 "$WORK/t.log")"
cmp "$WORK/payload.bin" "$WORK/from-torrent/payload.bin" || fail "bytes from the .torrent differ"
grep -q "^finished" "$WORK/t.log" || fail "example printed no finish line: $(tail -n 5 "$WORK/t.log")"
pass "example downloads a .torrent from the seed, bytes identical"

timeout 120 "$EXAMPLE" "${offline[@]}" "$magnet" "$WORK/from-magnet" >"$WORK/m.log" 2>&1 ||
  fail "example on the magnet exited $?: $(tail -n 5 "$WORK/m.log")"
cmp "$WORK/payload.bin" "$WORK/from-magnet/payload.bin" || fail "bytes from the magnet differ"
grep -q "^metadata received" "$WORK/m.log" || fail "no metadata event printed: $(tail -n 5 "$WORK/m.log")"
pass "example downloads a magnet link from the seed, bytes identical"

# Failure is exit 1 with the reason: a torrent that does not parse, and a save path that is a file.
printf 'd4:infoi1ee' >"$WORK/bad.torrent"
rc=0
timeout 60 "$EXAMPLE" "${offline[@]}" "$WORK/bad.torrent" "$WORK/bad" >"$WORK/bad.log" 2>&1 || rc=$?
expect_eq "$rc" 1 "example exits 1 on an invalid torrent"
: >"$WORK/not-a-dir"
rc=0
timeout 60 "$EXAMPLE" "${offline[@]}" "$WORK/payload.torrent" "$WORK/not-a-dir" >"$WORK/err.log" 2>&1 || rc=$?
expect_eq "$rc" 1 "example exits 1 when the torrent fails (save path is a file)"
grep -qi "error" "$WORK/err.log" || fail "no error said: $(cat "$WORK/err.log")"

finish
