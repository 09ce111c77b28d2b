// The node behind one-shot DHT commands (dht-put, dht-get, dht-scrape, dht-sample): short-lived and
// read-only (BEP 43), so it stays out of other nodes' routing tables — their lookups would otherwise wait on
// it long after it is gone — joining through --dht-bootstrap or else the public routers, with a deadline.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>

#include "net/dht_service.hpp"
#include "network_flags.hpp"

namespace shoal::cli {

inline constexpr int kDhtNothingFound = 2;  // exit code: nothing found, or nobody answered, in time

struct OneShotDhtOptions {
  DhtCliOptions dht;
  int timeout_seconds = 15;
  // What the wait for a first contact may take of the whole time.
  std::chrono::seconds join_wait() const { return std::chrono::seconds(std::max(1, timeout_seconds / 2)); }
};

// --dht-bootstrap, --dht-port, --dht-allow-same-ip and --timeout.
void add_one_shot_dht_options(CLI::App& cmd, OneShotDhtOptions& opt);

// Runs `body` on a node of our own and returns its exit code; kDhtNothingFound when the deadline passes
// first, 1 when the node cannot start.
int run_on_one_shot_dht(const char* command, const OneShotDhtOptions& opt,
                        const std::function<boost::asio::awaitable<int>(net::DhtService&)>& body);

}  // namespace shoal::cli
