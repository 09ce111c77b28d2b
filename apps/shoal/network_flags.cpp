#include "network_flags.hpp"

#include <map>

namespace shoal::cli {

void add_dht_join_options(CLI::App& cmd, DhtCliOptions& dht) {
  cmd.add_option("--dht-bootstrap", dht.bootstrap,
                 "Join the DHT through this node (HOST:PORT, repeatable) instead of the public routers");
  cmd.add_option("--dht-port", dht.port, "UDP port for the DHT (default: any free port)");
  cmd.add_flag("--dht-allow-same-ip", dht.allow_same_ip,
               "Keep many DHT nodes of one address (private test networks on one host)");
}

void add_dht_options(CLI::App& cmd, DhtCliOptions& dht) {
  add_dht_join_options(cmd, dht);
  cmd.add_flag("--dht-read-only", dht.read_only,
               "Use the DHT without serving it (BEP 43), e.g. behind a metered or firewalled link");
  cmd.add_flag("--no-dht", dht.no_dht, "Do not use the DHT");
}

void add_lsd_options(CLI::App& cmd, LsdCliOptions& lsd) {
  cmd.add_flag("--no-lsd", lsd.no_lsd, "Do not look for peers on the local network (BEP 14 multicast)");
  cmd.add_option("--lsd-interface", lsd.interface_address,
                 "Discover local peers on the interface with this IPv4 address (IPv4 group only)");
}

void add_port_mapping_options(CLI::App& cmd, PortMappingCliOptions& options) {
  cmd.add_flag("--no-upnp", options.no_upnp, "Do not ask the router to forward our ports by UPnP IGD");
  cmd.add_flag("--no-natpmp", options.no_natpmp,
               "Do not ask the router to forward our ports by NAT-PMP or PCP (both use its UDP port 5351)");
  cmd.add_flag("--no-pcp", options.no_pcp, "Ask the router by NAT-PMP only, not first by PCP (RFC 6887)");
}

void add_encryption_option(CLI::App& cmd, EncryptionMode& mode) {
  const std::map<std::string, EncryptionMode> names{{"plain", EncryptionMode::plain},
                                                    {"prefer", EncryptionMode::prefer},
                                                    {"require", EncryptionMode::require}};
  cmd.add_option(
         "--encryption", mode,
         "Peer connection encryption (MSE/PE): plain (never), prefer (an MSE handshake, then RC4 only "
         "where the peer wants it, else plaintext as libtorrent does; plain peers accepted; default) or "
         "require (RC4 only, plain peers refused)")
      ->transform(CLI::CheckedTransformer(names, CLI::ignore_case));
}

void add_transport_option(CLI::App& cmd, Transport& transport) {
  const std::map<std::string, Transport> names{
      {"tcp", Transport::tcp}, {"utp", Transport::utp}, {"both", Transport::both}};
  cmd.add_option(
         "--transport", transport,
         "Peer connection transport: tcp, utp (BEP 29, LEDBAT) or both (outgoing tries uTP first, then "
         "TCP; default)")
      ->transform(CLI::CheckedTransformer(names, CLI::ignore_case));
}

}  // namespace shoal::cli
