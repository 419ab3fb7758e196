// test_family.cpp — family.h: the family table. Every row, whatever it is,
// round-trips through family_name / parse_family (name and aliases, any case),
// gives input_spec_for its convention, is listed in the parse error, and
// decodes a synthetic one-box output of its declared layout through
// decode_candidates; the generic decoder handles every OutputLayout; the
// table's compile-time invariants hold at run time too; and detect_family and
// decode_candidates are bit-identical to frozen copies of the code the table
// replaced, so the table changed nothing.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vidsift/family.h"

namespace vidsift {
namespace {

std::string upper(std::string_view s) {
  std::string u(s);
  std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::toupper(c); });
  return u;
}

PostprocessOptions opts_with(float conf = 0.25f, std::vector<int> classes = {}) {
  PostprocessOptions o;
  o.conf = conf;
  o.classes = std::move(classes);
  return o;
}

// --- the table itself -------------------------------------------------------

TEST(Family, TableRowsFollowTheEnum) {
  const auto all = families();
  ASSERT_FALSE(all.empty());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, static_cast<Family>(i + 1)) << all[i].name;
    EXPECT_EQ(find_traits(all[i].id), &all[i]);
    EXPECT_EQ(&traits(all[i].id), &all[i]);
    EXPECT_NE(all[i].fit, nullptr) << all[i].name;
    EXPECT_NE(all[i].decode, nullptr) << all[i].name;
    EXPECT_FALSE(all[i].display.empty()) << all[i].name;
  }
  EXPECT_EQ(find_traits(Family::Unknown), nullptr);
  EXPECT_EQ(find_traits(static_cast<Family>(all.size() + 1)), nullptr);
  EXPECT_EQ(find_traits(static_cast<Family>(-1)), nullptr);
  EXPECT_THROW(traits(Family::Unknown), std::invalid_argument);
  // Today's rows.
  EXPECT_EQ(all.size(), 3u);
  EXPECT_EQ(traits(Family::YoloX).name, "yolox");
  EXPECT_EQ(traits(Family::YoloV5).name, "yolov5");
  EXPECT_EQ(traits(Family::YoloV8).name, "yolov8");
}

TEST(Family, SpellingsAreUniqueLowerCaseAndNotAuto) {
  std::set<std::string_view> seen{"auto"};
  for (const auto& f : families()) {
    std::vector<std::string_view> spellings{f.name};
    for (std::string_view a : f.aliases)
      if (!a.empty()) spellings.push_back(a);
    for (std::string_view s : spellings) {
      EXPECT_TRUE(seen.insert(s).second) << s << " is spelt by two families (or is \"auto\")";
      EXPECT_FALSE(s.empty());
      EXPECT_TRUE(std::none_of(s.begin(), s.end(), [](unsigned char c) { return std::isupper(c); })) << s;
    }
  }
}

TEST(Family, EveryRowRoundTripsThroughNamesAndAliases) {
  for (const auto& f : families()) {
    const std::string name(f.name);
    EXPECT_EQ(family_name(f.id), name);
    EXPECT_EQ(parse_family(name), f.id) << name;
    EXPECT_EQ(parse_family(upper(name)), f.id) << name;
    EXPECT_EQ(parse_family(family_name(f.id)), f.id) << name;
    for (std::string_view a : f.aliases) {
      if (a.empty()) continue;
      EXPECT_EQ(parse_family(std::string(a)), f.id) << a;
      EXPECT_EQ(parse_family(upper(a)), f.id) << a;
    }
  }
  EXPECT_EQ(family_name(Family::Unknown), "auto");
  EXPECT_EQ(parse_family("auto"), Family::Unknown);
  EXPECT_EQ(parse_family("AUTO"), Family::Unknown);
  EXPECT_EQ(parse_family(""), Family::Unknown);
}

TEST(Family, TodaysAliases) {
  for (const char* s : {"yolov5", "yolov7", "v5", "v7"}) EXPECT_EQ(parse_family(s), Family::YoloV5) << s;
  for (const char* s : {"yolov8", "yolo11", "yolov11", "v8", "v11"}) EXPECT_EQ(parse_family(s), Family::YoloV8) << s;
  EXPECT_EQ(parse_family("YoloX"), Family::YoloX);
}

TEST(Family, ParseErrorListsEveryName) {
  try {
    parse_family("detr");
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'detr'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("auto"), std::string::npos) << msg;
    for (const auto& f : families()) EXPECT_NE(msg.find(std::string(f.name)), std::string::npos) << msg;
    // Today's text, unchanged by the table.
    EXPECT_EQ(msg, "unknown model family 'detr' (use auto, yolox, yolov5, yolov8)");
  }
  // A name that differs from an alias by a suffix is not that alias.
  EXPECT_THROW(parse_family("yolov50"), ModelError);
  EXPECT_THROW(parse_family(" yolox"), ModelError);
}

TEST(Family, FamilyNamesJoinsTheTable) {
  EXPECT_EQ(family_names(", "), "yolox, yolov5, yolov8");
  EXPECT_EQ(family_names("|"), "yolox|yolov5|yolov8");
  std::string joined;
  for (const auto& f : families()) {
    if (!joined.empty()) joined += '/';
    joined += f.name;
  }
  EXPECT_EQ(family_names("/"), joined);
}

TEST(Family, InputSpecFollowsTheTable) {
  for (const auto& f : families()) {
    const InputSpec s = input_spec_for(f.id, 320, 256);
    EXPECT_EQ(s.width, 320) << f.name;
    EXPECT_EQ(s.height, 256) << f.name;
    EXPECT_EQ(s.rgb, f.input.rgb) << f.name;
    EXPECT_EQ(s.scale, f.input.scale) << f.name;
    EXPECT_EQ(s.pad, f.input.pad) << f.name;
    EXPECT_EQ(s.centred, f.input.centred) << f.name;
  }
  // Today's conventions.
  EXPECT_FALSE(traits(Family::YoloX).input.rgb);
  EXPECT_EQ(traits(Family::YoloX).input.scale, 1.0f);
  EXPECT_FALSE(traits(Family::YoloX).input.centred);
  for (Family f : {Family::YoloV5, Family::YoloV8}) {
    EXPECT_TRUE(traits(f).input.rgb);
    EXPECT_EQ(traits(f).input.scale, 1.0f / 255.0f);
    EXPECT_EQ(traits(f).input.pad, 114.0f);
    EXPECT_TRUE(traits(f).input.centred);
  }
  // Unknown keeps the convention it always had.
  const InputSpec u = input_spec_for(Family::Unknown, 640, 640);
  EXPECT_TRUE(u.rgb);
  EXPECT_EQ(u.scale, 1.0f / 255.0f);
  EXPECT_TRUE(u.centred);
}

TEST(Family, TodaysLayouts) {
  EXPECT_EQ(traits(Family::YoloX).layout, (OutputLayout{false, true, true}));
  EXPECT_EQ(traits(Family::YoloV5).layout, (OutputLayout{false, true, false}));
  EXPECT_EQ(traits(Family::YoloV8).layout, (OutputLayout{true, false, false}));
  for (const auto& f : families()) EXPECT_EQ(f.decode, generic_decoder(f.layout)) << f.name;
}

// --- decoding by layout ------------------------------------------------------

// A 64x64 input: grids 8x8 (stride 8), 4x4 (16), 2x2 (32) = 84 cells.
constexpr int kSide = 64;
constexpr int kCells = 84;
constexpr int kClasses = 3;
// The last cell: stride 32, gx = 1, gy = 1.
constexpr int kBoxRow = kCells - 1;

// One image's output of `layout` with kCells boxes, all empty but one: class
// 2, class score 0.9, objectness 0.8 (when the layout has it), and a box at
// (cx, cy, w, h) = (40, 24, 16, 8) in input pixels, or raw (0.25, 0.5, 0, ln 2)
// for a grid head, i.e. cx = 40, cy = 48, w = 32, h = 64. One more box, weaker
// than conf, must be dropped.
struct Synthetic {
  OutputLayout layout;
  int attrs = layout.box_attrs() + kClasses;
  std::vector<float> v = std::vector<float>(static_cast<std::size_t>(attrs) * kCells, 0.0f);

  explicit Synthetic(OutputLayout l) : layout(l) {
    put(kBoxRow, 0.9f);
    put(10, 0.1f);
  }
  float& at(int box, int attr) {
    const std::size_t i = layout.transposed ? static_cast<std::size_t>(attr) * kCells + box
                                            : static_cast<std::size_t>(box) * attrs + attr;
    return v[i];
  }
  void put(int box, float class_score) {
    if (layout.grid) {
      at(box, 0) = 0.25f;
      at(box, 1) = 0.5f;
      at(box, 2) = 0.0f;
      at(box, 3) = std::log(2.0f);
    } else {
      at(box, 0) = 40;
      at(box, 1) = 24;
      at(box, 2) = 16;
      at(box, 3) = 8;
    }
    if (layout.objectness) at(box, 4) = 0.8f;
    at(box, layout.box_attrs() + 2) = class_score;
  }
  OutputView view() const {
    return layout.transposed ? OutputView{v.data(), attrs, kCells} : OutputView{v.data(), kCells, attrs};
  }
  Detection expected() const {
    const float score = layout.objectness ? 0.9f * 0.8f : 0.9f;
    if (layout.grid) return Detection{2, score, Box{40 - 16, 48 - 32, 32, 64}};
    return Detection{2, score, Box{40 - 8, 24 - 4, 16, 8}};
  }
};

void expect_one_box(const std::vector<Detection>& d, const Detection& want, const std::string& what) {
  ASSERT_EQ(d.size(), 1u) << what;
  EXPECT_EQ(d[0].class_id, want.class_id) << what;
  EXPECT_FLOAT_EQ(d[0].confidence, want.confidence) << what;
  EXPECT_NEAR(d[0].box.x, want.box.x, 1e-4) << what;
  EXPECT_NEAR(d[0].box.y, want.box.y, 1e-4) << what;
  EXPECT_NEAR(d[0].box.w, want.box.w, 1e-4) << what;
  EXPECT_NEAR(d[0].box.h, want.box.h, 1e-4) << what;
}

std::string describe(OutputLayout l) {
  return std::string(l.transposed ? "transposed" : "rows") + (l.objectness ? "+objectness" : "") +
         (l.grid ? "+grid" : "");
}

TEST(Family, DecodeCandidatesDispatchesThroughTheTable) {
  for (const auto& f : families()) {
    const Synthetic out(f.layout);
    const auto d = decode_candidates(out.view(), f.id, kSide, kSide, opts_with());
    expect_one_box(d, out.expected(), std::string(f.name));
    // The same as calling the row's decoder directly.
    const auto direct = f.decode(out.view(), kSide, kSide, opts_with());
    ASSERT_EQ(direct.size(), d.size());
    // Class filter applies through the table too.
    EXPECT_TRUE(decode_candidates(out.view(), f.id, kSide, kSide, opts_with(0.25f, {0, 1})).empty()) << f.name;
    EXPECT_EQ(decode_candidates(out.view(), f.id, kSide, kSide, opts_with(0.05f)).size(), 2u) << f.name;
  }
  const Synthetic any(traits(Family::YoloX).layout);
  EXPECT_TRUE(decode_candidates(any.view(), Family::Unknown, kSide, kSide, opts_with()).empty());
  EXPECT_TRUE(decode_candidates(OutputView{}, Family::YoloX, kSide, kSide, opts_with()).empty());
}

TEST(Family, GenericDecoderHandlesEveryLayout) {
  for (bool transposed : {false, true}) {
    for (bool objectness : {false, true}) {
      for (bool grid : {false, true}) {
        const OutputLayout l{transposed, objectness, grid};
        const Synthetic out(l);
        expect_one_box(generic_decoder(l)(out.view(), kSide, kSide, opts_with()), out.expected(), describe(l));
        // No class columns: nothing.
        const OutputView none = l.transposed ? OutputView{out.v.data(), l.box_attrs(), kCells}
                                             : OutputView{out.v.data(), kCells, l.box_attrs()};
        EXPECT_TRUE(generic_decoder(l)(none, kSide, kSide, opts_with()).empty()) << describe(l);
      }
    }
  }
}

// --- frozen copies of the code the table replaced ---------------------------

Family legacy_detect_family(const std::vector<int>& shape, int input_w, int input_h) {
  std::vector<int> dims = shape;
  while (dims.size() > 2 && dims.front() == 1) dims.erase(dims.begin());
  if (dims.size() != 2) return Family::Unknown;
  const int a = dims[0];
  const int b = dims[1];
  const int cells = grid_cells(input_w, input_h);
  if (cells <= 0) return Family::Unknown;
  if (a < b && a > 4 && b % cells == 0) return Family::YoloV8;
  if (b <= 5) return Family::Unknown;
  if (a == 3 * cells) return Family::YoloV5;
  if (a % cells == 0) return Family::YoloX;
  if (a < b && a > 4) return Family::YoloV8;
  return Family::Unknown;
}

TEST(Family, DetectFamilyMatchesTheRulesItReplaced) {
  const std::vector<std::pair<int, int>> inputs = {{416, 416}, {640, 640}, {640, 384}, {64, 64},
                                                   {32, 32},   {0, 0},     {7, 7}};
  int checked = 0;
  for (const auto& [w, h] : inputs) {
    const int c = grid_cells(w, h);
    std::vector<int> dims = {0, 1, 3, 4, 5, 6, 7, 84, 85, 100, 1000, 8400, 10000};
    for (int k : {1, 2, 3, 4, 8}) {
      dims.push_back(k * c);
      dims.push_back(k * c + 1);
      dims.push_back(k * c - 1);
    }
    for (int a : dims) {
      for (int b : dims) {
        for (const std::vector<int>& shape : {std::vector<int>{a, b}, std::vector<int>{1, a, b},
                                              std::vector<int>{2, a, b}, std::vector<int>{1, 1, a, b}}) {
          ASSERT_EQ(detect_family(shape, w, h), legacy_detect_family(shape, w, h))
              << a << "x" << b << " rank " << shape.size() << " at " << w << "x" << h;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 10000);
  // The precedence the fits encode: transposed grid over anchor grid, anchor
  // grid over grid, grid over a loose transposed fit.
  const int c = grid_cells(416, 416);
  EXPECT_EQ(detect_family({1, 3 * c, 4 * c}, 416, 416), Family::YoloV8);
  EXPECT_EQ(detect_family({1, 3 * c, 85}, 416, 416), Family::YoloV5);
  EXPECT_EQ(detect_family({1, c, c + 1}, 416, 416), Family::YoloX);
  EXPECT_EQ(detect_family({1, 84, c + 1}, 416, 416), Family::YoloV8);
}

Box legacy_from_centre(float cx, float cy, float w, float h) { return Box{cx - w / 2, cy - h / 2, w, h}; }

std::pair<int, float> legacy_best_class(const float* scores, int n, int step, const PostprocessOptions& opts) {
  int best = -1;
  float best_score = -1.0f;
  for (int c = 0; c < n; ++c) {
    const float s = scores[static_cast<std::ptrdiff_t>(c) * step];
    if (s > best_score) {
      best_score = s;
      best = c;
    }
  }
  if (best < 0 || !(opts.classes.empty() || std::binary_search(opts.classes.begin(), opts.classes.end(), best)))
    return {-1, -1.0f};
  return {best, best_score};
}

std::vector<Detection> legacy_decode(const OutputView& out, Family family, int input_w, int input_h,
                                     const PostprocessOptions& opts) {
  std::vector<Detection> dets;
  if (!out.data) return dets;
  if (family == Family::YoloV8) {
    const int attrs = out.rows;
    const int boxes = out.cols;
    const int classes = attrs - 4;
    if (classes <= 0) return dets;
    for (int b = 0; b < boxes; ++b) {
      auto [cls, score] =
          legacy_best_class(out.data + static_cast<std::ptrdiff_t>(4) * boxes + b, classes, boxes, opts);
      if (cls < 0 || score < opts.conf) continue;
      dets.push_back(Detection{
          cls, score,
          legacy_from_centre(out.data[b], out.data[boxes + b], out.data[2 * boxes + b], out.data[3 * boxes + b])});
    }
    return dets;
  }
  const int attrs = out.cols;
  const int classes = attrs - 5;
  if (classes <= 0) return dets;
  if (family == Family::YoloV5) {
    for (int r = 0; r < out.rows; ++r) {
      const float* row = out.data + static_cast<std::ptrdiff_t>(r) * attrs;
      const float obj = row[4];
      if (obj < opts.conf) continue;
      auto [cls, score] = legacy_best_class(row + 5, classes, 1, opts);
      score *= obj;
      if (cls < 0 || score < opts.conf) continue;
      dets.push_back(Detection{cls, score, legacy_from_centre(row[0], row[1], row[2], row[3])});
    }
    return dets;
  }
  if (family == Family::YoloX) {
    const int cells = grid_cells(input_w, input_h);
    int r = 0;
    while (r < out.rows) {
      for (int stride : {8, 16, 32}) {
        const int gw = input_w / stride;
        const int gh = input_h / stride;
        for (int gy = 0; gy < gh; ++gy) {
          for (int gx = 0; gx < gw; ++gx, ++r) {
            if (r >= out.rows) return dets;
            const float* row = out.data + static_cast<std::ptrdiff_t>(r) * attrs;
            const float obj = row[4];
            if (obj < opts.conf) continue;
            auto [cls, score] = legacy_best_class(row + 5, classes, 1, opts);
            score *= obj;
            if (cls < 0 || score < opts.conf) continue;
            const float s = static_cast<float>(stride);
            const float cx = (row[0] + static_cast<float>(gx)) * s;
            const float cy = (row[1] + static_cast<float>(gy)) * s;
            const float w = std::exp(row[2]) * s;
            const float h = std::exp(row[3]) * s;
            dets.push_back(Detection{cls, score, legacy_from_centre(cx, cy, w, h)});
          }
        }
      }
      if (cells <= 0) break;
    }
    return dets;
  }
  return dets;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void expect_bit_identical(const std::vector<Detection>& got, const std::vector<Detection>& want,
                          const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].class_id, want[i].class_id) << what << " #" << i;
    ASSERT_TRUE(same_bits(got[i].confidence, want[i].confidence)) << what << " #" << i;
    ASSERT_TRUE(same_bits(got[i].box.x, want[i].box.x)) << what << " #" << i;
    ASSERT_TRUE(same_bits(got[i].box.y, want[i].box.y)) << what << " #" << i;
    ASSERT_TRUE(same_bits(got[i].box.w, want[i].box.w)) << what << " #" << i;
    ASSERT_TRUE(same_bits(got[i].box.h, want[i].box.h)) << what << " #" << i;
  }
}

TEST(Family, DecodeIsBitIdenticalToTheCodeItReplaced) {
  struct Case {
    Family family;
    int rows, cols, w, h;
  };
  const int x416 = grid_cells(416, 416);
  const std::vector<Case> cases = {
      {Family::YoloX, x416, 85, 416, 416},      // yolox_nano
      {Family::YoloX, 2 * x416, 85, 416, 416},  // batch flattened into the box axis
      {Family::YoloX, x416 + 7, 85, 416, 416},  // a partial repetition
      {Family::YoloX, grid_cells(640, 384), 6, 640, 384},
      {Family::YoloX, 10, 85, 0, 0},  // no grid
      {Family::YoloV5, 3 * grid_cells(640, 640), 85, 640, 640},
      {Family::YoloV5, 100, 5, 640, 640},  // no class columns
      {Family::YoloV8, 84, grid_cells(640, 640), 640, 640},
      {Family::YoloV8, 5, 333, 640, 640},
      {Family::YoloV8, 4, 333, 640, 640},  // no class columns
  };
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::uniform_real_distribution<float> coord(-2.0f, 640.0f);
  std::size_t decoded = 0;
  for (const auto& c : cases) {
    std::vector<float> v(static_cast<std::size_t>(c.rows) * c.cols);
    // Coordinates anywhere, scores mostly low with some high ones, so that
    // thresholds and the objectness gate both bite.
    for (auto& x : v) x = unit(rng) < 0.3f ? coord(rng) / 100.0f : unit(rng) * unit(rng);
    const OutputView view{v.data(), c.rows, c.cols};
    for (const auto& opts : {opts_with(0.25f), opts_with(0.05f), opts_with(0.3f, {0, 2, 17, 79}), opts_with(0.0f)}) {
      const std::string what = family_name(c.family) + " " + std::to_string(c.rows) + "x" + std::to_string(c.cols) +
                               " conf " + std::to_string(opts.conf);
      const auto want = legacy_decode(view, c.family, c.w, c.h, opts);
      expect_bit_identical(decode_candidates(view, c.family, c.w, c.h, opts), want, what);
      decoded += want.size();
    }
  }
  EXPECT_GT(decoded, 10000u);  // the comparison saw plenty of boxes
}

}  // namespace
}  // namespace vidsift
