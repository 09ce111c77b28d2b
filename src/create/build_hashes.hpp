// The step `shoal create` and shoal::create_torrent share: hash an input set for a v1, v2 or hybrid torrent
// and fill what the builder needs from it.
#pragma once

#include <cstdint>

#include "create/create_error.hpp"
#include "create/input_files.hpp"
#include "create/piece_hasher.hpp"
#include "metainfo/torrent_builder.hpp"
#include "shoal/expected.hpp"

namespace shoal::create {

// Sets build's version, name, files, piece length and hashes. For v2 and hybrid the input is first put in
// file tree order (the order a BEP 52 file tree lists its files, which the v1 half of a hybrid must follow).
Expected<void, CreateError> hash_for_build(InputSet& input, std::int64_t piece_length,
                                           metainfo::MetaVersion version, const HashOptions& options,
                                           metainfo::BuildInput& build);

}  // namespace shoal::create
