#include "create/build_hashes.hpp"

#include <utility>

namespace shoal::create {

Expected<void, CreateError> hash_for_build(InputSet& input, std::int64_t piece_length,
                                           metainfo::MetaVersion version, const HashOptions& options,
                                           metainfo::BuildInput& build) {
  if (version == metainfo::MetaVersion::v1) {
    auto pieces = hash_pieces(input, piece_length, options);
    if (!pieces) return unexpected(pieces.error());
    build.piece_hashes = std::move(*pieces);
  } else {
    sort_for_file_tree(input);
    auto hashes = hash_pieces_v2(input, piece_length, version == metainfo::MetaVersion::hybrid, options);
    if (!hashes) return unexpected(hashes.error());
    build.piece_hashes = std::move(hashes->piece_hashes);
    build.pieces_roots = std::move(hashes->pieces_roots);
    build.piece_layers = std::move(hashes->piece_layers);
  }
  build.version = version;
  build.name = input.name;
  build.single_file = input.single_file;
  build.files.clear();
  for (const auto& f : input.files)
    build.files.emplace_back(f.relative, f.size);
  build.piece_length = piece_length;
  return {};
}

}  // namespace shoal::create
