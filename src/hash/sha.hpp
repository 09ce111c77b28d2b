// SHA-1 and SHA-256 through OpenSSL EVP, which picks the CPU's SHA instructions when present.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "shoal/digest.hpp"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace shoal::hash {

Sha1Digest sha1(std::string_view data);
Sha1Digest sha1(std::span<const std::byte> data);
Sha256Digest sha256(std::string_view data);
Sha256Digest sha256(std::span<const std::byte> data);

// Incremental hasher; reusable after finish() (it resets itself). Movable, not copyable.
template <class DigestT>
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(Hasher&& other) noexcept;
  Hasher& operator=(Hasher&& other) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void update(std::string_view data);
  void update(std::span<const std::byte> data);
  void update(const void* data, std::size_t size);
  DigestT finish();

 private:
  EVP_MD_CTX* ctx_ = nullptr;
};

using Sha1Hasher = Hasher<Sha1Digest>;
using Sha256Hasher = Hasher<Sha256Digest>;

}  // namespace shoal::hash
