#include "vidsift/model.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace fs = std::filesystem;

namespace vidsift {

std::string family_name(Family f) {
  switch (f) {
    case Family::YoloX: return "yolox";
    case Family::YoloV5: return "yolov5";
    case Family::YoloV8: return "yolov8";
    case Family::Unknown: break;
  }
  return "auto";
}

Family parse_family(const std::string& s) {
  std::string v = s;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v.empty() || v == "auto") return Family::Unknown;
  if (v == "yolox") return Family::YoloX;
  if (v == "yolov5" || v == "yolov7" || v == "v5" || v == "v7") return Family::YoloV5;
  if (v == "yolov8" || v == "yolo11" || v == "yolov11" || v == "v8" || v == "v11") return Family::YoloV8;
  throw ModelError("unknown model family '" + s + "' (use auto, yolox, yolov5, yolov8)");
}

InputSpec input_spec_for(Family f, int width, int height) {
  InputSpec s;
  s.width = width;
  s.height = height;
  if (f == Family::YoloX) {
    s.rgb = false;
    s.scale = 1.0f;
    s.centred = false;
  } else {
    s.rgb = true;
    s.scale = 1.0f / 255.0f;
    s.centred = true;
  }
  return s;
}

int grid_cells(int input_w, int input_h) {
  int n = 0;
  for (int stride : {8, 16, 32}) n += (input_w / stride) * (input_h / stride);
  return n;
}

Family detect_family(const std::vector<int>& shape, int input_w, int input_h) {
  std::vector<int> dims = shape;
  // Drop a leading batch axis of 1.
  while (dims.size() > 2 && dims.front() == 1) dims.erase(dims.begin());
  if (dims.size() != 2) return Family::Unknown;
  const int a = dims[0];
  const int b = dims[1];
  const int cells = grid_cells(input_w, input_h);
  if (cells <= 0) return Family::Unknown;
  if (a < b && a > 4 && b % cells == 0) return Family::YoloV8;  // [4+C, boxes]
  if (b <= 5) return Family::Unknown;
  if (a == 3 * cells) return Family::YoloV5;
  if (a % cells == 0) return Family::YoloX;
  if (a < b && a > 4) return Family::YoloV8;
  return Family::Unknown;
}

fs::path resolve_model_path(const std::string& name) {
  if (name.empty()) throw ModelError("no model given (--model FILE)");
  std::error_code ec;
  const fs::path given(name);
  if (fs::is_regular_file(given, ec)) return given;
  const bool bare = !given.has_parent_path();
  std::vector<fs::path> dirs;
  if (bare) {
    if (const char* env = std::getenv("VIDSIFT_MODEL_DIR"); env && *env) dirs.emplace_back(env);
    dirs.emplace_back(VIDSIFT_SOURCE_MODEL_DIR);
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
      dirs.emplace_back(fs::path(xdg) / "vidsift" / "models");
    } else if (const char* home = std::getenv("HOME"); home && *home) {
      dirs.emplace_back(fs::path(home) / ".local" / "share" / "vidsift" / "models");
    }
    dirs.emplace_back(VIDSIFT_INSTALL_MODEL_DIR);
    for (const auto& d : dirs)
      if (fs::is_regular_file(d / given, ec)) return d / given;
  }
  std::string msg = "cannot find model " + name;
  if (bare) {
    msg += " (searched:";
    for (const auto& d : dirs) msg.append(" ").append(d.string());
    msg += "); set VIDSIFT_MODEL_DIR, pass --model PATH, or run scripts/fetch_model.sh";
  }
  throw ModelError(msg);
}

}  // namespace vidsift
