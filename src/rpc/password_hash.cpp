#include "rpc/password_hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <optional>
#include <vector>

#include "rpc/base64.hpp"

namespace shoal::rpc {

namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr int kHashBytes = 32;
constexpr int kMaxIterations = 10'000'000;

std::optional<std::string> derive(std::string_view password, std::string_view salt, int iterations) {
  std::string out(kHashBytes, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                        iterations, EVP_sha256(), kHashBytes,
                        reinterpret_cast<unsigned char*>(out.data())) != 1)
    return std::nullopt;
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    auto at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

}  // namespace

std::string make_password_hash(std::string_view password, int iterations) {
  unsigned char salt[16];
  if (RAND_bytes(salt, sizeof salt) != 1) return {};
  std::string salt_bytes(reinterpret_cast<const char*>(salt), sizeof salt);
  auto hash = derive(password, salt_bytes, iterations);
  if (!hash) return {};
  return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + base64_encode(salt_bytes) + "$" +
         base64_encode(*hash);
}

bool verify_password(std::string_view password, std::string_view stored) {
  auto parts = split(stored, '$');
  if (parts.size() != 4 || parts[0] != kScheme) return false;
  int iterations = 0;
  auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), iterations);
  if (ec != std::errc() || end != parts[1].data() + parts[1].size() || iterations < 1 ||
      iterations > kMaxIterations)
    return false;
  auto salt = base64_decode(parts[2]);
  auto expected = base64_decode(parts[3]);
  if (!salt || !expected || expected->size() != kHashBytes) return false;
  auto actual = derive(password, *salt, iterations);
  return actual && CRYPTO_memcmp(actual->data(), expected->data(), kHashBytes) == 0;
}

}  // namespace shoal::rpc
