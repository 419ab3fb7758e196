// progress_line.h — the text of the one-line progress display.
//
// Contract:
//  * eta_seconds(s) estimates the seconds left, or nullopt while that would
//    be a guess (before kEtaMinSeconds of run time and kEtaMinFrames frames,
//    before any video has opened) or pointless (every video has finished).
//    Frames left = the open videos' expected frames not analysed yet, plus,
//    for videos not opened yet, the mean expected frames of the opened ones;
//    divided by the frame rate so far.
//    `extrapolated` tells whether unopened videos were guessed.
//  * progress_line(s, width) returns the line, never longer than width - 1
//    characters (the last column would wrap on some terminals) and never
//    containing a newline. Parts are dropped, least important first, until
//    it fits: detections, frame rate, failed count, frames, current file,
//    ETA, elapsed; "videos N/M" always stays (cut to the width if even that
//    is too long). The current file's name (its last path component) comes
//    last and takes the room left (at least 8 columns), shortened in the
//    middle with "..".
//    Widths below 10 are treated as 10. Characters are counted as bytes; a
//    file name's non-ASCII bytes are replaced by '?' so that they never
//    take more columns than counted.
//  * clock_text(s) formats seconds as m:ss, or h:mm:ss from an hour on.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vidsift {

inline constexpr double kEtaMinSeconds = 3.0;
inline constexpr std::int64_t kEtaMinFrames = 10;

struct ProgressSnapshot {
  double elapsed = 0;  // seconds since the run started
  std::int64_t videos_total = 0;
  std::int64_t videos_finished = 0;  // includes skipped
  std::int64_t videos_failed = 0;
  std::int64_t videos_opened = 0;
  std::int64_t videos_closed = 0;
  std::int64_t frames_analysed = 0;
  std::int64_t frames_expected = 0;
  std::int64_t detections = 0;
  std::string current;  // path of the video opened last ("" none)
};

struct Eta {
  double seconds = 0;
  bool extrapolated = false;  // some videos have not opened yet
};

std::optional<Eta> eta_seconds(const ProgressSnapshot& s);
std::string progress_line(const ProgressSnapshot& s, int width);
std::string clock_text(double seconds);

}  // namespace vidsift
