#include "feed_get.hpp"

#include <fmt/core.h>
#include <pthread.h>
#include <signal.h>

#include <optional>

#include "dht/feed.hpp"
#include "shoal/session.hpp"
#include "shoal/terminal_text.hpp"

namespace shoal::cli {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The fields of a DHT answer, for the follower to check again (key, signature, sequence, value).
dht::ItemFields fields_of(const DhtMutableItemReceived& got) {
  dht::ItemFields fields;
  fields.value = got.value;
  fields.key = dht::PublicKey::from_hex(got.public_key);
  fields.signature = dht::Signature::from_hex(got.signature);
  fields.seq = got.seq;
  return fields;
}

}  // namespace

int run_feed_get(const FeedGetRequest& request) {
  // What happens to versions is the command's result: on stdout, even with -q. Anything else on stderr.
  auto report = [](const std::string& text) {
    fmt::print("{}\n", text);
    std::fflush(stdout);
  };
  auto say = [&](const std::string& text) {
    if (!request.transfer.quiet) fmt::print(stderr, "feed: {}\n", escape_for_terminal(text));
  };
  auto key = dht::PublicKey::from_hex(request.public_key);
  if (!key) return 1;
  dht::FeedFollower follower(*key, request.salt, request.poll_interval);

  const sigset_t stop_signals = block_stop_signals();  // before the session starts its thread

  std::optional<Session> session;
  try {
    session.emplace(request.transfer.settings);
  } catch (const std::exception& e) {
    fmt::print(stderr, "shoal get: {}\n", escape_for_terminal(e.what()));
    return 1;
  }

  std::optional<std::uint64_t> polling;    // the request id of the lookup under way
  std::optional<TorrentHandle> torrent;    // the version being downloaded or seeded
  std::optional<std::string> removing;     // the previous version, until the session says it is gone
  std::optional<dht::FeedVersion> queued;  // the version to add once `removing` is gone
  bool finished = false;
  int exit_code = 0;
  auto add = [&](const dht::FeedVersion& version) -> bool {
    AddTorrentParams params = request.defaults;
    params.magnet = "magnet:?xt=urn:btih:" + version.info_hash.to_hex();
    auto added = session->add_torrent(params);
    if (!added) {
      fmt::print(stderr, "shoal get: {}\n", escape_for_terminal(added.error()));
      return false;
    }
    torrent = *added;
    finished = false;
    report(fmt::format("seq {}: downloading {}", version.seq, version.info_hash.to_hex()));
    return true;
  };

  for (;;) {
    timespec wait{0, 100'000'000};
    int sig = sigtimedwait(&stop_signals, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM) {
      if (!request.follow && !finished) exit_code = 130;
      break;
    }
    auto now = SteadyClock::now();
    if (follower.poll_due(now)) {
      auto asked = session->dht_get_mutable_item(request.public_key, request.salt);
      if (!asked) {
        fmt::print(stderr, "shoal get: {}\n", escape_for_terminal(asked.error()));
        exit_code = 1;
        break;
      }
      polling = *asked;
      follower.poll_started();
    }
    bool stop = false;
    for (auto& event : session->pop_events()) {
      if (auto* got = std::get_if<DhtMutableItemReceived>(&event); got && polling == got->request) {
        polling.reset();
        if (!got->found) {
          if (!follower.current()) say(fmt::format("no item for this key yet ({} queries)", got->queries));
        } else {
          auto previous = follower.current();
          auto verdict = follower.on_item(fields_of(*got));
          if (verdict == dht::FeedVerdict::new_version) {
            if (previous)
              report(fmt::format("seq {}: new version {} (was seq {})", follower.current()->seq,
                                 follower.current()->info_hash.to_hex(), previous->seq));
            if (torrent) {
              // The old version leaves the session first (its files stay): the new one checks them.
              removing = torrent->info_hash();
              queued = follower.current();
              session->remove_torrent(*torrent, RemoveMode::keep_data);
              torrent.reset();
            } else if (removing) {
              queued = follower.current();  // two versions in quick succession: only the newest is added
            } else if (!add(*follower.current())) {
              stop = true;
            }
          } else if (verdict != dht::FeedVerdict::same_torrent &&
                     !(verdict == dht::FeedVerdict::stale_seq && previous && previous->seq == got->seq)) {
            // The version we have coming back is no news; anything else ignored is said.
            say(fmt::format("ignored an item with seq {}: {}", got->seq, dht::to_string(verdict)));
          }
        }
        follower.poll_finished(SteadyClock::now());
      } else if (auto* removed = std::get_if<TorrentRemoved>(&event);
                 removed && removing == removed->info_hash) {
        removing.reset();
        if (queued && !add(*queued)) stop = true;
        queued.reset();
      } else if (auto* done = std::get_if<TorrentFinished>(&event);
                 done && torrent && done->info_hash == torrent->info_hash()) {
        finished = true;
        auto st = torrent->status();
        report(fmt::format("seq {}: complete, downloaded {} bytes of {}", follower.current()->seq,
                           st.downloaded, st.total_size));
        if (!request.follow) stop = true;
      } else if (auto* error = std::get_if<TorrentError>(&event);
                 error && torrent && error->info_hash == torrent->info_hash()) {
        fmt::print(stderr, "shoal get: {}\n", escape_for_terminal(error->message));
        exit_code = 1;
        stop = true;
      } else if (auto* warning = std::get_if<SessionWarning>(&event)) {
        fmt::print(stderr, "{}\n", escape_for_terminal(warning->text));
      } else if (auto* line = std::get_if<LogLine>(&event); line && request.transfer.verbose) {
        fmt::print(stderr, "{}\n", escape_for_terminal(line->text));
      }
    }
    if (stop) {
      if (exit_code == 0 && !finished) exit_code = 1;
      break;
    }
  }
  session->shutdown();
  return exit_code;
}

}  // namespace shoal::cli
