// assembler.h — the per-video assembler: the store side of the pipeline.
//
// It runs in the pipeline's single serial store node (one thread at a time),
// is the only stage that writes to the Store, and owns:
//  * the reorder buffer: frames of one video arrive in any order (batches
//    run concurrently); they are written in `seq` order. Videos interleave.
//  * the final-status rules (decide_status below);
//  * per-video and per-run timings and counts.
//
// Contract:
//  * on_start / on_results / on_end may arrive in any order for a video:
//    results that come before the video's VideoStart are held until it
//    arrives (the ordering is structural, not a property of the graph), and
//    a VideoEnd waits until every one of its `sampled` frames is written.
//  * A video is finalised (store.finish_video, timings written) as soon as its
//    start, its end and all its frames are in. A VideoStart with `resume`
//    claims the interrupted row (Store::resume_video) and counts its stored
//    frames in the video's totals; if another process claimed it first, the
//    video's frames are dropped and nothing is recorded (Cancelled).
//  * finish_all() is called once the graph has drained: nothing is in
//    flight any more, so a video still waiting for frames will never get
//    them. It is finalised with what it has (partial or failed, the error
//    says how many frames were lost) — a video is never left `running`.
//  * With enable_tracking(), each video gets a Tracker (tracker.h) fed with
//    its frames in order as they are written: every box of the frame goes to
//    the tracker, only boxes >= the options' high_conf are stored, with their
//    track_id. A resumed video's tracker first replays the stored frames
//    (Tracker::restore). When a video is finalised (done, partial, failed
//    after opening, interrupted) its tracks rows are rewritten from its stored
//    detections (Store::write_tracks) in the transaction of its final status.
//    Tracker time per frame is recorded as the Track stage.
//  * Store errors propagate as StoreError; the caller rolls back and stops
//    the run.
// Not thread-safe: one caller at a time (the serial store node).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "vidsift/stage_messages.h"
#include "vidsift/stage_stats.h"
#include "vidsift/store.h"
#include "vidsift/tracker.h"
#include "vidsift/video_status.h"

namespace vidsift {

// One video that reached its final status in this run (for log lines).
struct FinishedVideo {
  std::string path;
  VideoStatus status = VideoStatus::Failed;
  std::string error;
  std::int64_t frames_analysed = 0;
  std::int64_t detections = 0;
  double seconds = 0;  // from the assembler's first message about it to its final row
};

// Live counters for a progress display (read from another thread), and an
// optional callback the assembler calls (on the store node's thread) each
// time a video's final row is committed or recorded; not for cancelled ones.
struct Progress {
  std::function<void(const FinishedVideo&)> on_video_finished;
  std::atomic<std::int64_t> videos_total{0};
  std::atomic<std::int64_t> videos_finished{0};
  std::atomic<std::int64_t> videos_failed{0};
  std::atomic<std::int64_t> videos_skipped{0};  // counted in videos_finished too
  std::atomic<std::int64_t> videos_opened{0};   // VideoStart seen
  std::atomic<std::int64_t> videos_closed{0};   // opened, and the decoder is done with it
  std::atomic<std::int64_t> frames_analysed{0};
  // Estimate: grows as videos open; a finished video's estimate is replaced
  // by the frames it actually analysed.
  std::atomic<std::int64_t> frames_expected{0};
  std::atomic<std::int64_t> detections{0};

  // The video opened last (for display).
  void set_current(std::string path) {
    std::lock_guard<std::mutex> lock(mutex_);
    current_ = std::move(path);
  }
  std::string current() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::string current_;
};

// The verdict on a video.
struct Verdict {
  VideoStatus status = VideoStatus::Failed;
  std::string error;  // empty when done
};

// The final-status rules, from the decode stage's facts and what the
// assembler saw:
//  * cancelled run, video not opened        → Cancelled (nothing recorded);
//  * never opened                           → Failed with the open error;
//  * cancelled run or --video-timeout, with every frame sent analysed and
//    no error                               → Interrupted (kept; a rerun
//                                             resumes after the last frame);
//  * frames were analysed, then a timeout, an error, a truncated stream or
//    frames that could not be analysed      → Partial;
//  * the same with no frame analysed        → Failed;
//  * nothing decoded                        → Failed ("holds no frames" /
//                                             "no frame could be decoded");
//  * corrupt packets skipped                → Partial;
//  * otherwise                              → Done.
// `analysed` counts frames written with detections; `frame_errors` frames
// that came back with an error; `lost` frames sent but never returned.
Verdict decide_status(const VideoEnd& end, std::int64_t analysed, std::int64_t frame_errors, std::int64_t lost = 0,
                      const std::string& frame_error = {});

// What a run added up to.
struct AssemblyTotals {
  std::int64_t videos_done = 0;
  std::int64_t videos_partial = 0;
  std::int64_t videos_failed = 0;
  std::int64_t videos_cancelled = 0;    // not opened when cancelled, or resumed by another process
  std::int64_t videos_interrupted = 0;  // stopped by a signal or --video-timeout; resumable
  std::int64_t frames_analysed = 0;
  std::int64_t frames_decoded = 0;
  std::int64_t detections = 0;
  std::vector<std::int64_t> per_label;  // detections per class id
  StageTimings timings;                 // whole run
};

class Assembler {
 public:
  // `labels` sizes per_label; `progress` (optional) is updated live.
  Assembler(Store& store, std::int64_t run_id, std::string settings_key, std::size_t labels,
            Progress* progress = nullptr);

  // Link detections into tracks from now on (see contract); call before the
  // first message.
  void enable_tracking(const TrackerOptions& opts) { track_ = opts; }

  // The video opened: writes its `running` row (or holds it until needed).
  void on_start(const VideoStart& start);
  // Results of one batch (may span videos). Consumes the frames.
  void on_results(std::vector<FrameResult>& results);
  // The decode stage is done with the video.
  void on_end(const VideoEnd& end);
  // After the graph drained: finalises every video still open (see contract).
  void finish_all();

  // Videos started or ended but not yet final.
  std::size_t open_videos() const { return videos_.size(); }
  const AssemblyTotals& totals() const { return totals_; }

 private:
  struct VideoState {
    std::optional<std::int64_t> db_id;  // set once the row exists
    std::optional<VideoEnd> end;
    std::int64_t next_seq = 0;
    std::map<std::int64_t, FrameResult> pending;  // seq → result, waiting for its turn
    std::int64_t written = 0;                     // frames stored with their detections
    std::int64_t detections = 0;                  // detections stored
    StageTimer since_first;                       // started with the first message about it
    std::int64_t frame_errors = 0;                // frames that came back with an error
    std::int64_t estimate = 0;                    // frames expected (counted in Progress)
    std::int64_t prior_frames = 0;                // resumed: frames stored by earlier runs
    std::int64_t prior_decoded = 0;               // resumed: frames decoded by earlier runs
    bool dropped = false;                         // resumed by another process: record nothing
    std::string frame_error;
    StageTimings timings;
    std::optional<Tracker> tracker;  // --track
  };

  void drain(int vid, VideoState& st);
  void finalize(int vid, VideoState& st, std::int64_t lost);
  void count(VideoStatus s);

  Store& store_;
  std::int64_t run_id_;
  std::string settings_key_;
  Progress* progress_;
  std::map<int, VideoState> videos_;
  AssemblyTotals totals_;
  std::optional<TrackerOptions> track_;
};

}  // namespace vidsift
