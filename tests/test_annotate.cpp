// Tests for annotate.h: box outlines in the class colour exactly on the box
// edges (also after a JPEG round trip), nothing else touched, labels inside
// the picture, distinct palette, captions and time texts.
#include <gtest/gtest.h>

#include <filesystem>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_util.h"
#include "vidsift/annotate.h"

using namespace vidsift;

namespace {

cv::Vec3b px(const cv::Mat& m, int x, int y) { return m.at<cv::Vec3b>(y, x); }

cv::Vec3b vec(const cv::Scalar& s) {
  return cv::Vec3b(static_cast<uchar>(s[0]), static_cast<uchar>(s[1]), static_cast<uchar>(s[2]));
}

int dist(const cv::Vec3b& a, const cv::Vec3b& b) {
  return std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]);
}

// A picture with structure (so "untouched" means something): a gradient.
cv::Mat gradient(int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(x % 256), static_cast<uchar>(y % 256), 128);
  return m;
}

}  // namespace

TEST(Annotate, OutlineLiesOnTheBoxEdgesAndNothingElseChanges) {
  const cv::Mat orig = gradient(640, 480);
  cv::Mat img = orig.clone();
  const DrawBox b{100, 150, 200, 120, 0, "person", 0.87};
  draw_boxes(img, {b});
  const cv::Vec3b c = vec(class_colour(0));
  const int line = style_for(640, 480).line;
  ASSERT_GE(line, 2);
  // Edges: left x=100, right x=299, top y=150, bottom y=269 (inside the edges).
  for (int y = 150; y < 270; y += 7) {
    EXPECT_EQ(px(img, 100, y), c) << y;
    EXPECT_EQ(px(img, 299, y), c) << y;
    EXPECT_EQ(px(img, 100 + line - 1, y), c) << y;
  }
  for (int x = 100; x < 300; x += 9) EXPECT_EQ(px(img, x, 269), c) << x;
  // Inside the outline and outside the box (but not in the label): untouched.
  cv::Mat mask(img.size(), CV_8U, cv::Scalar(255));
  mask(cv::Rect(100, 150, 200, 120)).setTo(0);
  // The label sits above the box, starting at its left edge.
  int base = 0;
  const DrawStyle st = style_for(640, 480);
  const cv::Size ts = cv::getTextSize("person 0.87", cv::FONT_HERSHEY_SIMPLEX, st.font_scale, st.font_thickness, &base);
  const int lh = ts.height + base + 2 * st.pad;
  const cv::Rect label(100, 150 - lh, ts.width + 2 * st.pad, lh);
  mask(label).setTo(0);
  mask(cv::Rect(100 + line, 150 + line, 200 - 2 * line, 120 - 2 * line)).setTo(255);
  cv::Mat diff;
  cv::absdiff(img, orig, diff);
  cv::Mat changed;
  cv::cvtColor(diff, changed, cv::COLOR_BGR2GRAY);
  EXPECT_EQ(cv::countNonZero(changed & mask), 0) << "pixels outside the outline and label changed";
  // The label background is the class colour.
  EXPECT_EQ(px(img, label.x + 1, label.y + 1), c);
  // And after a JPEG round trip the edges still show the colour.
  const auto jpg = encode_jpeg(img, 90);
  const cv::Mat dec = cv::imdecode(jpg, cv::IMREAD_COLOR);
  ASSERT_EQ(dec.size(), img.size());
  EXPECT_LT(dist(px(dec, 100, 210), c), 90);
  EXPECT_LT(dist(px(dec, 200, 150), c), 90);
  EXPECT_LT(dist(px(dec, 200, 210), px(orig, 200, 210)), 30);  // centre untouched
}

TEST(Annotate, LabelsStayInsideThePicture) {
  cv::Mat img(240, 320, CV_8UC3, cv::Scalar(0, 0, 0));
  // At the top-left corner (no room above) and at the right edge.
  draw_boxes(img, {{0, 0, 40, 40, 2, "car", 0.5}, {300, 100, 20, 50, 5, "a-very-long-label", 0.99}});
  const cv::Vec3b car = vec(class_colour(2));
  EXPECT_EQ(px(img, 2, 2), car);  // label inside the box top
  // The long label is shifted left so that it ends at the right edge.
  const cv::Vec3b bus = vec(class_colour(5));
  EXPECT_EQ(px(img, 319, 90), bus);
  // Some pixels of the text differ from the label colour.
  int text = 0;
  for (int x = 200; x < 320; ++x)
    for (int y = 70; y < 100; ++y)
      if (dist(px(img, x, y), bus) > 100 && dist(px(img, x, y), cv::Vec3b(0, 0, 0)) > 100) ++text;
  EXPECT_GT(text, 20);
}

// Two people side by side: the second label moves inside its box instead of
// covering the first one's.
TEST(Annotate, LabelsOfNeighbouringBoxesDoNotOverlap) {
  cv::Mat img(480, 640, CV_8UC3, cv::Scalar(0, 0, 0));
  draw_boxes(img, {{130, 200, 30, 80, 2, "car", 0.6}, {100, 200, 30, 80, 0, "person", 0.9}});
  const cv::Vec3b person = vec(class_colour(0));
  const cv::Vec3b car = vec(class_colour(2));
  const int line = style_for(640, 480).line;
  EXPECT_EQ(px(img, 131, 198), person) << "the more confident label keeps the place above its box";
  EXPECT_EQ(px(img, 131 + line, 200 + line), car) << "the other label moved inside its box top";
}

TEST(Annotate, PaletteColoursAreDistinctAndLabelsReadable) {
  for (int i = 0; i < kPaletteSize; ++i) {
    const cv::Vec3b a = vec(class_colour(i));
    for (int j = i + 1; j < kPaletteSize; ++j) EXPECT_GT(dist(a, vec(class_colour(j))), 90) << i << " vs " << j;
    const cv::Scalar t = text_colour(class_colour(i));
    const double luma = 0.114 * a[0] + 0.587 * a[1] + 0.299 * a[2];
    EXPECT_GT(std::abs(luma - (t[0] > 0 ? 255.0 : 0.0)), 100) << "label text on colour " << i;
  }
  EXPECT_EQ(class_colour(3), class_colour(3 + kPaletteSize));  // stable, indexed by class id
  EXPECT_EQ(class_colour(-1), class_colour(kPaletteSize - 1));
}

TEST(Annotate, StyleGrowsWithThePicture) {
  const DrawStyle small = style_for(320, 240);
  const DrawStyle big = style_for(1920, 1080);
  EXPECT_LT(small.line, big.line);
  EXPECT_LT(small.font_scale, big.font_scale);
}

TEST(Annotate, CaptionStripBelowTheUnchangedPicture) {
  const cv::Mat orig = gradient(320, 240);
  const cv::Mat out = with_caption(orig, "cam1.mp4  0:00:05.250");
  EXPECT_EQ(out.cols, 320);
  EXPECT_GT(out.rows, 250);
  EXPECT_EQ(cv::norm(out(cv::Rect(0, 0, 320, 240)), orig, cv::NORM_INF), 0);
  // White text in the strip.
  cv::Mat strip;
  cv::cvtColor(out(cv::Rect(0, 240, 320, out.rows - 240)), strip, cv::COLOR_BGR2GRAY);
  EXPECT_GT(cv::countNonZero(strip > 200), 30);
}

// A caption too wide for one line takes two: the strip is taller.
TEST(Annotate, LongCaptionTakesTwoLines) {
  const cv::Mat orig = gradient(320, 240);
  const int one = with_caption(orig, "cam1.mp4  0:00:05.250").rows;
  const int two =
      with_caption(orig, "camera-entrance-north.mp4  2024-05-01 12:00:05.250 UTC  (video 0:00:05.250)").rows;
  EXPECT_GT(two, one + 8);
}

TEST(Annotate, TimeTexts) {
  EXPECT_EQ(video_time_text(0), "0:00:00.000");
  EXPECT_EQ(video_time_text(3725.25), "1:02:05.250");
  EXPECT_EQ(video_time_text(59.9996), "0:01:00.000");
  EXPECT_EQ(wall_clock_text("2024-05-01T12:00:00Z", 5.25), "2024-05-01 12:00:05.250 UTC");
  EXPECT_EQ(wall_clock_text("2024-05-01T23:59:59.5Z", 1.0), "2024-05-02 00:00:00.500 UTC");
  EXPECT_EQ(wall_clock_text("2024-05-01T14:00:00+02:00", 0), "2024-05-01 12:00:00.000 UTC");
  EXPECT_EQ(wall_clock_text("", 3), "");
  EXPECT_EQ(wall_clock_text("yesterday", 3), "");
  EXPECT_EQ(caption_text("/a/b/cam1.mp4", 65.5), "cam1.mp4  0:01:05.500");
  EXPECT_EQ(caption_text("/a/b/cam1.mp4", 65.5, "2024-05-01T12:00:00Z"),
            "cam1.mp4  2024-05-01 12:01:05.500 UTC  (video 0:01:05.500)");
}

TEST(Annotate, WriteJpegIsAtomicAndDecodes) {
  test::TempDir tmp("annotate_jpeg");
  const std::string p = (tmp / "x.jpg").string();
  write_jpeg(p, gradient(64, 48));
  const cv::Mat m = cv::imread(p);
  EXPECT_EQ(m.cols, 64);
  EXPECT_FALSE(std::filesystem::exists(p + ".part"));
  EXPECT_THROW(write_jpeg((tmp / "no/such/dir/x.jpg").string(), gradient(8, 8)), std::runtime_error);
  EXPECT_THROW(encode_jpeg(cv::Mat()), std::runtime_error);
}
