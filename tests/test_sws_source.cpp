// SwsSource: how swscale reads a frame (layout, colour matrix, range), and
// contexts made from it convert with that matrix and range.
#include <gtest/gtest.h>

#include <cstdint>

#include "vidsift/av_ptr.h"
#include "vidsift/sws_source.h"

extern "C" {
#include <libavutil/frame.h>
}

using namespace vidsift;

namespace {

// A w x h frame of `fmt` filled with luma `y` and neutral chroma.
FramePtr grey(AVPixelFormat fmt, int w, int h, std::uint8_t y) {
  FramePtr f(av_frame_alloc());
  f->format = fmt;
  f->width = w;
  f->height = h;
  EXPECT_GE(av_frame_get_buffer(f.get(), 0), 0);
  for (int r = 0; r < h; ++r) std::fill_n(f->data[0] + r * f->linesize[0], w, y);
  for (int p = 1; p < 3; ++p)
    for (int r = 0; r < (h + 1) / 2; ++r) std::fill_n(f->data[p] + r * f->linesize[p], (w + 1) / 2, 128);
  return f;
}

// The BGR value of pixel (0, 0) after converting `f` with a context made from its SwsSource.
int converted_blue(const AVFrame& f) {
  const auto s = SwsSource::of(f);
  EXPECT_TRUE(s);
  const SwsContextPtr ctx = make_sws_context(*s, f.width, f.height, f.width, f.height, AV_PIX_FMT_BGR24,
                                             SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT);
  EXPECT_TRUE(ctx);
  std::vector<std::uint8_t> out(static_cast<std::size_t>(f.width) * f.height * 3);
  std::uint8_t* dst[4] = {out.data(), nullptr, nullptr, nullptr};
  int stride[4] = {f.width * 3, 0, 0, 0};
  EXPECT_EQ(sws_scale(ctx.get(), f.data, f.linesize, 0, f.height, dst, stride), f.height);
  return out[0];
}

}  // namespace

TEST(SwsSource, YuvjIsThePlainLayoutAtFullRange) {
  auto f = grey(AV_PIX_FMT_YUVJ420P, 16, 16, 128);
  const auto s = SwsSource::of(*f);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->layout, AV_PIX_FMT_YUV420P);
  EXPECT_TRUE(s->yuv);
  EXPECT_EQ(s->range, 1);
  EXPECT_EQ(s->colorspace, SWS_CS_ITU601);
}

TEST(SwsSource, ColourMatrixAndRangeAsTheStreamDeclares) {
  auto f = grey(AV_PIX_FMT_YUV420P, 16, 16, 128);
  EXPECT_EQ(SwsSource::of(*f)->range, 0);
  EXPECT_EQ(SwsSource::of(*f)->colorspace, SWS_CS_ITU601);  // unspecified
  f->colorspace = AVCOL_SPC_BT709;
  f->color_range = AVCOL_RANGE_JPEG;
  EXPECT_EQ(SwsSource::of(*f)->colorspace, SWS_CS_ITU709);
  EXPECT_EQ(SwsSource::of(*f)->range, 1);
  f->colorspace = AVCOL_SPC_BT2020_NCL;
  EXPECT_EQ(SwsSource::of(*f)->colorspace, SWS_CS_BT2020);
  // The same frame in yuvj420p and in yuv420p at full range read alike.
  auto j = grey(AV_PIX_FMT_YUVJ420P, 16, 16, 128);
  j->colorspace = AVCOL_SPC_BT2020_NCL;
  EXPECT_EQ(SwsSource::of(*j), SwsSource::of(*f));
}

TEST(SwsSource, RgbHasNoMatrixOrRange) {
  FramePtr f(av_frame_alloc());
  f->format = AV_PIX_FMT_RGB24;
  f->width = 8;
  f->height = 8;
  const auto s = SwsSource::of(*f);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->yuv);
  EXPECT_EQ(s->colorspace, -1);
  EXPECT_EQ(s->range, -1);
}

TEST(SwsSource, UnreadableFramesAreRefusedNotPassedToSwscale) {
  FramePtr f(av_frame_alloc());
  f->format = AV_PIX_FMT_NONE;  // swscale would abort on it
  f->width = 8;
  f->height = 8;
  EXPECT_FALSE(SwsSource::of(*f));
  EXPECT_EQ(pix_fmt_text(*f), "unknown 8x8");
  f->format = AV_PIX_FMT_VAAPI;  // a hardware format
  EXPECT_FALSE(SwsSource::of(*f));
  f->format = AV_PIX_FMT_YUV420P;
  f->width = 0;
  EXPECT_FALSE(SwsSource::of(*f));
  EXPECT_EQ(pix_fmt_text(*f), "yuv420p 0x8");
}

TEST(SwsSource, ContextsConvertWithTheSourceRange) {
  // Luma 128 of grey: full range stays 128; limited range (16..235) is
  // stretched to (128 - 16) * 255 / 219 = 130.
  auto full = grey(AV_PIX_FMT_YUVJ420P, 16, 16, 128);
  auto limited = grey(AV_PIX_FMT_YUV420P, 16, 16, 128);
  EXPECT_NEAR(converted_blue(*full), 128, 1);
  EXPECT_NEAR(converted_blue(*limited), 130, 1);
  // Black: 16 in limited range is 0; in full range 16 stays 16.
  auto black = grey(AV_PIX_FMT_YUV420P, 16, 16, 16);
  auto black_full = grey(AV_PIX_FMT_YUVJ420P, 16, 16, 16);
  EXPECT_NEAR(converted_blue(*black), 0, 1);
  EXPECT_NEAR(converted_blue(*black_full), 16, 1);
}
