#include "progress.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace shoal::cli {

namespace {
constexpr auto kTtyRedrawInterval = std::chrono::milliseconds(100);
constexpr auto kPlainLineInterval = std::chrono::seconds(2);
constexpr int kBarWidth = 30;
}  // namespace

ProgressBar::ProgressBar(std::string label, std::int64_t total, std::FILE* out)
    : label_(std::move(label)),
      total_(total),
      out_(out),
      tty_(::isatty(::fileno(out)) == 1),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(std::int64_t done) {
  auto now = std::chrono::steady_clock::now();
  auto interval = tty_ ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(kTtyRedrawInterval)
                       : std::chrono::duration_cast<std::chrono::steady_clock::duration>(kPlainLineInterval);
  if (now - last_draw_ < interval) return;
  last_draw_ = now;
  draw(done, false);
}

void ProgressBar::finish() {
  draw(total_, true);
}

void ProgressBar::draw(std::int64_t done, bool final_line) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double fraction =
      total_ > 0 ? std::clamp(static_cast<double>(done) / static_cast<double>(total_), 0.0, 1.0) : 1.0;
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  std::string eta = "--:--";
  if (rate > 0 && done < total_) eta = format_duration(static_cast<double>(total_ - done) / rate);
  if (final_line) eta = format_duration(elapsed);

  if (tty_) {
    int filled = static_cast<int>(std::lround(fraction * kBarWidth));
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kBarWidth, '.');
    fmt::print(out_, "\r\033[K{} [{}] {:5.1f}%  {} / {}  {}  {} {}", label_, bar, fraction * 100,
               format_bytes(done), format_bytes(total_), format_rate(rate), final_line ? "in" : "ETA", eta);
    if (final_line) fmt::print(out_, "\n");
  } else {
    fmt::print(out_, "{}: {:5.1f}%  {} / {}  {}  {} {}\n", label_, fraction * 100, format_bytes(done),
               format_bytes(total_), format_rate(rate), final_line ? "in" : "ETA", eta);
  }
  std::fflush(out_);
}

std::string format_bytes(std::int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.2f} {}", value, kUnits[unit]);
}

std::string format_rate(double bytes_per_second) {
  static constexpr const char* kUnits[] = {"B/s", "kB/s", "MB/s", "GB/s", "TB/s"};
  std::size_t unit = 0;
  while (bytes_per_second >= 1000 && unit + 1 < std::size(kUnits)) {
    bytes_per_second /= 1000;
    ++unit;
  }
  return fmt::format("{:.2f} {}", bytes_per_second, kUnits[unit]);
}

std::string format_duration(double seconds) {
  auto total = static_cast<std::int64_t>(std::llround(std::max(seconds, 0.0)));
  std::int64_t h = total / 3600;
  std::int64_t m = (total / 60) % 60;
  std::int64_t s = total % 60;
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, s);
  return fmt::format("{}:{:02}", m, s);
}

}  // namespace shoal::cli
