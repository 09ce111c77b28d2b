// The completion hook: a program run with an argv (posix_spawn, never a shell, so a torrent named
// `$(touch x); rm -rf ~` is one inert argument), a small fixed environment, its own process group, and a
// timeout after which the whole group is killed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace shoal::daemon {

struct HookTorrent {
  std::int64_t id = 0;
  std::string info_hash;
  std::string name;
  std::string dir;
};

// The argv with "{id}", "{hash}", "{name}", "{dir}" replaced inside each argument (one argument stays one).
std::vector<std::string> expand_hook_argv(const std::vector<std::string>& argv, const HookTorrent& t);
// The environment the hook gets: PATH, HOME, LANG from ours if set, and Transmission's TR_TORRENT_* names so
// scripts written for transmission-daemon work.
std::vector<std::string> hook_environment(const HookTorrent& t);

class HookRunner {
 public:
  // How a run ended: exit status, or killed by the timeout, or could not start (then `error` says why).
  struct Outcome {
    int exit_code = -1;
    bool timed_out = false;
    std::string error;
  };
  using Done = std::function<void(const Outcome&)>;

  explicit HookRunner(boost::asio::io_context& io) : io_(io) {}
  // Starts the hook; `done` runs on the io_context when it ends. Nothing happens for an empty argv.
  void run(const std::vector<std::string>& argv, const HookTorrent& torrent, std::chrono::seconds timeout,
           Done done);

 private:
  boost::asio::io_context& io_;
};

}  // namespace shoal::daemon
