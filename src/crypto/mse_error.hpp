// Why an MSE/PE handshake failed: each is a value naming the exact step, never an exception.
#pragma once

namespace shoal::crypto {

enum class MseError {
  bad_public_key = 1,  // the peer's DH key is 0, 1, P-1 or not below P
  no_sync_marker,  // HASH('req1', S) (responder) or ENCRYPT(VC) (initiator) not within 512 + its size bytes
  bad_vc,          // the verification constant did not decrypt to eight zero bytes
  pad_too_long,    // len(PadC) or len(PadD) above 512
  unknown_info_hash,  // HASH('req2', SKEY) names no torrent of ours
  no_common_method,   // crypto_provide offers nothing we allow
  bad_crypto_select,  // crypto_select is not exactly one method, or one we did not offer
  payload_too_long,   // len(IA) above kMaxInitialPayload
};

// Static text naming the reason ("no sync marker within 532 bytes", ...).
const char* to_string(MseError e);

}  // namespace shoal::crypto
