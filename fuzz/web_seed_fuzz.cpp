// A whole web seed conversation from arbitrary bytes: the seed fetches runs of a small multi-file torrent
// (with a pad file) and every response head (status, Content-Range, Content-Length, Location, Retry-After)
// and body chunk comes from the input. Whatever the server says: every piece of a run comes back exactly once
// (complete or released), a complete piece has its size, no more body bytes are taken than were asked, and
// the header parsers never fail to refuse what they cannot read.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "webseed/http_range.hpp"
#include "webseed/web_seed.hpp"

namespace {

using namespace shoal;

struct Input {
  std::string_view rest;
  std::uint8_t byte() {
    if (rest.empty()) return 0;
    auto b = static_cast<std::uint8_t>(rest.front());
    rest.remove_prefix(1);
    return b;
  }
  std::string line() {
    auto end = rest.find('\n');
    std::string out(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    return out;
  }
};

webseed::Layout layout() {
  webseed::Layout l;
  l.base_url = "http://seed/";
  l.piece_length = 16384;
  l.files = {{"http://seed/T/a", 0, 20000, false},
             {"", 20000, 12768, true},
             {"http://seed/T/b", 32768, 40000, false},
             {"http://seed/T/c", 72768, 7, false}};
  l.total_size = 72775;
  l.num_pieces = 5;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{std::string_view(reinterpret_cast<const char*>(data), size)};
  static const unsigned kStatuses[] = {200, 206, 206, 206, 301, 302, 307, 404, 416, 500, 503, 204};
  const auto l = layout();
  webseed::WebSeed seed(l);
  auto now = webseed::Clock::time_point{} + std::chrono::hours(1);
  for (int round = 0; round < 16 && !in.rest.empty(); ++round) {
    now += std::chrono::hours(2);      // past any backoff
    if (!seed.wants_work(now)) break;  // banned
    auto first = static_cast<std::int32_t>(in.byte() % l.num_pieces);
    auto count = 1 + static_cast<std::int32_t>(in.byte() % static_cast<std::uint8_t>(l.num_pieces - first));
    seed.begin(PieceIndex{first}, count, now);
    std::set<std::int32_t> back;
    auto collect = [&] {
      for (auto& p : seed.take_pieces()) {
        if (!back.insert(p.index.get()).second) __builtin_trap();
        if (static_cast<std::int64_t>(p.data.size()) != l.piece_size(p.index)) __builtin_trap();
      }
      for (auto p : seed.take_released())
        if (!back.insert(p.get()).second) __builtin_trap();
    };
    collect();
    for (int exchange = 0; exchange < 32 && seed.request(); ++exchange) {
      webseed::ResponseHead head;
      head.status = kStatuses[in.byte() % std::size(kStatuses)];
      head.content_range = in.line();
      auto length = in.line();
      if (!length.empty()) head.content_length = static_cast<std::int64_t>(length.size()) * 997;
      head.location = in.line();
      head.retry_after = in.line();
      auto parsed = webseed::parse_content_range(head.content_range);
      if (parsed && (parsed->first < 0 || parsed->last < parsed->first)) __builtin_trap();
      auto decision = seed.on_head(head, now);
      if (decision.verdict == webseed::HeadVerdict::read_body) {
        std::int64_t taken = 0;
        while (!in.rest.empty()) {
          auto n = static_cast<std::size_t>(in.byte()) * 64;
          auto chunk = in.rest.substr(0, n);
          in.rest.remove_prefix(chunk.size());
          auto before = seed.downloaded();
          auto more = seed.on_body(std::span<const std::uint8_t>(
                                       reinterpret_cast<const std::uint8_t*>(chunk.data()), chunk.size()),
                                   now);
          taken += seed.downloaded() - before;
          if (taken > decision.expect) __builtin_trap();
          if (more == 0) break;
        }
        if (seed.request() && in.byte() % 4 == 0) seed.on_failure("cut short", now);
      }
      collect();
    }
    if (seed.request()) seed.on_failure("given up", now);
    collect();
    if (static_cast<std::int32_t>(back.size()) != count) __builtin_trap();
    if (in.byte() % 3 == 0) seed.on_hash_failed(PieceIndex{first}, now);
  }
  return 0;
}
