// Tests for suggest.h: edit distance and "did you mean".
#include <gtest/gtest.h>

#include "vidsift/suggest.h"

namespace vidsift {
namespace {

TEST(Suggest, EditDistanceCountsEditsAndSwaps) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("keyframe", "keyframes"), 1u);
  EXPECT_EQ(edit_distance("preson", "person"), 1u);  // a swap of neighbours
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("Person", "person"), 0u);  // ASCII case is folded
}

TEST(Suggest, ClosestNameFindsPlausibleTypos) {
  const std::vector<std::string> opts = {"every", "fps", "keyframes", "start", "end", "workers", "retry-failed"};
  EXPECT_EQ(closest_name("keyframe", opts), "keyframes");
  EXPECT_EQ(closest_name("evrey", opts), "every");
  EXPECT_EQ(closest_name("worker", opts), "workers");
  EXPECT_EQ(closest_name("retry", opts), "retry-failed");  // an unfinished word
  EXPECT_EQ(closest_name("fsp", opts), "fps");
}

TEST(Suggest, ClosestNameSuggestsNothingWhenNothingIsNear) {
  const std::vector<std::string> opts = {"every", "fps", "keyframes"};
  EXPECT_EQ(closest_name("x", opts), "");
  EXPECT_EQ(closest_name("threads", opts), "");
  EXPECT_EQ(closest_name("", opts), "");
  EXPECT_EQ(closest_name("anything", {}), "");
}

TEST(Suggest, TiesGoToTheEarlierName) {
  EXPECT_EQ(closest_name("cat", {"car", "cap"}), "car");
  EXPECT_EQ(closest_name("cat", {"cap", "car"}), "cap");
}

TEST(Suggest, JoinNames) {
  EXPECT_EQ(join_names({}, ", "), "");
  EXPECT_EQ(join_names({"a"}, ", "), "a");
  EXPECT_EQ(join_names({"a", "b", "c"}, ", "), "a, b, c");
}

}  // namespace
}  // namespace vidsift
