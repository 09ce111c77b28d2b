#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "storage/file_layout.hpp"
#include "storage/piece_storage.hpp"
#include "storage/resume_data.hpp"

namespace shoal::storage {
namespace {

namespace fs = std::filesystem;

TEST(FileLayout, MapsPiecesAcrossFilesLikeABruteForceReference) {
  std::vector<FileSpec> files = {
      {"t/a", 5000}, {"t/empty", 0}, {"t/b", 3}, {"t/pad", 100, true}, {"t/c", 40000}};
  FileLayout layout(files, 16384);
  EXPECT_EQ(layout.total_size(), 45103);
  EXPECT_EQ(layout.num_pieces(), 3);
  EXPECT_EQ(layout.piece_size(PieceIndex{2}), 45103 - 2 * 16384);
  // Reference: byte by byte.
  std::vector<std::pair<std::int32_t, std::int64_t>> owner;
  for (std::size_t f = 0; f < files.size(); ++f) {
    for (std::int64_t i = 0; i < files[f].length; ++i)
      owner.emplace_back(static_cast<std::int32_t>(f), i);
  }
  for (std::int32_t p = 0; p < layout.num_pieces(); ++p) {
    std::vector<FileSlice> slices;
    layout.map_range(PieceIndex{p}, 0, layout.piece_size(PieceIndex{p}), slices);
    std::int64_t pos = p * 16384;
    for (const auto& s : slices) {
      EXPECT_GT(s.length, 0);
      EXPECT_EQ(owner[static_cast<std::size_t>(pos)].first, s.file.get());
      EXPECT_EQ(owner[static_cast<std::size_t>(pos)].second, s.file_offset);
      pos += s.length;
    }
    EXPECT_EQ(pos, p * 16384 + layout.piece_size(PieceIndex{p}));
  }
  EXPECT_EQ(layout.file_pieces(FileIndex{4}), (std::pair{PieceIndex{0}, PieceIndex{2}}));
}

class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("shoal-storage-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(StorageTest, WriteThenReadAcrossFiles) {
  FileLayout layout({{"t/a", 20000}, {"t/sub/b", 30000}, {"t/pad", 10, true}, {"t/c", 5}}, 16384);
  PieceStorage storage(layout, root_ / "dl");
  std::mt19937 rng(1);
  std::vector<std::vector<std::uint8_t>> pieces;
  for (std::int32_t p = 0; p < layout.num_pieces(); ++p) {
    std::vector<std::uint8_t> data(static_cast<std::size_t>(layout.piece_size(PieceIndex{p})));
    for (auto& b : data)
      b = static_cast<std::uint8_t>(rng());
    if (p == 3) std::fill(data.end() - 15, data.end() - 5, 0);  // the pad file's bytes are zeros
    ASSERT_FALSE(storage.write_piece(PieceIndex{p}, data));
    pieces.push_back(data);
  }
  for (std::int32_t p = 0; p < layout.num_pieces(); ++p) {
    std::vector<std::uint8_t> back(pieces[static_cast<std::size_t>(p)].size());
    ASSERT_FALSE(storage.read(PieceIndex{p}, 0, back));
    EXPECT_EQ(back, pieces[static_cast<std::size_t>(p)]);
  }
  EXPECT_EQ(fs::file_size(root_ / "dl/t/sub/b"), 30000u);
  EXPECT_FALSE(fs::exists(root_ / "dl/t/pad"));
}

// Blocks of an unfinished piece (resume data) land where the whole piece would, across files and into the
// parts file of a skipped file; the piece written whole later goes over them.
TEST_F(StorageTest, BlocksOfAnUnfinishedPieceLandWhereThePieceWould) {
  FileLayout layout({{"t/a", 20000}, {"t/skipped", 30000}, {"t/c", 40000}}, 32768);
  PieceStorage storage(layout, root_ / "dl", {true, false, true}, root_ / "parts");
  std::vector<std::uint8_t> piece(32768);
  for (std::size_t i = 0; i < piece.size(); ++i)
    piece[i] = static_cast<std::uint8_t>(i * 31 + 7);
  // Piece 0: a.bin's 20,000 bytes then 12,768 of the skipped file. Its second block only.
  auto second = std::span<const std::uint8_t>(piece).subspan(16384);
  ASSERT_FALSE(storage.write_blocks(PieceIndex{0}, 16384, second));
  std::vector<std::uint8_t> back(16384);
  ASSERT_FALSE(storage.read(PieceIndex{0}, 16384, back));
  EXPECT_TRUE(std::equal(back.begin(), back.end(), second.begin()));
  EXPECT_FALSE(fs::exists(root_ / "dl/t/skipped"));
  ASSERT_FALSE(storage.write_piece(PieceIndex{0}, piece));
  std::vector<std::uint8_t> whole(32768);
  ASSERT_FALSE(storage.read(PieceIndex{0}, 0, whole));
  EXPECT_EQ(whole, piece);
}

TEST_F(StorageTest, MissingFileIsAnErrorNotACrash) {
  FileLayout layout({{"x", 1000}}, 16384);
  PieceStorage storage(layout, root_);
  std::vector<std::uint8_t> out(1000);
  EXPECT_TRUE(storage.read(PieceIndex{0}, 0, out));
}

TEST_F(StorageTest, SymlinkPlantedInsideTheFolderIsRefused) {
  fs::create_directories(root_ / "dl/t");
  fs::create_directories(root_ / "outside");
  fs::create_directory_symlink(root_ / "outside", root_ / "dl/t/sub");
  std::ofstream(root_ / "outside/target") << "x";
  fs::create_symlink(root_ / "outside/target", root_ / "dl/t/file");
  FileLayout layout({{"t/sub/evil", 10}, {"t/file", 10}}, 16384);
  PieceStorage storage(layout, root_ / "dl");
  std::vector<std::uint8_t> data(20, 1);
  EXPECT_TRUE(storage.write_piece(PieceIndex{0}, data));
  EXPECT_FALSE(fs::exists(root_ / "outside/evil"));
  std::ifstream in(root_ / "outside/target");
  std::string content;
  in >> content;
  EXPECT_EQ(content, "x");
}

TEST_F(StorageTest, UnwantedFilesAreNotCreated) {
  FileLayout layout({{"t/a", 100}, {"t/b", 100}, {"t/empty", 0}}, 16384);
  PieceStorage storage(layout, root_, {true, false, true});
  std::vector<std::uint8_t> data(200, 3);
  ASSERT_FALSE(storage.write_piece(PieceIndex{0}, data));
  ASSERT_FALSE(storage.create_empty_files());
  EXPECT_TRUE(fs::exists(root_ / "t/a"));
  EXPECT_FALSE(fs::exists(root_ / "t/b"));
  EXPECT_TRUE(fs::exists(root_ / "t/empty"));
}

TEST_F(StorageTest, EdgePiecesOfSkippedFilesKeepTheirPartsInTheSideFile) {
  // a (wanted) 0..20000 | b (skipped) ..60000 | c (wanted) ..70000: pieces 1 and 3 are edges, 2 is inside b.
  FileLayout layout({{"t/a", 20000}, {"t/b", 40000}, {"t/c", 10000}}, 16384);
  auto parts = root_ / ".shoal" / "x.parts";
  PieceStorage storage(layout, root_ / "dl", {true, false, true}, parts);
  std::mt19937 rng(3);
  std::vector<std::vector<std::uint8_t>> pieces;
  for (std::int32_t p = 0; p < layout.num_pieces(); ++p) {
    std::vector<std::uint8_t> data(static_cast<std::size_t>(layout.piece_size(PieceIndex{p})));
    for (auto& b : data)
      b = static_cast<std::uint8_t>(rng());
    pieces.push_back(data);
  }
  for (std::int32_t p : {0, 1, 3, 4})
    ASSERT_FALSE(storage.write_piece(PieceIndex{p}, pieces[static_cast<std::size_t>(p)]));
  EXPECT_FALSE(fs::exists(root_ / "dl/t/b"));
  EXPECT_TRUE(fs::exists(parts));
  EXPECT_LE(fs::file_size(parts), 2u * 16384u);  // two slots at most, not b's 40000 bytes
  for (std::int32_t p : {0, 1, 3, 4}) {
    std::vector<std::uint8_t> back(pieces[static_cast<std::size_t>(p)].size());
    ASSERT_FALSE(storage.read(PieceIndex{p}, 0, back)) << p;
    EXPECT_EQ(back, pieces[static_cast<std::size_t>(p)]) << p;
    // A block from the middle of an edge piece, across the boundary.
    std::vector<std::uint8_t> block(4000);
    ASSERT_FALSE(storage.read(PieceIndex{p}, 1000,
                              std::span(block).first(std::min<std::size_t>(4000, back.size() - 1000))));
  }
  // A piece wholly inside the skipped file has nowhere to come from.
  std::vector<std::uint8_t> inside(16384);
  EXPECT_TRUE(storage.read(PieceIndex{2}, 0, inside));

  // Reopened later (a restart), the edge pieces read back the same.
  storage.close_all();
  PieceStorage again(layout, root_ / "dl", {true, false, true}, parts);
  std::vector<std::uint8_t> back(16384);
  ASSERT_FALSE(again.read(PieceIndex{3}, 0, back));
  EXPECT_EQ(back, pieces[3]);
}

TEST_F(StorageTest, DiskFullIsReported) {
  if (::getuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  fs::create_directories(root_ / "small");
  if (std::system(
          ("mount -t tmpfs -o size=256k tmpfs " + (root_ / "small").string() + " 2>/dev/null").c_str()) !=
      0) {
    GTEST_SKIP() << "cannot mount a tmpfs here";
  }
  {
    FileLayout layout({{"big", 1 << 20}}, 65536);
    PieceStorage storage(layout, root_ / "small");
    std::vector<std::uint8_t> data(65536, 7);
    std::error_code last;
    std::int32_t written = 0;
    for (std::int32_t p = 0; p < layout.num_pieces() && !last; ++p) {
      last = storage.write_piece(PieceIndex{p}, data);
      if (!last) ++written;
    }
    EXPECT_EQ(last, std::make_error_code(std::errc::no_space_on_device));
    ASSERT_GT(written, 0);
    std::vector<std::uint8_t> back(65536);
    EXPECT_FALSE(
        storage.read(PieceIndex{0}, 0, back));  // what was written before the disk filled still reads back
    EXPECT_EQ(back, data);
  }
  EXPECT_EQ(std::system(("umount " + (root_ / "small").string()).c_str()), 0);
}

TEST(ResumeData, RoundTripAndEveryCorruptionIsDetected) {
  ResumeData data;
  data.info_hash.bytes.fill(4);
  const std::uint8_t have_bits[] = {0xf0, 0x80};
  data.have = *swarm::Bitfield::from_wire(have_bits, 9);
  data.files = {{100, 123456789}, {-1, 0}};
  data.uploaded = 7;
  data.downloaded = 9;
  std::string bytes = encode_resume(data);
  auto back = decode_resume(bytes, data.info_hash, 9);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->have, data.have);
  EXPECT_EQ(back->files, data.files);
  EXPECT_EQ(back->uploaded, 7);
  EXPECT_FALSE(decode_resume(bytes, data.info_hash, 20));  // wrong piece count
  Sha1Digest other;
  other.bytes.fill(5);
  EXPECT_EQ(decode_resume(bytes, other, 9).error(), "for another torrent");
  EXPECT_FALSE(decode_resume(bytes.substr(0, bytes.size() - 3), data.info_hash, 9));
  for (std::size_t i = 0; i < bytes.size(); i += 7) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    EXPECT_FALSE(decode_resume(flipped, data.info_hash, 9)) << "flip at " << i;
  }
}

}  // namespace
}  // namespace shoal::storage
