// test_model.cpp — model.h: family detection from output shapes (YOLOX,
// YOLOv5, YOLOv8, batch-flattened YOLOX, nonsense shapes), parse_family and
// family_name, input_spec_for conventions, grid_cells, and resolve_model_path
// (existing path, bare name via $VIDSIFT_MODEL_DIR and the shared models dir,
// missing model error listing the searched places and scripts/fetch_model.sh).
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "test_util.h"
#include "vidsift/model.h"

namespace fs = std::filesystem;

namespace vidsift {
namespace {

// Sets an environment variable for the lifetime of the object, then restores it.
class EnvGuard {
 public:
  EnvGuard(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~EnvGuard() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Model, GridCells) {
  EXPECT_EQ(grid_cells(416, 416), 52 * 52 + 26 * 26 + 13 * 13);
  EXPECT_EQ(grid_cells(416, 416), 3549);
  EXPECT_EQ(grid_cells(640, 640), 8400);
  EXPECT_EQ(grid_cells(640, 384), 80 * 48 + 40 * 24 + 20 * 12);
  EXPECT_EQ(grid_cells(0, 0), 0);
}

TEST(Model, DetectFamilyKnownExports) {
  EXPECT_EQ(detect_family({1, 3549, 85}, 416, 416), Family::YoloX);
  EXPECT_EQ(detect_family({1, 25200, 85}, 640, 640), Family::YoloV5);
  EXPECT_EQ(detect_family({1, 84, 8400}, 640, 640), Family::YoloV8);
  // Without the batch axis, and with extra leading 1s.
  EXPECT_EQ(detect_family({3549, 85}, 416, 416), Family::YoloX);
  EXPECT_EQ(detect_family({1, 1, 25200, 85}, 640, 640), Family::YoloV5);
  // Other class counts.
  EXPECT_EQ(detect_family({1, 3549, 6}, 416, 416), Family::YoloX);
  EXPECT_EQ(detect_family({1, 25200, 25}, 640, 640), Family::YoloV5);
  EXPECT_EQ(detect_family({1, 5, 8400}, 640, 640), Family::YoloV8);
  // Non-square input.
  EXPECT_EQ(detect_family({1, 84, grid_cells(640, 384)}, 640, 384), Family::YoloV8);
  EXPECT_EQ(detect_family({1, 3 * grid_cells(640, 384), 85}, 640, 384), Family::YoloV5);
}

TEST(Model, DetectFamilyBatchFlattenedYoloX) {
  EXPECT_EQ(detect_family({1, 8 * 3549, 85}, 416, 416), Family::YoloX);
  EXPECT_EQ(detect_family({1, 2 * 3549, 85}, 416, 416), Family::YoloX);
}

TEST(Model, DetectFamilyNonsense) {
  EXPECT_EQ(detect_family({}, 416, 416), Family::Unknown);
  EXPECT_EQ(detect_family({3549}, 416, 416), Family::Unknown);
  EXPECT_EQ(detect_family({1, 1000, 85}, 416, 416), Family::Unknown);  // not a grid multiple
  EXPECT_EQ(detect_family({1, 3549, 5}, 416, 416), Family::Unknown);   // no class columns
  EXPECT_EQ(detect_family({1, 3549, 4}, 416, 416), Family::Unknown);
  EXPECT_EQ(detect_family({1, 4, 8400}, 640, 640), Family::Unknown);   // 4 attrs: no classes
  EXPECT_EQ(detect_family({2, 3549, 85}, 416, 416), Family::Unknown);  // batch of 2 is not "one image"
  EXPECT_EQ(detect_family({1, 2, 3, 4}, 416, 416), Family::Unknown);
  EXPECT_EQ(detect_family({1, 3549, 85}, 0, 0), Family::Unknown);       // no grid
  EXPECT_EQ(detect_family({1, 25200, 85}, 416, 416), Family::Unknown);  // wrong input size
}

TEST(Model, ParseFamily) {
  EXPECT_EQ(parse_family("auto"), Family::Unknown);
  EXPECT_EQ(parse_family(""), Family::Unknown);
  EXPECT_EQ(parse_family("yolox"), Family::YoloX);
  EXPECT_EQ(parse_family("YOLOX"), Family::YoloX);
  EXPECT_EQ(parse_family("yolov5"), Family::YoloV5);
  EXPECT_EQ(parse_family("yolov7"), Family::YoloV5);
  EXPECT_EQ(parse_family("yolov8"), Family::YoloV8);
  EXPECT_EQ(parse_family("yolo11"), Family::YoloV8);
  EXPECT_EQ(parse_family("yolov11"), Family::YoloV8);
  EXPECT_THROW(parse_family("yolov9000"), ModelError);
  try {
    parse_family("detr");
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("detr"), std::string::npos) << e.what();
  }
  // family_name round-trips through parse_family.
  for (Family f : {Family::Unknown, Family::YoloX, Family::YoloV5, Family::YoloV8})
    EXPECT_EQ(parse_family(family_name(f)), f);
  EXPECT_EQ(family_name(Family::YoloX), "yolox");
}

TEST(Model, InputSpecConventions) {
  const InputSpec x = input_spec_for(Family::YoloX, 416, 416);
  EXPECT_EQ(x.width, 416);
  EXPECT_EQ(x.height, 416);
  EXPECT_FALSE(x.rgb);
  EXPECT_FLOAT_EQ(x.scale, 1.0f);
  EXPECT_FLOAT_EQ(x.pad, 114.0f);
  EXPECT_FALSE(x.centred);

  for (Family f : {Family::YoloV5, Family::YoloV8}) {
    const InputSpec s = input_spec_for(f, 640, 384);
    EXPECT_EQ(s.width, 640);
    EXPECT_EQ(s.height, 384);
    EXPECT_TRUE(s.rgb);
    EXPECT_FLOAT_EQ(s.scale, 1.0f / 255.0f);
    EXPECT_FLOAT_EQ(s.pad, 114.0f);
    EXPECT_TRUE(s.centred);
  }
}

TEST(Model, ResolveExistingPath) {
  const fs::path p = test::model_path("yolox_nano.onnx");
  ASSERT_TRUE(fs::exists(p)) << p;
  EXPECT_EQ(resolve_model_path(p.string()), p);
}

TEST(Model, ResolveBareNameViaModelDir) {
  test::TempDir tmp("model-dir");
  { std::ofstream(tmp / "dummy_model.onnx") << "not really onnx"; }
  EnvGuard env("VIDSIFT_MODEL_DIR", tmp.path().string());
  EXPECT_EQ(resolve_model_path("dummy_model.onnx"), tmp.path() / "dummy_model.onnx");

  // $VIDSIFT_MODEL_DIR is searched before the shared models directory.
  { std::ofstream(tmp / "yolox_nano.onnx") << "shadow"; }
  EXPECT_EQ(resolve_model_path("yolox_nano.onnx"), tmp.path() / "yolox_nano.onnx");
}

TEST(Model, ResolveBareNameViaSharedModels) {
  EnvGuard env("VIDSIFT_MODEL_DIR", std::nullopt);
  const fs::path got = resolve_model_path("yolov8n.onnx");
  EXPECT_EQ(got.filename(), "yolov8n.onnx");
  EXPECT_TRUE(fs::equivalent(got, test::model_path("yolov8n.onnx"))) << got;
}

TEST(Model, ResolveBareNameViaXdgDataHome) {
  test::TempDir tmp("model-xdg");
  fs::create_directories(tmp.path() / "vidsift" / "models");
  { std::ofstream(tmp.path() / "vidsift" / "models" / "fetched.onnx") << "x"; }
  EnvGuard env("VIDSIFT_MODEL_DIR", std::nullopt);
  EnvGuard xdg("XDG_DATA_HOME", tmp.path().string());
  EXPECT_EQ(resolve_model_path("fetched.onnx"), tmp.path() / "vidsift" / "models" / "fetched.onnx");
}

TEST(Model, MissingModelListsSearchedPlaces) {
  test::TempDir tmp("model-missing");
  const fs::path xdg_dir = tmp.path() / "xdg";
  EnvGuard env("VIDSIFT_MODEL_DIR", tmp.path().string());
  EnvGuard xdg("XDG_DATA_HOME", xdg_dir.string());
  try {
    resolve_model_path("no_such_model_123.onnx");
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("no_such_model_123.onnx"), std::string::npos) << msg;
    EXPECT_NE(msg.find(tmp.path().string()), std::string::npos) << msg;
    EXPECT_NE(msg.find((xdg_dir / "vidsift" / "models").string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(VIDSIFT_SOURCE_MODEL_DIR), std::string::npos) << msg;
    EXPECT_NE(msg.find(VIDSIFT_INSTALL_MODEL_DIR), std::string::npos) << msg;
    EXPECT_NE(msg.find("scripts/fetch_model.sh"), std::string::npos) << msg;
    EXPECT_NE(msg.find("VIDSIFT_MODEL_DIR"), std::string::npos) << msg;
  }
}

TEST(Model, MissingPathWithDirectoryIsNotSearched) {
  test::TempDir tmp("model-missing-path");
  { std::ofstream(tmp / "m.onnx") << "x"; }
  EnvGuard env("VIDSIFT_MODEL_DIR", tmp.path().string());
  // A path with a directory part is taken literally, never looked up by name.
  EXPECT_THROW(resolve_model_path((tmp.path() / "nope" / "m.onnx").string()), ModelError);
  try {
    resolve_model_path("some/dir/m.onnx");
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("some/dir/m.onnx"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolve_model_path(""), ModelError);
  // A directory is not a model file.
  EXPECT_THROW(resolve_model_path(tmp.path().string()), ModelError);
}

}  // namespace
}  // namespace vidsift
