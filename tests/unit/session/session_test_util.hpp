// Helpers for tests of the public shoal::Session API: small torrents built in a temporary folder, sessions
// confined to 127.0.0.1 with DHT, LSD and trackers off, and waiting on events (never on time).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "hash/sha.hpp"
#include "metainfo/torrent_builder.hpp"
#include "metainfo/torrent_info.hpp"
#include "shoal/session.hpp"

namespace shoal::test {

namespace fs = std::filesystem;

struct TestTorrent {
  std::string bytes;      // the .torrent
  std::string info_hash;  // 40 hex digits
  std::string name;
  std::int32_t num_pieces = 0;
  std::vector<std::pair<std::string, std::string>> files;  // path below the save path, content
};

// Writes the files below `dir` (a folder `name` for several files) and builds their torrent.
inline TestTorrent make_torrent(const fs::path& dir, const std::string& name,
                                const std::vector<std::pair<std::string, std::size_t>>& files,
                                std::int64_t piece_length, unsigned seed, const std::string& tracker = {}) {
  TestTorrent t;
  t.name = name;
  metainfo::BuildInput in;
  in.name = name;
  in.single_file = files.size() == 1 && files[0].first.empty();
  in.piece_length = piece_length;
  if (!tracker.empty()) in.trackers = {{tracker}};
  std::string stream;
  std::mt19937 rng(seed);
  for (const auto& [relative, size] : files) {
    std::string data(size, '\0');
    for (auto& c : data)
      c = static_cast<char>(rng());
    fs::path path = in.single_file ? dir / name : dir / name / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
    in.files.emplace_back(in.single_file ? name : relative, static_cast<std::int64_t>(size));
    t.files.emplace_back(in.single_file ? name : name + "/" + relative, data);
    stream += data;
  }
  for (std::size_t off = 0; off < stream.size(); off += static_cast<std::size_t>(piece_length)) {
    in.piece_hashes +=
        hash::sha1(std::string_view(stream).substr(off, static_cast<std::size_t>(piece_length))).raw();
    ++t.num_pieces;
  }
  t.bytes = metainfo::build_torrent(in);
  auto parsed = metainfo::parse_torrent(t.bytes);
  EXPECT_TRUE(parsed);
  if (parsed) t.info_hash = parsed->info_hash.to_hex();
  return t;
}

// Binds socket `fd` to 127.0.0.1 on a port the kernel picks and returns that port (0 when it cannot).
inline std::uint16_t bind_loopback(int fd) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 0;
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

inline std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline SessionSettings loopback_settings(const fs::path& state_dir) {
  SessionSettings s;
  s.state_dir = state_dir;
  s.listen_address = "127.0.0.1";
  s.dht.enabled = false;
  s.lsd.enabled = false;
  s.use_trackers = false;
  return s;
}

inline const std::string& info_hash_of(const Event& e) {
  static const std::string none;
  return std::visit(
      [](const auto& v) -> const std::string& {
        if constexpr (requires { v.info_hash; }) {
          return v.info_hash;
        } else {
          return none;
        }
      },
      e);
}

// Everything a session said, and waiting for what it has not said yet.
class EventLog {
 public:
  explicit EventLog(Session& session) : session_(session) {}

  // Waits until `match` accepts an event that arrives from now on (events seen before are not looked at
  // again); false after `timeout`.
  bool wait(const std::function<bool(const Event&)>& match,
            std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (auto& e : session_.pop_events()) {
        seen_.push_back(std::move(e));
        if (match(seen_.back())) return true;
      }
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      session_.wait_for_events(left);
    }
  }
  // Waits for an event of type E about `info_hash` for which `extra` holds.
  template <class E>
  bool wait_for(const std::string& info_hash, std::function<bool(const E&)> extra = {},
                std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return wait(
        [&](const Event& e) {
          const auto* v = std::get_if<E>(&e);
          return v && v->info_hash == info_hash && (!extra || extra(*v));
        },
        timeout);
  }
  template <class E>
  int count(const std::string& info_hash) const {
    int n = 0;
    for (const auto& e : seen_) {
      const auto* v = std::get_if<E>(&e);
      n += v && v->info_hash == info_hash ? 1 : 0;
    }
    return n;
  }
  const std::vector<Event>& seen() const { return seen_; }
  void forget() { seen_.clear(); }

 private:
  Session& session_;
  std::vector<Event> seen_;
};

// A temporary folder per test, removed afterwards.
class SessionTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("shoal-session-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
};

}  // namespace shoal::test
