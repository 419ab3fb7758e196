// inference.h — running the detector: the backend interface, the backends
// (OpenCV dnn always; ONNX Runtime when built in, see ort_backend.h), and the
// start-up probe that loads and tests a model.
//
// Contract:
//  * InferenceBackend::forward(blob, out) runs one forward pass on a
//    [B, 3, H, W] float blob and copies the first network output into `out`,
//    which owns its data afterwards (it stays valid while the backend runs
//    again; `out` is reused when it has the right size and is not shared).
//    Throws InferenceError. One backend instance is used by one thread at a time;
//    run several instances for parallelism.
//  * Backends: Backend::OpenCv (cv::dnn, "opencv-dnn") and Backend::Ort
//    (ONNX Runtime, "onnxruntime", only when ort_built_in()). Backend::Auto
//    is a request, never a result: ORT when it is built in and loads and runs
//    the model, else OpenCV dnn.
//  * load_model(opts) resolves the model path, opens the model with the
//    chosen backend and reads what the model says about itself (input size,
//    output shapes, label and Ultralytics metadata: with OpenCV from the ONNX
//    file via onnx_info.h, with ORT from ORT's model API), runs one test
//    forward on a padded blank image with that backend and detects the
//    family from the real output shape (or takes the override, refused with
//    ModelError naming the shape and the family that fits when the override
//    cannot read that shape, see family_fits).
//    LoadedModel::backend says which backend did it; make_backend and
//    probe_batch use that same backend. Any failure throws ModelError whose
//    message names the model, the backend and version present and what would
//    work (e.g. ONNX Runtime, OpenCV >= 4.9, or a YOLOX/YOLOv5 model). With
//    Auto, when both backends fail, the message gives both reasons; when
//    only ORT fails, LoadedModel::fallback_reason keeps its reason. A model
//    whose Ultralytics `task` metadata is not `detect` is refused.
//    Asking for Backend::Ort in a build without it throws ModelError.
//  * Labels: --labels FILE, else the model's `names` metadata, else COCO.
//  * probe_batch(model, batch) measures how the model handles a batch: it
//    runs `batch` different random images at once and one at a time, and
//    returns the output layout under which every image's batched output
//    equals its single output. Throws ModelError when the model cannot run
//    that batch or no known layout matches (static-batch exports often
//    cannot); callers then fall back to batch 1.
//  * make_backend(model, threads) creates one more independent backend of
//    model.backend for the loaded model; `threads` is the intra-op thread
//    count it should use (OpenCV's setting is process-wide; the pipeline
//    sets it once; each ORT session has its own).
//  * BackendSource makes the backends of one run, one per make() call.
//    OpenCV: one more independent net each time (cv::dnn::Net is not
//    thread-safe). ORT with sharing on (the default): every backend asking
//    for the same thread count runs on one Ort::Session (OrtBackend::share:
//    weights loaded once, concurrent Run calls); with sharing off, one
//    session per backend. The backends outlive the source.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "vidsift/model.h"
#include "vidsift/postprocess.h"

namespace vidsift {

class InferenceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  virtual void forward(const cv::Mat& blob, cv::Mat& out) = 0;
  virtual std::string name() const = 0;
};

// Which inference backend runs the model.
enum class Backend {
  Auto,    // a request only: ORT when built in and it runs the model, else OpenCV
  OpenCv,  // OpenCV's dnn module, CPU
  Ort,     // ONNX Runtime, CPU execution provider
};

struct ModelOptions {
  std::string model = kDefaultModel;  // path or bare file name
  Backend backend = Backend::Auto;    // see the contract
  std::string labels_file;            // optional
  Family family = Family::Unknown;    // Unknown = detect
  int input_size = 0;                 // 0 = from the model file (640 if dynamic)
};

struct LoadedModel {
  Backend backend = Backend::OpenCv;  // the backend that loaded and tested it (never Auto)
  std::filesystem::path path;
  std::string sha256;
  Family family = Family::Unknown;
  InputSpec input;
  std::vector<int> output_shape;  // for a batch of one
  std::vector<std::string> labels;
  std::string labels_source;                           // "file", "metadata" or "coco"
  BatchLayout batch_layout = BatchLayout::ImageMajor;  // see probe_batch
  // Backend::Auto only: why ONNX Runtime was not used when it is built in
  // but could not load or run the model (OpenCV dnn ran it); else empty.
  std::string fallback_reason;
};

LoadedModel load_model(const ModelOptions& opts);

// The name the OpenCV dnn backend reports (InferenceBackend::name()); part of
// the settings key, since a backend can change results.
inline constexpr const char* kOpenCvDnnBackendName = "opencv-dnn";

// The name a backend reports: "opencv-dnn", "onnxruntime" (kOrtBackendName),
// "auto" for Backend::Auto. Part of the settings key.
std::string backend_name(Backend b);

// "auto", "ort" or "onnxruntime", "opencv" or "opencv-dnn" (any case) -> the
// backend. Throws ModelError listing the choices for anything else.
Backend parse_backend(const std::string& s);

// The library behind a backend and its version: "OpenCV 4.6.0",
// "ONNX Runtime 1.30.0" ("ONNX Runtime (not built in)" without it).
std::string backend_library(Backend b);

// True when this build has the ONNX Runtime backend.
bool ort_built_in();

// The backends this build has, for --version:
// "opencv-dnn (OpenCV 4.6.0), onnxruntime (ONNX Runtime 1.30.0)".
std::string built_backends();

// One more backend of model.backend for the loaded model; OpenCV keeps its
// current thread setting, ORT uses its default (every core). Throws ModelError.
std::unique_ptr<InferenceBackend> make_backend(const LoadedModel& model);

// The same, running `threads` intra-op threads. OpenCV's thread count is
// process-wide: this sets it (cv::setNumThreads) for every OpenCV backend;
// an ORT session gets its own `threads`.
std::unique_ptr<InferenceBackend> make_backend(const LoadedModel& model, int threads);

// The backends of one run; see the contract.
class BackendSource {
 public:
  explicit BackendSource(const LoadedModel& model, bool share_sessions = true);
  ~BackendSource();
  BackendSource(const BackendSource&) = delete;
  BackendSource& operator=(const BackendSource&) = delete;

  // One more backend running `threads` intra-op threads. Throws ModelError.
  std::unique_ptr<InferenceBackend> make(int threads);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The output layout of a batch of `batch` with model.backend; see contract.
BatchLayout probe_batch(const LoadedModel& model, int batch);

// "4.6.0" — the OpenCV this binary runs with.
std::string opencv_version();

}  // namespace vidsift
