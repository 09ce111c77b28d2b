// Hostile file types in a download folder: FIFOs, devices, sockets, directories and links where the torrent
// has a file are refused with an error naming the type, and never opened (open() of a FIFO blocks forever).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>

#include "hash/sha.hpp"
#include "storage/piece_checker.hpp"
#include "storage/piece_storage.hpp"

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
using namespace std::chrono_literals;

class FileTypeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("shoal-file-type-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "t");
  }
  void TearDown() override { fs::remove_all(root_); }

  // Runs f on another thread; a call that blocks (on a FIFO) is released by opening the FIFO's other end, so
  // the test fails instead of hanging.
  template <typename F>
  auto bounded(F f, const fs::path& fifo) {
    auto result = std::async(std::launch::async, f);
    if (result.wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "blocked on " << fifo;
      int fd = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK);
      auto value = result.get();
      if (fd >= 0) ::close(fd);
      return value;
    }
    return result.get();
  }

  fs::path root_;
};

TEST_F(FileTypeTest, FifoIsRefusedForReadingAndWritingWithoutBlocking) {
  ASSERT_EQ(::mkfifo((root_ / "t/a").c_str(), 0644), 0);
  FileLayout layout({{"t/a", 1000}}, 16384);
  PieceStorage storage(layout, root_);
  std::vector<std::uint8_t> out(1000);
  EXPECT_EQ(bounded([&] { return storage.read(PieceIndex{0}, 0, out); }, root_ / "t/a"),
            make_error_code(Errc::fifo));
  std::vector<std::uint8_t> data(1000, 7);
  EXPECT_EQ(bounded([&] { return storage.write_piece(PieceIndex{0}, data); }, root_ / "t/a"),
            make_error_code(Errc::fifo));
  FileIndex failed{-1};
  auto visited = bounded(
      [&] {
        return storage.visit_piece(
            PieceIndex{0}, [](auto) {}, &failed);
      },
      root_ / "t/a");
  EXPECT_EQ(visited, make_error_code(Errc::fifo));
  EXPECT_EQ(failed, FileIndex{0});
  EXPECT_TRUE(fs::is_fifo(root_ / "t/a"));  // left alone
}

TEST_F(FileTypeTest, DirectoryWhereAFileBelongsIsRefused) {
  fs::create_directories(root_ / "t/a");
  FileLayout layout({{"t/a", 1000}}, 16384);
  PieceStorage storage(layout, root_);
  std::vector<std::uint8_t> out(1000);
  EXPECT_EQ(storage.read(PieceIndex{0}, 0, out), make_error_code(Errc::directory));
  std::vector<std::uint8_t> data(1000, 7);
  EXPECT_EQ(storage.write_piece(PieceIndex{0}, data), make_error_code(Errc::directory));
}

TEST_F(FileTypeTest, SymlinkedFileAndFolderNameTheirKind) {
  std::ofstream(root_ / "target") << "x";
  fs::create_symlink(root_ / "target", root_ / "t/link");
  fs::create_directory_symlink(root_, root_ / "t/dirlink");
  std::ofstream(root_ / "t/plain") << "x";
  FileLayout layout({{"t/link", 10}, {"t/dirlink/x", 10}, {"t/plain/y", 10}}, 16384);
  PieceStorage storage(layout, root_);
  std::vector<std::uint8_t> out(10);
  EXPECT_EQ(storage.read(PieceIndex{0}, 0, out), make_error_code(Errc::symlink));
  EXPECT_EQ(storage.read(PieceIndex{0}, 10, out), make_error_code(Errc::symlink));
  EXPECT_EQ(storage.read(PieceIndex{0}, 20, out), make_error_code(Errc::not_a_directory));
}

// check_paths() is the up-front form: the first file that could never be used, named, before any I/O.
TEST_F(FileTypeTest, CheckPathsNamesTheFirstRefusedFile) {
  struct Case {
    const char* what;
    std::function<bool(const fs::path&)> plant;  // false: cannot be planted here (skip)
    std::error_code expected;
  };
  auto socket_at = [](const fs::path& p) {
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", p.c_str());
    bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(s);
    return ok;
  };
  std::vector<Case> cases = {
      {"nothing there yet", [](const fs::path&) { return true; }, {}},
      {"a regular file", [](const fs::path& p) { return static_cast<bool>(std::ofstream(p) << "x"); }, {}},
      {"a FIFO", [](const fs::path& p) { return ::mkfifo(p.c_str(), 0644) == 0; }, Errc::fifo},
      {"a device", [](const fs::path& p) { return ::mknod(p.c_str(), S_IFCHR | 0644, makedev(1, 3)) == 0; },
       Errc::device},
      {"a socket", socket_at, Errc::socket},
      {"a directory", [](const fs::path& p) { return fs::create_directory(p); }, Errc::directory},
      {"a link to a file outside",
       [&](const fs::path& p) {
         std::ofstream(root_ / "outside") << "x";
         fs::create_symlink(root_ / "outside", p);
         return true;
       },
       Errc::symlink},
  };
  for (const auto& c : cases) {
    fs::remove_all(root_ / "t");
    fs::create_directories(root_ / "t/sub");
    if (!c.plant(root_ / "t/sub/b")) {
      std::cout << "skipped: " << c.what << " cannot be planted here\n";
      continue;
    }
    FileLayout layout({{"t/a", 10}, {"t/sub/b", 10}}, 16384);
    PieceStorage storage(layout, root_);
    auto problem = storage.check_paths();
    if (!c.expected) {
      EXPECT_FALSE(problem) << c.what << ": " << problem->message();
      continue;
    }
    ASSERT_TRUE(problem) << c.what;
    EXPECT_EQ(problem->code, c.expected) << c.what;
    EXPECT_EQ(problem->path, root_ / "t/sub/b") << c.what;
    EXPECT_NE(problem->message().find("t/sub/b: "), std::string::npos) << problem->message();
  }
}

TEST_F(FileTypeTest, CheckPathsRefusesFoldersThatAreNotFoldersAndSkipsUnwantedFiles) {
  std::ofstream(root_ / "t/sub") << "a file where a folder is needed";
  FileLayout layout({{"t/sub/x", 10}, {"t/other", 10}}, 16384);
  auto problem = PieceStorage(layout, root_).check_paths();
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->code, make_error_code(Errc::not_a_directory));
  EXPECT_FALSE(PieceStorage(layout, root_, {false, true}).check_paths());  // never opened: not refused
  EXPECT_FALSE(PieceStorage(layout, root_ / "not-yet").check_paths());     // no download folder yet: fine
}

TEST_F(FileTypeTest, PathsLongerThanPathMaxAreRefused) {
  // 20 components of 250 bytes: each fits NAME_MAX, together they do not fit PATH_MAX.
  std::string deep = "t";
  for (int i = 0; i < 20; ++i)
    deep += "/" + std::string(250, static_cast<char>('a' + i));
  FileLayout layout({{"t/short", 10}, {deep, 10}}, 16384);
  PieceStorage storage(layout, root_);
  auto problem = storage.check_paths();
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->code, make_error_code(Errc::path_too_long));
  EXPECT_EQ(problem->path, root_ / deep);
  std::vector<std::uint8_t> data(20, 1);
  EXPECT_EQ(storage.write_piece(PieceIndex{0}, data), make_error_code(Errc::path_too_long));
}

// The recheck stops at a file that can never be read and names it; missing data is no such file.
TEST_F(FileTypeTest, CheckPiecesReportsARefusedFileAndNotMissingOnes) {
  std::string content(40000, 'x');
  std::ofstream(root_ / "t/a", std::ios::binary) << content.substr(0, 20000);
  ASSERT_EQ(::mkfifo((root_ / "t/b").c_str(), 0644), 0);
  std::string hashes;
  for (std::size_t off = 0; off < content.size(); off += 16384)
    hashes += hash::sha1(std::string_view(content).substr(off, 16384)).raw();
  FileLayout layout({{"t/a", 20000}, {"t/b", 20000}}, 16384);
  PieceStorage storage(layout, root_);
  std::optional<FileError> error;
  CheckOptions options;
  options.threads = 2;
  options.error = &error;
  auto have = bounded([&] { return check_pieces(storage, hashes, options); }, root_ / "t/b");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->path, root_ / "t/b");
  EXPECT_EQ(error->code, make_error_code(Errc::fifo));
  EXPECT_FALSE(have.test(PieceIndex{2}));

  fs::remove(root_ / "t/b");
  PieceStorage missing(layout, root_);
  have = check_pieces(missing, hashes, options);
  EXPECT_FALSE(error) << error->message();
  EXPECT_EQ(flags(have), (std::vector<bool>{true, false, false}));
}

}  // namespace
}  // namespace shoal::storage
