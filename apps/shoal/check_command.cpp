// shoal check FILE.torrent DATA_DIR: verifies existing data against the torrent on all cores, without
// network.
#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "commands.hpp"
#include "metainfo/torrent_info.hpp"
#include "progress.hpp"
#include "runtime/file_io.hpp"
#include "shoal/terminal_text.hpp"
#include "storage/piece_checker.hpp"
#include "torrent_notes.hpp"

namespace shoal::cli {
namespace {

struct CheckCliOptions {
  std::string torrent;
  std::string data_dir;
  unsigned threads = 0;
  bool quiet = false;
};

int run_check(const CheckCliOptions& opt) {
  auto bytes = runtime::read_file(opt.torrent, 64 * 1024 * 1024);
  if (!bytes) {
    fmt::print(stderr, "shoal check: {}: {}\n", escape_for_terminal(opt.torrent), bytes.error().message());
    return 1;
  }
  auto info = metainfo::parse_torrent(*bytes);
  if (!info) {
    fmt::print(stderr, "shoal check: {}: {}\n", escape_for_terminal(opt.torrent),
               escape_for_terminal(info.error().message()));
    return 1;
  }
  // A hybrid is checked by its v1 half, a v2-only torrent by its merkle trees (storage::check_pieces).
  print_torrent_notes("shoal check", *info);
  std::error_code dir_error;
  if (!std::filesystem::is_directory(opt.data_dir, dir_error)) {
    fmt::print(stderr, "shoal check: {}: not a directory\n", escape_for_terminal(opt.data_dir));
    return 1;
  }
  std::vector<storage::FileSpec> specs;
  for (const auto& f : info->files)
    specs.push_back({f.path, f.length, f.pad});
  storage::PieceStorage storage(storage::FileLayout(std::move(specs), info->piece_length), opt.data_dir);
  if (auto refused = storage.check_paths()) {
    fmt::print(stderr, "shoal check: {}\n", escape_for_terminal(refused->message()));
    return 1;
  }

  std::atomic<std::int64_t> checked{0};
  std::atomic<bool> finished{false};
  std::thread progress_thread([&] {
    if (opt.quiet) return;
    ProgressBar bar("checking", info->total_size);
    while (!finished.load()) {
      bar.update(checked.load());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    bar.finish();
  });
  storage::CheckOptions options;
  options.threads = opt.threads;
  options.bytes_checked = &checked;
  std::optional<storage::FileError> check_error;
  options.error = &check_error;
  auto start = std::chrono::steady_clock::now();
  auto have = storage::check_pieces(storage, *info, options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  finished.store(true);
  progress_thread.join();
  if (check_error) {
    fmt::print(stderr, "shoal check: {}\n", escape_for_terminal(check_error->message()));
    return 1;
  }
  auto good = have.count();
  if (!opt.quiet) {
    fmt::print("{}: {} of {} pieces verified ({}), checked in {:.2f} s ({})\n",
               escape_for_terminal(info->name), good, have.size(), format_bytes(info->total_size), seconds,
               format_rate(seconds > 0 ? static_cast<double>(checked.load()) / seconds : 0));
  }
  return have.all() ? 0 : 2;
}

}  // namespace

CommandRunner add_check_command(CLI::App& app) {
  auto opt = std::make_shared<CheckCliOptions>();
  auto* cmd = app.add_subcommand("check",
                                 "Verify existing data against a torrent (exit 0 when complete, 2 when not)");
  cmd->add_option("torrent", opt->torrent, "The .torrent file")->required();
  cmd->add_option("data_dir", opt->data_dir, "Folder that holds the torrent's data")->required();
  cmd->add_option("--threads", opt->threads, "Hashing threads (default: all cores)");
  cmd->add_flag("-q,--quiet", opt->quiet, "No progress or summary");
  return [opt] { return run_check(*opt); };
}

}  // namespace shoal::cli
