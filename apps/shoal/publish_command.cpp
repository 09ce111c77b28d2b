// shoal publish DIR --key-file K [--salt S]: an updatable torrent (BEP 46). Builds the torrent of DIR, stores
// the signed mutable item {"ih": <info-hash>} under the key (sequence number above both the DHT's and the
// last one stored, remembered in K.seq), seeds DIR and stores the item again periodically, since nodes forget
// items (BEP 44). Followers use the printed magnet:?xs=urn:btpk link. A changed DIR is published again at the
// next start (hashing the folder is the cost; a running publisher does not watch it).
#include <fmt/core.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <optional>

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
  CommonTransferOptions common;
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

  std::filesystem::path dir = std::filesystem::absolute(opt.path).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();
  CreateTorrentParams create;
  create.path = dir;
  create.piece_size = opt.piece_size;
  for (const auto& t : opt.trackers)
    create.trackers.push_back({t});
  create.version = opt.hybrid ? TorrentVersion::hybrid : TorrentVersion::v1;
  auto torrent = create_torrent(create);
  if (!torrent) return fail(torrent.error());
  auto info = parse_torrent(*torrent);
  if (!info) return fail(info.error());
  auto info_hash = *Sha1Digest::from_hex(info->info_hash);
  const std::string value = dht::encode_feed_value(info_hash);

  TransferRequest request;
  request.command = "publish";
  AddTorrentParams params;
  if (auto err = apply_common_options(opt.common, request, params)) return fail(*err);
  params.torrent_bytes = *torrent;
  params.save_path = dir.parent_path();
  params.seed_when_complete = true;

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::optional<Session> session;
  try {
    session.emplace(request.settings);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  auto handle = session->add_torrent(params);
  if (!handle) return fail(handle.error());

  magnet::MagnetLink link;
  link.btpk = *key;
  link.salt = opt.salt;
  fmt::print("info-hash: {}\n", info->info_hash);
  fmt::print("public-key: {}\n", key->to_hex());
  fmt::print("magnet: {}\n", magnet::to_uri(link));
  std::fflush(stdout);

  // First what the DHT holds (another copy of the key may have published since), then ours above it.
  auto asked = session->dht_get_mutable_item(key->to_hex(), opt.salt);
  if (!asked) return fail(asked.error());
  std::optional<std::int64_t> seq;
  std::optional<std::uint64_t> putting;
  auto next_put = SteadyClock::time_point::max();
  auto put = [&]() -> std::optional<std::string> {
    auto sent = session->dht_put_mutable_item(*seed, opt.salt, value, *seq);
    if (!sent) return sent.error();
    putting = *sent;
    next_put = SteadyClock::time_point::max();
    return std::nullopt;
  };

  int exit_code = 0;
  for (;;) {
    timespec wait{0, 100'000'000};
    int sig = sigtimedwait(&stop_signals, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM) break;
    bool failed = false;
    for (auto& event : session->pop_events()) {
      if (auto* got = std::get_if<DhtMutableItemReceived>(&event); got && got->request == *asked) {
        std::optional<std::int64_t> in_dht;
        if (got->found) in_dht = got->seq;
        seq = dht::next_feed_seq(read_stored_seq(opt.key_file), in_dht);
        // Remembered before it is sent: a crash after the put must not publish this number again.
        if (auto saved = write_stored_seq(opt.key_file, *seq); !saved) return fail(saved.error());
        if (auto err = put()) return fail(*err);
      } else if (auto* stored = std::get_if<DhtItemStored>(&event); stored && putting == stored->request) {
        putting.reset();
        fmt::print("published seq {} on {} of {} nodes\n", *seq, stored->stored_on, stored->sent);
        std::fflush(stdout);
        next_put = SteadyClock::now() +
                   (stored->stored_on > 0 ? std::chrono::minutes(opt.republish_minutes) : kRetryUnstored);
      } else if (auto* error = std::get_if<TorrentError>(&event)) {
        fmt::print(stderr, "shoal publish: {}\n", escape_for_terminal(error->message));
        failed = true;
      } else if (auto* warning = std::get_if<SessionWarning>(&event)) {
        fmt::print(stderr, "{}\n", escape_for_terminal(warning->text));
      } else if (auto* line = std::get_if<LogLine>(&event); line && request.verbose) {
        fmt::print(stderr, "{}\n", escape_for_terminal(line->text));
      } else if (auto* done = std::get_if<TorrentFinished>(&event); done && !request.quiet) {
        fmt::print(stderr, "publish: seeding {}\n", escape_for_terminal(dir.string()));
      }
    }
    if (failed) {
      exit_code = 1;
      break;
    }
    // Items expire on the nodes (two hours after the last put here, as in libtorrent): the same signed item
    // again, which nodes holding it take as a refresh.
    if (!putting && seq && SteadyClock::now() >= next_put) {
      if (auto err = put()) return fail(*err);
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
  add_common_transfer_options(*cmd, opt->common);
  return [opt] { return run_publish(*opt); };
}

}  // namespace shoal::cli
