// torrent-get's peer and piece fields: what Transmission clients read for -pi, -ip and the piece map.
#include "rpc/peer_fields.hpp"

#include <gtest/gtest.h>

#include "fake_backend.hpp"
#include "rpc/base64.hpp"
#include "rpc/dispatcher.hpp"

namespace shoal::rpc {
namespace {

using nlohmann::json;

PeerInfo peer(std::string address, PeerOrigin origin) {
  PeerInfo p;
  p.address = std::move(address);
  p.origin = origin;
  p.incoming = origin == PeerOrigin::incoming;
  return p;
}

class PeerFieldsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TorrentView t;
    t.id = 1;
    t.status.info_hash = std::string(40, 'a');
    t.status.num_pieces = 10;
    auto downloading = peer("10.0.0.1:6881", PeerOrigin::tracker);
    downloading.client = "Transmission 3.00";
    downloading.am_interested = true;
    downloading.peer_choking = false;
    downloading.download_rate = 2500;
    downloading.progress = 0.5;
    auto uploading = peer("[2001:db8::1]:51413", PeerOrigin::incoming);
    uploading.peer_interested = true;
    uploading.am_choking = false;
    uploading.upload_rate = 1200;
    auto idle = peer("10.0.0.3:7000", PeerOrigin::pex);
    idle.am_interested = true;  // wants its pieces, but is choked
    t.details.peers = {downloading, uploading, idle, peer("10.0.0.4:7001", PeerOrigin::dht)};
    // Pieces 0, 1 and 9 of 10: 0b11000000, 0b01000000.
    t.details.pieces = std::string("\xc0\x40", 2);
    t.details.availability = {3, 2, 0, 1, 1, 1, 1, 1, 1, 4};
    backend_.views[1] = t;
  }

  json get(std::vector<std::string> fields) {
    Dispatcher d(backend_, PathPolicy({}));
    auto r = d.handle(json{{"method", "torrent-get"}, {"arguments", {{"fields", fields}, {"ids", {1}}}}},
                      1'700'000'000, "sid");
    EXPECT_EQ(r["result"], "success");
    return r["arguments"]["torrents"][0];
  }

  testing::FakeBackend backend_;
};

TEST_F(PeerFieldsTest, OnlyFieldsThatNeedThemAskForPeersPiecesOrAvailability) {
  get({"id", "name", "rateDownload", "files"});
  EXPECT_FALSE(backend_.last_query_details.peers);
  EXPECT_FALSE(backend_.last_query_details.pieces);
  EXPECT_FALSE(backend_.last_query_details.availability);
  get({"peersSendingToUs"});
  EXPECT_TRUE(backend_.last_query_details.peers);
  EXPECT_FALSE(backend_.last_query_details.pieces);
  get({"pieces"});
  EXPECT_TRUE(backend_.last_query_details.pieces);
  EXPECT_FALSE(backend_.last_query_details.peers);
  get({"availability"});
  EXPECT_TRUE(backend_.last_query_details.availability);
  EXPECT_TRUE(backend_.last_query_details.pieces);  // to mark our own pieces -1
}

TEST_F(PeerFieldsTest, PeersCarryAddressPortClientFlagsAndRates) {
  auto t = get({"peers"});
  ASSERT_EQ(t["peers"].size(), 4u);
  auto& d = t["peers"][0];
  EXPECT_EQ(d["address"], "10.0.0.1");
  EXPECT_EQ(d["port"], 6881);
  EXPECT_EQ(d["clientName"], "Transmission 3.00");
  EXPECT_EQ(d["flagStr"], "D");
  EXPECT_EQ(d["isDownloadingFrom"], true);
  EXPECT_EQ(d["clientIsChoked"], false);
  EXPECT_EQ(d["rateToClient"], 2500);
  EXPECT_DOUBLE_EQ(d["progress"].get<double>(), 0.5);
  auto& u = t["peers"][1];
  EXPECT_EQ(u["address"], "2001:db8::1");
  EXPECT_EQ(u["port"], 51413);
  EXPECT_EQ(u["flagStr"], "UI");
  EXPECT_EQ(u["isIncoming"], true);
  EXPECT_EQ(u["isUploadingTo"], true);
  EXPECT_EQ(u["rateToPeer"], 1200);
  EXPECT_EQ(t["peers"][2]["flagStr"], "dX");
  EXPECT_EQ(t["peers"][3]["flagStr"], "H");
}

TEST_F(PeerFieldsTest, CountsAreExactNotEstimated) {
  auto t = get({"peersSendingToUs", "peersGettingFromUs", "peersFrom"});
  EXPECT_EQ(t["peersSendingToUs"], 1);
  EXPECT_EQ(t["peersGettingFromUs"], 1);
  EXPECT_EQ(t["peersFrom"]["fromTracker"], 1);
  EXPECT_EQ(t["peersFrom"]["fromIncoming"], 1);
  EXPECT_EQ(t["peersFrom"]["fromPex"], 1);
  EXPECT_EQ(t["peersFrom"]["fromDht"], 1);
  EXPECT_EQ(t["peersFrom"]["fromLpd"], 0);
}

TEST_F(PeerFieldsTest, PiecesIsTheBase64BitfieldAndAvailabilityMarksOursMinusOne) {
  auto t = get({"pieces", "availability"});
  EXPECT_EQ(t["pieces"], base64_encode(std::string("\xc0\x40", 2)));
  EXPECT_EQ(t["availability"], json({-1, -1, 0, 1, 1, 1, 1, 1, 1, -1}));
}

TEST_F(PeerFieldsTest, ATorrentWithoutDetailsHasEmptyValues) {
  backend_.views[1].details = {};
  auto t = get({"peers", "pieces", "availability", "peersSendingToUs"});
  EXPECT_EQ(t["peers"], json::array());
  EXPECT_EQ(t["pieces"], "");
  EXPECT_EQ(t["availability"], json::array());
  EXPECT_EQ(t["peersSendingToUs"], 0);
}

}  // namespace
}  // namespace shoal::rpc
