// One UDP tracker request as BEP 15 prescribes it, with no I/O: connect (or reuse a connection id younger
// than a minute), then announce or scrape; a request unanswered for 15·2ⁿ seconds is sent again with a new
// transaction id, up to n = max_attempts - 1 (8 in the spec); replies with another transaction id or the
// wrong shape are ignored, never trusted. Time is a parameter, so tests run the back-off on virtual time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tracker/udp_protocol.hpp"

namespace shoal::tracker::udp {

struct ConnectionCache {
  std::uint64_t id = 0;
  std::chrono::steady_clock::time_point obtained{};
  // Trackers may bind an id to the address and port it was issued to: reuse it only from the same port.
  std::uint16_t local_port = 0;
  bool valid(std::chrono::steady_clock::time_point now) const {
    return obtained != std::chrono::steady_clock::time_point{} && now - obtained < std::chrono::minutes(1);
  }
};

class UdpExchange {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kSpecMaxAttempts = 9;  // n = 0..8

  struct Send {
    std::vector<std::uint8_t> packet;
    Clock::time_point deadline;  // call on_timeout then, unless a reply settled it
  };
  struct Done {
    Response response;  // AnnounceResponse, ScrapeResponse or ErrorResponse (the tracker's own message)
  };
  struct Failed {
    std::string reason;
  };
  using Step = std::variant<Send, Done, Failed>;

  // What to ask once connected: an announce (connection_id and transaction_id are filled in here) or a
  // scrape.
  UdpExchange(std::variant<AnnounceRequest, std::vector<Sha1Digest>> request, ConnectionCache& cache,
              bool v6_peers, std::uint64_t seed, int max_attempts = kSpecMaxAttempts,
              std::chrono::seconds base_timeout = std::chrono::seconds(15));

  Step start(Clock::time_point now);
  Step on_timeout(Clock::time_point now);
  // nullopt: not a reply to what is outstanding; keep waiting for the same deadline.
  std::optional<Step> on_packet(std::span<const std::uint8_t> packet, Clock::time_point now);

 private:
  Step send_current(Clock::time_point now);
  std::uint32_t new_transaction();

  std::variant<AnnounceRequest, std::vector<Sha1Digest>> request_;
  ConnectionCache& cache_;
  bool v6_peers_;
  std::uint64_t rng_;
  int max_attempts_;
  std::chrono::seconds base_timeout_;
  bool connecting_ = true;
  int attempt_ = 0;  // n in 15·2ⁿ
  std::uint32_t transaction_ = 0;
};

}  // namespace shoal::tracker::udp
