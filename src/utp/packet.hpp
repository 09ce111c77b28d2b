// uTP (BEP 29) packets: the 20-byte version-1 header and its extension chain, of which the selective ACK
// (type 1) is read and written and any other is skipped. Decoding never trusts the input: every way a
// datagram can be malformed is a PacketError naming it. Sequence and ack numbers are 16 bits and wrap;
// seq.hpp compares them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "shoal/expected.hpp"

namespace shoal::utp {

enum class PacketType : std::uint8_t { data = 0, fin = 1, state = 2, reset = 3, syn = 4 };

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 20;
inline constexpr std::uint8_t kExtensionNone = 0;
inline constexpr std::uint8_t kExtensionSack = 1;
// libutp's "extension bits" (8 bytes, all zero from us): it opens our chain, because libutp takes a packet
// whose first extension type is above 2 for a version-0 one (measured against Transmission 3.00).
inline constexpr std::uint8_t kExtensionBits = 2;
inline constexpr std::size_t kExtensionBitsSize = 8;
// Shoal's own extension, in a SYN and in the STATE that answers it: the largest datagram its sender reads
// (2 bytes), after the extension bits. Peers that do not know it skip it, as BEP 29 asks of unknown
// extensions; without it a peer is sent nothing larger than an Ethernet frame carries
// (kUnadvertisedPacketLimit in connection.hpp), since a client reading into a 1500- or 4096-byte buffer
// would take a larger datagram truncated.
inline constexpr std::uint8_t kExtensionMaxPacket = 0x53;
inline constexpr std::size_t kMaxPacketExtensionSize = 2 + kExtensionBitsSize + 2 + 2;
// Limits on what a decoder accepts (a real packet has at most a SACK and perhaps one unknown extension).
inline constexpr std::size_t kMaxExtensions = 8;
// BEP 29 says a SACK bitmask is a multiple of 4 bytes, but libtorrent sends any length: any non-zero length
// is read. We send multiples of 4 up to kMaxSackBytes (256 packets past the ack).
inline constexpr std::size_t kMaxSackBytes = 32;

enum class PacketError {
  too_short = 1,        // fewer than the 20 header bytes
  bad_version,          // the low nibble of byte 0 is not 1
  bad_type,             // the high nibble of byte 0 is above 4
  truncated_extension,  // an extension's header or body runs past the datagram's end
  bad_sack_length,      // a SACK bitmask of 0 bytes
  too_many_extensions,  // the chain is longer than kMaxExtensions
  unexpected_payload,   // a SYN, STATE or RESET that carries payload bytes
};

const char* to_string(PacketError e);

struct PacketHeader {
  PacketType type = PacketType::data;
  std::uint16_t connection_id = 0;
  std::uint32_t timestamp_us = 0;             // the sender's clock when it sent this, low 32 bits
  std::uint32_t timestamp_difference_us = 0;  // its clock minus our timestamp on the last packet it received
  std::uint32_t window = 0;                   // bytes its receive buffer can still take
  std::uint16_t seq_nr = 0;
  std::uint16_t ack_nr = 0;
  std::uint16_t max_packet = 0;  // kExtensionMaxPacket's value; 0: absent
};

// A decoded datagram; the spans point into the buffer it was decoded from.
struct Packet {
  PacketHeader header;
  std::span<const std::uint8_t> sack;  // empty: none. Bit i (LSB first in each byte) acks ack_nr + 2 + i.
  std::span<const std::uint8_t> payload;
};

Expected<Packet, PacketError> decode_packet(std::span<const std::uint8_t> datagram);

// Appends the header, the max-packet extension when header.max_packet is not 0, the SACK extension when
// `sack` is not empty (its size must be a non-zero multiple of 4, at most kMaxSackBytes) and the payload to
// `out`. Returns the bytes appended.
std::size_t encode_packet(const PacketHeader& header, std::span<const std::uint8_t> sack,
                          std::span<const std::uint8_t> payload, std::vector<std::uint8_t>& out);

// Rewrites the fields a retransmission changes in an encoded packet (no extension may be present in it).
void rewrite_header(std::span<std::uint8_t> packet, std::uint32_t timestamp_us,
                    std::uint32_t timestamp_difference_us, std::uint32_t window, std::uint16_t ack_nr);

}  // namespace shoal::utp
