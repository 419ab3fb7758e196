// annotate.h — draw detections on a picture, caption it, encode it as JPEG.
//
// Contract:
//  * class_colour(class_id) is a fixed BGR colour per class: a palette of 20
//    well-separated, saturated colours indexed by class_id modulo 20 (stable
//    across runs and pictures; class 0, "person" in COCO, is a strong red).
//    Each is dark or light enough that text_colour() gives it a readable
//    label: black on light colours, white on dark ones (by luminance).
//  * draw_boxes(img, boxes) draws each box (x, y, w, h in the picture's
//    pixels, as detections store them) as a rectangle outline in its class
//    colour, drawn inside the box's edges, and a label "label 0.87" (the
//    confidence to 2 decimals) in text_colour() on a filled rectangle of the
//    class colour. Labels are placed most confident box first, each at the
//    first of: just above its box, inside its top, just below it, inside its
//    bottom, that overlaps no label placed before (else where it overlaps
//    least), shifted to stay inside the picture. Line width
//    and font size grow with the picture (style_for()). Nothing outside the
//    outlines and labels changes. Boxes are clipped to the picture.
//  * with_caption(img, text) returns a new picture: `img` unchanged on top and
//    a dark strip below it holding `text` in white; text too wide for one
//    line is wrapped at its double spaces (between caption_text's parts),
//    and a line still too wide loses its front ("...": the end stays
//    visible).
//  * video_time_text(s) is "h:mm:ss.mmm" (0:01:05.250).
//    wall_clock_text(recorded_at, s) adds s seconds to an ISO-8601 UTC time
//    ("2024-05-01T12:00:00Z", fractional seconds and "+00:00" accepted) and
//    gives "2024-05-01 12:00:05.250 UTC"; empty when recorded_at is empty or
//    cannot be read.
//    caption_text(file, s, recorded_at) is "<file name>  <wall clock>  (video
//    h:mm:ss.mmm)" when the wall clock is known, else
//    "<file name>  h:mm:ss.mmm".
//  * encode_jpeg(img, quality) encodes with cv::imencode; write_jpeg(path,
//    img, quality) writes PATH.part and renames it over PATH. Both throw
//    std::runtime_error naming what failed.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace vidsift {

struct DrawBox {
  double x = 0, y = 0, w = 0, h = 0;  // top-left and size, picture pixels
  int class_id = 0;
  std::string label;
  double confidence = 0;
};

struct DrawStyle {
  int line = 2;             // outline width, pixels
  double font_scale = 0.5;  // cv::FONT_HERSHEY_SIMPLEX scale
  int font_thickness = 1;
  int pad = 3;  // pixels around label text
};

inline constexpr int kPaletteSize = 20;

cv::Scalar class_colour(int class_id);
cv::Scalar text_colour(const cv::Scalar& background);
// The style for a picture of this size (see contract).
DrawStyle style_for(int width, int height);

void draw_boxes(cv::Mat& bgr, const std::vector<DrawBox>& boxes);
cv::Mat with_caption(const cv::Mat& bgr, const std::string& text);

std::string video_time_text(double seconds);
std::string wall_clock_text(const std::string& recorded_at, double seconds);
std::string caption_text(const std::string& file, double seconds, const std::string& recorded_at = {});

std::vector<std::uint8_t> encode_jpeg(const cv::Mat& bgr, int quality = 85);
void write_jpeg(const std::string& path, const cv::Mat& bgr, int quality = 85);

}  // namespace vidsift
