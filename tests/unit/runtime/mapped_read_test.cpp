#include "runtime/mapped_read.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

namespace shoal::runtime {
namespace {

namespace fs = std::filesystem;

class MappedReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / ("shoal-mapped-read-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    content_.resize(3 * 4096 + 100);
    for (std::size_t i = 0; i < content_.size(); ++i)
      content_[i] = static_cast<char>(i * 7);
    std::ofstream(path_, std::ios::binary)
        .write(content_.data(), static_cast<std::streamsize>(content_.size()));
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    ::close(fd_);
    fs::remove(path_);
  }
  static MadviseFn failing_with(int error) {
    return [error](void*, std::size_t, int) {
      errno = error;
      return -1;
    };
  }

  fs::path path_;
  std::string content_;
  int fd_ = -1;
};

TEST_F(MappedReadTest, PopulateSaysWhetherTheMappingMayBeRead) {
  // One page more than the file holds: the last page is beyond the end of the file.
  std::size_t length = 5 * 4096;
  void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd_, 0);
  ASSERT_NE(map, MAP_FAILED);
  struct Case {
    const char* what;
    std::size_t length;
    MadviseFn madvise;
    Populate expected;
  };
  const std::vector<Case> cases = {
      {"a range inside the file", 4 * 4096, {}, Populate::done},
      {"a range beyond the end of the file", 5 * 4096, {}, Populate::failed},
      {"a kernel without MADV_POPULATE_READ", 4096, failing_with(EINVAL), Populate::unsupported},
      {"pages that cannot be had", 4096, failing_with(EFAULT), Populate::failed},
      {"out of memory", 4096, failing_with(ENOMEM), Populate::failed},
  };
  for (const auto& c : cases) {
    MappedReadOptions options;
    options.madvise = c.madvise;
    EXPECT_EQ(populate_read(map, c.length, options), c.expected) << c.what;
  }
  ::munmap(map, length);
}

TEST_F(MappedReadTest, PreadRangeHandsOverTheBytesAndReportsAShortFile) {
  std::vector<std::uint8_t> buffer;
  std::string got;
  auto collect = [&](std::span<const std::uint8_t> bytes) { got.append(bytes.begin(), bytes.end()); };
  ASSERT_FALSE(pread_range(fd_, 100, 9000, buffer, collect));
  EXPECT_EQ(got, content_.substr(100, 9000));
  got.clear();
  auto size = static_cast<std::int64_t>(content_.size());
  EXPECT_EQ(pread_range(fd_, size - 10, 20, buffer, collect), std::errc::no_message_available);
  EXPECT_EQ(got, content_.substr(content_.size() - 10));  // what there was, then the error
}

}  // namespace
}  // namespace shoal::runtime
