// orientation.h — how a stored picture is turned to be shown upright (the
// display matrix of a phone clip stored sideways).
//
// Contract:
//  * Orientation is one of the 8 axis-aligned turns of a picture: rotations by
//    0/90/180/270 degrees, each optionally mirrored. It is described by how an
//    upright (displayed) pixel is found in the stored picture: with
//    `transpose`, the displayed x runs along the stored y (and y along x);
//    then `flip_x`/`flip_y` count the stored x/y from the far edge.
//  * from_display_matrix(m) reads FFmpeg's 3x3 display matrix
//    (AV_PKT_DATA_DISPLAYMATRIX, libavutil/display.h: a point (p, q) of the
//    stored picture is shown at (a*p + c*q, b*p + d*q), y pointing down) and
//    gives the orientation a player shows; nullptr or an identity matrix is
//    upright. Angles that are not multiples of 90 degrees snap to the nearest
//    one (the dominant entries decide).
//  * rotation() is the clockwise turn, in degrees (0, 90, 180, 270), that shows
//    the stored picture upright; mirrored() says that it is then flipped left
//    to right. from_rotation(rotation, mirrored) is the inverse.
//  * upright_width/height(w, h) give the displayed size of a stored w x h
//    picture (swapped when transposed).
//  * stored_index(x, y, uw, uh) is the offset, in a stored picture packed
//    row by row, of the upright pixel (x, y) of an upright uw x uh picture.
// Pure value type; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vidsift {

struct Orientation {
  bool transpose = false;
  bool flip_x = false;
  bool flip_y = false;

  static Orientation from_display_matrix(const std::int32_t* matrix);
  static Orientation from_rotation(int clockwise_degrees, bool mirrored);

  bool upright() const { return !transpose && !flip_x && !flip_y; }
  int rotation() const;
  bool mirrored() const;
  int upright_width(int stored_w, int stored_h) const { return transpose ? stored_h : stored_w; }
  int upright_height(int stored_w, int stored_h) const { return transpose ? stored_w : stored_h; }
  std::size_t stored_index(int x, int y, int upright_w, int upright_h) const;

  bool operator==(const Orientation&) const = default;
};

}  // namespace vidsift
