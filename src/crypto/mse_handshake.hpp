// The MSE/PE (Message Stream Encryption) handshake as a pure state machine: bytes in, bytes out, no socket,
// no clock, no randomness of its own (the caller passes the private key and padding).
//
//   1 A->B  Ya, PadA
//   2 B->A  Yb, PadB
//   3 A->B  HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
//           ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
//   4 B->A  ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload...)
//   5 A->B  ENCRYPT2(payload...)
// A is the initiator (it knows the info-hash, SKEY); B the responder (it finds SKEY among its torrents by
// HASH('req2', SKEY)). ENCRYPT is RC4 keyed with HASH('keyA', S, SKEY) from A and HASH('keyB', S, SKEY) from
// B, 1024 keystream bytes discarded; ENCRYPT2 is the same RC4 stream continued, or nothing if plaintext was
// selected.
//
// Invariants: every length read from the peer is checked before anything is buffered for it (pads <= 512,
// IA <= kMaxInitialPayload); the sync marker is searched for within 512 + its own size bytes and no further;
// so the bytes held before the handshake completes are bounded by kMaxHandshakeBytes. A failed handshake
// stays failed and produces no more output. Stalled handshakes are the driver's to time out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "crypto/dh_key.hpp"
#include "crypto/mse_error.hpp"
#include "crypto/rc4.hpp"
#include "crypto/stream_cipher.hpp"
#include "shoal/digest.hpp"

namespace shoal::crypto {

inline constexpr std::uint32_t kCryptoPlaintext = 0x01;
inline constexpr std::uint32_t kCryptoRc4 = 0x02;
inline constexpr std::size_t kMaxPad = 512;
inline constexpr std::size_t kVcSize = 8;
inline constexpr std::size_t kRc4Discard = 1024;
// IA carries the BitTorrent handshake (68 bytes), perhaps a few messages after it.
inline constexpr std::size_t kMaxInitialPayload = 16 * 1024;
// The most a responder buffers before its handshake completes: Ya, PadA, both hashes, VC, crypto_provide,
// len(PadC), PadC, len(IA), IA. (An initiator holds less: Yb, PadB, VC, crypto_select, len(PadD), PadD.)
inline constexpr std::size_t kMaxHandshakeBytes =
    kDhKeySize + kMaxPad + 20 + 20 + kVcSize + 4 + 2 + kMaxPad + 2 + kMaxInitialPayload;

// The caller's randomness: the DH private key and the padding sent after the public key (0..512 bytes; its
// length should be random too). PadC and PadD are sent empty, as the spec's current version asks.
struct MseSecrets {
  DhPrivateKey private_key{};
  std::vector<std::uint8_t> pad;
};

// HASH('req2', info_hash): what a responder compares received hashes against. A session with many torrents
// keeps these beside its info-hashes.
Sha1Digest mse_req2_hash(const Sha1Digest& info_hash);

class MseHandshake {
 public:
  enum class Status { in_progress, done, failed };
  // Responder's lookup: the info-hash whose HASH('req2', info-hash) is the argument, or nullopt.
  using InfoHashLookup = std::function<std::optional<Sha1Digest>(const Sha1Digest& req2_hash)>;

  // The side that dials. `crypto_provide` is kCryptoRc4, kCryptoPlaintext or both; `initial_payload` (IA,
  // normally the BitTorrent handshake) at most kMaxInitialPayload bytes. Ya and PadA are output at once.
  static MseHandshake initiator(const Sha1Digest& info_hash, std::uint32_t crypto_provide,
                                std::span<const std::uint8_t> initial_payload, MseSecrets secrets);
  // The side that accepts. `crypto_allowed` is what it may select; `preferred` is selected when the initiator
  // offers both.
  static MseHandshake responder(InfoHashLookup lookup, std::uint32_t crypto_allowed, MseSecrets secrets,
                                std::uint32_t preferred = kCryptoRc4);

  // Feeds bytes received. Once done(), further bytes go to the stream (see take_payload); once failed(), they
  // are ignored.
  Status on_bytes(std::span<const std::uint8_t> bytes);
  // Bytes to send now (empty when there is nothing new).
  std::vector<std::uint8_t> take_output();

  Status status() const { return status_; }
  bool done() const { return status_ == Status::done; }
  bool failed() const { return status_ == Status::failed; }
  std::optional<MseError> error() const { return error_; }

  // @name Once done()
  // @{
  std::uint32_t selected() const { return selected_; }  // kCryptoRc4 or kCryptoPlaintext
  const Sha1Digest& info_hash() const { return info_hash_; }
  // Plaintext received beyond the handshake, in order: the responder's IA, then anything after it
  // (decrypted per the selected method). The cipher below continues where these bytes leave off.
  std::vector<std::uint8_t> take_payload();
  // RC4 both ways, or pass-through if plaintext was selected.
  StreamCipher take_cipher() const;
  // @}

 private:
  enum class Step {
    // initiator
    await_yb,
    sync_vc,
    select_and_pad_len,
    pad_d,
    // responder
    await_ya,
    sync_req1,
    skey_hash,
    vc_provide_pad_len,
    pad_c,
    ia_len,
    ia,
    // both
    finished,
  };
  MseHandshake(bool initiator, MseSecrets secrets);

  void run();
  bool step();  // one step of parsing; false when more bytes are needed or it has ended
  void fail(MseError e);
  void finish(std::uint32_t selected);
  void derive_keys(const DhSecret& s);
  // Bytes received and not yet consumed.
  std::span<std::uint8_t> pending() { return {in_.data() + pos_, in_.size() - pos_}; }
  // Consumes n bytes (n <= pending().size()), decrypting them with the peer's handshake cipher.
  std::span<std::uint8_t> take_decrypted(std::size_t n);
  void write_encrypted(std::span<const std::uint8_t> bytes);
  void send_step3();
  void send_step4();

  bool initiator_;
  Status status_ = Status::in_progress;
  std::optional<MseError> error_;
  Step step_;
  MseSecrets secrets_;
  Sha1Digest info_hash_;
  InfoHashLookup lookup_;
  std::uint32_t crypto_ = 0;  // initiator: provided; responder: allowed
  std::uint32_t selected_ = 0;
  std::uint32_t preferred_ = kCryptoRc4;       // responder: chosen when both are offered
  std::vector<std::uint8_t> initial_payload_;  // initiator: to send
  std::size_t field_len_ = 0;                  // the length just read (PadC, PadD, IA)
  std::optional<DhSecret> secret_;
  Rc4 encrypt_;
  Rc4 decrypt_;
  std::vector<std::uint8_t> in_;
  std::size_t pos_ = 0;
  std::vector<std::uint8_t> out_;
  std::vector<std::uint8_t> payload_;
};

}  // namespace shoal::crypto
