// shoal dht-put and shoal dht-get: store and fetch BEP 44 items (immutable, or mutable under an Ed25519 key)
// through a short-lived, read-only DHT node that joins through --dht-bootstrap or else the public routers.
#include <fmt/core.h>

#include <memory>

#include "bencode/decoder.hpp"
#include "commands.hpp"
#include "dht/item.hpp"
#include "dht_one_shot.hpp"
#include "key_file.hpp"
#include "net/dht_service.hpp"
#include "runtime/file_io.hpp"
#include "shoal/terminal_text.hpp"

namespace shoal::cli {
namespace {

namespace asio = boost::asio;

struct PutOptions {
  OneShotDhtOptions common;
  bool is_mutable = false;
  std::string key_file;
  std::string salt;
  std::optional<std::int64_t> seq;
  std::string value;
};

int run_put(const PutOptions& opt) {
  std::string value = dht::bencoded_string(opt.value);
  if (value.size() > dht::kMaxItemValue) {
    fmt::print(stderr, "shoal dht-put: the value takes {} bytes bencoded; at most {} fit\n", value.size(),
               dht::kMaxItemValue);
    return 1;
  }
  std::optional<dht::KeySeed> seed;
  if (opt.is_mutable) {
    if (opt.key_file.empty()) {
      fmt::print(stderr, "shoal dht-put: --mutable needs --key-file FILE\n");
      return 1;
    }
    if (opt.salt.size() > dht::kMaxItemSalt) {
      fmt::print(stderr, "shoal dht-put: the salt is {} bytes; at most {}\n", opt.salt.size(),
                 dht::kMaxItemSalt);
      return 1;
    }
    auto loaded = load_or_create_key_seed(opt.key_file);
    if (!loaded) {
      fmt::print(stderr, "shoal dht-put: {}\n", loaded.error());
      return 1;
    }
    seed = *dht::KeySeed::from_raw(*loaded);
  } else if (!opt.salt.empty() || opt.seq || !opt.key_file.empty()) {
    fmt::print(stderr, "shoal dht-put: --salt, --seq and --key-file go with --mutable\n");
    return 1;
  }
  return run_on_one_shot_dht("dht-put", opt.common, [&](net::DhtService& dht) -> asio::awaitable<int> {
    dht::Item item;
    if (seed) {
      auto key = *dht::public_key_of(*seed);
      std::int64_t seq = 1;
      if (opt.seq) {
        seq = *opt.seq;
      } else {
        // One more than the newest version out there, so that nodes holding it take ours.
        auto current =
            co_await dht.get_item(dht::mutable_target(key, opt.salt), key, opt.salt, opt.common.join_wait());
        if (current.item) seq = current.item->mutable_info->seq + 1;
      }
      auto made = dht::make_mutable_item(*seed, value, opt.salt, seq);
      if (!made) {
        fmt::print(stderr, "shoal dht-put: {}\n", dht::to_string(made.error()));
        co_return 1;
      }
      item = std::move(*made);
    } else {
      item = *dht::make_immutable_item(value);
    }
    auto result = co_await dht.put_item(item, opt.common.join_wait());
    fmt::print("target: {}\n", item.target().to_hex());
    if (item.mutable_info) {
      fmt::print("public-key: {}\n", item.mutable_info->key.to_hex());
      fmt::print("seq: {}\n", item.mutable_info->seq);
    }
    fmt::print("stored on: {} of {} nodes ({} queries)\n", result.acknowledged, result.sent, result.queries);
    co_return result.acknowledged > 0 ? 0 : kDhtNothingFound;
  });
}

struct GetOptions {
  OneShotDhtOptions common;
  std::string target;
  std::string key;
  std::string salt;
};

// A value that is a bencoded string prints as that string; anything else as its bencoding. Either way
// escaped: whoever stored the item chose its bytes.
std::string printable(const std::string& value) {
  auto doc = bencode::decode(value);
  if (doc && doc->root().is_string()) return escape_for_terminal(doc->root().as_string());
  return escape_for_terminal(value);
}

int run_get(const GetOptions& opt) {
  if (opt.target.empty() == opt.key.empty()) {
    fmt::print(stderr,
               "shoal dht-get: give either TARGET (40 hex digits) or --key PUBLIC_KEY (64 hex digits)\n");
    return 1;
  }
  std::optional<dht::PublicKey> key;
  dht::NodeId target;
  if (!opt.key.empty()) {
    key = dht::PublicKey::from_hex(opt.key);
    if (!key) {
      fmt::print(stderr, "shoal dht-get: --key must be 64 hex digits\n");
      return 1;
    }
    target = dht::mutable_target(*key, opt.salt);
  } else {
    auto parsed = dht::NodeId::from_hex(opt.target);
    if (!parsed) {
      fmt::print(stderr, "shoal dht-get: TARGET must be 40 hex digits\n");
      return 1;
    }
    target = *parsed;
  }
  return run_on_one_shot_dht("dht-get", opt.common, [&](net::DhtService& dht) -> asio::awaitable<int> {
    auto result = co_await dht.get_item(target, key, opt.salt, opt.common.join_wait());
    if (!result.item) {
      fmt::print(stderr, "shoal dht-get: not found ({} queries)\n", result.queries);
      co_return kDhtNothingFound;
    }
    fmt::print("value: {}\n", printable(result.item->value));
    if (result.item->mutable_info) {
      fmt::print("seq: {}\n", result.item->mutable_info->seq);
      fmt::print("public-key: {}\n", result.item->mutable_info->key.to_hex());
    }
    fmt::print("target: {}\n", target.to_hex());
    co_return 0;
  });
}

}  // namespace

CommandRunner add_dht_put_command(CLI::App& app) {
  auto opt = std::make_shared<PutOptions>();
  auto* cmd =
      app.add_subcommand("dht-put", "Store a string in the DHT (BEP 44), immutable or signed and mutable");
  add_one_shot_dht_options(*cmd, opt->common);
  cmd->add_flag("--mutable", opt->is_mutable, "Store a mutable item signed with the key in --key-file");
  cmd->add_option("--key-file", opt->key_file,
                  "Ed25519 seed (32 raw bytes); created with mode 0600 if missing");
  cmd->add_option("--salt", opt->salt, "Salt: one key, many items (mutable only, at most 64 bytes)");
  cmd->add_option("--seq", opt->seq, "Sequence number (default: one more than the DHT holds, or 1)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("VALUE", opt->value, "The string to store")->required();
  return [opt] { return run_put(*opt); };
}

CommandRunner add_dht_get_command(CLI::App& app) {
  auto opt = std::make_shared<GetOptions>();
  auto* cmd = app.add_subcommand("dht-get", "Fetch an item from the DHT (BEP 44) by target or by public key");
  add_one_shot_dht_options(*cmd, opt->common);
  cmd->add_option("TARGET", opt->target, "Target of an immutable item (40 hex digits)");
  cmd->add_option("--key", opt->key, "Public key of a mutable item (64 hex digits)");
  cmd->add_option("--salt", opt->salt, "Salt the mutable item was stored under");
  return [opt] { return run_get(*opt); };
}

}  // namespace shoal::cli
