#include "track_check.h"

#include <cmath>

#include "vidsift/decoder.h"
#include "vidsift/format.h"

namespace vidsift::cli {

namespace {
const char* const kWorks =
    "tracking needs analysed frames at most ~1 s apart (good: --every 1..5 at 25-30 fps, or --fps 5 and more; "
    "see README, Tracking)";
}

std::string track_sampling_error(const SamplingOptions& s) {
  if (s.keyframes) return std::string("--track cannot follow objects across key frames only (--keyframes): ") + kWorks;
  if (s.fps > 0 && s.fps < 1.0 / kMaxTrackGap)
    return "--track with --fps " + human_number(s.fps) + ": frames would be " + human_number(1.0 / s.fps) +
           " s apart; " + kWorks;
  return {};
}

std::string track_spacing_error(const SamplingOptions& s, const std::vector<VideoFile>& files) {
  if (s.every <= 1 || s.fps > 0 || s.keyframes) return {};
  for (const auto& f : files) {
    double fps = 0;
    try {
      DecoderOptions o;
      fps = Decoder(f.path, o).info().fps;
    } catch (const std::exception&) {
      continue;  // the run reports it
    }
    if (!(fps > 0)) continue;
    const double gap = s.every / fps;
    if (gap > kMaxTrackGap + 1e-9)
      return "--track with --every " + std::to_string(s.every) + ": " + f.path + " (" + human_number(fps) +
             " fps) would be analysed every " + human_number(gap) + " s; use --every " +
             std::to_string(std::max(1, static_cast<int>(std::floor(fps * kMaxTrackGap)))) + " or less. " + kWorks;
  }
  return {};
}

}  // namespace vidsift::cli
