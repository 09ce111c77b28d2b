// shoal create PATH: hashes a file or directory on all cores and writes a v1, v2 or hybrid .torrent.
#include <fmt/core.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "create/build_hashes.hpp"
#include "create/input_files.hpp"
#include "create/piece_hasher.hpp"
#include "hash/sha.hpp"
#include "metainfo/torrent_builder.hpp"
#include "metainfo/torrent_info.hpp"
#include "progress.hpp"
#include "runtime/file_io.hpp"
#include "shoal/terminal_text.hpp"
#include "shoal/version.hpp"

namespace shoal::cli {
namespace {

constexpr std::int64_t kMinPieceSize = 16 * 1024;
constexpr std::int64_t kMaxPieceSize = 256 * 1024 * 1024;

struct CreateOptions {
  std::string path;
  std::string output;
  std::vector<std::string> trackers;
  std::vector<std::string> web_seeds;
  std::string piece_size = "auto";
  bool is_private = false;
  std::string comment;
  std::string source;
  std::string date = "now";
  unsigned threads = 0;
  std::string read_method = "mmap";
  bool force = false;
  bool quiet = false;
  bool v2 = false;
  bool hybrid = false;
};

// "auto", "4194304", "4M", "256K", "4MiB" -> bytes; nullopt when malformed.
std::optional<std::int64_t> parse_size(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value <= 0) return std::nullopt;
  std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::int64_t scale = 1;
  if (suffix == "" || suffix == "B") {
    scale = 1;
  } else if (suffix == "K" || suffix == "k" || suffix == "KiB") {
    scale = 1024;
  } else if (suffix == "M" || suffix == "m" || suffix == "MiB") {
    scale = 1024 * 1024;
  } else {
    return std::nullopt;
  }
  if (value > kMaxPieceSize / scale) return std::nullopt;
  return value * scale;
}

bool is_power_of_two(std::int64_t v) {
  return v > 0 && (v & (v - 1)) == 0;
}

int run_create(const CreateOptions& opt) {
  auto fail = [](const std::string& message) {
    fmt::print(stderr, "shoal create: {}\n", escape_for_terminal(message));
    return 1;
  };

  std::optional<std::int64_t> creation_date;
  if (opt.date == "now") {
    creation_date = static_cast<std::int64_t>(std::time(nullptr));
  } else if (opt.date != "none") {
    std::int64_t pinned = 0;
    auto [end, ec] = std::from_chars(opt.date.data(), opt.date.data() + opt.date.size(), pinned);
    if (ec != std::errc() || end != opt.date.data() + opt.date.size() || pinned < 0) {
      return fail(fmt::format("--date must be 'now', 'none' or seconds since 1970, not '{}'", opt.date));
    }
    creation_date = pinned;
  }

  auto input = create::collect_input(opt.path);
  if (!input) return fail(input.error().message());
  auto version = opt.hybrid ? metainfo::MetaVersion::hybrid
                            : (opt.v2 ? metainfo::MetaVersion::v2 : metainfo::MetaVersion::v1);

  std::int64_t piece_length = 0;
  if (opt.piece_size == "auto") {
    piece_length = metainfo::auto_piece_length(input->total_size);
  } else {
    auto parsed = parse_size(opt.piece_size);
    if (!parsed || !is_power_of_two(*parsed) || *parsed < kMinPieceSize) {
      return fail(fmt::format("--piece-size must be 'auto' or a power of two from 16K to 256M, not '{}'",
                              opt.piece_size));
    }
    piece_length = *parsed;
  }

  std::filesystem::path output = opt.output.empty() ? std::filesystem::path(input->name + ".torrent")
                                                    : std::filesystem::path(opt.output);
  if (!opt.force && std::filesystem::exists(output)) {
    return fail(fmt::format("{} exists (use --force to overwrite)", output.string()));
  }

  ProgressBar bar("hashing", input->total_size);
  create::HashOptions hash_options;
  hash_options.threads = opt.threads;
  hash_options.method = opt.read_method == "mmap" ? create::ReadMethod::mmap : create::ReadMethod::pread;
  if (!opt.quiet) hash_options.progress = [&bar](std::int64_t done, std::int64_t) { bar.update(done); };
  metainfo::BuildInput build;
  auto start = std::chrono::steady_clock::now();
  if (auto hashed = create::hash_for_build(*input, piece_length, version, hash_options, build); !hashed) {
    return fail(hashed.error().message());
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!opt.quiet) bar.finish();

  for (const auto& t : opt.trackers)
    build.trackers.push_back({t});
  build.web_seeds = opt.web_seeds;
  build.is_private = opt.is_private;
  build.comment = opt.comment;
  build.source = opt.source;
  build.created_by = fmt::format("Shoal {}", shoal::version());
  build.creation_date = creation_date;
  std::string torrent = metainfo::build_torrent(build);

  if (auto ec = runtime::write_file_atomically(output, torrent)) {
    return fail(fmt::format("cannot write {}: {}", output.string(), ec.message()));
  }
  auto info = metainfo::parse_torrent(torrent);
  if (!info) return fail("internal error: created torrent does not parse: " + info.error().message());
  if (!opt.quiet) {
    bool v1 = info->version == metainfo::MetaVersion::v1;
    fmt::print("created {}{}\n", escape_for_terminal(output.string()),
               v1 ? std::string() : fmt::format(" ({})", metainfo::to_string(info->version)));
    if (info->has_v1()) fmt::print("  info-hash {}\n", info->info_hash.to_hex());
    if (info->info_hash_v2) fmt::print("  info-hash v2 {}\n", info->info_hash_v2->to_hex());
    fmt::print("  {} in {} file(s), {} pieces of {}, hashed in {:.2f} s ({})\n",
               format_bytes(input->total_size), input->files.size(), info->num_pieces(),
               format_bytes(piece_length), seconds,
               format_rate(seconds > 0 ? static_cast<double>(input->total_size) / seconds : 0));
  }
  return 0;
}

}  // namespace

CommandRunner add_create_command(CLI::App& app) {
  auto opt = std::make_shared<CreateOptions>();
  auto* cmd = app.add_subcommand("create", "Create a .torrent from a file or directory");
  cmd->add_option("path", opt->path, "File or directory to share")->required();
  cmd->add_option("-o,--output", opt->output, "Where to write the torrent (default: NAME.torrent)");
  cmd->add_option("-t,--tracker", opt->trackers, "Tracker announce URL (repeatable; each its own tier)");
  cmd->add_option("--piece-size", opt->piece_size, "Piece size: 'auto' or a power of two such as 256K or 4M");
  cmd->add_flag("--private", opt->is_private, "Mark the torrent private (BEP 27)");
  cmd->add_option("--web-seed", opt->web_seeds, "Web seed URL (BEP 19, repeatable)");
  cmd->add_option("--comment", opt->comment, "Comment");
  cmd->add_option("--source", opt->source, "Source tag inside the info dictionary (changes the info-hash)");
  cmd->add_option("--date", opt->date, "Creation date: 'now' (default), 'none', or seconds since 1970");
  cmd->add_option("--threads", opt->threads, "Hashing threads (default: all cores)");
  cmd->add_option("--read-method", opt->read_method,
                  "How files are read for hashing: mmap (default) or pread (benchmarking aid)")
      ->check(CLI::IsMember({"pread", "mmap"}))
      ->group("");
  cmd->add_flag("-f,--force", opt->force, "Overwrite the output file if it exists");
  cmd->add_flag("-q,--quiet", opt->quiet, "No progress or summary");
  auto* v2 =
      cmd->add_flag("--v2", opt->v2, "Write a v2-only torrent (BEP 52: SHA-256 merkle trees per file)");
  auto* hybrid =
      cmd->add_flag("--hybrid", opt->hybrid,
                    "Write a hybrid torrent: v1 and v2 in one, readable by clients of either kind");
  v2->excludes(hybrid);
  return [opt] { return run_create(*opt); };
}

}  // namespace shoal::cli
