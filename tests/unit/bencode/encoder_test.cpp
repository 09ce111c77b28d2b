#include <gtest/gtest.h>

#include <random>

#include "bencode/decoder.hpp"
#include "bencode/value.hpp"

namespace shoal::bencode {
namespace {

TEST(Encode, CanonicalForms) {
  EXPECT_EQ(encode(Value(0)), "i0e");
  EXPECT_EQ(encode(Value(-17)), "i-17e");
  EXPECT_EQ(encode(Value(std::int64_t{INT64_MIN})), "i-9223372036854775808e");
  EXPECT_EQ(encode(Value("spam")), "4:spam");
  EXPECT_EQ(encode(Value(std::string())), "0:");
  EXPECT_EQ(encode(Value(Value::List{1, "a"})), "li1e1:ae");
  Value::Dict d;
  d["zeta"] = 1;
  d["alpha"] = Value::List{};
  d[std::string("\x80", 1)] = 2;
  d["\x7f"] = 3;
  EXPECT_EQ(encode(Value(d)), "d5:alphale4:zetai1e1:\x7fi3e1:\x80i2ee");
}

Value random_value(std::mt19937_64& rng, int depth) {
  std::uniform_int_distribution<int> kind(0, depth > 4 ? 1 : 3);
  switch (kind(rng)) {
    case 0: {
      std::uniform_int_distribution<std::int64_t> any(INT64_MIN, INT64_MAX);
      std::uniform_int_distribution<int> small(-1000, 1000);
      return Value(rng() % 2 ? any(rng) : small(rng));
    }
    case 1: {
      std::string s(rng() % 24, '\0');
      for (auto& c : s)
        c = static_cast<char>(rng() & 0xff);
      return Value(s);
    }
    case 2: {
      Value::List list;
      for (std::size_t i = rng() % 6; i > 0; --i)
        list.push_back(random_value(rng, depth + 1));
      return Value(list);
    }
    default: {
      Value::Dict dict;
      for (std::size_t i = rng() % 6; i > 0; --i) {
        std::string key(rng() % 5, '\0');
        for (auto& c : key)
          c = static_cast<char>('a' + rng() % 4);
        dict[key] = random_value(rng, depth + 1);
      }
      return Value(dict);
    }
  }
}

TEST(RoundTrip, RandomValuesSurviveEncodeDecode) {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 2000; ++i) {
    Value original = random_value(rng, 0);
    std::string encoded = encode(original);
    auto doc = decode(encoded);
    ASSERT_TRUE(doc) << doc.error().message();
    EXPECT_EQ(to_value(doc->root()), original);
    EXPECT_EQ(encode(to_value(doc->root())), encoded);  // canonical input re-encodes byte for byte
    EXPECT_EQ(doc->root().raw(), encoded);
  }
}

}  // namespace
}  // namespace shoal::bencode
