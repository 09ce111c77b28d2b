// wan_relay: a TCP relay on loopback that behaves like a long, fast path. This kernel has no `tc netem`, so
// delay cannot come from the kernel; the relay holds every byte it reads for a fixed one-way delay, paces
// what it writes to a rate, and stops reading (pushing back on the sender, as a full path does) while more
// than `queue` bandwidth-delay products wait in it. Each direction of each connection is its own path.
//
//   wan_relay --listen 127.0.0.1:7000 --to 127.0.0.1:6881 --delay-ms 100 --rate-mbit 400 [--queue-bdp 2]
//             [--port-file F]
//
// It prints one line per connection closed (bytes each way) on stderr and its listening port on stdout.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct PathConfig {
  std::chrono::microseconds delay{0};
  double bytes_per_second = 0;  // 0: unpaced
  std::size_t queue_limit = 0;  // bytes held before reading stops
};

struct Chunk {
  Clock::time_point due;
  std::vector<char> bytes;
};

// One direction: bytes read from `from` wait in `queue` until due, then go to `to`.
struct Pipe {
  Pipe(tcp::socket& f, tcp::socket& t, const PathConfig& c)
      : from(f), to(t), config(c), reader_wake(f.get_executor()), writer_wake(f.get_executor()) {}
  tcp::socket& from;
  tcp::socket& to;
  PathConfig config;
  std::deque<Chunk> queue;
  std::size_t queued = 0;
  bool eof = false;
  bool failed = false;
  Clock::time_point line_free{};  // when the paced line has sent everything before
  std::uint64_t moved = 0;
  asio::steady_timer reader_wake;
  asio::steady_timer writer_wake;
};

struct Connection {
  Connection(tcp::socket c, tcp::socket s, const PathConfig& config)
      : client(std::move(c)),
        server(std::move(s)),
        up(client, server, config),
        down(server, client, config) {}
  tcp::socket client;
  tcp::socket server;
  Pipe up;
  Pipe down;
  int pipes_done = 0;
};

void wake(asio::steady_timer& t) {
  t.expires_at(Clock::time_point::min());
}

asio::awaitable<void> sleep_until_woken(asio::steady_timer& t) {
  t.expires_at(Clock::time_point::max());
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void close_both(Connection& c) {
  boost::system::error_code ec;
  c.client.close(ec);
  c.server.close(ec);
  c.up.failed = c.down.failed = true;
  wake(c.up.reader_wake);
  wake(c.up.writer_wake);
  wake(c.down.reader_wake);
  wake(c.down.writer_wake);
}

asio::awaitable<void> read_side(std::shared_ptr<Connection> c, Pipe* p) {
  std::vector<char> buffer(64 * 1024);
  while (!p->failed) {
    while (p->queued >= p->config.queue_limit && !p->failed)
      co_await sleep_until_woken(p->reader_wake);
    if (p->failed) break;
    boost::system::error_code ec;
    std::size_t n =
        co_await p->from.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::eof) {
      p->eof = true;
      wake(p->writer_wake);
      break;
    }
    if (ec) {
      close_both(*c);
      break;
    }
    auto now = Clock::now();
    p->queue.push_back({now + p->config.delay, std::vector<char>(buffer.begin(), buffer.begin() + n)});
    p->queued += n;
    wake(p->writer_wake);
  }
}

asio::awaitable<void> write_side(std::shared_ptr<Connection> c, Pipe* p) {
  asio::steady_timer timer(p->to.get_executor());
  while (!p->failed) {
    if (p->queue.empty()) {
      if (p->eof) {
        boost::system::error_code ec;
        p->to.shutdown(tcp::socket::shutdown_send, ec);
        break;
      }
      co_await sleep_until_woken(p->writer_wake);
      continue;
    }
    Chunk chunk = std::move(p->queue.front());
    p->queue.pop_front();
    // The last byte leaves the line once the line is free and the chunk has been serialized at the rate.
    auto start = std::max(chunk.due, p->line_free);
    auto serialize = p->config.bytes_per_second > 0
                         ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                               static_cast<double>(chunk.bytes.size()) / p->config.bytes_per_second))
                         : Clock::duration::zero();
    p->line_free = start + serialize;
    if (p->line_free > Clock::now()) {
      timer.expires_at(p->line_free);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    boost::system::error_code ec;
    co_await asio::async_write(p->to, asio::buffer(chunk.bytes),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      close_both(*c);
      break;
    }
    p->moved += chunk.bytes.size();
    p->queued -= chunk.bytes.size();
    wake(p->reader_wake);
  }
  if (++c->pipes_done == 2) {
    std::fprintf(stderr, "wan_relay: connection closed, %llu bytes up, %llu down\n",
                 static_cast<unsigned long long>(c->up.moved),
                 static_cast<unsigned long long>(c->down.moved));
    boost::system::error_code ec;
    c->client.close(ec);
    c->server.close(ec);
  }
}

asio::awaitable<void> relay_one(tcp::socket client, tcp::endpoint target, PathConfig config) {
  tcp::socket server(client.get_executor());
  boost::system::error_code ec;
  co_await server.async_connect(target, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  client.set_option(tcp::no_delay(true), ec);
  server.set_option(tcp::no_delay(true), ec);
  auto c = std::make_shared<Connection>(std::move(client), std::move(server), config);
  auto ex = c->client.get_executor();
  asio::co_spawn(ex, read_side(c, &c->up), asio::detached);
  asio::co_spawn(ex, write_side(c, &c->up), asio::detached);
  asio::co_spawn(ex, read_side(c, &c->down), asio::detached);
  asio::co_spawn(ex, write_side(c, &c->down), asio::detached);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, tcp::endpoint target, PathConfig config) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), relay_one(std::move(s), target, config), asio::detached);
  }
}

tcp::endpoint parse_endpoint(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("address:port expected, got " + text);
  return {asio::ip::make_address(text.substr(0, colon)),
          static_cast<std::uint16_t>(std::stoi(text.substr(colon + 1)))};
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  std::string to;
  std::string port_file;
  double delay_ms = 0;
  double rate_mbit = 0;
  double queue_bdp = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--listen")
      listen = value;
    else if (flag == "--to")
      to = value;
    else if (flag == "--delay-ms")
      delay_ms = std::stod(value);
    else if (flag == "--rate-mbit")
      rate_mbit = std::stod(value);
    else if (flag == "--queue-bdp")
      queue_bdp = std::stod(value);
    else if (flag == "--port-file")
      port_file = value;
    else {
      std::fprintf(stderr, "wan_relay: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (to.empty()) {
    std::fprintf(stderr,
                 "usage: wan_relay --to ADDR:PORT [--listen ADDR:PORT] [--delay-ms D] [--rate-mbit R] "
                 "[--queue-bdp Q] [--port-file F]\n");
    return 2;
  }
  try {
    PathConfig config;
    config.delay = std::chrono::microseconds(static_cast<std::int64_t>(delay_ms * 1000));
    config.bytes_per_second = rate_mbit * 1e6 / 8;
    // The path's bandwidth-delay product (a round trip: both directions' delay) times `queue`; at least 1 MiB
    // so an unpaced or undelayed relay still moves data in large chunks.
    double bdp = config.bytes_per_second * 2 * delay_ms / 1000;
    config.queue_limit = std::max<std::size_t>(static_cast<std::size_t>(bdp * queue_bdp), 1 << 20);
    asio::io_context io;
    tcp::acceptor acceptor(io, parse_endpoint(listen));
    auto port = acceptor.local_endpoint().port();
    std::printf("%u\n", port);
    std::fflush(stdout);
    if (!port_file.empty()) std::ofstream(port_file) << port << "\n";
    asio::co_spawn(io, accept_loop(acceptor, parse_endpoint(to), config), asio::detached);
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wan_relay: %s\n", e.what());
    return 1;
  }
}
