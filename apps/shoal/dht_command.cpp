// shoal dht: a long-running Mainline DHT node (a bootstrap node for others), on the same core as the client.
#include <fmt/core.h>
#include <pthread.h>
#include <signal.h>

#include <memory>

#include "commands.hpp"
#include "shoal/dht_node.hpp"

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
  DhtNodeSettings settings;
  settings.bind_address = opt.bind;
  settings.bind_address6 = opt.bind6 == "none" ? "" : opt.bind6;
  settings.port = opt.port;
  settings.bootstrap = opt.bootstrap;
  settings.use_public_routers = !opt.no_default_routers;
  settings.state_file = opt.state;
  settings.max_queries_per_ip = opt.max_queries_per_ip;
  settings.allow_same_ip = opt.allow_same_ip;
  settings.enforce_node_ids = !opt.relax_node_ids;
  // Signals are taken synchronously below; the node's thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  DhtNode dht(settings);
  if (auto started = dht.start(); !started) {
    fmt::print(stderr, "shoal dht: {}\n", started.error());
    return 1;
  }
  auto s = dht.stats();
  fmt::print("dht: node {} listening on udp {}:{}{}\n", s.node_id, opt.bind, s.port,
             s.ipv6 ? " and [" + opt.bind6 + "] (IPv6)" : "");
  std::fflush(stdout);
  int sig = 0;
  while (sig != SIGINT && sig != SIGTERM)
    sig = sigwaitinfo(&signals, nullptr);
  s = dht.stats();
  fmt::print("dht: stopping; {} nodes known, {} peers stored, {} items stored, {} queries answered\n",
             s.nodes, s.stored_peers, s.stored_items, s.queries_answered);
  dht.stop();
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
