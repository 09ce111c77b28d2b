// The port mapper's driver: backends are called on its worker thread (never the network thread), reports
// come back on the network thread once per change, and what was granted is removed when the mapper goes.
#include "net/port_mapper.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

namespace shoal::net {
namespace {

// Answers every request as a router would; records what it was asked and on which thread.
class FakeRouter final : public MappingBackend {
 public:
  struct Calls {
    std::mutex mutex;
    std::vector<nat::MappingRequest> added;
    std::vector<std::pair<nat::Protocol, std::uint16_t>> removed;  // protocol, external port
    std::set<std::thread::id> threads;
  };
  FakeRouter(std::shared_ptr<Calls> calls, bool grant, std::uint16_t port_offset)
      : calls_(std::move(calls)), grant_(grant), port_offset_(port_offset) {}
  const char* name() const override { return "Fake"; }
  nat::MappingResult add(const nat::MappingRequest& request) override {
    std::lock_guard lock(calls_->mutex);
    calls_->added.push_back(request);
    calls_->threads.insert(std::this_thread::get_id());
    nat::MappingResult r;
    if (!grant_) {
      r.error = "no router here";
      return r;
    }
    r.ok = true;
    r.external_port = static_cast<std::uint16_t>(request.internal_port + port_offset_);
    r.lease_seconds = 3600;
    r.external_address = "198.51.100.7";
    return r;
  }
  void remove(nat::Protocol protocol, std::uint16_t, std::uint16_t external_port) override {
    std::lock_guard lock(calls_->mutex);
    calls_->removed.emplace_back(protocol, external_port);
    calls_->threads.insert(std::this_thread::get_id());
  }

 private:
  std::shared_ptr<Calls> calls_;
  bool grant_;
  std::uint16_t port_offset_;
};

// Runs the io_context until `done` or a generous deadline (a safety net, not a synchronisation).
template <class Pred>
bool run_until(boost::asio::io_context& io, Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(50));
  }
  return done();
}

TEST(PortMapper, MapsBothPortsOnTheWorkerAndRemovesThemWhenGone) {
  boost::asio::io_context io;
  auto calls = std::make_shared<FakeRouter::Calls>();
  std::vector<PortMapper::Report> reports;
  std::set<std::thread::id> report_threads;
  {
    std::vector<std::unique_ptr<MappingBackend>> backends;
    backends.push_back(std::make_unique<FakeRouter>(calls, true, 1000));
    PortMapper mapper(io, std::move(backends), [&](const PortMapper::Report& r) {
      reports.push_back(r);
      report_threads.insert(std::this_thread::get_id());
    });
    mapper.start(6881, 7000);
    ASSERT_TRUE(run_until(io, [&] { return reports.size() == 2; }));
    EXPECT_EQ(mapper.external_tcp_port(), 7881);
    for (const auto& r : reports) {
      EXPECT_EQ(r.change, nat::PortMapping::Change::mapped);
      EXPECT_EQ(r.backend, "Fake");
      EXPECT_EQ(r.external_address, "198.51.100.7");
      EXPECT_EQ(r.external_port, r.internal_port + 1000);
    }
    mapper.stop();
  }
  // The destructor ran the removals before it returned.
  std::lock_guard lock(calls->mutex);
  ASSERT_EQ(calls->added.size(), 2u);
  EXPECT_EQ(calls->removed.size(), 2u);
  EXPECT_EQ(calls->threads.size(), 1u);
  EXPECT_FALSE(calls->threads.count(std::this_thread::get_id()))
      << "a backend was called on the network thread";
  EXPECT_EQ(report_threads, std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST(PortMapper, AFailureIsReportedOnceAndNothingIsRemoved) {
  boost::asio::io_context io;
  auto calls = std::make_shared<FakeRouter::Calls>();
  std::vector<PortMapper::Report> reports;
  {
    std::vector<std::unique_ptr<MappingBackend>> backends;
    backends.push_back(std::make_unique<FakeRouter>(calls, false, 0));
    PortMapper mapper(io, std::move(backends), [&](const PortMapper::Report& r) { reports.push_back(r); });
    mapper.start(6881, 0);  // no UDP port: TCP only
    ASSERT_TRUE(run_until(io, [&] { return reports.size() == 1; }));
    EXPECT_EQ(reports[0].change, nat::PortMapping::Change::failed);
    EXPECT_EQ(reports[0].error, "no router here");
    EXPECT_EQ(mapper.external_tcp_port(), 0);
    mapper.stop();
  }
  std::lock_guard lock(calls->mutex);
  EXPECT_EQ(calls->added.size(), 1u);  // the retry waits its backoff (5 s), past the end of this test
  EXPECT_TRUE(calls->removed.empty());
}

}  // namespace
}  // namespace shoal::net
