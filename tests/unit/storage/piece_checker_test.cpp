#include "storage/piece_checker.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

#include <filesystem>
#include <fstream>
#include <random>

#include "hash/sha.hpp"

namespace shoal::storage {
namespace {

// The pieces a check found, one flag per piece, as the expectations are written.
std::vector<bool> flags(const swarm::Bitfield& have) {
  std::vector<bool> out(static_cast<std::size_t>(have.size()));
  for (PieceIndex p{0}; p.get() < have.size(); ++p)
    out[static_cast<std::size_t>(p.get())] = have.test(p);
  return out;
}

namespace fs = std::filesystem;

class PieceCheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("shoal-checker-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "t");
    // Two files; a piece spans the boundary, the last piece is short.
    std::mt19937 rng(7);
    content_.resize(5 * kPiece + 1234);
    for (auto& c : content_)
      c = static_cast<char>(rng());
    write("t/a", content_.substr(0, 2 * kPiece + 100));
    write("t/b", content_.substr(2 * kPiece + 100));
    for (std::size_t off = 0; off < content_.size(); off += kPiece) {
      hashes_ += hash::sha1(std::string_view(content_).substr(off, kPiece)).raw();
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& name, std::string_view bytes) {
    std::ofstream(root_ / name, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  FileLayout layout() const {
    return FileLayout(
        {{"t/a", 2 * kPiece + 100}, {"t/b", static_cast<std::int64_t>(content_.size()) - 2 * kPiece - 100}},
        kPiece);
  }

  static constexpr std::int64_t kPiece = 32768;
  fs::path root_;
  std::string content_;
  std::string hashes_;
};

TEST_F(PieceCheckerTest, IntactDataVerifiesEveryPieceOnSeveralThreads) {
  PieceStorage storage(layout(), root_);
  std::atomic<std::int64_t> progress{0};
  CheckOptions options;
  options.threads = 3;
  options.bytes_checked = &progress;
  auto have = check_pieces(storage, hashes_, options);
  EXPECT_EQ(flags(have), std::vector<bool>(6, true));
  EXPECT_EQ(progress.load(), static_cast<std::int64_t>(content_.size()));
}

TEST_F(PieceCheckerTest, CorruptShortAndMissingDataLeavePiecesUnverified) {
  std::string a = content_.substr(0, 2 * kPiece + 100);
  a[10] ^= 1;  // piece 0 corrupt
  write("t/a", a);
  fs::resize_file(root_ / "t/b", fs::file_size(root_ / "t/b") - 10);  // last piece short
  PieceStorage storage(layout(), root_);
  auto have = check_pieces(storage, hashes_, {});
  EXPECT_EQ(flags(have), (std::vector<bool>{false, true, true, true, true, false}));

  fs::remove(root_ / "t/b");  // pieces 2..5 touch b
  PieceStorage storage2(layout(), root_);
  have = check_pieces(storage2, hashes_, {});
  EXPECT_EQ(flags(have), (std::vector<bool>{false, true, false, false, false, false}));
}

TEST_F(PieceCheckerTest, UnwantedPiecesAreSkippedAndCancelStops) {
  PieceStorage storage(layout(), root_);
  CheckOptions options;
  options.wanted = [](PieceIndex piece) { return piece.get() % 2 == 0; };
  auto have = check_pieces(storage, hashes_, options);
  EXPECT_EQ(flags(have), (std::vector<bool>{true, false, true, false, true, false}));

  std::atomic<bool> cancel{true};
  CheckOptions cancelled;
  cancelled.cancel = &cancel;
  EXPECT_EQ(flags(check_pieces(storage, hashes_, cancelled)), std::vector<bool>(6, false));
}

// Pieces are hashed through mappings of wanted files; pad files and a skipped file's bytes in the parts file
// take the buffered path. Both kinds of slice inside one piece must hash as one.
TEST_F(PieceCheckerTest, PadFilesAndPartsFileSlicesHashWithMappedOnes) {
  // a (2 pieces + 100 bytes), a pad to the piece boundary, then b: piece 2 is a's tail and the pad.
  std::int64_t pad = kPiece - 100;
  std::string zeros(static_cast<std::size_t>(pad), '\0');
  std::string a = content_.substr(0, 2 * kPiece + 100);
  std::string b = content_.substr(2 * kPiece + 100);
  std::string whole = a + zeros + b;
  std::string hashes;
  for (std::size_t off = 0; off < whole.size(); off += kPiece)
    hashes += hash::sha1(std::string_view(whole).substr(off, kPiece)).raw();
  FileLayout padded({{"t/a", static_cast<std::int64_t>(a.size())},
                     {".pad/x", pad, true},
                     {"t/b", static_cast<std::int64_t>(b.size())}},
                    kPiece);
  PieceStorage storage(padded, root_);
  auto have = check_pieces(storage, hashes, {});
  EXPECT_EQ(flags(have), std::vector<bool>(static_cast<std::size_t>(have.size()), true));

  // b skipped: the edge piece that holds the end of a and the start of b keeps b's part in the parts file.
  fs::remove(root_ / "t/b");
  std::string edge = content_.substr(2 * kPiece, kPiece);
  PieceStorage skipping(layout(), root_, {true, false}, root_ / "parts");
  ASSERT_FALSE(skipping.write_piece(
      PieceIndex{2}, std::span(reinterpret_cast<const std::uint8_t*>(edge.data()), edge.size())));
  have = check_pieces(skipping, hashes_, {});
  EXPECT_EQ(flags(have), (std::vector<bool>{true, true, true, false, false, false}));
}

runtime::MappedReadOptions without_populate(int& calls) {
  runtime::MappedReadOptions options;
  options.madvise = [&calls](void*, std::size_t, int) {
    ++calls;
    errno = EINVAL;  // what Linux before 5.14 says to MADV_POPULATE_READ
    return -1;
  };
  return options;
}

// Every way visit_piece reads (mapped and faulted in, a kernel without MADV_POPULATE_READ, pread asked for)
// hashes the same bytes.
TEST_F(PieceCheckerTest, EveryReadPathVerifiesTheSamePieces) {
  int calls = 0;
  runtime::MappedReadOptions no_map;
  no_map.map = false;
  for (const auto& options : {runtime::MappedReadOptions{}, without_populate(calls), no_map}) {
    PieceStorage storage(layout(), root_);
    storage.set_read_options(options);
    CheckOptions check;
    check.threads = 2;
    EXPECT_EQ(flags(check_pieces(storage, hashes_, check)), std::vector<bool>(6, true));
  }
  // Both threads may ask before either has heard "unsupported"; after that, pread serves.
  EXPECT_GE(calls, 1);
  EXPECT_LE(calls, 2) << "a kernel that lacks the advice is asked at most once per thread";
}

// A torrent that says a file is longer than it is: unverified pieces, never a SIGBUS from reading a mapping
// past the end of its file, whichever way the bytes are read.
TEST_F(PieceCheckerTest, FileShorterThanTheTorrentSaysIsUnverifiedNotASigbus) {
  // b is 4 pages short: its last pieces lie wholly beyond its end, on pages the mapping cannot have.
  fs::resize_file(root_ / "t/b", fs::file_size(root_ / "t/b") - 4 * 4096 - 10);
  int calls = 0;
  runtime::MappedReadOptions no_map;
  no_map.map = false;
  for (const auto& options : {runtime::MappedReadOptions{}, without_populate(calls), no_map}) {
    PieceStorage storage(layout(), root_);
    storage.set_read_options(options);
    std::optional<FileError> error;
    CheckOptions check;
    check.error = &error;
    auto have = check_pieces(storage, hashes_, check);
    EXPECT_EQ(flags(have), (std::vector<bool>{true, true, true, true, false, false}));
    EXPECT_FALSE(error) << "a short file is missing data, not a refused file";
  }
}

// The file shrinks after its size was checked, on a kernel without MADV_POPULATE_READ: the pread fallback
// sees a short read where reading the mapping would have been a SIGBUS.
TEST_F(PieceCheckerTest, FileShrinkingBetweenTheSizeCheckAndTheReadIsAnError) {
  PieceStorage storage(layout(), root_);
  runtime::MappedReadOptions shrinking;
  auto b = root_ / "t/b";
  shrinking.madvise = [&](void*, std::size_t, int) {
    fs::resize_file(b, 100);
    errno = EINVAL;
    return -1;
  };
  storage.set_read_options(shrinking);
  FileIndex failed{-1};
  std::int64_t handed = 0;
  unsigned sum = 0;
  auto ec = storage.visit_piece(
      PieceIndex{4},
      [&](std::span<const std::uint8_t> bytes) {
        for (auto byte : bytes)
          sum += byte;  // every byte read, as the hasher would
        handed += static_cast<std::int64_t>(bytes.size());
      },
      &failed);
  EXPECT_EQ(ec, std::errc::no_message_available);
  EXPECT_EQ(failed, FileIndex{1});
  EXPECT_LT(handed, kPiece);
}

}  // namespace
}  // namespace shoal::storage
