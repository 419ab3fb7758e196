// tracker.h — links one video's detections across frames into tracks
// (the ByteTrack method: Zhang et al., "ByteTrack: Multi-Object Tracking by
// Associating Every Detection Box", ECCV 2022).
//
// Contract:
//  * One Tracker per video; update() is called once per analysed frame, in
//    frame order (the assembler's order), with every box of the frame whose
//    confidence is >= low_conf. It returns one track id per box (same
//    order): a positive id, unique within the video, or -1 for a
//    low-confidence box that continued no track (such boxes never start one).
//  * Each track carries a constant-velocity Kalman filter over (centre x,
//    centre y, aspect ratio w/h, height) and their velocities, in units per
//    analysed frame (the noise model of ByteTrack/DeepSORT, scaled by the box
//    height). Every frame, all live tracks are predicted, then:
//      1. boxes >= high_conf are matched to tracked and lost tracks by IoU
//         with the predicted box (IoU must exceed match_iou);
//      2. boxes in [low_conf, high_conf) are matched to the tracked tracks
//         still unmatched (IoU must exceed low_match_iou);
//      3. tracked tracks still unmatched become lost;
//      4. unmatched boxes >= high_conf start new tracks;
//      5. lost tracks not matched for more than lost_seconds of video time
//         (by the frames' timestamps, so the buffer does not depend on the
//         sampling rate) are dropped for good.
//    Each stage is an optimal assignment (hungarian.h) on 1 - IoU, the IoU of
//    the boxes widened by the sampling gap (buffer_per_second; ~0.05 of a
//    box per side at 25 fps, 0.5 at 0.4 s and more). Matching is
//    class-aware: a box never continues a track of another class.
//  * restore() replays a frame whose boxes already carry their track ids
//    (a resumed video: the frames an earlier run stored). Tracks are
//    predicted, updated and expired exactly as update() would have done with
//    those pairs, and new ids continue after the largest id seen. What the
//    earlier run did with low-confidence boxes (never stored) is not
//    replayed, so a track continued across an interruption can differ from
//    an uninterrupted run's in rare cases (see README, "Tracking").
//  * Ids are assigned in order 1, 2, 3, ... (deterministic for the same
//    input).
// Not thread-safe: one video, one caller.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "vidsift/postprocess.h"

namespace vidsift {

struct TrackerOptions {
  float high_conf = 0.25f;     // first stage; may start tracks (the --conf threshold)
  float low_conf = 0.1f;       // second stage only: [low_conf, high_conf)
  double match_iou = 0.2;      // first stage: IoU must exceed this (ByteTrack's match_thresh 0.8 as 1 - IoU)
  double low_match_iou = 0.5;  // second stage (ByteTrack: 0.5)
  double lost_seconds = 1.5;   // lost-track buffer in seconds of video time
  // Buffered IoU (Yang et al., C-BIoU, WACV 2023): both boxes are widened on
  // each side by this fraction of their width/height per second between the
  // frame and the previous analysed one (at most max_buffer), so a person
  // who moves more than a box width between sparse samples still overlaps.
  double buffer_per_second = 1.25;
  double max_buffer = 0.5;
};

class Tracker {
 public:
  explicit Tracker(TrackerOptions opts = {});
  ~Tracker();
  Tracker(Tracker&&) noexcept;
  Tracker& operator=(Tracker&&) noexcept;
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  // One frame, in order (see contract). `ts` in seconds.
  std::vector<std::int64_t> update(double ts, const std::vector<Detection>& dets);
  // A stored frame whose boxes already have ids (ids[i] <= 0: no track).
  void restore(double ts, const std::vector<Detection>& dets, const std::vector<std::int64_t>& ids);

  // Tracks currently tracked or lost (not yet dropped).
  std::size_t live_tracks() const;
  // The id the next new track will get.
  std::int64_t next_id() const;
  const TrackerOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Intersection over union of two boxes (x, y, w, h); 0 when either is empty.
double box_iou(const Box& a, const Box& b);

}  // namespace vidsift
