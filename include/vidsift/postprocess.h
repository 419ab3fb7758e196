// postprocess.h — raw network output of one image → final detections in
// source-pixel coordinates.
//
// Contract:
//  * decode_candidates() reads one image's output rows (already sliced out of
//    the batch) with the decoder of the family's row in the family table
//    (family.h, which documents the layouts); today:
//      YOLOX  [boxes, 5+C], raw head: cx=(tx+gx)*s, cy=(ty+gy)*s,
//             w=exp(tw)*s, h=exp(th)*s over strides 8/16/32 in row-major
//             grid order; score = objectness x class score.
//      YOLOv5 [boxes, 5+C], boxes in input pixels; score = objectness x class.
//      YOLOv8 [4+C, boxes] (transposed), boxes in input pixels, no objectness.
//    Each box keeps its best class; boxes under `conf` or of a class not in
//    `classes` (when non-empty) are dropped. Boxes are in network pixels.
//    Family::Unknown or a null view decodes to nothing.
//  * apply_nms() runs cv::dnn::NMSBoxes per class and keeps at most max_det,
//    highest confidence first.
//  * postprocess() = decode + NMS + Letterbox::to_source (clipped to the
//    frame); boxes that clip to nothing are dropped.
//  * slice_output() finds image `i` of a batch in an output Mat whose shape is
//    [B, boxes, attrs], [B, attrs, boxes], or [1, B*boxes, attrs] (batch
//    flattened into the box axis, image-major). Throws std::invalid_argument
//    when the shape cannot hold a batch of `batch` images, or when `i` is not
//    in [0, batch).
//  * unflatten_stride_output() handles YOLOX exports whose head reshapes each
//    stride's [B, C, cells] map with a hard-coded batch of 1 ([1, C, B*cells])
//    before concatenating strides: the rows of one image are scattered. It
//    gathers image `i` into `scratch` and returns a view of it. Which layout a
//    model has is measured at start-up (see inference.h, probe_batch).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "vidsift/letterbox.h"
#include "vidsift/model.h"

namespace vidsift {

struct Detection {
  int class_id = 0;
  float confidence = 0.0f;
  Box box;                     // network pixels after decode, source pixels after postprocess
  std::int64_t track_id = -1;  // set by the tracker in the store stage (--track); -1: none (NULL)
};

struct PostprocessOptions {
  float conf = 0.25f;
  float nms = 0.45f;
  std::vector<int> classes;  // sorted; empty = all classes
  int max_det = 300;
};

// One image's output as a 2-D view: rows x cols floats, row-major.
struct OutputView {
  const float* data = nullptr;
  int rows = 0;
  int cols = 0;
};

// How the images of a batch are laid out in the network output.
enum class BatchLayout { ImageMajor, StrideFlattened };

// Image `i` of a batch of `batch` in `out`; see contract.
OutputView slice_output(const cv::Mat& out, int i, int batch);

// Image `i` gathered from a stride-flattened YOLOX batch into `scratch`;
// see contract.
OutputView unflatten_stride_output(const cv::Mat& out, int i, int batch, int input_w, int input_h,
                                   std::vector<float>& scratch);

// Image `i` by the batch layout: unflatten_stride_output or slice_output.
OutputView image_output(const cv::Mat& out, int i, int batch, BatchLayout layout, int input_w, int input_h,
                        std::vector<float>& scratch);

// One image's candidates in network pixels, by the family's decoder (one
// function-pointer call per image, none per box).
std::vector<Detection> decode_candidates(const OutputView& out, Family family, int input_w, int input_h,
                                         const PostprocessOptions& opts);

// Per-class NMS, at most max_det kept, highest confidence first.
std::vector<Detection> apply_nms(std::vector<Detection> candidates, const PostprocessOptions& opts);

// decode_candidates + apply_nms, mapped to source pixels through `lb`.
std::vector<Detection> postprocess(const OutputView& out, Family family, const Letterbox& lb,
                                   const PostprocessOptions& opts);

}  // namespace vidsift
