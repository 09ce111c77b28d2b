// bench/dht_load: a single-threaded BEP 5 (KRPC over UDP) DHT load generator for loopback benchmarks.
//
//   dht_load --target 127.0.0.1:PORT [--seconds 5] [--inflight 256] [--mode ping|find_node|get_peers|mix]
//            [--sources 64] [--fill N]
//
// Timed modes keep --inflight queries outstanding across --sources sockets (each with its own random node id)
// and count the answers; every query carries a random target / info-hash, mix sends ping, find_node and
// get_peers in turn. A query unanswered after 1 s is counted lost and replaced by a new one.
// --fill N instead fills the node's routing table and peer store, untimed: N sockets, each on its own
// loopback address with its own random node id, send a ping, then a get_peers for a random info-hash and an
// announce_peer with the token that returned, so the node learns up to N nodes (it keeps ~8 per bucket) and
// stores up to N peers; it reports how many of each were accepted.
//
// Every reply is checked strictly: it must be one well-formed bencoded dictionary whose "t" is the 2-byte
// transaction id of a query outstanding on the socket it arrived at, whose "y" is "r" and whose "r" is a
// dictionary carrying a 20-byte "id" (and, by method, well-formed "nodes", "nodes6", "values" and a "token").
// "y":"e" answers count as errors; anything else unexpected as bad. Queries the node itself sends to our
// sockets ("y":"q", e.g. pings of nodes it has just learnt) are counted apart and ignored. Prints one JSON
// line on stdout. Only 127.0.0.0/8 is ever sent to.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto request_timeout = 1s;
constexpr auto timeout_scan_interval = 10ms;
// Each run starts with this many queries in flight and adds one per answer (TCP-like slow start) up to
// --inflight, so the start is not one burst of hundreds of datagrams into the node's socket.
constexpr std::uint32_t initial_window = 16;

// Source socket k binds 127.(k / 62500).((k / 250) % 250).(1 + k % 250): the timed load's sources are the
// first ones (127.0.0.1, 127.0.0.2, ...), --fill starts at 127.1.0.1 so its nodes and peers are all new ones.
constexpr std::uint32_t addresses_per_block = 250;
constexpr std::uint32_t addresses_per_second_octet = addresses_per_block * addresses_per_block;
constexpr std::uint32_t fill_first_address = addresses_per_second_octet;
constexpr std::uint64_t address_count = 256ULL * addresses_per_second_octet;

constexpr std::size_t fill_batch_sockets = 1000;  // keeps the fill's descriptors well under common fd limits
constexpr int fill_max_attempts = 5;              // a lost fill query is sent this often before giving up
constexpr auto fill_stall_limit = 10s;            // a fill without any answer for this long stops (node gone)
// The fill is not timed: it keeps fewer queries in flight than a node's default socket buffer holds (~190
// small datagrams on loopback; libtorrent overflows it at 256 while it adds nodes), as each drop costs a 1 s
// retry.
constexpr std::uint32_t fill_max_inflight = 64;
constexpr std::size_t receive_batch = 64;
constexpr std::size_t receive_buffer_size = 4096;  // > any sane KRPC reply (50 values + 8 nodes is < 1 KiB)
constexpr std::size_t send_batch = 64;
constexpr std::size_t max_query_size = 256;   // the largest query, announce_peer, is < 150 + token bytes
constexpr std::size_t max_token_length = 64;  // longer tokens are counted as bad replies
constexpr std::size_t expired_memory = 32;    // timed-out transaction ids remembered per socket
constexpr int max_bencode_depth = 16;

using NodeId = std::array<std::uint8_t, 20>;

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// ---- Random numbers ---------------------------------------------------------------------------------------

std::uint64_t splitmix64(std::uint64_t& state) {
  state += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A fast generator for node ids, targets and info-hashes; nothing here needs to be secret.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return splitmix64(state_); }
  template <std::size_t N>
  void fill(std::array<std::uint8_t, N>& bytes) {
    for (std::size_t i = 0; i < N; i += 8) {
      std::uint64_t word = next();
      for (std::size_t j = i; j < std::min(N, i + 8); ++j, word >>= 8)
        bytes[j] = static_cast<std::uint8_t>(word);
    }
  }
  NodeId id() {
    NodeId id{};
    fill(id);
    return id;
  }

 private:
  std::uint64_t state_;
};

// ---- Queries (bencoded by hand, keys in sorted order) -----------------------------------------------------

enum class Method : std::uint8_t { ping, find_node, get_peers, announce_peer };

std::string_view method_name(Method m) {
  switch (m) {
    case Method::ping:
      return "ping";
    case Method::find_node:
      return "find_node";
    case Method::get_peers:
      return "get_peers";
    case Method::announce_peer:
      return "announce_peer";
  }
  return "?";
}

struct Datagram {
  std::array<std::uint8_t, max_query_size> bytes{};
  std::size_t size = 0;

  void raw(std::string_view text) {
    if (size + text.size() > bytes.size()) throw std::logic_error("query too large");
    std::memcpy(bytes.data() + size, text.data(), text.size());
    size += text.size();
  }
  void raw(const std::uint8_t* p, std::size_t n) {
    raw(std::string_view(reinterpret_cast<const char*>(p), n));
  }
  void number(std::uint64_t v) { raw(std::to_string(v)); }
  void string(std::string_view s) {  // <length>:<bytes>
    number(s.size());
    raw(":");
    raw(s);
  }
};

// ping:          d1:ad2:id20:<id>e1:q4:ping1:t2:<tid>1:y1:qe
// find_node:     d1:ad2:id20:<id>6:target20:<key>e1:q9:find_node1:t2:<tid>1:y1:qe
// get_peers:     d1:ad2:id20:<id>9:info_hash20:<key>e1:q9:get_peers1:t2:<tid>1:y1:qe
// announce_peer: d1:ad2:id20:<id>9:info_hash20:<key>4:porti<port>e5:token<n>:<token>e1:q13:announce_peer...
Datagram make_query(Method method, const NodeId& id, std::uint16_t tid, const NodeId& key, std::uint16_t port,
                    std::string_view token) {
  Datagram d;
  d.raw("d1:ad2:id20:");
  d.raw(id.data(), id.size());
  switch (method) {
    case Method::ping:
      break;
    case Method::find_node:
      d.raw("6:target20:");
      d.raw(key.data(), key.size());
      break;
    case Method::get_peers:
      d.raw("9:info_hash20:");
      d.raw(key.data(), key.size());
      break;
    case Method::announce_peer:
      d.raw("9:info_hash20:");
      d.raw(key.data(), key.size());
      d.raw("4:porti");
      d.number(port);
      d.raw("e5:token");
      d.string(token);
      break;
  }
  d.raw("e1:q");
  d.string(method_name(method));
  const std::array<std::uint8_t, 2> t{static_cast<std::uint8_t>(tid >> 8), static_cast<std::uint8_t>(tid)};
  d.raw("1:t2:");
  d.raw(t.data(), t.size());
  d.raw("1:y1:qe");
  return d;
}

// ---- Replies (a strict bencode reader) --------------------------------------------------------------------

constexpr std::size_t npos = std::string_view::npos;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Parses the byte string at pos ("<length>:<bytes>", no leading zeros); returns its end or npos.
std::size_t string_end(std::string_view s, std::size_t pos, std::string_view* out = nullptr) {
  std::size_t i = pos;
  std::size_t length = 0;
  while (i < s.size() && is_digit(s[i]) && i - pos < 9)
    length = length * 10 + static_cast<std::size_t>(s[i++] - '0');
  if (i == pos || i >= s.size() || s[i] != ':') return npos;
  if (s[pos] == '0' && i - pos > 1) return npos;
  ++i;
  if (length > s.size() - i) return npos;
  if (out) *out = s.substr(i, length);
  return i + length;
}

// Returns the end of the one bencoded value at pos, or npos when it is not well formed: integers without
// leading zeros or "-0", byte strings as above, lists, and dictionaries with byte-string keys.
std::size_t value_end(std::string_view s, std::size_t pos, int depth = 0) {
  if (pos >= s.size() || depth > max_bencode_depth) return npos;
  const char c = s[pos];
  if (c == 'i') {
    std::size_t i = pos + 1;
    if (i < s.size() && s[i] == '-') ++i;
    const std::size_t digits = i;
    while (i < s.size() && is_digit(s[i]))
      ++i;
    if (i == digits || i >= s.size() || s[i] != 'e') return npos;
    if (s[digits] == '0' && (i - digits > 1 || digits != pos + 1)) return npos;
    return i + 1;
  }
  if (c == 'l' || c == 'd') {
    std::size_t i = pos + 1;
    while (i < s.size() && s[i] != 'e') {
      if (c == 'd' && (i = string_end(s, i)) == npos) return npos;
      if ((i = value_end(s, i, depth + 1)) == npos) return npos;
    }
    return i < s.size() ? i + 1 : npos;
  }
  if (is_digit(c)) return string_end(s, pos);
  return npos;
}

// The raw value of `key` in a dictionary already checked by value_end, if present.
std::optional<std::string_view> dict_get(std::string_view dict, std::string_view key) {
  std::size_t i = 1;
  while (i < dict.size() && dict[i] != 'e') {
    std::string_view k;
    i = string_end(dict, i, &k);
    const std::size_t end = value_end(dict, i);
    if (k == key) return dict.substr(i, end - i);
    i = end;
  }
  return std::nullopt;
}

// A raw value as a byte string, if it is one.
std::optional<std::string_view> as_string(std::optional<std::string_view> raw) {
  std::string_view out;
  if (!raw || raw->empty() || !is_digit(raw->front()) || string_end(*raw, 0, &out) != raw->size())
    return std::nullopt;
  return out;
}

bool is_dict(std::optional<std::string_view> raw) {
  return raw && !raw->empty() && raw->front() == 'd';
}

// The top-level fields of a reply: the whole datagram must be one well-formed dictionary.
struct Envelope {
  std::string_view t;
  std::string_view y;
  std::optional<std::string_view> r;
};

std::optional<Envelope> parse_envelope(std::string_view packet) {
  if (packet.empty() || packet.front() != 'd' || value_end(packet, 0) != packet.size()) return std::nullopt;
  const auto t = as_string(dict_get(packet, "t"));
  const auto y = as_string(dict_get(packet, "y"));
  if (!t || !y) return std::nullopt;
  return Envelope{*t, *y, dict_get(packet, "r")};
}

// Checks a "y":"r" body for the method that was asked; on success returns get_peers' token (else empty).
std::optional<std::string_view> check_response(Method method, std::optional<std::string_view> r) {
  if (!is_dict(r)) return std::nullopt;
  const auto id = as_string(dict_get(*r, "id"));
  if (!id || id->size() != 20) return std::nullopt;
  const auto nodes_raw = dict_get(*r, "nodes");
  const auto nodes = as_string(nodes_raw);
  if (nodes_raw && (!nodes || nodes->size() % 26 != 0)) return std::nullopt;
  const auto nodes6_raw = dict_get(*r, "nodes6");
  const auto nodes6 = as_string(nodes6_raw);
  if (nodes6_raw && (!nodes6 || nodes6->size() % 38 != 0)) return std::nullopt;
  if (method != Method::get_peers) return std::string_view{};
  if (const auto values = dict_get(*r, "values")) {
    if (values->front() != 'l') return std::nullopt;
    for (std::size_t i = 1; i < values->size() && (*values)[i] != 'e';) {
      std::string_view peer;
      i = string_end(*values, i, &peer);
      if (i == npos || (peer.size() != 6 && peer.size() != 18)) return std::nullopt;
    }
  }
  const auto token = as_string(dict_get(*r, "token"));
  if (!token || token->empty() || token->size() > max_token_length) return std::nullopt;
  return token;
}

// ---- Command line -----------------------------------------------------------------------------------------

enum class Mode { ping, find_node, get_peers, mix };

std::string_view mode_name(Mode m) {
  switch (m) {
    case Mode::ping:
      return "ping";
    case Mode::find_node:
      return "find_node";
    case Mode::get_peers:
      return "get_peers";
    case Mode::mix:
      return "mix";
  }
  return "?";
}

struct Options {
  sockaddr_in target{};
  bool has_target = false;
  double seconds = 5.0;
  std::uint32_t inflight = 256;
  Mode mode = Mode::ping;
  std::uint32_t sources = 64;
  std::uint64_t fill = 0;
};

template <typename T>
T parse_number(std::string_view flag, std::string_view text, T min, T max) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !(value >= min && value <= max))
    throw UsageError(std::string(flag) + ": expected a number in [" + std::to_string(min) + ", " +
                     std::to_string(max) + "], got '" + std::string(text) + "'");
  return value;
}

// Accepts only IPv4 loopback: this tool floods its target, so it must never be pointed off the machine.
sockaddr_in parse_target(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    throw UsageError("--target: expected 127.x.y.z:PORT, got '" + std::string(text) + "'");
  const std::string host(text.substr(0, colon));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1)
    throw UsageError("--target: '" + host + "' is not an IPv4 address");
  if ((ntohl(address.sin_addr.s_addr) >> 24) != 127)
    throw UsageError("--target: only loopback (127.0.0.0/8) targets are allowed, got '" + host + "'");
  address.sin_port = htons(parse_number<std::uint16_t>("--target port", text.substr(colon + 1), 1, 65535));
  return address;
}

Options parse_options(int argc, char** argv) {
  Options o;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (i + 1 >= args.size()) throw UsageError(std::string(flag) + ": unknown option or missing value");
    const std::string_view value = args[++i];
    if (flag == "--target") {
      o.target = parse_target(value);
      o.has_target = true;
    } else if (flag == "--seconds") {
      o.seconds = parse_number<double>(flag, value, 0.001, 86400.0);
    } else if (flag == "--inflight") {
      o.inflight = parse_number<std::uint32_t>(flag, value, 1, 65536);
    } else if (flag == "--mode") {
      if (value == "ping") {
        o.mode = Mode::ping;
      } else if (value == "find_node") {
        o.mode = Mode::find_node;
      } else if (value == "get_peers") {
        o.mode = Mode::get_peers;
      } else if (value == "mix") {
        o.mode = Mode::mix;
      } else {
        throw UsageError("--mode: expected ping, find_node, get_peers or mix, got '" + std::string(value) +
                         "'");
      }
    } else if (flag == "--sources") {
      o.sources = parse_number<std::uint32_t>(flag, value, 1, fill_first_address);
    } else if (flag == "--fill") {
      o.fill = parse_number<std::uint64_t>(flag, value, 1, address_count - fill_first_address);
    } else {
      throw UsageError(std::string(flag) + ": unknown option");
    }
  }
  if (!o.has_target) throw UsageError("--target 127.0.0.1:PORT is required");
  return o;
}

// ---- Sockets ----------------------------------------------------------------------------------------------

std::uint32_t source_address(std::uint64_t k) {
  const auto a = static_cast<std::uint32_t>(k / addresses_per_second_octet);
  const auto b = static_cast<std::uint32_t>((k / addresses_per_block) % addresses_per_block);
  const auto c = static_cast<std::uint32_t>(1 + k % addresses_per_block);
  return 127U << 24 | a << 16 | b << 8 | c;
}

struct Source {
  int fd = -1;
  std::uint16_t local_port = 0;
  NodeId id{};  // this socket's node id, the same for all its queries
  std::uint16_t next_tid = 0;
  std::vector<std::pair<std::uint16_t, std::uint32_t>> outstanding;  // transaction id -> slot
  std::array<std::uint16_t, expired_memory> expired{};  // recently timed-out ids: their replies are "late"
  std::size_t expired_count = 0;
  std::size_t expired_next = 0;
  std::vector<Datagram> outbox;  // queries queued this loop turn, sent in one sendmmsg

  bool is_outstanding(std::uint16_t tid) const {
    return std::any_of(outstanding.begin(), outstanding.end(), [&](const auto& e) { return e.first == tid; });
  }
  bool is_expired(std::uint16_t tid) const {
    return std::find(expired.begin(), expired.begin() + static_cast<std::ptrdiff_t>(expired_count), tid) !=
           expired.begin() + static_cast<std::ptrdiff_t>(expired_count);
  }
  // The next transaction id of the counter that is neither outstanding nor recently timed out.
  std::uint16_t new_tid() {
    for (;;) {
      const std::uint16_t tid = next_tid++;
      if (!is_outstanding(tid) && !is_expired(tid)) return tid;
    }
  }
  void remember_expired(std::uint16_t tid) {
    expired[expired_next] = tid;
    expired_next = (expired_next + 1) % expired_memory;
    expired_count = std::min(expired_count + 1, expired_memory);
  }
};

sockaddr* as_sockaddr(sockaddr_in* a) {
  return reinterpret_cast<sockaddr*>(a);
}

// A non-blocking UDP socket bound to 127.x.y.z:0 and connected to the target, so the kernel only hands us
// datagrams from the node and sends need no address.
Source open_source(std::uint32_t address, const sockaddr_in& target) {
  Source s;
  s.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) throw_errno("socket");
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(address);
  sockaddr_in remote = target;
  socklen_t length = sizeof(local);
  if (::bind(s.fd, as_sockaddr(&local), sizeof(local)) != 0 ||
      ::connect(s.fd, as_sockaddr(&remote), sizeof(remote)) != 0 ||
      ::getsockname(s.fd, as_sockaddr(&local), &length) != 0) {
    const int saved = errno;
    ::close(s.fd);
    errno = saved;
    throw_errno("binding a source socket");
  }
  s.local_port = ntohs(local.sin_port);
  return s;
}

void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::size_t fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return static_cast<std::size_t>(limit.rlim_cur);
}

// ---- The query engine -------------------------------------------------------------------------------------

struct Task {
  Method method = Method::ping;
  std::uint32_t source = 0;
  NodeId key{};       // find_node's target or the info-hash
  std::string token;  // announce_peer's
  int attempt = 0;
};

enum class Outcome { answered, lost, failed };

// Hands the engine work and learns how it went; the engine keeps one task per in-flight slot.
class TaskSource {
 public:
  virtual ~TaskSource() = default;
  virtual std::optional<Task> next() = 0;
  // token: get_peers' token when answered, else empty.
  virtual void finished(const Task& task, Outcome outcome, std::string_view token, Clock::time_point now) = 0;
  virtual bool done() const = 0;
};

struct Stats {
  std::uint64_t answered = 0;   // "y":"r" replies that passed every check
  std::uint64_t lost = 0;       // no reply within the timeout
  std::uint64_t errors = 0;     // "y":"e" replies to outstanding queries
  std::uint64_t malformed = 0;  // not one well-formed dictionary with "t" and "y" strings, or an odd "y"
  std::uint64_t bad_transaction = 0;  // "t" not a query outstanding on that socket (nor a recently lost one)
  std::uint64_t bad_response = 0;     // "y":"r" with a missing or malformed body for the method asked
  std::uint64_t late = 0;             // replies to queries already counted lost
  std::uint64_t node_queries = 0;     // queries the node sent us ("y":"q"); ignored
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bad() const { return malformed + bad_transaction + bad_response; }

  void add(const Stats& o) {
    answered += o.answered;
    lost += o.lost;
    errors += o.errors;
    malformed += o.malformed;
    bad_transaction += o.bad_transaction;
    bad_response += o.bad_response;
    late += o.late;
    node_queries += o.node_queries;
    bytes_sent += o.bytes_sent;
    bytes_received += o.bytes_received;
  }
};

class Engine {
 public:
  Engine(const sockaddr_in& target, std::uint32_t inflight, Random& random)
      : target_(target), random_(random), slots_(inflight) {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) throw_errno("epoll_create1");
    for (std::uint32_t i = inflight; i > 0; --i)
      idle_.push_back(i - 1);
    for (std::size_t i = 0; i < receive_batch; ++i) {
      iovecs_[i] = {buffers_[i].data(), receive_buffer_size};
      messages_[i].msg_hdr.msg_iov = &iovecs_[i];
      messages_[i].msg_hdr.msg_iovlen = 1;
    }
  }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine() {
    close_sources();
    ::close(epoll_);
  }

  // Replaces the source sockets with new ones bound to addresses first, first + 1, ..., each with a random
  // node id and a random first transaction id.
  void open_sources(std::uint64_t first, std::size_t count) {
    close_sources();
    sources_.reserve(count);
    for (std::size_t k = 0; k < count; ++k) {
      sources_.push_back(open_source(source_address(first + k), target_));
      sources_.back().id = random_.id();
      sources_.back().next_tid = static_cast<std::uint16_t>(random_.next());
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.u32 = static_cast<std::uint32_t>(k);
      if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, sources_.back().fd, &event) != 0) throw_errno("epoll_ctl");
    }
  }

  const Stats& stats() const { return stats_; }
  std::vector<std::uint32_t>& latencies_us() { return latencies_us_; }
  void reset_stats() {
    stats_ = {};
    latencies_us_.clear();
  }

  // Keeps every slot busy with tasks until the deadline or until the task source is done. Queries still in
  // flight at the deadline are dropped uncounted.
  void run(TaskSource& tasks, Clock::time_point deadline) {
    window_ = std::min(initial_window, static_cast<std::uint32_t>(slots_.size()));
    auto now = Clock::now();
    auto next_scan = now + timeout_scan_interval;
    while (now < deadline && !tasks.done()) {
      start_idle_slots(tasks, now);
      const bool unsent = flush();
      std::array<epoll_event, 256> events{};
      const int ready = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()),
                                     unsent ? 1 : wait_ms(now, std::min(next_scan, deadline)));
      if (ready < 0 && errno != EINTR) throw_errno("epoll_wait");
      now = Clock::now();
      for (int i = 0; i < ready; ++i)
        receive(events[static_cast<std::size_t>(i)].data.u32, tasks, now);
      if (now >= next_scan) {
        expire(tasks, now);
        next_scan = now + timeout_scan_interval;
      }
    }
    abandon_outstanding();
  }

 private:
  struct Slot {
    Task task;
    bool busy = false;
    std::uint16_t tid = 0;
    Clock::time_point sent{};
  };

  static int wait_ms(Clock::time_point now, Clock::time_point until) {
    if (until <= now) return 0;
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(until - now).count());
  }

  void close_sources() {
    abandon_outstanding();
    for (const Source& s : sources_)
      ::close(s.fd);  // closing also removes the descriptor from the epoll set
    sources_.clear();
    dirty_.clear();
  }

  void abandon_outstanding() {
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].busy) {
        slots_[i].busy = false;
        idle_.push_back(i);
      }
    }
    for (Source& s : sources_) {
      s.outstanding.clear();
      s.outbox.clear();
    }
    dirty_.clear();
  }

  void start_idle_slots(TaskSource& tasks, Clock::time_point now) {
    while (!idle_.empty() && slots_.size() - idle_.size() < window_) {
      std::optional<Task> task = tasks.next();
      if (!task) return;
      const std::uint32_t index = idle_.back();
      idle_.pop_back();
      send(index, std::move(*task), now);
    }
  }

  void send(std::uint32_t index, Task task, Clock::time_point now) {
    Slot& slot = slots_[index];
    slot.task = std::move(task);
    slot.busy = true;
    slot.sent = now;
    Source& s = sources_[slot.task.source];
    slot.tid = s.new_tid();
    s.outstanding.emplace_back(slot.tid, index);
    if (s.outbox.empty()) dirty_.push_back(slot.task.source);
    s.outbox.push_back(
        make_query(slot.task.method, s.id, slot.tid, slot.task.key, s.local_port, slot.task.token));
  }

  void finish(std::uint32_t index, Outcome outcome, std::string_view token, TaskSource& tasks,
              Clock::time_point now) {
    Slot& slot = slots_[index];
    auto& outstanding = sources_[slot.task.source].outstanding;
    const auto it = std::find_if(outstanding.begin(), outstanding.end(),
                                 [&](const auto& e) { return e.first == slot.tid; });
    if (it != outstanding.end()) {
      *it = outstanding.back();
      outstanding.pop_back();
    }
    slot.busy = false;
    idle_.push_back(index);
    if (outcome == Outcome::answered && window_ < slots_.size()) ++window_;
    tasks.finished(slot.task, outcome, token, now);
  }

  void receive(std::uint32_t source, TaskSource& tasks, Clock::time_point now) {
    // Several batches per wake-up, but bounded so one busy socket cannot starve the others.
    for (int round = 0; round < 4; ++round) {
      const int n = ::recvmmsg(sources_[source].fd, messages_.data(), receive_batch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == ECONNREFUSED || errno == EINTR)
          continue;  // ICMP port unreachable from an earlier send: nothing listens yet; timeouts count it
        throw_errno("recvmmsg");
      }
      for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
        stats_.bytes_received += messages_[i].msg_len;
        const bool truncated = (messages_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        const std::string_view packet(reinterpret_cast<const char*>(buffers_[i].data()),
                                      truncated ? 0 : messages_[i].msg_len);
        handle_reply(source, packet, tasks, now);
      }
      if (static_cast<std::size_t>(n) < receive_batch) return;
    }
  }

  void handle_reply(std::uint32_t source, std::string_view packet, TaskSource& tasks, Clock::time_point now) {
    const std::optional<Envelope> envelope = parse_envelope(packet);
    if (!envelope) {
      ++stats_.malformed;  // nothing to trust in it, not even the transaction id: its query will time out
      return;
    }
    if (envelope->y == "q") {
      ++stats_.node_queries;
      return;
    }
    Source& s = sources_[source];
    if (envelope->t.size() != 2) {
      ++stats_.bad_transaction;
      return;
    }
    const auto tid = static_cast<std::uint16_t>(static_cast<std::uint8_t>(envelope->t[0]) << 8 |
                                                static_cast<std::uint8_t>(envelope->t[1]));
    const auto it = std::find_if(s.outstanding.begin(), s.outstanding.end(),
                                 [&](const auto& e) { return e.first == tid; });
    if (it == s.outstanding.end()) {
      if (s.is_expired(tid))
        ++stats_.late;
      else
        ++stats_.bad_transaction;
      return;
    }
    const std::uint32_t index = it->second;
    if (envelope->y == "e") {
      ++stats_.errors;
      finish(index, Outcome::failed, {}, tasks, now);
      return;
    }
    if (envelope->y != "r") {
      ++stats_.malformed;
      finish(index, Outcome::failed, {}, tasks, now);
      return;
    }
    const std::optional<std::string_view> token = check_response(slots_[index].task.method, envelope->r);
    if (!token) {
      ++stats_.bad_response;
      finish(index, Outcome::failed, {}, tasks, now);
      return;
    }
    ++stats_.answered;
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(now - slots_[index].sent).count();
    latencies_us_.push_back(static_cast<std::uint32_t>(std::min<long long>(micros, UINT32_MAX)));
    finish(index, Outcome::answered, *token, tasks, now);
  }

  void expire(TaskSource& tasks, Clock::time_point now) {
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].busy && now - slots_[i].sent >= request_timeout) {
        ++stats_.lost;
        sources_[slots_[i].task.source].remember_expired(slots_[i].tid);
        finish(i, Outcome::lost, {}, tasks, now);
      }
    }
  }

  // Sends every queued datagram, one sendmmsg per socket batch; returns whether some are left (buffer full).
  bool flush() {
    std::vector<std::uint32_t> still_dirty;
    for (const std::uint32_t source : dirty_) {
      if (!send_outbox(sources_[source])) still_dirty.push_back(source);
    }
    dirty_.swap(still_dirty);
    return !dirty_.empty();
  }

  bool send_outbox(Source& s) {
    std::size_t sent = 0;
    while (sent < s.outbox.size()) {
      const std::size_t count = std::min(send_batch, s.outbox.size() - sent);
      std::array<iovec, send_batch> iov{};
      std::array<mmsghdr, send_batch> messages{};
      for (std::size_t i = 0; i < count; ++i) {
        iov[i] = {s.outbox[sent + i].bytes.data(), s.outbox[sent + i].size};
        messages[i].msg_hdr.msg_iov = &iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
      }
      const int n = ::sendmmsg(s.fd, messages.data(), static_cast<unsigned>(count), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == ECONNREFUSED || errno == EINTR)
          continue;  // a pending ICMP error is reported once and cleared; retry the same datagrams
        throw_errno("sendmmsg");
      }
      for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i)
        stats_.bytes_sent += s.outbox[sent + i].size;
      sent += static_cast<std::size_t>(n);
    }
    s.outbox.erase(s.outbox.begin(), s.outbox.begin() + static_cast<std::ptrdiff_t>(sent));
    return s.outbox.empty();
  }

  sockaddr_in target_;
  Random& random_;
  int epoll_ = -1;
  std::vector<Source> sources_;
  std::vector<std::uint32_t> dirty_;  // sources with queued datagrams
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> idle_;
  std::uint32_t window_ = 0;  // how many slots may be busy now (slow start)
  Stats stats_;
  std::vector<std::uint32_t> latencies_us_;
  std::array<std::array<std::uint8_t, receive_buffer_size>, receive_batch> buffers_{};
  std::array<iovec, receive_batch> iovecs_{};
  std::array<mmsghdr, receive_batch> messages_{};
};

// ---- Task sources -----------------------------------------------------------------------------------------

// The timed load: an endless stream of queries spread round-robin over the sources, random keys; mix takes
// ping, find_node and get_peers in turn.
class EndlessLoad : public TaskSource {
 public:
  EndlessLoad(Mode mode, std::uint32_t sources, Random& random)
      : mode_(mode), sources_(sources), random_(random) {}
  std::optional<Task> next() override {
    Task task;
    task.source = next_source_;
    next_source_ = (next_source_ + 1) % sources_;
    switch (mode_) {
      case Mode::ping:
        task.method = Method::ping;
        break;
      case Mode::find_node:
        task.method = Method::find_node;
        break;
      case Mode::get_peers:
        task.method = Method::get_peers;
        break;
      case Mode::mix:
        static constexpr std::array<Method, 3> rotation{Method::ping, Method::find_node, Method::get_peers};
        task.method = rotation[turn_];
        turn_ = (turn_ + 1) % rotation.size();
        break;
    }
    if (task.method != Method::ping) random_.fill(task.key);
    return task;
  }
  void finished(const Task&, Outcome, std::string_view, Clock::time_point) override {}
  bool done() const override { return false; }

 private:
  Mode mode_;
  std::uint32_t sources_;
  Random& random_;
  std::uint32_t next_source_ = 0;
  std::size_t turn_ = 0;
};

// Progress of a whole --fill across its socket batches.
struct FillProgress {
  std::uint64_t target = 0;
  std::uint64_t pings_accepted = 0;
  std::uint64_t get_peers_answered = 0;
  std::uint64_t announces_accepted = 0;
  std::uint64_t given_up = 0;  // queries still lost after fill_max_attempts
  bool stalled = false;        // stopped early: no answer for fill_stall_limit
  Clock::time_point started{};
  Clock::time_point next_report{};
};

// One batch of fill sockets, each going ping -> get_peers(random info-hash) -> announce_peer(that info-hash,
// the token). Tasks go socket-fastest (a FIFO of next steps); lost queries are sent again a few times, and an
// announce only follows an answered get_peers (it needs the token).
class FillBatch : public TaskSource {
 public:
  FillBatch(std::uint32_t sockets, Random& random, FillProgress& progress)
      : remaining_(sockets), random_(random), progress_(progress), last_answer_(Clock::now()) {
    for (std::uint32_t s = 0; s < sockets; ++s) {
      Task task;
      task.method = Method::ping;
      task.source = s;
      queue_.push_back(std::move(task));
    }
  }

  std::optional<Task> next() override {
    if (queue_.empty()) return std::nullopt;
    Task task = std::move(queue_.front());
    queue_.pop_front();
    return task;
  }

  void finished(const Task& task, Outcome outcome, std::string_view token, Clock::time_point now) override {
    if (outcome != Outcome::lost) {
      last_answer_ = now;
    } else if (now - last_answer_ >= fill_stall_limit) {
      stalled_ = true;
      progress_.stalled = true;
    }
    if (outcome == Outcome::lost && task.attempt + 1 < fill_max_attempts) {
      Task again = task;
      ++again.attempt;
      queue_.push_back(std::move(again));
    } else {
      if (outcome == Outcome::lost) ++progress_.given_up;
      const bool answered = outcome == Outcome::answered;
      Task step;
      step.source = task.source;
      switch (task.method) {
        case Method::ping:
          progress_.pings_accepted += answered;
          step.method = Method::get_peers;
          random_.fill(step.key);
          queue_.push_back(std::move(step));
          break;
        case Method::get_peers:
          progress_.get_peers_answered += answered;
          if (answered) {
            step.method = Method::announce_peer;
            step.key = task.key;
            step.token = std::string(token);
            queue_.push_back(std::move(step));
          } else {
            --remaining_;
          }
          break;
        case Method::announce_peer:
          progress_.announces_accepted += answered;
          --remaining_;
          break;
        case Method::find_node:
          --remaining_;
          break;
      }
    }
    if (now >= progress_.next_report) report(now);
  }

  bool done() const override { return remaining_ == 0 || stalled_; }

 private:
  void report(Clock::time_point now) {
    const double seconds = std::chrono::duration<double>(now - progress_.started).count();
    std::fprintf(stderr, "dht_load: fill %llu/%llu announces accepted, %llu pings, %.1f s\n",
                 static_cast<unsigned long long>(progress_.announces_accepted),
                 static_cast<unsigned long long>(progress_.target),
                 static_cast<unsigned long long>(progress_.pings_accepted), seconds);
    progress_.next_report = now + 1s;
  }

  std::uint32_t remaining_;  // sockets not through their steps yet
  std::deque<Task> queue_;
  Random& random_;
  FillProgress& progress_;
  Clock::time_point last_answer_;
  bool stalled_ = false;
};

// ---- Modes ------------------------------------------------------------------------------------------------

std::uint32_t percentile(std::vector<std::uint32_t>& samples, double fraction) {
  if (samples.empty()) return 0;
  const auto rank =
      std::min(samples.size() - 1, static_cast<std::size_t>(static_cast<double>(samples.size()) * fraction));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(rank), samples.end());
  return samples[rank];
}

void print_counters(const Stats& s) {
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf(
      "\"lost\":%llu,\"errors\":%llu,\"bad\":%llu,\"malformed\":%llu,\"bad_transaction\":%llu,"
      "\"bad_response\":%llu,\"late\":%llu,\"node_queries\":%llu,\"bytes_sent\":%llu,\"bytes_received\":%llu,"
      "\"bytes_out_per_byte_in\":%.3f",
      u(s.lost), u(s.errors), u(s.bad()), u(s.malformed), u(s.bad_transaction), u(s.bad_response), u(s.late),
      u(s.node_queries), u(s.bytes_sent), u(s.bytes_received),
      s.bytes_sent == 0 ? 0.0 : static_cast<double>(s.bytes_received) / static_cast<double>(s.bytes_sent));
}

int run_timed(const Options& o, Random& random) {
  Engine engine(o.target, o.inflight, random);
  engine.open_sources(0, o.sources);
  EndlessLoad load(o.mode, o.sources, random);
  const auto start = Clock::now();
  engine.run(load,
             start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds)));
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  const Stats& s = engine.stats();
  auto& samples = engine.latencies_us();
  const std::uint32_t p50 = percentile(samples, 0.50);
  const std::uint32_t p99 = percentile(samples, 0.99);
  std::printf(
      "{\"mode\":\"%s\",\"seconds\":%.3f,\"answered\":%llu,\"per_second\":%.0f,\"p50_us\":%u,\"p99_us\":%u,",
      std::string(mode_name(o.mode)).c_str(), elapsed, static_cast<unsigned long long>(s.answered),
      static_cast<double>(s.answered) / elapsed, p50, p99);
  print_counters(s);
  std::printf(",\"inflight\":%u,\"sources\":%u}\n", o.inflight, o.sources);
  return 0;
}

int run_fill(const Options& o, Random& random) {
  const std::size_t batch = std::max<std::size_t>(1, std::min(fill_batch_sockets, fd_limit() - 64));
  Engine engine(o.target, std::min(o.inflight, fill_max_inflight), random);
  FillProgress progress;
  progress.target = o.fill;
  progress.started = Clock::now();
  progress.next_report = progress.started + 1s;
  Stats total;
  for (std::uint64_t first = 0; first < o.fill; first += batch) {
    const auto count = static_cast<std::uint32_t>(std::min<std::uint64_t>(batch, o.fill - first));
    engine.open_sources(fill_first_address + first, count);
    FillBatch tasks(count, random, progress);
    engine.run(tasks, Clock::time_point::max());
    total.add(engine.stats());
    engine.reset_stats();
    if (progress.stalled) {
      std::fprintf(stderr, "dht_load: fill stopped, no answer for %lld s\n",
                   static_cast<long long>(fill_stall_limit.count()));
      break;
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - progress.started).count();
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::fprintf(stderr, "dht_load: fill done, %llu pings and %llu announces accepted in %.1f s\n",
               u(progress.pings_accepted), u(progress.announces_accepted), elapsed);
  std::printf(
      "{\"mode\":\"fill\",\"nodes\":%llu,\"pings_accepted\":%llu,\"get_peers_answered\":%llu,"
      "\"announces_accepted\":%llu,\"given_up\":%llu,\"stalled\":%s,\"seconds\":%.3f,",
      u(o.fill), u(progress.pings_accepted), u(progress.get_peers_answered), u(progress.announces_accepted),
      u(progress.given_up), progress.stalled ? "true" : "false", elapsed);
  print_counters(total);
  std::printf("}\n");
  return progress.announces_accepted > 0 && !progress.stalled ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse_options(argc, argv);
    raise_fd_limit();
    Random random(std::random_device{}() ^
                  static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()));
    return options.fill > 0 ? run_fill(options, random) : run_timed(options, random);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "dht_load: %s\n", e.what());
    std::fprintf(stderr,
                 "usage: dht_load --target 127.0.0.1:PORT [--seconds 5] [--inflight 256]"
                 " [--mode ping|find_node|get_peers|mix] [--sources 64] [--fill N]\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dht_load: %s\n", e.what());
    return 1;
  }
}
