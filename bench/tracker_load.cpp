// bench/tracker_load: a single-threaded BEP 15 UDP tracker load generator for loopback benchmarks.
//
//   tracker_load --target 127.0.0.1:PORT [--seconds 5] [--inflight 256] [--mode pair|announce]
//                [--hashes 1000] [--sources 64] [--write-hashes FILE] [--fill N]
//                [--hash-set random|shared-prefix]
//
// Timed modes keep --inflight exchanges outstanding across --sources sockets and count answers:
//   pair      connect + announce per exchange (latency from the connect sent to the announce answered);
//   announce  one connect per socket up front, then announces reusing its connection id.
// --fill N announces N distinct peers (one per (socket address, info-hash)) as fast as possible, so a script
// can read the tracker's memory per peer. --write-hashes FILE writes the info-hash set (hex, one per line)
// and exits. Prints one JSON line on stdout. Every reply is checked strictly; anything unexpected is counted
// as an error. Only 127.0.0.0/8 is ever sent to.
// --hash-set shared-prefix makes every info-hash share its first 16 bytes (only the last 4 differ): the
// chosen-key workload an open tracker must survive without its tables degrading into one bucket.

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
#include <exception>
#include <fstream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::uint64_t protocol_magic = 0x41727101980;
constexpr std::uint32_t action_connect = 0;
constexpr std::uint32_t action_announce = 1;
constexpr std::uint32_t action_error = 3;
constexpr std::size_t connect_request_size = 16;
constexpr std::size_t announce_request_size = 98;
constexpr std::size_t connect_reply_size = 16;
constexpr std::size_t announce_reply_header = 20;
constexpr std::size_t compact_peer_size = 6;
constexpr std::uint32_t event_none = 0;
constexpr std::uint32_t event_started = 2;

constexpr auto request_timeout = 1s;
constexpr auto connection_id_lifetime = 60s;  // BEP 15: a client may use a connection id for one minute
constexpr auto timeout_scan_interval = 10ms;
// Each run starts with this many exchanges in flight and adds one per answer (TCP-like slow start) up to
// --inflight, so the start is not one burst of hundreds of datagrams into the tracker's socket. (A tracker
// that cannot queue --inflight requests still drops some later; those show up as lost.)
constexpr std::uint32_t initial_window = 16;

// Source socket k binds 127.(k / 62500).((k / 250) % 250).(1 + k % 250): the load sources are the first ones
// (127.0.0.1, 127.0.0.2, ...), and --fill starts at 127.1.0.1 so its peers never coincide with the ones the
// timed runs left in the tracker (the fill is meant to measure the memory of N *new* peers).
constexpr std::uint32_t addresses_per_block = 250;
constexpr std::uint32_t addresses_per_second_octet = addresses_per_block * addresses_per_block;
constexpr std::uint32_t fill_first_address = addresses_per_second_octet;
constexpr std::uint64_t address_count = 256ULL * addresses_per_second_octet;

constexpr std::size_t fill_batch_sockets = 1000;  // keeps the fill's descriptors well under common fd limits
constexpr int fill_max_attempts = 5;  // a fill announce is retried this often before it is given up
constexpr std::size_t receive_batch = 64;
constexpr std::size_t receive_buffer_size = 2048;  // > 20 + 6 * 200, the largest compact announce reply
constexpr std::size_t send_batch = 64;

using InfoHash = std::array<std::uint8_t, 20>;
using PeerId = std::array<std::uint8_t, 20>;

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// ---- Deterministic numbers --------------------------------------------------------------------------------

std::uint64_t splitmix64(std::uint64_t& state) {
  state += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A fast generator for transaction ids, info-hash picks, peer ids and ports; nothing here needs to be secret.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return splitmix64(state_); }
  std::uint32_t next32() { return static_cast<std::uint32_t>(next() >> 32); }
  // Uniform in [0, n) by multiply-shift; the bias is negligible for the small n used here.
  std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>(next32()) * n) >> 32);
  }
  template <std::size_t N>
  void fill(std::array<std::uint8_t, N>& bytes) {
    for (std::size_t i = 0; i < N; i += 8) {
      std::uint64_t word = next();
      for (std::size_t j = i; j < std::min(N, i + 8); ++j, word >>= 8)
        bytes[j] = static_cast<std::uint8_t>(word);
    }
  }

 private:
  std::uint64_t state_;
};

// Hash i is the first 20 bytes of splitmix64 seeded with i, so the generator and the whitelist always agree.
InfoHash info_hash(std::uint64_t i) {
  Random random(i);
  InfoHash hash{};
  random.fill(hash);
  return hash;
}

// Shared-prefix hash i: the 16 bytes of hash 0xC4053 (any fixed prefix would do), then i big-endian.
InfoHash shared_prefix_hash(std::uint32_t i) {
  InfoHash hash = info_hash(0xC4053);
  for (int b = 0; b < 4; ++b)
    hash[static_cast<std::size_t>(16 + b)] = static_cast<std::uint8_t>(i >> (24 - 8 * b));
  return hash;
}

std::vector<InfoHash> info_hashes(std::uint32_t count, bool shared_prefix) {
  std::vector<InfoHash> hashes;
  hashes.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i)
    hashes.push_back(shared_prefix ? shared_prefix_hash(i) : info_hash(i));
  return hashes;
}

// ---- Wire format ------------------------------------------------------------------------------------------

void put_u16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8)
    p[i] = static_cast<std::uint8_t>(v);
}
void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8)
    p[i] = static_cast<std::uint8_t>(v);
}
std::uint32_t get_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | static_cast<std::uint32_t>(p[3]);
}
std::uint64_t get_u64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(get_u32(p)) << 32 | get_u32(p + 4);
}

struct Datagram {
  std::array<std::uint8_t, announce_request_size> bytes{};
  std::size_t size = 0;
};

Datagram connect_request(std::uint32_t transaction_id) {
  Datagram d;
  put_u64(&d.bytes[0], protocol_magic);
  put_u32(&d.bytes[8], action_connect);
  put_u32(&d.bytes[12], transaction_id);
  d.size = connect_request_size;
  return d;
}

struct Announce {
  std::uint64_t connection_id = 0;
  std::uint32_t transaction_id = 0;
  const InfoHash* info_hash = nullptr;
  PeerId peer_id{};
  std::uint64_t downloaded = 0;
  std::uint64_t left = 0;
  std::uint64_t uploaded = 0;
  std::uint32_t event = event_none;
  std::uint32_t key = 0;
  std::uint32_t num_want = 0;
  std::uint16_t port = 0;
};

Datagram announce_request(const Announce& a) {
  Datagram d;
  std::uint8_t* p = d.bytes.data();
  put_u64(p, a.connection_id);
  put_u32(p + 8, action_announce);
  put_u32(p + 12, a.transaction_id);
  std::copy(a.info_hash->begin(), a.info_hash->end(), p + 16);
  std::copy(a.peer_id.begin(), a.peer_id.end(), p + 36);
  put_u64(p + 56, a.downloaded);
  put_u64(p + 64, a.left);
  put_u64(p + 72, a.uploaded);
  put_u32(p + 80, a.event);
  put_u32(p + 84, 0);  // IP: 0 = use the packet's source address
  put_u32(p + 88, a.key);
  put_u32(p + 92, a.num_want);
  put_u16(p + 96, a.port);
  d.size = announce_request_size;
  return d;
}

// ---- Command line -----------------------------------------------------------------------------------------

enum class Mode { pair, announce };

struct Options {
  sockaddr_in target{};
  bool has_target = false;
  double seconds = 5.0;
  std::uint32_t inflight = 256;
  Mode mode = Mode::pair;
  std::uint32_t hashes = 1000;
  std::uint32_t sources = 64;
  std::string write_hashes;
  std::uint64_t fill = 0;
  bool shared_prefix = false;
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
      if (value != "pair" && value != "announce")
        throw UsageError("--mode: expected pair or announce, got '" + std::string(value) + "'");
      o.mode = value == "pair" ? Mode::pair : Mode::announce;
    } else if (flag == "--hashes") {
      o.hashes = parse_number<std::uint32_t>(flag, value, 1, 100'000'000);
    } else if (flag == "--sources") {
      o.sources = parse_number<std::uint32_t>(flag, value, 1, fill_first_address);
    } else if (flag == "--write-hashes") {
      o.write_hashes = std::string(value);
    } else if (flag == "--hash-set") {
      if (value != "random" && value != "shared-prefix")
        throw UsageError("--hash-set: expected random or shared-prefix, got '" + std::string(value) + "'");
      o.shared_prefix = value == "shared-prefix";
    } else if (flag == "--fill") {
      o.fill = parse_number<std::uint64_t>(flag, value, 1, 1'000'000'000'000);
    } else {
      throw UsageError(std::string(flag) + ": unknown option");
    }
  }
  if (!o.has_target && o.write_hashes.empty()) throw UsageError("--target 127.0.0.1:PORT is required");
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
  PeerId peer_id{};  // the peer id a --fill socket uses for all its torrents, like one client would
  std::optional<std::uint64_t> connection_id;
  Clock::time_point connected_at{};
  std::vector<Datagram> outbox;  // requests queued this loop turn, sent in one sendmmsg
};

sockaddr* as_sockaddr(sockaddr_in* a) {
  return reinterpret_cast<sockaddr*>(a);
}

// A non-blocking UDP socket bound to 127.x.y.z:0 and connected to the target, so the kernel only hands us
// datagrams from the tracker and sends need no address.
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

// ---- The exchange engine ----------------------------------------------------------------------------------

enum class Plan {
  connect_only,  // obtain a connection id for the source
  pair,          // connect, then announce with the fresh id
  announce,      // announce with the source's id (connecting first only if it has none or it is stale)
};

struct Task {
  Plan plan = Plan::pair;
  std::uint32_t source = 0;
  std::uint32_t hash = 0;
  int attempt = 0;
};

enum class Outcome { answered, lost, failed };

// Hands the engine work and learns how it went; the engine keeps one task per in-flight slot.
class TaskSource {
 public:
  virtual ~TaskSource() = default;
  virtual std::optional<Task> next() = 0;
  virtual void finished(const Task& task, Outcome outcome, Clock::time_point now) = 0;
  virtual bool done() const = 0;
};

// How announces describe the peer: the timed load invents a random peer each time (random peer id and port),
// the fill announces the socket itself as a leecher wanting no peers, so each (socket, hash) is one small
// stored peer.
enum class PeerStyle { random, per_source };

struct Stats {
  std::uint64_t answered = 0;  // completed tasks (pairs, announces or connects, by plan)
  std::uint64_t lost = 0;
  std::uint64_t short_replies = 0;    // too short or of the wrong length for the action
  std::uint64_t bad_action = 0;       // answered with another action than the request's
  std::uint64_t bad_transaction = 0;  // no outstanding request with that transaction id on that socket
  std::uint64_t tracker_errors = 0;   // action 3 replies
  std::uint64_t errors() const { return short_replies + bad_action + bad_transaction + tracker_errors; }
};

class Engine {
 public:
  Engine(const sockaddr_in& target, const std::vector<InfoHash>& hashes, std::uint32_t inflight,
         PeerStyle style, Random& random)
      : target_(target), hashes_(hashes), style_(style), random_(random), slots_(inflight) {
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

  // Replaces the source sockets with new ones bound to addresses first, first + 1, ...
  void open_sources(std::uint64_t first, std::size_t count) {
    close_sources();
    sources_.reserve(count);
    for (std::size_t k = 0; k < count; ++k) {
      sources_.push_back(open_source(source_address(first + k), target_));
      random_.fill(sources_.back().peer_id);
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.u32 = static_cast<std::uint32_t>(k);
      if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, sources_.back().fd, &event) != 0) throw_errno("epoll_ctl");
    }
  }

  std::size_t source_count() const { return sources_.size(); }
  const Stats& stats() const { return stats_; }
  std::vector<std::uint32_t>& latencies_us() { return latencies_us_; }
  void reset_stats() {
    stats_ = {};
    latencies_us_.clear();
  }

  // Keeps every slot busy with tasks until the deadline or until the task source is done. Exchanges still in
  // flight at the deadline are dropped uncounted; their late replies would show up as bad transactions in a
  // following run, so callers give the tracker a moment (drain) between runs.
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

  // Reads and discards whatever is still arriving (late replies of abandoned exchanges) for a short while.
  void drain(std::chrono::milliseconds quiet) {
    const auto deadline = Clock::now() + quiet;
    std::array<epoll_event, 256> events{};
    for (auto now = Clock::now(); now < deadline; now = Clock::now()) {
      const int ready =
          ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), wait_ms(now, deadline));
      for (int i = 0; i < ready; ++i)
        while (::recvmmsg(sources_[events[static_cast<std::size_t>(i)].data.u32].fd, messages_.data(),
                          receive_batch, MSG_DONTWAIT, nullptr) > 0) {
        }
    }
  }

 private:
  enum class Step { idle, connecting, announcing };

  struct Slot {
    Task task;
    Step step = Step::idle;
    std::uint32_t transaction_id = 0;
    Clock::time_point started{};  // latency is measured from here
    Clock::time_point sent{};     // the timeout is measured from here
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
      if (slots_[i].step != Step::idle) {
        slots_[i].step = Step::idle;
        idle_.push_back(i);
      }
    }
    by_transaction_.clear();
    for (Source& s : sources_)
      s.outbox.clear();
    dirty_.clear();
  }

  void start_idle_slots(TaskSource& tasks, Clock::time_point now) {
    while (!idle_.empty() && slots_.size() - idle_.size() < window_) {
      const std::optional<Task> task = tasks.next();
      if (!task) return;
      const std::uint32_t index = idle_.back();
      idle_.pop_back();
      start(index, *task, now);
    }
  }

  bool has_fresh_id(const Source& s, Clock::time_point now) const {
    return s.connection_id && now - s.connected_at < connection_id_lifetime;
  }

  void start(std::uint32_t index, const Task& task, Clock::time_point now) {
    Slot& slot = slots_[index];
    slot.task = task;
    slot.started = now;
    if (task.plan == Plan::announce && has_fresh_id(sources_[task.source], now))
      send_announce(index, now);
    else
      send_connect(index, now);
  }

  // A fresh random transaction id that no outstanding request uses, registered for the slot.
  std::uint32_t new_transaction(std::uint32_t index) {
    for (;;) {
      const std::uint32_t id = random_.next32();
      if (by_transaction_.emplace(id, index).second) return id;
    }
  }

  void queue(std::uint32_t source, const Datagram& datagram) {
    Source& s = sources_[source];
    if (s.outbox.empty()) dirty_.push_back(source);
    s.outbox.push_back(datagram);
  }

  void send_connect(std::uint32_t index, Clock::time_point now) {
    Slot& slot = slots_[index];
    slot.step = Step::connecting;
    slot.transaction_id = new_transaction(index);
    slot.sent = now;
    queue(slot.task.source, connect_request(slot.transaction_id));
  }

  void send_announce(std::uint32_t index, Clock::time_point now) {
    Slot& slot = slots_[index];
    const Source& source = sources_[slot.task.source];
    slot.step = Step::announcing;
    slot.transaction_id = new_transaction(index);
    slot.sent = now;
    Announce a;
    a.connection_id = *source.connection_id;
    a.transaction_id = slot.transaction_id;
    a.info_hash = &hashes_[slot.task.hash];
    a.key = random_.next32();
    if (style_ == PeerStyle::random) {
      random_.fill(a.peer_id);
      a.downloaded = random_.below(1U << 30);
      a.left = random_.below(1U << 30);
      a.uploaded = random_.below(1U << 30);
      a.event = random_.below(2) == 0 ? event_started : event_none;
      a.num_want = 50;
      a.port = static_cast<std::uint16_t>(1 + random_.below(65535));
    } else {
      a.peer_id = source.peer_id;
      a.left = 1;  // a leecher
      a.event = event_started;
      a.num_want = 0;  // keep replies small; the fill measures storage, not peer lists
      a.port = source.local_port;
    }
    queue(slot.task.source, announce_request(a));
  }

  void finish(std::uint32_t index, Outcome outcome, TaskSource& tasks, Clock::time_point now) {
    Slot& slot = slots_[index];
    by_transaction_.erase(slot.transaction_id);
    slot.step = Step::idle;
    idle_.push_back(index);
    if (outcome == Outcome::answered && window_ < slots_.size()) ++window_;
    tasks.finished(slot.task, outcome, now);
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
        const bool truncated = (messages_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        handle_reply(source, buffers_[i].data(), truncated ? 0 : messages_[i].msg_len, tasks, now);
      }
      if (static_cast<std::size_t>(n) < receive_batch) return;
    }
  }

  void handle_reply(std::uint32_t source, const std::uint8_t* p, std::size_t size, TaskSource& tasks,
                    Clock::time_point now) {
    if (size < 8) {
      ++stats_.short_replies;  // not even a transaction id to blame it on
      return;
    }
    const std::uint32_t action = get_u32(p);
    const auto it = by_transaction_.find(get_u32(p + 4));
    if (it == by_transaction_.end() || slots_[it->second].task.source != source) {
      ++stats_.bad_transaction;
      return;
    }
    const std::uint32_t index = it->second;
    Slot& slot = slots_[index];
    if (action == action_error) {
      ++stats_.tracker_errors;
      if (slot.step == Step::announcing)
        sources_[source].connection_id.reset();  // most likely an expired id: the next task reconnects
      finish(index, Outcome::failed, tasks, now);
      return;
    }
    const std::uint32_t expected = slot.step == Step::connecting ? action_connect : action_announce;
    if (action != expected) {
      ++stats_.bad_action;
      finish(index, Outcome::failed, tasks, now);
      return;
    }
    if (slot.step == Step::connecting)
      handle_connected(index, p, size, tasks, now);
    else
      handle_announced(index, size, tasks, now);
  }

  void handle_connected(std::uint32_t index, const std::uint8_t* p, std::size_t size, TaskSource& tasks,
                        Clock::time_point now) {
    if (size < connect_reply_size) {
      ++stats_.short_replies;
      finish(index, Outcome::failed, tasks, now);
      return;
    }
    Slot& slot = slots_[index];
    Source& source = sources_[slot.task.source];
    source.connection_id = get_u64(p + 8);
    source.connected_at = now;
    if (slot.task.plan == Plan::connect_only) {
      ++stats_.answered;
      finish(index, Outcome::answered, tasks, now);
      return;
    }
    by_transaction_.erase(slot.transaction_id);
    if (slot.task.plan == Plan::announce)
      slot.started = now;  // announce mode times the announce alone; a refresh connect is not part of it
    send_announce(index, now);
  }

  void handle_announced(std::uint32_t index, std::size_t size, TaskSource& tasks, Clock::time_point now) {
    if (size < announce_reply_header || (size - announce_reply_header) % compact_peer_size != 0) {
      ++stats_.short_replies;
      finish(index, Outcome::failed, tasks, now);
      return;
    }
    ++stats_.answered;
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(now - slots_[index].started).count();
    latencies_us_.push_back(static_cast<std::uint32_t>(std::min<long long>(micros, UINT32_MAX)));
    finish(index, Outcome::answered, tasks, now);
  }

  void expire(TaskSource& tasks, Clock::time_point now) {
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].step != Step::idle && now - slots_[i].sent >= request_timeout) {
        ++stats_.lost;
        finish(i, Outcome::lost, tasks, now);
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
      sent += static_cast<std::size_t>(n);
    }
    s.outbox.erase(s.outbox.begin(), s.outbox.begin() + static_cast<std::ptrdiff_t>(sent));
    return s.outbox.empty();
  }

  sockaddr_in target_;
  const std::vector<InfoHash>& hashes_;
  PeerStyle style_;
  Random& random_;
  int epoll_ = -1;
  std::vector<Source> sources_;
  std::vector<std::uint32_t> dirty_;  // sources with queued datagrams
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> idle_;
  std::uint32_t window_ = 0;  // how many slots may be busy now (slow start)
  std::unordered_map<std::uint32_t, std::uint32_t> by_transaction_;  // transaction id -> slot
  Stats stats_;
  std::vector<std::uint32_t> latencies_us_;
  std::array<std::array<std::uint8_t, receive_buffer_size>, receive_batch> buffers_{};
  std::array<iovec, receive_batch> iovecs_{};
  std::array<mmsghdr, receive_batch> messages_{};
};

// ---- Task sources -----------------------------------------------------------------------------------------

// The timed load: an endless stream of exchanges spread round-robin over the sources, random info-hashes.
class EndlessLoad : public TaskSource {
 public:
  EndlessLoad(Plan plan, std::uint32_t sources, std::uint32_t hashes, Random& random)
      : plan_(plan), sources_(sources), hashes_(hashes), random_(random) {}
  std::optional<Task> next() override {
    const std::uint32_t source = next_source_;
    next_source_ = (next_source_ + 1) % sources_;
    return Task{plan_, source, random_.below(hashes_), 0};
  }
  void finished(const Task&, Outcome, Clock::time_point) override {}
  bool done() const override { return false; }

 private:
  Plan plan_;
  std::uint32_t sources_;
  std::uint32_t hashes_;
  Random& random_;
  std::uint32_t next_source_ = 0;
};

// One connect per source, repeated for the ones that got no answer.
class ConnectEachSource : public TaskSource {
 public:
  explicit ConnectEachSource(std::uint32_t sources) : remaining_(sources) {
    for (std::uint32_t s = sources; s > 0; --s)
      pending_.push_back(s - 1);
  }
  std::optional<Task> next() override {
    if (pending_.empty()) return std::nullopt;
    const std::uint32_t source = pending_.back();
    pending_.pop_back();
    return Task{Plan::connect_only, source, 0, 0};
  }
  void finished(const Task& task, Outcome outcome, Clock::time_point) override {
    if (outcome == Outcome::answered)
      --remaining_;
    else
      pending_.push_back(task.source);
  }
  bool done() const override { return remaining_ == 0; }

 private:
  std::vector<std::uint32_t> pending_;
  std::uint32_t remaining_;
};

// Progress of a whole --fill across its socket batches.
struct FillProgress {
  std::uint64_t target = 0;
  std::uint64_t announced = 0;
  std::uint64_t given_up = 0;
  Clock::time_point started{};
  Clock::time_point next_report{};
};

// One batch of fill sockets: socket j announces hashes 0 .. per_socket[j] - 1. Tasks go socket-fastest so
// that consecutive announces come from different sockets and a socket's first connect is long done before its
// next announce. Lost or failed announces are retried a few times.
class FillBatch : public TaskSource {
 public:
  FillBatch(std::uint32_t sockets, std::uint32_t hashes, std::uint32_t last_socket_hashes,
            FillProgress& progress)
      : sockets_(sockets),
        hashes_(hashes),
        last_socket_hashes_(last_socket_hashes),
        remaining_(static_cast<std::uint64_t>(sockets - 1) * hashes + last_socket_hashes),
        progress_(progress) {}

  std::optional<Task> next() override {
    if (!retry_.empty()) {
      const Task task = retry_.back();
      retry_.pop_back();
      return task;
    }
    const std::uint64_t end = static_cast<std::uint64_t>(sockets_) * hashes_;
    for (; cursor_ < end; ++cursor_) {
      const auto socket = static_cast<std::uint32_t>(cursor_ % sockets_);
      const auto hash = static_cast<std::uint32_t>(cursor_ / sockets_);
      if (socket + 1 < sockets_ || hash < last_socket_hashes_) {
        ++cursor_;
        return Task{Plan::announce, socket, hash, 0};
      }
    }
    return std::nullopt;
  }

  void finished(const Task& task, Outcome outcome, Clock::time_point now) override {
    if (outcome == Outcome::answered) {
      ++progress_.announced;
      --remaining_;
    } else if (task.attempt + 1 < fill_max_attempts) {
      Task again = task;
      ++again.attempt;
      retry_.push_back(again);
    } else {
      ++progress_.given_up;
      --remaining_;
    }
    if (now >= progress_.next_report) report(now);
  }

  bool done() const override { return remaining_ == 0; }

 private:
  void report(Clock::time_point now) {
    const double seconds = std::chrono::duration<double>(now - progress_.started).count();
    std::fprintf(stderr, "tracker_load: fill %llu/%llu peers, %.1f s, %.0f/s\n",
                 static_cast<unsigned long long>(progress_.announced),
                 static_cast<unsigned long long>(progress_.target), seconds,
                 static_cast<double>(progress_.announced) / std::max(seconds, 1e-9));
    progress_.next_report = now + 1s;
  }

  std::uint32_t sockets_;
  std::uint32_t hashes_;
  std::uint32_t last_socket_hashes_;
  std::uint64_t remaining_;
  std::uint64_t cursor_ = 0;
  std::vector<Task> retry_;
  FillProgress& progress_;
};

// ---- Modes ------------------------------------------------------------------------------------------------

std::uint32_t percentile(std::vector<std::uint32_t>& samples, double fraction) {
  if (samples.empty()) return 0;
  const auto rank =
      std::min(samples.size() - 1, static_cast<std::size_t>(static_cast<double>(samples.size()) * fraction));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(rank), samples.end());
  return samples[rank];
}

void print_error_fields(const Stats& s) {
  std::printf(
      "\"lost\":%llu,\"errors\":%llu,\"short\":%llu,\"bad_action\":%llu,\"bad_transaction\":%llu,"
      "\"tracker_errors\":%llu",
      static_cast<unsigned long long>(s.lost), static_cast<unsigned long long>(s.errors()),
      static_cast<unsigned long long>(s.short_replies), static_cast<unsigned long long>(s.bad_action),
      static_cast<unsigned long long>(s.bad_transaction), static_cast<unsigned long long>(s.tracker_errors));
}

int run_timed(const Options& o, const std::vector<InfoHash>& hashes, Random& random) {
  Engine engine(o.target, hashes, o.inflight, PeerStyle::random, random);
  engine.open_sources(0, o.sources);
  if (o.mode == Mode::announce) {
    // Connection ids first, outside the measured window; sources that never connect retry lazily later.
    ConnectEachSource connects(o.sources);
    engine.run(connects, Clock::now() + 5s);
    engine.drain(50ms);
    engine.reset_stats();
  }
  EndlessLoad load(o.mode == Mode::pair ? Plan::pair : Plan::announce, o.sources, o.hashes, random);
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
      o.mode == Mode::pair ? "pair" : "announce", elapsed, static_cast<unsigned long long>(s.answered),
      static_cast<double>(s.answered) / elapsed, p50, p99);
  print_error_fields(s);
  std::printf(",\"inflight\":%u,\"sources\":%u}\n", o.inflight, o.sources);
  return 0;
}

int run_fill(const Options& o, const std::vector<InfoHash>& hashes, Random& random) {
  const std::uint64_t sockets = (o.fill + o.hashes - 1) / o.hashes;
  if (fill_first_address + sockets > address_count)
    throw UsageError("--fill: too many peers for the loopback addresses; use more --hashes");
  const auto last_socket_hashes = static_cast<std::uint32_t>(o.fill - (sockets - 1) * o.hashes);
  const std::size_t batch = std::max<std::size_t>(1, std::min(fill_batch_sockets, fd_limit() - 64));

  Engine engine(o.target, hashes, o.inflight, PeerStyle::per_source, random);
  FillProgress progress;
  progress.target = o.fill;
  progress.started = Clock::now();
  progress.next_report = progress.started + 1s;
  Stats total;
  for (std::uint64_t first = 0; first < sockets; first += batch) {
    const auto count = static_cast<std::uint32_t>(std::min<std::uint64_t>(batch, sockets - first));
    const bool last_batch = first + count == sockets;
    engine.open_sources(fill_first_address + first, count);
    FillBatch tasks(count, o.hashes, last_batch ? last_socket_hashes : o.hashes, progress);
    engine.run(tasks, Clock::time_point::max());
    total.lost += engine.stats().lost;
    total.short_replies += engine.stats().short_replies;
    total.bad_action += engine.stats().bad_action;
    total.bad_transaction += engine.stats().bad_transaction;
    total.tracker_errors += engine.stats().tracker_errors;
    engine.reset_stats();
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - progress.started).count();
  std::fprintf(stderr, "tracker_load: fill done, %llu peers in %.1f s\n",
               static_cast<unsigned long long>(progress.announced), elapsed);
  std::printf("{\"mode\":\"fill\",\"peers\":%llu,\"seconds\":%.3f,",
              static_cast<unsigned long long>(progress.announced), elapsed);
  print_error_fields(total);
  std::printf(",\"given_up\":%llu}\n", static_cast<unsigned long long>(progress.given_up));
  return progress.given_up == 0 ? 0 : 1;
}

int write_hashes(const std::string& path, const std::vector<InfoHash>& hashes) {
  std::ofstream out(path);
  static constexpr char hex[] = "0123456789abcdef";
  for (const InfoHash& hash : hashes) {
    std::string line;
    for (const std::uint8_t byte : hash) {
      line += hex[byte >> 4];
      line += hex[byte & 15];
    }
    out << line << '\n';
  }
  out.close();
  if (!out) {
    std::fprintf(stderr, "tracker_load: cannot write %s\n", path.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse_options(argc, argv);
    const std::vector<InfoHash> hashes = info_hashes(options.hashes, options.shared_prefix);
    if (!options.write_hashes.empty()) return write_hashes(options.write_hashes, hashes);
    raise_fd_limit();
    Random random(std::random_device{}() ^
                  static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()));
    return options.fill > 0 ? run_fill(options, hashes, random) : run_timed(options, hashes, random);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "tracker_load: %s\n", e.what());
    std::fprintf(
        stderr,
        "usage: tracker_load --target 127.0.0.1:PORT [--seconds 5] [--inflight 256] [--mode pair|announce]"
        " [--hashes 1000] [--sources 64] [--write-hashes FILE] [--fill N]"
        " [--hash-set random|shared-prefix]\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tracker_load: %s\n", e.what());
    return 1;
  }
}
