#include "webseed/http_range.hpp"

#include <gtest/gtest.h>

namespace shoal::webseed {
namespace {

TEST(ContentRange, WithTotal) {
  auto r = parse_content_range("bytes 100-199/1000");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 100);
  EXPECT_EQ(r->last, 199);
  EXPECT_EQ(r->total, 1000);
}

TEST(ContentRange, UnknownTotalAndCaseInsensitiveUnit) {
  auto r = parse_content_range(" Bytes 0-0/* ");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 0);
  EXPECT_EQ(r->last, 0);
  EXPECT_FALSE(r->total);
}

TEST(ContentRange, Malformed) {
  for (const char* bad :
       {"", "bytes", "bytes 1-2", "bytes */1000", "items 0-1/2", "bytes 5-4/10", "bytes -1-4/10",
        "bytes 0-9/9", "bytes 0-9/5", "bytes 0x1-2/10", "bytes 1 -2/10",
        "bytes 0-99999999999999999999/100000000000000000000", "bytes 0-+2/10", "bytes0-1/2"}) {
    EXPECT_FALSE(parse_content_range(bad)) << bad;
  }
}

TEST(RetryAfter, DeltaSeconds) {
  EXPECT_EQ(parse_retry_after("120"), 120);
  EXPECT_EQ(parse_retry_after(" 0 "), 0);
}

TEST(RetryAfter, HttpDateAndGarbageAreNotRead) {
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(parse_retry_after("-5"));
  EXPECT_FALSE(parse_retry_after(""));
  EXPECT_FALSE(parse_retry_after("99999999999999999999"));
}

TEST(RangeHeader, Inclusive) {
  EXPECT_EQ(range_header(0, 16383), "bytes=0-16383");
}

}  // namespace
}  // namespace shoal::webseed
