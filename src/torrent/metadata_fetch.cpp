#include "torrent/metadata_fetch.hpp"

namespace shoal::torrent {

std::vector<std::uint32_t> MetadataFetch::requests_for(swarm::PeerId peer, std::int64_t declared_size,
                                                       Clock::time_point now) {
  std::vector<std::uint32_t> out;
  if (complete_ || excluded_.count(peer) || declared_size <= 0 || declared_size > wire::kMaxMetadataSize)
    return out;
  if (auto r = rejected_until_.find(peer); r != rejected_until_.end()) {
    if (now < r->second) return out;
    rejected_until_.erase(r);
  }
  if (!assembler_) {
    auto created = wire::MetadataAssembler::create(declared_size, info_hash_);
    if (!created) return out;
    assembler_.emplace(std::move(*created));
    size_ = declared_size;
  }
  if (declared_size != size_) return out;  // it disagrees with the size being assembled: ask the others
  std::size_t mine = 0;
  for (const auto& [piece, asked] : asked_)
    mine += asked.peer == peer ? 1 : 0;
  while (mine < kRequestsPerPeer) {
    auto piece = assembler_->next_request();
    if (!piece) break;
    asked_[*piece] = {peer, now};
    out.push_back(*piece);
    ++mine;
  }
  return out;
}

MetadataFetch::Outcome MetadataFetch::on_data(swarm::PeerId peer, std::uint32_t piece,
                                              std::optional<std::int64_t> total_size,
                                              std::span<const std::uint8_t> data) {
  Outcome outcome;
  auto asked = asked_.find(piece);
  if (complete_ || !assembler_ || asked == asked_.end() || asked->second.peer != peer) {
    outcome.problem = "metadata piece not asked of it";
    return outcome;
  }
  asked_.erase(asked);
  if (total_size && *total_size != size_) {
    release(piece);
    outcome.problem = "metadata total_size differs from its handshake";
    return outcome;
  }
  suppliers_.insert(peer);
  auto result = assembler_->on_data(piece, data);
  if (!result) {
    outcome.problem = result.error().message();
    if (result.error().code == wire::Errc::metadata_mismatch) {
      // The whole failed its hash: everyone who contributed is suspect.
      outcome.liars.assign(suppliers_.begin(), suppliers_.end());
      excluded_.insert(suppliers_.begin(), suppliers_.end());
      reset();
    } else {
      // A piece of the wrong length: this peer alone.
      outcome.liars.push_back(peer);
      excluded_.insert(peer);
      release(piece);
    }
    return outcome;
  }
  if (*result) {
    complete_ = true;
    metadata_ = assembler_->metadata();
    assembler_.reset();
    asked_.clear();
    outcome.complete = true;
  }
  return outcome;
}

void MetadataFetch::on_reject(swarm::PeerId peer, std::uint32_t piece, Clock::time_point now) {
  auto asked = asked_.find(piece);
  if (asked == asked_.end() || asked->second.peer != peer) return;
  asked_.erase(asked);
  release(piece);
  rejected_until_[peer] = now + kRejectBackoff;
}

void MetadataFetch::on_peer_gone(swarm::PeerId peer) {
  for (auto it = asked_.begin(); it != asked_.end();) {
    if (it->second.peer == peer) {
      auto piece = it->first;
      it = asked_.erase(it);
      release(piece);
    } else {
      ++it;
    }
  }
  rejected_until_.erase(peer);
}

void MetadataFetch::on_tick(Clock::time_point now) {
  for (auto it = asked_.begin(); it != asked_.end();) {
    if (now - it->second.at >= kRequestTimeout) {
      auto piece = it->first;
      it = asked_.erase(it);
      release(piece);
    } else {
      ++it;
    }
  }
}

void MetadataFetch::release(std::uint32_t piece) {
  if (assembler_) assembler_->release(piece);
}

void MetadataFetch::reset() {
  assembler_.reset();
  asked_.clear();
  suppliers_.clear();
  size_ = 0;
}

}  // namespace shoal::torrent
