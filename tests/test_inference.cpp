// Tests of the inference unit with the OpenCV dnn backend: loading and probing
// the real models, family detection on real outputs, labels sources, clear
// start-up errors, and the batch-layout probe (including YOLOX's
// stride-flattened batch). The ONNX Runtime backend: test_ort_backend.cpp.
#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"
#include "vidsift/inference.h"

using namespace vidsift;
using namespace vidsift::test;

namespace {
LoadedModel load(const std::string& file, const std::string& labels = {}) {
  ModelOptions o;
  o.model = model_path(file).string();
  o.labels_file = labels;
  o.backend = Backend::OpenCv;
  return load_model(o);
}
}  // namespace

TEST(Inference, LoadsYoloxAndDetectsFamilyAndInput) {
  auto m = load("yolox_nano.onnx");
  EXPECT_EQ(m.family, Family::YoloX);
  EXPECT_EQ(m.input.width, 416);
  EXPECT_EQ(m.input.height, 416);
  EXPECT_FALSE(m.input.rgb);
  EXPECT_FALSE(m.input.centred);
  EXPECT_EQ(m.output_shape, (std::vector<int>{1, 3549, 85}));
  EXPECT_EQ(m.labels_source, "coco");
  EXPECT_EQ(m.labels.size(), 80u);
  EXPECT_EQ(m.sha256, "e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd");
}

TEST(Inference, LoadsUltralyticsModelsWithMetadataLabels) {
  auto v5 = load("yolov5n.onnx");
  EXPECT_EQ(v5.family, Family::YoloV5);
  EXPECT_TRUE(v5.input.rgb);
  EXPECT_TRUE(v5.input.centred);
  EXPECT_EQ(v5.input.width, 640);
  auto v8 = load("yolov8n.onnx");
  EXPECT_EQ(v8.family, Family::YoloV8);
  EXPECT_EQ(v8.labels_source, "metadata");
  ASSERT_EQ(v8.labels.size(), 80u);
  EXPECT_EQ(v8.labels[0], "person");
}

TEST(Inference, LabelsFileWins) {
  TempDir d("infer-labels");
  {
    std::ofstream f(d / "l.txt");
    f << "walker\nbike\n";
  }
  auto m = load("yolox_nano.onnx", (d / "l.txt").string());
  EXPECT_EQ(m.labels_source, "file");
  EXPECT_EQ(m.labels, (std::vector<std::string>{"walker", "bike"}));
}

TEST(Inference, FamilyOverride) {
  // A YOLOv5 output (3 anchors x the grid cells) is also a YOLOX-shaped one,
  // so the override is taken.
  ModelOptions o;
  o.model = model_path("yolov5n.onnx").string();
  o.family = Family::YoloX;
  o.backend = Backend::OpenCv;
  auto m = load_model(o);
  EXPECT_EQ(m.family, Family::YoloX);
  EXPECT_FALSE(m.input.rgb);
}

// An override that cannot read the output shape would decode nothing, with
// no error: it is refused, naming the shape and the family that fits.
TEST(Inference, FamilyOverrideThatCannotReadTheOutputShapeIsRefused) {
  ModelOptions o;
  o.model = model_path("yolox_nano.onnx").string();
  o.backend = Backend::OpenCv;
  for (Family f : {Family::YoloV8, Family::YoloV5}) {
    o.family = f;
    try {
      load_model(o);
      FAIL() << family_name(f) << " on a YOLOX model was accepted";
    } catch (const ModelError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("--family " + family_name(f)), std::string::npos) << msg;
      EXPECT_NE(msg.find("1x3549x85"), std::string::npos) << msg;
      EXPECT_NE(msg.find("it fits yolox"), std::string::npos) << msg;
    }
  }
}

// OpenCV before 4.9 (Debian 12: 4.6) cannot run the stock Ultralytics
// export and is refused with advice; OpenCV >= 4.9 (Debian 13: 4.10) runs it,
// and its raw output equals that of the OpenCV-compatible rebuild of the same
// weights (yolov8n.onnx) on the same blob.
TEST(Inference, StockExportFailsWithActionableMessage) {
  if (kOpenCvRunsStockExports) {
    const LoadedModel stock = load("yolov8n_stock.onnx");
    const LoadedModel rebuild = load("yolov8n.onnx");
    EXPECT_EQ(stock.backend, Backend::OpenCv);
    EXPECT_EQ(stock.family, Family::YoloV8);
    EXPECT_EQ(stock.output_shape, (std::vector<int>{1, 84, 8400}));
    EXPECT_EQ(stock.labels_source, "metadata");
    EXPECT_EQ(stock.input.width, rebuild.input.width);
    const int sz[4] = {1, 3, stock.input.height, stock.input.width};
    cv::Mat blob(4, sz, CV_32F);
    cv::RNG rng(5);
    rng.fill(blob, cv::RNG::UNIFORM, 0.0, 255.0 * stock.input.scale);
    cv::Mat a, b;
    make_backend(stock)->forward(blob, a);
    make_backend(rebuild)->forward(blob, b);
    ASSERT_EQ(a.total(), b.total());
    const double scale = 1.0 + cv::norm(b, cv::NORM_INF);
    EXPECT_LT(cv::norm(a, b, cv::NORM_INF) / scale, 1e-3)
        << "max difference " << cv::norm(a, b, cv::NORM_INF) << " of max " << scale - 1;
    return;
  }
  try {
    load("yolov8n_stock.onnx");
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("yolov8n_stock.onnx"), std::string::npos) << msg;
    EXPECT_NE(msg.find("OpenCV " + opencv_version()), std::string::npos) << msg;
    EXPECT_NE(msg.find(">= 4.9"), std::string::npos) << msg;
    EXPECT_NE(msg.find("YOLOX"), std::string::npos) << msg;
    // The family names in the advice come from the family table.
    EXPECT_NE(msg.find("cannot run stock YOLOv8/YOLO11 ONNX exports"), std::string::npos) << msg;
    EXPECT_NE(msg.find("or a YOLOX/YOLOv5 model such as yolox_nano.onnx"), std::string::npos) << msg;
  }
}

TEST(Inference, BackendNamesParse) {
  EXPECT_EQ(parse_backend("auto"), Backend::Auto);
  EXPECT_EQ(parse_backend("ORT"), Backend::Ort);
  EXPECT_EQ(parse_backend("onnxruntime"), Backend::Ort);
  EXPECT_EQ(parse_backend("opencv"), Backend::OpenCv);
  EXPECT_EQ(parse_backend("opencv-dnn"), Backend::OpenCv);
  EXPECT_THROW(parse_backend("tensorrt"), ModelError);
  EXPECT_EQ(backend_name(Backend::OpenCv), "opencv-dnn");
  EXPECT_EQ(backend_name(Backend::Ort), "onnxruntime");
  EXPECT_NE(built_backends().find("opencv-dnn (OpenCV " + opencv_version() + ")"), std::string::npos);
  EXPECT_EQ(built_backends().find("onnxruntime") != std::string::npos, ort_built_in());
}

TEST(Inference, NotAModelFailsClearly) {
  TempDir d("infer-bad");
  {
    std::ofstream f(d / "bad.onnx");
    f << "this is not onnx";
  }
  ModelOptions o;
  o.model = (d / "bad.onnx").string();
  try {
    load_model(o);
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.onnx"), std::string::npos) << e.what();
  }
}

TEST(Inference, BackendForwardOwnsItsOutput) {
  auto m = load("yolox_nano.onnx");
  auto be = make_backend(m);
  const int sz[4] = {1, 3, 416, 416};
  cv::Mat a(4, sz, CV_32F, cv::Scalar(10.0f));
  cv::Mat b(4, sz, CV_32F, cv::Scalar(200.0f));
  cv::Mat out_a;
  cv::Mat out_b;
  be->forward(a, out_a);
  const cv::Mat copy_a = out_a.clone();
  be->forward(b, out_b);
  // The first output must not be overwritten by the second forward pass.
  EXPECT_EQ(cv::norm(out_a, copy_a, cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(out_a, out_b, cv::NORM_INF), 0.0);
}

TEST(Inference, BatchProbeFindsYoloxStrideFlattenedLayout) {
  auto m = load("yolox_nano.onnx");
  EXPECT_EQ(probe_batch(m, 1), BatchLayout::ImageMajor);
  EXPECT_EQ(probe_batch(m, 3), BatchLayout::StrideFlattened);
}

TEST(Inference, BatchProbeRejectsModelsThatCannotBatch) {
  auto m = load("yolov8n.onnx");
  EXPECT_THROW(probe_batch(m, 2), ModelError);
}
