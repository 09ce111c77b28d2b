// session_load: many small complete torrents in one shoal::Session (driven by bench/session).
//
//   session_load generate DIR N   writes DIR/data/tNNNNN.bin (16-64 KiB each, deterministic bytes) and
//                                 DIR/torrents/tNNNNN.torrent (single file, 16 KiB pieces, no trackers)
//   session_load prime DIR N      adds all N to a session with state dir DIR/state, waits until each has
//                                 checked complete (hashing everything), then stops it (resume data saved)
//   session_load load DIR N S     in a fresh process: adds all N again (resume data: no hashing), waits
//                                 until every one is seeding, then idles S seconds
// prime and load print one line of `key=value` pairs: seconds to load, RSS before and after, CPU while idle.
// Only the public API (include/shoal) drives the session; the torrents are written by a few lines of bencode
// here so that the program needs nothing private. DHT, LSD and trackers are off; the listener is on
// 127.0.0.1.
#include <openssl/sha.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "shoal/session.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kPieceLength = 16 * 1024;
constexpr std::size_t kMinSize = 16 * 1024;
constexpr std::size_t kMaxSize = 64 * 1024;

std::string name_of(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "t%05d", i);
  return buf;
}

std::string bstr(const std::string& s) {
  return std::to_string(s.size()) + ":" + s;
}

void generate(const fs::path& dir, int n) {
  fs::create_directories(dir / "data");
  fs::create_directories(dir / "torrents");
  std::mt19937_64 rng(12345);
  std::string data;
  for (int i = 0; i < n; ++i) {
    auto size = kMinSize + rng() % (kMaxSize - kMinSize + 1);
    data.resize(size);
    for (std::size_t k = 0; k < size; k += 8) {
      auto v = rng();
      for (std::size_t b = 0; b < 8 && k + b < size; ++b)
        data[k + b] = static_cast<char>(v >> (8 * b));
    }
    auto name = name_of(i) + ".bin";
    std::ofstream(dir / "data" / name, std::ios::binary)
        .write(data.data(), static_cast<std::streamsize>(size));
    std::string pieces;
    for (std::size_t off = 0; off < size; off += kPieceLength) {
      unsigned char md[SHA_DIGEST_LENGTH];
      SHA1(reinterpret_cast<const unsigned char*>(data.data() + off), std::min(kPieceLength, size - off), md);
      pieces.append(reinterpret_cast<const char*>(md), sizeof md);
    }
    std::string torrent = "d10:created by" + bstr("session_load") + "4:infod6:lengthi" +
                          std::to_string(size) + "e4:name" + bstr(name) + "12:piece lengthi" +
                          std::to_string(kPieceLength) + "e6:pieces" + bstr(pieces) + "ee";
    std::ofstream(dir / "torrents" / (name_of(i) + ".torrent"), std::ios::binary) << torrent;
  }
}

long rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6) * 1024;
  }
  return 0;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

// Adds every torrent and waits for every CheckFinished; returns false if any check found missing pieces or
// anything failed.
bool add_all(shoal::Session& session, const fs::path& dir, int n, double& add_seconds) {
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    shoal::AddTorrentParams p;
    p.torrent_file = dir / "torrents" / (name_of(i) + ".torrent");
    p.save_path = dir / "data";
    p.use_trackers = false;
    auto added = session.add_torrent(std::move(p));
    if (!added) {
      std::cerr << "add " << i << ": " << added.error() << "\n";
      return false;
    }
  }
  add_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  int checked = 0;
  auto deadline = Clock::now() + std::chrono::minutes(10);
  while (checked < n) {
    if (Clock::now() > deadline) {
      std::cerr << "only " << checked << " of " << n << " checked\n";
      return false;
    }
    session.wait_for_events(std::chrono::seconds(1));
    for (auto& e : session.pop_events()) {
      if (std::holds_alternative<shoal::CheckFinished>(e)) ++checked;
      if (const auto* err = std::get_if<shoal::TorrentError>(&e)) {
        std::cerr << "error: " << err->message << "\n";
        return false;
      }
    }
  }
  return true;
}

shoal::SessionSettings settings_for(const fs::path& dir) {
  shoal::SessionSettings s;
  s.state_dir = dir / "state";
  s.listen_address = "127.0.0.1";
  s.dht.enabled = false;
  s.lsd.enabled = false;
  s.use_trackers = false;
  return s;
}

int run(const fs::path& dir, int n, double idle_seconds) {
  const long rss_before = rss_bytes();
  const auto start = Clock::now();
  shoal::Session session(settings_for(dir));
  double add_seconds = 0;
  if (!add_all(session, dir, n, add_seconds)) return 1;
  const double load = std::chrono::duration<double>(Clock::now() - start).count();
  // Every torrent is seeding (checked outside the timed part: 10,000 status calls).
  int seeding = 0;
  for (const auto& h : session.torrents())
    seeding += h.status().state == shoal::TorrentState::seeding ? 1 : 0;
  if (seeding != n) {
    std::cerr << seeding << " of " << n << " seeding\n";
    return 1;
  }
  const long rss_loaded = rss_bytes();
  double cpu = 0;
  if (idle_seconds > 0) {
    session.pop_events();
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(idle_seconds));
    cpu = (cpu_seconds() - cpu0) / std::chrono::duration<double>(Clock::now() - t0).count();
  }
  const long rss_idle = rss_bytes();
  std::cout << "torrents=" << n << " load_seconds=" << load << " add_seconds=" << add_seconds
            << " rss_before=" << rss_before << " rss_loaded=" << rss_loaded << " rss_idle=" << rss_idle
            << " idle_cpu=" << cpu << std::endl;
  const auto stop_start = Clock::now();
  session.shutdown();
  std::cout << "shutdown_seconds=" << std::chrono::duration<double>(Clock::now() - stop_start).count()
            << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: session_load generate|prime|load DIR N [IDLE_SECONDS]\n";
    return 2;
  }
  std::string mode = argv[1];
  fs::path dir = argv[2];
  int n = std::atoi(argv[3]);
  if (mode == "generate") {
    generate(dir, n);
    return 0;
  }
  if (mode == "prime") return run(dir, n, 0);
  if (mode == "load") return run(dir, n, argc > 4 ? std::atof(argv[4]) : 10);
  std::cerr << "unknown mode " << mode << "\n";
  return 2;
}
