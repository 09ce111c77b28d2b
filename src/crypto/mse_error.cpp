#include "crypto/mse_error.hpp"

namespace shoal::crypto {

const char* to_string(MseError e) {
  switch (e) {
    case MseError::bad_public_key:
      return "MSE: degenerate Diffie-Hellman public key";
    case MseError::no_sync_marker:
      return "MSE: no sync marker within 512 bytes of padding";
    case MseError::bad_vc:
      return "MSE: bad verification constant";
    case MseError::pad_too_long:
      return "MSE: padding longer than 512 bytes";
    case MseError::unknown_info_hash:
      return "MSE: unknown info-hash";
    case MseError::no_common_method:
      return "MSE: no crypto method in common";
    case MseError::bad_crypto_select:
      return "MSE: crypto_select not one of the methods offered";
    case MseError::payload_too_long:
      return "MSE: initial payload too long";
  }
  return "MSE: unknown error";
}

}  // namespace shoal::crypto
