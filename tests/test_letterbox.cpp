// test_letterbox.cpp — Letterbox (letterbox.h): resized size and padding for
// the YOLOX convention (top-left, truncated size) and the Ultralytics
// convention (centred, rounded size, padding round(d/2 - 0.1)), computed
// against reference formulas on several aspect ratios; to_network/to_source
// round trips; clipping of boxes that reach outside the frame.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vidsift/letterbox.h"

namespace vidsift {
namespace {

// Python's round(): nearest, ties to even (what YOLOv5/Ultralytics use).
double py_round(double x) {
  const double f = std::floor(x);
  const double d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return std::fmod(f, 2.0) == 0.0 ? f : f + 1;
}

struct Ref {
  int new_w, new_h, pad_x, pad_y;
};

// YOLOX preproc(): r = min(h_in/h, w_in/w); resize to (int(w*r), int(h*r));
// image at the top-left.
Ref yolox_ref(int sw, int sh, int dw, int dh) {
  const double r = std::min(static_cast<double>(dh) / sh, static_cast<double>(dw) / sw);
  return Ref{static_cast<int>(sw * r), static_cast<int>(sh * r), 0, 0};
}

// Ultralytics LetterBox(center=True): new_unpad = round(w*r), round(h*r);
// dw = (W - new_w) / 2; left = round(dw - 0.1); same for top.
Ref ultralytics_ref(int sw, int sh, int dw, int dh) {
  const double r = std::min(static_cast<double>(dh) / sh, static_cast<double>(dw) / sw);
  const int nw = static_cast<int>(py_round(sw * r));
  const int nh = static_cast<int>(py_round(sh * r));
  const double pw = (dw - nw) / 2.0;
  const double ph = (dh - nh) / 2.0;
  return Ref{nw, nh, static_cast<int>(py_round(pw - 0.1)), static_cast<int>(py_round(ph - 0.1))};
}

struct Case {
  int sw, sh, dw, dh;
};

const std::vector<Case> kCases = {
    {768, 576, 416, 416},  {1920, 1080, 640, 640}, {720, 1280, 640, 640}, {500, 500, 640, 640}, {640, 640, 640, 640},
    {1280, 722, 640, 640}, {1280, 725, 640, 640},  {1000, 563, 640, 640}, {321, 241, 416, 416}, {3840, 2160, 416, 416},
    {100, 1000, 640, 640}, {1920, 1080, 416, 416}, {1280, 720, 640, 384}, {333, 777, 640, 640}};

std::string name(const Case& c) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%dx%d->%dx%d", c.sw, c.sh, c.dw, c.dh);
  return buf;
}

TEST(Letterbox, KnownValuesYoloX) {
  auto lb = Letterbox::compute(768, 576, 416, 416, false);
  EXPECT_EQ(lb.new_w, 416);
  EXPECT_EQ(lb.new_h, 312);
  EXPECT_EQ(lb.pad_x, 0);
  EXPECT_EQ(lb.pad_y, 0);
  EXPECT_DOUBLE_EQ(lb.scale, 416.0 / 768.0);
  EXPECT_EQ(lb.src_w, 768);
  EXPECT_EQ(lb.src_h, 576);
  EXPECT_EQ(lb.dst_w, 416);
  EXPECT_EQ(lb.dst_h, 416);

  lb = Letterbox::compute(720, 1280, 640, 640, false);
  EXPECT_EQ(lb.new_w, 360);
  EXPECT_EQ(lb.new_h, 640);
  EXPECT_EQ(lb.pad_x, 0);
  EXPECT_EQ(lb.pad_y, 0);

  // Truncated, not rounded: 999 x 777 -> 416 x 323.55 -> 323.
  lb = Letterbox::compute(999, 777, 416, 416, false);
  EXPECT_EQ(lb.new_w, 416);
  EXPECT_EQ(lb.new_h, 323);
}

TEST(Letterbox, KnownValuesUltralytics) {
  auto lb = Letterbox::compute(1920, 1080, 640, 640, true);
  EXPECT_EQ(lb.new_w, 640);
  EXPECT_EQ(lb.new_h, 360);
  EXPECT_EQ(lb.pad_x, 0);
  EXPECT_EQ(lb.pad_y, 140);

  lb = Letterbox::compute(720, 1280, 640, 640, true);
  EXPECT_EQ(lb.new_w, 360);
  EXPECT_EQ(lb.new_h, 640);
  EXPECT_EQ(lb.pad_x, 140);
  EXPECT_EQ(lb.pad_y, 0);

  lb = Letterbox::compute(768, 576, 416, 416, true);
  EXPECT_EQ(lb.new_w, 416);
  EXPECT_EQ(lb.new_h, 312);
  EXPECT_EQ(lb.pad_y, 52);

  // Odd total padding: 640-361 = 279 -> top round(139.4) = 139, bottom 140.
  lb = Letterbox::compute(1280, 722, 640, 640, true);
  EXPECT_EQ(lb.new_h, 361);
  EXPECT_EQ(lb.pad_y, 139);

  // Tie in the resized size: 725 * 0.5 = 362.5 rounds to even (362) in
  // Python, so the top pad is round(139 - 0.1) = 139.
  lb = Letterbox::compute(1280, 725, 640, 640, true);
  EXPECT_EQ(lb.new_h, 362);
  EXPECT_EQ(lb.pad_y, 139);

  // Square: no padding, upscaled.
  lb = Letterbox::compute(500, 500, 640, 640, true);
  EXPECT_EQ(lb.new_w, 640);
  EXPECT_EQ(lb.new_h, 640);
  EXPECT_EQ(lb.pad_x, 0);
  EXPECT_EQ(lb.pad_y, 0);
  EXPECT_DOUBLE_EQ(lb.scale, 1.28);
}

TEST(Letterbox, MatchesReferenceConventions) {
  for (const auto& c : kCases) {
    SCOPED_TRACE(name(c));
    const auto x = Letterbox::compute(c.sw, c.sh, c.dw, c.dh, false);
    const auto rx = yolox_ref(c.sw, c.sh, c.dw, c.dh);
    EXPECT_EQ(x.new_w, rx.new_w);
    EXPECT_EQ(x.new_h, rx.new_h);
    EXPECT_EQ(x.pad_x, 0);
    EXPECT_EQ(x.pad_y, 0);

    const auto u = Letterbox::compute(c.sw, c.sh, c.dw, c.dh, true);
    const auto ru = ultralytics_ref(c.sw, c.sh, c.dw, c.dh);
    EXPECT_EQ(u.new_w, ru.new_w);
    EXPECT_EQ(u.new_h, ru.new_h);
    EXPECT_EQ(u.pad_x, ru.pad_x);
    EXPECT_EQ(u.pad_y, ru.pad_y);

    // The image always fits inside the input and one side fills it.
    for (const auto* lb : {&x, &u}) {
      EXPECT_LE(lb->pad_x + lb->new_w, c.dw);
      EXPECT_LE(lb->pad_y + lb->new_h, c.dh);
      EXPECT_TRUE(lb->new_w == c.dw || lb->new_h == c.dh);
      EXPECT_DOUBLE_EQ(lb->scale, std::min(static_cast<double>(c.dw) / c.sw, static_cast<double>(c.dh) / c.sh));
    }
  }
}

void expect_box_near(const Box& a, const Box& b, float tol) {
  EXPECT_NEAR(a.x, b.x, tol);
  EXPECT_NEAR(a.y, b.y, tol);
  EXPECT_NEAR(a.w, b.w, tol);
  EXPECT_NEAR(a.h, b.h, tol);
}

TEST(Letterbox, RoundTripsBothConventions) {
  for (const auto& c : kCases) {
    for (bool centred : {false, true}) {
      SCOPED_TRACE(name(c) + (centred ? " centred" : " top-left"));
      const auto lb = Letterbox::compute(c.sw, c.sh, c.dw, c.dh, centred);
      const float W = static_cast<float>(c.sw);
      const float H = static_cast<float>(c.sh);
      const std::vector<Box> boxes = {{0, 0, W, H},
                                      {W * 0.1f, H * 0.2f, W * 0.3f, H * 0.4f},
                                      {W * 0.5f, H * 0.5f, W * 0.5f, H * 0.5f},
                                      {1, 2, 3, 4}};
      for (const auto& b : boxes) {
        const Box net = lb.to_network(b);
        expect_box_near(lb.to_source(net), b, 1e-3f * std::max(W, H));
      }
      // The whole frame maps onto the resized area exactly.
      const Box full = lb.to_network({0, 0, W, H});
      EXPECT_NEAR(full.x, lb.pad_x, 1e-3);
      EXPECT_NEAR(full.y, lb.pad_y, 1e-3);
      EXPECT_NEAR(full.w, lb.new_w, 1e-3);
      EXPECT_NEAR(full.h, lb.new_h, 1e-3);
      // And back: network box inside the resized area -> source and back.
      const Box inner{lb.pad_x + lb.new_w * 0.25f, lb.pad_y + lb.new_h * 0.25f, lb.new_w * 0.5f, lb.new_h * 0.5f};
      expect_box_near(lb.to_network(lb.to_source(inner)), inner, 1e-3f * static_cast<float>(c.dw));
    }
  }
}

TEST(Letterbox, ToSourceUsesPaddingAndScale) {
  // 1920x1080 -> 640 centred: scale 1/3, pad_y 140.
  const auto lb = Letterbox::compute(1920, 1080, 640, 640, true);
  const Box s = lb.to_source({288, 302, 64, 36});
  EXPECT_NEAR(s.x, 864, 1e-3);
  EXPECT_NEAR(s.y, 486, 1e-3);
  EXPECT_NEAR(s.w, 192, 1e-3);
  EXPECT_NEAR(s.h, 108, 1e-3);

  // YOLOX 768x576 -> 416: no padding, scale 416/768.
  const auto lx = Letterbox::compute(768, 576, 416, 416, false);
  const Box t = lx.to_source({104, 52, 208, 104});
  EXPECT_NEAR(t.x, 192, 1e-3);
  EXPECT_NEAR(t.y, 96, 1e-3);
  EXPECT_NEAR(t.w, 384, 1e-3);
  EXPECT_NEAR(t.h, 192, 1e-3);
}

TEST(Letterbox, ToSourceClipsToFrame) {
  const auto lb = Letterbox::compute(1920, 1080, 640, 640, true);  // pad_y = 140
  // Partly left of the image and partly in the top padding.
  Box s = lb.to_source({-20, 130, 80, 40});
  EXPECT_FLOAT_EQ(s.x, 0);
  EXPECT_FLOAT_EQ(s.y, 0);
  EXPECT_NEAR(s.w, 180, 1e-3);  // x1 = 60 * 3
  EXPECT_NEAR(s.h, 90, 1e-3);   // y1 = (170 - 140) * 3

  // Partly right of / below the image (bottom pad starts at 500).
  s = lb.to_source({600, 480, 100, 100});
  EXPECT_NEAR(s.x, 1800, 1e-3);
  EXPECT_NEAR(s.y, 1020, 1e-3);
  EXPECT_NEAR(s.x + s.w, 1920, 1e-3);
  EXPECT_NEAR(s.y + s.h, 1080, 1e-3);

  // Entirely in the top padding: nothing left.
  s = lb.to_source({100, 10, 50, 40});
  EXPECT_FLOAT_EQ(s.h, 0);
  EXPECT_GE(s.y, 0);

  // Larger than the whole input: the whole frame.
  s = lb.to_source({-100, -100, 1000, 1000});
  EXPECT_FLOAT_EQ(s.x, 0);
  EXPECT_FLOAT_EQ(s.y, 0);
  EXPECT_FLOAT_EQ(s.w, 1920);
  EXPECT_FLOAT_EQ(s.h, 1080);

  // YOLOX: right/bottom padding clips at the frame edge.
  const auto lx = Letterbox::compute(768, 576, 416, 416, false);  // image 416x312
  s = lx.to_source({400, 300, 50, 50});
  EXPECT_NEAR(s.x + s.w, 768, 1e-3);
  EXPECT_NEAR(s.y + s.h, 576, 1e-3);
  EXPECT_NEAR(s.x, 400 * 768.0 / 416, 1e-2);
}

TEST(Letterbox, ToNetworkDoesNotClip) {
  const auto lb = Letterbox::compute(1920, 1080, 640, 640, true);
  const Box n = lb.to_network({-300, -300, 3000, 3000});
  EXPECT_NEAR(n.x, -100, 1e-3);
  EXPECT_NEAR(n.y, 40, 1e-3);
  EXPECT_NEAR(n.w, 1000, 1e-3);
  EXPECT_NEAR(n.h, 1000, 1e-3);
}

}  // namespace
}  // namespace vidsift

using vidsift::Box;
using vidsift::Letterbox;

// A frame decoded after a mid-stream resolution change (here 640x480 in a
// video recorded as 320x240) is mapped with its own size, then into the
// recorded size: the same scene position, never outside the recorded frame.
TEST(Letterbox, WithOutputMapsIntoTheRecordedSize) {
  const Letterbox own = Letterbox::compute(640, 480, 416, 416, true);
  const Letterbox lb = own.with_output(320, 240);
  const Box net = own.to_network(Box{320, 240, 320, 240});  // the bottom-right quarter
  const Box b = lb.to_source(net);
  EXPECT_NEAR(b.x, 160, 0.01);
  EXPECT_NEAR(b.y, 120, 0.01);
  EXPECT_NEAR(b.w, 160, 0.01);
  EXPECT_NEAR(b.h, 120, 0.01);
  const Box whole = lb.to_source(Box{0, 0, 416, 416});
  EXPECT_LE(whole.x + whole.w, 320.0f);
  EXPECT_LE(whole.y + whole.h, 240.0f);
  const Box back = lb.to_network(b);
  EXPECT_NEAR(back.x, net.x, 0.01);
  EXPECT_NEAR(back.w, net.w, 0.01);
}
