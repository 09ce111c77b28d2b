#include "nat/port_mapping.hpp"

#include <gtest/gtest.h>

namespace shoal::nat {
namespace {

using std::chrono::seconds;

const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(1);

MappingRequest tcp_request(std::uint16_t port = 6881) {
  MappingRequest r;
  r.protocol = Protocol::tcp;
  r.internal_port = port;
  r.lease_seconds = 3600;
  return r;
}

MappingResult granted(std::uint16_t port, std::uint32_t lease, std::string address = "198.18.0.1") {
  MappingResult r;
  r.ok = true;
  r.external_port = port;
  r.lease_seconds = lease;
  r.external_address = std::move(address);
  return r;
}

MappingResult refused(std::string why = "ConflictInMappingEntry") {
  MappingResult r;
  r.ok = false;
  r.error = std::move(why);
  return r;
}

TEST(PortMapping, FirstPollAsksForTheSamePortOutside) {
  PortMapping m(tcp_request(6881));
  EXPECT_EQ(m.next_wakeup(), Clock::time_point::min());
  auto a = m.poll(kStart);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, PortMapping::ActionKind::request);
  EXPECT_EQ(a->request.internal_port, 6881);
  EXPECT_EQ(a->request.external_port, 6881);
  EXPECT_EQ(m.phase(), MappingPhase::requesting);
  // One action at a time: nothing more until the answer.
  EXPECT_FALSE(m.poll(kStart + seconds(100)));
  EXPECT_FALSE(m.next_wakeup());
}

TEST(PortMapping, GrantedThenRenewedAtHalfTheLease) {
  PortMapping m(tcp_request());
  m.poll(kStart);
  EXPECT_EQ(m.on_request_result(kStart, granted(6881, 3600)), PortMapping::Change::mapped);
  EXPECT_TRUE(m.is_mapped());
  EXPECT_EQ(m.external_port(), 6881);
  EXPECT_EQ(m.external_address(), "198.18.0.1");
  EXPECT_EQ(m.next_wakeup(), kStart + seconds(1800));
  EXPECT_FALSE(m.poll(kStart + seconds(1799)));
  auto renew = m.poll(kStart + seconds(1800));
  ASSERT_TRUE(renew);
  EXPECT_EQ(renew->kind, PortMapping::ActionKind::request);
  // The same port again, and a renewal that keeps it changes nothing the user needs to hear.
  EXPECT_EQ(m.on_request_result(kStart + seconds(1800), granted(6881, 3600)), PortMapping::Change::none);
  EXPECT_EQ(m.next_wakeup(), kStart + seconds(3600));
}

TEST(PortMapping, AnotherExternalPortIsKeptAndAskedForOnRenewal) {
  PortMapping m(tcp_request(6881));
  m.poll(kStart);
  EXPECT_EQ(m.on_request_result(kStart, granted(40000, 7200)), PortMapping::Change::mapped);
  auto renew = m.poll(kStart + seconds(3600));
  ASSERT_TRUE(renew);
  EXPECT_EQ(renew->request.internal_port, 6881);
  EXPECT_EQ(renew->request.external_port, 40000);
  EXPECT_EQ(m.on_request_result(kStart + seconds(3600), granted(40001, 7200)),
            PortMapping::Change::port_changed);
  EXPECT_EQ(m.external_port(), 40001);
}

TEST(PortMapping, PermanentLeaseIsCheckedAgainLater) {
  RetryPolicy p;
  p.permanent_recheck = seconds(1200);
  PortMapping m(tcp_request(), p);
  m.poll(kStart);
  m.on_request_result(kStart, granted(6881, 0));
  EXPECT_EQ(m.next_wakeup(), kStart + seconds(1200));
}

TEST(PortMapping, TinyLeaseIsNotRenewedInALoop) {
  PortMapping m(tcp_request());
  m.poll(kStart);
  m.on_request_result(kStart, granted(6881, 2));
  EXPECT_EQ(m.next_wakeup(), kStart + seconds(30));
}

TEST(PortMapping, FailuresBackOffDoublingUpToTheCap) {
  RetryPolicy p;
  p.first_retry = seconds(5);
  p.max_retry = seconds(60);
  PortMapping m(tcp_request(), p);
  auto now = kStart;
  m.poll(now);
  EXPECT_EQ(m.on_request_result(now, refused()), PortMapping::Change::failed);
  EXPECT_EQ(m.last_error(), "ConflictInMappingEntry");
  const std::int64_t expected[] = {5, 10, 20, 40, 60, 60, 60};
  for (auto wait : expected) {
    ASSERT_EQ(m.phase(), MappingPhase::waiting_retry);
    EXPECT_EQ(m.next_wakeup(), now + seconds(wait));
    EXPECT_FALSE(m.poll(now + seconds(wait) - seconds(1)));
    now += seconds(wait);
    ASSERT_TRUE(m.poll(now));
    // Only the first failure in a row is news.
    EXPECT_EQ(m.on_request_result(now, refused()), PortMapping::Change::none);
  }
  EXPECT_EQ(m.failures(), 8);
  // A success resets the backoff.
  now += seconds(60);
  ASSERT_TRUE(m.poll(now));
  EXPECT_EQ(m.on_request_result(now, granted(6881, 3600)), PortMapping::Change::mapped);
  EXPECT_EQ(m.failures(), 0);
  EXPECT_TRUE(m.last_error().empty());
}

TEST(PortMapping, HugeFailureCountDoesNotOverflowTheBackoff) {
  RetryPolicy p;
  p.first_retry = seconds(5);
  p.max_retry = seconds(900);
  PortMapping m(tcp_request(), p);
  auto now = kStart;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(m.poll(now));
    m.on_request_result(now, refused());
    auto next = m.next_wakeup();
    ASSERT_TRUE(next);
    EXPECT_LE(*next - now, seconds(900));
    EXPECT_GT(*next - now, seconds(0));
    now = *next;
  }
}

TEST(PortMapping, FailedRenewalLosesTheMapping) {
  PortMapping m(tcp_request());
  m.poll(kStart);
  m.on_request_result(kStart, granted(6881, 3600));
  ASSERT_TRUE(m.poll(kStart + seconds(1800)));
  EXPECT_EQ(m.on_request_result(kStart + seconds(1800), refused("no IGD")), PortMapping::Change::lost);
  EXPECT_FALSE(m.is_mapped());
  EXPECT_EQ(m.phase(), MappingPhase::waiting_retry);
}

TEST(PortMapping, OkWithoutAPortIsAFailure) {
  PortMapping m(tcp_request());
  m.poll(kStart);
  EXPECT_EQ(m.on_request_result(kStart, granted(0, 3600)), PortMapping::Change::failed);
  EXPECT_FALSE(m.is_mapped());
}

TEST(PortMapping, StrayResultsAreIgnored) {
  PortMapping m(tcp_request());
  EXPECT_EQ(m.on_request_result(kStart, granted(6881, 3600)), PortMapping::Change::none);
  EXPECT_EQ(m.phase(), MappingPhase::idle);
  m.poll(kStart);
  m.on_request_result(kStart, granted(6881, 3600));
  // A second answer to the same request.
  EXPECT_EQ(m.on_request_result(kStart, granted(9999, 3600)), PortMapping::Change::none);
  EXPECT_EQ(m.external_port(), 6881);
  m.on_removed();  // no removal was asked
  EXPECT_EQ(m.phase(), MappingPhase::mapped);
}

TEST(PortMapping, StopRemovesAGrantedMapping) {
  PortMapping m(tcp_request());
  m.poll(kStart);
  m.on_request_result(kStart, granted(40000, 3600));
  m.stop();
  EXPECT_EQ(m.next_wakeup(), Clock::time_point::min());
  auto a = m.poll(kStart);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, PortMapping::ActionKind::remove);
  EXPECT_EQ(a->external_port, 40000);
  EXPECT_EQ(m.phase(), MappingPhase::removing);
  EXPECT_FALSE(m.poll(kStart));
  m.on_removed();
  EXPECT_EQ(m.phase(), MappingPhase::removed);
  EXPECT_FALSE(m.next_wakeup());
  EXPECT_FALSE(m.poll(kStart + std::chrono::hours(10)));
}

TEST(PortMapping, StopBeforeAnyGrantEndsAtOnce) {
  PortMapping idle(tcp_request());
  idle.stop();
  EXPECT_EQ(idle.phase(), MappingPhase::removed);
  EXPECT_FALSE(idle.poll(kStart));

  PortMapping retrying(tcp_request());
  retrying.poll(kStart);
  retrying.on_request_result(kStart, refused());
  retrying.stop();
  EXPECT_EQ(retrying.phase(), MappingPhase::removed);
  EXPECT_FALSE(retrying.poll(kStart + std::chrono::hours(1)));
}

TEST(PortMapping, StopWhileAskingRemovesWhatTheAnswerGrants) {
  PortMapping m(tcp_request());
  m.poll(kStart);
  m.stop();
  m.on_request_result(kStart, granted(6881, 3600));
  auto a = m.poll(kStart);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, PortMapping::ActionKind::remove);

  PortMapping refused_one(tcp_request());
  refused_one.poll(kStart);
  refused_one.stop();
  refused_one.on_request_result(kStart, refused());
  EXPECT_EQ(refused_one.phase(), MappingPhase::removed);
  EXPECT_FALSE(refused_one.poll(kStart));
}

}  // namespace
}  // namespace shoal::nat
