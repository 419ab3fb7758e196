// test_preprocess.cpp — Preprocessor (preprocess.h): hand-built solid-colour
// YUV420P frames through the YOLOX spec (BGR, 0..255, top-left pad) and the
// YOLOv5 spec (RGB, /255, centred pad): exact pad values, channel order and
// scale in the image area, Letterbox equal to Letterbox::compute, a frame size
// change mid-stream, unscaled frames of any width, and an unconvertible pixel
// format.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vidsift/letterbox.h"
#include "vidsift/model.h"
#include "vidsift/orientation.h"
#include "vidsift/preprocess.h"

namespace vidsift {
namespace {

// Solid-colour YUV420P frame (BT.601 limited range values).
FramePtr make_yuv_frame(int w, int h, int y, int u, int v) {
  FramePtr f = make_frame();
  f->format = AV_PIX_FMT_YUV420P;
  f->width = w;
  f->height = h;
  if (av_frame_get_buffer(f.get(), 0) < 0) return nullptr;
  const int ch = (h + 1) / 2;
  const int cw = (w + 1) / 2;
  for (int r = 0; r < h; ++r) std::memset(f->data[0] + static_cast<std::ptrdiff_t>(r) * f->linesize[0], y, w);
  for (int r = 0; r < ch; ++r) {
    std::memset(f->data[1] + static_cast<std::ptrdiff_t>(r) * f->linesize[1], u, cw);
    std::memset(f->data[2] + static_cast<std::ptrdiff_t>(r) * f->linesize[2], v, cw);
  }
  return f;
}

// Orange: R 255, G 128, B 0  ->  Y 146, U 53, V 193 (BT.601, limited range).
constexpr int kOrangeY = 146, kOrangeU = 53, kOrangeV = 193;
// Blue: R 0, G 0, B 255  ->  Y 41, U 240, V 110.
constexpr int kBlueY = 41, kBlueU = 240, kBlueV = 110;

struct Rgb {
  float r, g, b;
};

class Blob {
 public:
  explicit Blob(const InputSpec& s) : spec_(s), v_(static_cast<std::size_t>(3) * s.width * s.height, -1.0f) {}
  float* data() { return v_.data(); }
  float at(int c, int y, int x) const { return v_[(static_cast<std::size_t>(c) * spec_.height + y) * spec_.width + x]; }
  // Pixel in RGB order whatever the spec's channel order, in 0..255.
  Rgb rgb(int y, int x) const {
    const float k = 1.0f / spec_.scale;
    const float c0 = at(0, y, x) * k, c1 = at(1, y, x) * k, c2 = at(2, y, x) * k;
    return spec_.rgb ? Rgb{c0, c1, c2} : Rgb{c2, c1, c0};
  }
  bool in_image(const Letterbox& lb, int y, int x) const {
    return x >= lb.pad_x && x < lb.pad_x + lb.new_w && y >= lb.pad_y && y < lb.pad_y + lb.new_h;
  }

 private:
  InputSpec spec_;
  std::vector<float> v_;
};

void expect_same_letterbox(const Letterbox& a, const Letterbox& b) {
  EXPECT_EQ(a.src_w, b.src_w);
  EXPECT_EQ(a.src_h, b.src_h);
  EXPECT_EQ(a.dst_w, b.dst_w);
  EXPECT_EQ(a.dst_h, b.dst_h);
  EXPECT_EQ(a.new_w, b.new_w);
  EXPECT_EQ(a.new_h, b.new_h);
  EXPECT_EQ(a.pad_x, b.pad_x);
  EXPECT_EQ(a.pad_y, b.pad_y);
  EXPECT_DOUBLE_EQ(a.scale, b.scale);
}

// Every pad value is exactly pad*scale; every image pixel is within `tol`
// (0..255 units) of `want`. Reports counts rather than one failure per pixel.
void check_blob(const Blob& blob, const InputSpec& spec, const Letterbox& lb, Rgb want, float tol) {
  const float pad = spec.pad * spec.scale;
  long bad_pad = 0, bad_img = 0, pad_px = 0, img_px = 0;
  for (int y = 0; y < spec.height; ++y) {
    for (int x = 0; x < spec.width; ++x) {
      if (blob.in_image(lb, y, x)) {
        ++img_px;
        const Rgb p = blob.rgb(y, x);
        if (std::abs(p.r - want.r) > tol || std::abs(p.g - want.g) > tol || std::abs(p.b - want.b) > tol) {
          if (bad_img == 0)
            ADD_FAILURE() << "image pixel (" << x << "," << y << ") = " << p.r << "," << p.g << "," << p.b;
          ++bad_img;
        }
      } else {
        ++pad_px;
        for (int c = 0; c < 3; ++c) {
          if (blob.at(c, y, x) != pad) {
            if (bad_pad == 0)
              ADD_FAILURE() << "pad pixel (" << x << "," << y << ") channel " << c << " = " << blob.at(c, y, x);
            ++bad_pad;
          }
        }
      }
    }
  }
  EXPECT_EQ(bad_pad, 0);
  EXPECT_EQ(bad_img, 0);
  EXPECT_EQ(img_px, static_cast<long>(lb.new_w) * lb.new_h);
  EXPECT_EQ(pad_px, static_cast<long>(spec.width) * spec.height - img_px);
}

TEST(Preprocess, YoloXSpecBgrTopLeftPad) {
  const InputSpec spec = input_spec_for(Family::YoloX, 416, 416);
  Preprocessor pre(spec);
  auto frame = make_yuv_frame(640, 360, kOrangeY, kOrangeU, kOrangeV);
  ASSERT_TRUE(frame);
  Blob blob(spec);
  const Letterbox lb = pre.run(*frame, blob.data());
  expect_same_letterbox(lb, Letterbox::compute(640, 360, 416, 416, false));
  EXPECT_EQ(lb.new_w, 416);
  EXPECT_EQ(lb.new_h, 234);
  EXPECT_EQ(lb.pad_y, 0);

  check_blob(blob, spec, lb, Rgb{255, 128, 0}, 6);
  // BGR planes, 0..255 scale: plane 0 is blue (low), plane 2 is red (high).
  EXPECT_LT(blob.at(0, 100, 100), 6.0f);
  EXPECT_NEAR(blob.at(1, 100, 100), 128.0f, 6.0f);
  EXPECT_GT(blob.at(2, 100, 100), 249.0f);
  // Padding is below the image only: row 233 is image, row 234 is pad.
  EXPECT_GT(blob.at(2, 233, 415), 249.0f);
  EXPECT_EQ(blob.at(2, 234, 0), 114.0f);
  EXPECT_EQ(blob.at(0, 415, 415), 114.0f);
}

TEST(Preprocess, YoloV5SpecRgbCentredPad) {
  const InputSpec spec = input_spec_for(Family::YoloV5, 640, 640);
  Preprocessor pre(spec);
  auto frame = make_yuv_frame(640, 360, kOrangeY, kOrangeU, kOrangeV);
  ASSERT_TRUE(frame);
  Blob blob(spec);
  const Letterbox lb = pre.run(*frame, blob.data());
  expect_same_letterbox(lb, Letterbox::compute(640, 360, 640, 640, true));
  EXPECT_EQ(lb.new_w, 640);
  EXPECT_EQ(lb.new_h, 360);
  EXPECT_EQ(lb.pad_y, 140);

  check_blob(blob, spec, lb, Rgb{255, 128, 0}, 6);
  const float pad = 114.0f / 255.0f;
  // RGB planes scaled to 0..1: plane 0 is red.
  EXPECT_GT(blob.at(0, 320, 320), 0.975f);
  EXPECT_LE(blob.at(0, 320, 320), 1.0f);
  EXPECT_NEAR(blob.at(1, 320, 320), 128.0f / 255.0f, 0.025f);
  EXPECT_LT(blob.at(2, 320, 320), 0.025f);
  // Centred: pad above and below, the image in rows 140..499.
  EXPECT_FLOAT_EQ(blob.at(0, 139, 0), pad);
  EXPECT_GT(blob.at(0, 140, 0), 0.975f);
  EXPECT_GT(blob.at(0, 499, 639), 0.975f);
  EXPECT_FLOAT_EQ(blob.at(0, 500, 639), pad);
  EXPECT_FLOAT_EQ(blob.at(2, 0, 0), pad);
}

TEST(Preprocess, SizeChangeMidStream) {
  const InputSpec spec = input_spec_for(Family::YoloV8, 640, 640);
  Preprocessor pre(spec);
  Blob blob(spec);

  auto wide = make_yuv_frame(640, 360, kOrangeY, kOrangeU, kOrangeV);
  auto tall = make_yuv_frame(360, 640, kBlueY, kBlueU, kBlueV);
  auto odd = make_yuv_frame(333, 201, kBlueY, kBlueU, kBlueV);
  ASSERT_TRUE(wide && tall && odd);

  Letterbox lb = pre.run(*wide, blob.data());
  expect_same_letterbox(lb, Letterbox::compute(640, 360, 640, 640, true));
  check_blob(blob, spec, lb, Rgb{255, 128, 0}, 6);

  // Portrait frame of another size: pad left and right now.
  lb = pre.run(*tall, blob.data());
  expect_same_letterbox(lb, Letterbox::compute(360, 640, 640, 640, true));
  EXPECT_EQ(lb.pad_x, 140);
  EXPECT_EQ(lb.pad_y, 0);
  check_blob(blob, spec, lb, Rgb{0, 0, 255}, 6);

  // Odd sizes (upscaled, odd chroma) and back to the first size.
  lb = pre.run(*odd, blob.data());
  expect_same_letterbox(lb, Letterbox::compute(333, 201, 640, 640, true));
  check_blob(blob, spec, lb, Rgb{0, 0, 255}, 6);

  lb = pre.run(*wide, blob.data());
  check_blob(blob, spec, lb, Rgb{255, 128, 0}, 6);
}

// A frame already at the letterboxed size (scale 1) is converted without
// scaling. Every column must be written whatever the width: FFmpeg 7's SIMD
// unscaled converter leaves the last (width mod 16) columns alone, which would
// keep the previous frame's pixels there.
TEST(Preprocess, UnscaledFramesOfAnyWidthAreFullyConverted) {
  const InputSpec spec = input_spec_for(Family::YoloX, 416, 416);
  for (int w : {202, 234, 298, 333, 350, 360, 414}) {
    SCOPED_TRACE("width " + std::to_string(w));
    Preprocessor pre(spec);
    Blob blob(spec);
    auto orange = make_yuv_frame(w, 416, kOrangeY, kOrangeU, kOrangeV);
    auto blue = make_yuv_frame(w, 416, kBlueY, kBlueU, kBlueV);
    ASSERT_TRUE(orange && blue);
    Letterbox lb = pre.run(*orange, blob.data());
    ASSERT_EQ(lb.new_w, w);
    ASSERT_EQ(lb.new_h, 416);
    check_blob(blob, spec, lb, Rgb{255, 128, 0}, 6);
    lb = pre.run(*blue, blob.data());
    check_blob(blob, spec, lb, Rgb{0, 0, 255}, 6);
  }
}

TEST(Preprocess, YoloXSpecPortrait) {
  const InputSpec spec = input_spec_for(Family::YoloX, 416, 416);
  Preprocessor pre(spec);
  Blob blob(spec);
  auto tall = make_yuv_frame(360, 640, kBlueY, kBlueU, kBlueV);
  ASSERT_TRUE(tall);
  const Letterbox lb = pre.run(*tall, blob.data());
  expect_same_letterbox(lb, Letterbox::compute(360, 640, 416, 416, false));
  EXPECT_EQ(lb.new_w, 234);
  EXPECT_EQ(lb.new_h, 416);
  check_blob(blob, spec, lb, Rgb{0, 0, 255}, 6);
  EXPECT_GT(blob.at(0, 0, 0), 249.0f);  // BGR: plane 0 is blue
  EXPECT_EQ(blob.at(0, 0, 234), 114.0f);
}

// YUV of an RGB colour for matrix (kr, kb), limited or full range.
struct Yuv {
  int y, u, v;
};
Yuv yuv_of(double r, double g, double b, double kr, double kb, bool full) {
  r /= 255.0, g /= 255.0, b /= 255.0;
  const double y = kr * r + (1 - kr - kb) * g + kb * b;
  const double pb = (b - y) / (2 * (1 - kb));
  const double pr = (r - y) / (2 * (1 - kr));
  if (full)
    return {static_cast<int>(std::lround(255 * y)), static_cast<int>(std::lround(128 + 255 * pb)),
            static_cast<int>(std::lround(128 + 255 * pr))};
  return {static_cast<int>(std::lround(16 + 219 * y)), static_cast<int>(std::lround(128 + 224 * pb)),
          static_cast<int>(std::lround(128 + 224 * pr))};
}

// A mid-tone colour (no channel clips, so any matrix or range mistake shows).
constexpr double kR = 180, kG = 100, kB = 60;

Rgb centre_of(Preprocessor& pre, const InputSpec& spec, const AVFrame& f) {
  Blob blob(spec);
  pre.run(f, blob.data());
  return blob.rgb(100, 100);
}

void expect_rgb_near(const Rgb& got, double tol) {
  EXPECT_NEAR(got.r, kR, tol);
  EXPECT_NEAR(got.g, kG, tol);
  EXPECT_NEAR(got.b, kB, tol);
}

TEST(Preprocess, HonoursTheDeclaredColourMatrix) {
  const InputSpec spec = input_spec_for(Family::YoloX, 416, 416);
  Preprocessor pre(spec);
  // BT.709 (HD cameras): decoded with BT.601 coefficients, red is ~8 off.
  const Yuv c = yuv_of(kR, kG, kB, 0.2126, 0.0722, false);
  auto f = make_yuv_frame(640, 360, c.y, c.u, c.v);
  ASSERT_TRUE(f);
  f->colorspace = AVCOL_SPC_BT709;
  expect_rgb_near(centre_of(pre, spec, *f), 3.0);
  // The same Preprocessor, then a BT.601 frame (the default).
  const Yuv d = yuv_of(kR, kG, kB, 0.299, 0.114, false);
  auto g = make_yuv_frame(640, 360, d.y, d.u, d.v);
  g->colorspace = AVCOL_SPC_SMPTE170M;
  expect_rgb_near(centre_of(pre, spec, *g), 3.0);
  g->colorspace = AVCOL_SPC_UNSPECIFIED;
  expect_rgb_near(centre_of(pre, spec, *g), 3.0);
}

TEST(Preprocess, HonoursFullRangeFlagAndJpegFormats) {
  const InputSpec spec = input_spec_for(Family::YoloX, 416, 416);
  Preprocessor pre(spec);
  const Yuv c = yuv_of(kR, kG, kB, 0.299, 0.114, true);
  auto f = make_yuv_frame(640, 360, c.y, c.u, c.v);
  ASSERT_TRUE(f);
  f->color_range = AVCOL_RANGE_JPEG;  // yuv420p flagged full range
  SCOPED_TRACE("yuv420p, AVCOL_RANGE_JPEG");
  expect_rgb_near(centre_of(pre, spec, *f), 3.0);
  f->color_range = AVCOL_RANGE_UNSPECIFIED;
  f->format = AV_PIX_FMT_YUVJ420P;  // MJPEG cameras: full range by format
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("yuvj420p, frame " + std::to_string(i));
    expect_rgb_near(centre_of(pre, spec, *f), 3.0);
  }
  // And back to limited range, same Preprocessor.
  const Yuv d = yuv_of(kR, kG, kB, 0.299, 0.114, false);
  auto g = make_yuv_frame(640, 360, d.y, d.u, d.v);
  SCOPED_TRACE("yuv420p, limited range");
  expect_rgb_near(centre_of(pre, spec, *g), 3.0);
}

TEST(Preprocess, UnconvertibleFormatThrows) {
  Preprocessor pre(input_spec_for(Family::YoloX, 416, 416));
  std::vector<float> blob(3 * 416 * 416);
  // No format at all, and a hardware surface format swscale cannot read.
  for (AVPixelFormat fmt : {AV_PIX_FMT_NONE, AV_PIX_FMT_VAAPI}) {
    FramePtr f = make_frame();
    f->format = fmt;
    f->width = 64;
    f->height = 64;
    EXPECT_THROW(pre.run(*f, blob.data()), PreprocessError) << fmt;
  }
  // A frame without a size.
  FramePtr empty = make_frame();
  empty->format = AV_PIX_FMT_YUV420P;
  EXPECT_THROW(pre.run(*empty, blob.data()), PreprocessError);
  // The preprocessor is still usable afterwards.
  auto ok = make_yuv_frame(64, 64, kBlueY, kBlueU, kBlueV);
  ASSERT_TRUE(ok);
  EXPECT_NO_THROW(pre.run(*ok, blob.data()));
}

// The review's defect 9: sws_scale's result was ignored, so a frame it
// refused (here: no picture data behind a valid format and size) came back
// as a "converted" blob of stale pixels.
TEST(Preprocess, FrameSwscaleRefusesThrowsInsteadOfStalePixels) {
  Preprocessor pre(input_spec_for(Family::YoloX, 64, 64));
  std::vector<float> blob(3 * 64 * 64, -1.0f);
  FramePtr f = make_frame();
  f->format = AV_PIX_FMT_YUV420P;
  f->width = 64;
  f->height = 64;  // no buffers: data[] are null
  EXPECT_THROW(pre.run(*f, blob.data()), PreprocessError);
  auto ok = make_yuv_frame(64, 64, kBlueY, kBlueU, kBlueV);
  EXPECT_NO_THROW(pre.run(*ok, blob.data()));
}

// A GRAY8 frame with a pattern no turn maps onto itself.
FramePtr make_pattern_frame(int w, int h, const std::vector<std::uint8_t>& px) {
  FramePtr f = make_frame();
  f->format = AV_PIX_FMT_GRAY8;
  f->width = w;
  f->height = h;
  if (av_frame_get_buffer(f.get(), 0) < 0) return nullptr;
  for (int r = 0; r < h; ++r)
    std::memcpy(f->data[0] + static_cast<std::ptrdiff_t>(r) * f->linesize[0],
                px.data() + static_cast<std::size_t>(r) * w, w);
  return f;
}

// The stored picture of an upright uw x uh picture under `o`: every upright
// pixel is put where Orientation::stored_index says a player finds it (the
// mapping itself is checked against hand-turned pictures in
// test_orientation.cpp).
std::vector<std::uint8_t> store_turned(const std::vector<std::uint8_t>& up, int uw, int uh, const Orientation& o) {
  std::vector<std::uint8_t> s(up.size());
  for (int y = 0; y < uh; ++y)
    for (int x = 0; x < uw; ++x) s[o.stored_index(x, y, uw, uh)] = up[static_cast<std::size_t>(y) * uw + x];
  return s;
}

// A frame stored turned (any of the 8 orientations) gives the same network
// input as the upright frame, and a Letterbox in upright pixels. 64x48 into
// 64x64 is not resampled, so the blobs agree exactly.
TEST(Preprocess, TurnedFramesGiveTheUprightBlob) {
  const InputSpec spec = input_spec_for(Family::YoloX, 64, 64);
  const int uw = 64, uh = 48;
  std::vector<std::uint8_t> up(static_cast<std::size_t>(uw) * uh);
  for (int y = 0; y < uh; ++y)
    for (int x = 0; x < uw; ++x) up[static_cast<std::size_t>(y) * uw + x] = static_cast<std::uint8_t>(16 + 3 * x + y);
  auto upright = make_pattern_frame(uw, uh, up);
  ASSERT_TRUE(upright);
  Blob want(spec);
  Preprocessor plain(spec);
  const Letterbox want_lb = plain.run(*upright, want.data());
  for (int cw : {0, 90, 180, 270})
    for (bool mirrored : {false, true}) {
      const Orientation o = Orientation::from_rotation(cw, mirrored);
      const int sw = o.transpose ? uh : uw, sh = o.transpose ? uw : uh;
      auto stored = make_pattern_frame(sw, sh, store_turned(up, uw, uh, o));
      ASSERT_TRUE(stored);
      Preprocessor pre(spec, o, uw, uh);
      Blob got(spec);
      const Letterbox lb = pre.run(*stored, got.data());
      expect_same_letterbox(lb, want_lb);
      long differ = 0;
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < spec.height; ++y)
          for (int x = 0; x < spec.width; ++x)
            if (got.at(c, y, x) != want.at(c, y, x)) ++differ;
      EXPECT_EQ(differ, 0) << cw << " degrees" << (mirrored ? ", mirrored" : "");
    }
}

// With a reference size (the recorded size of the video), a frame of another
// size is letterboxed with its own size and its boxes map into the reference.
TEST(Preprocess, FrameOfAnotherSizeMapsIntoTheReferenceSize) {
  const InputSpec spec = input_spec_for(Family::YoloX, 416, 416);
  Preprocessor pre(spec, {}, 320, 240);
  Blob blob(spec);
  auto big = make_yuv_frame(640, 480, kOrangeY, kOrangeU, kOrangeV);
  ASSERT_TRUE(big);
  const Letterbox lb = pre.run(*big, blob.data());
  EXPECT_EQ(lb.src_w, 640);
  EXPECT_EQ(lb.out_w, 320);
  EXPECT_EQ(lb.out_h, 240);
  const Box all = lb.to_source(Box{0, 0, 416, 416});
  EXPECT_NEAR(all.w, 320, 0.01);
  EXPECT_NEAR(all.h, 240, 0.01);
  auto same = make_yuv_frame(320, 240, kOrangeY, kOrangeU, kOrangeV);
  ASSERT_TRUE(same);
  EXPECT_EQ(pre.run(*same, blob.data()).out_w, 0);  // the recorded size: no extra mapping
}

}  // namespace
}  // namespace vidsift
