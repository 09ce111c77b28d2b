// Storage over many small files through a file-handle pool far smaller than the file count: what is written
// reads back and rechecks, the pool never holds more than its bound, a file deleted while closed is noticed
// (not silently recreated), and durability is batched.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <thread>

#include "hash/sha.hpp"
#include "storage/file_pool.hpp"
#include "storage/piece_checker.hpp"
#include "storage/piece_storage.hpp"

namespace shoal::storage {
namespace {

namespace fs = std::filesystem;

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

class ManyFilesTest : public ::testing::Test {
 protected:
  static constexpr std::int64_t kPiece = 16384;
  static constexpr std::size_t kBound = 8;

  void SetUp() override {
    root_ = fs::temp_directory_path() / ("shoal-manyfiles-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    // 200 files of 0-6000 bytes in 10 folders (two levels), one of them empty.
    std::mt19937 rng(15);
    std::vector<FileSpec> files;
    for (int i = 0; i < 200; ++i) {
      std::int64_t length = i == 17 ? 0 : static_cast<std::int64_t>(rng() % 6000 + 1);
      files.push_back(
          {"t/d" + std::to_string(i % 5) + "/e" + std::to_string(i % 2) + "/f" + std::to_string(i), length});
    }
    layout_.emplace(files, kPiece);
    content_.resize(static_cast<std::size_t>(layout_->total_size()));
    for (auto& c : content_)
      c = static_cast<std::uint8_t>(rng());
    for (std::int64_t off = 0; off < layout_->total_size(); off += kPiece) {
      auto n = std::min(kPiece, layout_->total_size() - off);
      hashes_ += hash::sha1(std::span(reinterpret_cast<const std::byte*>(content_.data() + off),
                                      static_cast<std::size_t>(n)))
                     .raw();
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  std::span<const std::uint8_t> piece(std::int32_t p) const {
    auto off = static_cast<std::size_t>(p * kPiece);
    return std::span(content_).subspan(off, static_cast<std::size_t>(layout_->piece_size(PieceIndex{p})));
  }

  fs::path root_;
  std::optional<FileLayout> layout_;
  std::vector<std::uint8_t> content_;
  std::string hashes_;
};

TEST_F(ManyFilesTest, WritesReadsAndRechecksThroughATinyPool) {
  auto before = open_descriptors();
  FilePool pool(kBound);
  {
    PieceStorage storage(*layout_, root_, {}, {}, &pool);
    ASSERT_FALSE(storage.check_paths());
    EXPECT_FALSE(storage.any_file_exists());
    ASSERT_FALSE(storage.create_empty_files());
    // Pieces in a shuffled order from two threads, as the disk workers write them.
    std::vector<std::int32_t> order(static_cast<std::size_t>(layout_->num_pieces()));
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = static_cast<std::int32_t>(i);
    std::shuffle(order.begin(), order.end(), std::mt19937(3));
    std::atomic<std::size_t> next{0};
    std::atomic<int> errors{0};
    auto writer = [&] {
      for (auto i = next++; i < order.size(); i = next++) {
        if (storage.write_piece(PieceIndex{order[i]}, piece(order[i]))) ++errors;
      }
    };
    std::thread other(writer);
    writer();
    other.join();
    EXPECT_EQ(errors.load(), 0);
    // (Two writers may briefly hold more leases than the bound, a folder chain each: the pool is back within
    // it as soon as they are returned.)
    EXPECT_LE(pool.open_now(), kBound);
    EXPECT_LE(open_descriptors(), before + kBound);
    for (std::int32_t p = 0; p < layout_->num_pieces(); ++p) {
      std::vector<std::uint8_t> back(piece(p).size());
      ASSERT_FALSE(storage.read(PieceIndex{p}, 0, back)) << p;
      EXPECT_TRUE(std::equal(back.begin(), back.end(), piece(p).begin())) << p;
    }
    CheckOptions options;
    options.threads = 2;
    EXPECT_EQ(check_pieces(storage, hashes_, options).count(), layout_->num_pieces());
    EXPECT_LE(open_descriptors(), before + kBound);
    EXPECT_TRUE(fs::exists(root_ / "t/d2/e1/f17"));
    EXPECT_EQ(fs::file_size(root_ / "t/d2/e1/f17"), 0u);
    // Every file written is flushed by one sync(), and the stamps are what a full look would find.
    EXPECT_GT(storage.unsynced_files(), PieceStorage::kSyncEachUpTo);
    EXPECT_FALSE(storage.sync());
    EXPECT_EQ(storage.unsynced_files(), 0u);
    EXPECT_EQ(storage.file_stamps(), collect_file_stamps(root_, *layout_));
  }
  EXPECT_EQ(pool.open_now(), 0u);  // a storage gone closes everything it had open
  EXPECT_EQ(open_descriptors(), before);
  // A second storage over the same files (a restart): found, not recreated, and rechecked whole.
  PieceStorage again(*layout_, root_, {}, {}, &pool);
  ASSERT_FALSE(again.check_paths());
  EXPECT_TRUE(again.any_file_exists());
  EXPECT_EQ(again.file_stamps(), collect_file_stamps(root_, *layout_));
  EXPECT_EQ(check_pieces(again, hashes_, {}).count(), layout_->num_pieces());
  EXPECT_LE(pool.open_now(), kBound);
}

TEST_F(ManyFilesTest, AFileDeletedWhileClosedIsReportedNotRecreated) {
  FilePool pool(kBound);
  PieceStorage storage(*layout_, root_, {}, {}, &pool);
  ASSERT_FALSE(storage.check_paths());
  ASSERT_FALSE(storage.write_piece(PieceIndex{0}, piece(0)));
  // Enough other pieces to push piece 0's files out of the pool.
  for (std::int32_t p = 1; p < layout_->num_pieces(); ++p)
    ASSERT_FALSE(storage.write_piece(PieceIndex{p}, piece(p)));
  fs::remove(root_ / "t/d0/e0/f0");
  EXPECT_EQ(storage.write_piece(PieceIndex{0}, piece(0)), make_error_code(Errc::deleted));
  EXPECT_FALSE(fs::exists(root_ / "t/d0/e0/f0"));
  auto gone = storage.find_deleted_file();
  ASSERT_TRUE(gone);
  EXPECT_EQ(*gone, root_ / "t/d0/e0/f0");
}

TEST_F(ManyFilesTest, AFileDeletedWhileOpenIsFound) {
  FilePool pool(64);  // piece 0's files all stay open
  PieceStorage storage(*layout_, root_, {}, {}, &pool);
  ASSERT_FALSE(storage.write_piece(PieceIndex{0}, piece(0)));
  EXPECT_FALSE(storage.find_deleted_file());
  fs::remove(root_ / "t/d0/e0/f0");
  // f0 was written whole (it lies inside piece 0): it is looked at once it is used again, e.g. read for a
  // peer, which still succeeds on the open descriptor.
  EXPECT_FALSE(storage.find_deleted_file());
  std::vector<std::uint8_t> back(piece(0).size());
  EXPECT_FALSE(storage.read(PieceIndex{0}, 0, back));
  auto gone = storage.find_deleted_file();
  ASSERT_TRUE(gone);
  EXPECT_EQ(*gone, root_ / "t/d0/e0/f0");
}

TEST_F(ManyFilesTest, FewDirtyFilesAreSyncedOneByOneAndOnlyOnce) {
  FilePool pool(kBound);
  PieceStorage storage(*layout_, root_, {}, {}, &pool);
  ASSERT_FALSE(storage.write_piece(PieceIndex{0}, piece(0)));
  auto dirty = storage.unsynced_files();
  EXPECT_GT(dirty, 0u);
  EXPECT_LE(dirty, PieceStorage::kSyncEachUpTo);
  EXPECT_FALSE(storage.sync());
  EXPECT_EQ(storage.unsynced_files(), 0u);
  ASSERT_FALSE(storage.write_piece(PieceIndex{1}, piece(1)));
  EXPECT_GT(storage.unsynced_files(), 0u);
  EXPECT_FALSE(storage.sync());
  EXPECT_EQ(storage.unsynced_files(), 0u);
}

// A file open read-only (a peer is being served from it) is reopened read-write for a writer on the same
// descriptor number, so a reader holding the number goes on reading the same file.
class OneFileOpener final : public PoolOpener {
 public:
  explicit OneFileOpener(fs::path path) : path_(std::move(path)) {}
  int open(std::int32_t, bool writable, std::error_code& ec) override {
    ++opens;
    int fd = ::open(path_.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) ec = {errno, std::generic_category()};
    return fd;
  }
  int opens = 0;

 private:
  fs::path path_;
};

TEST_F(ManyFilesTest, UpgradeKeepsTheNumberReadersHold) {
  auto path = root_ / "one";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("abc", f);
    std::fclose(f);
  }
  FilePool pool(4);
  auto owner = pool.add_owner();
  OneFileOpener opener(path);
  std::error_code ec;
  Lease reader = pool.acquire({owner, 0}, false, opener, ec);
  ASSERT_TRUE(reader);
  EXPECT_EQ(::fcntl(reader.fd(), F_GETFL) & O_ACCMODE, O_RDONLY);
  Lease writer = pool.acquire({owner, 0}, true, opener, ec);
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer.fd(), reader.fd());
  EXPECT_EQ(::fcntl(reader.fd(), F_GETFL) & O_ACCMODE, O_RDWR);
  EXPECT_EQ(::pwrite(writer.fd(), "x", 1, 0), 1);
  char c = 0;
  EXPECT_EQ(::pread(reader.fd(), &c, 1, 0), 1);
  EXPECT_EQ(c, 'x');
  EXPECT_EQ(pool.open_now(), 1u);
  EXPECT_EQ(opener.opens, 2);
  writer.reset();
  reader.reset();
  pool.drop_owner(owner);
  EXPECT_EQ(pool.open_now(), 0u);
}

}  // namespace
}  // namespace shoal::storage
