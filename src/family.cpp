#include "vidsift/family.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <utility>

namespace vidsift {

namespace {

// --- decoding --------------------------------------------------------------

bool class_allowed(const PostprocessOptions& opts, int cls) {
  return opts.classes.empty() || std::binary_search(opts.classes.begin(), opts.classes.end(), cls);
}

// Best class in `n` scores spaced by `step`; {-1, -1} when that class is
// filtered out. The box keeps its best class (as YOLOX and Ultralytics do): a
// class filter drops boxes, it never relabels one with a weaker allowed class.
std::pair<int, float> best_class(const float* scores, int n, std::ptrdiff_t step, const PostprocessOptions& opts) {
  int best = -1;
  float best_score = -1.0f;
  for (int c = 0; c < n; ++c) {
    const float s = scores[static_cast<std::ptrdiff_t>(c) * step];
    if (s > best_score) {
      best_score = s;
      best = c;
    }
  }
  if (best < 0 || !class_allowed(opts, best)) return {-1, -1.0f};
  return {best, best_score};
}

// Class and score of the box whose attribute k is p[k * step]; class -1 when
// the box is dropped (objectness or score under conf, class filtered out).
template <bool kObjectness>
std::pair<int, float> score_box(const float* p, std::ptrdiff_t step, int classes, const PostprocessOptions& opts) {
  float obj = 1.0f;
  if constexpr (kObjectness) {
    obj = p[4 * step];
    if (obj < opts.conf) return {-1, -1.0f};
  }
  auto [cls, score] = best_class(p + (kObjectness ? 5 : 4) * step, classes, step, opts);
  if constexpr (kObjectness) score *= obj;
  if (cls < 0 || score < opts.conf) return {-1, -1.0f};
  return {cls, score};
}

Box from_centre(float cx, float cy, float w, float h) { return Box{cx - w / 2, cy - h / 2, w, h}; }

// The generic decoder: every OutputLayout, resolved at compile time so the
// per-box loop has no branches on the layout.
template <bool kTransposed, bool kObjectness, bool kGrid>
std::vector<Detection> decode_layout(const OutputView& out, int input_w, int input_h, const PostprocessOptions& opts) {
  std::vector<Detection> dets;
  if (!out.data) return dets;
  const int attrs = kTransposed ? out.rows : out.cols;
  const int boxes = kTransposed ? out.cols : out.rows;
  const int classes = attrs - OutputLayout{kTransposed, kObjectness, kGrid}.box_attrs();
  if (classes <= 0) return dets;
  // Attribute k of box i is data[i * box_step + k * attr_step].
  const std::ptrdiff_t attr_step = kTransposed ? boxes : 1;
  const std::ptrdiff_t box_step = kTransposed ? 1 : attrs;
  if constexpr (!kGrid) {
    for (int i = 0; i < boxes; ++i) {
      const float* p = out.data + static_cast<std::ptrdiff_t>(i) * box_step;
      const auto [cls, score] = score_box<kObjectness>(p, attr_step, classes, opts);
      if (cls < 0) continue;
      dets.push_back(Detection{cls, score, from_centre(p[0], p[attr_step], p[2 * attr_step], p[3 * attr_step])});
    }
  } else {
    const int cells = grid_cells(input_w, input_h);
    int i = 0;
    // Outputs flattened over a batch repeat the grid; decode every repetition.
    while (i < boxes) {
      for (int stride : {8, 16, 32}) {
        const int gw = input_w / stride;
        const int gh = input_h / stride;
        for (int gy = 0; gy < gh; ++gy) {
          for (int gx = 0; gx < gw; ++gx, ++i) {
            if (i >= boxes) return dets;
            const float* p = out.data + static_cast<std::ptrdiff_t>(i) * box_step;
            const auto [cls, score] = score_box<kObjectness>(p, attr_step, classes, opts);
            if (cls < 0) continue;
            const float s = static_cast<float>(stride);
            const float cx = (p[0] + static_cast<float>(gx)) * s;
            const float cy = (p[attr_step] + static_cast<float>(gy)) * s;
            const float w = std::exp(p[2 * attr_step]) * s;
            const float h = std::exp(p[3 * attr_step]) * s;
            dets.push_back(Detection{cls, score, from_centre(cx, cy, w, h)});
          }
        }
      }
      if (cells <= 0) break;
    }
  }
  return dets;
}

constexpr DecodeFn decoder_for(OutputLayout l) {
  if (l.transposed) {
    if (l.objectness) return l.grid ? &decode_layout<true, true, true> : &decode_layout<true, true, false>;
    return l.grid ? &decode_layout<true, false, true> : &decode_layout<true, false, false>;
  }
  if (l.objectness) return l.grid ? &decode_layout<false, true, true> : &decode_layout<false, true, false>;
  return l.grid ? &decode_layout<false, false, true> : &decode_layout<false, false, false>;
}

// Fills in the generic decoder of rows written without one.
template <std::size_t N>
constexpr std::array<FamilyTraits, N> complete(FamilyTraits (&&rows)[N]) {
  std::array<FamilyTraits, N> t{};
  for (std::size_t i = 0; i < N; ++i) {
    t[i] = rows[i];
    // Copy the aliases slot by slot: GCC 12 cannot read, in a constant
    // expression, the string_view slots a braced initializer left out (it
    // reports a "modification" of the table).
    for (std::size_t k = 0; k < kMaxFamilyAliases; ++k) {
      const std::string_view a = rows[i].aliases[k];
      t[i].aliases[k] = std::string_view(a.data(), a.size());
    }
    if (!t[i].decode) t[i].decode = decoder_for(t[i].layout);
  }
  return t;
}

// --- the table -------------------------------------------------------------

constexpr auto kFamilies = complete({
    {
        .id = Family::YoloX,
        .name = "yolox",
        .aliases = {},
        .display = "YOLOX",
        .input = kBgrRawTopLeft,
        .layout = {.transposed = false, .objectness = true, .grid = true},
        .fit = [](int rows, int cols,
                  int cells) { return cols > 5 && rows % cells == 0 ? ShapeFit::Grid : ShapeFit::None; },
    },
    {
        .id = Family::YoloV5,
        .name = "yolov5",
        .aliases = {"yolov7", "v5", "v7"},
        .display = "YOLOv5",
        .input = kRgbUnitCentred,
        .layout = {.transposed = false, .objectness = true, .grid = false},
        .fit = [](int rows, int cols,
                  int cells) { return cols > 5 && rows == 3 * cells ? ShapeFit::AnchorGrid : ShapeFit::None; },
    },
    {
        .id = Family::YoloV8,
        .name = "yolov8",
        .aliases = {"yolo11", "yolov11", "v8", "v11"},
        .display = "YOLOv8/YOLO11",
        .input = kRgbUnitCentred,
        .layout = {.transposed = true, .objectness = false, .grid = false},
        .fit =
            [](int rows, int cols, int cells) {
              if (rows >= cols || rows <= 4) return ShapeFit::None;
              return cols % cells == 0 ? ShapeFit::TransposedGrid : ShapeFit::Loose;
            },
    },
});

// --- compile-time checks of the table --------------------------------------

constexpr bool lower_case(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c >= 'A' && c <= 'Z') return false;
  return true;
}

constexpr bool rows_in_enum_order() {
  for (std::size_t i = 0; i < kFamilies.size(); ++i)
    if (kFamilies[i].id != static_cast<Family>(i + 1)) return false;
  return true;
}

constexpr bool rows_complete() {
  for (const auto& f : kFamilies)
    if (!lower_case(f.name) || f.display.empty()) return false;
  return true;
}

// Spelling k of a row: its name (k = 0), then its aliases (empty when unused).
constexpr std::string_view spelling(const FamilyTraits& f, std::size_t k) { return k == 0 ? f.name : f.aliases[k - 1]; }

constexpr bool spellings_unique() {
  constexpr std::size_t kPerRow = kMaxFamilyAliases + 1;
  for (std::size_t i = 0; i < kFamilies.size() * kPerRow; ++i) {
    const std::string_view s = spelling(kFamilies[i / kPerRow], i % kPerRow);
    if (s.empty()) continue;
    if (!lower_case(s) || s == "auto") return false;
    for (std::size_t j = 0; j < i; ++j)
      if (spelling(kFamilies[j / kPerRow], j % kPerRow) == s) return false;
  }
  return true;
}

static_assert(rows_in_enum_order(), "kFamilies rows must follow the Family enumerators, Unknown excluded");
// (Whether each row has its fit and decode functions is checked by
// tests/test_family.cpp: comparing function pointers is not a constant
// expression under -fsanitize.)
static_assert(rows_complete(), "every family needs a lower-case name and a display name");
static_assert(spellings_unique(), "family names and aliases must be lower case, unique and not \"auto\"");

}  // namespace

std::span<const FamilyTraits> families() { return kFamilies; }

const FamilyTraits* find_traits(Family f) {
  const auto i = static_cast<std::size_t>(f) - 1;  // Unknown (0) wraps to a huge index
  return i < kFamilies.size() ? &kFamilies[i] : nullptr;
}

const FamilyTraits& traits(Family f) {
  if (const FamilyTraits* t = find_traits(f)) return *t;
  throw std::invalid_argument("no model family with id " + std::to_string(static_cast<int>(f)));
}

std::string family_names(std::string_view sep) {
  std::string s;
  for (const auto& f : kFamilies) {
    if (!s.empty()) s += sep;
    s += f.name;
  }
  return s;
}

DecodeFn generic_decoder(OutputLayout layout) { return decoder_for(layout); }

}  // namespace vidsift
