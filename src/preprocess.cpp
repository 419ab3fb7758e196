#include "vidsift/preprocess.h"

#include <algorithm>

#include "vidsift/decoder.h"  // av_error_text

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace vidsift {

namespace {

int sws_colorspace(AVColorSpace cs) {
  switch (cs) {
    case AVCOL_SPC_BT709: return SWS_CS_ITU709;
    case AVCOL_SPC_FCC: return SWS_CS_FCC;
    case AVCOL_SPC_SMPTE240M: return SWS_CS_SMPTE240M;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: return SWS_CS_BT2020;
    default: return SWS_CS_ITU601;  // BT.601 (470BG, 170M) and unspecified, swscale's own default
  }
}

// The deprecated yuvj* formats are plain YUV layouts that imply full range.
// swscale rewrites them internally, which defeats sws_getCachedContext (a new
// context every frame); vidsift passes the plain layout and the range.
AVPixelFormat plain_layout(AVPixelFormat f, bool& jpeg) {
  jpeg = true;
  switch (f) {
    case AV_PIX_FMT_YUVJ420P: return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: return AV_PIX_FMT_YUV411P;
    default: jpeg = false; return f;
  }
}

}  // namespace

Preprocessor::Preprocessor(const InputSpec& spec, Orientation orientation, int ref_w, int ref_h)
    : spec_(spec), orient_(orientation), ref_w_(ref_w), ref_h_(ref_h) {
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
  // Letterboxed upright; swscale makes the resized picture in its stored
  // orientation (sw x sh), turned below.
  const int up_w = orient_.upright_width(frame.width, frame.height);
  const int up_h = orient_.upright_height(frame.width, frame.height);
  Letterbox lb = Letterbox::compute(up_w, up_h, spec_.width, spec_.height, spec_.centred);
  if (ref_w_ > 0 && ref_h_ > 0 && (ref_w_ != up_w || ref_h_ != up_h)) lb = lb.with_output(ref_w_, ref_h_);
  const int sw = orient_.transpose ? lb.new_h : lb.new_w;
  const int sh = orient_.transpose ? lb.new_w : lb.new_h;
  bool jpeg = false;
  const AVPixelFormat layout = plain_layout(fmt, jpeg);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(fmt);
  const bool yuv = !(desc->flags & AV_PIX_FMT_FLAG_RGB) && desc->nb_components >= 3;
  const int cs = yuv ? sws_colorspace(frame.colorspace) : -1;
  const int range = yuv ? ((jpeg || frame.color_range == AVCOL_RANGE_JPEG) ? 1 : 0) : -1;
  const ContextKey key{frame.width, frame.height, static_cast<int>(layout), sw, sh, cs, range};
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
    sws_.reset(
        sws_getContext(frame.width, frame.height, layout, sw, sh, AV_PIX_FMT_GBRP, flags, nullptr, nullptr, nullptr));
    if (!sws_) {
      const char* name = av_get_pix_fmt_name(fmt);
      throw PreprocessError(std::string("cannot convert pixel format ") + (name ? name : "unknown") + " " +
                            std::to_string(frame.width) + "x" + std::to_string(frame.height));
    }
    // Colour matrix and range of a YUV source, as the stream declares them.
    if (yuv && sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(cs), range, sws_getCoefficients(SWS_CS_DEFAULT),
                                        1, 0, 1 << 16, 1 << 16) < 0) {
      sws_.reset();
      throw PreprocessError(std::string("cannot set the colour matrix of ") + av_get_pix_fmt_name(fmt) +
                            " for conversion");
    }
    key_ = key;
  }
  const std::size_t plane = static_cast<std::size_t>(lb.new_w) * lb.new_h;
  std::uint8_t* g = planes_.data();
  std::uint8_t* b = g + plane;
  std::uint8_t* r = b + plane;
  std::uint8_t* out_planes[4] = {g, b, r, nullptr};
  int out_strides[4] = {sw, sw, sw, 0};
  const int rows = sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, out_planes, out_strides);
  if (rows != sh) {
    const char* name = av_get_pix_fmt_name(fmt);
    throw PreprocessError(std::string("swscale could not convert a ") + (name ? name : "unknown") + " " +
                          std::to_string(frame.width) + "x" + std::to_string(frame.height) + " frame" +
                          (rows < 0 ? ": " + av_error_text(rows) : std::string()));
  }

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
