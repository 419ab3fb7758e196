// test_stage_stats.cpp — StageStats / StageTimings (stage_stats.h): exact
// count/total/mean/max, p50/p95 within 2% of the true (nearest-rank) quantile
// on known distributions (uniform, log-uniform over six decades, constant,
// bimodal), merge, empty stats, negative samples, stage names. No timers are
// measured.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vidsift/stage_stats.h"

namespace vidsift {
namespace {

// Nearest-rank quantile of a sample.
double true_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(q * static_cast<double>(v.size()))));
  return v[rank - 1];
}

void expect_within_2pct(const StageStats& s, const std::vector<double>& samples, double q) {
  const double want = true_quantile(samples, q);
  const double got = s.quantile(q);
  EXPECT_LE(std::abs(got - want), 0.02 * want) << "q=" << q << " want " << want << " got " << got;
}

StageStats from(const std::vector<double>& v) {
  StageStats s;
  for (double x : v) s.add(x);
  return s;
}

TEST(StageStats, Empty) {
  StageStats s;
  EXPECT_EQ(s.count(), 0);
  EXPECT_EQ(s.total(), 0.0);
  EXPECT_EQ(s.mean(), 0.0);
  EXPECT_EQ(s.max(), 0.0);
  EXPECT_EQ(s.quantile(0.5), 0.0);
  EXPECT_EQ(s.quantile(0.95), 0.0);
}

TEST(StageStats, ExactAggregates) {
  StageStats s;
  const std::vector<double> v = {0.001, 0.002, 0.003, 0.010, 0.0005};
  double total = 0;
  for (double x : v) {
    s.add(x);
    total += x;
  }
  EXPECT_EQ(s.count(), 5);
  EXPECT_DOUBLE_EQ(s.total(), total);
  EXPECT_DOUBLE_EQ(s.mean(), total / 5);
  EXPECT_EQ(s.max(), 0.010);
}

TEST(StageStats, SingleSample) {
  StageStats s;
  s.add(0.0421);
  EXPECT_EQ(s.count(), 1);
  EXPECT_EQ(s.max(), 0.0421);
  EXPECT_LE(std::abs(s.quantile(0.5) - 0.0421), 0.02 * 0.0421);
  EXPECT_LE(s.quantile(0.95), s.max());
}

TEST(StageStats, UniformQuantiles) {
  std::vector<double> v;
  for (int i = 1; i <= 1000; ++i) v.push_back(i * 1e-3);  // 1 ms .. 1 s
  std::shuffle(v.begin(), v.end(), std::mt19937(42));
  const StageStats s = from(v);
  expect_within_2pct(s, v, 0.5);
  expect_within_2pct(s, v, 0.95);
  expect_within_2pct(s, v, 0.99);
  expect_within_2pct(s, v, 0.01);
  EXPECT_LE(std::abs(s.quantile(0.5) - 0.5), 0.01);
  EXPECT_LE(std::abs(s.quantile(0.95) - 0.95), 0.019);
  EXPECT_EQ(s.max(), 1.0);
  EXPECT_NEAR(s.mean(), 0.5005, 1e-9);
}

TEST(StageStats, LogUniformOverSixDecades) {
  // 10 µs .. 10 s, plus random noise so values fall anywhere inside buckets.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> e(-5.0, 1.0);
  std::vector<double> v;
  for (int i = 0; i < 20000; ++i) v.push_back(std::pow(10.0, e(rng)));
  const StageStats s = from(v);
  for (double q : {0.05, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99}) expect_within_2pct(s, v, q);
  EXPECT_EQ(s.count(), 20000);
  EXPECT_EQ(s.max(), *std::max_element(v.begin(), v.end()));
}

TEST(StageStats, ConstantAndBimodal) {
  std::vector<double> c(500, 0.0333);
  const StageStats sc = from(c);
  expect_within_2pct(sc, c, 0.5);
  expect_within_2pct(sc, c, 0.95);
  EXPECT_LE(sc.quantile(0.95), sc.max());

  // 90% at 1 ms, 10% at 2 s: p50 is 1 ms, p95 is 2 s.
  std::vector<double> b(900, 0.001);
  b.insert(b.end(), 100, 2.0);
  std::shuffle(b.begin(), b.end(), std::mt19937(3));
  const StageStats sb = from(b);
  EXPECT_LE(std::abs(sb.quantile(0.5) - 0.001), 0.02 * 0.001);
  EXPECT_LE(std::abs(sb.quantile(0.95) - 2.0), 0.02 * 2.0);
  EXPECT_LE(std::abs(sb.quantile(0.90) - 0.001), 0.02 * 0.001);
  EXPECT_NEAR(sb.mean(), (900 * 0.001 + 100 * 2.0) / 1000, 1e-12);
}

TEST(StageStats, LongStagesUpToAnHour) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(36.0 * i);  // 36 s .. 3600 s
  const StageStats s = from(v);
  expect_within_2pct(s, v, 0.5);
  expect_within_2pct(s, v, 0.95);
}

TEST(StageStats, NegativeAndZeroSamples) {
  StageStats s;
  s.add(-1.0);  // clock oddity: counted as zero
  s.add(0.0);
  EXPECT_EQ(s.count(), 2);
  EXPECT_EQ(s.total(), 0.0);
  EXPECT_EQ(s.max(), 0.0);
  EXPECT_EQ(s.quantile(0.5), 0.0);
}

TEST(StageStats, QuantileBounds) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i * 0.01);
  const StageStats s = from(v);
  EXPECT_LE(std::abs(s.quantile(1.0) - 1.0), 0.02);
  EXPECT_LE(s.quantile(1.0), s.max());
  EXPECT_LE(std::abs(s.quantile(0.0) - 0.01), 0.02 * 0.01);
  EXPECT_EQ(s.quantile(2.0), s.quantile(1.0));   // clamped
  EXPECT_EQ(s.quantile(-1.0), s.quantile(0.0));  // clamped
  // Quantiles never decrease with q.
  double prev = 0;
  for (int i = 0; i <= 100; ++i) {
    const double q = s.quantile(i / 100.0);
    EXPECT_GE(q, prev);
    prev = q;
  }
}

TEST(StageStats, MergeEqualsCombinedSamples) {
  std::vector<double> a, b;
  std::mt19937 rng(11);
  std::lognormal_distribution<double> d(std::log(0.02), 0.8);
  for (int i = 0; i < 3000; ++i) a.push_back(d(rng));
  for (int i = 0; i < 1000; ++i) b.push_back(d(rng) * 3);
  StageStats sa = from(a);
  const StageStats sb = from(b);
  std::vector<double> all = a;
  all.insert(all.end(), b.begin(), b.end());
  const StageStats sall = from(all);

  sa.merge(sb);
  EXPECT_EQ(sa.count(), 4000);
  EXPECT_NEAR(sa.total(), sall.total(), 1e-9 * sall.total());
  EXPECT_EQ(sa.max(), sall.max());
  for (double q : {0.5, 0.95, 0.99}) {
    EXPECT_EQ(sa.quantile(q), sall.quantile(q)) << q;
    expect_within_2pct(sa, all, q);
  }
}

TEST(StageStats, MergeWithEmpty) {
  const StageStats full = from({0.1, 0.2, 0.3});
  StageStats s = full;
  s.merge(StageStats{});
  EXPECT_EQ(s.count(), 3);
  EXPECT_EQ(s.total(), full.total());
  EXPECT_EQ(s.quantile(0.5), full.quantile(0.5));

  StageStats e;
  e.merge(full);
  EXPECT_EQ(e.count(), 3);
  EXPECT_EQ(e.max(), 0.3);
  EXPECT_EQ(e.quantile(0.5), full.quantile(0.5));
  EXPECT_DOUBLE_EQ(e.mean(), full.mean());

  StageStats ee;
  ee.merge(StageStats{});
  EXPECT_EQ(ee.count(), 0);
  EXPECT_EQ(ee.quantile(0.5), 0.0);
}

TEST(StageTimings, PerStageMergeAndNames) {
  StageTimings a, b;
  a[Stage::Decode].add(0.01);
  a[Stage::Infer].add(0.1);
  b[Stage::Infer].add(0.3);
  b[Stage::Store].add(0.002);
  a.merge(b);
  EXPECT_EQ(a[Stage::Decode].count(), 1);
  EXPECT_EQ(a[Stage::Infer].count(), 2);
  EXPECT_DOUBLE_EQ(a[Stage::Infer].total(), 0.1 + 0.3);
  EXPECT_EQ(a[Stage::Infer].max(), 0.3);
  EXPECT_EQ(a[Stage::Store].count(), 1);
  EXPECT_EQ(a[Stage::Preprocess].count(), 0);
  EXPECT_EQ(a[Stage::Postprocess].count(), 0);

  EXPECT_EQ(std::string(stage_name(Stage::Decode)), "decode");
  EXPECT_EQ(std::string(stage_name(Stage::Preprocess)), "preprocess");
  EXPECT_EQ(std::string(stage_name(Stage::Infer)), "infer");
  EXPECT_EQ(std::string(stage_name(Stage::Postprocess)), "postprocess");
  EXPECT_EQ(std::string(stage_name(Stage::Store)), "store");
}

}  // namespace
}  // namespace vidsift
