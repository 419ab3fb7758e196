// frame_grab.h — decode again, from its source video, the exact frame that a
// run analysed, as an upright BGR picture in the coordinates of its boxes.
//
// Contract:
//  * A SourceVideo says which file a `videos` row analysed and how:
//    load_source_video(store, video_id) fills it from the row (path,
//    fingerprint, recorded width/height, recorded_at when the column exists)
//    and from its run's settings (was the run --keyframes?). Throws
//    StoreError; std::invalid_argument when the video id does not exist.
//  * check_source(src) tells, as a value, whether the file is still the one
//    that was analysed: std::nullopt when it is, else a FrameGrabError whose
//    kind() is Missing (no such file: moved or deleted), Changed (another
//    size, mtime or content: videos.fingerprint differs, computed as
//    discover.h's fingerprint()) or Unreadable (not a regular file, cannot be
//    read). The message names the file. An empty src.fingerprint skips the
//    comparison (only existence is checked).
//  * FrameGrabber(src) runs check_source() and throws its error; it opens the
//    video lazily with the project's Decoder (never cv::VideoCapture).
//  * grab(frame_index, ts) returns the frame the run stored as (frame_index,
//    ts) in detections/frames: the decoder is started with --start just
//    before `ts` (it seeks to the key frame at or before it, with the same
//    overshoot handling as a run) and decodes forward to the frame whose
//    timestamp equals `ts` (within a quarter frame; timestamps are computed
//    exactly as a run computes them: from the frame's PTS relative to the
//    stream's start, so they do not depend on where decoding began, unlike
//    indices after a seek). With src.keyframes only key frames are decoded,
//    as the run did (a key packet without PTS is then timed by its DTS).
//    If the seek does not find the frame (e.g. MPEG-TS whose timestamps
//    jumped, which a run decoding from the start had made continuous), the
//    video is decoded once more from the beginning (unless `ts` lies more
//    than 1 s past the container's duration).
//  * Grabs of one video in increasing time order reuse the open decoder:
//    a frame less than kForwardSeconds after the previous one is reached by
//    decoding on, without a new seek; an earlier frame or a farther one
//    re-opens and seeks. The same (index, ts) twice returns the cached
//    picture. opens() counts the decoder (re)opens.
//  * The picture is BGR (CV_8UC3), converted with the colour matrix and
//    range the stream declares (as preprocess.h does), turned upright with
//    the stream's display matrix (orientation.h), and, when the frame's size
//    differs from the video's recorded size (a mid-stream resolution
//    change), resized to the recorded size: the space detections' x, y, w, h
//    are stored in.
//  * Throws FrameGrabError: NoSuchFrame when the video has no frame at `ts`,
//    Unreadable when it cannot be opened or decoded (the message names the
//    file and says why).
// Not thread-safe: one FrameGrabber per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <opencv2/core.hpp>

#include "vidsift/av_ptr.h"
#include "vidsift/decoder.h"
#include "vidsift/orientation.h"
#include "vidsift/sws_source.h"

namespace vidsift {

class Store;

enum class GrabFailure {
  Missing,      // the file is gone (moved, renamed, deleted)
  Changed,      // the file is not the one analysed (fingerprint differs)
  Unreadable,   // cannot be read, opened or decoded
  NoSuchFrame,  // the video holds no frame at that time
};

class FrameGrabError : public std::runtime_error {
 public:
  FrameGrabError(GrabFailure kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  GrabFailure kind() const { return kind_; }

 private:
  GrabFailure kind_;
};

struct SourceVideo {
  std::int64_t video_id = 0;  // informational
  std::string path;
  std::string fingerprint;  // videos.fingerprint; empty = not compared
  int width = 0;            // recorded upright size (videos.width/height); 0 = the frame's own
  int height = 0;
  bool keyframes = false;   // the run decoded key frames only
  std::string recorded_at;  // videos.recorded_at (UTC ISO-8601) when the schema has it; "" = unknown
};

// Reads a videos row and its run's settings (see contract).
SourceVideo load_source_video(Store& store, std::int64_t video_id);

// std::nullopt when the file is the one analysed (see contract).
std::optional<FrameGrabError> check_source(const SourceVideo& src);

// Converts decoded frames to upright BGR pictures; keeps its swscale context
// while the frame size and format stay the same.
class BgrConverter {
 public:
  // Throws FrameGrabError(Unreadable) when swscale cannot convert the frame.
  cv::Mat convert(const AVFrame& frame, Orientation orientation);

 private:
  SwsContextPtr sws_;
  struct Key {
    int w = 0, h = 0;
    SwsSource src;
    bool operator==(const Key&) const = default;
  };
  Key key_;
};

class FrameGrabber {
 public:
  // A frame at most this many seconds after the last one decoded is reached
  // by decoding on instead of seeking again.
  static constexpr double kForwardSeconds = 4.0;

  explicit FrameGrabber(SourceVideo src);
  ~FrameGrabber();
  FrameGrabber(const FrameGrabber&) = delete;
  FrameGrabber& operator=(const FrameGrabber&) = delete;

  // See contract. The returned Mat is the caller's (not shared with the cache).
  cv::Mat grab(std::int64_t frame_index, double ts);

  const SourceVideo& source() const { return src_; }
  int opens() const { return opens_; }

 private:
  static constexpr double kStartMargin = 0.002;  // seconds the decoder starts before the frame

  void open_at(double start);
  double tolerance() const;  // a quarter frame (1 ms when the frame rate is unknown)
  bool scan_to(double ts, double tol, cv::Mat& out);

  SourceVideo src_;
  std::unique_ptr<Decoder> decoder_;
  BgrConverter converter_;
  DecodedFrame frame_;
  double last_ts_ = -1;  // timestamp of the last frame the open decoder returned
  bool exhausted_ = false;
  int opens_ = 0;
  double cached_ts_ = -1;
  cv::Mat cached_;
};

}  // namespace vidsift
