// model.h — what a detection model is: its family, its input convention, and
// where its file lives.
//
// Contract:
//  * Family: YOLOX (raw grid head, strides 8/16/32, BGR 0..255, top-left pad
//    114), YOLOv5/v7 ([N, boxes, 5+C], RGB /255, centred pad 114), YOLOv8/v11
//    ([N, 4+C, boxes], transposed, no objectness, RGB /255, centred pad 114).
//  * detect_family(shape, input_w, input_h) decides from one image's output
//    shape: transposed (attrs < boxes, attrs = 4+C) is v8; otherwise boxes
//    equal to the stride-grid cell count (or a multiple of it, for exports that
//    flatten the batch into the box axis) is YOLOX, and three times the cell
//    count is YOLOv5. Returns Family::Unknown when nothing fits.
//  * resolve_model_path(name) returns `name` when it names an existing file;
//    a bare file name is looked up in $VIDSIFT_MODEL_DIR, the repository's
//    ../shared/models, the user's data dir ($XDG_DATA_HOME or
//    ~/.local/share)/vidsift/models (where scripts/fetch_model.sh puts it),
//    then the install location (<prefix>/share/vidsift/models). Throws ModelError listing
//    the places searched and how to get the file.
// Pure functions (resolve_model_path reads the environment); thread-safe.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace vidsift {

class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Family { Unknown, YoloX, YoloV5, YoloV8 };

std::string family_name(Family f);
// "auto" -> Unknown; "yolox", "yolov5"/"yolov7", "yolov8"/"yolo11"/"yolov11".
// Throws ModelError for anything else.
Family parse_family(const std::string& s);

// How a frame is turned into the network input.
struct InputSpec {
  int width = 0;
  int height = 0;
  bool rgb = false;       // channel order: RGB (true) or BGR (false)
  float scale = 1.0f;     // pixel value multiplier (1 or 1/255)
  float pad = 114.0f;     // pad value before scaling
  bool centred = false;   // letterbox placement
};

InputSpec input_spec_for(Family f, int width, int height);

// Number of cells over the stride-8/16/32 grids for an input size.
int grid_cells(int input_w, int input_h);

// See contract; `shape` is the output shape for a batch of one.
Family detect_family(const std::vector<int>& shape, int input_w, int input_h);

// The default model when --model is not given.
inline constexpr const char* kDefaultModel = "yolox_nano.onnx";

std::filesystem::path resolve_model_path(const std::string& name);

}  // namespace vidsift
