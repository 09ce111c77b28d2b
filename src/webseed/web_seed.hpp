// One BEP 19 web seed (an HTTP or HTTPS server holding the torrent's files) as a pure state machine: no
// socket, no clock (time is a parameter). The torrent claims whole pieces for it (a run of consecutive
// pieces no peer is downloading, see torrent/web_seeds.cpp); the seed turns the run into one Range request
// per file it touches (pad files are never asked for: their bytes are zeros), judges each response head,
// takes the body bytes into the run's piece buffers and hands back every piece as soon as its last byte is
// in, for hash verification. A failing seed is backed off (exponentially, capped; a 503's Retry-After is
// honoured within a cap); one whose pieces fail the hash check kMaxHashFailures times is banned.
//
// Invariants:
//  - memory is bounded by the run: at most max(kMaxFetchBytes, one piece), allocated when the run begins;
//    no header value (Content-Length, Content-Range) ever sizes an allocation;
//  - no more body bytes are taken than the range asked (plus, for a server without range support, at most
//    kMaxSkipBytes read and dropped before it);
//  - every piece of a run is handed back exactly once: complete (take_pieces) or given up (take_released);
//  - a banned seed never asks for anything again.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "metainfo/torrent_info.hpp"
#include "shoal/strong_index.hpp"

namespace shoal::webseed {

using Clock = std::chrono::steady_clock;

// One run of pieces held in memory. Small enough that peers and other seeds find pieces left while a seed
// works, large enough that a run is a few big ranges on one kept-alive connection.
inline constexpr std::int64_t kMaxFetchBytes = 1024 * 1024;
inline constexpr std::int64_t kMaxSkipBytes = 1024 * 1024;  // 200 to a range request: bytes dropped
inline constexpr int kMaxHashFailures = 3;                  // pieces that failed, then banned
inline constexpr int kMaxRedirects = 5;                     // as the tracker HTTP client
inline constexpr std::chrono::seconds kFirstBackoff{2};
inline constexpr std::chrono::seconds kMaxBackoff{300};
inline constexpr std::chrono::seconds kMaxRetryAfter{3600};

struct LayoutFile {
  std::string url;  // BEP 19 mapping (web_seed_url.hpp); empty for pad files
  std::int64_t offset = 0;
  std::int64_t length = 0;
  bool pad = false;
};

// The torrent's files as one web seed sees them.
struct Layout {
  std::string base_url;
  std::vector<LayoutFile> files;
  std::int64_t piece_length = 0;
  std::int64_t total_size = 0;
  std::int32_t num_pieces = 0;
  std::int64_t piece_size(PieceIndex piece) const {
    if (piece.get() + 1 < num_pieces) return piece_length;
    return total_size - piece_length * (num_pieces - 1);
  }
};
Layout make_layout(std::string_view base_url, const metainfo::TorrentInfo& info);

// One contiguous stretch of one file inside torrent bytes [begin, end): adjacent blocks of a file are one.
struct Span {
  std::size_t file = 0;
  std::int64_t file_offset = 0;
  std::int64_t length = 0;
  std::int64_t run_offset = 0;  // from `begin`
};
// The spans covering [begin, end) in order; pad and empty files left out.
std::vector<Span> plan_spans(const Layout& layout, std::int64_t begin, std::int64_t end);

struct Request {
  std::string url;
  std::int64_t first = 0;  // byte range of the file, inclusive
  std::int64_t last = 0;
  int redirects = 0;        // hops followed to reach `url` (0: the torrent's own URL)
  bool from_https = false;  // the URL that redirected here was https (redirect_policy)
};

// What the driver read of a response head. Absent headers are empty.
struct ResponseHead {
  unsigned status = 0;
  std::optional<std::int64_t> content_length;  // nullopt: absent (chunked, or until close)
  std::string content_range;
  std::string content_encoding;
  std::string location;
  std::string retry_after;
};

enum class HeadVerdict {
  read_body,  // pass body bytes to on_body until it returns 0
  redirect,   // request() names the new URL; this response's body is not wanted
  fail,       // the seed backs off (or is banned); close the connection
};

struct HeadDecision {
  HeadVerdict verdict = HeadVerdict::fail;
  std::int64_t expect = 0;  // read_body: body bytes wanted from this response (skipped bytes included)
};

enum class State { idle, fetching, backing_off, banned };

struct Piece {
  PieceIndex index;
  std::vector<std::uint8_t> data;
};

class WebSeed {
 public:
  explicit WebSeed(Layout layout);

  const std::string& url() const { return layout_.base_url; }
  State state(Clock::time_point now) const;
  // Idle (or its backoff is over) and not banned: the torrent may claim pieces for it.
  bool wants_work(Clock::time_point now) const { return state(now) == State::idle; }
  // Pieces per run: as many as kMaxFetchBytes holds, at least one.
  std::int32_t max_run() const;
  // Pieces that failed their hash check from this seed: never asked of it again.
  bool failed_before(PieceIndex piece) const { return failed_.count(piece) != 0; }

  // Fetch pieces [first, first + count) (the caller claimed them for this seed; count <= max_run()).
  void begin(PieceIndex first, std::int32_t count, Clock::time_point now);
  // The request to make now; nullopt when nothing is being fetched.
  std::optional<Request> request() const;
  HeadDecision on_head(const ResponseHead& head, Clock::time_point now);
  // Body bytes of the response; returns how many more it wants (0: this response is done with; when the
  // run is complete or failed, request() is nullopt). Bytes beyond what was asked are refused (a fail).
  std::int64_t on_body(std::span<const std::uint8_t> bytes, Clock::time_point now);
  // The response ended (or the connection failed) while bytes were still wanted; `reason` is what the user
  // sees. Backs off; the unfinished pieces are released.
  void on_failure(std::string reason, Clock::time_point now);

  // A strike: a piece this seed alone supplied failed its hash check, or (nullopt) smart ban found its blocks
  // of a piece it shared with peers differ from the good copy. kMaxHashFailures of them ban it.
  void on_hash_failed(std::optional<PieceIndex> piece, Clock::time_point now);
  void on_hash_passed() { consecutive_failures_ = 0; }
  // Never ask this seed for `piece` again (it supplied a copy that failed), without a strike.
  void avoid(PieceIndex piece) { failed_.insert(piece); }

  // Outputs.
  std::vector<Piece> take_pieces() { return std::exchange(done_, {}); }
  std::vector<PieceIndex> take_released() { return std::exchange(released_, {}); }

  // For status.
  bool banned() const { return banned_; }
  int hash_failures() const { return hash_failures_; }
  std::int64_t downloaded() const { return downloaded_; }
  const std::string& last_error() const { return last_error_; }
  Clock::time_point retry_at() const { return retry_at_; }

 private:
  void fail(std::string reason, Clock::time_point now, std::optional<std::chrono::seconds> retry_after = {});
  void abandon_run();
  void span_done();
  void hand_over_complete();

  Layout layout_;
  bool banned_ = false;
  int hash_failures_ = 0;
  int consecutive_failures_ = 0;  // transport/HTTP failures in a row: the backoff's exponent
  std::set<PieceIndex> failed_;
  Clock::time_point retry_at_{};
  std::string last_error_;
  std::int64_t downloaded_ = 0;

  // The run being fetched.
  bool fetching_ = false;
  PieceIndex first_{};
  std::vector<std::vector<std::uint8_t>> buffers_;  // one per piece of the run
  std::int32_t handed_ = 0;                         // pieces of the run handed over (complete)
  std::int64_t run_bytes_ = 0;
  std::vector<Span> spans_;
  std::size_t span_ = 0;        // current span
  std::int64_t span_done_ = 0;  // bytes of it received
  std::int64_t filled_ = 0;     // run bytes complete (spans done + pad gaps), from the start of the run
  std::string url_;             // current request's URL (after redirects)
  int redirects_ = 0;
  bool from_https_ = false;
  std::int64_t skip_ = 0;    // bytes of this response to drop before the range (200 answers)
  std::int64_t take_ = 0;    // bytes of this response still wanted after the skip
  bool whole_body_ = false;  // a 200: the body goes on past what we take (the driver closes)

  std::vector<Piece> done_;
  std::vector<PieceIndex> released_;
};

}  // namespace shoal::webseed
