// inference.h — running the detector: the backend interface, the OpenCV dnn
// backend, and the start-up probe that loads and tests a model.
//
// Contract:
//  * InferenceBackend::forward(blob, out) runs one forward pass on a
//    [B, 3, H, W] float blob and copies the first network output into `out`,
//    which owns its data afterwards (it stays valid while the backend runs
//    again; `out` is reused when it has the right size and is not shared).
//    Throws InferenceError. One backend instance is used by one thread at a time;
//    run several instances for parallelism.
//  * load_model(opts) resolves the model path, reads the ONNX header (input
//    size, output shape, label metadata), loads the network with OpenCV dnn,
//    runs one test forward on a padded blank image and detects the family
//    from the real output shape (or takes the override). Any failure throws
//    ModelError whose message names the model, the OpenCV version present and
//    what would work (e.g. OpenCV >= 4.9, or a YOLOX/YOLOv5 model).
//  * Labels: --labels FILE, else the model's `names` metadata, else COCO.
//  * probe_batch(model, batch) measures how the model handles a batch: it
//    runs `batch` different random images at once and one at a time, and
//    returns the output layout under which every image's batched output
//    equals its single output. Throws ModelError when the model cannot run
//    that batch or no known layout matches (static-batch exports often
//    cannot); callers then fall back to batch 1.
//  * make_backend(model, threads) creates one more independent backend for
//    the loaded model; `threads` is the intra-op thread count it should use
//    (OpenCV's setting is process-wide; the pipeline sets it once).
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

struct ModelOptions {
  std::string model = kDefaultModel;  // path or bare file name
  std::string labels_file;            // optional
  Family family = Family::Unknown;    // Unknown = detect
  int input_size = 0;                 // 0 = from the model file (640 if dynamic)
};

struct LoadedModel {
  std::filesystem::path path;
  std::string sha256;
  Family family = Family::Unknown;
  InputSpec input;
  std::vector<int> output_shape;  // for a batch of one
  std::vector<std::string> labels;
  std::string labels_source;                           // "file", "metadata" or "coco"
  BatchLayout batch_layout = BatchLayout::ImageMajor;  // see probe_batch
};

LoadedModel load_model(const ModelOptions& opts);

// The name the OpenCV dnn backend reports (InferenceBackend::name()); part of
// the settings key, since a backend can change results.
inline constexpr const char* kOpenCvDnnBackendName = "opencv-dnn";

// One more OpenCV dnn backend for the loaded model, with OpenCV's current
// thread setting. Throws ModelError.
std::unique_ptr<InferenceBackend> make_backend(const LoadedModel& model);

// The same, running `threads` intra-op threads. OpenCV's thread count is
// process-wide: this sets it (cv::setNumThreads) for every OpenCV backend.
std::unique_ptr<InferenceBackend> make_backend(const LoadedModel& model, int threads);

BatchLayout probe_batch(const LoadedModel& model, int batch);

// "4.6.0" — the OpenCV this binary runs with.
std::string opencv_version();

}  // namespace vidsift
