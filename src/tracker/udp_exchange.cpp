#include "tracker/udp_exchange.hpp"

namespace shoal::tracker::udp {

UdpExchange::UdpExchange(std::variant<AnnounceRequest, std::vector<Sha1Digest>> request,
                         ConnectionCache& cache, bool v6_peers, std::uint64_t seed, int max_attempts,
                         std::chrono::seconds base_timeout)
    : request_(std::move(request)),
      cache_(cache),
      v6_peers_(v6_peers),
      rng_(seed | 1),
      max_attempts_(max_attempts),
      base_timeout_(base_timeout) {}

std::uint32_t UdpExchange::new_transaction() {
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  return static_cast<std::uint32_t>((rng_ * 0x2545F4914F6CDD1DULL) >> 32);
}

UdpExchange::Step UdpExchange::start(Clock::time_point now) {
  connecting_ = !cache_.valid(now);
  attempt_ = 0;
  return send_current(now);
}

UdpExchange::Step UdpExchange::send_current(Clock::time_point now) {
  transaction_ = new_transaction();
  Send send;
  send.deadline = now + base_timeout_ * (1 << attempt_);
  if (connecting_) {
    auto p = encode_connect(transaction_);
    send.packet.assign(p.begin(), p.end());
  } else if (auto* a = std::get_if<AnnounceRequest>(&request_)) {
    a->connection_id = cache_.id;
    a->transaction_id = transaction_;
    auto p = encode_announce(*a);
    send.packet.assign(p.begin(), p.end());
  } else {
    send.packet = encode_scrape(cache_.id, transaction_, std::get<std::vector<Sha1Digest>>(request_));
  }
  return send;
}

UdpExchange::Step UdpExchange::on_timeout(Clock::time_point now) {
  if (++attempt_ >= max_attempts_) return Failed{"no reply from the tracker"};
  // BEP 15: a connection id may have expired while we waited; connect again if it is old.
  if (!connecting_ && !cache_.valid(now)) connecting_ = true;
  return send_current(now);
}

std::optional<UdpExchange::Step> UdpExchange::on_packet(std::span<const std::uint8_t> packet,
                                                        Clock::time_point now) {
  Action expected = connecting_                                         ? Action::connect
                    : std::holds_alternative<AnnounceRequest>(request_) ? Action::announce
                                                                        : Action::scrape;
  auto response = parse_response(packet, transaction_, expected, v6_peers_);
  if (!response) return std::nullopt;
  if (auto* error = std::get_if<ErrorResponse>(&*response)) {
    if (!connecting_) cache_ = {};  // the id may be what it objects to: never reuse it
    return Done{*error};
  }
  if (connecting_) {
    cache_.id = std::get<ConnectResponse>(*response).connection_id;
    cache_.obtained = now;
    connecting_ = false;
    attempt_ = 0;
    return send_current(now);
  }
  return Done{std::move(*response)};
}

}  // namespace shoal::tracker::udp
