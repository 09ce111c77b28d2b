// The RPC password as the config file keeps it: never the password, a salted PBKDF2-HMAC-SHA256 hash,
// "pbkdf2-sha256$ITERATIONS$SALT_BASE64$HASH_BASE64".
#pragma once

#include <string>
#include <string_view>

namespace shoal::rpc {

inline constexpr int kPasswordIterations = 200'000;

// A new hash with a random 16-byte salt.
std::string make_password_hash(std::string_view password, int iterations = kPasswordIterations);
// True if `password` matches `stored`; false for a malformed `stored` too. Compares in constant time.
bool verify_password(std::string_view password, std::string_view stored);

}  // namespace shoal::rpc
