#include "dht/routing_table.hpp"

#include <algorithm>
#include <tuple>

namespace shoal::dht {

bool closer(const NodeId& target, const NodeId& a, const NodeId& b) {
  for (std::size_t i = 0; i < 20; ++i) {
    auto da = static_cast<std::uint8_t>(a.bytes[i] ^ target.bytes[i]);
    auto db = static_cast<std::uint8_t>(b.bytes[i] ^ target.bytes[i]);
    if (da != db) return da < db;
  }
  return false;
}

int shared_prefix(const NodeId& a, const NodeId& b) {
  for (std::size_t i = 0; i < 20; ++i) {
    auto x = static_cast<std::uint8_t>(a.bytes[i] ^ b.bytes[i]);
    if (x != 0) return static_cast<int>(i * 8) + __builtin_clz(x) - 24;
  }
  return 160;
}

std::size_t RoutingTable::bucket_of(const NodeId& id) const {
  return static_cast<std::size_t>(std::min(shared_prefix(own_, id), 159));
}

bool RoutingTable::ip_taken(const Endpoint& e, const NodeId& id) const {
  if (!options_.one_node_per_ip) return false;
  for (const auto& b : buckets_)
    for (const auto& n : b.nodes)
      if (n.node.endpoint.v6 == e.v6 && n.node.endpoint.address == e.address && n.node.id != id) return true;
  return false;
}

bool RoutingTable::heard_from(const NodeInfo& node, Clock::time_point now, bool answered) {
  if (node.id == own_) return false;
  Bucket& b = buckets_[bucket_of(node.id)];
  auto same = [&](const RoutingEntry& e) { return e.node.id == node.id; };
  auto it = std::find_if(b.nodes.begin(), b.nodes.end(), same);
  if (it != b.nodes.end()) {
    if (it->node.endpoint != node.endpoint) return true;  // an id moving address is not trusted to move
    it->last_heard = now;
    if (answered) {
      it->last_response = now;
      it->failures = 0;
    }
    b.last_changed = now;
    return true;
  }
  if (ip_taken(node.endpoint, node.id)) return false;
  RoutingEntry entry{node, answered ? now : Clock::time_point{}, now, 0};
  if (b.nodes.size() < kBucketSize) {
    b.nodes.push_back(entry);
    b.last_changed = now;
    return true;
  }
  // Full: a bad node makes room for one that answered; otherwise remember it as a replacement.
  if (answered) {
    auto bad = std::find_if(b.nodes.begin(), b.nodes.end(), [](const RoutingEntry& e) { return e.bad(); });
    if (bad != b.nodes.end()) {
      *bad = entry;
      b.last_changed = now;
      return true;
    }
  }
  auto rit = std::find_if(b.replacements.begin(), b.replacements.end(), same);
  if (rit != b.replacements.end()) {
    *rit = entry;
  } else {
    if (b.replacements.size() >= kBucketSize) b.replacements.erase(b.replacements.begin());  // oldest goes
    b.replacements.push_back(entry);
  }
  return false;
}

void RoutingTable::failed(const Endpoint& endpoint) {
  for (auto& b : buckets_) {
    for (auto it = b.nodes.begin(); it != b.nodes.end(); ++it) {
      if (it->node.endpoint != endpoint) continue;
      ++it->failures;
      if (it->bad() && !b.replacements.empty()) {
        // Replace it with the freshest replacement that answered us, else the freshest one.
        auto best = std::max_element(
            b.replacements.begin(), b.replacements.end(), [](const RoutingEntry& x, const RoutingEntry& y) {
              return std::tie(x.last_response, x.last_heard) < std::tie(y.last_response, y.last_heard);
            });
        *it = *best;
        b.replacements.erase(best);
      }
      return;
    }
  }
}

std::vector<NodeInfo> RoutingTable::closest(const NodeId& target, std::size_t count, bool v6) const {
  std::vector<NodeInfo> out;
  for (const auto& b : buckets_)
    for (const auto& n : b.nodes)
      if (!n.bad() && n.node.endpoint.v6 == v6) out.push_back(n.node);
  auto by_distance = [&](const NodeInfo& a, const NodeInfo& b) { return closer(target, a.id, b.id); };
  if (out.size() > count) {
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(count), out.end(), by_distance);
    out.resize(count);
  } else {
    std::sort(out.begin(), out.end(), by_distance);
  }
  return out;
}

std::vector<NodeInfo> RoutingTable::to_ping(Clock::time_point now, std::size_t count) const {
  std::vector<NodeInfo> out;
  for (const auto& b : buckets_)
    for (const auto& n : b.nodes)
      if (out.size() < count && !n.good(now) && !n.bad()) out.push_back(n.node);
  return out;
}

std::vector<NodeId> RoutingTable::refresh_targets(Clock::time_point now, std::uint64_t random) const {
  std::vector<NodeId> out;
  // Only buckets up to the deepest non-empty one matter: deeper ones cannot have nodes yet.
  int deepest = -1;
  for (int i = 0; i < 160; ++i)
    if (!buckets_[static_cast<std::size_t>(i)].nodes.empty()) deepest = i;
  for (int i = 0; i <= deepest; ++i) {
    const Bucket& b = buckets_[static_cast<std::size_t>(i)];
    if (now - b.last_changed < kGoodFor) continue;
    // An id sharing exactly i bits with ours: flip bit i, randomise the rest below it.
    NodeId id = own_;
    for (std::size_t byte = static_cast<std::size_t>(i) / 8; byte < 20; ++byte) {
      random = random * 6364136223846793005ULL + 1442695040888963407ULL;
      auto r = static_cast<std::uint8_t>(random >> 56);
      if (byte == static_cast<std::size_t>(i) / 8) {
        std::uint8_t keep = static_cast<std::uint8_t>(0xff00 >> (i % 8));  // bits above i stay ours
        std::uint8_t bit = static_cast<std::uint8_t>(0x80 >> (i % 8));
        id.bytes[byte] = static_cast<std::uint8_t>((own_.bytes[byte] & keep) | ((~own_.bytes[byte]) & bit) |
                                                   (r & static_cast<std::uint8_t>(~keep & ~bit)));
      } else {
        id.bytes[byte] = r;
      }
    }
    out.push_back(id);
  }
  return out;
}

void RoutingTable::change_own_id(const NodeId& id) {
  std::vector<RoutingEntry> entries;
  for (auto& b : buckets_) {
    entries.insert(entries.end(), b.nodes.begin(), b.nodes.end());
    entries.insert(entries.end(), b.replacements.begin(), b.replacements.end());
    b = Bucket{};
  }
  own_ = id;
  for (const auto& e : entries) {
    if (e.node.id == own_) continue;
    Bucket& b = buckets_[bucket_of(e.node.id)];
    auto& list = b.nodes.size() < kBucketSize ? b.nodes : b.replacements;
    if (list.size() < kBucketSize) list.push_back(e);
    b.last_changed = std::max(b.last_changed, e.last_heard);
  }
}

std::size_t RoutingTable::size() const {
  std::size_t n = 0;
  for (const auto& b : buckets_)
    n += b.nodes.size();
  return n;
}

std::vector<NodeInfo> RoutingTable::all() const {
  std::vector<NodeInfo> out;
  for (const auto& b : buckets_)
    for (const auto& n : b.nodes)
      out.push_back(n.node);
  return out;
}

}  // namespace shoal::dht
