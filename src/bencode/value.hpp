// An owning bencode value for building and encoding messages and torrents, plus the canonical encoder.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace shoal::bencode {

class Node;

class Value {
 public:
  using List = std::vector<Value>;
  // std::less<> on std::string compares as unsigned bytes, which is bencode's required key order.
  using Dict = std::map<std::string, Value, std::less<>>;

  Value() : v_(std::int64_t{0}) {}
  Value(std::int64_t i) : v_(i) {}
  Value(int i) : v_(std::int64_t{i}) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(List l) : v_(std::move(l)) {}
  Value(Dict d) : v_(std::move(d)) {}

  bool is_int() const { return std::holds_alternative<std::int64_t>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_list() const { return std::holds_alternative<List>(v_); }
  bool is_dict() const { return std::holds_alternative<Dict>(v_); }

  std::int64_t as_int() const { return std::get<std::int64_t>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const List& as_list() const { return std::get<List>(v_); }
  List& as_list() { return std::get<List>(v_); }
  const Dict& as_dict() const { return std::get<Dict>(v_); }
  Dict& as_dict() { return std::get<Dict>(v_); }

  bool operator==(const Value&) const = default;

 private:
  std::variant<std::int64_t, std::string, List, Dict> v_;
};

// Canonical encoding (sorted keys, shortest integers). Appends to out.
void encode_to(const Value& value, std::string& out);
std::string encode(const Value& value);

// Deep copy of a decoded node into an owning value.
Value to_value(const Node& node);

}  // namespace shoal::bencode
