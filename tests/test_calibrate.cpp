// Tests of the calibration unit: it times real forward passes of the real
// model for each candidate configuration, on every backend this build has,
// and picks the fastest.
#include <gtest/gtest.h>

#include <opencv2/core/version.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"
#include "vidsift/calibrate.h"

using namespace vidsift;

TEST(Calibrate, MeasuresEveryCandidateAndPicksTheFastest) {
  ModelOptions o;
  o.model = vidsift::test::model_path("yolox_nano.onnx").string();
  const LoadedModel m = load_model(o);
  const Calibration cal = calibrate(m, 0.4);
  const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  ASSERT_GE(cal.measured.size(), hw > 1 ? 3u : 2u);
  for (const auto& c : cal.measured) {
    EXPECT_GT(c.images_per_second, 0.0) << c.describe();
    EXPECT_GE(cal.best.images_per_second, c.images_per_second);
  }
  EXPECT_EQ(cal.measured[0].workers, 1);
  EXPECT_EQ(cal.measured[0].net_threads, hw);
  EXPECT_NE(cal.best.describe().find("images/s"), std::string::npos);
  for (const auto& c : cal.measured) EXPECT_EQ(c.backend, m.backend) << c.describe();
}

TEST(Calibrate, SingleConfigurationCountsImages) {
  ModelOptions o;
  o.model = vidsift::test::model_path("yolox_nano.onnx").string();
  const LoadedModel m = load_model(o);
  const InferConfig c = measure_config(m, 2, 1, 0.5);
  EXPECT_EQ(c.workers, 2);
  EXPECT_EQ(c.net_threads, 1);
  EXPECT_GT(c.images_per_second, 1.0);
}

namespace {

std::vector<Backend> built_backends_list() {
  std::vector<Backend> b = {Backend::OpenCv};
  if (ort_built_in()) b.push_back(Backend::Ort);
  return b;
}

bool same_row(const InferConfig& a, const InferConfig& b) {
  return a.backend == b.backend && a.workers == b.workers && a.net_threads == b.net_threads &&
         a.images_per_second == b.images_per_second;
}

// Checks what every calibration over all backends must satisfy.
void expect_consistent(const Calibration& cal, Backend loaded) {
  ASSERT_FALSE(cal.measured.empty());
  EXPECT_EQ(cal.measured.front().backend, loaded);
  EXPECT_EQ(cal.best.backend, loaded);
  const auto is_row = [&](const InferConfig& r) {
    return std::any_of(cal.measured.begin(), cal.measured.end(), [&](const InferConfig& c) { return same_row(c, r); });
  };
  EXPECT_TRUE(is_row(cal.best)) << cal.best.describe();
  EXPECT_TRUE(is_row(cal.fastest)) << cal.fastest.describe();
  for (const auto& c : cal.measured) {
    EXPECT_GT(c.images_per_second, 0.0) << c.describe();
    EXPECT_GE(cal.fastest.images_per_second, c.images_per_second) << c.describe();
    if (c.backend == loaded) {
      EXPECT_GE(cal.best.images_per_second, c.images_per_second) << c.describe();
    }
  }
  // Each backend is either measured or skipped with a reason.
  for (const Backend b : built_backends_list()) {
    const bool measured =
        std::any_of(cal.measured.begin(), cal.measured.end(), [&](const InferConfig& c) { return c.backend == b; });
    const bool skipped = std::any_of(cal.skipped.begin(), cal.skipped.end(),
                                     [&](const SkippedBackend& s) { return s.backend == b && !s.reason.empty(); });
    EXPECT_NE(measured, skipped) << backend_name(b);
  }
}

}  // namespace

// yolox_nano runs on both backends: both are measured, over the same
// layouts, the backend that loaded the model first.
TEST(Calibrate, ComparesEveryBackendItHas) {
  ModelOptions o;
  o.model = vidsift::test::model_path("yolox_nano.onnx").string();
  const LoadedModel m = load_model(o);
  const Calibration cal = calibrate_backends(o, m, 0.2);
  expect_consistent(cal, m.backend);
  EXPECT_TRUE(cal.skipped.empty()) << cal.skipped.front().reason;
  std::vector<std::string> layouts[2];
  for (const auto& c : cal.measured) layouts[c.backend == m.backend ? 0 : 1].push_back(c.layout());
  EXPECT_GE(layouts[0].size(), 2u);
  if (ort_built_in()) {
    EXPECT_EQ(layouts[0], layouts[1]);
  } else {
    EXPECT_TRUE(layouts[1].empty());
  }

  // The printed report: every row, then the fastest row with the flags that
  // select it, then what this run uses.
  const std::vector<std::string> lines = report_lines(cal);
  ASSERT_EQ(lines.size(), cal.measured.size() + 2);
  for (std::size_t i = 0; i < cal.measured.size(); ++i) EXPECT_EQ(lines[i], cal.measured[i].describe());
  EXPECT_EQ(lines[cal.measured.size()],
            "fastest: " + cal.fastest.describe() + "; " + cal.fastest.flags() + " selects it");
  EXPECT_EQ(lines.back().rfind("using " + cal.best.describe(), 0), 0u) << lines.back();
}

TEST(Calibrate, FlagsSelectTheRow) {
  InferConfig c;
  c.backend = Backend::Ort;
  c.workers = 3;
  c.net_threads = 1;
  c.images_per_second = 71.25;
  EXPECT_EQ(c.flags(), "--backend ort --workers 3 --net-threads 1");
  EXPECT_EQ(c.describe(), "onnxruntime, 3 nets x 1 thread: 71.2 images/s");
  c.backend = Backend::OpenCv;
  c.workers = 1;
  c.net_threads = 2;
  EXPECT_EQ(c.flags(), "--backend opencv --workers 1 --net-threads 2");
  EXPECT_EQ(c.layout(), "1 net x 2 threads");
  EXPECT_EQ(parse_backend("ort"), Backend::Ort);
  EXPECT_EQ(parse_backend("opencv"), Backend::OpenCv);
}

// A backend that cannot open the model (OpenCV before 4.9 and the stock
// Ultralytics export) is reported with the reason load_model gives, and the
// others are still measured.
TEST(Calibrate, BackendThatCannotRunTheModelIsSkippedWithItsReason) {
  if (!ort_built_in()) GTEST_SKIP() << "needs ONNX Runtime to load yolov8n_stock";
  ModelOptions o;
  o.model = vidsift::test::model_path("yolov8n_stock.onnx").string();
  o.backend = Backend::Ort;
  const LoadedModel m = load_model(o);
  const Calibration cal = calibrate_backends(o, m, 0.2);
  expect_consistent(cal, Backend::Ort);
  if (CV_VERSION_MAJOR == 4 && CV_VERSION_MINOR < 9) {
    ASSERT_EQ(cal.skipped.size(), 1u);
    EXPECT_EQ(cal.skipped[0].backend, Backend::OpenCv);
    const std::string& why = cal.skipped[0].reason;
    EXPECT_NE(why.find("yolov8n_stock.onnx"), std::string::npos) << why;
    EXPECT_NE(why.find("OpenCV 4."), std::string::npos) << why;
    const std::vector<std::string> lines = report_lines(cal);
    EXPECT_NE(std::find(lines.begin(), lines.end(), "opencv-dnn: not measured: " + cal.skipped[0].reason), lines.end());
    EXPECT_EQ(cal.fastest.backend, Backend::Ort);
  }
}

// The CLI prints the comparison and runs with the best layout of its backend.
TEST(CalibrateCli, PrintsEveryBackendAndTheFastest) {
  using namespace vidsift::test;
  TempDir dir("calibrate_cli");
  const auto clip = clip_cache_dir() / "calibrate_tiny.mp4";
  ASSERT_TRUE(make_clip(clip, "-f lavfi -i testsrc2=size=320x240:rate=10 -frames:v 5 -c:v libx264 -pix_fmt yuv420p"));
  const CommandResult r = run_command(sh_quote(vidsift_binary()) + " run " + sh_quote(clip.string()) +
                                      " --model yolox_nano.onnx --backend opencv --calibrate --db " +
                                      sh_quote((dir / "c.db").string()) + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.output;
  std::vector<std::string> rows;
  std::string fastest;
  std::string using_line;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    // In a log (stderr is not a terminal here) each line starts with a timestamp.
    const std::string prefix = "vidsift: calibrate: ";
    const auto at = line.find(prefix);
    if (at == std::string::npos) continue;
    line = line.substr(at + prefix.size());
    if (line.rfind("fastest: ", 0) == 0) {
      fastest = line.substr(9);
    } else if (line.rfind("using ", 0) == 0) {
      using_line = line.substr(6);
    } else {
      rows.push_back(line);
    }
  }
  const auto has_rows_of = [&](const std::string& backend) {
    return std::any_of(rows.begin(), rows.end(), [&](const std::string& l) { return l.rfind(backend + ", ", 0) == 0; });
  };
  EXPECT_TRUE(has_rows_of("opencv-dnn")) << r.output;
  if (ort_built_in()) {
    EXPECT_TRUE(has_rows_of("onnxruntime")) << r.output;
  }
  // "fastest: <row>; --backend X --workers N --net-threads T selects it"
  const auto semi = fastest.find("; --backend ");
  ASSERT_NE(semi, std::string::npos) << r.output;
  EXPECT_NE(std::find(rows.begin(), rows.end(), fastest.substr(0, semi)), rows.end()) << r.output;
  EXPECT_NE(fastest.find(" selects it"), std::string::npos) << r.output;
  // The run stays on the backend it was asked for.
  EXPECT_EQ(using_line.rfind("opencv-dnn, ", 0), 0u) << r.output;
}
