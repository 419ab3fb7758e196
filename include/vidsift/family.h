// family.h — the YOLO model families, each one row of one constant table.
//
// Contract:
//  * families() lists every known family, one FamilyTraits row each, in
//    Family enumerator order: row i describes Family(i + 1). Family::Unknown
//    ("auto") has no row. The table is constant and is the only place that
//    knows a family: family_name and parse_family read its names and aliases,
//    input_spec_for its input convention, detect_family its shape fits,
//    decode_candidates its decoders, load_model its names for messages.
//  * A row's OutputLayout says how one image's output holds its boxes:
//      rows        [boxes, 4+K+C]   (transposed = false)
//      transposed  [4+K+C, boxes]   (transposed = true)
//    where the first 4 attributes are the box, K = 1 when `objectness` (then
//    score = objectness x class score, and a box whose objectness is under
//    `conf` is dropped before its classes are read) else K = 0, and C class
//    scores follow. Without `grid` the box is (cx, cy, w, h) in input pixels;
//    with `grid` it is raw YOLOX head output over the stride-8/16/32 grids in
//    row-major grid order, repeated when a batch is flattened into the box
//    axis: cx = (tx+gx)*s, cy = (ty+gy)*s, w = exp(tw)*s, h = exp(th)*s.
//  * A row's decoder turns one image's output into candidate detections in
//    network pixels: each box keeps its best class; boxes under `conf`, or
//    whose best class is not in `classes` (when non-empty), are dropped.
//    Rows written without a decoder get generic_decoder(layout), which
//    handles every OutputLayout above.
//  * A row's fit ranks how specifically an output shape (rows x cols of one
//    image, leading 1s dropped) matches the family; detect_family picks the
//    highest ShapeFit over all rows, the earlier row on a tie, Unknown when
//    every row says None.
//  * find_traits(f) is the row of `f`, or nullptr for Family::Unknown and for
//    values outside the enum. traits(f) is the same row and throws
//    std::invalid_argument where find_traits returns nullptr.
//  * family_names(sep) joins the canonical names in table order:
//    family_names(", ") == "yolox, yolov5, yolov8".
//  * The table is checked at compile time: rows in enumerator order, every
//    name and alias non-empty, lower case, and spelt by one family only, none
//    of them "auto".
//
// To add a family:
//  1. add its enumerator at the end of enum class Family (model.h);
//  2. add its row at the end of kFamilies in family.cpp: id, canonical name,
//     --family aliases, display name, input convention, output layout and
//     shape fit (a captureless lambda returning the ShapeFit level that says
//     how specific the family's shape signature is; add a level, in order,
//     only when none says it). Leave the decoder out when the layout
//     is one of the OutputLayout forms above; give a decode function of your
//     own (in family.cpp, next to the generic one) only for a new layout.
// Nothing else changes: names, parsing, the --family error text, input
// conventions, detection and decoding all follow the row.
// tests/test_family.cpp runs every row through names, parsing, input spec and
// a one-box decode.
//
// Pure functions over constant data; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vidsift/model.h"
#include "vidsift/postprocess.h"

namespace vidsift {

// How a frame becomes network input, apart from its size (see InputSpec).
struct InputConvention {
  bool rgb = false;      // channel order: RGB (true) or BGR (false)
  float scale = 1.0f;    // pixel value multiplier (1 or 1/255)
  float pad = 114.0f;    // pad value before scaling
  bool centred = false;  // letterbox placement: centred (true) or top-left
};

// YOLOX's convention: BGR, 0..255, top-left letterbox padded with 114.
inline constexpr InputConvention kBgrRawTopLeft{false, 1.0f, 114.0f, false};
// The Ultralytics convention (YOLOv5/v8/v11): RGB, /255, centred, pad 114.
inline constexpr InputConvention kRgbUnitCentred{true, 1.0f / 255.0f, 114.0f, true};

// How one image's output holds its boxes; see the contract.
struct OutputLayout {
  bool transposed = false;  // [4+K+C, boxes] instead of [boxes, 4+K+C]
  bool objectness = false;  // attribute 4 is objectness (K = 1)
  bool grid = false;        // YOLOX stride-grid decode instead of input pixels

  // Attributes before the class scores: 4 box values, plus objectness.
  constexpr int box_attrs() const { return objectness ? 5 : 4; }
  friend constexpr bool operator==(const OutputLayout&, const OutputLayout&) = default;
};

// How specifically an output shape matches a family, weakest first.
// detect_family picks the highest over all families.
enum class ShapeFit {
  None,            // cannot be this family
  Loose,           // the layout could hold this family's boxes, nothing more
  Grid,            // box count is a multiple of the stride-grid cell count
  AnchorGrid,      // box count is exactly 3 anchors x the grid cell count
  TransposedGrid,  // transposed, and the box count is a grid-cell multiple
};

// rows x cols of one image's output (leading 1s dropped); `cells` is
// grid_cells(input_w, input_h), always > 0 here.
using ShapeFitFn = ShapeFit (*)(int rows, int cols, int cells);

// One image's output → candidate detections in network pixels (see contract).
using DecodeFn = std::vector<Detection> (*)(const OutputView& out, int input_w, int input_h,
                                            const PostprocessOptions& opts);

// Most --family aliases a row can have; unused slots stay empty.
inline constexpr std::size_t kMaxFamilyAliases = 6;

// Everything vidsift knows about one model family.
struct FamilyTraits {
  Family id = Family::Unknown;
  std::string_view name;                                      // canonical, lower case
  std::array<std::string_view, kMaxFamilyAliases> aliases{};  // other --family spellings
  std::string_view display;                                   // for messages: "YOLOv8/YOLO11"
  InputConvention input;
  OutputLayout layout;
  ShapeFitFn fit = nullptr;
  DecodeFn decode = nullptr;  // generic_decoder(layout) unless the row names one
};

// Every family, in enumerator order.
std::span<const FamilyTraits> families();

// The row of `f`; nullptr for Family::Unknown or a value outside the enum.
const FamilyTraits* find_traits(Family f);

// The row of `f`; throws std::invalid_argument where find_traits is nullptr.
const FamilyTraits& traits(Family f);

// The canonical names in table order, joined with `sep`.
std::string family_names(std::string_view sep);

// The decoder for any OutputLayout (see contract); never nullptr.
DecodeFn generic_decoder(OutputLayout layout);

}  // namespace vidsift
