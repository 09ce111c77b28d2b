// Keeps the session's ports mapped on the home router: one nat::PortMapping per backend (UPnP, NAT-PMP) and
// protocol (TCP for peers, UDP for the DHT and uTP), driven by a timer on the network thread. The backends'
// calls block (discovery waits seconds), so they run on a worker thread of the mapper's own, one at a time,
// and their results are posted back; the network thread never waits on a router.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nat/port_mapping.hpp"
#include "net/mapping_backend.hpp"
#include "runtime/worker_pool.hpp"

namespace shoal::net {

class PortMapper {
 public:
  // What the user hears: a mapping granted, changed, refused (first failure in a row) or lost.
  struct Report {
    std::string backend;  // "UPnP" or "NAT-PMP"
    nat::Protocol protocol = nat::Protocol::tcp;
    std::uint16_t internal_port = 0;
    std::uint16_t external_port = 0;  // 0 when not mapped
    std::string external_address;
    nat::PortMapping::Change change = nat::PortMapping::Change::none;
    std::string error;  // when failed or lost
  };
  using OnReport = std::function<void(const Report&)>;

  PortMapper(boost::asio::io_context& io, std::vector<std::unique_ptr<MappingBackend>> backends,
             OnReport on_report);
  // Runs the removals stop() queued (bounded by the backends' timeouts), then joins the worker.
  ~PortMapper();
  PortMapper(const PortMapper&) = delete;
  PortMapper& operator=(const PortMapper&) = delete;

  // Network thread. Ports 0 are not mapped.
  void start(std::uint16_t tcp_port, std::uint16_t udp_port);
  // Network thread: removes what was granted (on the worker; see the destructor) and stops the timer.
  void stop();

  // The external TCP port of the first mapping that holds one (what peers outside should dial); 0: none.
  std::uint16_t external_tcp_port() const;

 private:
  struct Slot {
    MappingBackend* backend;
    nat::PortMapping mapping;
  };
  void pump();  // performs what the mappings want now and arms the timer for the next
  void arm();

  boost::asio::io_context& io_;
  std::vector<std::unique_ptr<MappingBackend>> backends_;
  OnReport on_report_;
  std::vector<Slot> slots_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<bool> alive_ =
      std::make_shared<bool>(true);  // results posted after we are gone are dropped
  bool stopped_ = false;
  runtime::WorkerPool worker_{1};  // last: joined first, before the backends it calls go
};

}  // namespace shoal::net
