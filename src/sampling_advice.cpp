#include "vidsift/sampling_advice.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace vidsift {

namespace {

// Seconds of `duration` inside the --start/--end window.
double window_seconds(const SamplingOptions& s, double duration) {
  const double end = s.end > 0 ? std::min(s.end, duration) : duration;
  return std::max(0.0, end - s.start);
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s >= 10 ? "%.0f s" : "%.1f s", s);
  return buf;
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

std::string sparse_sampling_advice(const SamplingOptions& sampling, const std::vector<SampledVideo>& videos) {
  if (!sampling.keyframes && !(sampling.fps > 0)) return {};
  double seconds = 0;
  std::int64_t frames = 0;
  int known = 0;
  int sparse = 0;
  for (const auto& v : videos) {
    if (!(v.duration > 0)) continue;
    const double w = window_seconds(sampling, v.duration);
    ++known;
    seconds += w;
    frames += v.frames_analysed;
    const double expected = sampling.keyframes ? w / kKeyframeAdviceSeconds : sampling.fps * w / 2;
    if (static_cast<double>(v.frames_analysed) < expected) ++sparse;
  }
  if (known == 0 || seconds <= 0) return {};
  const std::string where =
      known > 1 ? " (sparse in " + std::to_string(sparse) + " of " + std::to_string(known) + " videos)" : "";
  const double n = static_cast<double>(frames);
  if (sampling.keyframes) {
    if (n >= seconds / kKeyframeAdviceSeconds) return {};
    std::string line = std::to_string(frames) + (frames == 1 ? " key frame in " : " key frames in ") +
                       seconds_text(seconds) + " of video";
    if (frames > 0) line += " (one per " + seconds_text(seconds / n) + ")";
    return line + where + ": consider --fps 1 to sample by time instead of --keyframes";
  }
  const double expected = sampling.fps * seconds;
  if (expected < 4 || n >= expected / 2) return {};
  return std::to_string(frames) + " frames in " + seconds_text(seconds) + " of video, not the ~" +
         std::to_string(static_cast<std::int64_t>(std::llround(expected))) + " that --fps " +
         number_text(sampling.fps) + " asks for" + where +
         ": the videos have fewer frames per second than that (or gaps)";
}

}  // namespace vidsift
