#include "utp/ledbat.hpp"

#include <algorithm>

namespace shoal::utp {
namespace {

// a before b modulo 2^32.
bool wrapped_less(std::uint32_t a, std::uint32_t b) {
  return a != b && static_cast<std::uint32_t>(b - a) < 0x80000000u;
}

}  // namespace

void BaseDelayHistory::add(std::uint32_t sample, std::int64_t now_us) {
  if (!have_) {
    buckets_.fill(sample);
    buckets_[0] = sample;
    filled_ = 1;
    bucket_start_us_ = now_us;
    base_ = sample;
    have_ = true;
    return;
  }
  if (now_us - bucket_start_us_ >= kBucketUs) {
    current_ = (current_ + 1) % kBaseDelayMinutes;
    filled_ = std::min(filled_ + 1, kBaseDelayMinutes);
    buckets_[static_cast<std::size_t>(current_)] = sample;
    bucket_start_us_ = now_us;
    base_ = sample;
    for (int i = 0; i < filled_; ++i) {
      auto b = buckets_[static_cast<std::size_t>(i)];
      if (wrapped_less(b, base_)) base_ = b;
    }
    return;
  }
  auto& bucket = buckets_[static_cast<std::size_t>(current_)];
  if (wrapped_less(sample, bucket)) bucket = sample;
  if (wrapped_less(sample, base_)) base_ = sample;
}

void Ledbat::on_ack(std::size_t bytes_acked, std::uint32_t delay_us, std::size_t in_flight,
                    std::int64_t now_us) {
  if (delay_us != 0) {
    history_.add(delay_us, now_us);
    recent_[static_cast<std::size_t>(recent_next_)] = delay_us;
    recent_next_ = (recent_next_ + 1) % static_cast<int>(recent_.size());
    recent_count_ = std::min(recent_count_ + 1, static_cast<int>(recent_.size()));
    std::uint32_t current = recent_[0];
    for (int i = 1; i < recent_count_; ++i) {
      auto s = recent_[static_cast<std::size_t>(i)];
      if (wrapped_less(s, current)) current = s;
    }
    std::uint32_t base = history_.base();
    queuing_delay_us_ = wrapped_less(current, base) ? 0 : current - base;
  }
  if (bytes_acked == 0) return;
  double target = config_.target_delay_us;
  double off_target = (target - static_cast<double>(queuing_delay_us_)) / target;
  // An application-limited sender has not tested the window: growing it would only license a later burst.
  bool window_used = in_flight + config_.min_window >= window_;
  double gain = 0;
  if (slow_start_ && off_target > 0.5 && window_ < ssthresh_) {
    gain = window_used ? static_cast<double>(bytes_acked) : 0.0;
  } else {
    slow_start_ = false;
    double window_factor = static_cast<double>(std::min(bytes_acked, window_)) /
                           static_cast<double>(std::max(window_, bytes_acked));
    if (off_target >= 0) {
      gain = static_cast<double>(config_.max_increase_per_rtt) * off_target * window_factor;
      if (!window_used) gain = 0;
    } else {
      // Above the target the window shrinks in proportion to itself (LEDBAT++'s multiplicative decrease):
      // by (delay / target - 1) of the window per round trip, at most half. RFC 6817's decrease of at most
      // max_increase_per_rtt bytes per round trip takes minutes to give back a window of hundreds of
      // kilobytes, and a TCP flow that fills the queue meanwhile is held to a third of the link (measured by
      // interop.utp_ledbat_netns_test).
      double over = std::min(static_cast<double>(queuing_delay_us_) / target - 1.0, 0.5);
      gain = -over * static_cast<double>(std::min(bytes_acked, window_));
    }
  }
  double next = static_cast<double>(window_) + gain + fraction_;
  next = std::clamp(next, static_cast<double>(config_.min_window), static_cast<double>(config_.max_window));
  window_ = static_cast<std::size_t>(next);
  fraction_ = next - static_cast<double>(window_);
}

void Ledbat::on_loss() {
  slow_start_ = false;
  window_ = std::max(window_ / 2, config_.min_window);
  ssthresh_ = window_;
}

void Ledbat::on_timeout() {
  ssthresh_ = std::max(window_ / 2, config_.min_window);
  window_ = config_.min_window;
  slow_start_ = true;
}

}  // namespace shoal::utp
