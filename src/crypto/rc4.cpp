#include "crypto/rc4.hpp"

#include <utility>

namespace shoal::crypto {

Rc4::Rc4(std::span<const std::uint8_t> key, std::size_t discard) {
  for (std::size_t n = 0; n < 256; ++n)
    s_[n] = static_cast<std::uint8_t>(n);
  if (!key.empty()) {
    std::uint8_t j = 0;
    for (std::size_t n = 0; n < 256; ++n) {
      j = static_cast<std::uint8_t>(j + s_[n] + key[n % key.size()]);
      std::swap(s_[n], s_[j]);
    }
  }
  std::array<std::uint8_t, 256> sink{};
  while (discard > 0) {
    std::size_t n = discard < sink.size() ? discard : sink.size();
    apply(std::span<std::uint8_t>(sink.data(), n));
    discard -= n;
  }
}

void Rc4::apply(std::span<std::uint8_t> data) {
  apply(data, data.data());
}

void Rc4::apply(std::span<const std::uint8_t> in, std::uint8_t* out) {
  // Local copies of the indexes let the compiler keep them in registers across the loop.
  std::uint8_t i = i_;
  std::uint8_t j = j_;
  auto* s = s_.data();
  const std::uint8_t* p = in.data();
  for (std::size_t n = 0, size = in.size(); n < size; ++n) {
    i = static_cast<std::uint8_t>(i + 1);
    std::uint8_t si = s[i];
    j = static_cast<std::uint8_t>(j + si);
    std::uint8_t sj = s[j];
    s[i] = sj;
    s[j] = si;
    out[n] = static_cast<std::uint8_t>(p[n] ^ s[static_cast<std::uint8_t>(si + sj)]);
  }
  i_ = i;
  j_ = j;
}

}  // namespace shoal::crypto
