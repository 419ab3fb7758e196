// preprocess.h — decoded frame (any FFmpeg pixel format, usually YUV) →
// letterboxed network input, written straight into a pooled blob slot.
//
// Contract:
//  * Preprocessor(spec) prepares conversion for one InputSpec. run(frame, dst)
//    scales the frame with swscale directly from its native pixel format to
//    the resized size inside the input (planar G,B,R at network resolution;
//    never a full-resolution BGR copy), then writes CHW floats into `dst`
//    (3 x spec.height x spec.width floats) in the spec's channel order and
//    scale, with the pad value around the image. Returns the Letterbox used,
//    so boxes can be mapped back.
//  * Orientation (display matrix, see orientation.h): the frame is scaled in
//    its stored orientation and turned while the floats are written (no extra
//    copy), so the network sees it upright and the Letterbox maps boxes into
//    the upright frame.
//  * Reference size (optional, the video's recorded upright size): a frame of
//    another size (a mid-stream resolution change) is letterboxed with its own
//    size, and its Letterbox maps boxes into the reference size
//    (Letterbox::with_output), so boxes never leave the recorded frame.
//  * Colour: a YUV frame is converted with the matrix it declares
//    (frame->colorspace: BT.709, BT.601, BT.2020, ...; unspecified = BT.601)
//    and its range (full for yuvj* formats and AVCOL_RANGE_JPEG, else
//    limited), so an HD or full-range camera stream gives the same RGB as a
//    player would.
//  * Every pixel of the image area is written on every run, also when the
//    frame is already at the letterboxed size (swscale's unscaled SIMD
//    converter in FFmpeg 7 is avoided: it skips the last columns).
//  * The swscale context is kept and rebuilt only when the frame size, pixel
//    format or colour description changes (mid-stream resolution changes are
//    handled).
//  * Throws PreprocessError when swscale cannot convert the frame's format,
//    refuses its colour description, or fails to convert it (bad picture
//    pointers): a frame is never returned half converted.
// Not thread-safe: one Preprocessor per decoding thread/video.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "vidsift/av_ptr.h"
#include "vidsift/letterbox.h"
#include "vidsift/model.h"
#include "vidsift/orientation.h"
#include "vidsift/sws_source.h"

namespace vidsift {

class PreprocessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Preprocessor {
 public:
  explicit Preprocessor(const InputSpec& spec, Orientation orientation = {}, int ref_w = 0, int ref_h = 0);

  Letterbox run(const AVFrame& frame, float* dst);

  const InputSpec& spec() const { return spec_; }

 private:
  InputSpec spec_;
  Orientation orient_;
  int ref_w_ = 0, ref_h_ = 0;  // recorded upright size (0: none)
  SwsContextPtr sws_;
  std::vector<std::uint8_t> planes_;  // resized G,B,R planes (network resolution)
  // What sws_ was made for: source size, scaled size, and how the source is
  // read (layout, colour matrix and range).
  struct ContextKey {
    int w = 0, h = 0, new_w = 0, new_h = 0;
    SwsSource src;
    bool operator==(const ContextKey&) const = default;
  };
  ContextKey key_;
};

}  // namespace vidsift
