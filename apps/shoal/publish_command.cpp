// shoal publish DIR --key-file K [--salt S]: an updatable torrent (BEP 46). Builds the torrent of DIR, stores
// the signed mutable item {"ih": <info-hash>} under the key (sequence number above both the DHT's and the
// last one stored, remembered in K.seq), seeds DIR and stores the item again periodically, since nodes forget
// items (BEP 44). Followers use the printed magnet:?xs=urn:btpk link. DIR is watched cheaply (names, sizes
// and modification times, every few seconds): once a change has settled, the folder is hashed again and
// published as the next version.
#include <fmt/core.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <tuple>

#include "commands.hpp"
#include "dht/feed.hpp"
#include "key_file.hpp"
#include "magnet/magnet_link.hpp"
#include "shoal/session.hpp"
#include "shoal/terminal_text.hpp"
#include "shoal/torrent_file.hpp"
#include "transfer.hpp"

namespace shoal::cli {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
// A put that reached no node (the DHT still joining) is tried again this soon.
constexpr auto kRetryUnstored = std::chrono::seconds(5);

struct PublishOptions {
  std::string path;
  std::string key_file;
  std::string salt;
  std::int64_t piece_size = 0;
  std::vector<std::string> trackers;
  bool hybrid = false;
  int republish_minutes = 30;
  int watch_seconds = 10;
  CommonTransferOptions common;
};

// What a change of DIR shows without reading it: every regular file's path, size and modification time.
// Symbolic links are not followed (create does not follow them either).
using Fingerprint = std::set<std::tuple<std::string, std::uintmax_t, fs::file_time_type>>;

Fingerprint fingerprint(const fs::path& dir) {
  Fingerprint out;
  std::error_code ec;
  if (fs::is_regular_file(fs::symlink_status(dir, ec))) {
    out.emplace(dir.string(), fs::file_size(dir, ec), fs::last_write_time(dir, ec));
    return out;
  }
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    out.emplace(it->path().string(), it->file_size(ec), it->last_write_time(ec));
  }
  return out;
}

struct Version {
  std::string torrent;  // .torrent bytes
  Sha1Digest info_hash;
  Fingerprint files;  // what DIR looked like before it was hashed
};

int run_publish(const PublishOptions& opt) {
  auto fail = [](const std::string& message) {
    fmt::print(stderr, "shoal publish: {}\n", escape_for_terminal(message));
    return 1;
  };
  if (opt.salt.size() > dht::kMaxItemSalt) return fail("the salt is longer than 64 bytes");
  if (opt.common.dht.no_dht) return fail("--no-dht: a feed lives in the DHT");
  auto seed = load_or_create_key_seed(opt.key_file);
  if (!seed) return fail(seed.error());
  auto key = dht::public_key_of(*dht::KeySeed::from_raw(*seed));
  if (!key) return fail("the key file holds a seed OpenSSL refuses");

  fs::path dir = fs::absolute(opt.path).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();
  auto build = [&]() -> Expected<Version, std::string> {
    Version v;
    v.files = fingerprint(dir);
    CreateTorrentParams create;
    create.path = dir;
    create.piece_size = opt.piece_size;
    for (const auto& t : opt.trackers)
      create.trackers.push_back({t});
    create.version = opt.hybrid ? TorrentVersion::hybrid : TorrentVersion::v1;
    auto torrent = create_torrent(create);
    if (!torrent) return unexpected(torrent.error());
    auto info = parse_torrent(*torrent);
    if (!info) return unexpected(info.error());
    v.torrent = std::move(*torrent);
    v.info_hash = *Sha1Digest::from_hex(info->info_hash);
    return v;
  };
  auto first = build();
  if (!first) return fail(first.error());
  Version current = std::move(*first);

  TransferRequest request;
  request.command = "publish";
  AddTorrentParams params;
  if (auto err = apply_common_options(opt.common, request, params)) return fail(*err);
  params.save_path = dir.parent_path();
  params.seed_when_complete = true;

  const sigset_t stop_signals = block_stop_signals();  // before the session starts its thread

  std::optional<Session> session;
  try {
    session.emplace(request.settings);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  auto seed_version = [&](const Version& v) -> Expected<TorrentHandle, std::string> {
    AddTorrentParams p = params;
    p.torrent_bytes = v.torrent;
    return session->add_torrent(p);
  };
  auto handle = seed_version(current);
  if (!handle) return fail(handle.error());

  magnet::MagnetLink link;
  link.btpk = *key;
  link.salt = opt.salt;
  fmt::print("public-key: {}\n", key->to_hex());
  fmt::print("magnet: {}\n", magnet::to_uri(link));
  fmt::print("info-hash: {}\n", current.info_hash.to_hex());
  std::fflush(stdout);

  // First what the DHT holds (another copy of the key may have published since), then ours above it.
  auto asked = session->dht_get_mutable_item(key->to_hex(), opt.salt);
  if (!asked) return fail(asked.error());
  std::optional<std::int64_t> seq;
  std::optional<std::uint64_t> putting;
  auto next_put = SteadyClock::time_point::max();
  // Stores the current version's item under *seq; the same signed item again is what nodes that hold it take
  // as a refresh.
  auto put = [&]() -> std::optional<std::string> {
    auto sent =
        session->dht_put_mutable_item(*seed, opt.salt, dht::encode_feed_value(current.info_hash), *seq);
    if (!sent) return sent.error();
    putting = *sent;
    next_put = SteadyClock::time_point::max();
    return std::nullopt;
  };
  // A new sequence number for the current version: remembered before it is sent, so that a crash after the
  // put never publishes the same number for another torrent.
  auto publish_next = [&](std::optional<std::int64_t> in_dht) -> std::optional<std::string> {
    seq = dht::next_feed_seq(read_stored_seq(opt.key_file), in_dht ? in_dht : seq);
    if (auto saved = write_stored_seq(opt.key_file, *seq); !saved) return saved.error();
    return put();
  };

  const auto watch_every = std::chrono::seconds(opt.watch_seconds);
  auto next_watch = SteadyClock::now() + watch_every;
  std::optional<Fingerprint> changed;  // DIR as the last scan saw it, when it differs from `current`
  std::optional<Version> replacing;    // built, waiting for the previous torrent to leave the session
  std::string removing;                // that previous torrent's info-hash
  int exit_code = 0;
  for (;;) {
    timespec wait{0, 100'000'000};
    int sig = sigtimedwait(&stop_signals, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM) break;
    std::optional<std::string> error;
    for (auto& event : session->pop_events()) {
      if (auto* got = std::get_if<DhtMutableItemReceived>(&event); got && got->request == *asked) {
        error = publish_next(got->found ? std::optional<std::int64_t>(got->seq) : std::nullopt);
      } else if (auto* stored = std::get_if<DhtItemStored>(&event); stored && putting == stored->request) {
        putting.reset();
        fmt::print("published seq {} on {} of {} nodes\n", *seq, stored->stored_on, stored->sent);
        std::fflush(stdout);
        next_put = SteadyClock::now() +
                   (stored->stored_on > 0 ? std::chrono::minutes(opt.republish_minutes) : kRetryUnstored);
      } else if (auto* removed = std::get_if<TorrentRemoved>(&event);
                 removed && replacing && removed->info_hash == removing) {
        current = std::move(*replacing);
        replacing.reset();
        handle = seed_version(current);
        if (!handle) {
          error = handle.error();
        } else {
          fmt::print("info-hash: {}\n", current.info_hash.to_hex());
          error = publish_next(std::nullopt);
        }
      } else if (auto* failed = std::get_if<TorrentError>(&event)) {
        error = failed->message;
      } else if (auto* warning = std::get_if<SessionWarning>(&event)) {
        fmt::print(stderr, "{}\n", escape_for_terminal(warning->text));
      } else if (auto* line = std::get_if<LogLine>(&event); line && request.verbose) {
        fmt::print(stderr, "{}\n", escape_for_terminal(line->text));
      } else if (auto* done = std::get_if<TorrentFinished>(&event); done && !request.quiet) {
        fmt::print(stderr, "publish: seeding {}\n", escape_for_terminal(dir.string()));
      }
    }
    if (error) {
      fmt::print(stderr, "shoal publish: {}\n", escape_for_terminal(*error));
      exit_code = 1;
      break;
    }
    auto now = SteadyClock::now();
    if (!putting && seq && now >= next_put) {
      if (auto err = put()) return fail(*err);
    }
    // A change is taken once two scans in a row agree on it (a copy in progress is not published).
    if (opt.watch_seconds > 0 && seq && !putting && !replacing && now >= next_watch) {
      auto files = fingerprint(dir);
      if (files == current.files) {
        changed.reset();
      } else if (changed && *changed == files) {
        changed.reset();
        auto next = build();
        if (!next) {
          fmt::print(stderr, "shoal publish: {} (tried again at the next change)\n",
                     escape_for_terminal(next.error()));
          current.files = files;
        } else if (next->info_hash == current.info_hash) {
          current.files = std::move(next->files);  // touched, not changed
        } else {
          if (!request.quiet)
            fmt::print(stderr, "publish: {} changed, publishing it again\n",
                       escape_for_terminal(dir.string()));
          removing = handle->info_hash();
          replacing = std::move(*next);
          session->remove_torrent(*handle, RemoveMode::keep_data);
        }
      } else {
        changed = std::move(files);
      }
      next_watch = SteadyClock::now() + watch_every;
    }
  }
  session->shutdown();
  return exit_code;
}

}  // namespace

CommandRunner add_publish_command(CLI::App& app) {
  auto opt = std::make_shared<PublishOptions>();
  auto* cmd = app.add_subcommand(
      "publish",
      "Seed a folder as an updatable torrent (BEP 46): its info-hash signed into the DHT under a key");
  cmd->add_option("PATH", opt->path, "The folder (or file) to publish")->required()->check(CLI::ExistingPath);
  cmd->add_option("--key-file", opt->key_file,
                  "Ed25519 seed (32 raw bytes); created with mode 0600 if missing")
      ->required();
  cmd->add_option("--salt", opt->salt, "Salt: one key, many feeds (at most 64 bytes)");
  cmd->add_option("--piece-size", opt->piece_size, "Bytes per piece, a power of two (default: automatic)");
  cmd->add_option("-t,--tracker", opt->trackers, "Announce URL (repeatable, one tier each)");
  cmd->add_flag("--hybrid", opt->hybrid, "A v1 + v2 hybrid torrent (BEP 52); followers use its v1 info-hash");
  cmd->add_option("--republish-minutes", opt->republish_minutes,
                  "Store the item again this often (default 30; nodes forget it after two hours)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--watch-seconds", opt->watch_seconds,
                  "Look for changes in PATH this often; a settled change is published as the next version "
                  "(default 10; 0: only at the next start)")
      ->check(CLI::Range(0, 86400));
  add_common_transfer_options(*cmd, opt->common);
  return [opt] { return run_publish(*opt); };
}

}  // namespace shoal::cli
