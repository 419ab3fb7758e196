#include "report_thumbs.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <opencv2/imgproc.hpp>

#include "vidsift/annotate.h"
#include "vidsift/frame_grab.h"
#include "vidsift/limits.h"

namespace vidsift::cli {

namespace {

constexpr int kJpegQuality = 75;

// The part of the frame around the box (see contract), in frame pixels.
cv::Rect crop_around(const cv::Mat& frame, const ThumbRequest& q) {
  double cw = std::max(2 * q.w, frame.cols / 3.0);
  double ch = std::max(2 * q.h, frame.rows / 3.0);
  if (cw / ch < 4.0 / 3.0)
    cw = ch * 4.0 / 3.0;
  else
    ch = cw * 3.0 / 4.0;
  cw = std::min(cw, static_cast<double>(frame.cols));
  ch = std::min(ch, static_cast<double>(frame.rows));
  const double cx = std::clamp(q.x + q.w / 2 - cw / 2, 0.0, frame.cols - cw);
  const double cy = std::clamp(q.y + q.h / 2 - ch / 2, 0.0, frame.rows - ch);
  cv::Rect r(static_cast<int>(cx), static_cast<int>(cy), std::max(1, static_cast<int>(cw)),
             std::max(1, static_cast<int>(ch)));
  return r & cv::Rect(0, 0, frame.cols, frame.rows);
}

ThumbResult picture(const cv::Mat& frame, const ThumbRequest& q) {
  if (frame.empty()) return {"", "the frame decoded empty"};
  const cv::Rect crop = crop_around(frame, q);
  // Scale to kThumbWidth wide (enlarging at most 2x).
  const double s = std::min(2.0, static_cast<double>(kThumbWidth) / crop.width);
  cv::Mat small;
  cv::resize(frame(crop), small, cv::Size(), s, s, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  DrawBox box;
  box.x = (q.x - crop.x) * s;
  box.y = (q.y - crop.y) * s;
  box.w = q.w * s;
  box.h = q.h * s;
  box.class_id = q.class_id;
  box.label = q.label;
  box.confidence = q.confidence;
  draw_boxes(small, {box});
  const auto bytes = encode_jpeg(small, kJpegQuality);
  return {std::string(bytes.begin(), bytes.end()), ""};
}

}  // namespace

Thumbnailer make_thumbnailer(Store& store) {
  // The open decoder of the last video asked for (or why it cannot open).
  struct Current {
    std::int64_t video_id = -1;
    std::unique_ptr<FrameGrabber> grabber;
    std::string error;
  };
  auto current = std::make_shared<Current>();
  return [&store, current](const ThumbRequest& q) -> ThumbResult {
    try {
      if (current->video_id != q.video_id) {
        current->video_id = q.video_id;
        current->grabber.reset();
        current->error.clear();
        SourceVideo src = load_source_video(store, q.video_id);
        if (!q.path.empty()) src.path = q.path;  // the exact bytes (path_bytes)
        try {
          current->grabber = std::make_unique<FrameGrabber>(src);
        } catch (const FrameGrabError& e) {
          current->error = e.what();
        }
      }
      if (!current->grabber) return {"", current->error};
      return picture(current->grabber->grab(q.frame_index, q.ts), q);
    } catch (const std::exception& e) {
      return {"", e.what()};
    }
  };
}

bool write_html_file(Store& store, const ReportScope& scope, const HtmlOptions& options, const std::string& path) {
  std::ostringstream page;
  write_html_report(store, scope, options, make_thumbnailer(store), page);
  const std::string text = page.str();
  const std::string tmp = path + ".part";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
      std::cerr << "vidsift: cannot write " << path << " (missing directory, read-only or disk full?)\n";
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::cerr << "vidsift: cannot write " << path << ": " << std::strerror(errno) << "\n";
    std::remove(tmp.c_str());
    return false;
  }
  std::cerr << "vidsift: wrote " << path << " (" << human_bytes(static_cast<double>(text.size())) << ")\n";
  return true;
}

}  // namespace vidsift::cli
