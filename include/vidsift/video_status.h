// video_status.h — the one vocabulary for a video's state.
//
// Contract:
//  * VideoStatus is what a `videos` row says. Running is a row being written
//    by a live run; Done, Partial and Failed are final. The schema's CHECK
//    constraint lists exactly the names status_name() returns.
//  * Done: every sampled frame was analysed. Partial: some frames analysed,
//    then an error or timeout (the analysed frames are kept). Failed: nothing
//    usable (the row carries the error).
//  * Cancelled is not a stored status: a video cut off by a cancelled run is
//    rolled back (its rows are deleted), so a rerun analyses it again.
//    status_name(Cancelled) exists for messages only.
//  * parse_status() is the inverse of status_name() for stored names; it
//    returns std::nullopt for anything else.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace vidsift {

enum class VideoStatus { Running, Done, Partial, Failed, Cancelled };

// "running", "done", "partial", "failed", "cancelled".
constexpr const char* status_name(VideoStatus s) {
  switch (s) {
    case VideoStatus::Running: return "running";
    case VideoStatus::Done: return "done";
    case VideoStatus::Partial: return "partial";
    case VideoStatus::Failed: return "failed";
    case VideoStatus::Cancelled: return "cancelled";
  }
  return "unknown";
}

// Stored names only (running, done, partial, failed).
constexpr std::optional<VideoStatus> parse_status(std::string_view s) {
  for (VideoStatus v : {VideoStatus::Running, VideoStatus::Done, VideoStatus::Partial, VideoStatus::Failed})
    if (s == status_name(v)) return v;
  return std::nullopt;
}

// True for statuses a row can end in (done, partial, failed).
constexpr bool is_final(VideoStatus s) {
  return s == VideoStatus::Done || s == VideoStatus::Partial || s == VideoStatus::Failed;
}

}  // namespace vidsift
