// shoal::TrackerServer — Shoal's BitTorrent tracker (HTTP announce/scrape and BEP 15 UDP) for embedding: the
// server side that `shoal tracker` runs. Its threads are its own; the caller only starts, tends and stops it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "shoal/expected.hpp"

namespace shoal {

struct TrackerServerSettings {
  std::string http_bind = "0.0.0.0:6969";  // "ADDR:PORT" or "[ADDR6]:PORT"; port 0: any free port
  std::string udp_bind = "0.0.0.0:6969";
  bool serve_http = true;
  bool serve_udp = true;
  std::filesystem::path whitelist;          // info-hashes (hex, one per line) served; empty: any
  std::int64_t interval = 1800;             // seconds between announces asked of clients
  unsigned udp_threads = 0;                 // 0: one per core
  std::uint32_t max_requests_per_ip = 100;  // per second per address; 0 = no limit
  bool log_drops = false;                   // say on stderr why a UDP packet got no reply
  std::size_t max_http_connections = 512;   // open HTTP connections at most; more are closed at once
};

struct TrackerServerStats {
  std::uint64_t swarms = 0;
  std::uint64_t peers = 0;
};

class TrackerServer {
 public:
  explicit TrackerServer(TrackerServerSettings settings);
  ~TrackerServer();  // stops
  TrackerServer(const TrackerServer&) = delete;
  TrackerServer& operator=(const TrackerServer&) = delete;

  // Loads the whitelist and binds what settings ask for; the error says what failed (nothing keeps running).
  Expected<void, std::string> start();
  std::uint16_t http_port() const;  // 0 when not serving HTTP
  std::uint16_t udp_port() const;
  // Number of whitelisted info-hashes (0 without a whitelist).
  std::size_t whitelist_size() const;

  // Housekeeping, to call now and then (`shoal tracker` does every interval/4 seconds): forgets peers that
  // stopped announcing. Thread-safe.
  void expire();
  // Reads the whitelist file again. A broken file keeps the old list (the error says why); thread-safe.
  Expected<std::size_t, std::string> reload_whitelist();
  TrackerServerStats stats() const;
  // Returns once every server thread has finished.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shoal
