#include "runtime/file_io.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>

namespace shoal::runtime {
namespace {

class FileIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("shoal-file-io-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(FileIoTest, WriteThenReadRoundTrips) {
  auto path = dir_ / "a.torrent";
  ASSERT_FALSE(write_file_atomically(path, std::string("d4:spam4:eggse")));
  auto data = read_file(path, 1024);
  ASSERT_TRUE(data);
  EXPECT_EQ(*data, "d4:spam4:eggse");
}

TEST_F(FileIoTest, WriteReplacesExistingAndLeavesNoTemporaries) {
  auto path = dir_ / "a";
  ASSERT_FALSE(write_file_atomically(path, "old"));
  ASSERT_FALSE(write_file_atomically(path, "new content"));
  EXPECT_EQ(*read_file(path, 1024), "new content");
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir_))
    ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(FileIoTest, ReadRefusesFilesOverTheCap) {
  auto path = dir_ / "big";
  ASSERT_FALSE(write_file_atomically(path, std::string(2048, 'x')));
  auto data = read_file(path, 1024);
  ASSERT_FALSE(data);
  EXPECT_EQ(data.error(), std::make_error_code(std::errc::file_too_large));
}

TEST_F(FileIoTest, ReadReportsMissingFileAndDirectory) {
  auto missing = read_file(dir_ / "missing", 1024);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), std::make_error_code(std::errc::no_such_file_or_directory));
  auto dir = read_file(dir_, 1024);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error(), std::make_error_code(std::errc::is_a_directory));
}

// A FIFO given as a .torrent (or planted as resume data) would block open() until a writer came.
TEST_F(FileIoTest, ReadRefusesAFifoWithoutBlocking) {
  auto path = dir_ / "planted";
  ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
  auto result = std::async(std::launch::async, [&] { return read_file(path, 1024); });
  if (result.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    ADD_FAILURE() << "read_file blocked on a FIFO";
    int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK);  // release it so the test ends
    result.wait();
    ::close(fd);
    return;
  }
  auto data = result.get();
  ASSERT_FALSE(data);
  EXPECT_EQ(data.error(), std::make_error_code(std::errc::invalid_argument));
}

TEST_F(FileIoTest, WriteIntoMissingDirectoryFails) {
  EXPECT_TRUE(write_file_atomically(dir_ / "no" / "such" / "dir" / "f", "x"));
}

}  // namespace
}  // namespace shoal::runtime
