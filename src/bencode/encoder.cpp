#include <charconv>

#include "bencode/decoder.hpp"
#include "bencode/value.hpp"

namespace shoal::bencode {
namespace {

void append_int(std::int64_t v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_string(std::string_view s, std::string& out) {
  append_int(static_cast<std::int64_t>(s.size()), out);
  out.push_back(':');
  out.append(s);
}

}  // namespace

void encode_to(const Value& value, std::string& out) {
  if (value.is_int()) {
    out.push_back('i');
    append_int(value.as_int(), out);
    out.push_back('e');
  } else if (value.is_string()) {
    append_string(value.as_string(), out);
  } else if (value.is_list()) {
    out.push_back('l');
    for (const auto& item : value.as_list())
      encode_to(item, out);
    out.push_back('e');
  } else {
    out.push_back('d');
    for (const auto& [key, item] : value.as_dict()) {
      append_string(key, out);
      encode_to(item, out);
    }
    out.push_back('e');
  }
}

std::string encode(const Value& value) {
  std::string out;
  encode_to(value, out);
  return out;
}

// Recursion depth is bounded by the decoder's Limits::max_depth.
Value to_value(const Node& node) {
  switch (node.type()) {
    case Type::integer:
      return Value(node.as_int());
    case Type::string:
      return Value(node.as_string());
    case Type::list: {
      Value::List list;
      list.reserve(node.size());
      for (Node child : node.children())
        list.push_back(to_value(child));
      return Value(std::move(list));
    }
    case Type::dict: {
      Value::Dict dict;
      std::string_view key;
      bool at_key = true;
      for (Node child : node.children()) {
        if (at_key) {
          key = child.as_string();
        } else {
          dict.emplace_hint(dict.end(), std::string(key), to_value(child));
        }
        at_key = !at_key;
      }
      return Value(std::move(dict));
    }
  }
  return Value();
}

}  // namespace shoal::bencode
