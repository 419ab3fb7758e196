// Tests for clip_writer.h: the MP4 decodes (with the project's decoder) as
// H.264 with every picture written, at the pictures' times, with their
// content; a missing encoder falls back with a warning; no file is left
// behind on error.
#include <gtest/gtest.h>

#include <filesystem>

#include <opencv2/core.hpp>

#include "test_util.h"
#include "vidsift/clip_writer.h"
#include "vidsift/decoder.h"
#include "vidsift/frame_grab.h"

namespace fs = std::filesystem;
using namespace vidsift;

namespace {

// Picture i: a solid colour that changes with i, and a white square whose
// position moves.
cv::Mat picture(int i, int w, int h) {
  cv::Mat m(h, w, CV_8UC3, cv::Scalar((i * 40) % 256, 100, 255 - (i * 40) % 256));
  m(cv::Rect((i * 8) % (w - 20), 10, 20, 20)).setTo(cv::Scalar(255, 255, 255));
  return m;
}

struct Decoded {
  std::string codec;
  std::vector<double> ts;
  std::vector<cv::Mat> pics;
  int width = 0, height = 0;
};

Decoded decode_all(const fs::path& p) {
  Decoded d;
  Decoder dec(p.string(), DecoderOptions{});
  d.codec = dec.info().codec;
  d.width = dec.info().width;
  d.height = dec.info().height;
  BgrConverter conv;
  DecodedFrame f;
  while (dec.next(f)) {
    d.ts.push_back(f.timestamp);
    d.pics.push_back(conv.convert(*f.frame, dec.info().orientation));
  }
  return d;
}

double mean_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  const cv::Scalar m = cv::mean(diff);
  return (m[0] + m[1] + m[2]) / 3;
}

}  // namespace

TEST(ClipWriter, WritesH264WithEveryPictureAtItsTime) {
  test::TempDir tmp("clip_writer");
  const fs::path out = tmp / "c.mp4";
  {
    ClipWriter w(out.string(), 320, 240, 10);
    EXPECT_EQ(w.encoder(), "libx264");
    EXPECT_TRUE(w.warning().empty()) << w.warning();
    for (int i = 0; i < 25; ++i) w.write(picture(i, 320, 240), 5.0 + i * 0.1);  // origin 5 s: starts at 0
    w.finish();
    EXPECT_EQ(w.frames(), 25);
  }
  ASSERT_TRUE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".part"));
  const Decoded d = decode_all(out);
  EXPECT_EQ(d.codec, "h264");
  EXPECT_EQ(d.width, 320);
  EXPECT_EQ(d.height, 240);
  ASSERT_EQ(d.pics.size(), 25u);
  for (std::size_t i = 0; i < d.ts.size(); ++i) EXPECT_NEAR(d.ts[i], 0.1 * static_cast<double>(i), 1e-3) << i;
  for (int i : {0, 7, 24}) EXPECT_LT(mean_diff(d.pics[static_cast<std::size_t>(i)], picture(i, 320, 240)), 4.0) << i;
  // Each picture is closer to its own source than to its neighbour's.
  EXPECT_LT(mean_diff(d.pics[7], picture(7, 320, 240)), mean_diff(d.pics[7], picture(8, 320, 240)));
}

TEST(ClipWriter, KeepsVariableTiming) {
  test::TempDir tmp("clip_writer_vfr");
  const fs::path out = tmp / "vfr.mp4";
  const std::vector<double> times = {0, 0.04, 0.5, 0.54, 2.0};
  {
    ClipWriter w(out.string(), 160, 120, 25);
    for (std::size_t i = 0; i < times.size(); ++i) w.write(picture(static_cast<int>(i), 160, 120), times[i]);
    w.finish();
  }
  const Decoded d = decode_all(out);
  ASSERT_EQ(d.ts.size(), times.size());
  for (std::size_t i = 0; i < times.size(); ++i) EXPECT_NEAR(d.ts[i], times[i], 1e-3);
}

TEST(ClipWriter, FallsBackToAnotherEncoderWithAWarning) {
  test::TempDir tmp("clip_writer_fallback");
  const fs::path out = tmp / "f.mp4";
  ClipOptions o;
  o.encoders = {"no_such_encoder", "mpeg4"};
  {
    ClipWriter w(out.string(), 161, 121, 10, o);  // odd: rounded down to even
    EXPECT_EQ(w.encoder(), "mpeg4");
    EXPECT_NE(w.warning().find("no_such_encoder"), std::string::npos) << w.warning();
    EXPECT_EQ(w.width(), 160);
    for (int i = 0; i < 5; ++i) w.write(picture(i, 161, 121), i * 0.1);
    w.finish();
  }
  const Decoded d = decode_all(out);
  EXPECT_EQ(d.codec, "mpeg4");
  EXPECT_EQ(d.pics.size(), 5u);
  EXPECT_EQ(d.width, 160);
}

TEST(ClipWriter, NoEncoderOrAnErrorLeavesNoFile) {
  test::TempDir tmp("clip_writer_err");
  const fs::path out = tmp / "x.mp4";
  ClipOptions o;
  o.encoders = {"no_such_encoder"};
  try {
    ClipWriter w(out.string(), 64, 64, 10, o);
    FAIL() << "opened without an encoder";
  } catch (const ClipError& e) {
    EXPECT_NE(std::string(e.what()).find(out.string()), std::string::npos) << e.what();
  }
  {
    ClipWriter w(out.string(), 64, 64, 10);
    w.write(picture(0, 64, 64), 0);
  }  // destroyed without finish()
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".part"));
  EXPECT_THROW(ClipWriter((tmp / "no/dir/x.mp4").string(), 64, 64, 10), ClipError);
}
