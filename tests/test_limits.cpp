// Tests of the option bounds and the machine's limits.
#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <limits>
#include <string>

#include "vidsift/limits.h"

using namespace vidsift;

TEST(Limits, RangeRefusesNonFiniteAndOutOfRangeValuesNamingTheRange) {
  EXPECT_EQ(check_range("--conf", 0.25, 0, 1), "");
  EXPECT_EQ(check_range("--conf", 0, 0, 1), "");
  EXPECT_EQ(check_range("--conf", 1, 0, 1), "");
  for (double v : {std::nan(""), std::numeric_limits<double>::infinity(), -0.5, 1.5, 1e308}) {
    const std::string msg = check_range("--conf", v, 0, 1);
    EXPECT_NE(msg.find("--conf must be a number within 0..1"), std::string::npos) << v << ": " << msg;
  }
}

// 1e10 s used to become a negative int of milliseconds ("waited
// -2147483.648 s"), and an overflowed steady_clock deadline ("timed out").
TEST(Limits, DurationsAreClampedBeforeConversion) {
  EXPECT_EQ(seconds_to_ms(10), 10000);
  EXPECT_EQ(seconds_to_ms(0.0015), 2);
  EXPECT_EQ(seconds_to_ms(1e10), INT_MAX);
  EXPECT_EQ(seconds_to_ms(std::numeric_limits<double>::infinity()), INT_MAX);
  EXPECT_EQ(seconds_to_ms(std::nan("")), 0);
  EXPECT_EQ(seconds_to_ms(-1), 0);
  const auto now = std::chrono::steady_clock::now();
  for (double s : {1e10, 1e300, std::numeric_limits<double>::infinity()}) EXPECT_GT(now + seconds_to_duration(s), now);
  EXPECT_EQ(seconds_to_duration(std::nan("")), std::chrono::steady_clock::duration::zero());
}

TEST(Limits, ThreadOptionsAreBoundByTheCores) {
  EXPECT_EQ(thread_limit(1), 4);
  EXPECT_EQ(thread_limit(2), 8);
  EXPECT_EQ(thread_limit(1000), kMaxThreads);
  EXPECT_EQ(check_threads("--net-threads", 0, 2), "");
  EXPECT_EQ(check_threads("--net-threads", 8, 2), "");
  const std::string msg = check_threads("--net-threads", 70000, 2);
  EXPECT_NE(msg.find("--net-threads must be within 0..8"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 core(s)"), std::string::npos) << msg;
  EXPECT_NE(check_threads("--decode-threads", -1, 2), "");
  EXPECT_GE(machine_cores(), 1);
}

TEST(Limits, PoolMustFitInHalfTheAvailableMemory) {
  const std::size_t slot = 3 * 416 * 416 * sizeof(float);  // 2.08 MB
  const std::uint64_t gb4 = 4'000'000'000ULL;
  EXPECT_EQ(check_pool(0, slot, gb4), "");
  EXPECT_EQ(check_pool(900, slot, gb4), "");
  const std::string msg = check_pool(1'000'000, slot, gb4);
  EXPECT_NE(msg.find("--pool 1000000 needs 2.1 TB"), std::string::npos) << msg;
  EXPECT_NE(msg.find("4 GB of memory available"), std::string::npos) << msg;
  EXPECT_NE(msg.find("use at most 963"), std::string::npos) << msg;
  EXPECT_EQ(check_pool(1'000'000, slot, 0), "");  // unknown memory: not refused
  EXPECT_GT(available_memory_bytes(), 0u);
}
