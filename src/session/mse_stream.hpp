// The Asio half of MSE/PE: runs a crypto::MseHandshake over a connected TCP or uTP stream (write what it
// says, read, feed it) and hands back the stream cipher for the rest of the connection. The handshake's
// logic, bounds and errors are the core's; a stalled handshake is ended by the caller's timer closing the
// socket.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <span>
#include <string>

#include "crypto/mse_handshake.hpp"
#include "crypto/stream_cipher.hpp"
#include "session/peer_stream.hpp"
#include "shoal/expected.hpp"
#include "shoal/settings.hpp"
#include "wire/message_reader.hpp"

namespace shoal::session {

// A fresh DH private key and 0..512 bytes of random padding, from OpenSSL's CSPRNG.
crypto::MseSecrets random_mse_secrets();

// What an outgoing connection offers under `mode` (0 for plain: no MSE at all).
std::uint32_t mse_crypto_provide(EncryptionMode mode);
// What an incoming MSE connection may select under `mode` (0 for plain: refuse MSE).
std::uint32_t mse_crypto_allowed(EncryptionMode mode);
// What an accepting side selects when the dialling one offers both RC4 and plaintext.
std::uint32_t mse_crypto_preferred(EncryptionMode mode);

// True when `first` (at least 20 bytes) starts a plain BitTorrent handshake: 19, "BitTorrent protocol".
// Anything else is taken for an MSE public key.
bool looks_like_plain_handshake(std::span<const std::uint8_t> first);
inline constexpr std::size_t kPlainHandshakeProbe = 20;

// Drives `handshake` to its end over `socket`. `received` are bytes already read for it. On success the
// plaintext that followed the handshake (an IA, the peer's BitTorrent handshake...) is in `reader` and the
// cipher for everything after is returned; otherwise why it failed.
boost::asio::awaitable<Expected<crypto::StreamCipher, std::string>> run_mse(
    PeerStream& socket, crypto::MseHandshake& handshake, std::span<const std::uint8_t> received,
    wire::MessageReader& reader);

}  // namespace shoal::session
