// video_status.h — the one vocabulary for a video's state.
//
// Contract:
//  * VideoStatus is what a `videos` row says. Running is a row being written
//    by a live run; Done, Partial, Failed and Interrupted are final for the
//    run that wrote them. The schema's CHECK constraint lists exactly the
//    stored names status_name() returns.
//  * Done: every sampled frame was analysed. Partial: some frames analysed,
//    then an error (the analysed frames are kept). Failed: nothing usable
//    (the row carries the error).
//  * Interrupted: the run was stopped (SIGINT/SIGTERM), the video hit
//    --video-timeout, or the process died (recover_stale): the frames stored
//    are a contiguous prefix, in sampling order, of what a complete run
//    stores, and a rerun resumes after the last of them (same row).
//  * Cancelled is not a stored status: a video that had not opened when the
//    run was cancelled gets no row. status_name(Cancelled) exists for
//    messages only.
//  * parse_status() is the inverse of status_name() for stored names; it
//    returns std::nullopt for anything else.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace vidsift {

enum class VideoStatus { Running, Done, Partial, Failed, Interrupted, Cancelled };

// "running", "done", "partial", "failed", "interrupted", "cancelled".
constexpr const char* status_name(VideoStatus s) {
  switch (s) {
    case VideoStatus::Running: return "running";
    case VideoStatus::Done: return "done";
    case VideoStatus::Partial: return "partial";
    case VideoStatus::Failed: return "failed";
    case VideoStatus::Interrupted: return "interrupted";
    case VideoStatus::Cancelled: return "cancelled";
  }
  return "unknown";
}

// Stored names only (running, done, partial, failed, interrupted).
constexpr std::optional<VideoStatus> parse_status(std::string_view s) {
  for (VideoStatus v :
       {VideoStatus::Running, VideoStatus::Done, VideoStatus::Partial, VideoStatus::Failed, VideoStatus::Interrupted})
    if (s == status_name(v)) return v;
  return std::nullopt;
}

// True for statuses a run can leave a row in (done, partial, failed,
// interrupted).
constexpr bool is_final(VideoStatus s) {
  return s == VideoStatus::Done || s == VideoStatus::Partial || s == VideoStatus::Failed ||
         s == VideoStatus::Interrupted;
}

}  // namespace vidsift
