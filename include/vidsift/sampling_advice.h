// sampling_advice.h — telling the user when a sampling mode analysed far
// fewer frames than they probably expected.
//
// Contract:
//  * sparse_sampling_advice(sampling, videos) looks at the videos a run
//    analysed (their duration and frames analysed) and returns one line of
//    advice, or "" when the yield is as expected:
//     - --keyframes: fewer than one key frame per kKeyframeAdviceSeconds of
//       video in the --start/--end window (a short H.264 clip often has one
//       key frame in all): "4 key frames in 79 s of video (one per 20 s):
//       consider --fps 1 to sample by time";
//     - --fps F (without --keyframes): fewer than half of F x the window, and
//       at least 4 frames were expected: the videos have fewer frames than F
//       per second (or gaps).
//    Videos with an unknown duration (<= 0) are left out. Sums over all
//    videos, and says in how many of them the yield was sparse.
// Pure function, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vidsift/sampler.h"

namespace vidsift {

inline constexpr double kKeyframeAdviceSeconds = 5.0;

struct SampledVideo {
  double duration = 0;  // seconds, <= 0 unknown
  std::int64_t frames_analysed = 0;
};

std::string sparse_sampling_advice(const SamplingOptions& sampling, const std::vector<SampledVideo>& videos);

}  // namespace vidsift
