#include "vidsift/postprocess.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <opencv2/dnn.hpp>

#include "vidsift/family.h"

namespace vidsift {

OutputView slice_output(const cv::Mat& out, int i, int batch) {
  if (out.type() != CV_32F || !out.isContinuous())
    throw std::invalid_argument("network output is not a continuous float tensor");
  if (batch < 1 || i < 0 || i >= batch)
    throw std::invalid_argument("image " + std::to_string(i) + " is outside a batch of " + std::to_string(batch));
  std::vector<int> dims(out.size.p, out.size.p + out.dims);
  if (dims.size() == 2) dims.insert(dims.begin(), 1);
  if (dims.size() != 3) throw std::invalid_argument("unexpected network output rank " + std::to_string(out.dims));
  OutputView v;
  const auto* base = out.ptr<float>();
  if (dims[0] == batch) {
    v.rows = dims[1];
    v.cols = dims[2];
    v.data = base + static_cast<std::size_t>(i) * v.rows * v.cols;
  } else if (dims[0] == 1 && batch > 1 && dims[1] % batch == 0) {
    v.rows = dims[1] / batch;
    v.cols = dims[2];
    v.data = base + static_cast<std::size_t>(i) * v.rows * v.cols;
  } else {
    throw std::invalid_argument("network output of shape [" + std::to_string(dims[0]) + "," + std::to_string(dims[1]) +
                                "," + std::to_string(dims[2]) + "] cannot hold a batch of " + std::to_string(batch));
  }
  return v;
}

OutputView unflatten_stride_output(const cv::Mat& out, int i, int batch, int input_w, int input_h,
                                   std::vector<float>& scratch) {
  if (batch <= 1) return slice_output(out, i, batch);
  if (out.type() != CV_32F || !out.isContinuous() || out.dims != 3 || out.size[0] != 1)
    throw std::invalid_argument("stride-flattened output must be a continuous [1, boxes, attrs] float tensor");
  const std::size_t attrs = static_cast<std::size_t>(out.size[2]);
  const std::size_t b = static_cast<std::size_t>(batch);
  const std::size_t cells = static_cast<std::size_t>(grid_cells(input_w, input_h));
  if (static_cast<std::size_t>(out.size[1]) != b * cells)
    throw std::invalid_argument("stride-flattened output does not hold " + std::to_string(batch) + " images");
  scratch.resize(cells * attrs);
  const float* src = out.ptr<float>();
  std::size_t row1 = 0;  // row offset in the single-image output
  std::size_t rowb = 0;  // row offset of this stride's block in the batch output
  for (int stride : {8, 16, 32}) {
    const std::size_t hw = static_cast<std::size_t>(input_w / stride) * static_cast<std::size_t>(input_h / stride);
    for (std::size_t a = 0; a < attrs; ++a) {
      for (std::size_t c = 0; c < hw; ++c) {
        // Element (i, a, c) of the [B, attrs, hw] map, read back through the
        // [1, attrs, B*hw] reshape and the final transpose to [rows, attrs].
        const std::size_t flat = static_cast<std::size_t>(i) * attrs * hw + a * hw + c;
        const std::size_t aa = flat / (b * hw);
        const std::size_t j = flat % (b * hw);
        scratch[(row1 + c) * attrs + a] = src[(rowb + j) * attrs + aa];
      }
    }
    row1 += hw;
    rowb += b * hw;
  }
  return OutputView{scratch.data(), static_cast<int>(cells), static_cast<int>(attrs)};
}

OutputView image_output(const cv::Mat& out, int i, int batch, BatchLayout layout, int input_w, int input_h,
                        std::vector<float>& scratch) {
  if (layout == BatchLayout::StrideFlattened && batch > 1)
    return unflatten_stride_output(out, i, batch, input_w, input_h, scratch);
  return slice_output(out, i, batch);
}

std::vector<Detection> decode_candidates(const OutputView& out, Family family, int input_w, int input_h,
                                         const PostprocessOptions& opts) {
  const FamilyTraits* f = find_traits(family);
  if (!out.data || !f) return {};
  return f->decode(out, input_w, input_h, opts);
}

std::vector<Detection> apply_nms(std::vector<Detection> candidates, const PostprocessOptions& opts) {
  std::map<int, std::vector<int>> by_class;
  for (int i = 0; i < static_cast<int>(candidates.size()); ++i)
    by_class[candidates[static_cast<std::size_t>(i)].class_id].push_back(i);
  std::vector<Detection> kept;
  std::vector<cv::Rect2d> rects;
  std::vector<float> scores;
  std::vector<int> keep;
  for (const auto& [cls, idx] : by_class) {
    rects.clear();
    scores.clear();
    keep.clear();
    for (int i : idx) {
      const auto& d = candidates[static_cast<std::size_t>(i)];
      rects.emplace_back(d.box.x, d.box.y, d.box.w, d.box.h);
      scores.push_back(d.confidence);
    }
    cv::dnn::NMSBoxes(rects, scores, opts.conf, opts.nms, keep);
    for (int k : keep) kept.push_back(candidates[static_cast<std::size_t>(idx[static_cast<std::size_t>(k)])]);
  }
  std::stable_sort(kept.begin(), kept.end(),
                   [](const Detection& a, const Detection& b) { return a.confidence > b.confidence; });
  if (opts.max_det > 0 && static_cast<int>(kept.size()) > opts.max_det)
    kept.resize(static_cast<std::size_t>(opts.max_det));
  return kept;
}

std::vector<Detection> postprocess(const OutputView& out, Family family, const Letterbox& lb,
                                   const PostprocessOptions& opts) {
  auto dets = apply_nms(decode_candidates(out, family, lb.dst_w, lb.dst_h, opts), opts);
  std::vector<Detection> result;
  result.reserve(dets.size());
  for (auto& d : dets) {
    d.box = lb.to_source(d.box);
    if (d.box.w <= 0.0f || d.box.h <= 0.0f) continue;
    result.push_back(d);
  }
  return result;
}

}  // namespace vidsift
