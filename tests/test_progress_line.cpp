// Tests for progress_line.h: the ETA estimate and fitting the line to a
// terminal width.
#include <gtest/gtest.h>

#include "vidsift/progress_line.h"

namespace vidsift {
namespace {

ProgressSnapshot busy() {
  ProgressSnapshot s;
  s.elapsed = 62;
  s.videos_total = 10;
  s.videos_finished = 3;
  s.videos_failed = 1;
  s.videos_opened = 5;
  s.videos_closed = 3;
  s.frames_analysed = 620;  // 10 frames/s
  s.frames_expected = 1000;
  s.detections = 4321;
  s.current = "/archive/2026-11-21/camera-entrance-north-0815.mp4";
  return s;
}

TEST(ProgressLine, ClockText) {
  EXPECT_EQ(clock_text(0), "0:00");
  EXPECT_EQ(clock_text(62.4), "1:02");
  EXPECT_EQ(clock_text(3599.6), "1:00:00");
  EXPECT_EQ(clock_text(7384), "2:03:04");
  EXPECT_EQ(clock_text(-5), "0:00");
}

TEST(ProgressLine, EtaWaitsUntilItMeansSomething) {
  ProgressSnapshot s = busy();
  s.elapsed = 2;
  EXPECT_FALSE(eta_seconds(s));
  s = busy();
  s.frames_analysed = 5;
  EXPECT_FALSE(eta_seconds(s));
  s = busy();
  s.videos_opened = 0;
  EXPECT_FALSE(eta_seconds(s));
  s = busy();
  s.videos_finished = s.videos_total;
  EXPECT_FALSE(eta_seconds(s));
}

TEST(ProgressLine, EtaCountsOpenVideosAndExtrapolatesTheRest) {
  ProgressSnapshot s = busy();
  // 380 frames left in open videos + 5 unopened x 200 expected each = 1380
  // frames at 10 frames/s.
  auto eta = eta_seconds(s);
  ASSERT_TRUE(eta);
  EXPECT_DOUBLE_EQ(eta->seconds, 138.0);
  EXPECT_TRUE(eta->extrapolated);
  // Every video opened: only what the open ones still expect.
  s.videos_opened = 10;
  s.videos_closed = 8;
  s.videos_finished = 8;
  s.frames_expected = 820;
  eta = eta_seconds(s);
  ASSERT_TRUE(eta);
  EXPECT_DOUBLE_EQ(eta->seconds, 20.0);
  EXPECT_FALSE(eta->extrapolated);
}

TEST(ProgressLine, WideTerminalShowsEverything) {
  const std::string line = progress_line(busy(), 200);
  EXPECT_EQ(line,
            "videos 3/10  (1 failed)  frames 620/~1000  10.0 frames/s  det 4321  elapsed 1:02  ETA ~2:18  "
            "camera-entrance-north-0815.mp4");
}

TEST(ProgressLine, NeverWiderThanTheTerminal) {
  for (int width = 1; width <= 200; ++width) {
    const std::string line = progress_line(busy(), width);
    EXPECT_LE(line.size(), static_cast<std::size_t>(std::max(width, 10) - 1)) << width << ": " << line;
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.rfind("videos", 0), 0u) << line;
  }
}

TEST(ProgressLine, NarrowTerminalsKeepTheMostImportantParts) {
  EXPECT_EQ(progress_line(busy(), 40), "videos 3/10  elapsed 1:02  ETA ~2:18");
  EXPECT_EQ(progress_line(busy(), 80),
            "videos 3/10  (1 failed)  frames 620/~1000  elapsed 1:02  ETA ~2:18  came..5.mp4");
  EXPECT_EQ(progress_line(busy(), 60), "videos 3/10  elapsed 1:02  ETA ~2:18  camera-en..h-0815.mp4");
  EXPECT_EQ(progress_line(busy(), 10), "videos 3/");
}

TEST(ProgressLine, FileNamesAreShortenedInTheMiddleAndMadeSafe) {
  ProgressSnapshot s = busy();
  s.current = "/v/caf\xc3\xa9.mp4";
  const std::string line = progress_line(s, 200);
  EXPECT_NE(line.find("  caf??.mp4"), std::string::npos) << line;
  s.current = "";
  EXPECT_EQ(progress_line(s, 200).find("  ", progress_line(s, 200).find("ETA")), std::string::npos);
}

}  // namespace
}  // namespace vidsift
