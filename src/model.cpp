#include "vidsift/model.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>

#include "vidsift/family.h"

namespace fs = std::filesystem;

namespace vidsift {

std::string family_name(Family f) {
  const FamilyTraits* t = find_traits(f);
  return t ? std::string(t->name) : "auto";
}

Family parse_family(const std::string& s) {
  std::string v = s;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v.empty() || v == "auto") return Family::Unknown;
  for (const auto& f : families()) {
    if (v == f.name) return f.id;
    for (std::string_view a : f.aliases)
      if (!a.empty() && v == a) return f.id;
  }
  throw ModelError("unknown model family '" + s + "' (use auto, " + family_names(", ") + ")");
}

InputSpec input_spec_for(Family f, int width, int height) {
  const FamilyTraits* t = find_traits(f);
  // Unknown has always had the Ultralytics convention; load_model never asks.
  const InputConvention c = t ? t->input : kRgbUnitCentred;
  InputSpec s;
  s.width = width;
  s.height = height;
  s.rgb = c.rgb;
  s.scale = c.scale;
  s.pad = c.pad;
  s.centred = c.centred;
  return s;
}

int grid_cells(int input_w, int input_h) {
  int n = 0;
  for (int stride : {8, 16, 32}) n += (input_w / stride) * (input_h / stride);
  return n;
}

namespace {
// rows x cols of one image's output (leading 1s dropped) and the grid cell
// count, or false when the shape has no such form or the input no cells.
bool output_dims(const std::vector<int>& shape, int input_w, int input_h, int& rows, int& cols, int& cells) {
  std::vector<int> dims = shape;
  // Drop a leading batch axis of 1.
  while (dims.size() > 2 && dims.front() == 1) dims.erase(dims.begin());
  if (dims.size() != 2) return false;
  rows = dims[0];
  cols = dims[1];
  cells = grid_cells(input_w, input_h);
  return cells > 0;
}
}  // namespace

bool family_fits(Family f, const std::vector<int>& shape, int input_w, int input_h) {
  const FamilyTraits* t = find_traits(f);
  int rows = 0, cols = 0, cells = 0;
  if (!t || !output_dims(shape, input_w, input_h, rows, cols, cells)) return false;
  return t->fit(rows, cols, cells) != ShapeFit::None;
}

Family detect_family(const std::vector<int>& shape, int input_w, int input_h) {
  int rows = 0, cols = 0, cells = 0;
  if (!output_dims(shape, input_w, input_h, rows, cols, cells)) return Family::Unknown;
  Family best = Family::Unknown;
  ShapeFit best_fit = ShapeFit::None;
  for (const auto& f : families()) {
    const ShapeFit fit = f.fit(rows, cols, cells);
    if (fit > best_fit) {
      best = f.id;
      best_fit = fit;
    }
  }
  return best;
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
