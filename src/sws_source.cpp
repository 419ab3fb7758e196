#include "vidsift/sws_source.h"

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

// The plain layout of a yuvj* format; `full` says whether it was one.
AVPixelFormat plain_layout(AVPixelFormat f, bool& full) {
  full = true;
  switch (f) {
    case AV_PIX_FMT_YUVJ420P: return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: return AV_PIX_FMT_YUV411P;
    default: full = false; return f;
  }
}

}  // namespace

std::optional<SwsSource> SwsSource::of(const AVFrame& frame) {
  const auto fmt = static_cast<AVPixelFormat>(frame.format);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(fmt);
  if (!desc || !sws_isSupportedInput(fmt) || frame.width <= 0 || frame.height <= 0) return std::nullopt;
  SwsSource s;
  bool full = false;
  s.layout = plain_layout(fmt, full);
  s.yuv = !(desc->flags & AV_PIX_FMT_FLAG_RGB) && desc->nb_components >= 3;
  if (s.yuv) {
    s.colorspace = sws_colorspace(frame.colorspace);
    s.range = (full || frame.color_range == AVCOL_RANGE_JPEG) ? 1 : 0;
  }
  return s;
}

SwsContextPtr make_sws_context(const SwsSource& src, int w, int h, int dst_w, int dst_h, AVPixelFormat dst_format,
                               int flags) {
  SwsContextPtr ctx(sws_getContext(w, h, src.layout, dst_w, dst_h, dst_format, flags, nullptr, nullptr, nullptr));
  if (ctx && src.yuv &&
      sws_setColorspaceDetails(ctx.get(), sws_getCoefficients(src.colorspace), src.range,
                               sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16) < 0)
    ctx.reset();
  return ctx;
}

std::string pix_fmt_text(const AVFrame& frame) {
  const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame.format));
  return std::string(name ? name : "unknown") + " " + std::to_string(frame.width) + "x" + std::to_string(frame.height);
}

}  // namespace vidsift
