// The UDP tracker front end (BEP 15): a few threads, each with its own SO_REUSEPORT socket so the kernel
// spreads clients across them, reading and answering in batches (recvmmsg/sendmmsg). Connection ids are
// stateless MACs; nothing is kept per connect. Spoofed or malformed packets get no reply at all.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "hash/siphash.hpp"
#include "server/tracker_state.hpp"
#include "shoal/endpoint.hpp"
#include "shoal/expected.hpp"

namespace shoal::server {

struct UdpServerOptions {
  Endpoint bind;
  unsigned threads = 1;
  std::uint32_t max_requests_per_ip = 0;  // per second per thread; 0 = unlimited
  bool log_drops = false;                 // say on stderr why a packet got no reply (debugging clients)
};

class UdpTrackerServer {
 public:
  UdpTrackerServer(TrackerState& state, UdpServerOptions options);
  ~UdpTrackerServer();
  UdpTrackerServer(const UdpTrackerServer&) = delete;
  UdpTrackerServer& operator=(const UdpTrackerServer&) = delete;

  // Binds every thread's socket; an error names the address.
  Expected<std::uint16_t, std::string> start();
  void stop();  // returns once every thread has finished its batch

 private:
  void run(int fd);

  TrackerState& state_;
  UdpServerOptions options_;
  hash::SipKey secret_{};
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
};

}  // namespace shoal::server
