#include "crypto/mse_handshake.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include "hash/sha.hpp"

namespace shoal::crypto {
namespace {

Sha1Digest hash_of(std::string_view label, std::span<const std::uint8_t> a,
                   std::span<const std::uint8_t> b = {}) {
  hash::Sha1Hasher h;
  h.update(label);
  h.update(a.data(), a.size());
  if (!b.empty()) h.update(b.data(), b.size());
  return h.finish();
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> shift));
}
void put_u16(std::vector<std::uint8_t>& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
std::uint32_t get_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::size_t get_u16(const std::uint8_t* p) {
  return (std::size_t{p[0]} << 8) | p[1];
}

// Where `marker` starts within the first `window` bytes of `data`, or nullopt.
std::optional<std::size_t> find_marker(std::span<const std::uint8_t> data,
                                       std::span<const std::uint8_t> marker, std::size_t window) {
  auto end = data.begin() + static_cast<std::ptrdiff_t>(std::min(window, data.size()));
  auto it = std::search(data.begin(), end, marker.begin(), marker.end());
  if (it == end) return std::nullopt;
  return static_cast<std::size_t>(it - data.begin());
}

}  // namespace

Sha1Digest mse_req2_hash(const Sha1Digest& info_hash) {
  return hash_of("req2", info_hash.bytes);
}

MseHandshake::MseHandshake(bool initiator, MseSecrets secrets)
    : initiator_(initiator),
      step_(initiator ? Step::await_yb : Step::await_ya),
      secrets_(std::move(secrets)) {
  if (secrets_.pad.size() > kMaxPad) secrets_.pad.resize(kMaxPad);
}

MseHandshake MseHandshake::initiator(const Sha1Digest& info_hash, std::uint32_t crypto_provide,
                                     std::span<const std::uint8_t> initial_payload, MseSecrets secrets) {
  MseHandshake h(true, std::move(secrets));
  h.info_hash_ = info_hash;
  h.crypto_ = crypto_provide;
  auto ia = initial_payload.first(std::min(initial_payload.size(), kMaxInitialPayload));
  h.initial_payload_.assign(ia.begin(), ia.end());
  auto ya = dh_public_key(h.secrets_.private_key);
  h.out_.assign(ya.begin(), ya.end());
  h.out_.insert(h.out_.end(), h.secrets_.pad.begin(), h.secrets_.pad.end());
  return h;
}

MseHandshake MseHandshake::responder(InfoHashLookup lookup, std::uint32_t crypto_allowed, MseSecrets secrets,
                                     std::uint32_t preferred) {
  MseHandshake h(false, std::move(secrets));
  h.lookup_ = std::move(lookup);
  h.crypto_ = crypto_allowed;
  h.preferred_ = preferred;
  return h;
}

MseHandshake::Status MseHandshake::on_bytes(std::span<const std::uint8_t> bytes) {
  if (status_ != Status::in_progress) return status_;
  in_.insert(in_.end(), bytes.begin(), bytes.end());
  while (step()) {
  }
  if (status_ == Status::in_progress && pos_ > 0) {
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  return status_;
}

std::vector<std::uint8_t> MseHandshake::take_output() {
  return std::exchange(out_, {});
}

std::vector<std::uint8_t> MseHandshake::take_payload() {
  return std::exchange(payload_, {});
}

StreamCipher MseHandshake::take_cipher() const {
  return selected_ == kCryptoRc4 ? StreamCipher(encrypt_, decrypt_) : StreamCipher();
}

void MseHandshake::fail(MseError e) {
  status_ = Status::failed;
  error_ = e;
  step_ = Step::finished;
  out_.clear();
  in_.clear();
  pos_ = 0;
}

void MseHandshake::finish(std::uint32_t selected) {
  selected_ = selected;
  status_ = Status::done;
  step_ = Step::finished;
  auto rest = pending();
  if (selected_ == kCryptoRc4) decrypt_.apply(rest);
  payload_.insert(payload_.end(), rest.begin(), rest.end());
  in_.clear();
  pos_ = 0;
}

void MseHandshake::derive_keys(const DhSecret& s) {
  auto key_a = hash_of("keyA", s, info_hash_.bytes);
  auto key_b = hash_of("keyB", s, info_hash_.bytes);
  Rc4 a(key_a.bytes, kRc4Discard);
  Rc4 b(key_b.bytes, kRc4Discard);
  encrypt_ = initiator_ ? a : b;
  decrypt_ = initiator_ ? b : a;
}

std::span<std::uint8_t> MseHandshake::take_decrypted(std::size_t n) {
  std::span<std::uint8_t> field(in_.data() + pos_, n);
  decrypt_.apply(field);
  pos_ += n;
  return field;
}

void MseHandshake::write_encrypted(std::span<const std::uint8_t> bytes) {
  auto at = out_.size();
  out_.resize(at + bytes.size());
  encrypt_.apply(bytes, out_.data() + at);
}

void MseHandshake::send_step3() {
  auto req1 = hash_of("req1", *secret_);
  auto req2 = mse_req2_hash(info_hash_);
  auto req3 = hash_of("req3", *secret_);
  out_.insert(out_.end(), req1.bytes.begin(), req1.bytes.end());
  for (std::size_t i = 0; i < req2.bytes.size(); ++i)
    out_.push_back(static_cast<std::uint8_t>(req2.bytes[i] ^ req3.bytes[i]));
  std::vector<std::uint8_t> plain(kVcSize, 0);
  put_u32(plain, crypto_);
  put_u16(plain, 0);  // len(PadC)
  put_u16(plain, initial_payload_.size());
  plain.insert(plain.end(), initial_payload_.begin(), initial_payload_.end());
  write_encrypted(plain);
  initial_payload_.clear();
}

void MseHandshake::send_step4() {
  std::vector<std::uint8_t> plain(kVcSize, 0);
  put_u32(plain, selected_);
  put_u16(plain, 0);  // len(PadD)
  write_encrypted(plain);
}

bool MseHandshake::step() {
  auto have = pending().size();
  switch (step_) {
    case Step::await_yb:
    case Step::await_ya: {
      if (have < kDhKeySize) return false;
      secret_ = dh_shared_secret(secrets_.private_key, pending().first(kDhKeySize));
      pos_ += kDhKeySize;
      if (!secret_) {
        fail(MseError::bad_public_key);
        return false;
      }
      if (initiator_) {
        derive_keys(*secret_);
        send_step3();
        step_ = Step::sync_vc;
      } else {
        auto yb = dh_public_key(secrets_.private_key);
        out_.insert(out_.end(), yb.begin(), yb.end());
        out_.insert(out_.end(), secrets_.pad.begin(), secrets_.pad.end());
        step_ = Step::sync_req1;
      }
      return true;
    }

    case Step::sync_vc: {
      // ENCRYPT(VC) is the first kVcSize bytes of B's keystream: look for them after PadB.
      std::array<std::uint8_t, kVcSize> marker{};
      Rc4 probe = decrypt_;
      probe.apply(marker);
      auto at = find_marker(pending(), marker, kMaxPad + kVcSize);
      if (!at) {
        if (have >= kMaxPad + kVcSize) fail(MseError::no_sync_marker);
        return false;
      }
      pos_ += *at;
      take_decrypted(kVcSize);  // eight zero bytes, by construction of the marker
      step_ = Step::select_and_pad_len;
      return true;
    }
    case Step::select_and_pad_len: {
      if (have < 6) return false;
      auto field = take_decrypted(6);
      auto select = get_u32(field.data());
      field_len_ = get_u16(field.data() + 4);
      if ((select != kCryptoRc4 && select != kCryptoPlaintext) || (select & crypto_) == 0) {
        fail(MseError::bad_crypto_select);
        return false;
      }
      if (field_len_ > kMaxPad) {
        fail(MseError::pad_too_long);
        return false;
      }
      selected_ = select;
      step_ = Step::pad_d;
      return true;
    }
    case Step::pad_d:
      if (have < field_len_) return false;
      take_decrypted(field_len_);
      finish(selected_);
      return false;

    case Step::sync_req1: {
      auto marker = hash_of("req1", *secret_);
      auto at = find_marker(pending(), marker.bytes, kMaxPad + marker.size);
      if (!at) {
        if (have >= kMaxPad + marker.size) fail(MseError::no_sync_marker);
        return false;
      }
      pos_ += *at + marker.size;
      step_ = Step::skey_hash;
      return true;
    }
    case Step::skey_hash: {
      if (have < Sha1Digest::size) return false;
      auto req3 = hash_of("req3", *secret_);
      Sha1Digest req2;
      for (std::size_t i = 0; i < req2.size; ++i)
        req2.bytes[i] = static_cast<std::uint8_t>(in_[pos_ + i] ^ req3.bytes[i]);
      pos_ += Sha1Digest::size;
      auto found = lookup_ ? lookup_(req2) : std::nullopt;
      if (!found) {
        fail(MseError::unknown_info_hash);
        return false;
      }
      info_hash_ = *found;
      derive_keys(*secret_);
      step_ = Step::vc_provide_pad_len;
      return true;
    }
    case Step::vc_provide_pad_len: {
      if (have < kVcSize + 6) return false;
      auto field = take_decrypted(kVcSize + 6);
      if (std::any_of(field.begin(), field.begin() + kVcSize, [](std::uint8_t b) { return b != 0; })) {
        fail(MseError::bad_vc);
        return false;
      }
      auto common = get_u32(field.data() + kVcSize) & crypto_;
      field_len_ = get_u16(field.data() + kVcSize + 4);
      if (field_len_ > kMaxPad) {
        fail(MseError::pad_too_long);
        return false;
      }
      if ((common & preferred_) != 0) {
        selected_ = preferred_;
      } else if ((common & kCryptoRc4) != 0) {
        selected_ = kCryptoRc4;
      } else if ((common & kCryptoPlaintext) != 0) {
        selected_ = kCryptoPlaintext;
      } else {
        fail(MseError::no_common_method);
        return false;
      }
      step_ = Step::pad_c;
      return true;
    }
    case Step::pad_c:
      if (have < field_len_) return false;
      take_decrypted(field_len_);
      step_ = Step::ia_len;
      return true;
    case Step::ia_len:
      if (have < 2) return false;
      field_len_ = get_u16(take_decrypted(2).data());
      if (field_len_ > kMaxInitialPayload) {
        fail(MseError::payload_too_long);
        return false;
      }
      step_ = Step::ia;
      return true;
    case Step::ia: {
      if (have < field_len_) return false;
      auto ia = take_decrypted(field_len_);  // IA is always RC4, whatever is selected for the stream after it
      payload_.assign(ia.begin(), ia.end());
      send_step4();
      finish(selected_);
      return false;
    }
    case Step::finished:
      return false;
  }
  return false;
}

}  // namespace shoal::crypto
