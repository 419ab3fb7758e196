// Orientation: display matrices as FFmpeg writes them (libavutil/display.h)
// give the turn a player shows, and stored_index() finds upright pixels in
// the stored picture for all 8 orientations.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "vidsift/orientation.h"

extern "C" {
#include <libavutil/display.h>
}

using vidsift::Orientation;

TEST(Orientation, NoMatrixOrIdentityIsUpright) {
  EXPECT_TRUE(Orientation::from_display_matrix(nullptr).upright());
  std::int32_t m[9];
  av_display_rotation_set(m, 0);
  const Orientation o = Orientation::from_display_matrix(m);
  EXPECT_TRUE(o.upright());
  EXPECT_EQ(o.rotation(), 0);
  EXPECT_FALSE(o.mirrored());
}

// av_display_rotation_set describes a clockwise turn (what players apply;
// av_display_rotation_get reports the same matrix as counterclockwise -angle).
TEST(Orientation, RotationMatricesGiveTheClockwiseTurn) {
  for (int cw : {0, 90, 180, 270}) {
    std::int32_t m[9];
    av_display_rotation_set(m, cw);
    EXPECT_NEAR(av_display_rotation_get(m), cw > 180 ? 360 - cw : -cw, 1e-6) << cw;
    const Orientation o = Orientation::from_display_matrix(m);
    EXPECT_EQ(o.rotation(), cw);
    EXPECT_FALSE(o.mirrored()) << cw;
    EXPECT_EQ(o.transpose, cw % 180 != 0) << cw;
    EXPECT_EQ(o, Orientation::from_rotation(cw, false));
  }
}

// A phone held upright: the sensor stores landscape, the matrix is
// (0 1 / -1 0) and players turn it 90 degrees clockwise (ffprobe says -90).
TEST(Orientation, PhonePortraitMatrixTurnsClockwise) {
  const std::int32_t m[9] = {0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30};
  const Orientation o = Orientation::from_display_matrix(m);
  EXPECT_EQ(o.rotation(), 90);
  EXPECT_FALSE(o.mirrored());
  EXPECT_EQ(o.upright_width(1920, 1080), 1080);
  EXPECT_EQ(o.upright_height(1920, 1080), 1920);
}

TEST(Orientation, FlippedMatricesAreMirrored) {
  std::int32_t m[9];
  av_display_rotation_set(m, 0);
  av_display_matrix_flip(m, 1, 0);
  Orientation o = Orientation::from_display_matrix(m);
  EXPECT_EQ(o.rotation(), 0);
  EXPECT_TRUE(o.mirrored());
  EXPECT_TRUE(o.flip_x);
  EXPECT_FALSE(o.flip_y);

  av_display_rotation_set(m, 0);
  av_display_matrix_flip(m, 0, 1);  // upside down mirror = turned 180 and mirrored
  o = Orientation::from_display_matrix(m);
  EXPECT_EQ(o.rotation(), 180);
  EXPECT_TRUE(o.mirrored());

  const std::int32_t transpose[9] = {0, 65536, 0, 65536, 0, 0, 0, 0, 1 << 30};  // x<->y
  o = Orientation::from_display_matrix(transpose);
  EXPECT_TRUE(o.transpose);
  EXPECT_FALSE(o.flip_x);
  EXPECT_FALSE(o.flip_y);
  EXPECT_EQ(o.rotation(), 90);
  EXPECT_TRUE(o.mirrored());
}

TEST(Orientation, OddAnglesSnapToTheNearestQuarterTurn) {
  std::int32_t m[9];
  av_display_rotation_set(m, 80);  // 80 degrees clockwise
  EXPECT_EQ(Orientation::from_display_matrix(m).rotation(), 90);
  av_display_rotation_set(m, 10);
  EXPECT_EQ(Orientation::from_display_matrix(m).rotation(), 0);
}

TEST(Orientation, FromRotationRoundTripsAllEight) {
  for (int cw : {0, 90, 180, 270, -90, 450})
    for (bool mir : {false, true}) {
      const Orientation o = Orientation::from_rotation(cw, mir);
      EXPECT_EQ(o.rotation(), ((cw % 360) + 360) % 360) << cw;
      EXPECT_EQ(o.mirrored(), mir) << cw;
    }
}

namespace {
// The stored picture that shows `up` (uw x uh, values y*uw+x) when turned
// clockwise by `cw` degrees and then mirrored: turn it back by hand.
std::vector<int> stored_picture(int uw, int uh, int cw, bool mirrored, int& sw, int& sh) {
  const bool t = cw % 180 != 0;
  sw = t ? uh : uw;
  sh = t ? uw : uh;
  std::vector<int> s(static_cast<std::size_t>(sw) * sh, -1);
  for (int y = 0; y < uh; ++y)
    for (int x = 0; x < uw; ++x) {
      const int mx = mirrored ? uw - 1 - x : x;  // undo the mirror first
      int sx = 0, sy = 0;
      switch (cw) {  // then undo the clockwise turn
        case 0: sx = mx, sy = y; break;
        case 90: sx = y, sy = uw - 1 - mx; break;  // clockwise 90: stored (sx,sy) shows at (sh-1-sy, sx)
        case 180: sx = uw - 1 - mx, sy = uh - 1 - y; break;
        case 270: sx = uh - 1 - y, sy = mx; break;
      }
      s[static_cast<std::size_t>(sy) * sw + sx] = y * uw + x;
    }
  return s;
}
}  // namespace

TEST(Orientation, StoredIndexFindsEveryUprightPixel) {
  const int uw = 5, uh = 3;
  for (int cw : {0, 90, 180, 270})
    for (bool mir : {false, true}) {
      int sw = 0, sh = 0;
      const auto s = stored_picture(uw, uh, cw, mir, sw, sh);
      const Orientation o = Orientation::from_rotation(cw, mir);
      EXPECT_EQ(o.upright_width(sw, sh), uw);
      EXPECT_EQ(o.upright_height(sw, sh), uh);
      for (int y = 0; y < uh; ++y)
        for (int x = 0; x < uw; ++x)
          EXPECT_EQ(s[o.stored_index(x, y, uw, uh)], y * uw + x) << cw << " " << mir << " at " << x << "," << y;
    }
}
