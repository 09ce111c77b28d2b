// shoal dht: a long-running Mainline DHT node (a bootstrap node for others), on the same core as the client.
#include <fmt/core.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <memory>

#include "commands.hpp"
#include "net/dht_service.hpp"

namespace shoal::cli {
namespace {

struct DhtOptions {
  std::string bind = "0.0.0.0";
  std::string bind6 = "::";
  std::uint16_t port = 6881;
  std::string state;
  std::vector<std::string> bootstrap;
  std::uint32_t max_queries_per_ip = 50;
  bool allow_same_ip = false;
  bool relax_node_ids = false;
  bool no_default_routers = false;
};

int run_dht(const DhtOptions& opt) {
  boost::asio::io_context io(1);
  net::DhtServiceOptions options;
  options.bind_address = opt.bind;
  options.bind_address6 = opt.bind6 == "none" ? "" : opt.bind6;
  options.port = opt.port;
  options.bootstrap = opt.bootstrap;
  if (options.bootstrap.empty() && !opt.no_default_routers)
    options.bootstrap.assign(net::kPublicDhtRouters.begin(), net::kPublicDhtRouters.end());
  options.state_file = opt.state;
  options.config.max_queries_per_ip = opt.max_queries_per_ip;
  options.config.routing.one_node_per_ip = !opt.allow_same_ip;
  options.config.enforce_node_id = !opt.relax_node_ids;
  net::DhtService dht(io, options);
  auto port = dht.start();
  if (!port) {
    fmt::print(stderr, "shoal dht: {}\n", port.error());
    return 1;
  }
  fmt::print("dht: node {} listening on udp {}:{}{}\n", dht.node().id().to_hex(), opt.bind, *port,
             dht.ipv6() ? " and [" + opt.bind6 + "] (IPv6)" : "");
  std::fflush(stdout);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    const auto& s = dht.node().stats();
    fmt::print("dht: stopping; {} nodes known, {} peers stored, {} queries answered\n",
               dht.node().node_count(), dht.node().stored_peers(), s.queries_in);
    dht.stop();
    io.stop();
  });
  io.run();
  return 0;
}

}  // namespace

CommandRunner add_dht_command(CLI::App& app) {
  auto opt = std::make_shared<DhtOptions>();
  auto* cmd = app.add_subcommand("dht", "Run a Mainline DHT node (BEP 5), e.g. as a bootstrap node");
  cmd->add_option("--port", opt->port, "UDP port (default 6881)");
  cmd->add_option("--bind", opt->bind, "Address to listen on (default 0.0.0.0)");
  cmd->add_option("--bind6", opt->bind6, "IPv6 address for the IPv6 DHT (BEP 32; default ::, none = off)");
  cmd->add_option("--state", opt->state, "File keeping the node id and routing table across restarts");
  cmd->add_option("--dht-bootstrap", opt->bootstrap,
                  "Join through this node (HOST:PORT, repeatable) instead of the public routers");
  cmd->add_flag("--no-default-routers", opt->no_default_routers,
                "Join nobody: the first node of a private DHT (others bootstrap from it)");
  cmd->add_option("--max-queries-per-ip", opt->max_queries_per_ip,
                  "Queries per second per address before it is ignored (default 50, 0 = no limit)");
  cmd->add_flag("--allow-same-ip", opt->allow_same_ip,
                "Keep many nodes of one address in the routing table (private test networks on one host)");
  cmd->add_flag("--relax-node-ids", opt->relax_node_ids,
                "Keep nodes whose ids do not fit their address (BEP 42 checks off; private networks only)");
  return [opt] { return run_dht(*opt); };
}

}  // namespace shoal::cli
