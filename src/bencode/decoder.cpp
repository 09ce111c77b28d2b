#include "bencode/decoder.hpp"

#include <cassert>
#include <cstring>
#include <limits>

namespace shoal::bencode {
namespace {

using Token = Document::Token;

struct Frame {
  std::uint32_t token;     // index of the list/dict token being filled
  bool expecting_key;      // dicts alternate key, value
  std::uint32_t last_key;  // token index of the previous key (dicts), or UINT32_MAX
};

constexpr std::uint32_t kNoKey = std::numeric_limits<std::uint32_t>::max();

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int compare_bytes(std::string_view a, std::string_view b) {
  std::size_t n = a.size() < b.size() ? a.size() : b.size();
  int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c;
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

class Parser {
 public:
  Parser(std::string_view input, const Limits& limits, std::vector<Token>& tokens)
      : in_(input), limits_(limits), tokens_(tokens) {}

  // Parses one value starting at pos_; returns the end offset or an error.
  Expected<std::size_t, DecodeError> run() {
    std::vector<Frame> stack;
    do {
      if (pos_ >= in_.size()) return fail(Errc::unexpected_end, pos_);
      char c = in_[pos_];
      if (!stack.empty()) {
        Frame& top = stack.back();
        Token& container = tokens_[top.token];
        if (c == 'e') {
          if (container.type == Type::dict && !top.expecting_key) return fail(Errc::unexpected_end, pos_);
          ++pos_;
          container.end = static_cast<std::uint32_t>(pos_);
          container.aux = static_cast<std::uint32_t>(tokens_.size());
          stack.pop_back();
          continue;
        }
        if (container.type == Type::dict && top.expecting_key && !is_digit(c)) {
          return fail(Errc::non_string_key, pos_);
        }
      }
      if (tokens_.size() >= limits_.max_items) return fail(Errc::too_many_items, pos_);
      auto index = static_cast<std::uint32_t>(tokens_.size());
      bool is_key = false;
      if (!stack.empty()) {
        Frame& top = stack.back();
        Token& container = tokens_[top.token];
        if (container.type == Type::list) {
          ++container.count;
        } else {
          is_key = top.expecting_key;
          if (!is_key) ++container.count;
          top.expecting_key = !top.expecting_key;
        }
      }
      if (c == 'i') {
        if (auto err = parse_int()) return unexpected(*err);
      } else if (is_digit(c)) {
        if (auto err = parse_string()) return unexpected(*err);
        if (is_key) {
          Frame& top = stack.back();
          if (top.last_key != kNoKey) {
            int cmp = compare_bytes(string_of(top.last_key), string_of(index));
            if (cmp == 0) return fail(Errc::duplicate_key, tokens_[index].start);
            if (cmp > 0) return fail(Errc::unsorted_keys, tokens_[index].start);
          }
          top.last_key = index;
        }
      } else if (c == 'l' || c == 'd') {
        if (stack.size() >= limits_.max_depth) return fail(Errc::depth_exceeded, pos_);
        Token t;
        t.type = c == 'l' ? Type::list : Type::dict;
        t.start = static_cast<std::uint32_t>(pos_);
        tokens_.push_back(t);
        stack.push_back(Frame{index, t.type == Type::dict, kNoKey});
        ++pos_;
      } else {
        return fail(Errc::unexpected_character, pos_);
      }
    } while (!stack.empty());
    return pos_;
  }

 private:
  Unexpected<DecodeError> fail(Errc code, std::size_t offset) const {
    return unexpected(DecodeError{code, offset});
  }

  std::string_view string_of(std::uint32_t index) const {
    const Token& t = tokens_[index];
    return in_.substr(t.aux, t.count);
  }

  std::optional<DecodeError> parse_int() {
    std::size_t start = pos_;
    ++pos_;  // 'i'
    bool negative = false;
    if (pos_ < in_.size() && in_[pos_] == '-') {
      negative = true;
      ++pos_;
    }
    std::size_t digits_start = pos_;
    // Accumulate as a negative number: its range covers INT64_MIN exactly.
    std::int64_t value = 0;
    while (pos_ < in_.size() && is_digit(in_[pos_])) {
      int d = in_[pos_] - '0';
      if (value < (std::numeric_limits<std::int64_t>::min() + d) / 10) {
        return DecodeError{Errc::integer_overflow, start};
      }
      value = value * 10 - d;
      ++pos_;
    }
    if (pos_ >= in_.size()) return DecodeError{Errc::unexpected_end, pos_};
    if (in_[pos_] != 'e' || pos_ == digits_start) return DecodeError{Errc::invalid_integer, pos_};
    std::size_t ndigits = pos_ - digits_start;
    if (ndigits > 1 && in_[digits_start] == '0') return DecodeError{Errc::leading_zero, digits_start};
    if (negative && value == 0) return DecodeError{Errc::negative_zero, start};
    if (!negative) {
      if (value == std::numeric_limits<std::int64_t>::min())
        return DecodeError{Errc::integer_overflow, start};
      value = -value;
    }
    ++pos_;  // 'e'
    Token t;
    t.type = Type::integer;
    t.start = static_cast<std::uint32_t>(start);
    t.end = static_cast<std::uint32_t>(pos_);
    t.integer = value;
    tokens_.push_back(t);
    return std::nullopt;
  }

  std::optional<DecodeError> parse_string() {
    std::size_t start = pos_;
    std::uint64_t length = 0;
    while (pos_ < in_.size() && is_digit(in_[pos_])) {
      length = length * 10 + static_cast<std::uint64_t>(in_[pos_] - '0');
      if (length > in_.size()) return DecodeError{Errc::string_too_long, start};
      ++pos_;
    }
    if (pos_ >= in_.size()) return DecodeError{Errc::unexpected_end, pos_};
    if (in_[pos_] != ':') return DecodeError{Errc::invalid_string_length, pos_};
    if (pos_ - start > 1 && in_[start] == '0') return DecodeError{Errc::leading_zero, start};
    ++pos_;  // ':'
    if (length > in_.size() - pos_) return DecodeError{Errc::string_too_long, start};
    Token t;
    t.type = Type::string;
    t.start = static_cast<std::uint32_t>(start);
    t.aux = static_cast<std::uint32_t>(pos_);
    t.count = static_cast<std::uint32_t>(length);
    pos_ += static_cast<std::size_t>(length);
    t.end = static_cast<std::uint32_t>(pos_);
    tokens_.push_back(t);
    return std::nullopt;
  }

 public:
  std::size_t pos_ = 0;

 private:
  std::string_view in_;
  const Limits& limits_;
  std::vector<Token>& tokens_;
};

std::size_t next_sibling(const std::vector<Token>& tokens, std::size_t index) {
  const Token& t = tokens[index];
  return (t.type == Type::list || t.type == Type::dict) ? t.aux : index + 1;
}

}  // namespace

Expected<std::pair<Document, std::size_t>, DecodeError> decode_prefix(std::string_view input,
                                                                      const Limits& limits) {
  if (input.size() > limits.max_input_size || input.size() >= std::numeric_limits<std::uint32_t>::max()) {
    return unexpected(DecodeError{Errc::input_too_large, 0});
  }
  Document doc;
  doc.input_ = input;
  Parser parser(input, limits, doc.tokens);
  auto end = parser.run();
  if (!end) return unexpected(end.error());
  std::size_t used = *end;
  return std::pair<Document, std::size_t>(std::move(doc), used);
}

Expected<Document, DecodeError> decode(std::string_view input, const Limits& limits) {
  auto result = decode_prefix(input, limits);
  if (!result) return unexpected(result.error());
  if (result->second != input.size()) return unexpected(DecodeError{Errc::trailing_data, result->second});
  return std::move(result->first);
}

Type Node::type() const {
  return doc_->tokens[index_].type;
}

std::int64_t Node::as_int() const {
  assert(is_int());
  return doc_->tokens[index_].integer;
}

std::string_view Node::as_string() const {
  assert(is_string());
  const auto& t = doc_->tokens[index_];
  return doc_->input_.substr(t.aux, t.count);
}

std::size_t Node::size() const {
  const auto& t = doc_->tokens[index_];
  return (t.type == Type::list || t.type == Type::dict) ? t.count : 0;
}

Node Node::at(std::size_t i) const {
  assert(is_list() && i < size());
  std::size_t child = index_ + 1;
  for (std::size_t k = 0; k < i; ++k)
    child = next_sibling(doc_->tokens, child);
  return Node(doc_, static_cast<std::uint32_t>(child));
}

std::pair<std::string_view, Node> Node::item(std::size_t i) const {
  assert(is_dict() && i < size());
  std::size_t key = index_ + 1;
  for (std::size_t k = 0; k < i; ++k)
    key = next_sibling(doc_->tokens, key + 1);
  return {Node(doc_, static_cast<std::uint32_t>(key)).as_string(),
          Node(doc_, static_cast<std::uint32_t>(key + 1))};
}

std::optional<Node> Node::find(std::string_view wanted) const {
  if (doc_ == nullptr || !is_dict()) return std::nullopt;
  std::size_t key = index_ + 1;
  for (std::size_t k = 0; k < size(); ++k) {
    Node key_node(doc_, static_cast<std::uint32_t>(key));
    int cmp = compare_bytes(key_node.as_string(), wanted);
    if (cmp == 0) return Node(doc_, static_cast<std::uint32_t>(key + 1));
    if (cmp > 0) break;  // keys are sorted: it is not further on
    key = next_sibling(doc_->tokens, key + 1);
  }
  return std::nullopt;
}

std::optional<std::int64_t> Node::find_int(std::string_view key) const {
  auto n = find(key);
  if (!n || !n->is_int()) return std::nullopt;
  return n->as_int();
}

std::optional<std::string_view> Node::find_string(std::string_view key) const {
  auto n = find(key);
  if (!n || !n->is_string()) return std::nullopt;
  return n->as_string();
}

std::optional<Node> Node::find_list(std::string_view key) const {
  auto n = find(key);
  if (!n || !n->is_list()) return std::nullopt;
  return n;
}

std::optional<Node> Node::find_dict(std::string_view key) const {
  auto n = find(key);
  if (!n || !n->is_dict()) return std::nullopt;
  return n;
}

Node::ChildIterator& Node::ChildIterator::operator++() {
  index_ = static_cast<std::uint32_t>(next_sibling(doc_->tokens, index_));
  return *this;
}

Node::ChildRange Node::children() const {
  const auto& t = doc_->tokens[index_];
  if (t.type != Type::list && t.type != Type::dict) return {{doc_, index_}, {doc_, index_}};
  return {{doc_, index_ + 1}, {doc_, t.aux}};
}

std::string_view Node::raw() const {
  const auto& t = doc_->tokens[index_];
  return doc_->input_.substr(t.start, t.end - t.start);
}

std::size_t Node::offset() const {
  return doc_->tokens[index_].start;
}

}  // namespace shoal::bencode
