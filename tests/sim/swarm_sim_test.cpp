// The swarm simulation: torrent::Torrent cores on virtual time (swarm_network.hpp), one scenario per run.
//
//   swarm_sim exact              1 seeder, 1 leecher: the bytes arrive exact, near the link's rate
//   swarm_sim seed_leaves        the seeder leaves once the leechers hold every piece between them
//   swarm_sim liar               a seed that corrupts its blocks is banned by smart ban; everyone finishes
//   swarm_sim far                leechers at 10-400 ms round trips each finish near their link's time
//   swarm_sim large [leechers] [seed=N] [watch=NODE [links]]
//                                1 seeder and 200 leechers on mixed links, joining over time, some leaving
//
// Every leecher that stays must finish with every piece written byte-equal to the content. The swarm's finish
// time is compared with the fluid lower bound (the slowest of: the seeder sending one copy, each leecher
// downloading the file at its link's rate from when it joined, and every copy delivered by the swarm's whole
// upload capacity); the large swarm must finish within 1.3 times it. Deterministic by seed.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "swarm_network.hpp"

using namespace shoal;
using namespace shoal::torrent;
using namespace std::chrono_literals;

namespace {

constexpr double kMaxRatio = 1.3;

double mbit(double m) {
  return m * 1e6 / 8;
}

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what.c_str());
    ++failures;
  }
}

// Finished, with every piece written byte-equal to the content and no bookkeeping the driver disagrees with.
void expect_finished(const sim::SwarmNetwork& net, std::size_t i) {
  const auto& r = net.report(i);
  auto name = "node " + std::to_string(i);
  expect(r.completed.has_value(), name + " finished (present " + std::to_string(net.present(i)) + ", " +
                                      std::to_string(r.written.count()) + " pieces, phase " +
                                      std::to_string(static_cast<int>(net.torrent(i).phase())) + ")");
  expect(r.written.all(), name + " wrote every piece (" + std::to_string(r.written.count()) + "/" +
                              std::to_string(r.written.size()) + ")");
  expect(net.torrent(i).is_complete(), name + ": its torrent says complete");
  expect(r.false_verified == 0, name + ": no piece verified that was not written");
  expect(r.bad_reads == 0, name + ": no read of a piece it does not have");
}

// What the fluid bound needs to know of one leecher.
struct Leecher {
  std::size_t node = 0;
  double join = 0;          // seconds since the start
  double leave = 1e18;      // seconds since the start, when it left
  bool must_finish = true;  // false: it left mid-download
  double download = 0;      // bytes/s
  double upload = 0;        // bytes/s
  double received = 0;      // payload bytes, for those that left mid-download
};

// The smallest T (seconds since the start) at which the swarm could possibly be done: the seeder has sent
// one copy, every leecher that must finish has downloaded the file at its link's rate since it joined, and
// the swarm's upload capacity until T covers every copy delivered (the file for each leecher that finished,
// what the others received before they left).
double fluid_bound(double file, double seeder_up, const std::vector<Leecher>& leechers, double* seeder_term,
                   double* download_term, double* capacity_term) {
  *seeder_term = file / seeder_up;
  *download_term = 0;
  double demand = 0;
  for (const auto& l : leechers) {
    if (l.must_finish) {
      *download_term = std::max(*download_term, l.join + file / l.download);
      demand += file;
    } else {
      demand += l.received;
    }
  }
  auto capacity = [&](double t) {
    double c = seeder_up * t;
    for (const auto& l : leechers)
      c += l.upload * std::max(0.0, std::min(t, l.leave) - l.join);
    return c;
  };
  double lo = 0, hi = 1;
  while (capacity(hi) < demand)
    hi *= 2;
  for (int i = 0; i < 100; ++i) {
    double mid = (lo + hi) / 2;
    (capacity(mid) < demand ? lo : hi) = mid;
  }
  *capacity_term = hi;
  return std::max({*seeder_term, *download_term, *capacity_term});
}

void print_network(const sim::SwarmNetwork& net) {
  const auto& s = net.stats();
  std::printf("  network: %llu events, %.1f MB on the wire, %llu connections, %llu dials failed\n",
              static_cast<unsigned long long>(s.events), static_cast<double>(s.wire_bytes) / 1e6,
              static_cast<unsigned long long>(s.connections),
              static_cast<unsigned long long>(s.dials_failed));
  std::string reasons;
  for (const auto& [reason, count] : s.close_reasons)
    reasons += (reasons.empty() ? "" : ", ") + reason + " " + std::to_string(count);
  std::printf("  closed: %s\n", reasons.c_str());
}

// --- 1 seeder, 1 leecher.
void exact() {
  sim::Content content(6 * 1024 * 1024 + 12345, 256 * 1024, 11);
  sim::SwarmNetwork net(content, 1);
  auto seeder = net.add_node({.upload = mbit(10), .download = mbit(50), .latency = 15ms, .seed = true});
  auto leecher = net.add_node({.upload = mbit(1), .download = mbit(8), .latency = 25ms});
  bool done = net.run_until([&] { return net.report(leecher).completed.has_value(); }, net.now() + 300s);
  expect(done, "the leecher finished within 300 s");
  expect_finished(net, leecher);
  expect(net.torrent(seeder).stats().uploaded >= content.total_size(), "the seeder sent the whole file");
  auto took = net.seconds_since_start(*net.report(leecher).completed);
  double bound = static_cast<double>(content.total_size()) / std::min(mbit(10), mbit(8));
  std::printf("swarm.exact: %.2f MB in %.2f s virtual, bound %.2f s, ratio %.3f\n",
              static_cast<double>(content.total_size()) / 1e6, took, bound, took / bound);
  print_network(net);
  expect(took <= kMaxRatio * bound, "one leecher gets the file within 1.3x its link's time");
}

// --- The seeder leaves once the leechers hold every piece between them.
void seed_leaves() {
  sim::Content content(8 * 1024 * 1024, 64 * 1024, 12);
  sim::SwarmNetwork net(content, 2);
  auto seeder = net.add_node({.upload = mbit(4), .download = mbit(50), .latency = 20ms, .seed = true});
  std::mt19937_64 rng(22);
  std::vector<std::size_t> leechers;
  for (int i = 0; i < 12; ++i) {
    auto down = mbit(4 + static_cast<double>(rng() % 12));
    leechers.push_back(net.add_node(
        {.upload = down / 4, .download = down, .latency = std::chrono::milliseconds(5 + rng() % 40)}));
    net.run_for(200ms);
  }
  bool spread = net.run_until([&] { return net.pieces_available_without(seeder); }, net.now() + 600s);
  expect(spread, "the leechers hold every piece between them");
  int incomplete = 0;
  for (auto l : leechers)
    incomplete += net.report(l).written.all() ? 0 : 1;
  double left_at = net.seconds_since_start(net.now());
  double copies =
      static_cast<double>(net.torrent(seeder).stats().uploaded) / static_cast<double>(content.total_size());
  net.leave(seeder);
  expect(incomplete > 0, "some leecher still needed pieces when the seeder left");
  bool done = net.run_until(
      [&] {
        return std::all_of(leechers.begin(), leechers.end(),
                           [&](std::size_t l) { return net.report(l).completed.has_value(); });
      },
      net.now() + 600s);
  expect(done, "every leecher finished without the seeder");
  double last = 0;
  for (auto l : leechers) {
    expect_finished(net, l);
    if (net.report(l).completed) last = std::max(last, net.seconds_since_start(*net.report(l).completed));
  }
  std::printf(
      "swarm.seed_leaves: the seeder left at %.1f s (after sending %.2f copies) with %d of %zu leechers "
      "incomplete; all done at %.1f s\n",
      left_at, copies, incomplete, leechers.size(), last);
  print_network(net);
}

// --- A seed that corrupts every block it sends.
void liar() {
  sim::Content content(8 * 1024 * 1024, 128 * 1024, 13);
  sim::SwarmNetwork net(content, 3);
  auto seeder = net.add_node({.upload = mbit(4), .download = mbit(50), .latency = 20ms, .seed = true});
  auto liar = net.add_node(
      {.upload = mbit(20), .download = mbit(50), .latency = 10ms, .seed = true, .corrupt_blocks = 1.0});
  std::mt19937_64 rng(33);
  std::vector<std::size_t> leechers;
  for (int i = 0; i < 12; ++i) {
    auto down = mbit(4 + static_cast<double>(rng() % 12));
    leechers.push_back(net.add_node(
        {.upload = down / 3, .download = down, .latency = std::chrono::milliseconds(5 + rng() % 40)}));
    net.run_for(300ms);
  }
  bool done = net.run_until(
      [&] {
        return std::all_of(leechers.begin(), leechers.end(),
                           [&](std::size_t l) { return net.report(l).completed.has_value(); });
      },
      net.now() + 600s);
  expect(done, "every leecher finished beside the liar");
  int failed = 0, banned_liar = 0, fooled = 0;
  auto liar_key = net.endpoint(liar);
  liar_key.port = 0;
  for (auto l : leechers) {
    expect_finished(net, l);
    const auto& r = net.report(l);
    failed += r.hash_failures;
    bool banned = std::find(r.banned.begin(), r.banned.end(), liar_key) != r.banned.end();
    banned_liar += banned ? 1 : 0;
    if (r.hash_failures > 0 && !banned) ++fooled;
    for (const auto& b : r.banned)
      expect(b == liar_key, "node " + std::to_string(l) + " banned only the liar, not " + b.to_string());
  }
  expect(failed > 0, "the liar's blocks failed their hash checks");
  expect(banned_liar > 0, "the liar was banned");
  expect(fooled == 0, "every leecher that got a bad piece banned the liar");
  std::printf("swarm.liar: %d pieces failed, the liar banned by %d of %zu leechers, seeder sent %.1f MB\n",
              failed, banned_liar, leechers.size(),
              static_cast<double>(net.torrent(seeder).stats().uploaded) / 1e6);
  print_network(net);
}

// --- Long fat paths: one fast seeder, leechers at round trips of 10 to 400 ms, each downloading at 400
// Mbit/s (a 400 ms path holds 20 MB, 1,220 blocks: more than the 1,000 the request queue was once capped at).
// Each must finish within 1.15 times its link's time (the file at its download rate) plus ten round trips:
// about four to start (tracker, connect, handshakes and unchoke, the first request) and six of slow start
// from the floor to the path's bandwidth-delay product.
void far() {
  sim::Content content(160 * 1024 * 1024, 1024 * 1024, 15);
  sim::SwarmNetwork net(content, 5);
  net.add_node({.upload = mbit(2400), .download = mbit(800), .latency = 5ms, .seed = true});
  const int rtts[] = {10, 50, 100, 200, 400};  // ms, to the seeder
  std::vector<std::size_t> leechers;
  for (int rtt : rtts) {
    // They trade among themselves too, but the seeder alone could serve them all at their downlinks' rate.
    leechers.push_back(net.add_node(
        {.upload = mbit(100), .download = mbit(400), .latency = std::chrono::milliseconds(rtt / 2 - 5)}));
  }
  bool done = net.run_until(
      [&] {
        return std::all_of(leechers.begin(), leechers.end(),
                           [&](std::size_t l) { return net.report(l).completed.has_value(); });
      },
      net.now() + 300s);
  expect(done, "every leecher finished within 300 s");
  double link_time = static_cast<double>(content.total_size()) / mbit(400);
  for (std::size_t i = 0; i < leechers.size(); ++i) {
    auto l = leechers[i];
    expect_finished(net, l);
    if (!net.report(l).completed) continue;
    double took =
        net.seconds_since_start(*net.report(l).completed) - net.seconds_since_start(net.report(l).joined);
    double bound = 1.15 * link_time + 10 * rtts[i] / 1000.0;
    std::printf("swarm.far.%dms: %.2f s for %.1f MB, link time %.2f s (ratio %.3f), bound %.2f s\n", rtts[i],
                took, static_cast<double>(content.total_size()) / 1e6, link_time, took / link_time, bound);
    expect(took <= bound, "the leecher at " + std::to_string(rtts[i]) +
                              " ms finished within 1.15x its link's time plus ten round trips");
  }
  print_network(net);
}

// One line on a node and, with `links`, one per connection it waits on: what a stall looks like from inside.
void watch(const sim::SwarmNetwork& net, std::size_t node, bool links) {
  int unchoked_by = 0, interested = 0, unchoking = 0, interested_in_us = 0;
  std::size_t outstanding = 0;
  auto peers = net.peers(node);
  for (auto p : peers) {
    const auto* pr = net.torrent(node).protocol(p);
    if (!pr) continue;
    unchoked_by += pr->peer_choking() ? 0 : 1;
    interested += pr->am_interested() ? 1 : 0;
    unchoking += pr->am_choking() ? 0 : 1;
    interested_in_us += pr->peer_interested() ? 1 : 0;
    outstanding += pr->outstanding().size();
    if (links && !pr->outstanding().empty()) std::printf("    %s\n", net.describe(node, p).c_str());
  }
  auto st = net.torrent(node).stats();
  const auto& r = net.report(node);
  std::printf(
      "watch %5.1f s: node %zu has %d pieces, %zu peers, interested in %d, unchoked by %d, %zu requests out; "
      "unchoking %d of %d interested; %.0f kB/s down, %.0f kB/s up; wire %.1f MB down (payload %.1f), %.1f "
      "MB "
      "up (payload %.1f)\n",
      net.seconds_since_start(net.now()), node, st.pieces_have, peers.size(), interested, unchoked_by,
      outstanding, unchoking, interested_in_us, st.download_rate / 1e3, st.upload_rate / 1e3,
      static_cast<double>(r.wire_received) / 1e6, static_cast<double>(st.downloaded) / 1e6,
      static_cast<double>(r.wire_sent) / 1e6, static_cast<double>(st.uploaded) / 1e6);
}

// --- 1 seeder and many leechers on mixed links, joining over the first 20 s; a few leave a moment after
// finishing, a few vanish mid-download (crash) and are replaced by newcomers.
struct LargeOptions {
  int leechers = 200;
  std::uint64_t seed = 0;
  std::optional<std::size_t> watch;  // print this node every 5 s
  bool watch_links = false;
};

void large(const LargeOptions& options) {
  const std::int64_t file = 8 * 1024 * 1024;
  const double seeder_up = mbit(20);
  sim::Content content(file, 64 * 1024, 14 + options.seed);
  sim::SwarmNetwork net(content, 4 + options.seed);
  std::mt19937_64 rng(44 + options.seed);
  auto seeder = net.add_node({.upload = seeder_up, .download = mbit(100), .latency = 10ms, .seed = true});

  const double downs[] = {2, 4, 6, 8, 10, 12, 16, 20};  // Mbit/s
  auto make_config = [&] {
    sim::NodeConfig c;
    c.download = mbit(downs[rng() % 8]);
    // Two in five are asymmetric (DSL, cable): an eighth to a quarter of the downlink goes up; the others
    // send half to all of it (fibre).
    c.upload = rng() % 5 < 2 ? c.download / static_cast<double>(4 + rng() % 5)
                             : c.download * (0.5 + 0.1 * static_cast<double>(rng() % 6));
    c.latency = std::chrono::milliseconds(5 + rng() % 56);
    return c;
  };
  struct Plan {
    Clock::duration join;
    sim::NodeConfig config;
    bool leaves_when_done = false;
    double vanishes_at = 0;  // share of the pieces; 0: stays
  };
  std::vector<Plan> plans;
  for (int i = 0; i < options.leechers; ++i)
    plans.push_back({std::chrono::milliseconds(rng() % 20000), make_config()});
  auto count = static_cast<std::size_t>(options.leechers);
  for (int i = 0; i < std::max(1, options.leechers / 20); ++i)
    plans[rng() % count].leaves_when_done = true;
  for (int i = 0; i < std::max(1, options.leechers / 40); ++i) {
    auto& p = plans[rng() % count];
    if (!p.leaves_when_done) p.vanishes_at = 0.3 + 0.1 * static_cast<double>(rng() % 5);
  }
  std::sort(plans.begin(), plans.end(), [](const Plan& a, const Plan& b) { return a.join < b.join; });

  std::vector<Leecher> leechers;
  std::vector<Plan> fates;  // per leecher: whether it leaves
  auto join = [&](const Plan& plan) {
    Leecher l;
    l.node = net.add_node(plan.config);
    l.join = net.seconds_since_start(net.now());
    l.download = plan.config.download;
    l.upload = plan.config.upload;
    leechers.push_back(l);
    fates.push_back(plan);
  };
  std::clock_t cpu_start = std::clock();
  auto deadline = net.now() + 600s;
  std::size_t next_plan = 0;
  int replaced = 0, left_done = 0;
  for (;;) {
    for (; next_plan < plans.size() && net.start_time() + plans[next_plan].join <= net.now(); ++next_plan)
      join(plans[next_plan]);
    bool all_done = next_plan == plans.size();
    for (std::size_t i = 0; i < leechers.size(); ++i) {
      if (!net.present(leechers[i].node)) continue;
      const auto& r = net.report(leechers[i].node);
      auto vanish = static_cast<std::int32_t>(fates[i].vanishes_at * content.num_pieces());
      if (vanish > 0 && !r.completed && r.written.count() >= vanish) {
        auto& l = leechers[i];
        net.crash(l.node);
        l.leave = net.seconds_since_start(net.now());
        l.must_finish = false;
        l.received = static_cast<double>(net.torrent(l.node).stats().downloaded);
        join({0s, make_config()});  // invalidates `l`
        ++replaced;
        all_done = false;
      } else if (r.completed && fates[i].leaves_when_done) {
        net.leave(leechers[i].node);
        leechers[i].leave = net.seconds_since_start(net.now());
        ++left_done;
      } else if (!r.completed) {
        all_done = false;
      }
    }
    if (all_done || net.now() >= deadline) break;
    if (options.watch && *options.watch < net.size() && (net.now() - net.start_time()) % 5s == 0s)
      watch(net, *options.watch, options.watch_links);
    net.run_for(100ms);
  }
  double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;

  double last = 0, sum_time = 0;
  int finished = 0;
  std::vector<std::pair<double, const Leecher*>> by_finish;
  for (const auto& l : leechers) {
    if (!l.must_finish) continue;
    expect_finished(net, l.node);
    const auto& r = net.report(l.node);
    if (!r.completed) continue;
    ++finished;
    double t = net.seconds_since_start(*r.completed);
    last = std::max(last, t);
    sum_time += t - l.join;
    by_finish.emplace_back(t, &l);
  }
  double seeder_term, download_term, capacity_term;
  double bound = fluid_bound(static_cast<double>(file), seeder_up, leechers, &seeder_term, &download_term,
                             &capacity_term);
  double ratio = last / bound;
  std::printf(
      "swarm.large: %zu leechers (%d finished, %d left when done, %d vanished mid-download and were "
      "replaced), %.1f MB file in %d pieces, seed %llu\n",
      leechers.size(), finished, left_done, replaced, static_cast<double>(file) / 1e6, content.num_pieces(),
      static_cast<unsigned long long>(options.seed));
  std::printf(
      "swarm.large.bound: %.1f s (seeder's one copy %.1f s, slowest download %.1f s, swarm capacity %.1f "
      "s)\n",
      bound, seeder_term, download_term, capacity_term);
  std::printf(
      "swarm.large.finish: %.1f s virtual, mean download %.1f s, ratio to the bound %.3f (limit %.1f)\n",
      last, sum_time / std::max(1, finished), ratio, kMaxRatio);
  // The last to finish, against their own link's time: where the tail comes from.
  std::sort(by_finish.begin(), by_finish.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; i < std::min<std::size_t>(by_finish.size(), 3); ++i) {
    const auto& l = *by_finish[i].second;
    std::printf(
        "  last: node %zu joined at %.1f s, %.0f/%.1f Mbit down/up, %.0f ms, done at %.1f s: %.2fx its "
        "link\n",
        l.node, l.join, l.download * 8 / 1e6, l.upload * 8 / 1e6,
        std::chrono::duration<double, std::milli>(net.config(l.node).latency).count(), by_finish[i].first,
        (by_finish[i].first - l.join) / (static_cast<double>(file) / l.download));
  }
  std::printf("swarm.large.seeder: sent %.1f MB (%.2f copies)\n",
              static_cast<double>(net.torrent(seeder).stats().uploaded) / 1e6,
              static_cast<double>(net.torrent(seeder).stats().uploaded) / static_cast<double>(file));
  print_network(net);
  std::printf("swarm.large.cpu: %.1f s\n", cpu);
  expect(ratio <= kMaxRatio, "the swarm finishes within 1.3x the fluid bound");
}

}  // namespace

int main(int argc, char** argv) {
  std::string scenario = argc > 1 ? argv[1] : "all";
  LargeOptions options;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("seed=", 0) == 0) {
      options.seed = std::strtoull(arg.c_str() + 5, nullptr, 10);
    } else if (arg.rfind("watch=", 0) == 0) {
      options.watch = std::strtoull(arg.c_str() + 6, nullptr, 10);
    } else if (arg == "links") {
      options.watch_links = true;
    } else {
      options.leechers = std::atoi(arg.c_str());
    }
  }
  bool any = false;
  auto run = [&](const char* name, auto&& f) {
    if (scenario != name && scenario != "all") return;
    f();
    any = true;
  };
  run("exact", exact);
  run("seed_leaves", seed_leaves);
  run("liar", liar);
  run("far", far);
  run("large", [&] { large(options); });
  if (!any) {
    std::printf(
        "usage: swarm_sim [exact|seed_leaves|liar|far|large [leechers] [seed=N] [watch=NODE [links]]|all]\n");
    return 2;
  }
  if (failures > 0) {
    std::printf("%d check(s) failed\n", failures);
    return 1;
  }
  return 0;
}
