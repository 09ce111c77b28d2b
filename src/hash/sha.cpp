#include "hash/sha.hpp"

#include <openssl/evp.h>

#include <stdexcept>
#include <utility>

namespace shoal::hash {
namespace {

template <class DigestT>
const EVP_MD* md() {
  if constexpr (DigestT::size == 20) {
    return EVP_sha1();
  } else {
    return EVP_sha256();
  }
}

template <class DigestT>
DigestT one_shot(const void* data, std::size_t size) {
  DigestT out;
  unsigned int len = 0;
  if (EVP_Digest(data, size, out.bytes.data(), &len, md<DigestT>(), nullptr) != 1 || len != DigestT::size) {
    throw std::runtime_error("OpenSSL EVP_Digest failed");  // only on a broken OpenSSL: a programmer error
  }
  return out;
}

}  // namespace

Sha1Digest sha1(std::string_view data) {
  return one_shot<Sha1Digest>(data.data(), data.size());
}
Sha1Digest sha1(std::span<const std::byte> data) {
  return one_shot<Sha1Digest>(data.data(), data.size());
}
Sha256Digest sha256(std::string_view data) {
  return one_shot<Sha256Digest>(data.data(), data.size());
}
Sha256Digest sha256(std::span<const std::byte> data) {
  return one_shot<Sha256Digest>(data.data(), data.size());
}

template <class DigestT>
Hasher<DigestT>::Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, md<DigestT>(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL digest init failed");
  }
}

template <class DigestT>
Hasher<DigestT>::~Hasher() {
  EVP_MD_CTX_free(ctx_);
}

template <class DigestT>
Hasher<DigestT>::Hasher(Hasher&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

template <class DigestT>
Hasher<DigestT>& Hasher<DigestT>::operator=(Hasher&& other) noexcept {
  std::swap(ctx_, other.ctx_);
  return *this;
}

template <class DigestT>
void Hasher<DigestT>::update(const void* data, std::size_t size) {
  EVP_DigestUpdate(ctx_, data, size);
}

template <class DigestT>
void Hasher<DigestT>::update(std::string_view data) {
  update(data.data(), data.size());
}

template <class DigestT>
void Hasher<DigestT>::update(std::span<const std::byte> data) {
  update(data.data(), data.size());
}

template <class DigestT>
DigestT Hasher<DigestT>::finish() {
  DigestT out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, out.bytes.data(), &len);
  EVP_DigestInit_ex(ctx_, md<DigestT>(), nullptr);
  return out;
}

template class Hasher<Sha1Digest>;
template class Hasher<Sha256Digest>;

}  // namespace shoal::hash
