// test_sampler.cpp — unit tests of vidsift::Sampler and SamplingOptions
// (include/vidsift/sampler.h): every-N by frame index, fps by timestamp
// (constant rate, variable rate, gaps longer than a tick, rounding of
// timestamps), the start/end window and its interaction with the other rules,
// done(), validate() messages and describe(). No decoding involved.
#include "vidsift/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace vidsift {
namespace {

SamplingOptions opts_with(int every, double fps, double start = 0.0, double end = 0.0) {
  SamplingOptions o;
  o.every = every;
  o.fps = fps;
  o.start = start;
  o.end = end;
  return o;
}

// Feeds frames 0..n-1 of a constant-rate video and returns the taken indices.
std::vector<std::int64_t> take_cfr(const SamplingOptions& o, std::int64_t n, double rate) {
  Sampler s(o);
  std::vector<std::int64_t> taken;
  for (std::int64_t i = 0; i < n; ++i) {
    if (s.take(i, static_cast<double>(i) / rate)) taken.push_back(i);
  }
  return taken;
}

// Feeds (index, ts) pairs and returns the timestamps taken.
std::vector<double> take_ts(const SamplingOptions& o, const std::vector<double>& ts) {
  Sampler s(o);
  std::vector<double> taken;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (s.take(static_cast<std::int64_t>(i), ts[i])) taken.push_back(ts[i]);
  }
  return taken;
}

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to_excl, std::int64_t step) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = from; i < to_excl; i += step) v.push_back(i);
  return v;
}

// --- every N -----------------------------------------------------------------

TEST(Sampler, DefaultTakesEveryFrame) { EXPECT_EQ(take_cfr(SamplingOptions{}, 50, 30.0), range(0, 50, 1)); }

TEST(Sampler, EveryNTakesIndicesDivisibleByN) {
  EXPECT_EQ(take_cfr(opts_with(5, 0.0), 300, 30.0), range(0, 300, 5));
  EXPECT_EQ(take_cfr(opts_with(7, 0.0), 100, 25.0), range(0, 100, 7));
  EXPECT_EQ(take_cfr(opts_with(1000, 0.0), 300, 30.0), range(0, 1, 1));
}

TEST(Sampler, EveryNIgnoresTimestamps) {
  // Irregular timestamps: only the index matters for --every.
  Sampler s(opts_with(3, 0.0));
  const std::vector<double> ts = {0.0, 0.01, 0.5, 0.51, 3.0, 3.2, 9.0, 9.1, 9.2, 20.0};
  std::vector<std::int64_t> taken;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (s.take(static_cast<std::int64_t>(i), ts[i])) taken.push_back(static_cast<std::int64_t>(i));
  }
  EXPECT_EQ(taken, (std::vector<std::int64_t>{0, 3, 6, 9}));
}

TEST(Sampler, EveryNCountsFromFirstFrameOfVideoNotFromStart) {
  // start = 1.1 s at 30 fps: first frame in the window is index 33; with every=5
  // the first taken one is 35 (35 % 5 == 0), not 33.
  const auto taken = take_cfr(opts_with(5, 0.0, 1.1), 90, 30.0);
  EXPECT_EQ(taken, range(35, 90, 5));
}

TEST(Sampler, EveryNWithSparseIndices) {
  // After a seek or with keyframes only, the decoder hands over indices with
  // holes; the rule is still index % N.
  Sampler s(opts_with(10, 0.0));
  std::vector<std::int64_t> taken;
  for (std::int64_t i : {0, 25, 30, 48, 60, 75, 90, 96, 100}) {
    if (s.take(i, static_cast<double>(i) / 30.0)) taken.push_back(i);
  }
  EXPECT_EQ(taken, (std::vector<std::int64_t>{0, 30, 60, 90, 100}));
}

// --- fps by timestamp ----------------------------------------------------------

TEST(Sampler, FpsOnConstantRate) {
  // 2 per second out of 30: every 15th frame, 20 frames in 10 s.
  EXPECT_EQ(take_cfr(opts_with(1, 2.0), 300, 30.0), range(0, 300, 15));
  // 1 per second out of 25 fps.
  EXPECT_EQ(take_cfr(opts_with(1, 1.0), 250, 25.0), range(0, 250, 25));
}

TEST(Sampler, FpsToleratesTimestampRounding) {
  // Ticks at k/3 s fall exactly on frames 10k of a 30 fps video, but neither
  // k/3 nor i/30 is exact in binary; no tick may be missed or doubled.
  EXPECT_EQ(take_cfr(opts_with(1, 3.0), 300, 30.0), range(0, 300, 10));
  // NTSC rate 30000/1001 with fps 29.97/3: every 3rd frame.
  EXPECT_EQ(take_cfr(opts_with(1, 30000.0 / 1001.0 / 3.0), 300, 30000.0 / 1001.0), range(0, 300, 3));
  // Timestamps rounded to milliseconds (Matroska): 0.033, 0.067, ... still
  // give every 15th frame for fps 2.
  Sampler s(opts_with(1, 2.0));
  std::vector<std::int64_t> taken;
  for (std::int64_t i = 0; i < 300; ++i) {
    const double ms = static_cast<double>((i * 1000 + 15) / 30);  // rounded like mkv
    if (s.take(i, ms / 1000.0)) taken.push_back(i);
  }
  EXPECT_EQ(taken, range(0, 300, 15));
}

TEST(Sampler, FpsAtOrAboveSourceRateTakesEveryFrame) {
  EXPECT_EQ(take_cfr(opts_with(1, 30.0), 90, 30.0), range(0, 90, 1));
  EXPECT_EQ(take_cfr(opts_with(1, 120.0), 90, 30.0), range(0, 90, 1));
}

TEST(Sampler, FpsOnVariableFrameRateTakesFirstFrameAtOrAfterEachTick) {
  // Ticks every 0.5 s. Frames arrive irregularly.
  const std::vector<double> ts = {0.0, 0.1, 0.45, 0.52, 0.6, 0.99, 1.0, 1.2, 1.49, 1.5, 1.51, 2.2};
  EXPECT_EQ(take_ts(opts_with(1, 2.0), ts), (std::vector<double>{0.0, 0.52, 1.0, 1.5, 2.2}));
}

TEST(Sampler, FpsGapLongerThanATickYieldsOneFrameNotABurst) {
  // A 3.4 s hole (dropped frames) covers 6 ticks at 2 fps; the first frame
  // after it is taken once, then sampling resumes on the tick grid.
  std::vector<double> ts;
  for (int i = 0; i < 30; ++i) ts.push_back(i / 30.0);     // 0 .. 0.967
  for (int i = 132; i < 180; ++i) ts.push_back(i / 30.0);  // 4.4 .. 5.967
  const auto taken = take_ts(opts_with(1, 2.0), ts);
  const std::vector<double> want = {0.0, 0.5, 4.4, 4.5, 5.0, 5.5};
  ASSERT_EQ(taken.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(taken[i], want[i], 1e-9) << i;
}

TEST(Sampler, FpsTicksAreAnchoredAtStart) {
  // start 1.25, fps 1: ticks at 1.25, 2.25, 3.25 ...
  std::vector<double> ts;
  for (int i = 0; i < 400; ++i) ts.push_back(i / 100.0);  // 100 fps, 0 .. 3.99
  const auto taken = take_ts(opts_with(1, 1.0, 1.25), ts);
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_NEAR(taken[0], 1.25, 1e-9);
  EXPECT_NEAR(taken[1], 2.25, 1e-9);
  EXPECT_NEAR(taken[2], 3.25, 1e-9);
}

TEST(Sampler, FpsDuplicateTimestampsTakenOnce) {
  // Several frames with the same timestamp (broken muxer): one per tick.
  const std::vector<double> ts = {0.0, 0.0, 0.0, 0.5, 0.5, 1.0};
  EXPECT_EQ(take_ts(opts_with(1, 2.0), ts), (std::vector<double>{0.0, 0.5, 1.0}));
}

TEST(Sampler, FpsAndEveryMustBothHold) {
  // every=2 and fps=10 on 30 fps: a tick is served by the first frame at or
  // after it whose index is even.
  const auto taken = take_cfr(opts_with(2, 10.0), 30, 30.0);
  // Ticks 0, .1 (frame 3 -> odd, frame 4), .2 (frame 6), .3 (9 -> 10), .4 (12), ...
  EXPECT_EQ(taken, (std::vector<std::int64_t>{0, 4, 6, 10, 12, 16, 18, 22, 24, 28}));
}

// --- window -----------------------------------------------------------------------

TEST(Sampler, WindowStartInclusiveEndExclusive) {
  const auto taken = take_cfr(opts_with(1, 0.0, 2.0, 4.0), 300, 30.0);
  EXPECT_EQ(taken, range(60, 120, 1));
}

TEST(Sampler, WindowWithFps) {
  // start 2.5, end 5, fps 2: 2.5, 3.0, 3.5, 4.0, 4.5.
  const auto taken = take_cfr(opts_with(1, 2.0, 2.5, 5.0), 300, 30.0);
  EXPECT_EQ(taken, range(75, 150, 15));
}

TEST(Sampler, EndZeroOrNegativeMeansNoEnd) {
  EXPECT_EQ(take_cfr(opts_with(1, 0.0, 0.0, 0.0), 100, 30.0), range(0, 100, 1));
  EXPECT_EQ(take_cfr(opts_with(1, 0.0, 0.0, -5.0), 100, 30.0), range(0, 100, 1));
  Sampler s(opts_with(1, 0.0, 0.0, 0.0));
  EXPECT_FALSE(s.done(0.0));
  EXPECT_FALSE(s.done(1e9));
  Sampler neg(opts_with(1, 0.0, 0.0, -1.0));
  EXPECT_FALSE(neg.done(1e9));
}

TEST(Sampler, DoneAtOrPastEnd) {
  Sampler s(opts_with(1, 0.0, 1.0, 3.0));
  EXPECT_FALSE(s.done(0.0));
  EXPECT_FALSE(s.done(2.9));
  EXPECT_FALSE(s.done(2.999));
  EXPECT_TRUE(s.done(3.0));
  EXPECT_TRUE(s.done(3.0 - 1e-9));  // rounding noise counts as the end
  EXPECT_TRUE(s.done(100.0));
  // done() is a pure query: asking does not change what is taken.
  EXPECT_TRUE(s.take(30, 1.0));
}

TEST(Sampler, FramesBeforeStartAreRejected) {
  Sampler s(opts_with(1, 0.0, 1.0));
  EXPECT_FALSE(s.take(0, 0.0));
  EXPECT_FALSE(s.take(29, 0.98));
  EXPECT_TRUE(s.take(30, 1.0 - 1e-9));  // rounding noise at the boundary
  EXPECT_TRUE(s.take(31, 1.033));
  // Negative timestamps (leading B-frames before the stream start) are out.
  Sampler z(SamplingOptions{});
  EXPECT_FALSE(z.take(-1, -0.033));
  EXPECT_TRUE(z.take(0, 0.0));
}

TEST(Sampler, FramesAtOrAfterEndAreRejected) {
  Sampler s(opts_with(1, 0.0, 0.0, 1.0));
  EXPECT_TRUE(s.take(29, 29.0 / 30.0));
  EXPECT_FALSE(s.take(30, 1.0));
  EXPECT_FALSE(s.take(31, 31.0 / 30.0));
}

// --- options ---------------------------------------------------------------------

TEST(SamplingOptions, DefaultsAreValid) {
  EXPECT_EQ(SamplingOptions{}.validate(), "");
  EXPECT_EQ(opts_with(5, 0.0).validate(), "");
  EXPECT_EQ(opts_with(1, 2.5, 1.0, 2.0).validate(), "");
  EXPECT_EQ(opts_with(1, 0.0, 5.0, 0.0).validate(), "");   // no end
  EXPECT_EQ(opts_with(1, 0.0, 5.0, -1.0).validate(), "");  // negative end = no end
}

TEST(SamplingOptions, ValidateMessages) {
  EXPECT_EQ(opts_with(0, 0.0).validate(), "--every must be >= 1");
  EXPECT_EQ(opts_with(-3, 0.0).validate(), "--every must be >= 1");
  EXPECT_EQ(opts_with(1, -1.0).validate(), "--fps must be a number within 0..1000 (0 = off)");
  EXPECT_EQ(opts_with(1, 0.0, -0.5).validate(), "--start must be a number of seconds within 0..100000000");
  EXPECT_EQ(opts_with(1, 0.0, 3.0, 2.0).validate(), "--end must be greater than --start");
  EXPECT_EQ(opts_with(1, 0.0, 3.0, 3.0).validate(), "--end must be greater than --start");
}

// --fps 1e308 used to run: the tick arithmetic overflowed and only the first
// frame was analysed.
TEST(SamplingOptions, ValidateRejectsHugeNumbers) {
  EXPECT_EQ(opts_with(1, 1e308).validate(), "--fps must be a number within 0..1000 (0 = off)");
  EXPECT_EQ(opts_with(1, 0.0, 1e300).validate(), "--start must be a number of seconds within 0..100000000");
  EXPECT_EQ(opts_with(1, 1000.0).validate(), "");
}

TEST(SamplingOptions, ValidateRejectsNonFiniteNumbers) {
  // "nan" and "inf" parse as doubles on the command line; they must not reach
  // the decoder (an infinite --start would overflow the seek target).
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(opts_with(1, nan).validate(), "--fps must be a number within 0..1000 (0 = off)");
  EXPECT_EQ(opts_with(1, inf).validate(), "--fps must be a number within 0..1000 (0 = off)");
  EXPECT_EQ(opts_with(1, 0.0, nan).validate(), "--start must be a number of seconds within 0..100000000");
  EXPECT_EQ(opts_with(1, 0.0, inf).validate(), "--start must be a number of seconds within 0..100000000");
  EXPECT_EQ(opts_with(1, 0.0, 0.0, nan).validate(),
            "--end must be a number of seconds up to 100000000 (<= 0 for no end)");
  EXPECT_EQ(opts_with(1, 0.0, 0.0, inf).validate(),
            "--end must be a number of seconds up to 100000000 (<= 0 for no end)");
}

TEST(SamplingOptions, DescribeIsCanonicalAndDistinguishesSettings) {
  SamplingOptions a;
  EXPECT_EQ(a.describe(), "every=1;fps=0;keyframes=0;start=0;end=0");
  SamplingOptions b = opts_with(5, 2.5, 1.0, 9.0);
  b.keyframes = true;
  EXPECT_EQ(b.describe(), "every=5;fps=2.5;keyframes=1;start=1;end=9");
  EXPECT_EQ(b.describe(), SamplingOptions(b).describe());
  EXPECT_NE(opts_with(1, 0.0, 1.0).describe(), opts_with(1, 0.0, 0.0, 1.0).describe());
}

// --- resume after an interrupted run -------------------------------------------

// A resumed Sampler, fed every frame (index, ts) of a variable-rate video,
// takes exactly what a fresh one takes after the resume point.
TEST(Sampler, ResumeAfterATakenFrameContinuesAsIfItHadSeenEverything) {
  std::vector<std::pair<std::int64_t, double>> frames;
  double ts = 0;
  for (std::int64_t i = 0; i < 400; ++i) {
    frames.emplace_back(i, ts);
    ts += (i % 7 == 3) ? 0.11 : (i % 5 == 0 ? 0.021 : 0.04);  // irregular gaps
  }
  for (const SamplingOptions& o : {opts_with(3, 0), opts_with(1, 2.5), opts_with(4, 7.0), opts_with(2, 1.3, 1.1)}) {
    Sampler fresh(o);
    std::vector<std::size_t> taken;
    for (std::size_t k = 0; k < frames.size(); ++k)
      if (fresh.take(frames[k].first, frames[k].second)) taken.push_back(k);
    ASSERT_GT(taken.size(), 6u) << o.describe();
    for (std::size_t at : {taken[0], taken[taken.size() / 3], taken[taken.size() - 2]}) {
      // Fed from the start (as when the decoder cannot seek) or from a few
      // frames before the resume point (a seek to the key frame before it).
      for (std::size_t from : {std::size_t{0}, at > 5 ? at - 5 : 0}) {
        Sampler resumed(o);
        resumed.resume_after(frames[at].first, frames[at].second);
        std::vector<std::size_t> got;
        for (std::size_t k = from; k < frames.size(); ++k)
          if (resumed.take(frames[k].first, frames[k].second)) got.push_back(k);
        const std::vector<std::size_t> want(std::upper_bound(taken.begin(), taken.end(), at), taken.end());
        EXPECT_EQ(got, want) << o.describe() << " resumed after frame " << at << ", fed from " << from;
      }
    }
  }
}

TEST(Sampler, MayTakeIsFalseBeforeTheResumePoint) {
  Sampler s(opts_with(1, 0));
  s.resume_after(50, 2.0);
  EXPECT_FALSE(s.may_take(1.5));
  EXPECT_TRUE(s.may_take(2.04));
  EXPECT_FALSE(s.take(50, 2.0));
  EXPECT_TRUE(s.take(51, 2.04));
}

}  // namespace
}  // namespace vidsift
