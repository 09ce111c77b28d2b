// shoal/torrent_file.hpp: the public face of the metainfo and magnet parsers and of the creator. Thin
// conversions only; every rule lives in the private modules `shoal info` and `shoal create` use too.
#include "shoal/torrent_file.hpp"

#include <utility>

#include "create/build_hashes.hpp"
#include "create/input_files.hpp"
#include "create/piece_hasher.hpp"
#include "magnet/magnet_link.hpp"
#include "metainfo/torrent_builder.hpp"
#include "metainfo/torrent_info.hpp"
#include "shoal/version.hpp"

namespace shoal {
namespace {

std::string magnet_uri_for(const metainfo::TorrentInfo& info) {
  magnet::MagnetLink link;
  if (info.has_v1()) link.btih = info.info_hash;
  link.btmh = info.info_hash_v2;
  link.display_name = info.name;
  for (const auto& tier : info.trackers)
    link.trackers.insert(link.trackers.end(), tier.begin(), tier.end());
  link.web_seeds = info.web_seeds;
  return magnet::to_uri(link);
}

bool is_power_of_two(std::int64_t v) {
  return v > 0 && (v & (v - 1)) == 0;
}

}  // namespace

Expected<TorrentFileInfo, std::string> parse_torrent(std::string_view bytes) {
  auto parsed = metainfo::parse_torrent(bytes);
  if (!parsed) return unexpected(parsed.error().message());
  const metainfo::TorrentInfo& info = *parsed;
  TorrentFileInfo out;
  out.info_hash = info.info_hash.to_hex();
  if (info.info_hash_v2) out.info_hash_v2 = info.info_hash_v2->to_hex();
  out.meta_version = metainfo::to_string(info.version);
  out.name = info.name;
  out.total_size = info.total_size;
  out.piece_length = info.piece_length;
  out.num_pieces = info.num_pieces();
  out.files.reserve(info.files.size());
  for (const auto& f : info.files)
    out.files.push_back({f.path, f.length, f.pad});
  for (const auto& n : info.shortened_names)
    out.shortened_names.push_back({n.original, n.used});
  out.trackers = info.trackers;
  out.web_seeds = info.web_seeds;
  out.is_private = info.is_private;
  out.comment = info.comment;
  out.created_by = info.created_by;
  out.creation_date = info.creation_date;
  out.source = info.source;
  out.magnet = magnet_uri_for(info);
  return out;
}

Expected<MagnetInfo, std::string> parse_magnet(std::string_view uri) {
  auto parsed = magnet::parse_magnet(uri);
  if (!parsed) return unexpected("invalid magnet link: " + parsed.error().message());
  MagnetInfo out;
  if (parsed->btih) out.info_hash = parsed->btih->to_hex();
  if (parsed->btmh) out.info_hash_v2 = parsed->btmh->to_hex();
  if (parsed->btpk) out.public_key = parsed->btpk->to_hex();
  out.salt = std::move(parsed->salt);
  out.name = std::move(parsed->display_name);
  out.trackers = std::move(parsed->trackers);
  out.web_seeds = std::move(parsed->web_seeds);
  out.peers = std::move(parsed->peers);
  return out;
}

Expected<std::string, std::string> create_torrent(const CreateTorrentParams& params) {
  if (params.piece_size != 0 &&
      (!is_power_of_two(params.piece_size) || params.piece_size < kMinCreatePieceSize ||
       params.piece_size > kMaxCreatePieceSize)) {
    return unexpected("piece size must be 0 (automatic) or a power of two from 16 KiB to 256 MiB, not " +
                      std::to_string(params.piece_size));
  }
  if (params.creation_date && *params.creation_date < 0) {
    return unexpected("creation date must not be before 1970, not " + std::to_string(*params.creation_date));
  }
  for (const auto& tier : params.trackers) {
    for (const auto& url : tier) {
      if (url.empty()) return unexpected(std::string("empty tracker URL"));
    }
  }

  auto input = create::collect_input(params.path);
  if (!input) return unexpected(input.error().message());
  std::int64_t piece_length =
      params.piece_size != 0 ? params.piece_size : metainfo::auto_piece_length(input->total_size);

  create::HashOptions hash_options;
  hash_options.threads = params.threads;
  hash_options.progress = params.progress;
  hash_options.cancel = params.cancel;
  metainfo::BuildInput build;
  auto meta = params.version == TorrentVersion::hybrid ? metainfo::MetaVersion::hybrid
              : params.version == TorrentVersion::v2   ? metainfo::MetaVersion::v2
                                                       : metainfo::MetaVersion::v1;
  if (auto hashed = create::hash_for_build(*input, piece_length, meta, hash_options, build); !hashed) {
    return unexpected(hashed.error().message());
  }
  for (const auto& tier : params.trackers) {
    if (!tier.empty()) build.trackers.push_back(tier);
  }
  build.web_seeds = params.web_seeds;
  build.is_private = params.is_private;
  build.comment = params.comment;
  build.source = params.source;
  build.created_by = "Shoal " + std::string(version());
  build.creation_date = params.creation_date;
  return metainfo::build_torrent(build);
}

}  // namespace shoal
