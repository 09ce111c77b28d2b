#include "net/port_mapper.hpp"

#include <boost/asio/post.hpp>

namespace shoal::net {

namespace asio = boost::asio;

PortMapper::PortMapper(asio::io_context& io, std::vector<std::unique_ptr<MappingBackend>> backends,
                       OnReport on_report)
    : io_(io), backends_(std::move(backends)), on_report_(std::move(on_report)), timer_(io) {}

PortMapper::~PortMapper() {
  *alive_ = false;
  worker_.stop();
}

void PortMapper::start(std::uint16_t tcp_port, std::uint16_t udp_port) {
  for (auto& backend : backends_) {
    for (auto [protocol, port] :
         {std::pair{nat::Protocol::tcp, tcp_port}, std::pair{nat::Protocol::udp, udp_port}}) {
      if (port == 0) continue;
      nat::MappingRequest request;
      request.protocol = protocol;
      request.internal_port = port;
      request.external_port = port;
      slots_.push_back({backend.get(), nat::PortMapping(request)});
    }
  }
  pump();
}

void PortMapper::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  for (auto& slot : slots_)
    slot.mapping.stop();
  pump();
}

std::uint16_t PortMapper::external_tcp_port() const {
  for (const auto& slot : slots_) {
    if (slot.mapping.request().protocol == nat::Protocol::tcp && slot.mapping.is_mapped())
      return slot.mapping.external_port();
  }
  return 0;
}

void PortMapper::pump() {
  const auto now = nat::Clock::now();
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    auto action = slots_[i].mapping.poll(now);
    if (!action) continue;
    MappingBackend* backend = slots_[i].backend;
    auto alive = alive_;
    if (action->kind == nat::PortMapping::ActionKind::request) {
      worker_.submit([this, i, backend, alive, request = action->request] {
        auto result = backend->add(request);
        asio::post(io_, [this, i, alive, result = std::move(result)] {
          if (!*alive) return;
          auto& slot = slots_[i];
          const auto change = slot.mapping.on_request_result(nat::Clock::now(), result);
          if (change != nat::PortMapping::Change::none && on_report_) {
            on_report_({slot.backend->name(), slot.mapping.request().protocol,
                        slot.mapping.request().internal_port, slot.mapping.external_port(),
                        slot.mapping.external_address(), change, slot.mapping.last_error()});
          }
          pump();
        });
      });
    } else {
      const auto protocol = action->request.protocol;
      const auto internal = action->request.internal_port;
      const auto external = action->external_port;
      worker_.submit([this, i, backend, alive, protocol, internal, external] {
        backend->remove(protocol, internal, external);
        asio::post(io_, [this, i, alive] {
          if (*alive) slots_[i].mapping.on_removed();
        });
      });
    }
  }
  arm();
}

void PortMapper::arm() {
  if (stopped_) return;
  std::optional<nat::Clock::time_point> next;
  for (const auto& slot : slots_) {
    auto when = slot.mapping.next_wakeup();
    if (when && (!next || *when < *next)) next = when;
  }
  if (!next) return;
  timer_.expires_at(std::max(*next, nat::Clock::now()));
  auto alive = alive_;
  timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || !*alive || stopped_) return;
    pump();
  });
}

}  // namespace shoal::net
