// The web seeds' driver (BEP 19): one coroutine and one kept-alive HTTP(S) connection per seed. The core
// (torrent::Torrent with webseed::WebSeed) decides which pieces, judges each response head and takes the body
// bytes; this only moves them.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "session/torrent_session.hpp"
#include "webseed/web_seed_url.hpp"

namespace shoal::session {
namespace {

namespace asio = boost::asio;
using Clock = torrent::Clock;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
// No byte for this long: the connection is given up (and the seed backed off).
constexpr std::chrono::seconds kWebSeedTimeout{30};
// Nothing to fetch now (backing off, no untouched piece, disk behind): ask the core again after this.
constexpr std::chrono::milliseconds kWebSeedIdle{500};

}  // namespace

void TorrentSession::add_web_seeds() {
  if (options_.fetch_metadata || info_.num_pieces() == 0) return;
  for (const auto& url : options_.web_seeds) {
    // ftp:// and other schemes of url-list are not spoken.
    if (!webseed::is_http_url(url)) continue;
    core_->add_web_seed(webseed::make_layout(url, info_));
    web_seed_runners_.push_back(std::make_unique<WebSeedRunner>(io_));
  }
}

void TorrentSession::start_web_seeds() {
  for (std::size_t i = 0; i < web_seed_runners_.size(); ++i)
    spawn(run_web_seed(i), "web seed failed: ");
}

// Once per idle spell that follows a fetch: a seed the disk held back (or that found no piece left) asks
// again as soon as a piece is written, not at its next poll; one that still finds nothing waits for the poll.
void TorrentSession::wake_web_seeds() {
  for (auto& runner : web_seed_runners_) {
    if (!runner->wake_on_write) continue;
    runner->wake_on_write = false;
    runner->idle.cancel();
  }
}

void TorrentSession::close_web_seeds() {
  for (auto& runner : web_seed_runners_) {
    runner->client.close();
    runner->idle.cancel();
  }
}

asio::awaitable<void> TorrentSession::run_web_seed(std::size_t seed) {
  auto& runner = *web_seed_runners_[seed];
  auto on_head = [this, seed](const webseed::ResponseHead& head) {
    auto decision = core_->on_web_seed_head(seed, head, Clock::now());
    perform_actions();
    return decision;
  };
  auto on_body = [this, seed](std::span<const std::uint8_t> bytes) {
    auto more = core_->on_web_seed_body(seed, bytes, Clock::now());
    perform_actions();
    return more;
  };
  bool fetched = false;  // the last round fetched something
  while (!stopping_ && !closing_) {
    auto request = core_->web_seed_request(seed, Clock::now());
    perform_actions();
    if (!request) {
      runner.client.close_if_idle();
      runner.wake_on_write = fetched;
      fetched = false;
      runner.idle.expires_after(kWebSeedIdle);
      co_await runner.idle.async_wait(kToken);
      runner.wake_on_write = false;
    } else {
      auto failed = co_await runner.client.fetch(*request, kWebSeedTimeout, on_head, on_body,
                                                 [this](std::int64_t n) { return throttle_download(n); });
      if (stopping_ || closing_) break;
      fetched = !failed;
      if (failed) {
        core_->on_web_seed_failed(seed, failed->message(), Clock::now());
        perform_actions();
      }
    }
    auto report = core_->web_seed_reports(Clock::now())[seed];
    if (report.state == webseed::State::banned && !runner.ban_told) {
      runner.ban_told = true;
      runner.client.close();
      if (on_peer_banned) on_peer_banned("web seed " + report.url, report.last_error);
      break;  // a banned seed is never asked again
    }
  }
  runner.client.close();
}

asio::awaitable<void> TorrentSession::throttle_download(std::int64_t bytes) {
  if (!down_limit_.unlimited()) co_await down_limit_.consume(bytes);
  if (!context_.global_download->unlimited()) co_await context_.global_download->consume(bytes);
}

}  // namespace shoal::session
