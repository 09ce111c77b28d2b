#include "bencode/decoder.hpp"

#include <gtest/gtest.h>

#include <string>

#include "bencode/value.hpp"

namespace shoal::bencode {
namespace {

struct BadCase {
  const char* name;
  std::string input;
  Errc code;
  std::size_t offset;
};

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.name;
}

class RejectsMalformed : public ::testing::TestWithParam<BadCase> {};

TEST_P(RejectsMalformed, WithKindAndOffset) {
  const auto& c = GetParam();
  auto result = decode(c.input);
  ASSERT_FALSE(result) << c.name;
  EXPECT_EQ(result.error().code, c.code) << c.name << ": " << result.error().message();
  EXPECT_EQ(result.error().offset, c.offset) << c.name << ": " << result.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Bencode, RejectsMalformed,
    ::testing::Values(BadCase{"empty_input", "", Errc::unexpected_end, 0},
                      BadCase{"integer_without_end", "i42", Errc::unexpected_end, 3},
                      BadCase{"integer_without_digits", "ie", Errc::invalid_integer, 1},
                      BadCase{"integer_only_minus", "i-e", Errc::invalid_integer, 2},
                      BadCase{"integer_with_letter", "i4x2e", Errc::invalid_integer, 2},
                      BadCase{"integer_leading_zero", "i03e", Errc::leading_zero, 1},
                      BadCase{"negative_leading_zero", "i-03e", Errc::leading_zero, 2},
                      BadCase{"negative_zero", "i-0e", Errc::negative_zero, 0},
                      BadCase{"integer_overflow", "i9223372036854775808e", Errc::integer_overflow, 0},
                      BadCase{"negative_overflow", "i-9223372036854775809e", Errc::integer_overflow, 0},
                      BadCase{"huge_integer", "i99999999999999999999999999e", Errc::integer_overflow, 0},
                      BadCase{"string_length_leading_zero", "03:abc", Errc::leading_zero, 0},
                      BadCase{"string_without_colon", "3abc", Errc::invalid_string_length, 1},
                      BadCase{"string_longer_than_input", "5:abc", Errc::string_too_long, 0},
                      BadCase{"string_length_huge", "99999999999999999999:x", Errc::string_too_long, 0},
                      BadCase{"string_length_unterminated", "1", Errc::unexpected_end, 1},
                      BadCase{"list_unterminated", "li1e", Errc::unexpected_end, 4},
                      BadCase{"dict_unterminated", "d1:ai1e", Errc::unexpected_end, 7},
                      BadCase{"dict_key_without_value", "d1:ae", Errc::unexpected_end, 4},
                      BadCase{"dict_integer_key", "di1ei2ee", Errc::non_string_key, 1},
                      BadCase{"dict_list_key", "dle1:ae", Errc::non_string_key, 1},
                      BadCase{"dict_unsorted_keys", "d1:bi1e1:ai2ee", Errc::unsorted_keys, 7},
                      BadCase{"dict_duplicate_keys", "d1:ai1e1:ai2ee", Errc::duplicate_key, 7},
                      BadCase{"dict_prefix_key_after_longer", "d2:aai1e1:ai2ee", Errc::unsorted_keys, 8},
                      BadCase{"unknown_type_byte", "x", Errc::unexpected_character, 0},
                      BadCase{"stray_end", "e", Errc::unexpected_character, 0},
                      BadCase{"trailing_data", "i1ei2e", Errc::trailing_data, 3},
                      BadCase{"trailing_byte_after_dict", "dex", Errc::trailing_data, 2}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Decode, Integers) {
  EXPECT_EQ(decode("i0e")->root().as_int(), 0);
  EXPECT_EQ(decode("i-42e")->root().as_int(), -42);
  EXPECT_EQ(decode("i9223372036854775807e")->root().as_int(), INT64_MAX);
  EXPECT_EQ(decode("i-9223372036854775808e")->root().as_int(), INT64_MIN);
}

TEST(Decode, StringsAreZeroCopy) {
  std::string input = "5:hello";
  auto doc = decode(input);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->root().as_string(), "hello");
  EXPECT_EQ(doc->root().as_string().data(), input.data() + 2);
  EXPECT_EQ(decode("0:")->root().as_string(), "");
  std::string binary("3:\0\xff\n", 5);
  EXPECT_EQ(decode(binary)->root().as_string(), std::string_view("\0\xff\n", 3));
}

TEST(Decode, NestedStructuresAndLookups) {
  std::string input = "d4:infod6:lengthi10e4:name3:abce4:listli1ei2eli3eee3:numi7ee";
  auto doc = decode(input);
  ASSERT_TRUE(doc) << doc.error().message();
  Node root = doc->root();
  ASSERT_TRUE(root.is_dict());
  EXPECT_EQ(root.size(), 3u);
  auto info = root.find_dict("info");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->raw(), "d6:lengthi10e4:name3:abce");
  EXPECT_EQ(info->offset(), 7u);
  EXPECT_EQ(info->find_int("length"), 10);
  EXPECT_EQ(info->find_string("name"), "abc");
  EXPECT_FALSE(info->find_string("length"));  // wrong type
  EXPECT_FALSE(info->find("missing"));
  auto list = root.find_list("list");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ(list->at(1).as_int(), 2);
  EXPECT_EQ(list->at(2).at(0).as_int(), 3);
  EXPECT_EQ(root.item(2).first, "num");
  EXPECT_EQ(root.item(2).second.as_int(), 7);
  int n = 0;
  for (Node child : list->children()) {
    (void)child;
    ++n;
  }
  EXPECT_EQ(n, 3);
  EXPECT_EQ(root.find_int("num"), 7);
  EXPECT_FALSE(Node(root.find("num").value()).find("x"));  // not a dict
}

TEST(Decode, EmptyContainers) {
  EXPECT_EQ(decode("le")->root().size(), 0u);
  EXPECT_EQ(decode("de")->root().size(), 0u);
  EXPECT_EQ(decode("lldeee")->root().at(0).at(0).size(), 0u);
}

TEST(Decode, KeysCompareAsUnsignedBytes) {
  // 0x7f sorts before 0x80 as unsigned bytes (as signed chars it would not).
  std::string input = "d1:\x7fi1e1:\x80i2ee";
  EXPECT_TRUE(decode(input));
  std::string reversed = "d1:\x80i1e1:\x7fi2ee";
  ASSERT_FALSE(decode(reversed));
  EXPECT_EQ(decode(reversed).error().code, Errc::unsorted_keys);
}

TEST(Decode, DepthLimit) {
  Limits limits;
  std::string ok = std::string(limits.max_depth, 'l') + std::string(limits.max_depth, 'e');
  EXPECT_TRUE(decode(ok));
  std::string deep = std::string(limits.max_depth + 1, 'l') + std::string(limits.max_depth + 1, 'e');
  auto r = decode(deep);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::depth_exceeded);
  EXPECT_EQ(r.error().offset, limits.max_depth);
}

TEST(Decode, MillionOpenBracketsFailsWithoutCrashing) {
  std::string hostile(1'000'000, 'l');
  auto r = decode(hostile);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::depth_exceeded);
}

TEST(Decode, ItemLimitBoundsMemory) {
  Limits limits;
  limits.max_items = 10;
  std::string input = "l";
  for (int i = 0; i < 20; ++i)
    input += "i1e";
  input += "e";
  auto r = decode(input, limits);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::too_many_items);
  EXPECT_EQ(r.error().offset, 1u + 9u * 3u);
}

TEST(Decode, InputSizeLimit) {
  Limits limits;
  limits.max_input_size = 4;
  auto r = decode("5:hello", limits);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::input_too_large);
}

TEST(DecodePrefix, ReportsBytesUsedAndAllowsTrailingData) {
  std::string input = "d8:msg_typei1e5:piecei0eeRAWDATA";
  auto r = decode_prefix(input);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->second, input.size() - 7);
  EXPECT_EQ(r->first.root().find_int("piece"), 0);
}

TEST(DecodeError, MessageNamesKindAndOffset) {
  auto r = decode("d1:bi1e1:ai2ee");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "bencode: unsorted dictionary keys at byte 7");
  EXPECT_EQ(make_error_code(Errc::unsorted_keys).category().name(), std::string("shoal.bencode"));
}

}  // namespace
}  // namespace shoal::bencode
