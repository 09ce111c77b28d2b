// Downloads one magnet link or .torrent into a folder through Shoal's public API alone, printing progress.
//   magnet_download [--peer IP:PORT]... [--no-dht] [--no-lsd] [--no-trackers] [--listen ADDRESS] SOURCE DIR
// Exits 0 once every piece is verified on disk, 1 when the torrent fails (TorrentError) or on bad arguments.
#include <shoal/session.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace {

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--peer IP:PORT]... [--no-dht] [--no-lsd] [--no-trackers] [--listen ADDRESS] "
               "MAGNET|FILE.torrent DIR\n",
               argv0);
  return 1;
}

void print_status(const shoal::TorrentStatus& st) {
  std::printf("%-18s %5.1f%%  %lld/%lld bytes  %d peers  %.0f B/s down\n", shoal::to_string(st.state),
              st.progress * 100.0, static_cast<long long>(st.have_wanted),
              static_cast<long long>(st.total_wanted), st.peers, st.download_rate);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  shoal::SessionSettings settings;
  shoal::AddTorrentParams params;
  params.seed_when_complete = false;  // a download tool: stop once the data is complete
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--peer" && i + 1 < argc) {
      params.peers.emplace_back(argv[++i]);
    } else if (arg == "--listen" && i + 1 < argc) {
      settings.listen_address = argv[++i];
    } else if (arg == "--no-dht") {
      settings.dht.enabled = false;
    } else if (arg == "--no-lsd") {
      settings.lsd.enabled = false;
    } else if (arg == "--no-trackers") {
      settings.use_trackers = false;
    } else if (arg.starts_with("--")) {
      return usage(argv[0]);
    } else {
      positional.emplace_back(arg);
    }
  }
  if (positional.size() != 2) return usage(argv[0]);
  if (positional[0].starts_with("magnet:")) {
    params.magnet = positional[0];
  } else {
    params.torrent_file = positional[0];
  }
  params.save_path = positional[1];

  try {
    shoal::Session session(settings);  // throws only when it cannot start (e.g. the listen address is taken)
    auto added = session.add_torrent(params);
    if (!added) {
      std::fprintf(stderr, "cannot add %s: %s\n", positional[0].c_str(), added.error().c_str());
      return 1;
    }
    shoal::TorrentHandle torrent = *added;
    std::printf("added %s, listening on port %u\n", torrent.info_hash().c_str(),
                static_cast<unsigned>(session.stats().listen_port));
    for (;;) {
      session.wait_for_events(std::chrono::seconds(1));
      for (const shoal::Event& event : session.pop_events()) {
        int exit_code = -1;
        std::visit(
            [&](const auto& e) {
              using E = std::decay_t<decltype(e)>;
              if constexpr (std::is_same_v<E, shoal::MetadataReceived>) {
                std::printf("metadata received: %s\n", e.name.c_str());
              } else if constexpr (std::is_same_v<E, shoal::TorrentFinished>) {
                print_status(torrent.status());
                std::printf("finished: every piece verified\n");
                exit_code = 0;
              } else if constexpr (std::is_same_v<E, shoal::TorrentError>) {
                std::fprintf(stderr, "error (%s): %s\n", shoal::to_string(e.code), e.message.c_str());
                exit_code = 1;
              }
            },
            event);
        if (exit_code >= 0) {
          session.shutdown();  // trackers told, resume data saved; the destructor would do it too
          return exit_code;
        }
      }
      print_status(torrent.status());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cannot start the session: %s\n", e.what());
    return 1;
  }
}
