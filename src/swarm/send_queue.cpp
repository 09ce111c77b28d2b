#include "swarm/send_queue.hpp"

#include <algorithm>

namespace shoal::swarm {

std::size_t send_queue_capacity(double upload_rate) {
  double wanted = std::max(0.0, upload_rate) * kSendQueueSeconds;
  if (wanted >= static_cast<double>(kMaxSendQueueBytes)) return kMaxSendQueueBytes;
  return std::max(kMinSendQueueBytes, static_cast<std::size_t>(wanted));
}

bool SendQueue::push(const BlockRequest& request, std::vector<std::uint8_t> message) {
  if (index_.count(request)) return false;
  bytes_ += message.size();
  blocks_.push_back({request, std::move(message)});
  index_.emplace(request, std::prev(blocks_.end()));
  return true;
}

bool SendQueue::cancel(const BlockRequest& request) {
  auto it = index_.find(request);
  if (it == index_.end()) return false;
  bytes_ -= it->second->message.size();
  blocks_.erase(it->second);
  index_.erase(it);
  return true;
}

void SendQueue::clear(std::vector<BlockRequest>& out) {
  for (const auto& b : blocks_)
    out.push_back(b.request);
  blocks_.clear();
  index_.clear();
  bytes_ = 0;
}

SendQueue::Block SendQueue::pop_front() {
  Block b = std::move(blocks_.front());
  blocks_.pop_front();
  index_.erase(b.request);
  bytes_ -= b.message.size();
  return b;
}

}  // namespace shoal::swarm
