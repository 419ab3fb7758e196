// letterbox.h — geometry of fitting a source frame into the network input.
//
// Contract:
//  * Letterbox::compute(src, dst, centred) scales the source uniformly by
//    r = min(dst_w/src_w, dst_h/src_h) and pads the rest with the model's pad
//    value. centred=false is YOLOX's convention (image at the top-left,
//    resized size truncated); centred=true is Ultralytics' (resized size
//    rounded, padding split left/right and top/bottom with round(d/2 - 0.1)).
//  * to_source(box) maps a box given in network-input pixels (x, y, w, h)
//    back to source pixels and clips it to the frame [0,src_w]x[0,src_h].
//    to_network(box) is the inverse mapping (no clipping); round-trips agree to
//    within floating-point error for boxes inside the frame.
//  * with_output(w, h): boxes from to_source() are then given in a w x h
//    frame instead, scaled from the source size (a frame decoded after a
//    mid-stream resolution change is mapped with its own size, then into the
//    video's recorded size). to_network() undoes it.
// Pure value type; thread-safe.
#pragma once

namespace vidsift {

struct Box {
  float x = 0, y = 0, w = 0, h = 0;
};

struct Letterbox {
  int src_w = 0, src_h = 0;
  int dst_w = 0, dst_h = 0;
  int new_w = 0, new_h = 0;  // size of the resized image inside the input
  int pad_x = 0, pad_y = 0;  // top-left offset of the resized image
  double scale = 1.0;        // r
  int out_w = 0, out_h = 0;  // size to_source() maps to (0: src_w x src_h)

  static Letterbox compute(int src_w, int src_h, int dst_w, int dst_h, bool centred);
  Letterbox with_output(int w, int h) const;

  Box to_source(const Box& net) const;
  Box to_network(const Box& src) const;
};

}  // namespace vidsift
