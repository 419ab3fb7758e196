#include "vidsift/letterbox.h"

#include <algorithm>
#include <cmath>

namespace vidsift {

namespace {
// Python's round(): nearest integer, ties to even. Ultralytics computes the
// resized size with it, so 362.5 must become 362, not 363 (std::lround).
int round_half_even(double x) {
  const double f = std::floor(x);
  const double d = x - f;
  double r = f;
  if (d > 0.5 || (d == 0.5 && std::fmod(f, 2.0) != 0.0)) r = f + 1;
  return static_cast<int>(r);
}
}  // namespace

Letterbox Letterbox::compute(int src_w, int src_h, int dst_w, int dst_h, bool centred) {
  Letterbox lb;
  lb.src_w = src_w;
  lb.src_h = src_h;
  lb.dst_w = dst_w;
  lb.dst_h = dst_h;
  lb.scale = std::min(static_cast<double>(dst_w) / src_w, static_cast<double>(dst_h) / src_h);
  if (centred) {
    lb.new_w = round_half_even(src_w * lb.scale);
    lb.new_h = round_half_even(src_h * lb.scale);
    const double dw = (dst_w - lb.new_w) / 2.0;
    const double dh = (dst_h - lb.new_h) / 2.0;
    lb.pad_x = static_cast<int>(std::lround(dw - 0.1));
    lb.pad_y = static_cast<int>(std::lround(dh - 0.1));
  } else {
    lb.new_w = static_cast<int>(src_w * lb.scale);
    lb.new_h = static_cast<int>(src_h * lb.scale);
    lb.pad_x = 0;
    lb.pad_y = 0;
  }
  lb.new_w = std::clamp(lb.new_w, 1, dst_w);
  lb.new_h = std::clamp(lb.new_h, 1, dst_h);
  lb.pad_x = std::clamp(lb.pad_x, 0, dst_w - lb.new_w);
  lb.pad_y = std::clamp(lb.pad_y, 0, dst_h - lb.new_h);
  return lb;
}

Letterbox Letterbox::with_output(int w, int h) const {
  Letterbox lb = *this;
  lb.out_w = w;
  lb.out_h = h;
  return lb;
}

Box Letterbox::to_source(const Box& net) const {
  // Scale per axis from the actual resized size, so truncation/rounding of
  // new_w/new_h does not bias the mapping.
  const double sx = static_cast<double>(new_w) / src_w;
  const double sy = static_cast<double>(new_h) / src_h;
  double x0 = (net.x - pad_x) / sx;
  double y0 = (net.y - pad_y) / sy;
  double x1 = (net.x + net.w - pad_x) / sx;
  double y1 = (net.y + net.h - pad_y) / sy;
  x0 = std::clamp(x0, 0.0, static_cast<double>(src_w));
  x1 = std::clamp(x1, 0.0, static_cast<double>(src_w));
  y0 = std::clamp(y0, 0.0, static_cast<double>(src_h));
  y1 = std::clamp(y1, 0.0, static_cast<double>(src_h));
  if (out_w > 0 && out_h > 0 && (out_w != src_w || out_h != src_h)) {
    const double ox = static_cast<double>(out_w) / src_w;
    const double oy = static_cast<double>(out_h) / src_h;
    x0 *= ox;
    x1 *= ox;
    y0 *= oy;
    y1 *= oy;
  }
  return Box{static_cast<float>(x0), static_cast<float>(y0), static_cast<float>(x1 - x0), static_cast<float>(y1 - y0)};
}

Box Letterbox::to_network(const Box& src) const {
  double sx = static_cast<double>(new_w) / src_w;
  double sy = static_cast<double>(new_h) / src_h;
  if (out_w > 0 && out_h > 0) {  // from the output size back to the source's
    sx *= static_cast<double>(src_w) / out_w;
    sy *= static_cast<double>(src_h) / out_h;
  }
  return Box{static_cast<float>(src.x * sx + pad_x), static_cast<float>(src.y * sy + pad_y),
             static_cast<float>(src.w * sx), static_cast<float>(src.h * sy)};
}

}  // namespace vidsift
