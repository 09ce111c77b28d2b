// The DHT and LSD flags shared by several commands, registered once. Plain values: each command turns them
// into what it runs (session settings for get and seed, a one-shot node for the DHT commands).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "shoal/settings.hpp"

namespace shoal::cli {

struct DhtCliOptions {
  std::vector<std::string> bootstrap;  // empty: the public routers
  std::uint16_t port = 0;
  bool allow_same_ip = false;
  bool no_dht = false;
  bool read_only = false;  // BEP 43: query others, answer nobody, stay out of their tables
};

struct LsdCliOptions {
  bool no_lsd = false;
  std::string interface_address;  // empty: the routing table's choice
};

// Port mapping on the home router; both on unless turned off (and never tried when listening on loopback).
struct PortMappingCliOptions {
  bool no_upnp = false;
  bool no_natpmp = false;  // neither NAT-PMP nor PCP
  bool no_pcp = false;
};

// The DHT flags of `get` and `seed`.
void add_dht_options(CLI::App& cmd, DhtCliOptions& dht);
// The flags that say how to join (bootstrap, port, same-IP rule), for commands that always use the DHT.
void add_dht_join_options(CLI::App& cmd, DhtCliOptions& dht);
void add_lsd_options(CLI::App& cmd, LsdCliOptions& lsd);
// --no-upnp, --no-natpmp.
void add_port_mapping_options(CLI::App& cmd, PortMappingCliOptions& options);
// --encryption plain|prefer|require (MSE/PE on peer connections).
void add_encryption_option(CLI::App& cmd, EncryptionMode& mode);
// --transport tcp|utp|both (uTP, BEP 29, on peer connections).
void add_transport_option(CLI::App& cmd, Transport& transport);

}  // namespace shoal::cli
