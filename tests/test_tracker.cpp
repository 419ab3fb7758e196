// The ByteTrack tracker on synthetic box sequences with known identities.
#include "vidsift/tracker.h"

#include <cmath>
#include <set>

#include <gtest/gtest.h>

namespace vidsift {
namespace {

Detection det(float x, float y, float conf = 0.9f, int cls = 0, float w = 40, float h = 100) {
  Detection d;
  d.class_id = cls;
  d.confidence = conf;
  d.box = Box{x, y, w, h};
  return d;
}

TEST(Tracker, IouOfBoxes) {
  EXPECT_DOUBLE_EQ(box_iou(Box{0, 0, 10, 10}, Box{0, 0, 10, 10}), 1.0);
  EXPECT_DOUBLE_EQ(box_iou(Box{0, 0, 10, 10}, Box{5, 0, 10, 10}), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(box_iou(Box{0, 0, 10, 10}, Box{20, 0, 10, 10}), 0.0);
  EXPECT_DOUBLE_EQ(box_iou(Box{0, 0, 0, 10}, Box{0, 0, 10, 10}), 0.0);
}

// Two people walking towards each other on the same line cross (their boxes
// overlap for several frames); each keeps its id because the filter carries
// its velocity through the crossing.
TEST(Tracker, CrossingPathsKeepTheirIds) {
  Tracker t;
  std::set<std::int64_t> a_ids, b_ids;
  for (int f = 0; f < 60; ++f) {
    const float xa = 20.0f + 8.0f * static_cast<float>(f);
    const float xb = 500.0f - 8.0f * static_cast<float>(f);
    const auto ids = t.update(f * 0.04, {det(xa, 100), det(xb, 104)});
    ASSERT_EQ(ids.size(), 2u);
    a_ids.insert(ids[0]);
    b_ids.insert(ids[1]);
  }
  EXPECT_EQ(a_ids.size(), 1u);
  EXPECT_EQ(b_ids.size(), 1u);
  EXPECT_NE(*a_ids.begin(), *b_ids.begin());
}

// ByteTrack's point: a box whose confidence dips under the threshold (an
// occluded person) still continues its track, and never starts one.
TEST(Tracker, LowConfidenceBoxesContinueButNeverStartTracks) {
  Tracker t;  // high 0.25, low 0.1
  std::int64_t id = -1;
  for (int f = 0; f < 30; ++f) {
    const float conf = (f >= 10 && f < 20) ? 0.15f : 0.9f;
    const auto ids = t.update(f * 0.04, {det(10.0f + 3 * static_cast<float>(f), 50, conf)});
    if (f == 0) id = ids[0];
    EXPECT_EQ(ids[0], id) << "frame " << f;
  }
  EXPECT_EQ(t.update(1.2, {det(400, 300, 0.2f)})[0], -1);    // a lone low box
  EXPECT_EQ(t.update(1.24, {det(400, 300, 0.05f)})[0], -1);  // under low_conf: ignored
}

TEST(Tracker, SecondStageIsWhatBridgesTheDip) {
  // The same walk with low boxes ignored (low_conf = high_conf): the track is
  // lost during the dip and the boxes after it are matched again from the
  // lost pool or not; either way the low boxes get no id.
  TrackerOptions o;
  o.low_conf = o.high_conf;
  Tracker t(o);
  for (int f = 0; f < 30; ++f) {
    const float conf = (f >= 10 && f < 20) ? 0.15f : 0.9f;
    const auto ids = t.update(f * 0.04, {det(10.0f + 3 * static_cast<float>(f), 50, conf)});
    if (f >= 10 && f < 20) {
      EXPECT_EQ(ids[0], -1);
    }
  }
}

TEST(Tracker, MatchingIsClassAware) {
  Tracker t;
  const auto a = t.update(0, {det(100, 100, 0.9f, 0)});
  const auto b = t.update(0.04, {det(100, 100, 0.9f, 2)});
  EXPECT_NE(a[0], b[0]);
  const auto c = t.update(0.08, {det(100, 100, 0.9f, 0), det(100, 100, 0.9f, 2)});
  EXPECT_EQ(c[0], a[0]);
  EXPECT_EQ(c[1], b[0]);
}

// The lost-track buffer is in seconds of video time: the same gap gives the
// same outcome whether frames are 0.04 s or 0.4 s apart.
TEST(Tracker, LostBufferIsInSecondsWhateverTheSampling) {
  for (double step : {0.04, 0.2, 0.4}) {
    for (double gap : {1.2, 2.0}) {
      TrackerOptions o;
      o.lost_seconds = 1.5;
      Tracker t(o);
      const auto first = t.update(0, {det(100, 100)});
      t.update(step, {det(100, 100)});
      double ts = step;
      for (ts += step; ts < step + gap - 1e-9; ts += step) t.update(ts, {});
      const auto again = t.update(ts, {det(100, 100)});
      if (gap < 1.5) {
        EXPECT_EQ(again[0], first[0]) << "step " << step << " gap " << gap;
      } else {
        EXPECT_NE(again[0], first[0]) << "step " << step << " gap " << gap;
      }
    }
  }
}

TEST(Tracker, IdsAreSequentialAndDeterministic) {
  Tracker t;
  const auto ids = t.update(0, {det(0, 0), det(200, 0), det(400, 0)});
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(t.next_id(), 4);
}

// A resumed video replays its stored frames with their ids, then continues:
// with only high-confidence boxes the ids equal an uninterrupted run's.
TEST(Tracker, RestoreThenContinueEqualsOneRun) {
  std::vector<std::vector<Detection>> frames;
  for (int f = 0; f < 80; ++f) {
    std::vector<Detection> d;
    d.push_back(det(20.0f + 6.0f * static_cast<float>(f), 100));
    d.push_back(det(520.0f - 6.0f * static_cast<float>(f), 102));
    if (f > 30 && f < 50) d.push_back(det(300, 300, 0.8f, 2));
    if (f % 17 == 0) d.push_back(det(50.0f * static_cast<float>(f % 5), 400, 0.9f, 1, 20, 20));
    frames.push_back(std::move(d));
  }
  Tracker whole;
  std::vector<std::vector<std::int64_t>> ids;
  for (std::size_t f = 0; f < frames.size(); ++f) ids.push_back(whole.update(0.04 * f, frames[f]));
  for (std::size_t cut : {1u, 20u, 40u, 45u, 79u}) {
    Tracker resumed;
    for (std::size_t f = 0; f < cut; ++f) resumed.restore(0.04 * f, frames[f], ids[f]);
    for (std::size_t f = cut; f < frames.size(); ++f)
      EXPECT_EQ(resumed.update(0.04 * f, frames[f]), ids[f]) << "cut " << cut << " frame " << f;
  }
}

}  // namespace
}  // namespace vidsift
