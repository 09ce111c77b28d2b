// The DHT simulation of issue 5: 2,000 nodes on virtual time in one process, 5% packet loss, churn (a tenth
// of the nodes leave after the torrents are announced), a few nodes sending garbage. Lookups for announced
// info-hashes must succeed at least 99% of the time; prints the median queries and virtual time per lookup.
#include <algorithm>
#include <cstdio>
#include <random>

#include "dht_network.hpp"

using namespace shoal;
using namespace shoal::dht;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  std::size_t nodes = argc > 1 ? static_cast<std::size_t>(std::atoi(argv[1])) : 2000;
  int lookups = argc > 2 ? std::atoi(argv[2]) : 200;
  const auto latency = 25ms;  // one way, plus up to as much jitter
  double loss = argc > 3 ? std::atof(argv[3]) : 0.05;
  sim::Network net(2026, loss, latency);
  for (std::size_t i = 0; i < nodes; ++i)
    net.add_node();
  // Join: each node bootstraps through one of the first few.
  for (std::size_t i = 1; i < nodes; ++i) {
    net.act(i, [&](DhtNode& n, Clock::time_point now, std::vector<Outgoing>& out) {
      n.bootstrap(net.endpoint(0), now, out);
    });
    if (i % 50 == 0) net.run_for(200ms);
  }
  net.run_for(30s);

  std::mt19937_64 rng(7);
  struct Torrent {
    NodeId hash;
    std::size_t seeder;
  };
  std::vector<Torrent> torrents;
  for (int t = 0; t < lookups; ++t) {
    Torrent torrent;
    for (auto& b : torrent.hash.bytes)
      b = static_cast<std::uint8_t>(rng());
    torrent.seeder = rng() % nodes;
    torrents.push_back(torrent);
    net.act(torrent.seeder, [&](DhtNode& n, Clock::time_point now, std::vector<Outgoing>& out) {
      n.get_peers(torrent.hash, 6000, nullptr, now, out);
    });
  }
  net.run_for(30s);
  std::size_t stored = 0, table = 0;
  for (std::size_t i = 0; i < nodes; ++i) {
    stored += net.node(i).stored_peers();
    table += net.node(i).table().size();
  }
  std::printf("dht.sim.setup: %.1f nodes per routing table, each torrent stored on %.1f nodes\n",
              static_cast<double>(table) / static_cast<double>(nodes),
              static_cast<double>(stored) / static_cast<double>(torrents.size()));
  // Churn: a tenth of the nodes (never a seeder) leave.
  std::size_t killed = 0;
  for (std::size_t i = 0; i < nodes && killed < nodes / 10; i += 7) {
    bool seeder =
        std::any_of(torrents.begin(), torrents.end(), [&](const Torrent& t) { return t.seeder == i; });
    if (!seeder) {
      net.kill(i);
      ++killed;
    }
  }
  // Malicious traffic: garbage to random nodes from a few addresses.
  for (int g = 0; g < 2000; ++g) {
    std::vector<Outgoing> out;
    net.node(rng() % nodes)
        .on_packet("d1:ad2:id3:bade1:q4:ping1:t2:xx1:y1:qe", *Endpoint::parse("66.6.6.6:666"), net.now(),
                   out);
  }

  int succeeded = 0, finished = 0;
  std::vector<int> queries;
  std::vector<double> millis, first_millis;
  for (const auto& t : torrents) {
    std::size_t searcher;
    do {
      searcher = rng() % nodes;
    } while (!net.alive(searcher) || searcher == t.seeder);
    auto start = net.now();
    Endpoint expected = net.endpoint(t.seeder);
    expected.port = 6000;
    net.act(searcher, [&](DhtNode& n, Clock::time_point now, std::vector<Outgoing>& out) {
      n.get_peers(
          t.hash, std::nullopt,
          [&, start](const DhtNode::LookupResult& r) {
            ++finished;
            queries.push_back(r.queries);
            millis.push_back(std::chrono::duration<double, std::milli>(net.now() - start).count());
            if (std::find(r.peers.begin(), r.peers.end(), expected) != r.peers.end()) ++succeeded;
            if (r.first_peer_after)
              first_millis.push_back(std::chrono::duration<double, std::milli>(*r.first_peer_after).count());
          },
          now, out);
    });
    net.run_for(3s);
  }
  std::sort(queries.begin(), queries.end());
  std::sort(millis.begin(), millis.end());
  std::sort(first_millis.begin(), first_millis.end());
  double first_ms = first_millis.empty() ? 0 : first_millis[first_millis.size() / 2];
  double rate = lookups > 0 ? 100.0 * succeeded / lookups : 0;
  double one_way = std::chrono::duration<double, std::milli>(latency).count();
  double rtt = 2 * (one_way + one_way / 2);  // mean round trip with jitter
  double median_ms = millis.empty() ? 0 : millis[millis.size() / 2];
  std::printf("dht.sim: %zu nodes, %.0f%% loss, %zu left; %d/%d lookups found the seeder (%.1f%%)\n", nodes,
              loss * 100, killed, succeeded, lookups, rate);
  std::printf(
      "dht.sim.lookup: median %d queries, median %.0f ms virtual (%.1f round trips of %.0f ms), p90 %.0f "
      "ms\n",
      queries.empty() ? 0 : queries[queries.size() / 2], median_ms, median_ms / rtt, rtt,
      millis.empty() ? 0 : millis[millis.size() * 9 / 10]);
  std::printf("dht.sim.first_peer: median %.0f ms virtual (%.1f round trips) until the first peer arrived\n",
              first_ms, first_ms / rtt);
  std::printf("dht.sim.packets: %llu\n", static_cast<unsigned long long>(net.packets()));
  if (rate < 99.0) {
    std::printf("FAIL: success rate below 99%%\n");
    return 1;
  }
  return 0;
}
