#include "utp/path_mtu.hpp"

#include <algorithm>

namespace shoal::utp {

PathMtu::PathMtu(const PathMtuConfig& config)
    : config_(config),
      floor_(config.min_packet_size),
      ceiling_(std::max(config.max_packet_size, config.min_packet_size)) {
  config_.max_packet_size = ceiling_ = std::min(ceiling_, kMaxPacketSize);
  config_.min_packet_size = floor_ = std::min(floor_, ceiling_);
}

std::size_t PathMtu::probe_size(std::int64_t now_us) const {
  if (floor_ < ceiling_) return floor_ + (ceiling_ - floor_ + 1) / 2;  // the upper middle: the search ends
  if (now_us >= next_search_us_ && config_.max_packet_size > floor_) {
    // The search is over, and due again: a route that grew is found by probing above the floor.
    return floor_ + (config_.max_packet_size - floor_ + 1) / 2;
  }
  return 0;
}

void PathMtu::on_probe_acked(std::size_t size, std::int64_t now_us) {
  ++probes_acked_;
  if (floor_ == ceiling_) ceiling_ = std::max(config_.max_packet_size, floor_);  // a re-search began
  failures_ = 0;
  if (size <= floor_) return;
  floor_ = size;
  ceiling_ = std::max(ceiling_, floor_);
  finish_if_done(now_us);
}

void PathMtu::on_probe_lost(std::size_t size, std::int64_t now_us) {
  ++probes_lost_;
  if (size <= floor_) return;  // the floor passed before: this loss is congestion's, not the size's
  if (floor_ == ceiling_) ceiling_ = std::max(config_.max_packet_size, floor_);
  if (size > ceiling_) return;
  if (++failures_ < config_.attempts) return;
  failures_ = 0;
  ceiling_ = size - 1;
  finish_if_done(now_us);
}

void PathMtu::on_black_hole(std::int64_t now_us) {
  if (floor_ <= config_.min_packet_size) return;
  ceiling_ = floor_ - 1;
  floor_ = config_.min_packet_size;
  failures_ = 0;
  finish_if_done(now_us);
}

void PathMtu::on_too_big(std::size_t limit, std::int64_t now_us) {
  if (limit == 0) {
    on_black_hole(now_us);
    return;
  }
  limit = std::max(limit, config_.min_packet_size);
  ceiling_ = std::min(ceiling_, limit);
  floor_ = std::min(floor_, ceiling_);
  failures_ = 0;
  // The network named the size: nothing above it to search until the next round.
  if (floor_ < ceiling_ && ceiling_ == limit) floor_ = limit;
  finish_if_done(now_us);
}

void PathMtu::set_max(std::size_t max_packet_size, std::int64_t now_us) {
  config_.max_packet_size = std::clamp(max_packet_size, config_.min_packet_size, kMaxPacketSize);
  ceiling_ = config_.max_packet_size;
  floor_ = std::min(floor_, ceiling_);
  failures_ = 0;
  finish_if_done(now_us);
}

void PathMtu::finish_if_done(std::int64_t now_us) {
  if (floor_ >= ceiling_) {
    ceiling_ = floor_;
    next_search_us_ = now_us + config_.reprobe_interval_us;
  }
}

}  // namespace shoal::utp
