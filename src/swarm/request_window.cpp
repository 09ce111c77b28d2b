#include "swarm/request_window.hpp"

#include <algorithm>

#include "wire/message.hpp"

namespace shoal::swarm {

void RequestWindow::on_block(Clock::time_point sent, Clock::time_point now) {
  auto sample = std::max(now - sent, Clock::duration::zero());
  if (!path_rtt_ || sample < *path_rtt_) path_rtt_ = sample;
  if (!slow_start_) return;
  if (sample > 2 * *path_rtt_ + kQueueingSlack) {
    slow_start_ = false;  // our requests wait at the sender: the window is past the path
    return;
  }
  window_ = std::min(window_ + 1, static_cast<double>(kMaxDepth));
  if (window_ >= static_cast<double>(kMaxDepth)) slow_start_ = false;
}

void RequestWindow::on_snubbed() {
  slow_start_ = false;
  window_ = static_cast<double>(kMinDepth);
}

void RequestWindow::on_tick(double rate) {
  if (slow_start_) return;
  auto target = static_cast<double>(by_rate(rate));
  if (window_ > target) window_ -= (window_ - target) * kDecayPerTick;
}

std::size_t RequestWindow::by_rate(double rate) const {
  double rtt = path_rtt_ ? std::chrono::duration<double>(*path_rtt_).count() : 0;
  return static_cast<std::size_t>(std::max(0.0, rate) * (rtt + kQueueTime) / wire::kBlockSize);
}

std::size_t RequestWindow::depth(double rate) const {
  auto depth = std::max(by_rate(rate), static_cast<std::size_t>(window_));
  return std::clamp(depth, kMinDepth, kMaxDepth);
}

}  // namespace shoal::swarm
