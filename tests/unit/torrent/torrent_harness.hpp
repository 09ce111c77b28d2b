// A driver for torrent::Torrent in unit tests: a fake Mediator, virtual time that only moves when a test
// moves it, the actions the torrent queued, and what it wrote to each peer decoded back into wire messages.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "hash/sha.hpp"
#include "swarm/peer_list.hpp"
#include "torrent/torrent.hpp"
#include "wire/extension_handshake.hpp"
#include "wire/message_reader.hpp"

namespace shoal::torrent::testing {

using namespace std::chrono_literals;

inline const Clock::time_point kStart = Clock::time_point{} + 100000s;

// The session's side, with every budget a test can squeeze.
class FakeMediator final : public Mediator {
 public:
  int connections = 500;
  int slots = 8;
  bool accept = true;
  int dial_grants = std::numeric_limits<int>::max();  // try_dial says no once these are used up
  std::set<Endpoint> handshaking;
  std::vector<Endpoint> dial_asks;  // every try_dial, granted or not

  int connection_limit() const override { return connections; }
  int upload_slots() const override { return slots; }
  bool may_accept() const override { return accept; }
  bool handshaking_with(const Endpoint& endpoint) const override { return handshaking.count(endpoint) != 0; }
  bool try_dial(const Endpoint& endpoint) override {
    dial_asks.push_back(endpoint);
    if (dial_grants <= 0) return false;
    --dial_grants;
    return true;
  }
};

// 10.0.a.b:port (not loopback, so a ban covers the whole address).
inline Endpoint ip(std::uint8_t a, std::uint8_t b, std::uint16_t port = 6881) {
  const std::uint8_t bytes[4] = {10, 0, a, b};
  return Endpoint::from_v4(std::span<const std::uint8_t, 4>(bytes), port);
}

inline std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

template <class T>
std::vector<T> actions_of(const std::vector<Action>& actions) {
  std::vector<T> out;
  for (const auto& a : actions) {
    if (const auto* t = std::get_if<T>(&a)) out.push_back(*t);
  }
  return out;
}

template <class T>
std::size_t count_actions(const std::vector<Action>& actions) {
  return actions_of<T>(actions).size();
}

inline std::vector<std::string> disconnect_reasons(const std::vector<Action>& actions, PeerId peer) {
  std::vector<std::string> out;
  for (const auto& d : actions_of<Disconnect>(actions)) {
    if (d.peer == peer) out.push_back(d.reason);
  }
  return out;
}

inline std::set<Endpoint> dialled(const std::vector<Action>& actions) {
  std::set<Endpoint> out;
  for (const auto& d : actions_of<Dial>(actions))
    out.insert(d.endpoint);
  return out;
}

// What one take_output carried, decoded: the small messages, then the blocks. Views in `messages` point into
// the reader's buffer, which lives (and never moves) as long as this object.
struct Output {
  bool taken = false;  // take_output said something waited
  std::unique_ptr<wire::MessageReader> reader = std::make_unique<wire::MessageReader>();
  std::vector<wire::Message> messages;
  std::int64_t payload = 0;  // block bytes
  std::size_t blocks = 0;

  template <class M>
  std::vector<M> all() const {
    std::vector<M> out;
    for (const auto& m : messages) {
      if (const auto* t = std::get_if<M>(&m)) out.push_back(*t);
    }
    return out;
  }
  template <class M>
  std::size_t count() const {
    return all<M>().size();
  }
  // The extension message ids, in order (0: the BEP 10 handshake).
  std::vector<std::uint8_t> extended_ids() const {
    std::vector<std::uint8_t> out;
    for (const auto& e : all<wire::Extended>())
      out.push_back(e.id);
    return out;
  }
};

inline std::vector<wire::Message> decode_all(wire::MessageReader& reader,
                                             std::span<const std::uint8_t> bytes) {
  auto space = reader.prepare(bytes.size());
  if (!bytes.empty()) std::memcpy(space.data(), bytes.data(), bytes.size());
  reader.commit(bytes.size());
  std::vector<wire::Message> out;
  for (;;) {
    auto next = reader.next();
    EXPECT_TRUE(next.has_value()) << "the torrent wrote bytes that do not decode";
    if (!next || !*next) break;
    out.push_back(**next);
  }
  EXPECT_TRUE(reader.buffered().empty()) << "a partial message was written";
  return out;
}

// The BEP 10 handshake a peer sends us (ids 0 leave the extension out).
inline std::string peer_extension_handshake(std::uint8_t ut_metadata, std::uint8_t ut_pex,
                                            std::optional<std::uint16_t> listen_port = std::nullopt) {
  wire::ExtensionHandshake h;
  if (ut_metadata != 0) h.m.emplace_back("ut_metadata", ut_metadata);
  if (ut_pex != 0) h.m.emplace_back("ut_pex", ut_pex);
  h.client = "Peer 1.0";
  h.listen_port = listen_port;
  return wire::encode_extension_handshake(h);
}

inline swarm::SmartBan::Digest sha1_of(std::span<const std::uint8_t> data) {
  auto d = hash::sha1(std::as_bytes(data));
  return d.bytes;
}

// One torrent, its mediator and the virtual clock. The content is a deterministic pattern, so every block a
// test delivers or a read answers has known bytes.
class Harness {
 public:
  static Params make_params(std::int32_t num_pieces, std::int64_t piece_length, std::int64_t total_size) {
    Params p;
    p.info_hash.bytes.fill(0xab);
    p.peer_id.fill('S');
    p.num_pieces = num_pieces;
    p.piece_length = piece_length;
    p.total_size = total_size;
    p.info_bytes = "d4:name4:teste";
    p.client = "Shoal test";
    p.listen_port = 6881;
    p.seed = 1;
    return p;
  }

  // with_content false: no content (a test of a huge torrent that never serves or checks a block).
  explicit Harness(Params p, bool with_content = true) : params(p), torrent(std::move(p), mediator, now) {
    if (!with_content) return;
    content.resize(static_cast<std::size_t>(params.total_size));
    for (std::size_t i = 0; i < content.size(); ++i)
      content[i] = static_cast<std::uint8_t>((i * 7 + i / 251) & 0xff);
  }

  // Everything queued since the last call (all of it is also kept in `history`).
  std::vector<Action> actions() {
    auto a = torrent.take_actions();
    history.insert(history.end(), a.begin(), a.end());
    return a;
  }

  void have_all() {
    for (std::int32_t p = 0; p < params.num_pieces; ++p)
      torrent.mark_have(PieceIndex(p));
  }
  void start() { torrent.start(now); }
  void tick(Clock::duration step = 1s) {
    now += step;
    torrent.on_tick(now);
  }

  PeerId connect(const Endpoint& remote, bool outgoing = false, swarm::PeerFeatures features = {true, true}) {
    auto id = torrent.on_peer_connected(remote, outgoing, features, now);
    EXPECT_TRUE(id.has_value()) << (id ? "" : id.error());
    return id ? *id : swarm::kNoPeer;
  }

  bool receive(PeerId peer, const wire::Message& m) { return torrent.on_message(peer, m, now); }
  // A batch of messages from the peer, as one read would bring them.
  bool receive_all(PeerId peer, std::initializer_list<wire::Message> ms) {
    for (const auto& m : ms) {
      if (!receive(peer, m)) return false;
    }
    torrent.on_messages_done(peer);
    return true;
  }
  void extension_handshake(PeerId peer, std::uint8_t ut_metadata, std::uint8_t ut_pex,
                           std::optional<std::uint16_t> listen_port = std::nullopt) {
    std::string h = peer_extension_handshake(ut_metadata, ut_pex, listen_port);
    receive(peer, wire::Extended{0, bytes_of(h)});
  }

  // take_output, decoded; the write stays on the socket until written().
  Output take(PeerId peer, std::size_t max_blocks = std::numeric_limits<std::size_t>::max()) {
    Output out;
    std::vector<std::uint8_t> bytes;
    std::vector<swarm::SendQueue::Block> blocks;
    out.taken = torrent.take_output(peer, bytes, blocks, max_blocks, now);
    if (!out.taken) return out;
    std::vector<std::uint8_t> all = bytes;
    for (const auto& b : blocks) {
      all.insert(all.end(), b.message.begin(), b.message.end());
      out.payload += b.request.length;
    }
    out.blocks = blocks.size();
    out.messages = decode_all(*out.reader, all);
    return out;
  }
  void written(PeerId peer, const Output& out) { torrent.on_write_done(peer, out.payload, now); }
  // take_output and the write finishing at once: what the peer now knows.
  Output flush(PeerId peer) {
    auto out = take(peer);
    if (out.taken) written(peer, out);
    return out;
  }

  std::span<const std::uint8_t> piece_bytes(std::int32_t piece) const {
    auto begin = static_cast<std::size_t>(piece) * static_cast<std::size_t>(params.piece_length);
    auto size = static_cast<std::size_t>(
        std::min<std::int64_t>(params.piece_length, params.total_size - static_cast<std::int64_t>(begin)));
    return {content.data() + begin, size};
  }
  std::shared_ptr<const std::vector<std::uint8_t>> piece_copy(std::int32_t piece) const {
    auto bytes = piece_bytes(piece);
    return std::make_shared<const std::vector<std::uint8_t>>(bytes.begin(), bytes.end());
  }
  // The piece message a peer that has the content sends for one of our requests.
  wire::Piece block(const wire::Request& r) const {
    auto bytes = piece_bytes(static_cast<std::int32_t>(r.piece));
    return wire::Piece{r.piece, r.begin, bytes.subspan(r.begin, r.length)};
  }

  // Answers every VerifyPiece in `actions` as the disk would: the SHA-1 of the content decides, and each
  // block's hash is filled in when asked for or when the piece fails.
  void answer_verifies(const std::vector<Action>& actions) {
    for (const auto& v : actions_of<VerifyPiece>(actions)) {
      auto expected = piece_bytes(v.piece.get());
      bool ok =
          v.data.size() == expected.size() && std::equal(v.data.begin(), v.data.end(), expected.begin());
      auto blocks = v.blocks;
      if (v.block_hashes || !ok) fill_block_hashes(v.data, blocks);
      torrent.on_piece_written(v.piece, ok, false, std::move(blocks), v.data);
    }
  }
  static void fill_block_hashes(std::span<const std::uint8_t> data,
                                std::vector<swarm::SmartBan::Block>& blocks) {
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      auto begin = i * static_cast<std::size_t>(swarm::kBlockSize);
      auto size = std::min<std::size_t>(swarm::kBlockSize, data.size() - begin);
      blocks[i].hash = sha1_of(data.subspan(begin, size));
    }
  }

  Params params;  // as given to the torrent
  FakeMediator mediator;
  Clock::time_point now = kStart;
  Torrent torrent;
  std::vector<std::uint8_t> content;
  std::vector<Action> history;
};

}  // namespace shoal::torrent::testing
