// A v2-only torrent built in memory from generated files, with its byte stream (files and the pads between
// them, as pieces cover them): for tests of v2 verification, serving and blame. Pure (shoal_core only).
#pragma once

#include <string>
#include <vector>

#include "hash/merkle.hpp"
#include "hash/sha.hpp"
#include "metainfo/torrent_builder.hpp"
#include "metainfo/torrent_info.hpp"

namespace shoal::metainfo::testing {

struct V2File {
  std::string path;
  std::string data;
};

inline std::string v2_data(std::size_t size, unsigned seed) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    data[i] = static_cast<char>((i * 31 + seed * 101 + (i >> 11)) & 0xff);
  return data;
}

struct V2Torrent {
  TorrentInfo info;
  std::string stream;  // piece i is stream.substr(i * piece_length, piece_size(i))
};

inline V2Torrent make_v2_torrent(const std::vector<V2File>& files, std::int64_t piece_length) {
  BuildInput in;
  in.version = MetaVersion::v2;
  in.name = "tree";
  in.single_file = false;
  in.piece_length = piece_length;
  V2Torrent out;
  for (const auto& c : files) {
    in.files.emplace_back(c.path, static_cast<std::int64_t>(c.data.size()));
    std::vector<Sha256Digest> leaves;
    for (std::size_t off = 0; off < c.data.size(); off += hash::kMerkleBlockSize)
      leaves.push_back(hash::sha256(std::string_view(c.data).substr(off, hash::kMerkleBlockSize)));
    if (leaves.empty()) {
      in.pieces_roots.emplace_back();
      in.piece_layers.emplace_back();
    } else {
      auto hashes = hash::merkle_file_hashes(leaves, piece_length / hash::kMerkleBlockSize);
      in.pieces_roots.emplace_back(hashes.root);
      in.piece_layers.push_back(hash::merkle_concat(hashes.piece_layer));
    }
  }
  out.info = *parse_torrent(build_torrent(in));
  // The stream as the parsed torrent lays it out (files in tree order, so given sorted by path here).
  std::size_t next = 0;
  for (const auto& f : out.info.files) {
    if (f.pad) {
      out.stream.append(static_cast<std::size_t>(f.length), '\0');
    } else {
      out.stream += files[next++].data;
    }
  }
  return out;
}

}  // namespace shoal::metainfo::testing
