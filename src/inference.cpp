#include "vidsift/inference.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>

#include "vidsift/family.h"
#include "vidsift/labels.h"
#include "vidsift/onnx_info.h"
#include "vidsift/sha256.h"
#ifdef VIDSIFT_HAVE_ORT
#include "vidsift/ort_backend.h"
#endif

namespace vidsift {

std::string opencv_version() { return cv::getVersionString(); }

namespace {

class OpenCvDnnBackend final : public InferenceBackend {
 public:
  explicit OpenCvDnnBackend(const std::filesystem::path& path) {
    net_ = cv::dnn::readNetFromONNX(path.string());
    net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  }
  void forward(const cv::Mat& blob, cv::Mat& out) override {
    try {
      net_.setInput(blob);
      outs_.clear();
      net_.forward(outs_);
      if (outs_.empty()) throw InferenceError("network produced no output");
      // OpenCV hands back its internal layer buffer, which the next forward
      // overwrites: copy it, since postprocessing runs after this net moves on.
      outs_.front().copyTo(out);
    } catch (const cv::Exception& e) {
      throw InferenceError(std::string("forward pass failed: ") + e.what());
    }
  }
  std::string name() const override { return kOpenCvDnnBackendName; }

 private:
  cv::dnn::Net net_;
  std::vector<cv::Mat> outs_;
};

std::string first_line(const std::string& s) {
  // OpenCV messages look like "OpenCV(4.6.0) /path/file.cpp:123: error: (-2:...) text in function 'f'"
  std::string t = s;
  while (!t.empty() && (t.front() == '\n' || t.front() == ' ')) t.erase(t.begin());
  auto nl = t.find('\n');
  if (nl != std::string::npos) t = t.substr(0, nl);
  return t;
}

// The whole message on one line: ORT puts the useful part on later lines
// ("Got invalid dimensions for input: images ...\n index: 0 Got: 4 Expected: 1").
std::string one_line(const std::string& s) {
  std::string t;
  for (char c : s) {
    const bool space = c == '\n' || c == '\r' || c == ' ' || c == '\t';
    if (space && (t.empty() || t.back() == ' ')) continue;
    t += space ? ' ' : c;
  }
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

// The display names of the families whose output layout is (or is not)
// transposed, joined with '/': "YOLOv8/YOLO11", "YOLOX/YOLOv5".
std::string display_names(bool transposed) {
  std::string s;
  for (const auto& f : families()) {
    if (f.layout.transposed != transposed) continue;
    if (!s.empty()) s += '/';
    s += f.display;
  }
  return s;
}

// What would work instead. OpenCV 4.6 cannot run the stock exports of the
// transposed-layout families (Ultralytics YOLOv8/YOLO11); a declared output
// with fewer rows than columns has that layout.
std::string hint_for_opencv(const std::string& err, const OnnxInfo* info) {
  const std::string v = opencv_version();
  if (err.find("FLOAT16") != std::string::npos)
    return "fp16 models are not supported by OpenCV " + v + "'s dnn module; export the model in fp32";
  bool transposed = false;
  if (info && !info->output_shapes.empty()) {
    const auto& s = info->output_shapes.front();
    transposed = s.size() == 3 && s[1] > 0 && s[2] > 0 && s[1] < s[2];
  }
  const std::string runs_stock = display_names(false);
  if (transposed || err.find("dfl") != std::string::npos)
    return "OpenCV " + v + " cannot run stock " + display_names(true) +
           " ONNX exports; use OpenCV >= 4.9 (export with opset=12 and a static shape), or a " + runs_stock +
           " model such as " + kDefaultModel;
  if (info && info->opset >= 13)
    return "the model uses ONNX opset " + std::to_string(info->opset) + "; OpenCV " + v +
           " imports opset 12 exports most reliably: re-export with opset=12, use OpenCV >= 4.9, or a " + runs_stock +
           " model";
  return "use OpenCV >= 4.9, or a " + runs_stock + " ONNX model such as " + kDefaultModel;
}

// The OpenCV advice, plus where ONNX Runtime stands: it runs every model
// OpenCV 4.6 refuses here.
std::string hint_for(const std::string& err, const OnnxInfo* info) {
  std::string h = hint_for_opencv(err, info);
#ifdef VIDSIFT_HAVE_ORT
  h += err.find("FLOAT16") != std::string::npos
           ? "; or use ONNX Runtime (--backend ort or auto), which runs fp16 models"
           : "; or try ONNX Runtime (--backend ort), which runs stock Ultralytics exports";
#else
  h += "; or build vidsift with ONNX Runtime (scripts/setup.sh fetches it), which runs stock Ultralytics exports";
#endif
  return h;
}

}  // namespace

std::string backend_name(Backend b) {
  switch (b) {
    case Backend::OpenCv: return kOpenCvDnnBackendName;
    case Backend::Ort: return "onnxruntime";
    case Backend::Auto: break;
  }
  return "auto";
}

Backend parse_backend(const std::string& s) {
  std::string t = s;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (t.empty() || t == "auto") return Backend::Auto;
  if (t == "ort" || t == "onnxruntime") return Backend::Ort;
  if (t == "opencv" || t == "opencv-dnn") return Backend::OpenCv;
  throw ModelError("unknown backend '" + s + "' (choose auto, ort or opencv)");
}

bool ort_built_in() {
#ifdef VIDSIFT_HAVE_ORT
  return true;
#else
  return false;
#endif
}

std::string backend_library(Backend b) {
  if (b == Backend::OpenCv) return "OpenCV " + opencv_version();
  if (b == Backend::Ort) {
#ifdef VIDSIFT_HAVE_ORT
    return "ONNX Runtime " + ort_version();
#else
    return "ONNX Runtime (not built in)";
#endif
  }
  return "auto";
}

std::string built_backends() {
  std::string s = std::string(kOpenCvDnnBackendName) + " (" + backend_library(Backend::OpenCv) + ")";
  if (ort_built_in()) s += ", " + backend_name(Backend::Ort) + " (" + backend_library(Backend::Ort) + ")";
  return s;
}

namespace {

// Why Backend::Ort cannot be used in this build, and what to do.
[[maybe_unused]] std::string ort_missing() {
  return "this vidsift was built without ONNX Runtime (run scripts/setup.sh, which fetches it, or configure CMake "
         "with -DONNXRUNTIME_ROOT=DIR); use --backend opencv or auto";
}

std::unique_ptr<InferenceBackend> open_backend(Backend b, const std::filesystem::path& path, int threads) {
  if (b == Backend::Ort) {
#ifdef VIDSIFT_HAVE_ORT
    return std::make_unique<OrtBackend>(path, threads);
#else
    (void)threads;
    throw ModelError("cannot open model " + path.filename().string() + " with ONNX Runtime: " + ort_missing());
#endif
  }
  try {
    return std::make_unique<OpenCvDnnBackend>(path);
  } catch (const cv::Exception& e) {
    throw ModelError("cannot open model " + path.filename().string() + ": " + first_line(e.what()));
  }
}

}  // namespace

std::unique_ptr<InferenceBackend> make_backend(const LoadedModel& model) {
  return open_backend(model.backend, model.path, 0);
}

std::unique_ptr<InferenceBackend> make_backend(const LoadedModel& model, int threads) {
  if (model.backend == Backend::OpenCv && threads > 0) cv::setNumThreads(threads);
  return open_backend(model.backend, model.path, threads);
}

struct BackendSource::Impl {
  LoadedModel model;
  bool share = true;
#ifdef VIDSIFT_HAVE_ORT
  std::map<int, std::unique_ptr<OrtBackend>> sessions;  // per thread count: the backend whose session is shared
#endif
};

BackendSource::BackendSource(const LoadedModel& model, bool share_sessions) : impl_(std::make_unique<Impl>()) {
  impl_->model = model;
  impl_->share = share_sessions;
}

BackendSource::~BackendSource() = default;

std::unique_ptr<InferenceBackend> BackendSource::make(int threads) {
#ifdef VIDSIFT_HAVE_ORT
  if (impl_->model.backend == Backend::Ort && impl_->share) {
    auto& first = impl_->sessions[threads];
    if (!first) first = std::make_unique<OrtBackend>(impl_->model.path, threads);
    return first->share();
  }
#endif
  return make_backend(impl_->model, threads);
}

BatchLayout probe_batch(const LoadedModel& model, int batch) {
  const std::string fname = model.path.filename().string();
  if (batch <= 1) return BatchLayout::ImageMajor;
  auto backend = make_backend(model);
  const int H = model.input.height;
  const int W = model.input.width;
  const int sz[4] = {batch, 3, H, W};
  cv::Mat blob(4, sz, CV_32F);
  cv::RNG rng(12345);
  rng.fill(blob, cv::RNG::UNIFORM, 0.0, model.input.scale * 255.0);
  cv::Mat out;
  try {
    backend->forward(blob, out);
  } catch (const std::exception& e) {
    throw ModelError("model " + fname + " cannot run a batch of " + std::to_string(batch) + " with " +
                     backend_library(model.backend) + " (" + one_line(e.what()) + ")");
  }
  const std::size_t per = static_cast<std::size_t>(3) * H * W;
  const int one[4] = {1, 3, H, W};
  std::vector<cv::Mat> singles;
  for (int i = 0; i < batch; ++i) {
    cv::Mat img(4, one, CV_32F, blob.ptr<float>() + per * static_cast<std::size_t>(i));
    cv::Mat o;
    backend->forward(img, o);
    singles.push_back(o);
  }
  std::vector<float> scratch;
  for (BatchLayout layout : {BatchLayout::ImageMajor, BatchLayout::StrideFlattened}) {
    bool all = true;
    for (int i = 0; i < batch && all; ++i) {
      try {
        const OutputView v = image_output(out, i, batch, layout, W, H, scratch);
        const cv::Mat& s = singles[static_cast<std::size_t>(i)];
        if (static_cast<std::size_t>(v.rows) * static_cast<std::size_t>(v.cols) != s.total()) {
          all = false;
          break;
        }
        const float* a = s.ptr<float>();
        for (std::size_t k = 0; k < s.total(); ++k) {
          if (std::abs(a[k] - v.data[k]) > 1e-3f * (1.0f + std::abs(a[k]))) {
            all = false;
            break;
          }
        }
      } catch (const std::exception&) {
        all = false;
      }
    }
    if (all) return layout;
  }
  throw ModelError("model " + fname + " runs a batch of " + std::to_string(batch) +
                   " but its batched output does not match single-image results (static-batch export)");
}

namespace {

// A model opened with one backend, tested with one forward pass.
struct Opened {
  OnnxInfo info;
  int w = 640;
  int h = 640;
  std::vector<int> output_shape;
};

// The input size: from the model's declared input, else 640; `override` > 0 wins.
void pick_input_size(Opened& o, int override) {
  const auto& s = o.info.input_shape;
  if (s.size() == 4 && s[2] > 0 && s[3] > 0) {
    o.h = static_cast<int>(s[2]);
    o.w = static_cast<int>(s[3]);
  }
  if (override > 0) o.w = o.h = override;
}

// Runs the test forward on a padded blank image; returns the error text, or
// "" when it ran.
std::string test_forward(InferenceBackend& backend, Opened& o) {
  cv::Mat out;
  try {
    const int sz[4] = {1, 3, o.h, o.w};
    cv::Mat blob(4, sz, CV_32F, cv::Scalar(114.0f / 255.0f));
    backend.forward(blob, out);
  } catch (const std::exception& e) {
    return e.what();
  }
  o.output_shape.assign(out.size.p, out.size.p + out.dims);
  return {};
}

Opened open_with_opencv(const std::filesystem::path& path, int input_size) {
  const std::string fname = path.filename().string();
  Opened o;
  try {
    o.info = read_onnx_info(path);
  } catch (const OnnxInfoError& e) {
    throw ModelError("cannot open model " + fname + ": not a readable ONNX file (" + e.what() + ")");
  }
  pick_input_size(o, input_size);
  std::unique_ptr<OpenCvDnnBackend> backend;
  try {
    backend = std::make_unique<OpenCvDnnBackend>(path);
  } catch (const cv::Exception& e) {
    throw ModelError("cannot open model " + fname + " with OpenCV " + opencv_version() + ": " + first_line(e.what()) +
                     "; " + hint_for(e.what(), &o.info));
  }
  if (const std::string err = test_forward(*backend, o); !err.empty())
    throw ModelError("model " + fname + " loads but its first forward pass fails with OpenCV " + opencv_version() +
                     ": " + first_line(err) + "; " + hint_for(err, &o.info));
  return o;
}

Opened open_with_ort([[maybe_unused]] const std::filesystem::path& path, [[maybe_unused]] int input_size) {
#ifdef VIDSIFT_HAVE_ORT
  OrtBackend backend(path, 1);  // throws ModelError with ORT's reason
  Opened o;
  o.info = backend.info();
  pick_input_size(o, input_size);
  if (const std::string err = test_forward(backend, o); !err.empty())
    throw ModelError("model " + path.filename().string() +
                     " loads but its first forward pass fails with ONNX Runtime " + ort_version() + " at input " +
                     std::to_string(o.w) + "x" + std::to_string(o.h) + ": " + first_line(err));
  return o;
#else
  throw ModelError("cannot open model " + path.filename().string() + " with ONNX Runtime: " + ort_missing());
#endif
}

}  // namespace

LoadedModel load_model(const ModelOptions& opts) {
  LoadedModel m;
  m.path = resolve_model_path(opts.model);
  const std::string fname = m.path.filename().string();
  try {
    m.sha256 = sha256_file(m.path);
  } catch (const std::exception& e) {
    throw ModelError(std::string("cannot open model ") + fname + ": " + e.what());
  }

  // Open with the chosen backend and test it; Auto falls back to OpenCV when
  // ORT is missing or cannot run the model.
  Opened o;
  if (opts.backend == Backend::OpenCv) {
    o = open_with_opencv(m.path, opts.input_size);
    m.backend = Backend::OpenCv;
  } else if (opts.backend == Backend::Ort) {
    o = open_with_ort(m.path, opts.input_size);
    m.backend = Backend::Ort;
  } else if (!ort_built_in()) {
    o = open_with_opencv(m.path, opts.input_size);
    m.backend = Backend::OpenCv;
  } else {
    try {
      o = open_with_ort(m.path, opts.input_size);
      m.backend = Backend::Ort;
    } catch (const ModelError& ort_error) {
      try {
        o = open_with_opencv(m.path, opts.input_size);
        m.backend = Backend::OpenCv;
        m.fallback_reason = ort_error.what();
      } catch (const ModelError& cv_error) {
        throw ModelError(std::string(cv_error.what()) + " (ONNX Runtime could not run it either: " + ort_error.what() +
                         ")");
      }
    }
  }
  const OnnxInfo& info = o.info;

  if (auto it = info.metadata.find("task"); it != info.metadata.end() && it->second != "detect")
    throw ModelError("model " + fname + " is an Ultralytics '" + it->second +
                     "' model; vidsift runs detection models only (task 'detect')");

  // Labels.
  if (!opts.labels_file.empty()) {
    m.labels = load_labels(opts.labels_file);
    m.labels_source = "file";
  } else if (auto it = info.metadata.find("names"); it != info.metadata.end()) {
    m.labels = parse_names_metadata(it->second);
    m.labels_source = "metadata";
  }
  if (m.labels.empty()) {
    m.labels = coco_labels();
    m.labels_source = "coco";
  }

  m.output_shape = o.output_shape;
  const Family detected = detect_family(m.output_shape, o.w, o.h);
  m.family = opts.family != Family::Unknown ? opts.family : detected;
  std::string shape;
  for (int d : m.output_shape) {
    if (!shape.empty()) shape += 'x';
    shape += std::to_string(d);
  }
  // An override must at least fit the output shape: a wrong family would
  // read boxes from the wrong axes and find nothing, with no error.
  if (opts.family != Family::Unknown && !family_fits(opts.family, m.output_shape, o.w, o.h)) {
    throw ModelError("--family " + family_name(opts.family) + " cannot read model " + fname + ": its output shape " +
                     shape + " at input " + std::to_string(o.w) + "x" + std::to_string(o.h) + " is not a " +
                     std::string(traits(opts.family).display) + " output" +
                     (detected != Family::Unknown ? "; it fits " + family_name(detected) + " (use --family " +
                                                        family_name(detected) + " or auto)"
                                                  : "; no known family fits it"));
  }
  if (m.family == Family::Unknown) {
    // A [N, classes] output is what image classifiers give.
    const std::string looks =
        m.output_shape.size() == 2 ? " (a [batch, classes] output: an image classifier, not a detector)" : "";
    throw ModelError("cannot tell the model family of " + fname + " from its output shape " + shape + looks +
                     " at input " + std::to_string(o.w) + "x" + std::to_string(o.h) +
                     "; vidsift runs YOLO detectors: pass --family " + family_names("|") + " if this is one");
  }
  m.input = input_spec_for(m.family, o.w, o.h);
  return m;
}

}  // namespace vidsift
