// Strict, zero-copy bencode decoder (BEP 3).
//
// decode() validates the whole input in one pass and produces a Document: a flat array of tokens whose
// strings point into the caller's buffer (which must outlive the Document and every Node taken from it).
// Nodes are cheap handles (document pointer + token index). Strictness: integers without leading zeros or
// "-0", byte strings with exact lengths, dictionary keys that are byte strings, sorted by raw bytes and
// unique, no trailing data. Limits bound depth (no stack exhaustion: the decoder is iterative), item count
// and input size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "bencode/error.hpp"
#include "shoal/expected.hpp"

namespace shoal::bencode {

struct Limits {
  static constexpr std::size_t kDefaultMaxDepth = 64;
  static constexpr std::size_t kDefaultMaxItems = 4'000'000;
  static constexpr std::size_t kDefaultMaxInputSize = 64 * 1024 * 1024;

  std::size_t max_depth = kDefaultMaxDepth;
  std::size_t max_items = kDefaultMaxItems;
  std::size_t max_input_size = kDefaultMaxInputSize;
};

enum class Type : std::uint8_t { integer, string, list, dict };

class Document;

class Node {
 public:
  Node() = default;

  Type type() const;
  bool is_int() const { return type() == Type::integer; }
  bool is_string() const { return type() == Type::string; }
  bool is_list() const { return type() == Type::list; }
  bool is_dict() const { return type() == Type::dict; }

  // Precondition: the node has that type (checked with assert).
  std::int64_t as_int() const;
  std::string_view as_string() const;

  // Number of elements of a list, or of key/value pairs of a dict.
  std::size_t size() const;
  // i-th element of a list. Precondition: is_list() and i < size(). O(i): use children() to iterate.
  Node at(std::size_t i) const;
  // i-th key/value pair of a dict, in key order. Precondition: is_dict() and i < size(). O(i).
  std::pair<std::string_view, Node> item(std::size_t i) const;

  // Iterates the elements of a list, or the keys and values of a dict alternately, in O(1) per step.
  class ChildIterator {
   public:
    Node operator*() const { return Node(doc_, index_); }
    ChildIterator& operator++();
    bool operator==(const ChildIterator& other) const { return index_ == other.index_; }

   private:
    friend class Node;
    ChildIterator(const Document* doc, std::uint32_t index) : doc_(doc), index_(index) {}
    const Document* doc_;
    std::uint32_t index_;
  };
  struct ChildRange {
    ChildIterator first, last;
    ChildIterator begin() const { return first; }
    ChildIterator end() const { return last; }
  };
  // Empty for integers and strings.
  ChildRange children() const;
  // Value under key in a dict; nullopt when absent or when this is not a dict.
  std::optional<Node> find(std::string_view key) const;

  // Typed lookups: nullopt when absent or of another type.
  std::optional<std::int64_t> find_int(std::string_view key) const;
  std::optional<std::string_view> find_string(std::string_view key) const;
  std::optional<Node> find_list(std::string_view key) const;
  std::optional<Node> find_dict(std::string_view key) const;

  // The exact input bytes this value was decoded from (e.g. the "info" dictionary, for its hash).
  std::string_view raw() const;
  // Offset of raw() in the input.
  std::size_t offset() const;

 private:
  friend class Document;
  Node(const Document* doc, std::uint32_t index) : doc_(doc), index_(index) {}
  const Document* doc_ = nullptr;
  std::uint32_t index_ = 0;
};

class Document {
 public:
  Node root() const { return Node(this, 0); }
  std::string_view input() const { return input_; }

  // Implementation detail, public so the decoder can fill it: one token per value, in input order.
  struct Token {
    std::uint32_t start = 0;  // offset of the value's first byte in input
    std::uint32_t end = 0;    // offset one past the value's last byte
    // integer: unused; string: offset of the payload; list/dict: index of the token after the last child
    std::uint32_t aux = 0;
    std::uint32_t count = 0;  // list: elements; dict: pairs; string: payload length
    std::int64_t integer = 0;
    Type type = Type::integer;
  };
  std::vector<Token> tokens;

 private:
  friend Expected<std::pair<Document, std::size_t>, DecodeError> decode_prefix(std::string_view,
                                                                               const Limits&);
  friend class Node;
  std::string_view input_;
};

// Decodes exactly one value spanning the whole input.
Expected<Document, DecodeError> decode(std::string_view input, const Limits& limits = {});

// Decodes one value at the start of input and reports how many bytes it used (for streams that carry
// bencode followed by other data, e.g. ut_metadata messages). Trailing bytes are allowed.
Expected<std::pair<Document, std::size_t>, DecodeError> decode_prefix(std::string_view input,
                                                                      const Limits& limits = {});

}  // namespace shoal::bencode
