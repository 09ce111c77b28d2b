#include "swarm/smart_ban.hpp"

#include <algorithm>

namespace shoal::swarm {
namespace {

void add_unique(std::vector<SmartBan::Address>& out, const SmartBan::Address& a) {
  if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
}

}  // namespace

std::vector<SmartBan::Address> SmartBan::on_piece_failed(PieceIndex piece, std::span<const Block> blocks) {
  std::vector<Address> suppliers;
  bool all_known = true;
  for (const auto& b : blocks) {
    if (b.known) add_unique(suppliers, b.from);
    all_known = all_known && b.known;
  }
  for (const auto& a : suppliers)
    ++strikes_[a];
  // Nobody else could have sent the bad bytes. A block whose supplier is unknown (gone before the piece was
  // complete) may have been the bad one: then only a comparison convicts.
  if (suppliers.size() == 1 && all_known) return suppliers;
  if (suppliers.empty()) return {};

  auto [it, fresh] = pieces_.try_emplace(piece);
  if (fresh) {
    order_.push_back(piece);
    if (order_.size() > kMaxPiecesRecorded) {
      pieces_.erase(order_.front());
      order_.pop_front();
    }
  }
  auto& record = it->second;
  if (record.size() < blocks.size()) record.resize(blocks.size());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (!blocks[i].known) continue;
    auto& versions = record[i];
    bool seen = std::any_of(versions.begin(), versions.end(), [&](const Version& v) {
      return v.from == blocks[i].from && v.hash == blocks[i].hash;
    });
    if (!seen && versions.size() < kMaxVersionsPerBlock) versions.push_back({blocks[i].from, blocks[i].hash});
  }
  return {};
}

std::vector<SmartBan::Address> SmartBan::on_piece_passed(PieceIndex piece, std::span<const Digest> good) {
  std::vector<Address> convicted;
  auto it = pieces_.find(piece);
  if (it == pieces_.end()) return convicted;
  const auto& record = it->second;
  for (std::size_t i = 0; i < record.size() && i < good.size(); ++i) {
    for (const auto& v : record[i]) {
      if (v.hash != good[i]) add_unique(convicted, v.from);
    }
  }
  pieces_.erase(it);
  std::erase(order_, piece);
  return convicted;
}

std::vector<SmartBan::Address> SmartBan::on_blocks_proven(std::span<const Block> blocks,
                                                          std::span<const Digest> good) {
  std::vector<Address> convicted;
  for (std::size_t i = 0; i < blocks.size() && i < good.size(); ++i) {
    if (blocks[i].known && blocks[i].hash != good[i]) add_unique(convicted, blocks[i].from);
  }
  for (const auto& a : convicted)
    ++strikes_[a];
  return convicted;
}

int SmartBan::strikes(const Address& address) const {
  auto it = strikes_.find(address);
  return it == strikes_.end() ? 0 : it->second;
}

}  // namespace shoal::swarm
