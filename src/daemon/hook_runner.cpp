#include "daemon/hook_runner.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <boost/asio/steady_timer.hpp>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace shoal::daemon {

namespace {

// Polls the child (WNOHANG) until it exits or the deadline passes; a timer, so the daemon's thread never
// blocks on a hook.
struct Watch : std::enable_shared_from_this<Watch> {
  Watch(boost::asio::io_context& io, pid_t p, std::chrono::steady_clock::time_point d, HookRunner::Done cb)
      : timer(io), pid(p), deadline(d), done(std::move(cb)) {}
  boost::asio::steady_timer timer;
  pid_t pid;
  std::chrono::steady_clock::time_point deadline;
  HookRunner::Done done;

  void poll() {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || r < 0) {
      HookRunner::Outcome o;
      if (r == pid && WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
      if (done) done(o);
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);  // the whole group: whatever the hook started goes too
      ::waitpid(pid, &status, 0);
      HookRunner::Outcome o;
      o.timed_out = true;
      if (done) done(o);
      return;
    }
    timer.expires_after(std::chrono::milliseconds(50));
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->poll();
    });
  }
};

}  // namespace

std::vector<std::string> expand_hook_argv(const std::vector<std::string>& argv, const HookTorrent& t) {
  std::vector<std::string> out;
  for (auto arg : argv) {
    // Placeholders are replaced in one pass over the template only: a value holding "{dir}" stays literal.
    std::string expanded;
    for (std::size_t i = 0; i < arg.size();) {
      bool matched = false;
      for (auto [key, value] : {std::pair<std::string_view, std::string>{"{id}", std::to_string(t.id)},
                                {"{hash}", t.info_hash},
                                {"{name}", t.name},
                                {"{dir}", t.dir}}) {
        if (arg.compare(i, key.size(), key) == 0) {
          expanded += value;
          i += key.size();
          matched = true;
          break;
        }
      }
      if (!matched) expanded.push_back(arg[i++]);
    }
    out.push_back(std::move(expanded));
  }
  return out;
}

std::vector<std::string> hook_environment(const HookTorrent& t) {
  std::vector<std::string> env;
  for (const char* name : {"PATH", "HOME", "LANG"}) {
    if (const char* v = std::getenv(name)) env.push_back(std::string(name) + "=" + v);
  }
  env.push_back("TR_TORRENT_ID=" + std::to_string(t.id));
  env.push_back("TR_TORRENT_HASH=" + t.info_hash);
  env.push_back("TR_TORRENT_NAME=" + t.name);
  env.push_back("TR_TORRENT_DIR=" + t.dir);
  env.push_back("TR_APP_VERSION=Shoal");
  return env;
}

void HookRunner::run(const std::vector<std::string>& argv_template, const HookTorrent& torrent,
                     std::chrono::seconds timeout, Done done) {
  if (argv_template.empty()) return;
  auto argv = expand_hook_argv(argv_template, torrent);
  auto env = hook_environment(torrent);
  std::vector<char*> argv_c, env_c;
  for (auto& a : argv)
    argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  for (auto& e : env)
    env_c.push_back(e.data());
  env_c.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);  // the daemon blocks signals it waits for; the hook must not
  posix_spawnattr_setsigdefault(&attr, &all);
  // stdin from /dev/null: a hook never reads the daemon's input.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, argv_c[0], &actions, &attr, argv_c.data(), env_c.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    Outcome o;
    o.error = std::string("cannot run ") + argv[0] + ": " + std::strerror(rc);
    if (done) done(o);
    return;
  }
  auto watch = std::make_shared<Watch>(io_, pid, std::chrono::steady_clock::now() + timeout, std::move(done));
  watch->poll();
}

}  // namespace shoal::daemon
