// Parses arbitrary bytes as a .torrent; whatever parses must satisfy the invariants the rest of Shoal relies
// on.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metainfo/path_sanitizer.hpp"
#include "metainfo/torrent_info.hpp"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto t = shoal::metainfo::parse_torrent(input);
  if (!t) {
    (void)t.error().message();
    return 0;
  }
  std::int64_t offset = 0;
  for (const auto& f : t->files) {
    check(!f.path.empty() && f.path.front() != '/');
    check(f.path.find('\\') == std::string::npos && f.path.find('\0') == std::string::npos);
    for (std::size_t start = 0;;) {
      auto slash = f.path.find('/', start);
      auto part = std::string_view(f.path).substr(start, slash - start);
      check(!part.empty() && part != "." && part != "..");
      check(part.size() <= shoal::metainfo::kMaxComponentBytes);  // fits NAME_MAX, shortened if need be
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    check(f.offset == offset && f.length >= 0);
    offset += f.length;
    if (t->has_v2() && !f.pad && f.length > 0) {
      // BEP 52: every file on a piece boundary, with its merkle root (and its layer when checked at all).
      check(f.pieces_root.has_value() && f.offset % t->piece_length == 0);
      check(f.length <= t->piece_length || t->piece_layers.count(*f.pieces_root) == 1);
    }
  }
  check(t->has_v1() ? t->piece_hashes.size() == static_cast<std::size_t>(t->num_pieces()) * 20
                    : t->piece_hashes.empty());
  check(t->has_v2() == t->info_hash_v2.has_value());
  for (const auto& n : t->shortened_names)
    check(n.used.size() <= shoal::metainfo::kMaxComponentBytes && n.original.size() > n.used.size());
  check(offset == t->total_size && t->total_size > 0);
  check(t->piece_length > 0);
  check(t->num_pieces() == (t->total_size + t->piece_length - 1) / t->piece_length);
  check(t->piece_size(shoal::PieceIndex(t->num_pieces() - 1)) > 0);
  return 0;
}
