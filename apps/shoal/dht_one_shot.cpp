#include "dht_one_shot.hpp"

#include <fmt/core.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace shoal::cli {
namespace {

// What the join flags mean for a node of ours: the given bootstrap nodes, else the public routers.
net::DhtServiceOptions dht_service_options(const DhtCliOptions& dht) {
  net::DhtServiceOptions options;
  options.port = dht.port;
  options.bootstrap = dht.bootstrap;
  if (options.bootstrap.empty())
    options.bootstrap.assign(net::kPublicDhtRouters.begin(), net::kPublicDhtRouters.end());
  options.config.routing.one_node_per_ip = !dht.allow_same_ip;
  options.config.read_only = dht.read_only;
  return options;
}

}  // namespace

namespace asio = boost::asio;

void add_one_shot_dht_options(CLI::App& cmd, OneShotDhtOptions& opt) {
  add_dht_join_options(cmd, opt.dht);
  cmd.add_option("--timeout", opt.timeout_seconds,
                 fmt::format("Give up after this many seconds (default {})", opt.timeout_seconds))
      ->check(CLI::PositiveNumber)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

int run_on_one_shot_dht(const char* command, const OneShotDhtOptions& opt,
                        const std::function<asio::awaitable<int>(net::DhtService&)>& body) {
  asio::io_context io(1);
  DhtCliOptions join = opt.dht;
  join.read_only = true;
  net::DhtService dht(io, dht_service_options(join));
  if (auto port = dht.start(); !port) {
    fmt::print(stderr, "shoal {}: {}\n", command, port.error());
    return 1;
  }
  int exit_code = kDhtNothingFound;
  asio::steady_timer deadline(io, std::chrono::seconds(opt.timeout_seconds));
  deadline.async_wait([&](boost::system::error_code ec) {
    if (ec) return;
    fmt::print(stderr, "shoal {}: timed out after {} s\n", command, opt.timeout_seconds);
    dht.stop();
    io.stop();
  });
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        exit_code = co_await body(dht);
        dht.stop();
        io.stop();
      },
      asio::detached);
  io.run();
  return exit_code;
}

}  // namespace shoal::cli
