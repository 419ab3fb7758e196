// clip_writer.h — BGR pictures in, a short MP4 (H.264) out, with libavcodec
// and libavformat.
//
// Contract:
//  * ClipWriter(path, width, height, fps, opts) opens an encoder and an MP4
//    muxer writing to PATH.part. The encoder is the first of
//    opts.encoders that this FFmpeg has and that opens (default: libx264,
//    then any other H.264 encoder, then mpeg4); when it is not the first
//    choice, warning() says which one was used and why. Odd sizes are
//    rounded down to even (yuv420p); pictures of another size are scaled.
//    Throws ClipError (naming the file) when nothing can be opened.
//  * write(bgr, ts) encodes one picture shown at `ts` seconds (relative to
//    any origin: the first picture starts the clip at 0). Timestamps keep
//    the source's timing (variable frame rate too), in a 1/90000 s time base,
//    and are forced to increase. The pixel data is converted to yuv420p
//    (BT.601, limited range, as tagged).
//  * finish() flushes the encoder, writes the trailer ("faststart": the
//    index first, so a browser plays it while loading) and renames PATH.part
//    to PATH. A ClipWriter destroyed without finish() (an error) removes
//    PATH.part. Every FFmpeg handle is owned by an av_ptr.h RAII type.
//  * frames() counts pictures written; encoder() names the encoder used.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "vidsift/av_ptr.h"

namespace vidsift {

class ClipError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ClipOptions {
  // Encoder names in order of preference; "h264" means any H.264 encoder
  // this FFmpeg has (hardware ones may fail to open and are then skipped).
  std::vector<std::string> encoders = {"libx264", "h264", "mpeg4"};
  int crf = 23;  // libx264 quality (lower is better)
};

class ClipWriter {
 public:
  ClipWriter(const std::string& path, int width, int height, double fps, const ClipOptions& opts = {});
  ~ClipWriter();
  ClipWriter(const ClipWriter&) = delete;
  ClipWriter& operator=(const ClipWriter&) = delete;

  void write(const cv::Mat& bgr, double ts);
  void finish();

  const std::string& encoder() const { return encoder_; }
  const std::string& warning() const { return warning_; }
  std::int64_t frames() const { return frames_; }
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  bool try_open(const AVCodec* codec, double fps, std::string& why);
  void drain(bool flush);

  std::string path_, part_;
  int width_ = 0, height_ = 0;
  ClipOptions opts_;
  OutputContextPtr out_;
  CodecContextPtr enc_;
  AVStream* stream_ = nullptr;  // owned by out_
  SwsContextPtr sws_;
  FramePtr frame_;
  PacketPtr packet_;
  std::string encoder_, warning_;
  std::int64_t frames_ = 0;
  std::int64_t last_pts_ = -1;
  std::int64_t frame_duration_ = 1;  // 1/fps in the encoder's time base
  double first_ts_ = 0;
  bool finished_ = false;
};

}  // namespace vidsift
