#include "create/piece_hasher.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>

#include "create/input_files.hpp"
#include "hash/merkle.hpp"
#include "hash/sha.hpp"

namespace shoal::create {
namespace {

namespace fs = std::filesystem;

class CreateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("shoal-create-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string write(const std::string& relative, std::size_t size, unsigned seed) {
    fs::path p = root_ / relative;
    fs::create_directories(p.parent_path());
    std::string data(size, '\0');
    std::mt19937 rng(seed);
    for (auto& c : data)
      c = static_cast<char>(rng());
    std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
    return data;
  }

  // Reference: hash the concatenated stream piece by piece.
  static std::string reference(const std::string& stream, std::int64_t piece_length) {
    std::string out;
    for (std::size_t off = 0; off < stream.size(); off += static_cast<std::size_t>(piece_length)) {
      out += hash::sha1(std::string_view(stream).substr(off, static_cast<std::size_t>(piece_length))).raw();
    }
    return out;
  }

  fs::path root_;
};

TEST_F(CreateTest, CollectsSortedRelativePathsSkippingLinksAndEmptyDirs) {
  write("tree/b/z.bin", 10, 1);
  write("tree/a.bin", 10, 2);
  write("tree/.hidden", 5, 3);
  write("tree/B.bin", 1, 4);
  fs::create_directories(root_ / "tree/emptydir");
  write("outside.bin", 10, 5);
  fs::create_symlink(root_ / "outside.bin", root_ / "tree/link.bin");
  fs::create_directory_symlink(root_, root_ / "tree/loop");
  auto set = collect_input(root_ / "tree");
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(set->name, "tree");
  EXPECT_FALSE(set->single_file);
  std::vector<std::string> names;
  for (const auto& f : set->files)
    names.push_back(f.relative);
  EXPECT_EQ(names, (std::vector<std::string>{".hidden", "B.bin", "a.bin", "b/z.bin"}));
  EXPECT_EQ(set->total_size, 26);
}

TEST_F(CreateTest, SingleFileAndTrailingSlash) {
  write("one.bin", 100, 1);
  auto set = collect_input(root_ / "one.bin");
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->single_file);
  EXPECT_EQ(set->name, "one.bin");
  write("dir/x", 3, 1);
  auto dir = collect_input((root_ / "dir").string() + "/");
  ASSERT_TRUE(dir) << dir.error().message();
  EXPECT_EQ(dir->name, "dir");
}

TEST_F(CreateTest, CollectErrors) {
  auto missing = collect_input(root_ / "missing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  fs::create_directories(root_ / "empty/sub");
  auto empty = collect_input(root_ / "empty");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Errc::empty);
  write("zero/z", 0, 1);
  EXPECT_EQ(collect_input(root_ / "zero").error().code, Errc::empty);
}

TEST_F(CreateTest, PiecesSpanningManyFilesMatchReference) {
  std::string stream;
  stream += write("t/a", 5000, 1);
  stream += write("t/b", 0, 2);
  stream += write("t/c", 3, 3);
  stream += write("t/d", 40000, 4);
  stream += write("t/e", 16384, 5);
  auto set = collect_input(root_ / "t");
  ASSERT_TRUE(set);
  for (auto method : {ReadMethod::mmap, ReadMethod::pread}) {
    for (unsigned threads : {1u, 4u}) {
      for (std::int64_t piece : {16384, 32768, 1 << 20}) {
        HashOptions opt;
        opt.threads = threads;
        opt.method = method;
        auto hashes = hash_pieces(*set, piece, opt);
        ASSERT_TRUE(hashes) << hashes.error().message();
        EXPECT_EQ(*hashes, reference(stream, piece)) << threads << " threads, piece " << piece;
      }
    }
  }
}

TEST_F(CreateTest, ProgressReachesTotal) {
  write("p.bin", 300000, 9);
  auto set = collect_input(root_ / "p.bin");
  std::int64_t last = 0;
  HashOptions opt;
  opt.progress = [&](std::int64_t done, std::int64_t total) {
    EXPECT_LE(done, total);
    EXPECT_GE(done, last);
    last = done;
  };
  ASSERT_TRUE(hash_pieces(*set, 16384, opt));
  EXPECT_EQ(last, 300000);
}

TEST_F(CreateTest, CancelStopsWithAnError) {
  write("c.bin", 1 << 20, 9);
  auto set = collect_input(root_ / "c.bin");
  std::atomic<bool> cancel{true};
  HashOptions opt;
  opt.cancel = &cancel;
  auto r = hash_pieces(*set, 16384, opt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::cancelled);
}

TEST_F(CreateTest, FileTruncatedAfterCollectIsReportedNotCrashed) {
  write("t.bin", 200000, 9);
  auto set = collect_input(root_ / "t.bin");
  ASSERT_TRUE(set);
  fs::resize_file(root_ / "t.bin", 1000);
  for (auto method : {ReadMethod::mmap, ReadMethod::pread}) {
    HashOptions opt;
    opt.method = method;
    auto r = hash_pieces(*set, 16384, opt);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::file_changed);
  }
  fs::remove(root_ / "t.bin");
  auto gone = hash_pieces(*set, 16384);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::io_error);
}

// A kernel without MADV_POPULATE_READ (EINVAL before Linux 5.14): the mapping is never read unguarded; the
// bytes come through pread and hash the same.
TEST_F(CreateTest, KernelWithoutPopulateFallsBackToPread) {
  std::string stream = write("d/a", 70000, 1) + write("d/b", 12345, 2);
  auto set = collect_input(root_ / "d");
  ASSERT_TRUE(set);
  std::atomic<int> calls{0};
  HashOptions opt;
  opt.threads = 2;
  opt.madvise = [&calls](void*, std::size_t, int) {
    ++calls;
    errno = EINVAL;
    return -1;
  };
  auto r = hash_pieces(*set, 16384, opt);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, reference(stream, 16384));
  EXPECT_GE(calls.load(), 1);
  EXPECT_LE(calls.load(), 2) << "each thread asks at most once before the first answer is known";
}

// The file shrinks after its size was checked at open, on such a kernel: an error, not a SIGBUS from reading
// the mapping past the end of the file.
TEST_F(CreateTest, FileShrinkingWithoutPopulateIsAnErrorNotASigbus) {
  write("t.bin", 200000, 9);
  auto set = collect_input(root_ / "t.bin");
  ASSERT_TRUE(set);
  HashOptions opt;
  opt.threads = 1;
  auto path = root_ / "t.bin";
  opt.madvise = [&path](void*, std::size_t, int) {
    fs::resize_file(path, 1000);
    errno = EINVAL;
    return -1;
  };
  auto r = hash_pieces(*set, 16384, opt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::file_changed);
}

// Reference for v2: each file's leaves hashed by hand into a tree; for a hybrid, SHA-1 of the stream where
// every file starts on a piece boundary and zeros fill the gaps (after the last file too, in a folder).
struct V2Reference {
  std::vector<std::optional<Sha256Digest>> roots;
  std::vector<std::string> layers;
  std::string sha1_pieces;
};

V2Reference v2_reference(const std::vector<std::string>& files, std::int64_t piece, bool folder) {
  V2Reference ref;
  std::string stream;
  for (const auto& data : files) {
    std::vector<Sha256Digest> leaves;
    for (std::size_t off = 0; off < data.size(); off += hash::kMerkleBlockSize)
      leaves.push_back(hash::sha256(std::string_view(data).substr(off, hash::kMerkleBlockSize)));
    if (leaves.empty()) {
      ref.roots.emplace_back();
      ref.layers.emplace_back();
    } else {
      auto h = hash::merkle_file_hashes(leaves, piece / hash::kMerkleBlockSize);
      ref.roots.emplace_back(h.root);
      ref.layers.push_back(hash::merkle_concat(h.piece_layer));
    }
    stream += data;
    if (folder && data.size() % static_cast<std::size_t>(piece) != 0)
      stream.append(static_cast<std::size_t>(piece) - data.size() % static_cast<std::size_t>(piece), '\0');
  }
  for (std::size_t off = 0; off < stream.size(); off += static_cast<std::size_t>(piece))
    ref.sha1_pieces +=
        hash::sha1(std::string_view(stream).substr(off, static_cast<std::size_t>(piece))).raw();
  return ref;
}

TEST_F(CreateTest, V2AndHybridHashesMatchReference) {
  std::vector<std::string> files{write("t/a", 70001, 1), write("t/b", 0, 2), write("t/c", 3, 3),
                                 write("t/d", 65536, 4), write("t/e", 16385, 5)};
  auto set = collect_input(root_ / "t");
  ASSERT_TRUE(set);
  for (auto method : {ReadMethod::mmap, ReadMethod::pread}) {
    for (unsigned threads : {1u, 3u}) {
      for (std::int64_t piece : {16384, 32768, 1 << 20}) {
        auto ref = v2_reference(files, piece, true);
        for (bool with_v1 : {false, true}) {
          HashOptions opt;
          opt.threads = threads;
          opt.method = method;
          auto r = hash_pieces_v2(*set, piece, with_v1, opt);
          ASSERT_TRUE(r) << r.error().message();
          EXPECT_EQ(r->pieces_roots, ref.roots) << threads << " threads, piece " << piece;
          EXPECT_EQ(r->piece_layers, ref.layers) << threads << " threads, piece " << piece;
          EXPECT_EQ(r->piece_hashes, with_v1 ? ref.sha1_pieces : std::string()) << piece;
        }
      }
    }
  }
}

TEST_F(CreateTest, HybridSingleFileHasNoPad) {
  std::string data = write("s.bin", 50000, 7);
  auto set = collect_input(root_ / "s.bin");
  ASSERT_TRUE(set);
  auto r = hash_pieces_v2(*set, 32768, true);
  ASSERT_TRUE(r) << r.error().message();
  auto ref = v2_reference({data}, 32768, false);
  EXPECT_EQ(r->piece_hashes, ref.sha1_pieces);
  EXPECT_EQ(r->pieces_roots, ref.roots);
  EXPECT_FALSE(hash_pieces_v2(*set, 24576, true));  // not a power of two
  EXPECT_FALSE(hash_pieces_v2(*set, 8192, true));   // below one merkle block
}

TEST_F(CreateTest, V2FileTruncatedAfterCollectIsReported) {
  write("t.bin", 200000, 9);
  auto set = collect_input(root_ / "t.bin");
  ASSERT_TRUE(set);
  fs::resize_file(root_ / "t.bin", 1000);
  auto r = hash_pieces_v2(*set, 16384, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::file_changed);
}

TEST(FileTreeOrder, SortsComponentByComponent) {
  InputSet set;
  for (const char* p : {"a.txt", "a/x", "a/b/c", "a-b", "B", "a/b.c"})
    set.files.push_back(InputFile{{}, p, 1});
  std::sort(set.files.begin(), set.files.end(),
            [](const InputFile& a, const InputFile& b) { return a.relative < b.relative; });
  sort_for_file_tree(set);
  std::vector<std::string> order;
  for (const auto& f : set.files)
    order.push_back(f.relative);
  EXPECT_EQ(order, (std::vector<std::string>{"B", "a/b/c", "a/b.c", "a/x", "a-b", "a.txt"}));
}

}  // namespace
}  // namespace shoal::create
