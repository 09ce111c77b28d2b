// Why a Local Service Discovery (BEP 14) datagram was not accepted as an announce.
#pragma once

#include <string>
#include <system_error>

namespace shoal::lsd {

enum class Errc {
  packet_too_large = 1,  // above kMaxPacketSize: refused before looking inside
  not_bt_search,         // the first line is not "BT-SEARCH * HTTP/1.1"
  unterminated,          // no empty line ends the headers
  malformed_header,      // a header line without "name:" or with control characters
  duplicate_header,      // Host, Port or cookie given twice
  missing_host,
  unknown_host,  // Host names neither LSD multicast group
  missing_port,
  bad_port,  // not decimal, or outside 1..65535
  missing_info_hash,
  bad_info_hash,         // not 40 hexadecimal digits
  too_many_info_hashes,  // above kMaxInfoHashes
  bad_cookie,            // empty, longer than kMaxCookieSize, or not visible ASCII
};

const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}
std::string describe(Errc e);

}  // namespace shoal::lsd

template <>
struct std::is_error_code_enum<shoal::lsd::Errc> : std::true_type {};
