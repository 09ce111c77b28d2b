// The daemon's log on stderr: human lines on a terminal, JSON lines otherwise (journald, files, log
// shippers). Untrusted text (torrent names, tracker messages) is escaped for terminals in human lines and
// JSON-escaped in JSON lines.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shoal::daemon {

enum class LogLevel { debug, info, warning, error };

class Logger {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;
  // json: JSON lines; otherwise human lines. `out` is not owned.
  Logger(bool json, std::FILE* out = stderr) : json_(json), out_(out) {}
  static Logger for_stderr();  // JSON unless stderr is a terminal

  void log(LogLevel level, std::string_view event, const Fields& fields = {});
  void info(std::string_view event, const Fields& fields = {}) { log(LogLevel::info, event, fields); }
  void warn(std::string_view event, const Fields& fields = {}) { log(LogLevel::warning, event, fields); }
  void error(std::string_view event, const Fields& fields = {}) { log(LogLevel::error, event, fields); }
  // The line log() writes, without writing it (for tests).
  std::string format(LogLevel level, std::string_view event, const Fields& fields,
                     std::int64_t unix_ms) const;

 private:
  bool json_;
  std::FILE* out_;
};

}  // namespace shoal::daemon
