// sws_source.h — how swscale reads a decoded frame, shared by everything
// that converts frames (preprocess: the network's letterboxed input;
// frame_grab: pictures for people).
//
// Contract:
//  * SwsSource::of(frame) describes how swscale should read `frame`: its
//    pixel layout, with the deprecated full-range yuvj* formats given as
//    their plain layout plus full range (swscale rewrites yuvj* itself,
//    which would make every frame look like a new format), and for a YUV
//    source the colour matrix the stream declares (BT.709, BT.601, BT.2020,
//    FCC, SMPTE 240M; unspecified = BT.601, swscale's own default) and its
//    range (1 = full, 0 = limited). For RGB sources colorspace and range
//    are -1. It returns std::nullopt for a frame swscale cannot read: a
//    format without a descriptor (e.g. AV_PIX_FMT_NONE, on which swscale
//    aborts instead of failing), a hardware format, or an empty size.
//    Equal SwsSource values (with equal sizes) can share one context.
//  * make_sws_context(src, w, h, dst_w, dst_h, dst_format, flags) makes a
//    context converting a w x h frame described by `src` to dst_w x dst_h in
//    dst_format with the source's colour matrix and range; nullptr when
//    swscale refuses either.
//  * pix_fmt_text(frame) names the frame's format and size for messages
//    ("yuv420p 640x480", "unknown 0x0").
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "vidsift/av_ptr.h"

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

namespace vidsift {

struct SwsSource {
  AVPixelFormat layout = AV_PIX_FMT_NONE;
  bool yuv = false;
  int colorspace = -1;  // SWS_CS_*; -1 for RGB sources
  int range = -1;       // 1 full, 0 limited; -1 for RGB sources

  static std::optional<SwsSource> of(const AVFrame& frame);
  bool operator==(const SwsSource&) const = default;
};

SwsContextPtr make_sws_context(const SwsSource& src, int w, int h, int dst_w, int dst_h, AVPixelFormat dst_format,
                               int flags);

std::string pix_fmt_text(const AVFrame& frame);

}  // namespace vidsift
