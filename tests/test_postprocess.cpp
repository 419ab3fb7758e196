// test_postprocess.cpp — postprocess.h: YOLOX raw-head grid decode on a
// hand-made 416x416 tensor, YOLOv5 rows, YOLOv8 transposed layout, confidence
// threshold, class filter, per-class NMS, max_det, slice_output for
// [B,boxes,attrs] / [B,attrs,boxes] / [1,B*boxes,attrs] and bad shapes,
// unflatten_stride_output against a simulated hard-coded-batch export, and
// postprocess() mapping to source coordinates with clipping.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "vidsift/postprocess.h"

namespace vidsift {
namespace {

constexpr int kAttrs = 85;  // 4 box + objectness + 80 classes

// Row-major [rows, attrs] buffer for YOLOX / YOLOv5 outputs.
struct Rows {
  int rows, attrs;
  std::vector<float> v;
  Rows(int r, int a) : rows(r), attrs(a), v(static_cast<std::size_t>(r) * a, 0.0f) {}
  float* row(int r) { return v.data() + static_cast<std::size_t>(r) * attrs; }
  OutputView view() const { return OutputView{v.data(), rows, attrs}; }
  void set(int r, float x, float y, float w, float h, float obj, int cls, float cls_score) {
    float* p = row(r);
    p[0] = x;
    p[1] = y;
    p[2] = w;
    p[3] = h;
    p[4] = obj;
    p[5 + cls] = cls_score;
  }
};

PostprocessOptions opts_with(float conf = 0.25f, float nms = 0.45f, int max_det = 300) {
  PostprocessOptions o;
  o.conf = conf;
  o.nms = nms;
  o.max_det = max_det;
  return o;
}

const Detection* find_class(const std::vector<Detection>& d, int cls) {
  for (const auto& x : d)
    if (x.class_id == cls) return &x;
  return nullptr;
}

// --- YOLOX ---------------------------------------------------------------

// Row index of cell (gx, gy) of a stride in a 416x416 YOLOX output.
int yolox_row_416(int stride, int gx, int gy) {
  int r = 0;
  for (int s : {8, 16, 32}) {
    const int g = 416 / s;
    if (s == stride) return r + gy * g + gx;
    r += g * g;
  }
  return -1;
}

TEST(PostprocessYoloX, GridDecodeStride16) {
  Rows out(3549, kAttrs);
  const int r = yolox_row_416(16, 5, 7);
  ASSERT_EQ(r, 2704 + 7 * 26 + 5);
  out.set(r, 0.25f, 0.5f, std::log(3.0f), std::log(2.0f), 0.9f, 3, 0.8f);

  const auto d = decode_candidates(out.view(), Family::YoloX, 416, 416, opts_with());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].class_id, 3);
  EXPECT_NEAR(d[0].confidence, 0.72f, 1e-5);
  // cx = (0.25 + 5) * 16 = 84, cy = (0.5 + 7) * 16 = 120, w = 3*16, h = 2*16.
  EXPECT_NEAR(d[0].box.x, 84 - 24, 1e-3);
  EXPECT_NEAR(d[0].box.y, 120 - 16, 1e-3);
  EXPECT_NEAR(d[0].box.w, 48, 1e-3);
  EXPECT_NEAR(d[0].box.h, 32, 1e-3);
}

TEST(PostprocessYoloX, EveryStrideAndThreshold) {
  Rows out(3549, kAttrs);
  // stride 8, cell (51, 0): cx = (0+51)*8 = 408, cy = 4, w = h = 8.
  out.set(yolox_row_416(8, 51, 0), 0.0f, 0.5f, 0.0f, 0.0f, 1.0f, 0, 0.5f);
  // stride 32, last cell (12, 12): cx = cy = 12.5*32 = 400, w = h = exp(1)*32.
  out.set(yolox_row_416(32, 12, 12), 0.5f, 0.5f, 1.0f, 1.0f, 0.6f, 79, 0.9f);
  // Below the threshold: 0.9 * 0.2 = 0.18 < 0.25.
  out.set(yolox_row_416(16, 0, 0), 0.5f, 0.5f, 0.0f, 0.0f, 0.9f, 1, 0.2f);
  // Low objectness, high class score: 0.2 * 1.0 = 0.2.
  out.set(yolox_row_416(16, 1, 1), 0.5f, 0.5f, 0.0f, 0.0f, 0.2f, 2, 1.0f);

  const auto d = decode_candidates(out.view(), Family::YoloX, 416, 416, opts_with());
  ASSERT_EQ(d.size(), 2u);
  const Detection* a = find_class(d, 0);
  const Detection* b = find_class(d, 79);
  ASSERT_TRUE(a && b);
  EXPECT_NEAR(a->confidence, 0.5f, 1e-5);
  EXPECT_NEAR(a->box.x + a->box.w / 2, 408, 1e-3);
  EXPECT_NEAR(a->box.y + a->box.h / 2, 4, 1e-3);
  EXPECT_NEAR(a->box.w, 8, 1e-3);
  EXPECT_NEAR(b->confidence, 0.54f, 1e-5);
  EXPECT_NEAR(b->box.x + b->box.w / 2, 400, 1e-3);
  EXPECT_NEAR(b->box.y + b->box.h / 2, 400, 1e-3);
  EXPECT_NEAR(b->box.w, std::exp(1.0f) * 32, 1e-3);
  EXPECT_NEAR(b->box.h, std::exp(1.0f) * 32, 1e-3);

  // Lowering the threshold brings the two weak boxes in.
  EXPECT_EQ(decode_candidates(out.view(), Family::YoloX, 416, 416, opts_with(0.1f)).size(), 4u);
}

TEST(PostprocessYoloX, NonSquareInputGridOrder) {
  // 640x384: stride 8 grid is 80x48, so row 80 is cell (0, 1) of stride 8.
  const int cells = grid_cells(640, 384);
  Rows out(cells, 6);  // one class
  out.set(80, 0.5f, 0.5f, 0.0f, 0.0f, 1.0f, 0, 1.0f);
  const auto d = decode_candidates(out.view(), Family::YoloX, 640, 384, opts_with());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NEAR(d[0].box.x + d[0].box.w / 2, 4, 1e-3);
  EXPECT_NEAR(d[0].box.y + d[0].box.h / 2, 12, 1e-3);
}

// --- YOLOv5 --------------------------------------------------------------

TEST(PostprocessYoloV5, RowsScoreIsObjTimesClass) {
  Rows out(25200, kAttrs);
  out.set(0, 100, 200, 50, 60, 0.3f, 2, 0.9f);       // 0.27 kept
  out.set(1, 300, 300, 40, 40, 0.5f, 5, 0.4f);       // 0.20 dropped
  out.set(25199, 600, 10, 20, 10, 1.0f, 79, 0.26f);  // last row, kept
  out.set(100, 50, 50, 10, 10, 0.1f, 0, 1.0f);       // low objectness, dropped

  const auto d = decode_candidates(out.view(), Family::YoloV5, 640, 640, opts_with());
  ASSERT_EQ(d.size(), 2u);
  const Detection* a = find_class(d, 2);
  ASSERT_TRUE(a);
  EXPECT_NEAR(a->confidence, 0.27f, 1e-5);
  EXPECT_NEAR(a->box.x, 75, 1e-4);
  EXPECT_NEAR(a->box.y, 170, 1e-4);
  EXPECT_NEAR(a->box.w, 50, 1e-4);
  EXPECT_NEAR(a->box.h, 60, 1e-4);
  const Detection* b = find_class(d, 79);
  ASSERT_TRUE(b);
  EXPECT_NEAR(b->confidence, 0.26f, 1e-5);
  EXPECT_NEAR(b->box.x, 590, 1e-4);

  // Higher threshold keeps only the 0.27 box.
  EXPECT_EQ(decode_candidates(out.view(), Family::YoloV5, 640, 640, opts_with(0.265f)).size(), 1u);
}

TEST(PostprocessYoloV5, BestClassWins) {
  Rows out(3, kAttrs);
  out.set(0, 100, 100, 20, 20, 1.0f, 7, 0.6f);
  out.row(0)[5 + 2] = 0.4f;  // a weaker class on the same box
  const auto d = decode_candidates(out.view(), Family::YoloV5, 640, 640, opts_with());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].class_id, 7);
  EXPECT_NEAR(d[0].confidence, 0.6f, 1e-6);
}

// --- YOLOv8 --------------------------------------------------------------

// [4+C, boxes] transposed buffer.
struct Cols {
  int attrs, boxes;
  std::vector<float> v;
  Cols(int a, int b) : attrs(a), boxes(b), v(static_cast<std::size_t>(a) * b, 0.0f) {}
  float& at(int a, int b) { return v[static_cast<std::size_t>(a) * boxes + b]; }
  OutputView view() const { return OutputView{v.data(), attrs, boxes}; }
  void set(int b, float cx, float cy, float w, float h, int cls, float score) {
    at(0, b) = cx;
    at(1, b) = cy;
    at(2, b) = w;
    at(3, b) = h;
    at(4 + cls, b) = score;
  }
};

TEST(PostprocessYoloV8, TransposedLayoutNoObjectness) {
  Cols out(84, 8400);
  out.set(0, 320, 320, 64, 32, 0, 0.9f);
  out.set(4321, 100, 50, 30, 40, 16, 0.3f);
  out.set(8399, 10, 10, 5, 5, 79, 0.2f);  // below threshold
  const auto d = decode_candidates(out.view(), Family::YoloV8, 640, 640, opts_with());
  ASSERT_EQ(d.size(), 2u);
  const Detection* a = find_class(d, 0);
  const Detection* b = find_class(d, 16);
  ASSERT_TRUE(a && b);
  EXPECT_FLOAT_EQ(a->confidence, 0.9f);
  EXPECT_NEAR(a->box.x, 288, 1e-4);
  EXPECT_NEAR(a->box.y, 304, 1e-4);
  EXPECT_NEAR(a->box.w, 64, 1e-4);
  EXPECT_NEAR(a->box.h, 32, 1e-4);
  EXPECT_FLOAT_EQ(b->confidence, 0.3f);
  EXPECT_NEAR(b->box.x, 85, 1e-4);
  EXPECT_NEAR(b->box.y, 30, 1e-4);
  EXPECT_EQ(decode_candidates(out.view(), Family::YoloV8, 640, 640, opts_with(0.1f)).size(), 3u);
}

// --- class filter, NMS, max_det -------------------------------------------

TEST(Postprocess, ClassFilter) {
  Rows out(4, kAttrs);
  out.set(0, 100, 100, 20, 20, 1.0f, 0, 0.9f);
  out.set(1, 200, 200, 20, 20, 1.0f, 2, 0.8f);
  out.set(2, 300, 300, 20, 20, 1.0f, 5, 0.7f);
  // Best class 7 (truck) with a weaker class 2 (car): a filter on 2 must not
  // relabel the truck as a car.
  out.set(3, 400, 400, 20, 20, 1.0f, 7, 0.9f);
  out.row(3)[5 + 2] = 0.5f;

  auto o = opts_with();
  o.classes = {2, 5};
  const auto d = decode_candidates(out.view(), Family::YoloV5, 640, 640, o);
  ASSERT_EQ(d.size(), 2u);
  for (const auto& x : d) {
    EXPECT_TRUE(x.class_id == 2 || x.class_id == 5) << x.class_id;
    EXPECT_LT(x.box.x, 350);  // not the truck box
  }

  // The same filter applies to the transposed and YOLOX layouts.
  Cols v8(84, 3);
  v8.set(0, 100, 100, 20, 20, 0, 0.9f);
  v8.set(1, 200, 200, 20, 20, 2, 0.8f);
  v8.set(2, 300, 300, 20, 20, 7, 0.9f);
  v8.at(4 + 2, 2) = 0.5f;
  const auto d8 = decode_candidates(v8.view(), Family::YoloV8, 640, 640, o);
  ASSERT_EQ(d8.size(), 1u);
  EXPECT_EQ(d8[0].class_id, 2);
  EXPECT_FLOAT_EQ(d8[0].confidence, 0.8f);

  Rows x(3549, kAttrs);
  x.set(yolox_row_416(32, 1, 1), 0.5f, 0.5f, 0.0f, 0.0f, 1.0f, 0, 0.9f);
  x.set(yolox_row_416(32, 2, 2), 0.5f, 0.5f, 0.0f, 0.0f, 1.0f, 5, 0.9f);
  const auto dx = decode_candidates(x.view(), Family::YoloX, 416, 416, o);
  ASSERT_EQ(dx.size(), 1u);
  EXPECT_EQ(dx[0].class_id, 5);
}

Detection det(int cls, float conf, float x, float y, float w, float h) { return Detection{cls, conf, Box{x, y, w, h}}; }

TEST(Postprocess, NmsPerClass) {
  // Same class, IoU = 90/110 > 0.45: only the stronger survives.
  auto kept = apply_nms({det(0, 0.6f, 0, 0, 100, 100), det(0, 0.9f, 10, 0, 100, 100)}, opts_with());
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_FLOAT_EQ(kept[0].confidence, 0.9f);
  EXPECT_FLOAT_EQ(kept[0].box.x, 10);

  // Different classes, same boxes: both stay.
  kept = apply_nms({det(0, 0.6f, 0, 0, 100, 100), det(1, 0.9f, 10, 0, 100, 100)}, opts_with());
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].class_id, 1);  // highest confidence first
  EXPECT_EQ(kept[1].class_id, 0);

  // Same class, little overlap (IoU = 20/180): both stay.
  kept = apply_nms({det(3, 0.5f, 0, 0, 100, 100), det(3, 0.7f, 80, 0, 100, 100)}, opts_with());
  EXPECT_EQ(kept.size(), 2u);

  // A stricter IoU threshold suppresses that pair too.
  kept = apply_nms({det(3, 0.5f, 0, 0, 100, 100), det(3, 0.7f, 80, 0, 100, 100)}, opts_with(0.25f, 0.1f));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_FLOAT_EQ(kept[0].confidence, 0.7f);

  EXPECT_TRUE(apply_nms({}, opts_with()).empty());
}

TEST(Postprocess, MaxDetKeepsHighestFirst) {
  std::vector<Detection> c;
  for (int i = 0; i < 10; ++i) c.push_back(det(i % 3, 0.3f + 0.05f * static_cast<float>(i), 200.0f * i, 0, 50, 50));
  auto kept = apply_nms(c, opts_with(0.25f, 0.45f, 4));
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_FLOAT_EQ(kept[0].confidence, 0.3f + 0.05f * 9);
  EXPECT_FLOAT_EQ(kept[3].confidence, 0.3f + 0.05f * 6);
  for (std::size_t i = 1; i < kept.size(); ++i) EXPECT_GE(kept[i - 1].confidence, kept[i].confidence);

  kept = apply_nms(c, opts_with(0.25f, 0.45f, 0));  // 0 = no limit
  EXPECT_EQ(kept.size(), 10u);
}

// --- slice_output ----------------------------------------------------------

cv::Mat filled(const std::vector<int>& shape) {
  cv::Mat m(static_cast<int>(shape.size()), shape.data(), CV_32F);
  float* p = m.ptr<float>();
  for (std::size_t i = 0; i < m.total(); ++i) p[i] = static_cast<float>(i);
  return m;
}

TEST(SliceOutput, BatchFirst) {
  cv::Mat m = filled({3, 10, 7});
  for (int i = 0; i < 3; ++i) {
    const OutputView v = slice_output(m, i, 3);
    EXPECT_EQ(v.rows, 10);
    EXPECT_EQ(v.cols, 7);
    EXPECT_EQ(v.data, m.ptr<float>() + i * 70);
    EXPECT_FLOAT_EQ(v.data[0], static_cast<float>(i * 70));
  }
  // Transposed [B, attrs, boxes] is the same slicing.
  cv::Mat t = filled({2, 84, 20});
  const OutputView v = slice_output(t, 1, 2);
  EXPECT_EQ(v.rows, 84);
  EXPECT_EQ(v.cols, 20);
  EXPECT_EQ(v.data, t.ptr<float>() + 84 * 20);
}

TEST(SliceOutput, SingleImageAndTwoDims) {
  cv::Mat m = filled({1, 3549, 85});
  OutputView v = slice_output(m, 0, 1);
  EXPECT_EQ(v.rows, 3549);
  EXPECT_EQ(v.cols, 85);
  EXPECT_EQ(v.data, m.ptr<float>());

  cv::Mat two = filled({25, 6});
  v = slice_output(two, 0, 1);
  EXPECT_EQ(v.rows, 25);
  EXPECT_EQ(v.cols, 6);
}

TEST(SliceOutput, BatchFlattenedIntoBoxes) {
  cv::Mat m = filled({1, 4 * 50, 9});
  for (int i = 0; i < 4; ++i) {
    const OutputView v = slice_output(m, i, 4);
    EXPECT_EQ(v.rows, 50);
    EXPECT_EQ(v.cols, 9);
    EXPECT_EQ(v.data, m.ptr<float>() + i * 50 * 9);
  }
}

TEST(SliceOutput, BadShapesThrow) {
  EXPECT_THROW(slice_output(filled({3, 10, 7}), 0, 2), std::invalid_argument);
  EXPECT_THROW(slice_output(filled({1, 101, 7}), 0, 2), std::invalid_argument);
  EXPECT_THROW(slice_output(filled({2, 10, 7}), 0, 1), std::invalid_argument);
  EXPECT_THROW(slice_output(filled({1, 2, 3, 4}), 0, 1), std::invalid_argument);
  cv::Mat u8(std::vector<int>{1, 10, 7}, CV_8U, cv::Scalar(0));
  EXPECT_THROW(slice_output(u8, 0, 1), std::invalid_argument);
  cv::Mat big(20, 20, CV_32F, cv::Scalar(0));
  cv::Mat roi = big(cv::Rect(0, 0, 10, 10));  // not continuous
  EXPECT_THROW(slice_output(roi, 0, 1), std::invalid_argument);
}

TEST(SliceOutput, ImageOutsideTheBatchThrows) {
  const cv::Mat m = filled({3, 10, 7});
  EXPECT_THROW(slice_output(m, 3, 3), std::invalid_argument);
  EXPECT_THROW(slice_output(m, -1, 3), std::invalid_argument);
  EXPECT_THROW(slice_output(filled({1, 40, 7}), 4, 4), std::invalid_argument);
  EXPECT_THROW(slice_output(m, 0, 0), std::invalid_argument);
}

// --- unflatten_stride_output ---------------------------------------------

TEST(UnflattenStrideOutput, RecoversImagesFromHardCodedBatchExport) {
  // Simulate the export: per stride, the head produces [B, A, hw]; a reshape
  // with a hard-coded batch of 1 reinterprets it as [1, A, B*hw]; strides are
  // concatenated on the last axis and the result transposed to [1, B*cells, A].
  const int W = 64, H = 96, A = 6, B = 3;
  const int cells = grid_cells(W, H);
  auto value = [](int img, int a, int cell) { return static_cast<float>(img * 100000 + a * 1000 + cell); };
  cv::Mat out(std::vector<int>{1, B * cells, A}, CV_32F, cv::Scalar(-1));
  float* o = out.ptr<float>();
  int cell_base = 0;  // first cell of this stride in one image
  int col_base = 0;   // first column of this stride in the concatenated map
  for (int s : {8, 16, 32}) {
    const int hw = (W / s) * (H / s);
    std::vector<float> head(static_cast<std::size_t>(B) * A * hw);  // [B, A, hw]
    for (int i = 0; i < B; ++i)
      for (int a = 0; a < A; ++a)
        for (int c = 0; c < hw; ++c) head[(static_cast<std::size_t>(i) * A + a) * hw + c] = value(i, a, cell_base + c);
    // Same memory seen as [A, B*hw]; write into the transposed concat.
    for (int a = 0; a < A; ++a)
      for (int j = 0; j < B * hw; ++j)
        o[static_cast<std::size_t>(col_base + j) * A + a] = head[static_cast<std::size_t>(a) * B * hw + j];
    cell_base += hw;
    col_base += B * hw;
  }
  std::vector<float> scratch;
  for (int i = 0; i < B; ++i) {
    SCOPED_TRACE(i);
    const OutputView v = unflatten_stride_output(out, i, B, W, H, scratch);
    ASSERT_EQ(v.rows, cells);
    ASSERT_EQ(v.cols, A);
    int bad = 0;
    for (int c = 0; c < cells; ++c)
      for (int a = 0; a < A; ++a)
        if (v.data[static_cast<std::size_t>(c) * A + a] != value(i, a, c)) ++bad;
    EXPECT_EQ(bad, 0);
    // image_output dispatches on the layout.
    const OutputView w = image_output(out, i, B, BatchLayout::StrideFlattened, W, H, scratch);
    EXPECT_EQ(w.data[A + 1], value(i, 1, 1));
    const OutputView m = image_output(out, i, B, BatchLayout::ImageMajor, W, H, scratch);
    EXPECT_EQ(m.data, out.ptr<float>() + static_cast<std::size_t>(i) * cells * A);
  }
  EXPECT_THROW(unflatten_stride_output(out, 0, B + 1, W, H, scratch), std::invalid_argument);
}

// --- postprocess end to end ---------------------------------------------------

TEST(Postprocess, MapsToSourceAndClips) {
  const auto lb = Letterbox::compute(1920, 1080, 640, 640, true);  // scale 1/3, pad_y 140
  Rows out(25200, kAttrs);
  out.set(0, 320, 320, 64, 36, 1.0f, 0, 0.9f);  // centre of the image
  out.set(1, 20, 150, 80, 40, 1.0f, 1, 0.8f);   // partly left / in the top pad
  out.set(2, 300, 30, 40, 40, 1.0f, 2, 0.7f);   // entirely in the top pad
  out.set(3, 322, 321, 64, 36, 1.0f, 0, 0.5f);  // duplicate of row 0, suppressed
  const auto d = postprocess(out.view(), Family::YoloV5, lb, opts_with());
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].class_id, 0);
  EXPECT_FLOAT_EQ(d[0].confidence, 0.9f);
  EXPECT_NEAR(d[0].box.x, 864, 1e-2);
  EXPECT_NEAR(d[0].box.y, 486, 1e-2);
  EXPECT_NEAR(d[0].box.w, 192, 1e-2);
  EXPECT_NEAR(d[0].box.h, 108, 1e-2);
  EXPECT_EQ(d[1].class_id, 1);
  EXPECT_FLOAT_EQ(d[1].box.x, 0);
  EXPECT_FLOAT_EQ(d[1].box.y, 0);
  EXPECT_NEAR(d[1].box.w, 180, 1e-2);
  EXPECT_NEAR(d[1].box.h, 90, 1e-2);
}

TEST(Postprocess, YoloXToSource) {
  const auto lb = Letterbox::compute(768, 576, 416, 416, false);
  Rows out(3549, kAttrs);
  // stride 16 cell (5, 7): network box centre (84, 120), 48x32.
  out.set(yolox_row_416(16, 5, 7), 0.25f, 0.5f, std::log(3.0f), std::log(2.0f), 0.9f, 0, 0.8f);
  // Near the bottom-right corner of the input (in the bottom pad): clipped.
  out.set(yolox_row_416(32, 12, 9), 0.5f, 0.5f, 0.0f, 0.0f, 0.9f, 0, 0.8f);  // cy = 304, y1 = 320 > 312
  const auto d = postprocess(out.view(), Family::YoloX, lb, opts_with());
  ASSERT_EQ(d.size(), 2u);
  const double k = 768.0 / 416.0;
  const Detection& a = d[0].box.y < 300 ? d[0] : d[1];
  const Detection& b = d[0].box.y < 300 ? d[1] : d[0];
  EXPECT_NEAR(a.box.x, 60 * k, 1e-2);
  EXPECT_NEAR(a.box.y, 104 * k, 1e-2);
  EXPECT_NEAR(a.box.w, 48 * k, 1e-2);
  EXPECT_NEAR(a.box.h, 32 * k, 1e-2);
  EXPECT_NEAR(b.box.y + b.box.h, 576, 1e-2);
  EXPECT_NEAR(b.box.y, 288 * k, 1e-2);
}

}  // namespace
}  // namespace vidsift
