#include "vidsift/orientation.h"

#include <cstdlib>

namespace vidsift {

Orientation Orientation::from_display_matrix(const std::int32_t* m) {
  Orientation o;
  if (!m) return o;
  // Row-major [a b u; c d v; x y w]; a, b, c, d are 16.16 fixed point. The
  // stored point (p, q) is shown at (a*p + c*q, b*p + d*q).
  const double a = m[0], b = m[1], c = m[3], d = m[4];
  if (std::abs(a) + std::abs(d) >= std::abs(b) + std::abs(c)) {
    // Displayed x follows stored x (sign a), displayed y follows stored y (sign d).
    o.flip_x = a < 0;
    o.flip_y = d < 0;
  } else {
    // Displayed x follows stored y (sign c), displayed y follows stored x (sign b).
    o.transpose = true;
    o.flip_x = b < 0;
    o.flip_y = c < 0;
  }
  return o;
}

// The 8 orientations by (clockwise rotation / 90, mirrored).
namespace {
constexpr Orientation kTable[4][2] = {
    {{false, false, false}, {false, true, false}},  // 0
    {{true, false, true}, {true, false, false}},    // 90
    {{false, true, true}, {false, false, true}},    // 180
    {{true, true, false}, {true, true, true}},      // 270
};
}  // namespace

Orientation Orientation::from_rotation(int clockwise_degrees, bool mirrored) {
  const int q = (((clockwise_degrees / 90) % 4) + 4) % 4;
  return kTable[q][mirrored ? 1 : 0];
}

int Orientation::rotation() const {
  for (int q = 0; q < 4; ++q)
    for (int m = 0; m < 2; ++m)
      if (kTable[q][m] == *this) return q * 90;
  return 0;  // unreachable: the table holds all 8
}

bool Orientation::mirrored() const {
  for (const auto& row : kTable)
    if (row[1] == *this) return true;
  return false;
}

std::size_t Orientation::stored_index(int x, int y, int upright_w, int upright_h) const {
  // Stored picture size and the stored coordinates of (x, y).
  const int sw = transpose ? upright_h : upright_w;
  const int sh = transpose ? upright_w : upright_h;
  int sx = transpose ? y : x;
  int sy = transpose ? x : y;
  if (flip_x) sx = sw - 1 - sx;
  if (flip_y) sy = sh - 1 - sy;
  return static_cast<std::size_t>(sy) * sw + sx;
}

}  // namespace vidsift
