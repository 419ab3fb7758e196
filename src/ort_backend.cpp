#include "vidsift/ort_backend.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include <onnxruntime_cxx_api.h>

namespace vidsift {

std::string ort_version() { return Ort::GetVersionString(); }

namespace {

const char* element_type_name(ONNXTensorElementDataType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: return "bfloat16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "float64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return "uint8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return "int8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    default: return "a non-float type";
  }
}

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string t;
  for (auto d : s) {
    if (!t.empty()) t += 'x';
    t += d < 0 ? std::string("?") : std::to_string(d);
  }
  return t.empty() ? "(unknown)" : t;
}

// ORT's load errors name its own source file and C++ function before the
// reason ("Load model from m.onnx failed:/onnxruntime_src/.../model.cc:202
// onnxruntime::Model::Model(...) Unsupported model IR version: 99, ...").
// Drops that part: the user needs the reason.
std::string without_source_location(const std::string& msg) {
  const auto at = msg.find("/onnxruntime_src/");
  if (at == std::string::npos) return msg;
  std::size_t i = msg.find(' ', at);  // end of "file.cc:line"
  if (i == std::string::npos) return msg;
  ++i;
  const auto paren = msg.find('(', i);
  if (paren != std::string::npos && msg.find(' ', i) > paren) {  // "ns::f(...)" follows
    int depth = 0;
    std::size_t j = paren;
    for (; j < msg.size(); ++j) {
      if (msg[j] == '(') ++depth;
      if (msg[j] == ')' && --depth == 0) break;
    }
    if (j >= msg.size()) return msg;
    i = j + 1;
    while (i < msg.size() && msg[i] == ' ') ++i;
  }
  return msg.substr(0, at) + " " + msg.substr(i);
}

}  // namespace

// What backends sharing one session have in common: the session (weights,
// prepacked kernels, the CPU arena) and what ORT said about the model.
// Session::Run is thread-safe, so several backends call it concurrently.
struct OrtBackend::Shared {
  Ort::Env env{ORT_LOGGING_LEVEL_FATAL, "vidsift"};  // vidsift reports errors itself
  Ort::Session session{nullptr};
  Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  std::string input_name;
  std::string output_name;
  OnnxInfo info;
};

// What one backend (one thread at a time) keeps to itself.
struct OrtBackend::Impl {
  std::shared_ptr<Shared> shared;
  Ort::RunOptions run_options;
  // Output shape of the first output, per batch size, learned on the first
  // pass of that size; afterwards ORT writes straight into `out`.
  std::map<std::int64_t, std::vector<std::int64_t>> out_shapes;
  std::set<std::int64_t> no_prealloc;  // batch sizes whose output shape varies
  // float16 models: the blob is converted into in_half, and the output is
  // computed into out_half and converted into `out`; both buffers are reused.
  bool in_fp16 = false;
  bool out_fp16 = false;
  cv::Mat in_half;
  cv::Mat out_half;
};

namespace {

bool float_or_half(ONNXTensorElementDataType t) {
  return t == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || t == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
}

// A tensor of `m`'s element type (CV_32F or CV_16F) over `m`'s memory.
Ort::Value tensor_over(const Ort::MemoryInfo& cpu, const cv::Mat& m, const std::int64_t* shape, std::size_t rank) {
  const bool half = m.depth() == CV_16F;
  return Ort::Value::CreateTensor(cpu, const_cast<uchar*>(m.data), m.total() * m.elemSize(), shape, rank,
                                  half ? ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 : ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT);
}

// Debian 13's ONNX Runtime (1.21, built with Debian's libonnx) registers the
// ONNX operator schemas again when its first environment is made, although
// libonnx registered them when it was loaded; libonnx then prints "Schema
// error: Trying to register schema with name X ..., but it is already
// registered from file ..." and an empty line on std::cerr, for each of ~560
// schemas (the same schemas: nothing is wrong). While it lives, this holds
// what is written to std::cerr; when it ends, it passes on every other line.
// Used only while a backend opens its model, which happens before any
// worker thread runs (std::cerr's buffer is swapped).
class DuplicateSchemaFilter {
 public:
  DuplicateSchemaFilter() : saved_(std::cerr.rdbuf(&held_)) {}
  ~DuplicateSchemaFilter() {
    std::cerr.rdbuf(saved_);
    std::istringstream in(held_.str());
    std::string line;
    bool after_duplicate = false;
    while (std::getline(in, line)) {
      if (line.rfind("Schema error: Trying to register schema", 0) == 0 &&
          line.find("but it is already registered") != std::string::npos) {
        after_duplicate = true;
        continue;
      }
      if (after_duplicate && line.empty()) {
        after_duplicate = false;
        continue;
      }
      after_duplicate = false;
      std::cerr << line << '\n';
    }
    std::cerr.flush();
  }
  DuplicateSchemaFilter(const DuplicateSchemaFilter&) = delete;
  DuplicateSchemaFilter& operator=(const DuplicateSchemaFilter&) = delete;

 private:
  std::stringbuf held_;
  std::streambuf* saved_;
};

}  // namespace

OrtBackend::OrtBackend(const std::filesystem::path& model, int threads) : impl_(std::make_unique<Impl>()) {
  const DuplicateSchemaFilter quiet_duplicate_schemas;
  impl_->shared = std::make_shared<Shared>();
  Shared& sh = *impl_->shared;
  const std::string fname = model.filename().string();
  const std::string what = "cannot open model " + fname + " with ONNX Runtime " + ort_version() + ": ";
  try {
    Ort::SessionOptions so;
    if (threads > 0) so.SetIntraOpNumThreads(threads);
    so.SetInterOpNumThreads(1);
    so.SetExecutionMode(ExecutionMode::ORT_SEQUENTIAL);
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    sh.session = Ort::Session(sh.env, model.c_str(), so);

    Ort::AllocatorWithDefaultOptions alloc;
    auto& s = sh.session;
    OnnxInfo& info = sh.info;
    if (s.GetInputCount() != 1)
      throw ModelError(what + "it has " + std::to_string(s.GetInputCount()) +
                       " inputs; vidsift feeds one image tensor [N, 3, H, W]");
    if (s.GetOutputCount() < 1) throw ModelError(what + "it has no output");
    info.input_name = s.GetInputNameAllocated(0, alloc).get();
    {
      const auto ti = s.GetInputTypeInfo(0);
      const auto tt = ti.GetTensorTypeAndShapeInfo();
      info.input_shape = tt.GetShape();
      if (!float_or_half(tt.GetElementType()))
        throw ModelError(what + "its input '" + info.input_name + "' is " + element_type_name(tt.GetElementType()) +
                         "; vidsift feeds float32 or float16 images");
      impl_->in_fp16 = tt.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
      if (info.input_shape.size() != 4 || (info.input_shape[1] > 0 && info.input_shape[1] != 3))
        throw ModelError(what + "its input '" + info.input_name + "' has shape " + shape_text(info.input_shape) +
                         "; vidsift feeds images as [N, 3, H, W]");
    }
    for (std::size_t i = 0; i < s.GetOutputCount(); ++i) {
      const auto ti = s.GetOutputTypeInfo(i);
      if (ti.GetONNXType() != ONNX_TYPE_TENSOR) {
        info.output_shapes.emplace_back();
        continue;
      }
      const auto tt = ti.GetTensorTypeAndShapeInfo();
      info.output_shapes.push_back(tt.GetShape());
      if (i == 0 && !float_or_half(tt.GetElementType()))
        throw ModelError(what + "its first output is " + element_type_name(tt.GetElementType()) +
                         "; vidsift reads float32 or float16 detections");
      if (i == 0) impl_->out_fp16 = tt.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    }
    sh.input_name = info.input_name;
    sh.output_name = s.GetOutputNameAllocated(0, alloc).get();

    const Ort::ModelMetadata md = s.GetModelMetadata();
    info.producer_name = md.GetProducerNameAllocated(alloc).get();
    for (const auto& key : md.GetCustomMetadataMapKeysAllocated(alloc)) {
      auto value = md.LookupCustomMetadataMapAllocated(key.get(), alloc);
      if (value) info.metadata[key.get()] = value.get();
    }
  } catch (const Ort::Exception& e) {
    throw ModelError(what + without_source_location(e.what()));
  }
}

OrtBackend::OrtBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OrtBackend::~OrtBackend() = default;

std::unique_ptr<OrtBackend> OrtBackend::share() const {
  auto impl = std::make_unique<Impl>();
  impl->shared = impl_->shared;
  impl->in_fp16 = impl_->in_fp16;
  impl->out_fp16 = impl_->out_fp16;
  return std::unique_ptr<OrtBackend>(new OrtBackend(std::move(impl)));
}

std::string OrtBackend::name() const { return kOrtBackendName; }

const OnnxInfo& OrtBackend::info() const { return impl_->shared->info; }

void OrtBackend::forward(const cv::Mat& blob, cv::Mat& out) {
  if (blob.dims != 4 || blob.type() != CV_32F || !blob.isContinuous() || blob.size[1] != 3)
    throw InferenceError("onnxruntime backend: the input must be a continuous float [N, 3, H, W] blob");
  const std::array<std::int64_t, 4> in_shape{blob.size[0], blob.size[1], blob.size[2], blob.size[3]};
  Shared& sh = *impl_->shared;
  const char* in_names[] = {sh.input_name.c_str()};
  const char* out_names[] = {sh.output_name.c_str()};
  try {
    // Zero copy: the tensor is a view of the blob (of its float16 copy for
    // an fp16 model). ORT does not write to inputs, so the const_cast in
    // tensor_over never leads to a write.
    if (impl_->in_fp16) blob.convertTo(impl_->in_half, CV_16F);
    Ort::Value input = tensor_over(sh.cpu, impl_->in_fp16 ? impl_->in_half : blob, in_shape.data(), in_shape.size());
    if (auto it = impl_->out_shapes.find(in_shape[0]); it != impl_->out_shapes.end()) {
      const std::vector<std::int64_t> os = it->second;
      std::vector<int> dims(os.begin(), os.end());
      cv::Mat& target = impl_->out_fp16 ? impl_->out_half : out;
      target.create(static_cast<int>(dims.size()), dims.data(), impl_->out_fp16 ? CV_16F : CV_32F);
      Ort::Value output = tensor_over(sh.cpu, target, os.data(), os.size());
      try {
        sh.session.Run(impl_->run_options, in_names, &input, 1, out_names, &output, 1);
        if (impl_->out_fp16) impl_->out_half.convertTo(out, CV_32F);
        return;
      } catch (const Ort::Exception&) {
        // The output shape depends on more than the batch size (e.g. a model
        // with NMS inside): stop preallocating for this size and let ORT
        // allocate below.
        impl_->out_shapes.erase(in_shape[0]);
        impl_->no_prealloc.insert(in_shape[0]);
      }
    }
    auto outs = sh.session.Run(impl_->run_options, in_names, &input, 1, out_names, 1);
    if (outs.empty() || !outs.front().IsTensor()) throw InferenceError("onnxruntime backend: the model gave no output");
    const auto tt = outs.front().GetTensorTypeAndShapeInfo();
    const std::vector<std::int64_t> os = tt.GetShape();
    if (os.empty() || std::any_of(os.begin(), os.end(), [](std::int64_t d) { return d <= 0 || d > INT32_MAX; }))
      throw InferenceError("onnxruntime backend: unusable output shape " + shape_text(os));
    std::vector<int> dims(os.begin(), os.end());
    const bool half = tt.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    const cv::Mat result(static_cast<int>(dims.size()), dims.data(), half ? CV_16F : CV_32F,
                         outs.front().GetTensorMutableRawData());
    result.convertTo(out, CV_32F);
    if (!impl_->no_prealloc.count(in_shape[0])) impl_->out_shapes[in_shape[0]] = os;
  } catch (const Ort::Exception& e) {
    throw InferenceError(std::string("onnxruntime forward pass failed: ") + e.what());
  }
}

}  // namespace vidsift
