#include "webseed/web_seed.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace shoal::webseed {
namespace {

using namespace std::chrono_literals;
const Clock::time_point kNow = Clock::time_point{} + 1000s;

struct FileSpec {
  std::int64_t length;
  bool pad = false;
};

Layout layout_of(std::vector<FileSpec> specs, std::int64_t piece_length) {
  Layout l;
  l.base_url = "http://seed/";
  l.piece_length = piece_length;
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    LayoutFile f;
    f.offset = offset;
    f.length = specs[i].length;
    f.pad = specs[i].pad;
    if (!f.pad) f.url = "http://seed/T/f" + std::to_string(i);
    offset += f.length;
    l.files.push_back(f);
  }
  l.total_size = offset;
  l.num_pieces = static_cast<std::int32_t>((offset + piece_length - 1) / piece_length);
  return l;
}

// The torrent's bytes: byte i of the whole torrent is (i * 7 + 3) % 251, pad bytes zero.
std::vector<std::uint8_t> torrent_bytes(const Layout& l) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(l.total_size));
  for (const auto& f : l.files) {
    for (std::int64_t i = f.offset; i < f.offset + f.length; ++i)
      out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(f.pad ? 0 : (i * 7 + 3) % 251);
  }
  return out;
}

ResponseHead partial(std::int64_t first, std::int64_t last, std::int64_t total) {
  ResponseHead h;
  h.status = 206;
  h.content_range =
      "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(total);
  h.content_length = last - first + 1;
  return h;
}

// Answers the seed's current request with the right bytes, in chunks; returns false if it refused.
bool serve(WebSeed& seed, const Layout& l, std::size_t chunk = 5000) {
  auto req = seed.request();
  if (!req) return false;
  const LayoutFile* file = nullptr;
  for (const auto& f : l.files)
    if (f.url == req->url) file = &f;
  if (!file) return false;
  auto d = seed.on_head(partial(req->first, req->last, file->length), kNow);
  if (d.verdict != HeadVerdict::read_body) return false;
  auto all = torrent_bytes(l);
  auto begin = static_cast<std::size_t>(file->offset + req->first);
  auto end = static_cast<std::size_t>(file->offset + req->last + 1);
  for (auto at = begin; at < end; at += chunk) {
    auto n = std::min(chunk, end - at);
    auto more = seed.on_body(std::span<const std::uint8_t>(all.data() + at, n), kNow);
    if (at + n < end && more == 0) return false;
  }
  return true;
}

std::vector<std::uint8_t> expected_piece(const Layout& l, std::int32_t piece) {
  auto all = torrent_bytes(l);
  auto begin = static_cast<std::size_t>(piece * l.piece_length);
  auto size = static_cast<std::size_t>(l.piece_size(PieceIndex{piece}));
  return {all.begin() + static_cast<std::ptrdiff_t>(begin),
          all.begin() + static_cast<std::ptrdiff_t>(begin + size)};
}

TEST(WebSeedPlan, SpansSkipPadFilesAndJoinAdjacentBlocksOfAFile) {
  auto l = layout_of({{10000}, {6384, true}, {40000}, {0}, {5}}, 16384);
  auto spans = plan_spans(l, 0, l.total_size);
  ASSERT_EQ(spans.size(), 3u);  // the pad and the empty file have no span
  EXPECT_EQ(spans[0].file, 0u);
  EXPECT_EQ(spans[0].length, 10000);
  EXPECT_EQ(spans[1].file, 2u);
  EXPECT_EQ(spans[1].file_offset, 0);
  EXPECT_EQ(spans[1].length, 40000);
  EXPECT_EQ(spans[1].run_offset, 16384);
  EXPECT_EQ(spans[2].file, 4u);
  // From the middle of a file, ending in the middle of the next.
  auto mid = plan_spans(l, 20000, 56389);
  ASSERT_EQ(mid.size(), 2u);
  EXPECT_EQ(mid[0].file, 2u);
  EXPECT_EQ(mid[0].file_offset, 20000 - 16384);
  EXPECT_EQ(mid[0].run_offset, 0);
  EXPECT_EQ(mid[1].file, 4u);
  EXPECT_EQ(mid[1].length, 5);
}

TEST(WebSeed, OneFileRunComesAsOneRangeAndPiecesAsTheyComplete) {
  auto l = layout_of({{40000}}, 16384);
  WebSeed seed(l);
  EXPECT_TRUE(seed.wants_work(kNow));
  seed.begin(PieceIndex{0}, 3, kNow);
  auto req = seed.request();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->url, "http://seed/T/f0");
  EXPECT_EQ(req->first, 0);
  EXPECT_EQ(req->last, 39999);
  auto d = seed.on_head(partial(0, 39999, 40000), kNow);
  ASSERT_EQ(d.verdict, HeadVerdict::read_body);
  EXPECT_EQ(d.expect, 40000);
  auto all = torrent_bytes(l);
  EXPECT_EQ(seed.on_body(std::span<const std::uint8_t>(all.data(), 20000), kNow), 20000);
  auto first = seed.take_pieces();
  ASSERT_EQ(first.size(), 1u);  // piece 0 is whole, piece 1 not yet
  EXPECT_EQ(first[0].index, PieceIndex{0});
  EXPECT_EQ(first[0].data, expected_piece(l, 0));
  EXPECT_EQ(seed.on_body(std::span<const std::uint8_t>(all.data() + 20000, 20000), kNow), 0);
  auto rest = seed.take_pieces();
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[1].index, PieceIndex{2});
  EXPECT_EQ(rest[1].data, expected_piece(l, 2));
  EXPECT_FALSE(seed.request());
  EXPECT_EQ(seed.state(kNow), State::idle);
  EXPECT_EQ(seed.downloaded(), 40000);
}

TEST(WebSeed, RunAcrossFilesAsksEachFileItsRange) {
  auto l = layout_of({{10000}, {30000}}, 16384);
  WebSeed seed(l);
  seed.begin(PieceIndex{0}, 3, kNow);
  ASSERT_EQ(seed.request()->url, "http://seed/T/f0");
  ASSERT_TRUE(serve(seed, l));
  EXPECT_TRUE(seed.take_pieces().empty());  // piece 0 needs 6384 bytes of the second file
  auto req = seed.request();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->url, "http://seed/T/f1");
  EXPECT_EQ(req->first, 0);
  EXPECT_EQ(req->last, 29999);
  ASSERT_TRUE(serve(seed, l, 7000));
  auto pieces = seed.take_pieces();
  ASSERT_EQ(pieces.size(), 3u);
  for (std::int32_t i = 0; i < 3; ++i)
    EXPECT_EQ(pieces[static_cast<std::size_t>(i)].data, expected_piece(l, i));
}

TEST(WebSeed, PadFilesAreNeverAskedForAndReadAsZeros) {
  auto l = layout_of({{10000}, {6384, true}, {16384}}, 16384);
  WebSeed seed(l);
  seed.begin(PieceIndex{0}, 2, kNow);
  ASSERT_TRUE(serve(seed, l));
  auto p0 = seed.take_pieces();
  ASSERT_EQ(p0.size(), 1u);  // the pad completes piece 0 at once
  EXPECT_EQ(p0[0].data, expected_piece(l, 0));
  EXPECT_EQ(p0[0].data[12000], 0);
  EXPECT_EQ(seed.request()->url, "http://seed/T/f2");
  ASSERT_TRUE(serve(seed, l));
  EXPECT_EQ(seed.take_pieces().size(), 1u);
}

TEST(WebSeed, APieceOfPadBytesOnlyIsCompleteAtOnce) {
  auto l = layout_of({{16384}, {16384, true}, {16384}}, 16384);
  WebSeed seed(l);
  seed.begin(PieceIndex{1}, 1, kNow);
  auto pieces = seed.take_pieces();
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].data, std::vector<std::uint8_t>(16384, 0));
  EXPECT_FALSE(seed.request());
}

struct BadHead {
  const char* name;
  ResponseHead head;
};

TEST(WebSeed, MalformedOrLyingHeadsFailTheRunAndBackOff) {
  auto ok = partial(0, 39999, 40000);
  auto with = [&](auto change) {
    auto h = ok;
    change(h);
    return h;
  };
  std::vector<BadHead> cases = {
      {"missing Content-Range", with([](ResponseHead& h) { h.content_range.clear(); })},
      {"malformed Content-Range", with([](ResponseHead& h) { h.content_range = "bytes zero-39999/40000"; })},
      {"another range", with([](ResponseHead& h) { h.content_range = "bytes 1-40000/40001"; })},
      {"shorter range", with([](ResponseHead& h) { h.content_range = "bytes 0-9999/40000"; })},
      {"file of another size", with([](ResponseHead& h) { h.content_range = "bytes 0-39999/50000"; })},
      {"Content-Length beyond the range", with([](ResponseHead& h) { h.content_length = 1LL << 40; })},
      {"compressed body", with([](ResponseHead& h) { h.content_encoding = "gzip"; })},
      {"200 with a file of another size", with([](ResponseHead& h) {
         h.status = 200;
         h.content_length = 39999;
       })},
      {"416", with([](ResponseHead& h) { h.status = 416; })},
      {"404", with([](ResponseHead& h) { h.status = 404; })},
      {"500", with([](ResponseHead& h) { h.status = 500; })},
      {"redirect without Location", with([](ResponseHead& h) { h.status = 302; })},
      {"redirect to ftp", with([](ResponseHead& h) {
         h.status = 301;
         h.location = "ftp://elsewhere/f0";
       })},
  };
  auto l = layout_of({{40000}}, 16384);
  for (const auto& c : cases) {
    WebSeed seed(l);
    seed.begin(PieceIndex{0}, 3, kNow);
    auto d = seed.on_head(c.head, kNow);
    EXPECT_EQ(d.verdict, HeadVerdict::fail) << c.name;
    EXPECT_FALSE(seed.request()) << c.name;
    EXPECT_EQ(seed.take_released().size(), 3u) << c.name;
    EXPECT_TRUE(seed.take_pieces().empty()) << c.name;
    EXPECT_EQ(seed.state(kNow), State::backing_off) << c.name;
    EXPECT_EQ(seed.retry_at(), kNow + kFirstBackoff) << c.name;
    EXPECT_FALSE(seed.last_error().empty()) << c.name;
  }
}

TEST(WebSeed, BodyLongerThanTheRangeIsRefused) {
  auto l = layout_of({{40000}}, 16384);
  WebSeed seed(l);
  seed.begin(PieceIndex{0}, 3, kNow);
  auto h = partial(0, 39999, 40000);
  h.content_length.reset();  // chunked: the length is only known at the end
  ASSERT_EQ(seed.on_head(h, kNow).verdict, HeadVerdict::read_body);
  std::vector<std::uint8_t> too_much(40001, 1);
  EXPECT_EQ(seed.on_body(too_much, kNow), 0);
  EXPECT_TRUE(seed.take_pieces().empty());
  EXPECT_EQ(seed.take_released().size(), 3u);
  EXPECT_EQ(seed.state(kNow), State::backing_off);
}

TEST(WebSeed, WholeFileAnswerIsReadOnlyAsFarAsNeeded) {
  auto l = layout_of({{100000}}, 16384);
  auto all = torrent_bytes(l);
  WebSeed seed(l);
  seed.begin(PieceIndex{1}, 2, kNow);  // bytes 16384..49151
  ResponseHead h;
  h.status = 200;
  h.content_length = 100000;
  auto d = seed.on_head(h, kNow);
  ASSERT_EQ(d.verdict, HeadVerdict::read_body);
  EXPECT_EQ(d.expect, 16384 + 32768);  // the prefix to drop, then the range
  // The whole file arrives in one chunk: only the range is taken.
  EXPECT_EQ(seed.on_body(all, kNow), 0);
  auto pieces = seed.take_pieces();
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].data, expected_piece(l, 1));
  EXPECT_EQ(pieces[1].data, expected_piece(l, 2));
  EXPECT_EQ(seed.downloaded(), 32768);
}

TEST(WebSeed, WholeFileAnswerFarIntoTheFileIsRefused) {
  auto piece = kMaxSkipBytes;  // a piece starting past what may be dropped
  auto l = layout_of({{piece * 3}}, piece);
  WebSeed seed(l);
  seed.begin(PieceIndex{2}, 1, kNow);
  ResponseHead h;
  h.status = 200;
  EXPECT_EQ(seed.on_head(h, kNow).verdict, HeadVerdict::fail);
  EXPECT_NE(seed.last_error().find("range"), std::string::npos);
}

TEST(WebSeed, BusyServerIsRetriedAfterItsRetryAfterWithinACap) {
  auto l = layout_of({{40000}}, 16384);
  ResponseHead h;
  h.status = 503;
  h.retry_after = "30";
  WebSeed seed(l);
  seed.begin(PieceIndex{0}, 1, kNow);
  EXPECT_EQ(seed.on_head(h, kNow).verdict, HeadVerdict::fail);
  EXPECT_EQ(seed.retry_at(), kNow + 30s);
  EXPECT_FALSE(seed.wants_work(kNow + 29s));
  EXPECT_TRUE(seed.wants_work(kNow + 30s));
  h.retry_after = "99999999";
  seed.begin(PieceIndex{0}, 1, kNow);
  seed.on_head(h, kNow);
  EXPECT_EQ(seed.retry_at(), kNow + kMaxRetryAfter);
  h.retry_after = "Fri, 31 Dec 1999 23:59:59 GMT";  // not read: the seed's own backoff
  seed.begin(PieceIndex{0}, 1, kNow);
  seed.on_head(h, kNow);
  EXPECT_EQ(seed.retry_at(), kNow + kFirstBackoff * 4);  // third failure in a row
}

TEST(WebSeed, BackoffDoublesUpToItsCapAndResetsAfterASuccess) {
  auto l = layout_of({{40000}}, 16384);
  WebSeed seed(l);
  auto last = std::chrono::seconds(0);
  for (int i = 0; i < 20; ++i) {
    seed.begin(PieceIndex{0}, 1, kNow);
    seed.on_failure("connection refused", kNow);
    auto wait = std::chrono::duration_cast<std::chrono::seconds>(seed.retry_at() - kNow);
    EXPECT_GE(wait, last);
    EXPECT_LE(wait, kMaxBackoff);
    last = wait;
  }
  EXPECT_EQ(last, kMaxBackoff);
  seed.begin(PieceIndex{0}, 1, kNow);
  ASSERT_TRUE(serve(seed, l));
  seed.begin(PieceIndex{1}, 1, kNow);
  seed.on_failure("connection reset", kNow);
  EXPECT_EQ(seed.retry_at(), kNow + kFirstBackoff);
}

TEST(WebSeed, RedirectsAreFollowedWithinTheLimitAndNeverFromHttpsToHttp) {
  auto l = layout_of({{40000}}, 16384);
  WebSeed seed(l);
  seed.begin(PieceIndex{0}, 1, kNow);
  ResponseHead h;
  h.status = 302;
  h.location = "/mirror/f0";
  ASSERT_EQ(seed.on_head(h, kNow).verdict, HeadVerdict::redirect);
  auto req = seed.request();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->url, "http://seed/mirror/f0");
  EXPECT_EQ(req->redirects, 1);
  EXPECT_EQ(req->first, 0);
  EXPECT_EQ(req->last, 16383);
  for (int i = 1; i < kMaxRedirects; ++i)
    ASSERT_EQ(seed.on_head(h, kNow).verdict, HeadVerdict::redirect);
  EXPECT_EQ(seed.on_head(h, kNow).verdict, HeadVerdict::fail);
  EXPECT_EQ(seed.last_error(), "too many redirects");

  auto tls = l;
  tls.files[0].url = "https://seed/T/f0";
  WebSeed secure(tls);
  secure.begin(PieceIndex{0}, 1, kNow);
  h.location = "http://seed/T/f0";
  EXPECT_EQ(secure.on_head(h, kNow).verdict, HeadVerdict::fail);
  h.location = "https://other/T/f0";
  secure.begin(PieceIndex{0}, 1, kNow + 1h);
  ASSERT_EQ(secure.on_head(h, kNow + 1h).verdict, HeadVerdict::redirect);
  EXPECT_TRUE(secure.request()->from_https);
}

TEST(WebSeed, BodyCutShortKeepsTheWholePiecesAndReleasesTheRest) {
  auto l = layout_of({{40000}}, 16384);
  auto all = torrent_bytes(l);
  WebSeed seed(l);
  seed.begin(PieceIndex{0}, 3, kNow);
  ASSERT_EQ(seed.on_head(partial(0, 39999, 40000), kNow).verdict, HeadVerdict::read_body);
  seed.on_body(std::span<const std::uint8_t>(all.data(), 20000), kNow);
  seed.on_failure("the response ended before the range did", kNow);
  EXPECT_EQ(seed.take_pieces().size(), 1u);
  auto released = seed.take_released();
  ASSERT_EQ(released.size(), 2u);
  EXPECT_EQ(released[0], PieceIndex{1});
  EXPECT_EQ(released[1], PieceIndex{2});
  EXPECT_EQ(seed.on_body(std::span<const std::uint8_t>(all.data(), 100), kNow), 0);  // late bytes: ignored
}

TEST(WebSeed, BannedAfterHashFailuresAndNeverAsksAgain) {
  auto l = layout_of({{16384 * 8}}, 16384);
  WebSeed seed(l);
  seed.begin(PieceIndex{0}, 4, kNow);
  for (int i = 0; i < kMaxHashFailures - 1; ++i) {
    seed.on_hash_failed(PieceIndex{i}, kNow);
    EXPECT_FALSE(seed.banned());
    EXPECT_TRUE(seed.failed_before(PieceIndex{i}));
  }
  EXPECT_FALSE(seed.failed_before(PieceIndex{7}));
  seed.on_hash_failed(PieceIndex{7}, kNow);
  EXPECT_TRUE(seed.banned());
  EXPECT_EQ(seed.state(kNow), State::banned);
  EXPECT_EQ(seed.take_released().size(), 4u);  // the run in flight is given up
  EXPECT_FALSE(seed.request());
  EXPECT_FALSE(seed.wants_work(kNow + 24h));
  seed.begin(PieceIndex{4}, 1, kNow);
  EXPECT_FALSE(seed.request());
}

// Smart ban's two verdicts: a piece the seed alone sent failed (avoided, no strike by itself), and blocks of
// a shared piece found to differ from the good copy (a strike naming no piece).
TEST(WebSeed, AvoidingAPieceIsNoStrikeAndAConvictionWithoutAPieceIs) {
  WebSeed seed(layout_of({{16384 * 8}}, 16384));
  seed.avoid(PieceIndex{2});
  EXPECT_TRUE(seed.failed_before(PieceIndex{2}));
  EXPECT_EQ(seed.hash_failures(), 0);
  for (int i = 0; i < kMaxHashFailures; ++i) {
    EXPECT_FALSE(seed.banned());
    seed.on_hash_failed(std::nullopt, kNow);
  }
  EXPECT_EQ(seed.hash_failures(), kMaxHashFailures);
  EXPECT_TRUE(seed.banned());
  EXPECT_FALSE(seed.failed_before(PieceIndex{0}));
}

TEST(WebSeed, RunMemoryIsBounded) {
  EXPECT_EQ(WebSeed(layout_of({{1LL << 30}}, 256 << 10)).max_run(), 4);
  EXPECT_EQ(WebSeed(layout_of({{1LL << 30}}, 16384)).max_run(), 64);
  EXPECT_EQ(WebSeed(layout_of({{1LL << 30}}, 16 << 20)).max_run(), 1);
}

TEST(WebSeed, HeadWithoutARequestIsRefusedWithoutPenalty) {
  auto l = layout_of({{40000}}, 16384);
  WebSeed seed(l);
  EXPECT_EQ(seed.on_head(partial(0, 39999, 40000), kNow).verdict, HeadVerdict::fail);
  EXPECT_TRUE(seed.wants_work(kNow));
}

TEST(WebSeed, MakeLayoutMapsEveryFileAndLeavesPadsWithoutUrl) {
  metainfo::TorrentInfo info;
  info.name = "T";
  info.multi_file = true;
  info.piece_length = 16384;
  info.files = {
      {"T/a b.txt", 10000, 0, false}, {"T/.pad/6384", 6384, 10000, true}, {"T/d/c", 5, 16384, false}};
  info.total_size = 16389;
  info.piece_hashes = std::string(40, 'x');
  auto l = make_layout("http://h/x/", info);
  ASSERT_EQ(l.files.size(), 3u);
  EXPECT_EQ(l.files[0].url, "http://h/x/T/a%20b.txt");
  EXPECT_TRUE(l.files[1].url.empty());
  EXPECT_EQ(l.files[2].url, "http://h/x/T/d/c");
  EXPECT_EQ(l.num_pieces, 2);
  EXPECT_EQ(l.piece_size(PieceIndex{1}), 5);
}

}  // namespace
}  // namespace shoal::webseed
