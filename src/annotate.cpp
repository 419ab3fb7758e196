#include "vidsift/annotate.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace vidsift {

namespace {

// RGB; saturated, well separated, none too pale to show on a light picture.
constexpr std::array<std::uint32_t, kPaletteSize> kPalette = {
    0xe6194b,  // red
    0x3cb44b,  // green
    0xffe119,  // yellow
    0x4363d8,  // blue
    0xf58231,  // orange
    0x911eb4,  // purple
    0x42d4f4,  // cyan
    0xf032e6,  // magenta
    0xbfef45,  // lime
    0x469990,  // teal
    0x9a6324,  // brown
    0x800000,  // maroon
    0x808000,  // olive
    0x000075,  // navy
    0xff6f91,  // pink
    0x8c7cff,  // periwinkle
    0x00a86b,  // jade
    0x7f00ff,  // violet
    0xa9a9a9,  // grey
    0x2f4f4f,  // dark slate
};

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

bool parse_iso_utc(const std::string& s, double& epoch) {
  int Y = 0, M = 0, D = 0, h = 0, m = 0, n = 0;
  double sec = 0;
  char sep = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%lf%n", &Y, &M, &D, &sep, &h, &m, &sec, &n) < 7) return false;
  if (sep != 'T' && sep != 't' && sep != ' ') return false;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec < 0 || sec >= 61) return false;
  std::string rest = s.substr(static_cast<std::size_t>(n));
  int offset = 0;  // seconds east of UTC
  if (!rest.empty() && rest != "Z" && rest != "z") {
    int oh = 0, om = 0;
    char sign = 0;
    if (std::sscanf(rest.c_str(), "%c%2d:%2d", &sign, &oh, &om) != 3 || (sign != '+' && sign != '-')) return false;
    offset = (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = 0;
  const std::time_t t = timegm(&tm);
  epoch = static_cast<double>(t) + sec - offset;
  return true;
}

}  // namespace

cv::Scalar class_colour(int class_id) {
  const int i = ((class_id % kPaletteSize) + kPaletteSize) % kPaletteSize;
  const std::uint32_t rgb = kPalette[static_cast<std::size_t>(i)];
  return cv::Scalar(rgb & 0xff, (rgb >> 8) & 0xff, (rgb >> 16) & 0xff);
}

cv::Scalar text_colour(const cv::Scalar& bg) {
  const double luma = 0.114 * bg[0] + 0.587 * bg[1] + 0.299 * bg[2];
  return luma > 150 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255);
}

DrawStyle style_for(int width, int height) {
  const double base = std::max(1, std::min(width, height));
  DrawStyle s;
  s.line = std::max(1, static_cast<int>(std::lround(base / 240.0)));
  s.font_scale = std::max(0.4, base / 800.0);
  s.font_thickness = std::max(1, static_cast<int>(std::lround(s.font_scale * 1.5)));
  s.pad = std::max(2, static_cast<int>(std::lround(s.font_scale * 5)));
  return s;
}

void draw_boxes(cv::Mat& img, const std::vector<DrawBox>& boxes) {
  if (img.empty()) return;
  const DrawStyle st = style_for(img.cols, img.rows);
  const cv::Rect frame(0, 0, img.cols, img.rows);
  // Outlines first, labels after, so no outline crosses a label.
  std::vector<cv::Rect> rects;
  rects.reserve(boxes.size());
  for (const auto& b : boxes) {
    const int x0 = static_cast<int>(std::lround(b.x));
    const int y0 = static_cast<int>(std::lround(b.y));
    const int x1 = static_cast<int>(std::lround(b.x + b.w));
    const int y1 = static_cast<int>(std::lround(b.y + b.h));
    const cv::Rect r = cv::Rect(cv::Point(x0, y0), cv::Point(x1, y1)) & frame;
    rects.push_back(r);
    if (r.width <= 0 || r.height <= 0) continue;
    const cv::Scalar c = class_colour(b.class_id);
    // Inside the edges: the outer pixels of the outline lie on the box edge.
    const int t = std::min({st.line, std::max(1, r.width / 2), std::max(1, r.height / 2)});
    for (int k = 0; k < t; ++k) {
      const cv::Rect in(r.x + k, r.y + k, r.width - 2 * k, r.height - 2 * k);
      if (in.width <= 0 || in.height <= 0) break;
      cv::rectangle(img, in, c, 1, cv::LINE_8);
    }
  }
  // Labels: the most confident box chooses first, among above the box,
  // inside its top, below it and inside its bottom, the first place that
  // overlaps no label placed before (else the least overlapping one).
  std::vector<std::size_t> order(boxes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return boxes[x].confidence > boxes[y].confidence; });
  std::vector<cv::Rect> placed;
  struct Label {
    cv::Rect at;
    std::string text;
    int class_id;
    int text_h;
  };
  std::vector<Label> labels;
  for (const std::size_t i : order) {
    const cv::Rect& r = rects[i];
    if (r.width <= 0 || r.height <= 0) continue;
    const auto& b = boxes[i];
    char conf[16];
    std::snprintf(conf, sizeof(conf), " %.2f", b.confidence);
    const std::string text = b.label + conf;
    int base = 0;
    const cv::Size ts = cv::getTextSize(text, kFont, st.font_scale, st.font_thickness, &base);
    const int lw = ts.width + 2 * st.pad;
    const int lh = ts.height + base + 2 * st.pad;
    const int lx = std::clamp(r.x, 0, std::max(0, img.cols - lw));
    auto at = [&](int y) { return cv::Rect(lx, std::clamp(y, 0, std::max(0, img.rows - lh)), lw, lh); };
    const cv::Rect candidates[] = {r.y - lh >= 0 ? at(r.y - lh) : at(r.y), at(r.y), at(r.y + r.height),
                                   at(r.y + r.height - lh)};
    cv::Rect best = candidates[0];
    long best_overlap = -1;
    for (const cv::Rect& c : candidates) {
      long overlap = 0;
      for (const cv::Rect& p : placed) overlap += (c & p).area();
      if (best_overlap < 0 || overlap < best_overlap) {
        best = c;
        best_overlap = overlap;
      }
      if (overlap == 0) break;
    }
    placed.push_back(best);
    labels.push_back({best, text, b.class_id, ts.height});
  }
  // Drawn least confident first: where labels still overlap, the most
  // confident one stays readable on top.
  for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
    const cv::Scalar c = class_colour(it->class_id);
    cv::rectangle(img, it->at & frame, c, cv::FILLED);
    cv::putText(img, it->text, cv::Point(it->at.x + st.pad, it->at.y + st.pad + it->text_h), kFont, st.font_scale,
                text_colour(c), st.font_thickness, cv::LINE_AA);
  }
}

cv::Mat with_caption(const cv::Mat& img, const std::string& text) {
  const DrawStyle st = style_for(img.cols, std::max(img.rows, img.cols));
  const double scale = std::max(0.4, std::min(st.font_scale, img.cols / 700.0));
  const int thick = std::max(1, static_cast<int>(std::lround(scale * 1.5)));
  const int pad = std::max(3, static_cast<int>(std::lround(scale * 8)));
  const int room = img.cols - 2 * pad;
  auto width = [&](const std::string& s) {
    int b = 0;
    return cv::getTextSize(s, kFont, scale, thick, &b).width;
  };
  // Parts separated by double spaces fill lines greedily; a line still too
  // long loses its front.
  std::vector<std::string> lines;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t brk = text.find("  ", at);
    const std::string part = text.substr(at, brk == std::string::npos ? std::string::npos : brk - at);
    if (!lines.empty() && width(lines.back() + "  " + part) <= room) {
      lines.back() += "  " + part;
    } else {
      lines.push_back(part);
    }
    if (brk == std::string::npos) break;
    at = brk + 2;
  }
  for (auto& l : lines)
    while (width(l) > room && l.size() > 4) l = "..." + l.substr(std::min(l.size(), static_cast<std::size_t>(4)));
  int base = 0;
  const cv::Size ts = cv::getTextSize("Ag", kFont, scale, thick, &base);
  const int line_h = ts.height + base + pad;
  const int strip = static_cast<int>(lines.size()) * line_h + pad;
  cv::Mat out(img.rows + strip, img.cols, CV_8UC3, cv::Scalar(32, 32, 32));
  img.copyTo(out(cv::Rect(0, 0, img.cols, img.rows)));
  for (std::size_t i = 0; i < lines.size(); ++i)
    cv::putText(out, lines[i], cv::Point(pad, img.rows + pad + ts.height + static_cast<int>(i) * line_h), kFont, scale,
                cv::Scalar(255, 255, 255), thick, cv::LINE_AA);
  return out;
}

std::string video_time_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const auto ms_total = static_cast<long long>(std::llround(seconds * 1000.0));
  const long long ms = ms_total % 1000;
  const long long s = (ms_total / 1000) % 60;
  const long long m = (ms_total / 60000) % 60;
  const long long h = ms_total / 3600000;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld.%03lld", h, m, s, ms);
  return buf;
}

std::string wall_clock_text(const std::string& recorded_at, double seconds) {
  if (recorded_at.empty() || !std::isfinite(seconds)) return {};
  double epoch = 0;
  if (!parse_iso_utc(recorded_at, epoch)) return {};
  const double t = epoch + seconds;
  const auto ms_total = static_cast<long long>(std::llround(t * 1000.0));
  long long whole = ms_total / 1000;
  long long ms = ms_total % 1000;
  if (ms < 0) {
    ms += 1000;
    --whole;
  }
  const auto tt = static_cast<std::time_t>(whole);
  std::tm tm{};
  if (!gmtime_r(&tt, &tm)) return {};
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%03lld UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::string caption_text(const std::string& file, double seconds, const std::string& recorded_at) {
  const std::string name = std::filesystem::path(file).filename().string();
  const std::string wall = wall_clock_text(recorded_at, seconds);
  if (!wall.empty()) return name + "  " + wall + "  (video " + video_time_text(seconds) + ")";
  return name + "  " + video_time_text(seconds);
}

std::vector<std::uint8_t> encode_jpeg(const cv::Mat& bgr, int quality) {
  std::vector<std::uint8_t> out;
  if (bgr.empty()) throw std::runtime_error("cannot encode an empty picture as JPEG");
  if (!cv::imencode(".jpg", bgr, out, {cv::IMWRITE_JPEG_QUALITY, std::clamp(quality, 1, 100)}))
    throw std::runtime_error("cannot encode the picture as JPEG");
  return out;
}

void write_jpeg(const std::string& path, const cv::Mat& bgr, int quality) {
  const auto bytes = encode_jpeg(bgr, quality);
  const std::string part = path + ".part";
  {
    std::ofstream f(part, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write " + part);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(part, ec);
      throw std::runtime_error("cannot write " + part + " (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(part, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(part, ignored);
    throw std::runtime_error("cannot write " + path + ": " + ec.message());
  }
}

}  // namespace vidsift
