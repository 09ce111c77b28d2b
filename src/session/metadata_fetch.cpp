#include "session/metadata_fetch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "session/peer_id.hpp"
#include "shoal/version.hpp"
#include "wire/extension_handshake.hpp"
#include "wire/handshake.hpp"
#include "wire/message_reader.hpp"
#include "wire/ut_metadata.hpp"

namespace shoal::session {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr std::uint8_t kOurUtMetadataId = 2;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr int kRounds = 5;
constexpr auto kPauseBetweenRounds = std::chrono::seconds(1);

tcp::endpoint to_asio(const Endpoint& e) {
  if (e.v6) {
    asio::ip::address_v6::bytes_type b;
    std::copy(e.address.begin(), e.address.end(), b.begin());
    return {asio::ip::address_v6(b), e.port};
  }
  asio::ip::address_v4::bytes_type b;
  std::copy(e.address.begin(), e.address.begin() + 4, b.begin());
  return {asio::ip::address_v4(b), e.port};
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// One peer: handshake, extension handshake, then ut_metadata requests until the metadata is whole.
asio::awaitable<Expected<std::string, std::string>> fetch_from(const Sha1Digest& info_hash,
                                                               const Endpoint& peer,
                                                               std::chrono::seconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  asio::steady_timer deadline(executor);
  deadline.expires_after(timeout);
  deadline.async_wait([&socket](boost::system::error_code ec) {
    if (!ec) socket.close();
  });
  auto [connect_ec] = co_await socket.async_connect(to_asio(peer), kToken);
  if (connect_ec) co_return unexpected("cannot connect: " + connect_ec.message());

  wire::Handshake ours;
  ours.info_hash = info_hash;
  ours.peer_id = make_peer_id();
  ours.set_extensions(true);
  std::vector<std::uint8_t> out;
  auto hs = wire::encode_handshake(ours);
  out.assign(hs.begin(), hs.end());
  wire::ExtensionHandshake ext;
  ext.m = {{"ut_metadata", kOurUtMetadataId}};
  ext.client = "Shoal " + std::string(shoal::version());
  std::string ext_payload = wire::encode_extension_handshake(ext);
  wire::encode(wire::Extended{0, bytes_of(ext_payload)}, out);
  auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(out), kToken);
  if (write_ec) co_return unexpected("cannot send handshake: " + write_ec.message());

  wire::MessageReader reader;
  bool handshaken = false;
  std::optional<wire::MetadataAssembler> assembler;
  std::uint8_t their_id = 0;
  for (;;) {
    auto space = reader.prepare(kReadChunk);
    auto [read_ec, n] = co_await socket.async_read_some(asio::buffer(space.data(), space.size()), kToken);
    if (read_ec) co_return unexpected("connection closed: " + read_ec.message());
    reader.commit(n);
    if (!handshaken) {
      auto raw = reader.take(wire::kHandshakeSize);
      if (!raw) continue;
      auto theirs = wire::decode_handshake(*raw);
      if (!theirs || theirs->info_hash != info_hash) co_return unexpected(std::string("handshake refused"));
      if (!theirs->supports_extensions())
        co_return unexpected(std::string("peer does not support extensions"));
      handshaken = true;
    }
    for (;;) {
      auto message = reader.next();
      if (!message) co_return unexpected(message.error().message());
      if (!*message) break;
      auto* extended = std::get_if<wire::Extended>(&**message);
      if (extended == nullptr) continue;
      if (extended->id == 0) {
        std::string_view payload(reinterpret_cast<const char*>(extended->payload.data()),
                                 extended->payload.size());
        auto h = wire::decode_extension_handshake(payload);
        if (!h || !h->id_of("ut_metadata") || !h->metadata_size) {
          co_return unexpected(std::string("peer does not offer metadata"));
        }
        auto created = wire::MetadataAssembler::create(*h->metadata_size, info_hash);
        if (!created) co_return unexpected(created.error().message());
        assembler.emplace(std::move(*created));
        their_id = *h->id_of("ut_metadata");
        out.clear();
        while (auto piece = assembler->next_request()) {
          wire::MetadataMessage request;
          request.type = wire::MetadataMessage::Type::request;
          request.piece = *piece;
          std::string bytes = wire::encode_metadata_message(request);
          wire::encode(wire::Extended{their_id, bytes_of(bytes)}, out);
        }
        auto [ec2, w2] = co_await asio::async_write(socket, asio::buffer(out), kToken);
        if (ec2) co_return unexpected("cannot send requests: " + ec2.message());
      } else if (extended->id == kOurUtMetadataId && assembler) {
        auto m = wire::decode_metadata_message(extended->payload);
        if (!m) co_return unexpected(m.error().message());
        if (m->type == wire::MetadataMessage::Type::reject)
          co_return unexpected(std::string("metadata request rejected"));
        if (m->type != wire::MetadataMessage::Type::data) continue;
        auto done = assembler->on_data(m->piece, m->data);
        if (!done) co_return unexpected(done.error().message());
        if (*done) co_return assembler->metadata();
      }
    }
  }
}

}  // namespace

asio::awaitable<Expected<metainfo::TorrentInfo, std::string>> fetch_metadata(
    Sha1Digest info_hash, std::vector<Endpoint> peers, std::chrono::seconds timeout_per_peer) {
  std::string last_error = "no peers to ask";
  // A peer that only just started may not have added the torrent yet: go round the list a few times.
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {
      asio::steady_timer pause(co_await asio::this_coro::executor);
      pause.expires_after(kPauseBetweenRounds);
      co_await pause.async_wait(kToken);
    }
    for (const auto& peer : peers) {
      auto metadata = co_await fetch_from(info_hash, peer, timeout_per_peer);
      if (!metadata) {
        last_error = peer.to_string() + ": " + metadata.error();
        continue;
      }
      auto info = metainfo::parse_info_dict(*metadata);
      if (!info) {
        last_error = peer.to_string() + ": " + info.error().message();
        continue;
      }
      co_return std::move(*info);
    }
  }
  co_return unexpected(last_error);
}

}  // namespace shoal::session
