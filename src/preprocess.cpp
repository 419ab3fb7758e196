#include "vidsift/preprocess.h"

#include <algorithm>

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace vidsift {

Preprocessor::Preprocessor(const InputSpec& spec) : spec_(spec) {
  planes_.resize(static_cast<std::size_t>(spec_.width) * spec_.height * 3);
}

Letterbox Preprocessor::run(const AVFrame& frame, float* dst) {
  const auto fmt = static_cast<AVPixelFormat>(frame.format);
  // swscale aborts (av_assert0) on a format without a descriptor, e.g.
  // AV_PIX_FMT_NONE, instead of failing; reject such frames (and hardware
  // formats it cannot read) before asking it for a context.
  if (!av_pix_fmt_desc_get(fmt) || !sws_isSupportedInput(fmt) || frame.width <= 0 || frame.height <= 0) {
    const char* name = av_get_pix_fmt_name(fmt);
    throw PreprocessError(std::string("cannot convert pixel format ") + (name ? name : "unknown") + " " +
                          std::to_string(frame.width) + "x" + std::to_string(frame.height));
  }
  const Letterbox lb = Letterbox::compute(frame.width, frame.height, spec_.width, spec_.height, spec_.centred);
  SwsContext* ctx = sws_getCachedContext(sws_.release(), frame.width, frame.height, fmt, lb.new_w, lb.new_h,
                                         AV_PIX_FMT_GBRP, SWS_BILINEAR, nullptr, nullptr, nullptr);
  sws_.reset(ctx);
  if (!sws_) {
    const char* name = av_get_pix_fmt_name(fmt);
    throw PreprocessError(std::string("cannot convert pixel format ") + (name ? name : "unknown") + " " +
                          std::to_string(frame.width) + "x" + std::to_string(frame.height));
  }
  const std::size_t plane = static_cast<std::size_t>(lb.new_w) * lb.new_h;
  std::uint8_t* g = planes_.data();
  std::uint8_t* b = g + plane;
  std::uint8_t* r = b + plane;
  std::uint8_t* out_planes[4] = {g, b, r, nullptr};
  int out_strides[4] = {lb.new_w, lb.new_w, lb.new_w, 0};
  sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, out_planes, out_strides);

  // Channel order of the blob.
  const std::uint8_t* chan[3];
  if (spec_.rgb) {
    chan[0] = r;
    chan[1] = g;
    chan[2] = b;
  } else {
    chan[0] = b;
    chan[1] = g;
    chan[2] = r;
  }
  const float scale = spec_.scale;
  const float pad = spec_.pad * scale;
  const int W = spec_.width;
  const int H = spec_.height;
  for (int c = 0; c < 3; ++c) {
    float* out = dst + static_cast<std::size_t>(c) * W * H;
    const std::uint8_t* src = chan[c];
    for (int y = 0; y < H; ++y) {
      float* row = out + static_cast<std::size_t>(y) * W;
      const int sy = y - lb.pad_y;
      if (sy < 0 || sy >= lb.new_h) {
        std::fill(row, row + W, pad);
        continue;
      }
      std::fill(row, row + lb.pad_x, pad);
      const std::uint8_t* s = src + static_cast<std::size_t>(sy) * lb.new_w;
      float* o = row + lb.pad_x;
      for (int x = 0; x < lb.new_w; ++x) o[x] = static_cast<float>(s[x]) * scale;
      std::fill(row + lb.pad_x + lb.new_w, row + W, pad);
    }
  }
  return lb;
}

}  // namespace vidsift
