// Tests for sampling_advice.h: when a sampling mode yields far fewer frames
// than expected, and when it does not.
#include <gtest/gtest.h>

#include "vidsift/sampling_advice.h"

namespace vidsift {
namespace {

SamplingOptions keyframes() {
  SamplingOptions s;
  s.keyframes = true;
  return s;
}

TEST(SamplingAdvice, SparseKeyFramesAreReported) {
  EXPECT_EQ(sparse_sampling_advice(keyframes(), {{79.5, 4}}),
            "4 key frames in 80 s of video (one per 20 s): consider --fps 1 to sample by time instead of "
            "--keyframes");
  EXPECT_EQ(sparse_sampling_advice(keyframes(), {{8, 1}}),
            "1 key frame in 8.0 s of video (one per 8.0 s): consider --fps 1 to sample by time instead of "
            "--keyframes");
}

TEST(SamplingAdvice, EnoughKeyFramesSayNothing) {
  EXPECT_EQ(sparse_sampling_advice(keyframes(), {{79.5, 40}}), "");  // one per 2 s
  EXPECT_EQ(sparse_sampling_advice(keyframes(), {{2, 1}}), "");      // a short clip, one key frame
  EXPECT_EQ(sparse_sampling_advice(keyframes(), {}), "");
  EXPECT_EQ(sparse_sampling_advice(keyframes(), {{0, 1}}), "");  // duration unknown
}

TEST(SamplingAdvice, TheWindowIsWhatCounts) {
  SamplingOptions s = keyframes();
  s.start = 60;
  s.end = 70;
  EXPECT_EQ(sparse_sampling_advice(s, {{79.5, 2}}), "");  // 2 in a 10 s window
  s.end = 0;
  EXPECT_NE(sparse_sampling_advice(s, {{79.5, 1}}), "");  // 1 in the last 19.5 s
}

TEST(SamplingAdvice, SeveralVideosAreSummed) {
  EXPECT_EQ(sparse_sampling_advice(keyframes(), {{30, 1}, {30, 1}, {30, 20}}), "");
  EXPECT_EQ(sparse_sampling_advice(keyframes(), {{30, 1}, {30, 1}, {30, 1}}),
            "3 key frames in 90 s of video (one per 30 s) (sparse in 3 of 3 videos): consider --fps 1 to sample "
            "by time instead of --keyframes");
}

TEST(SamplingAdvice, FpsAboveTheVideosRateIsReported) {
  SamplingOptions s;
  s.fps = 30;
  EXPECT_EQ(sparse_sampling_advice(s, {{10, 100}}),
            "100 frames in 10 s of video, not the ~300 that --fps 30 asks for: the videos have fewer frames per "
            "second than that (or gaps)");
  EXPECT_EQ(sparse_sampling_advice(s, {{10, 290}}), "");
  s.fps = 0.1;
  EXPECT_EQ(sparse_sampling_advice(s, {{10, 1}}), "");  // 1 expected: too few to judge
}

TEST(SamplingAdvice, OtherModesSayNothing) {
  SamplingOptions s;
  s.every = 100;
  EXPECT_EQ(sparse_sampling_advice(s, {{79.5, 1}}), "");
  EXPECT_EQ(sparse_sampling_advice(SamplingOptions{}, {{79.5, 1}}), "");
}

}  // namespace
}  // namespace vidsift
