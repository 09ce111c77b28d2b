// Progress display for long work: a redrawn bar with rate and ETA on a terminal, plain lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace shoal::cli {

class ProgressBar {
 public:
  // label: what is being done ("hashing"); out: where to draw (stderr keeps stdout clean for results).
  ProgressBar(std::string label, std::int64_t total, std::FILE* out = stderr);

  // Redraws at most every 100 ms on a TTY, prints a line at most every 2 s otherwise.
  void update(std::int64_t done);
  // Final redraw at 100% and newline.
  void finish();

 private:
  void draw(std::int64_t done, bool final_line);

  std::string label_;
  std::int64_t total_;
  std::FILE* out_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

// "1.50 GiB", "512 KiB", "17 B"
std::string format_bytes(std::int64_t bytes);
// "3.21 GB/s" (decimal units, as throughput is usually quoted)
std::string format_rate(double bytes_per_second);
// "1:05:09", "4:07"
std::string format_duration(double seconds);

}  // namespace shoal::cli
