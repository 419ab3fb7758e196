#include "vidsift/labels.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "vidsift/small_file.h"
#include "vidsift/suggest.h"
#include "vidsift/utf8.h"

namespace vidsift {

const std::vector<std::string>& coco_labels() {
  static const std::vector<std::string> kLabels = {
      "person",         "bicycle",    "car",           "motorcycle",    "airplane",     "bus",           "train",
      "truck",          "boat",       "traffic light", "fire hydrant",  "stop sign",    "parking meter", "bench",
      "bird",           "cat",        "dog",           "horse",         "sheep",        "cow",           "elephant",
      "bear",           "zebra",      "giraffe",       "backpack",      "umbrella",     "handbag",       "tie",
      "suitcase",       "frisbee",    "skis",          "snowboard",     "sports ball",  "kite",          "baseball bat",
      "baseball glove", "skateboard", "surfboard",     "tennis racket", "bottle",       "wine glass",    "cup",
      "fork",           "knife",      "spoon",         "bowl",          "banana",       "apple",         "sandwich",
      "orange",         "broccoli",   "carrot",        "hot dog",       "pizza",        "donut",         "cake",
      "chair",          "couch",      "potted plant",  "bed",           "dining table", "toilet",        "tv",
      "laptop",         "mouse",      "remote",        "keyboard",      "cell phone",   "microwave",     "oven",
      "toaster",        "sink",       "refrigerator",  "book",          "clock",        "vase",          "scissors",
      "teddy bear",     "hair drier", "toothbrush"};
  return kLabels;
}

namespace {
std::string trim(const std::string& s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}
}  // namespace

std::vector<std::string> load_labels(const std::filesystem::path& path) {
  std::string text;
  try {
    text = read_small_file(path, kMaxSmallFileBytes, "labels file");
  } catch (const SmallFileError& e) {
    throw LabelsError(e.what());
  }
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // a UTF-8 byte order mark
  if (const std::size_t bad = invalid_utf8_at(text); bad != std::string::npos) {
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[bad]));
    throw LabelsError("labels file " + path.string() + " is not UTF-8 (byte " + byte + " on line " +
                      std::to_string(line) + "); convert it, e.g. iconv -f latin1 -t utf-8");
  }
  std::vector<std::string> labels;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) labels.push_back(trim(line));
  while (!labels.empty() && labels.back().empty()) labels.pop_back();
  if (labels.empty()) throw LabelsError("labels file " + path.string() + " holds no labels");
  return labels;
}

std::string label_name(const std::vector<std::string>& labels, int id) {
  if (id >= 0 && static_cast<std::size_t>(id) < labels.size()) return labels[static_cast<std::size_t>(id)];
  return "class" + std::to_string(id);
}

std::vector<int> resolve_classes(const std::vector<std::string>& names, const std::vector<std::string>& labels) {
  std::vector<int> ids;
  std::string unknown;
  for (const auto& raw : names) {
    const std::string name = trim(raw);
    if (name.empty()) continue;
    if (std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); })) {
      // std::stoi throws std::out_of_range for ids beyond int: report them
      // like any other unknown class instead of escaping as a foreign type.
      try {
        ids.push_back(std::stoi(name));
      } catch (const std::out_of_range&) {
        unknown += (unknown.empty() ? "" : ", ") + name;
      }
      continue;
    }
    auto it = std::find(labels.begin(), labels.end(), name);
    if (it == labels.end()) {
      unknown += (unknown.empty() ? "" : ", ") + name;
      if (const std::string near = closest_name(name, labels); !near.empty())
        unknown += " (did you mean " + near + "?)";
    } else {
      ids.push_back(static_cast<int>(it - labels.begin()));
    }
  }
  if (!unknown.empty())
    throw LabelsError("unknown class name(s): " + unknown + "; the " + std::to_string(labels.size()) +
                      " valid names are: " + join_names(labels, ", ") + " (or class ids 0.." +
                      std::to_string(labels.empty() ? 0 : labels.size() - 1) + "; --labels sets the list)");
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace vidsift
