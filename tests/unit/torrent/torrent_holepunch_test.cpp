// BEP 55 in torrent::Torrent: the relay's answers (connect to both, or each error code), the `connect` dial
// (Dial::holepunch) and its limits, the initiator's rendezvous after a failed dial to a PEX address, and what
// a private torrent never does.
#include "torrent/torrent.hpp"

#include <gtest/gtest.h>

#include "torrent_harness.hpp"
#include "wire/ut_holepunch.hpp"
#include "wire/ut_pex.hpp"

namespace shoal::torrent::testing {
namespace {

constexpr std::int32_t kPieces = 4;
constexpr std::int64_t kPieceLength = 2 * swarm::kBlockSize;
constexpr std::int64_t kTotal = kPieces * kPieceLength;
// The ids peers want their ut_holepunch and ut_pex messages under.
constexpr std::uint8_t kTheirHolepunchId = 9;
constexpr std::uint8_t kTheirPexId = 7;

Params base_params(bool is_private = false) {
  auto p = Harness::make_params(kPieces, kPieceLength, kTotal);
  p.is_private = is_private;
  return p;
}

void handshake(Harness& h, PeerId peer, bool holepunch,
               std::optional<std::uint16_t> listen_port = std::nullopt) {
  wire::ExtensionHandshake x;
  x.m.emplace_back("ut_pex", kTheirPexId);
  if (holepunch) x.m.emplace_back("ut_holepunch", kTheirHolepunchId);
  x.listen_port = listen_port;
  auto bytes = wire::encode_extension_handshake(x);
  ASSERT_TRUE(h.receive(peer, wire::Extended{0, bytes_of(bytes)}));
}

bool send_holepunch(Harness& h, PeerId from, const wire::HolepunchMessage& m) {
  auto bytes = wire::encode_holepunch(m);
  return h.receive(from, wire::Extended{swarm::kOurUtHolepunchId, bytes_of(bytes)});
}

// The ut_holepunch messages the torrent wrote to `peer` since the last flush.
std::vector<wire::HolepunchMessage> holepunch_to(Harness& h, PeerId peer) {
  std::vector<wire::HolepunchMessage> out;
  auto written = h.flush(peer);
  for (const auto& e : written.all<wire::Extended>()) {
    if (e.id != kTheirHolepunchId) continue;
    auto m = wire::decode_holepunch({reinterpret_cast<const char*>(e.payload.data()), e.payload.size()});
    EXPECT_TRUE(m) << "the torrent wrote a ut_holepunch message that does not decode";
    if (m) out.push_back(*m);
  }
  return out;
}

wire::HolepunchMessage rendezvous(const Endpoint& target) {
  return {wire::HolepunchType::rendezvous, target, wire::HolepunchError::none};
}
wire::HolepunchMessage connect_to(const Endpoint& peer) {
  return {wire::HolepunchType::connect, peer, wire::HolepunchError::none};
}

std::vector<Dial> holepunch_dials(const std::vector<Action>& actions) {
  std::vector<Dial> out;
  for (const auto& d : actions_of<Dial>(actions)) {
    if (d.holepunch) out.push_back(d);
  }
  return out;
}

TEST(TorrentHolepunch, OurHandshakeOffersItExceptForAPrivateTorrent) {
  for (bool is_private : {false, true}) {
    swarm::OurExtensions ours;
    ours.is_private = is_private;
    auto h = swarm::our_extension_handshake(ours);
    EXPECT_EQ(h.id_of("ut_holepunch").has_value(), !is_private) << (is_private ? "private" : "public");
    if (!is_private) {
      EXPECT_EQ(*h.id_of("ut_holepunch"), swarm::kOurUtHolepunchId);
    }
  }
}

// ---- Relay.

struct Relay {
  Harness h{base_params()};
  PeerId initiator = swarm::kNoPeer;
  PeerId target = swarm::kNoPeer;
  Endpoint initiator_listen = ip(1, 1, 7001);
  Endpoint target_at = ip(2, 1, 7002);

  explicit Relay(bool target_holepunch = true) {
    h.have_all();
    h.start();
    // The initiator dialled us (from an ephemeral port) and said where it listens; we dialled the target.
    initiator = h.connect(ip(1, 1, 50000));
    handshake(h, initiator, true, initiator_listen.port);
    target = h.connect(target_at, true);
    handshake(h, target, target_holepunch);
    h.flush(initiator);
    h.flush(target);
    h.actions();
  }
};

TEST(TorrentHolepunch, RelayTellsBothSidesToConnect) {
  Relay r;
  ASSERT_TRUE(send_holepunch(r.h, r.initiator, rendezvous(r.target_at)));
  auto to_target = holepunch_to(r.h, r.target);
  ASSERT_EQ(to_target.size(), 1u);
  EXPECT_EQ(to_target[0], connect_to(r.initiator_listen));  // where it listens, not where it came from
  auto to_initiator = holepunch_to(r.h, r.initiator);
  ASSERT_EQ(to_initiator.size(), 1u);
  EXPECT_EQ(to_initiator[0], connect_to(r.target_at));
}

TEST(TorrentHolepunch, RelayFindsAnIncomingTargetByItsListenPort) {
  Relay r;
  auto incoming = r.h.connect(ip(3, 1, 40000));
  handshake(r.h, incoming, true, 7003);
  r.h.flush(incoming);
  ASSERT_TRUE(send_holepunch(r.h, r.initiator, rendezvous(ip(3, 1, 7003))));
  auto to_target = holepunch_to(r.h, incoming);
  ASSERT_EQ(to_target.size(), 1u);
  EXPECT_EQ(to_target[0], connect_to(r.initiator_listen));
}

TEST(TorrentHolepunch, RelayAnswersEachFailureWithItsErrorCode) {
  struct Case {
    const char* what;
    bool target_holepunch;
    Endpoint target;
    wire::HolepunchError expected;
  };
  const Case cases[] = {
      {"not connected to the target", true, ip(9, 9, 9000), wire::HolepunchError::not_connected},
      {"the target does not speak ut_holepunch", false, ip(2, 1, 7002), wire::HolepunchError::no_support},
      {"port zero", true, ip(2, 1, 0), wire::HolepunchError::no_such_peer},
      {"the unspecified address", true, Endpoint::from_v4(std::array<std::uint8_t, 4>{0, 0, 0, 0}, 7002),
       wire::HolepunchError::no_such_peer},
      {"the initiator itself, where it listens", true, ip(1, 1, 7001), wire::HolepunchError::no_such_peer},
      {"the initiator itself, where it came from", true, ip(1, 1, 50000), wire::HolepunchError::no_such_peer},
      {"ourselves", true, ip(5, 5, 6881), wire::HolepunchError::no_self},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Relay r(c.target_holepunch);
    r.h.torrent.on_self_connection(ip(5, 5, 6881));
    ASSERT_TRUE(send_holepunch(r.h, r.initiator, rendezvous(c.target)));
    auto answer = holepunch_to(r.h, r.initiator);
    ASSERT_EQ(answer.size(), 1u);
    EXPECT_EQ(answer[0], (wire::HolepunchMessage{wire::HolepunchType::error, c.target, c.expected}));
    EXPECT_TRUE(holepunch_to(r.h, r.target).empty()) << "the target heard of a failed rendezvous";
  }
}

TEST(TorrentHolepunch, RelayForwardsAtMostSoManyPerTick) {
  Relay r;
  for (int i = 0; i < kMaxHolepunchRelaysPerTick + 5; ++i)
    ASSERT_TRUE(send_holepunch(r.h, r.initiator, rendezvous(r.target_at)));
  EXPECT_EQ(holepunch_to(r.h, r.target).size(), static_cast<std::size_t>(kMaxHolepunchRelaysPerTick));
  EXPECT_EQ(holepunch_to(r.h, r.initiator).size(), static_cast<std::size_t>(kMaxHolepunchRelaysPerTick));
  r.h.tick();
  ASSERT_TRUE(send_holepunch(r.h, r.initiator, rendezvous(r.target_at)));
  EXPECT_EQ(holepunch_to(r.h, r.target).size(), 1u);
}

TEST(TorrentHolepunch, MalformedMessagesAreIgnoredAndTheConnectionStays) {
  Relay r;
  const std::string bad[] = {"", std::string(1, '\x00'),
                             std::string("\x07\x00\x01\x02\x03\x04\x00\x01\x00\x00\x00\x00", 12),
                             std::string("\x00\x00\x01\x02\x03\x04\x00\x01\x00\x00\x00\x00\xff", 13)};
  for (const auto& payload : bad) {
    EXPECT_TRUE(r.h.receive(r.initiator, wire::Extended{swarm::kOurUtHolepunchId, bytes_of(payload)}));
  }
  EXPECT_TRUE(holepunch_to(r.h, r.target).empty());
  EXPECT_TRUE(holepunch_to(r.h, r.initiator).empty());
  EXPECT_TRUE(holepunch_dials(r.h.actions()).empty());
  EXPECT_TRUE(disconnect_reasons(r.h.history, r.initiator).empty());
}

// ---- Connect (initiator and target alike).

TEST(TorrentHolepunch, ConnectDialsAtOnceAsAHolepunch) {
  Relay r;
  ASSERT_TRUE(send_holepunch(r.h, r.target, connect_to(ip(4, 1, 7004))));
  auto dials = holepunch_dials(r.h.actions());
  ASSERT_EQ(dials.size(), 1u);
  EXPECT_EQ(dials[0].endpoint, ip(4, 1, 7004));
  // Told again while the dial is on: nothing more.
  ASSERT_TRUE(send_holepunch(r.h, r.target, connect_to(ip(4, 1, 7004))));
  EXPECT_TRUE(holepunch_dials(r.h.actions()).empty());
  // The simultaneous open worked: the peer is ours, as an outgoing connection.
  auto id = r.h.connect(ip(4, 1, 7004), true);
  EXPECT_NE(id, swarm::kNoPeer);
}

TEST(TorrentHolepunch, ConnectIsRefusedWhereADialWouldBeWrong) {
  struct Case {
    const char* what;
    Endpoint endpoint;
    bool budget_spent = false;  // the session's half-open and dial-rate caps say no
  };
  const Case cases[] = {
      {"already connected (outgoing)", ip(2, 1, 7002)},
      {"already connected (incoming, where it listens)", ip(1, 1, 7001)},
      {"ourselves", ip(5, 5, 6881)},
      {"port zero", ip(4, 1, 0)},
      {"the session's dial budget is spent", ip(8, 8, 7008), true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Relay r;
    r.h.torrent.on_self_connection(ip(5, 5, 6881));
    if (c.budget_spent) r.h.mediator.dial_grants = 0;
    ASSERT_TRUE(send_holepunch(r.h, r.target, connect_to(c.endpoint)));
    EXPECT_TRUE(holepunch_dials(r.h.actions()).empty());
  }
}

TEST(TorrentHolepunch, ConnectDialsAtMostSoManyPerTick) {
  Relay r;
  for (int i = 0; i < kMaxHolepunchDialsPerTick + 3; ++i)
    ASSERT_TRUE(send_holepunch(r.h, r.target, connect_to(ip(4, static_cast<std::uint8_t>(i + 1), 7004))));
  EXPECT_EQ(holepunch_dials(r.h.actions()).size(), static_cast<std::size_t>(kMaxHolepunchDialsPerTick));
}

TEST(TorrentHolepunch, AFailedHolepunchDialAsksNoRelay) {
  Relay r;
  ASSERT_TRUE(send_holepunch(r.h, r.target, connect_to(ip(4, 1, 7004))));
  r.h.actions();
  r.h.torrent.on_dial_failed(ip(4, 1, 7004), r.h.now, true);
  EXPECT_TRUE(holepunch_to(r.h, r.target).empty());
  EXPECT_TRUE(holepunch_to(r.h, r.initiator).empty());
}

TEST(TorrentHolepunch, APrivateTorrentIgnoresEveryMessage) {
  Harness h(base_params(true));
  h.have_all();
  h.start();
  auto a = h.connect(ip(1, 1, 50000));
  handshake(h, a, true, 7001);
  auto b = h.connect(ip(2, 1, 7002), true);
  handshake(h, b, true);
  h.flush(a);
  h.flush(b);
  h.actions();
  ASSERT_TRUE(send_holepunch(h, a, rendezvous(ip(2, 1, 7002))));
  ASSERT_TRUE(send_holepunch(h, a, connect_to(ip(4, 1, 7004))));
  EXPECT_TRUE(holepunch_to(h, a).empty());
  EXPECT_TRUE(holepunch_to(h, b).empty());
  EXPECT_TRUE(holepunch_dials(h.actions()).empty());
}

// ---- Initiator.

TEST(TorrentHolepunch, AFailedDialToAPexAddressAsksThePeerThatToldOfIt) {
  Harness h(base_params());
  h.start();  // downloading: it dials what PEX brings
  auto relay = h.connect(ip(6, 1));
  handshake(h, relay, true);
  h.flush(relay);
  h.actions();
  wire::PexMessage pex;
  pex.added.push_back({ip(7, 1, 7001), wire::PexFlags::holepunch});
  auto bytes = wire::encode_pex(pex);
  ASSERT_TRUE(h.receive(relay, wire::Extended{swarm::kOurUtPexId, bytes_of(bytes)}));
  ASSERT_EQ(dialled(h.actions()), std::set<Endpoint>{ip(7, 1, 7001)});
  h.torrent.on_dial_failed(ip(7, 1, 7001), h.now);
  auto asked = holepunch_to(h, relay);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], rendezvous(ip(7, 1, 7001)));
  // The relay says connect: we dial as a holepunch.
  ASSERT_TRUE(send_holepunch(h, relay, connect_to(ip(7, 1, 7001))));
  auto dials = holepunch_dials(h.actions());
  ASSERT_EQ(dials.size(), 1u);
  EXPECT_EQ(dials[0].endpoint, ip(7, 1, 7001));
  // An error from the relay is only logged.
  ASSERT_TRUE(send_holepunch(h, relay,
                             {wire::HolepunchType::error, ip(7, 1, 7001), wire::HolepunchError::no_support}));
  EXPECT_TRUE(holepunch_to(h, relay).empty());
}

TEST(TorrentHolepunch, ThePunchGoesAheadBesideAnOrdinaryDialInFlight) {
  Harness h(base_params());
  h.start();
  auto relay = h.connect(ip(6, 1));
  handshake(h, relay, true);
  h.flush(relay);
  wire::PexMessage pex;
  pex.added.push_back({ip(7, 1, 7001), wire::PexFlags::holepunch});
  auto bytes = wire::encode_pex(pex);
  ASSERT_TRUE(h.receive(relay, wire::Extended{swarm::kOurUtPexId, bytes_of(bytes)}));
  ASSERT_EQ(dialled(h.actions()), std::set<Endpoint>{ip(7, 1, 7001)});  // ordinary, still in flight
  ASSERT_TRUE(send_holepunch(h, relay, connect_to(ip(7, 1, 7001))));
  auto dials = holepunch_dials(h.actions());
  ASSERT_EQ(dials.size(), 1u);
  // The ordinary dial fails (the NAT dropped it): the punch is not forgotten, and a relay is asked only once.
  h.torrent.on_dial_failed(ip(7, 1, 7001), h.now);
  EXPECT_EQ(holepunch_to(h, relay).size(), 1u);
  ASSERT_TRUE(send_holepunch(h, relay, connect_to(ip(7, 1, 7001))));
  EXPECT_TRUE(holepunch_dials(h.actions()).empty()) << "a second punch while the first is on";
  EXPECT_NE(h.connect(ip(7, 1, 7001), true), swarm::kNoPeer);
}

TEST(TorrentHolepunch, TheRendezvousIsAskedOnceAndOnlyOfAPeerThatSpeaksIt) {
  for (bool relay_speaks_it : {true, false}) {
    SCOPED_TRACE(relay_speaks_it ? "relay speaks ut_holepunch" : "relay does not");
    Harness h(base_params());
    h.start();
    auto relay = h.connect(ip(6, 1));
    handshake(h, relay, relay_speaks_it);
    h.flush(relay);
    wire::PexMessage pex;
    pex.added.push_back({ip(7, 1, 7001), 0});
    auto bytes = wire::encode_pex(pex);
    ASSERT_TRUE(h.receive(relay, wire::Extended{swarm::kOurUtPexId, bytes_of(bytes)}));
    h.actions();
    h.torrent.on_dial_failed(ip(7, 1, 7001), h.now);
    EXPECT_EQ(holepunch_to(h, relay).size(), relay_speaks_it ? 1u : 0u);
    // Dialled again later and failed again: not asked twice.
    h.torrent.on_dial_failed(ip(7, 1, 7001), h.now);
    EXPECT_TRUE(holepunch_to(h, relay).empty());
  }
}

TEST(TorrentHolepunch, PexTellsWhichPeersSpeakIt) {
  Harness h(base_params());
  h.start();
  auto listener = h.connect(ip(6, 1));
  handshake(h, listener, true);
  auto with = h.connect(ip(2, 1, 7002), true);
  handshake(h, with, true);
  auto without = h.connect(ip(3, 1, 7003), true);
  handshake(h, without, false);
  h.flush(listener);
  for (int i = 0; i < 3; ++i)
    h.tick();
  auto written = h.flush(listener);
  bool seen = false;
  for (const auto& e : written.all<wire::Extended>()) {
    if (e.id != kTheirPexId) continue;
    auto m = wire::decode_pex({reinterpret_cast<const char*>(e.payload.data()), e.payload.size()});
    ASSERT_TRUE(m);
    for (const auto& p : m->added) {
      seen = true;
      EXPECT_EQ((p.flags & wire::PexFlags::holepunch) != 0, p.endpoint == ip(2, 1, 7002))
          << p.endpoint.to_string();
    }
  }
  EXPECT_TRUE(seen) << "no PEX message within three ticks";
}

}  // namespace
}  // namespace shoal::torrent::testing
