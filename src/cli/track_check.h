// track_check.h — which sampling rates --track accepts.
//
// Contract:
//  * track_sampling_error(sampling) checks what is known before any video is
//    opened: --keyframes (frames seconds apart, irregular) and --fps under 1
//    are refused. Returns "" when fine, else the usage message, which names
//    the rates that work.
//  * track_spacing_error(sampling, files) opens each file (header and stream
//    info only, nothing decoded) when --every N > 1 and refuses when N frames
//    of a video span more than kMaxTrackGap seconds, naming the file and the
//    largest N that works for it. Files that cannot be opened are left for
//    the run to report.
#pragma once

#include <string>
#include <vector>

#include "vidsift/discover.h"
#include "vidsift/sampler.h"

namespace vidsift::cli {

// Analysed frames further apart than this (seconds) are refused with --track.
inline constexpr double kMaxTrackGap = 1.0;

std::string track_sampling_error(const SamplingOptions& sampling);
std::string track_spacing_error(const SamplingOptions& sampling, const std::vector<VideoFile>& files);

}  // namespace vidsift::cli
