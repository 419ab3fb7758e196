// model.h — what a detection model is: its family, its input convention, and
// where its file lives.
//
// Contract:
//  * Family names a model family; each one (all but Unknown, which means
//    "auto") is one row of the family table (family.h, rows in family.cpp),
//    which holds everything that differs between families, and the functions
//    below read it. Today: YOLOX (raw grid head, strides 8/16/32, BGR 0..255,
//    top-left pad 114), YOLOv5/v7 ([N, boxes, 5+C], RGB /255, centred pad
//    114), YOLOv8/v11 ([N, 4+C, boxes], transposed, no objectness, RGB /255,
//    centred pad 114).
//  * family_name(f) is the row's canonical name, "auto" for Unknown.
//    parse_family(s) takes a canonical name or an alias, in any case; "" and
//    "auto" give Unknown; anything else throws ModelError listing "auto" and
//    every canonical name.
//  * input_spec_for(f, w, h) is the row's input convention at w x h (Unknown:
//    RGB /255, centred pad 114).
//  * detect_family(shape, input_w, input_h) decides from one image's output
//    shape (leading 1s dropped, then rows x cols) by each row's shape fit,
//    the most specific winning. With today's rows that is, in order:
//    transposed (rows < cols, rows = 4+C > 4) with cols a multiple of the
//    stride-grid cell count is v8; otherwise, with cols = 5+C > 5, rows equal
//    to three times the cell count is YOLOv5, and rows equal to the cell count
//    or a multiple of it (exports that flatten the batch into the box axis) is
//    YOLOX; otherwise transposed with any box count is v8. Returns
//    Family::Unknown when nothing fits or the input has no grid cells.
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

// A model family. Every enumerator but Unknown has exactly one row, in this
// order, in the family table (family.h); add new ones at the end.
enum class Family { Unknown, YoloX, YoloV5, YoloV8 };

// The canonical name ("yolox", "yolov5", "yolov8"), or "auto" for Unknown.
std::string family_name(Family f);

// "auto" or "" -> Unknown; a family's name or alias, in any case -> that
// family ("yolov7" -> YoloV5, "yolo11" -> YoloV8, ...). Throws ModelError
// naming `s` and listing the valid names for anything else.
Family parse_family(const std::string& s);

// How a frame is turned into the network input.
struct InputSpec {
  int width = 0;
  int height = 0;
  bool rgb = false;      // channel order: RGB (true) or BGR (false)
  float scale = 1.0f;    // pixel value multiplier (1 or 1/255)
  float pad = 114.0f;    // pad value before scaling
  bool centred = false;  // letterbox placement
};

// The family's input convention at width x height.
InputSpec input_spec_for(Family f, int width, int height);

// Number of cells over the stride-8/16/32 grids for an input size.
int grid_cells(int input_w, int input_h);

// The family whose output layout `shape` (for a batch of one) has, or
// Unknown; see contract.
Family detect_family(const std::vector<int>& shape, int input_w, int input_h);

// True when family `f`'s row says the output `shape` could be its (a shape
// fit other than None, see family.h); false for Unknown. load_model refuses a
// --family override for which this is false.
bool family_fits(Family f, const std::vector<int>& shape, int input_w, int input_h);

// The default model when --model is not given.
inline constexpr const char* kDefaultModel = "yolox_nano.onnx";

std::filesystem::path resolve_model_path(const std::string& name);

}  // namespace vidsift
