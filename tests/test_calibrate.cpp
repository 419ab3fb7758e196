// Tests of the calibration unit: it times real forward passes of the real
// model for each candidate configuration and picks the fastest.
#include <gtest/gtest.h>

#include <thread>

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
