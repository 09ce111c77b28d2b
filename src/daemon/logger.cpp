#include "daemon/logger.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "shoal/terminal_text.hpp"

namespace shoal::daemon {

namespace {

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

}  // namespace

Logger Logger::for_stderr() {
  return Logger(!::isatty(STDERR_FILENO), stderr);
}

std::string Logger::format(LogLevel level, std::string_view event, const Fields& fields,
                           std::int64_t unix_ms) const {
  if (json_) {
    nlohmann::json j{{"ts", static_cast<double>(unix_ms) / 1000.0},
                     {"level", level_name(level)},
                     {"event", std::string(event)}};
    for (const auto& [k, v] : fields)
      j[k] = v;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%H:%M:%S", &tm);
  std::string line = std::string(when) + " " + level_name(level) + " " + std::string(event);
  for (const auto& [k, v] : fields)
    line += " " + k + "=" + escape_for_terminal(v);
  return line + "\n";
}

void Logger::log(LogLevel level, std::string_view event, const Fields& fields) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto line = format(level, event, fields, now);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace shoal::daemon
