#include "webseed/web_seed.hpp"

#include <algorithm>
#include <cstring>

#include "webseed/http_range.hpp"
#include "webseed/web_seed_url.hpp"

namespace shoal::webseed {

Layout make_layout(std::string_view base_url, const metainfo::TorrentInfo& info) {
  Layout layout;
  layout.base_url = std::string(base_url);
  layout.piece_length = info.piece_length;
  layout.total_size = info.total_size;
  layout.num_pieces = info.num_pieces();
  layout.files.reserve(info.files.size());
  for (const auto& f : info.files) {
    LayoutFile file;
    file.offset = f.offset;
    file.length = f.length;
    file.pad = f.pad;
    // A renamed file is still served under the torrent's own name.
    if (!f.pad)
      file.url = file_url(base_url, f.torrent_path.empty() ? f.path : f.torrent_path, info.multi_file);
    layout.files.push_back(std::move(file));
  }
  return layout;
}

std::vector<Span> plan_spans(const Layout& layout, std::int64_t begin, std::int64_t end) {
  std::vector<Span> spans;
  // The first file that ends after `begin` (files are in offset order).
  auto it = std::upper_bound(layout.files.begin(), layout.files.end(), begin,
                             [](std::int64_t at, const LayoutFile& f) { return at < f.offset + f.length; });
  for (; it != layout.files.end() && it->offset < end; ++it) {
    if (it->pad || it->length == 0) continue;
    auto from = std::max(begin, it->offset);
    auto to = std::min(end, it->offset + it->length);
    if (to <= from) continue;
    spans.push_back(
        {static_cast<std::size_t>(it - layout.files.begin()), from - it->offset, to - from, from - begin});
  }
  return spans;
}

WebSeed::WebSeed(Layout layout) : layout_(std::move(layout)) {}

State WebSeed::state(Clock::time_point now) const {
  if (banned_) return State::banned;
  if (fetching_) return State::fetching;
  if (now < retry_at_) return State::backing_off;
  return State::idle;
}

std::int32_t WebSeed::max_run() const {
  if (layout_.piece_length <= 0) return 1;
  return static_cast<std::int32_t>(std::max<std::int64_t>(1, kMaxFetchBytes / layout_.piece_length));
}

void WebSeed::begin(PieceIndex first, std::int32_t count, Clock::time_point now) {
  if (fetching_ || banned_ || count <= 0) return;
  fetching_ = true;
  first_ = first;
  handed_ = 0;
  run_bytes_ = 0;
  buffers_.clear();
  for (std::int32_t i = 0; i < count; ++i) {
    auto size = layout_.piece_size(PieceIndex{first.get() + i});
    buffers_.emplace_back(static_cast<std::size_t>(size), std::uint8_t{0});  // pad bytes stay zero
    run_bytes_ += size;
  }
  auto begin_byte = static_cast<std::int64_t>(first.get()) * layout_.piece_length;
  spans_ = plan_spans(layout_, begin_byte, begin_byte + run_bytes_);
  span_ = 0;
  span_done_ = 0;
  skip_ = take_ = 0;
  filled_ = spans_.empty() ? run_bytes_ : spans_.front().run_offset;
  redirects_ = 0;
  from_https_ = false;
  url_ = spans_.empty() ? std::string() : layout_.files[spans_.front().file].url;
  hand_over_complete();
  (void)now;
}

std::optional<Request> WebSeed::request() const {
  if (!fetching_ || span_ >= spans_.size()) return std::nullopt;
  const auto& s = spans_[span_];
  return Request{url_, s.file_offset + span_done_, s.file_offset + s.length - 1, redirects_, from_https_};
}

HeadDecision WebSeed::on_head(const ResponseHead& head, Clock::time_point now) {
  HeadDecision out;
  if (!fetching_ || span_ >= spans_.size()) return out;
  const auto& s = spans_[span_];
  const auto& file = layout_.files[s.file];
  const std::int64_t want_first = s.file_offset + span_done_;
  const std::int64_t want_last = s.file_offset + s.length - 1;
  const std::int64_t want = want_last - want_first + 1;
  auto status = std::to_string(head.status);
  if (!head.content_encoding.empty() && head.content_encoding != "identity") {
    fail("answered with a " + head.content_encoding + " body, which was not asked for", now);
    return out;
  }
  switch (head.status) {
    case 301:
    case 302:
    case 303:
    case 307:
    case 308: {
      auto to = resolve_location(url_, head.location);
      if (!to) {
        fail("redirect (" + status + ") without a usable Location", now);
        return out;
      }
      if (redirects_ >= kMaxRedirects) {
        fail("too many redirects", now);
        return out;
      }
      if (is_https(url_) && !is_https(*to)) {
        fail("refused a redirect from https to " + *to, now);
        return out;
      }
      from_https_ = is_https(url_);
      url_ = std::move(*to);
      ++redirects_;
      out.verdict = HeadVerdict::redirect;
      return out;
    }
    case 206: {
      auto range = parse_content_range(head.content_range);
      if (!range) {
        fail("206 with a missing or malformed Content-Range", now);
        return out;
      }
      if (range->first != want_first || range->last != want_last) {
        fail("answered bytes " + std::to_string(range->first) + "-" + std::to_string(range->last) +
                 " when asked for " + std::to_string(want_first) + "-" + std::to_string(want_last),
             now);
        return out;
      }
      if (range->total && *range->total != file.length) {
        fail("the file is " + std::to_string(*range->total) + " bytes there, not " +
                 std::to_string(file.length),
             now);
        return out;
      }
      if (head.content_length && *head.content_length != want) {
        fail("Content-Length " + std::to_string(*head.content_length) + " does not match the range", now);
        return out;
      }
      whole_body_ = false;
      skip_ = 0;
      take_ = want;
      out.verdict = HeadVerdict::read_body;
      out.expect = want;
      return out;
    }
    case 200: {
      // No range support: the whole file comes. Read up to what we need (dropping what comes before it, a
      // bounded amount) and close; a file of another size is not the torrent's.
      if (head.content_length && *head.content_length != file.length) {
        fail("the file is " + std::to_string(*head.content_length) + " bytes there, not " +
                 std::to_string(file.length),
             now);
        return out;
      }
      if (want_first > kMaxSkipBytes) {
        fail("does not support range requests", now);
        return out;
      }
      whole_body_ = true;
      skip_ = want_first;
      take_ = want;
      out.verdict = HeadVerdict::read_body;
      out.expect = skip_ + take_;
      return out;
    }
    case 503: {
      auto after = parse_retry_after(head.retry_after);
      std::optional<std::chrono::seconds> retry;
      if (after) retry = std::chrono::seconds(std::min<std::int64_t>(*after, kMaxRetryAfter.count()));
      fail("busy (503)", now, retry);
      return out;
    }
    case 416:
      fail("range not satisfiable (416): the file there is shorter than the torrent's", now);
      return out;
    default:
      fail("HTTP status " + status, now);
      return out;
  }
}

std::int64_t WebSeed::on_body(std::span<const std::uint8_t> bytes, Clock::time_point now) {
  if (!fetching_ || span_ >= spans_.size() || take_ == 0) return 0;
  auto drop = std::min<std::int64_t>(skip_, static_cast<std::int64_t>(bytes.size()));
  skip_ -= drop;
  bytes = bytes.subspan(static_cast<std::size_t>(drop));
  if (static_cast<std::int64_t>(bytes.size()) > take_ && !whole_body_) {
    // A 206 body longer than the range it announced: nothing of it is trusted.
    fail("sent more bytes than the range asked for", now);
    return 0;
  }
  auto n = std::min<std::int64_t>(take_, static_cast<std::int64_t>(bytes.size()));
  // Into the run's piece buffers, across piece boundaries.
  std::int64_t at = spans_[span_].run_offset + span_done_;
  std::int64_t copied = 0;
  while (copied < n) {
    auto piece = static_cast<std::size_t>(at / layout_.piece_length);
    auto in_piece = at - static_cast<std::int64_t>(piece) * layout_.piece_length;
    auto& buffer = buffers_[piece];
    auto chunk = std::min<std::int64_t>(n - copied, static_cast<std::int64_t>(buffer.size()) - in_piece);
    std::memcpy(buffer.data() + in_piece, bytes.data() + copied, static_cast<std::size_t>(chunk));
    copied += chunk;
    at += chunk;
  }
  take_ -= n;
  span_done_ += n;
  downloaded_ += n;
  filled_ = spans_[span_].run_offset + span_done_;
  if (span_done_ == spans_[span_].length) span_done();
  hand_over_complete();
  return take_ == 0 ? 0 : skip_ + take_;
}

void WebSeed::span_done() {
  ++span_;
  span_done_ = 0;
  skip_ = take_ = 0;
  redirects_ = 0;
  from_https_ = false;
  if (span_ < spans_.size()) {
    filled_ = spans_[span_].run_offset;  // a pad gap before it is zeros already
    url_ = layout_.files[spans_[span_].file].url;
  } else {
    filled_ = run_bytes_;
    consecutive_failures_ = 0;
  }
}

void WebSeed::hand_over_complete() {
  auto count = static_cast<std::int32_t>(buffers_.size());
  while (handed_ < count) {
    auto end = static_cast<std::int64_t>(handed_) * layout_.piece_length +
               static_cast<std::int64_t>(buffers_[static_cast<std::size_t>(handed_)].size());
    if (end > filled_) break;
    done_.push_back(
        {PieceIndex{first_.get() + handed_}, std::move(buffers_[static_cast<std::size_t>(handed_)])});
    ++handed_;
  }
  if (handed_ == count && fetching_) {
    fetching_ = false;
    buffers_.clear();
    spans_.clear();
  }
}

void WebSeed::on_failure(std::string reason, Clock::time_point now) {
  fail(std::move(reason), now);
}

void WebSeed::fail(std::string reason, Clock::time_point now,
                   std::optional<std::chrono::seconds> retry_after) {
  last_error_ = std::move(reason);
  abandon_run();
  ++consecutive_failures_;
  auto backoff = kFirstBackoff;
  for (int i = 1; i < consecutive_failures_ && backoff < kMaxBackoff; ++i)
    backoff *= 2;
  backoff = std::min(backoff, kMaxBackoff);
  if (retry_after) backoff = std::clamp(*retry_after, std::chrono::seconds(1), kMaxRetryAfter);
  retry_at_ = now + backoff;
}

void WebSeed::abandon_run() {
  if (!fetching_) return;
  for (auto i = handed_; i < static_cast<std::int32_t>(buffers_.size()); ++i)
    released_.push_back(PieceIndex{first_.get() + i});
  fetching_ = false;
  buffers_.clear();
  spans_.clear();
  skip_ = take_ = 0;
}

void WebSeed::on_hash_failed(std::optional<PieceIndex> piece, Clock::time_point now) {
  ++hash_failures_;
  if (piece) {
    failed_.insert(*piece);
    last_error_ = "piece " + std::to_string(piece->get()) + " failed the hash check";
  } else {
    last_error_ = "sent blocks that differ from the good copy of a piece";
  }
  if (hash_failures_ >= kMaxHashFailures && !banned_) {
    banned_ = true;
    last_error_ = std::to_string(hash_failures_) + " pieces failed the hash check";
    abandon_run();
  }
  (void)now;
}

}  // namespace shoal::webseed
