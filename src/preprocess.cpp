#include "vidsift/preprocess.h"

#include <algorithm>

#include "vidsift/decoder.h"  // av_error_text
#include "vidsift/sws_source.h"

namespace vidsift {

Preprocessor::Preprocessor(const InputSpec& spec, Orientation orientation, int ref_w, int ref_h)
    : spec_(spec), orient_(orientation), ref_w_(ref_w), ref_h_(ref_h) {
  planes_.resize(static_cast<std::size_t>(spec_.width) * spec_.height * 3);
}

Letterbox Preprocessor::run(const AVFrame& frame, float* dst) {
  const std::optional<SwsSource> source = SwsSource::of(frame);
  if (!source) throw PreprocessError("cannot convert pixel format " + pix_fmt_text(frame));
  // Letterboxed upright; swscale makes the resized picture in its stored
  // orientation (sw x sh), turned below.
  const int up_w = orient_.upright_width(frame.width, frame.height);
  const int up_h = orient_.upright_height(frame.width, frame.height);
  Letterbox lb = Letterbox::compute(up_w, up_h, spec_.width, spec_.height, spec_.centred);
  if (ref_w_ > 0 && ref_h_ > 0 && (ref_w_ != up_w || ref_h_ != up_h)) lb = lb.with_output(ref_w_, ref_h_);
  const int sw = orient_.transpose ? lb.new_h : lb.new_w;
  const int sh = orient_.transpose ? lb.new_w : lb.new_h;
  const ContextKey key{frame.width, frame.height, sw, sh, *source};
  // One context per stream in practice: rebuilt only when the key changes.
  // (sws_getCachedContext would rebuild it on every frame: swscale adds
  // SWS_FULL_CHR_H_INT to the flags for planar RGB output, so they never
  // compare equal.)
  if (!sws_ || !(key == key_)) {
    // A frame already at the letterboxed size is converted without scaling.
    // For that case FFmpeg 7's swscale picks a SIMD (SSSE3/AVX2) YUV420P ->
    // planar RGB converter that leaves the rightmost columns unwritten when
    // the width is not a multiple of 16 (FFmpeg 7.1: 654 of 1438 sizes from
    // 2x64 to 720x65; a 360x640 portrait frame into a 640 model keeps 8
    // stale columns from the previous frame). SWS_ACCURATE_RND makes swscale
    // skip that converter; scaled conversions are left as they are.
    const bool unscaled = sw == frame.width && sh == frame.height;
    const int flags = SWS_BILINEAR | (unscaled ? SWS_ACCURATE_RND : 0);
    sws_ = make_sws_context(*source, frame.width, frame.height, sw, sh, AV_PIX_FMT_GBRP, flags);
    if (!sws_) throw PreprocessError("cannot convert pixel format " + pix_fmt_text(frame) + " to planar RGB");
    key_ = key;
  }
  const std::size_t plane = static_cast<std::size_t>(lb.new_w) * lb.new_h;
  std::uint8_t* g = planes_.data();
  std::uint8_t* b = g + plane;
  std::uint8_t* r = b + plane;
  std::uint8_t* out_planes[4] = {g, b, r, nullptr};
  int out_strides[4] = {sw, sw, sw, 0};
  const int rows = sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, out_planes, out_strides);
  if (rows != sh)
    throw PreprocessError("swscale could not convert a " + pix_fmt_text(frame) + " frame" +
                          (rows < 0 ? ": " + av_error_text(rows) : std::string()));

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
      float* o = row + lb.pad_x;
      if (orient_.upright()) {
        const std::uint8_t* s = src + static_cast<std::size_t>(sy) * lb.new_w;
        for (int x = 0; x < lb.new_w; ++x) o[x] = static_cast<float>(s[x]) * scale;
      } else {
        // Turned: along an upright row the stored offset moves by a fixed step.
        const auto first = static_cast<std::ptrdiff_t>(orient_.stored_index(0, sy, lb.new_w, lb.new_h));
        const std::ptrdiff_t step =
            lb.new_w > 1 ? static_cast<std::ptrdiff_t>(orient_.stored_index(1, sy, lb.new_w, lb.new_h)) - first : 0;
        const std::uint8_t* s = src + first;
        for (int x = 0; x < lb.new_w; ++x) o[x] = static_cast<float>(s[x * step]) * scale;
      }
      std::fill(row + lb.pad_x + lb.new_w, row + W, pad);
    }
  }
  return lb;
}

}  // namespace vidsift
