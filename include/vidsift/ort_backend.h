// ort_backend.h — the ONNX Runtime inference backend (built only when CMake
// finds ONNX Runtime; VIDSIFT_HAVE_ORT is then defined).
//
// Contract:
//  * OrtBackend(path, threads) opens one Ort::Session on the CPU execution
//    provider: `threads` intra-op threads (0 = ORT's default, every core),
//    one inter-op thread, sequential execution, every graph optimisation.
//    Backends from this constructor are independent (one session each).
//  * share() gives one more backend over the same session: the weights are
//    loaded once and ORT's Session::Run is thread-safe, so backends sharing a
//    session run concurrently, each used by one thread at a time (each keeps
//    its own output-shape cache). The session lives until the last backend
//    sharing it is destroyed.
//  * The model's input name, shape and element type, its output names and
//    shapes, and its custom metadata (Ultralytics: names, stride, imgsz,
//    task) are read from ORT's own model API and exposed as OnnxInfo
//    (opset is 0: ORT does not expose it). The model must have one float32
//    or float16 image input of rank 4 and a float32 or float16 first output;
//    anything else throws ModelError naming the model and what was found.
//  * float16 models: the float blob is converted into a float16 buffer the
//    backend owns and reuses, and a float16 output is converted into the
//    float `out` (from a reused float16 buffer), so callers always see
//    float32 and the hot path still does not allocate.
//  * forward(blob, out) runs a continuous CV_32F [B, 3, H, W] blob. The
//    input tensor is created over the blob's own memory (no copy). Only the
//    first output is computed. `out` owns its data afterwards (same rules as
//    InferenceBackend): once the output shape for a batch size B is known,
//    later passes of that B write straight into `out` (its buffer is reused
//    when it already has that shape), so the hot path neither allocates nor
//    copies. Failures throw InferenceError with ORT's message.
//  * Errors opening the model throw ModelError: "cannot open model
//    <file> with ONNX Runtime <version>: <ORT's message>".
//  * Opening a model drops the "Schema error: ... already registered" lines
//    Debian 13's libonnx prints on std::cerr when ORT registers the ONNX
//    schemas again (other lines written meanwhile are passed on). Construct
//    backends before other threads write to std::cerr.
//  * ort_version() is the version of the runtime library actually loaded
//    (not of the headers).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "vidsift/inference.h"
#include "vidsift/onnx_info.h"

namespace vidsift {

// The name the ORT backend reports (InferenceBackend::name(), settings key).
inline constexpr const char* kOrtBackendName = "onnxruntime";

// One ORT session for one worker; see the contract.
class OrtBackend final : public InferenceBackend {
 public:
  // Opens `model` with `threads` intra-op threads. Throws ModelError.
  OrtBackend(const std::filesystem::path& model, int threads);
  ~OrtBackend() override;
  OrtBackend(const OrtBackend&) = delete;
  OrtBackend& operator=(const OrtBackend&) = delete;

  // One forward pass over a [B, 3, H, W] float blob; throws InferenceError.
  void forward(const cv::Mat& blob, cv::Mat& out) override;

  // One more backend over this backend's session; see the contract.
  std::unique_ptr<OrtBackend> share() const;

  // kOrtBackendName.
  std::string name() const override;

  // What ORT reports about the model: input name and shape (-1 = dynamic),
  // output shapes, custom metadata, producer.
  const OnnxInfo& info() const;

 private:
  struct Shared;
  struct Impl;
  explicit OrtBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "1.30.0": the ONNX Runtime library this process runs with.
std::string ort_version();

}  // namespace vidsift
