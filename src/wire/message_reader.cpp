#include "wire/message_reader.hpp"

#include <algorithm>
#include <cstring>

namespace shoal::wire {
namespace {

constexpr std::uint32_t kHashFieldsSize = 48;
// The largest hashes message: a full run and a proof up to the tallest tree.
constexpr std::uint32_t kMaxHashesMessageLength =
    1 + kHashFieldsSize + static_cast<std::uint32_t>(kHashSize) * (kMaxHashesPerMessage + kMaxMerkleHeight);

HashRequestFields read_hash_fields(const std::uint8_t* body) {
  HashRequestFields f;
  std::memcpy(f.pieces_root.bytes.data(), body, kHashSize);
  f.base_layer = read_u32(body + 32);
  f.index = read_u32(body + 36);
  f.length = read_u32(body + 40);
  f.proof_layers = read_u32(body + 44);
  return f;
}

}  // namespace

MessageReader::MessageReader(ReaderLimits limits) : limits_(limits) {}

std::span<std::uint8_t> MessageReader::prepare(std::size_t at_least) {
  if (buffer_.size() - write_ < at_least) {
    if (read_ > 0) {  // slide unread bytes to the front before growing
      std::memmove(buffer_.data(), buffer_.data() + read_, write_ - read_);
      write_ -= read_;
      read_ = 0;
    }
    if (buffer_.size() - write_ < at_least) buffer_.resize(write_ + at_least);
  }
  return {buffer_.data() + write_, buffer_.size() - write_};
}

void MessageReader::commit(std::size_t n) {
  write_ = std::min(write_ + n, buffer_.size());
}

std::optional<std::span<const std::uint8_t>> MessageReader::take(std::size_t n) {
  if (write_ - read_ < n) return std::nullopt;
  std::span<const std::uint8_t> out(buffer_.data() + read_, n);
  read_ += n;
  return out;
}

std::uint32_t MessageReader::max_length_for(std::uint8_t id) const {
  switch (static_cast<MessageId>(id)) {
    case MessageId::choke:
    case MessageId::unchoke:
    case MessageId::interested:
    case MessageId::not_interested:
    case MessageId::have_all:
    case MessageId::have_none:
      return 1;
    case MessageId::have:
    case MessageId::suggest:
    case MessageId::allowed_fast:
      return 5;
    case MessageId::port:
      return 3;
    case MessageId::request:
    case MessageId::cancel:
    case MessageId::reject:
      return 13;
    case MessageId::piece:
      return 9 + kBlockSize;
    case MessageId::bitfield:
      return 1 + limits_.max_bitfield_bytes;
    case MessageId::extended:
      return 1 + limits_.max_extended_size;
    case MessageId::hash_request:
    case MessageId::hash_reject:
      return 1 + kHashFieldsSize;
    case MessageId::hashes:
      return kMaxHashesMessageLength;
  }
  return 1 + limits_.max_extended_size;  // unknown ids: skipped, but still bounded
}

Expected<std::optional<Message>, WireError> MessageReader::next() {
  std::size_t available = write_ - read_;
  if (available < 4) return std::optional<Message>();
  const std::uint8_t* p = buffer_.data() + read_;
  std::uint32_t length = read_u32(p);
  if (length == 0) {
    read_ += 4;
    return std::optional<Message>(KeepAlive{});
  }
  std::uint32_t absolute_max =
      std::max<std::uint32_t>({1 + limits_.max_bitfield_bytes, 1 + limits_.max_extended_size, kBlockSize + 9,
                               kMaxHashesMessageLength});
  if (length > absolute_max) return unexpected(WireError{Errc::message_too_large, "length prefix"});
  if (available < 5) return std::optional<Message>();
  std::uint8_t id = p[4];
  if (length > max_length_for(id))
    return unexpected(WireError{Errc::message_too_large, "for its message id"});
  if (available < 4 + static_cast<std::size_t>(length)) return std::optional<Message>();

  const std::uint8_t* body = p + 5;
  std::uint32_t body_size = length - 1;
  read_ += 4 + static_cast<std::size_t>(length);
  auto exact = [&](std::uint32_t want, const char* what) -> std::optional<WireError> {
    if (body_size != want) return WireError{Errc::bad_message_length, what};
    return std::nullopt;
  };
  auto block = [&](auto message, const char* what) -> Expected<std::optional<Message>, WireError> {
    if (auto e = exact(12, what)) return unexpected(*e);
    message.piece = read_u32(body);
    message.begin = read_u32(body + 4);
    message.length = read_u32(body + 8);
    return std::optional<Message>(message);
  };
  switch (static_cast<MessageId>(id)) {
    case MessageId::choke:
      return std::optional<Message>(Choke{});
    case MessageId::unchoke:
      return std::optional<Message>(Unchoke{});
    case MessageId::interested:
      return std::optional<Message>(Interested{});
    case MessageId::not_interested:
      return std::optional<Message>(NotInterested{});
    case MessageId::have_all:
      return std::optional<Message>(HaveAll{});
    case MessageId::have_none:
      return std::optional<Message>(HaveNone{});
    case MessageId::have:
      if (auto e = exact(4, "have")) return unexpected(*e);
      return std::optional<Message>(Have{read_u32(body)});
    case MessageId::suggest:
      if (auto e = exact(4, "suggest")) return unexpected(*e);
      return std::optional<Message>(Suggest{read_u32(body)});
    case MessageId::allowed_fast:
      if (auto e = exact(4, "allowed fast")) return unexpected(*e);
      return std::optional<Message>(AllowedFast{read_u32(body)});
    case MessageId::port:
      if (auto e = exact(2, "port")) return unexpected(*e);
      return std::optional<Message>(Port{static_cast<std::uint16_t>(body[0] << 8 | body[1])});
    case MessageId::request:
      return block(Request{}, "request");
    case MessageId::cancel:
      return block(Cancel{}, "cancel");
    case MessageId::reject:
      return block(Reject{}, "reject");
    case MessageId::bitfield:
      return std::optional<Message>(Bitfield{{body, body_size}});
    case MessageId::piece:
      if (body_size < 8) return unexpected(WireError{Errc::bad_message_length, "piece"});
      return std::optional<Message>(Piece{read_u32(body), read_u32(body + 4), {body + 8, body_size - 8}});
    case MessageId::extended:
      if (body_size < 1) return unexpected(WireError{Errc::bad_message_length, "extended"});
      return std::optional<Message>(Extended{body[0], {body + 1, body_size - 1}});
    case MessageId::hash_request:
    case MessageId::hash_reject: {
      const char* what =
          id == static_cast<std::uint8_t>(MessageId::hash_request) ? "hash request" : "hash reject";
      if (auto e = exact(kHashFieldsSize, what)) return unexpected(*e);
      auto fields = read_hash_fields(body);
      if (!hash_request_shape_ok(fields)) return unexpected(WireError{Errc::bad_hash_request, what});
      if (id == static_cast<std::uint8_t>(MessageId::hash_request))
        return std::optional<Message>(HashRequest{fields});
      return std::optional<Message>(HashReject{fields});
    }
    case MessageId::hashes: {
      if (body_size < kHashFieldsSize) return unexpected(WireError{Errc::bad_message_length, "hashes"});
      auto fields = read_hash_fields(body);
      if (!hash_request_shape_ok(fields)) return unexpected(WireError{Errc::bad_hash_request, "hashes"});
      // Exactly the run and its uncles: a short or padded message is a lie about what it proves.
      std::uint64_t want = (std::uint64_t{fields.length} + hash_uncle_count(fields)) * kHashSize;
      if (body_size - kHashFieldsSize != want)
        return unexpected(WireError{Errc::bad_message_length, "hashes: count disagrees with its header"});
      return std::optional<Message>(Hashes{fields, {body + kHashFieldsSize, body_size - kHashFieldsSize}});
    }
  }
  return std::optional<Message>(Unknown{id});
}

}  // namespace shoal::wire
