// Tests of the ONNX Runtime backend (ort_backend.h) and of choosing it
// (--backend): ORT and OpenCV dnn give the same raw outputs on the same blob
// and the same detections on vtest.avi; the stock Ultralytics export, which
// OpenCV 4.6 cannot run, runs with ORT and agrees with the OpenCV-compatible
// rebuild of the same weights; the model information comes from ORT. Tests
// that need ORT are skipped in a build without it; the one that checks the
// refusal of --backend ort runs only there.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <tuple>

#include <opencv2/core.hpp>

#include "test_util.h"
#include "vidsift/inference.h"
#ifdef VIDSIFT_HAVE_ORT
#include "vidsift/ort_backend.h"
#endif

using namespace vidsift;
using namespace vidsift::test;
namespace fs = std::filesystem;

namespace {

#define REQUIRE_ORT() \
  if (!ort_built_in()) GTEST_SKIP() << "this build has no ONNX Runtime backend (run scripts/setup.sh)"

LoadedModel load(const std::string& file, Backend b) {
  ModelOptions o;
  o.model = model_path(file).string();
  o.backend = b;
  return load_model(o);
}

// A [1, 3, H, W] blob with reproducible random pixels in the model's value range.
cv::Mat random_blob(const LoadedModel& m, std::uint64_t seed) {
  const int sz[4] = {1, 3, m.input.height, m.input.width};
  cv::Mat blob(4, sz, CV_32F);
  cv::RNG rng(seed);
  rng.fill(blob, cv::RNG::UNIFORM, 0.0, 255.0 * m.input.scale);
  return blob;
}

CommandResult run_vidsift(const std::string& args) {
  return run_command(sh_quote(vidsift_binary()) + " " + args + " --progress=false");
}

struct Box {
  int cls = 0;
  double x = 0, y = 0, w = 0, h = 0;
};

double iou(const Box& a, const Box& b) {
  const double x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  const double x1 = std::min(a.x + a.w, b.x + b.w), y1 = std::min(a.y + a.h, b.y + b.h);
  const double inter = std::max(0.0, x1 - x0) * std::max(0.0, y1 - y0);
  const double uni = a.w * a.h + b.w * b.h - inter;
  return uni > 0 ? inter / uni : 0.0;
}

// Detections of a database, per frame index.
std::map<long long, std::vector<Box>> detections(const fs::path& db) {
  std::map<long long, std::vector<Box>> out;
  for (const auto& r : query_db(db, "SELECT frame_index, class_id, x, y, w, h FROM detections ORDER BY frame_index"))
    out[std::stoll(r[0])].push_back(
        Box{std::stoi(r[1]), std::stod(r[2]), std::stod(r[3]), std::stod(r[4]), std::stod(r[5])});
  return out;
}

// How well two runs agree: boxes matched one to one (same frame, same class,
// IoU >= min_iou, greedy by IoU), over the larger of the two box counts.
struct Agreement {
  std::size_t a = 0, b = 0, matched = 0;
  double ratio() const { return std::max(a, b) == 0 ? 1.0 : static_cast<double>(matched) / std::max(a, b); }
};

Agreement agreement(const fs::path& db_a, const fs::path& db_b, double min_iou) {
  auto da = detections(db_a);
  auto db = detections(db_b);
  Agreement ag;
  for (const auto& [f, boxes] : da) ag.a += boxes.size();
  for (const auto& [f, boxes] : db) ag.b += boxes.size();
  for (const auto& [f, boxes] : da) {
    auto it = db.find(f);
    if (it == db.end()) continue;
    std::vector<std::tuple<double, std::size_t, std::size_t>> pairs;
    for (std::size_t i = 0; i < boxes.size(); ++i)
      for (std::size_t j = 0; j < it->second.size(); ++j)
        if (boxes[i].cls == it->second[j].cls) {
          const double v = iou(boxes[i], it->second[j]);
          if (v >= min_iou) pairs.emplace_back(v, i, j);
        }
    std::sort(pairs.rbegin(), pairs.rend());
    std::vector<bool> used_a(boxes.size()), used_b(it->second.size());
    for (const auto& [v, i, j] : pairs) {
      if (used_a[i] || used_b[j]) continue;
      used_a[i] = used_b[j] = true;
      ++ag.matched;
    }
  }
  return ag;
}

// Runs vtest.avi --every 10 with a model and backend into `db`; returns the output.
std::string run_vtest(const fs::path& db, const std::string& model, const std::string& backend) {
  auto r = run_vidsift("run " + sh_quote(video_path("vtest.avi").string()) + " --db " + sh_quote(db.string()) +
                       " --model " + sh_quote(model_path(model).string()) + " --every 10 --backend " + backend);
  EXPECT_EQ(r.status, 0) << r.output;
  return r.output;
}

}  // namespace

TEST(OrtBackend, YoloxRawOutputMatchesOpenCvOnTheSameBlob) {
  REQUIRE_ORT();
  const LoadedModel ort = load("yolox_nano.onnx", Backend::Ort);
  const LoadedModel ocv = load("yolox_nano.onnx", Backend::OpenCv);
  ASSERT_EQ(ort.backend, Backend::Ort);
  ASSERT_EQ(ocv.backend, Backend::OpenCv);
  EXPECT_EQ(ort.output_shape, ocv.output_shape);
  EXPECT_EQ(ort.family, Family::YoloX);
  auto a = make_backend(ort, 1);
  auto b = make_backend(ocv, 1);
  EXPECT_EQ(a->name(), "onnxruntime");
  EXPECT_EQ(b->name(), "opencv-dnn");
  for (std::uint64_t seed : {1u, 2u}) {
    const cv::Mat blob = random_blob(ort, seed);
    cv::Mat out_a, out_b;
    a->forward(blob, out_a);
    b->forward(blob, out_b);
    ASSERT_EQ(out_a.dims, out_b.dims);
    for (int d = 0; d < out_a.dims; ++d) ASSERT_EQ(out_a.size[d], out_b.size[d]);
    const double scale = 1.0 + cv::norm(out_b, cv::NORM_INF);
    EXPECT_LT(cv::norm(out_a, out_b, cv::NORM_INF) / scale, 1e-3)
        << "max difference " << cv::norm(out_a, out_b, cv::NORM_INF) << " of max " << scale - 1;
  }
}

TEST(OrtBackend, OutputIsOwnedAndItsBufferReused) {
  REQUIRE_ORT();
  const LoadedModel m = load("yolox_nano.onnx", Backend::Ort);
  auto be = make_backend(m, 1);
  const cv::Mat x = random_blob(m, 7);
  const cv::Mat y = random_blob(m, 8);
  cv::Mat out_x, out_y, out;
  be->forward(x, out_x);  // first pass: the output shape is learned
  const cv::Mat copy_x = out_x.clone();
  be->forward(y, out_y);  // later passes write straight into the output
  EXPECT_EQ(cv::norm(out_x, copy_x, cv::NORM_INF), 0.0) << "the first output was overwritten";
  EXPECT_GT(cv::norm(out_x, out_y, cv::NORM_INF), 0.0);
  be->forward(x, out);
  const float* buffer = out.ptr<float>();
  be->forward(x, out);
  EXPECT_EQ(out.ptr<float>(), buffer) << "a right-sized output should be reused";
  EXPECT_EQ(cv::norm(out, copy_x, cv::NORM_INF), 0.0) << "the same input must give the same output";
}

TEST(OrtBackend, RejectsABlobThatIsNotAnImageBatch) {
  REQUIRE_ORT();
  const LoadedModel m = load("yolox_nano.onnx", Backend::Ort);
  auto be = make_backend(m, 1);
  cv::Mat wrong(416, 416, CV_32FC3, cv::Scalar::all(0));
  cv::Mat out;
  EXPECT_THROW(be->forward(wrong, out), InferenceError);
  const int sz[4] = {1, 3, 320, 416};  // the model's input is static 416x416
  cv::Mat bad_size(4, sz, CV_32F, cv::Scalar(0));
  try {
    be->forward(bad_size, out);
    FAIL() << "expected InferenceError";
  } catch (const InferenceError& e) {
    EXPECT_NE(std::string(e.what()).find("onnxruntime"), std::string::npos) << e.what();
  }
}

TEST(OrtBackend, StockUltralyticsExportLoadsWithItsMetadata) {
  REQUIRE_ORT();
  // auto picks ORT for the export OpenCV 4.6 cannot run.
  ModelOptions o;
  o.model = model_path("yolov8n_stock.onnx").string();
  const LoadedModel m = load_model(o);
  EXPECT_EQ(m.backend, Backend::Ort);
  EXPECT_EQ(m.family, Family::YoloV8);
  EXPECT_EQ(m.output_shape, (std::vector<int>{1, 84, 8400}));
  EXPECT_EQ(m.input.width, 640);
  EXPECT_EQ(m.labels_source, "metadata");
  ASSERT_EQ(m.labels.size(), 80u);
  EXPECT_EQ(m.labels[0], "person");
  EXPECT_EQ(m.labels[79], "toothbrush");
#ifdef VIDSIFT_HAVE_ORT
  OrtBackend be(m.path, 1);
  const OnnxInfo& info = be.info();
  EXPECT_EQ(info.input_name, "images");
  EXPECT_EQ(info.input_shape, (std::vector<std::int64_t>{1, 3, 640, 640}));
  ASSERT_FALSE(info.output_shapes.empty());
  EXPECT_EQ(info.output_shapes[0], (std::vector<std::int64_t>{1, 84, 8400}));
  EXPECT_EQ(info.metadata.count("names"), 1u);
  ASSERT_EQ(info.metadata.count("task"), 1u);
  EXPECT_EQ(info.metadata.at("task"), "detect");
  EXPECT_FALSE(ort_version().empty());
#endif
}

TEST(OrtBackend, NotAModelFailsWithOrtsReason) {
  REQUIRE_ORT();
  TempDir d("ort-bad");
  {
    std::ofstream f(d / "bad.onnx");
    f << "this is not onnx";
  }
  ModelOptions o;
  o.model = (d / "bad.onnx").string();
  o.backend = Backend::Ort;
  try {
    load_model(o);
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.onnx"), std::string::npos) << msg;
    EXPECT_NE(msg.find("ONNX Runtime"), std::string::npos) << msg;
  }
}

TEST(OrtBackend, CliYoloxDetectionsAgreeWithOpenCv) {
  REQUIRE_ORT();
  TempDir d("ort-cli-yolox");
  const std::string out = run_vtest(d / "ort.db", "yolox_nano.onnx", "ort");
  run_vtest(d / "ocv.db", "yolox_nano.onnx", "opencv");
  EXPECT_NE(out.find("on onnxruntime (ONNX Runtime "), std::string::npos) << out;
  EXPECT_EQ(query_int(d / "ort.db", "SELECT COUNT(*) FROM frames"), 80);
  EXPECT_EQ(query_db(d / "ort.db", "SELECT json_extract(settings, '$.backend') FROM runs")[0][0], "onnxruntime");
  EXPECT_EQ(query_db(d / "ocv.db", "SELECT json_extract(settings, '$.backend') FROM runs")[0][0], "opencv-dnn");
  EXPECT_NE(query_db(d / "ort.db", "SELECT json_extract(execution, '$.backend') FROM runs")[0][0].find("onnxruntime"),
            std::string::npos);
  const Agreement ag = agreement(d / "ort.db", d / "ocv.db", 0.9);
  EXPECT_GT(ag.a, 400u);
  EXPECT_GE(ag.ratio(), 0.99) << ag.matched << " of " << ag.a << " (ORT) / " << ag.b << " (OpenCV) boxes agree";
}

TEST(OrtBackend, CliStockYolov8AgreesWithOpenCvRebuild) {
  REQUIRE_ORT();
  TempDir d("ort-cli-v8");
  run_vtest(d / "stock.db", "yolov8n_stock.onnx", "ort");
  run_vtest(d / "ocv.db", "yolov8n.onnx", "opencv");
  const Agreement ag = agreement(d / "stock.db", d / "ocv.db", 0.9);
  EXPECT_GT(ag.a, 300u);
  EXPECT_GE(ag.ratio(), 0.99) << ag.matched << " of " << ag.a << " (ORT, stock) / " << ag.b
                              << " (OpenCV, rebuild) boxes agree";
}

TEST(OrtBackend, VersionNamesTheBackends) {
  auto r = run_command(sh_quote(vidsift_binary()) + " --version");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("opencv-dnn (OpenCV "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("onnxruntime (ONNX Runtime ") != std::string::npos, ort_built_in()) << r.output;
}

TEST(OrtBackend, UnknownBackendIsAUsageError) {
  auto r = run_vidsift("run " + sh_quote(video_path("vtest.avi").string()) + " --backend tensorrt --db /nonexistent");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("unknown backend 'tensorrt'"), std::string::npos) << r.output;
}

TEST(OrtBackend, OrtRequestedWithoutOrtIsAUsageError) {
  if (ort_built_in()) GTEST_SKIP() << "this build has ONNX Runtime";
  auto r = run_vidsift("run " + sh_quote(video_path("vtest.avi").string()) + " --backend ort --db /nonexistent");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("built without ONNX Runtime"), std::string::npos) << r.output;
}

// OpenCV >= 4.9 (Debian 13 has 4.10) runs the stock Ultralytics exports too.
// Measured on Debian 13 (OpenCV 4.10, ORT 1.21), vtest.avi --every 10,
// yolo11n_stock: 629 of 629 boxes agree with ORT at IoU >= 0.999 with the dnn
// module's layer fusion on (its default) and off alike, so fusion stays on.
TEST(OrtBackend, CliStockYolo11OpenCvAgreesWithOrt) {
  REQUIRE_ORT();
  try {
    load("yolo11n_stock.onnx", Backend::OpenCv);
  } catch (const std::exception& e) {
    GTEST_SKIP() << "OpenCV " << opencv_version() << " cannot run the stock YOLO11 export: " << e.what();
  }
  TempDir d("ort-cli-v11");
  run_vtest(d / "ocv.db", "yolo11n_stock.onnx", "opencv");
  run_vtest(d / "ort.db", "yolo11n_stock.onnx", "ort");
  const Agreement ag = agreement(d / "ocv.db", d / "ort.db", 0.9);
  EXPECT_GT(ag.a, 300u);
  EXPECT_GE(ag.ratio(), 0.99) << ag.matched << " of " << ag.a << " (OpenCV) / " << ag.b << " (ORT) boxes agree";
}
