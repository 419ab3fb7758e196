// Optimal assignment against brute force on random matrices.
#include "vidsift/hungarian.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include <gtest/gtest.h>

namespace vidsift {
namespace {

// The objective: sum over assigned pairs of (limit - cost).
double gain(const std::vector<double>& c, int cols, const std::vector<int>& a, double limit) {
  double g = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] >= 0) g += limit - c[i * static_cast<std::size_t>(cols) + static_cast<std::size_t>(a[i])];
  return g;
}

// Best gain over every partial matching (each row: a free column or none).
double brute(const std::vector<double>& c, int rows, int cols, double limit, int row, std::vector<char>& used) {
  if (row == rows) return 0;
  double best = brute(c, rows, cols, limit, row + 1, used);  // row unassigned
  for (int j = 0; j < cols; ++j) {
    const double cost = c[static_cast<std::size_t>(row) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(j)];
    if (used[static_cast<std::size_t>(j)] || !(cost < limit)) continue;
    used[static_cast<std::size_t>(j)] = 1;
    best = std::max(best, limit - cost + brute(c, rows, cols, limit, row + 1, used));
    used[static_cast<std::size_t>(j)] = 0;
  }
  return best;
}

TEST(Hungarian, MatchesBruteForceOnRandomMatrices) {
  std::mt19937 rng(12345);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  for (int trial = 0; trial < 400; ++trial) {
    const int rows = 1 + static_cast<int>(rng() % 6);
    const int cols = 1 + static_cast<int>(rng() % 6);
    const double limit = trial % 3 == 0 ? 2.0 : 0.3 + 0.6 * u01(rng);  // 2.0: no pair is forbidden
    std::vector<double> c(static_cast<std::size_t>(rows * cols));
    for (auto& x : c) x = u01(rng);
    const auto a = solve_assignment(c, rows, cols, limit);
    ASSERT_EQ(static_cast<int>(a.size()), rows);
    std::set<int> seen;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i] < 0) continue;
      ASSERT_LT(a[i], cols);
      EXPECT_TRUE(seen.insert(a[i]).second) << "column used twice";
      EXPECT_LT(c[i * static_cast<std::size_t>(cols) + static_cast<std::size_t>(a[i])], limit);
    }
    std::vector<char> used(static_cast<std::size_t>(cols), 0);
    EXPECT_NEAR(gain(c, cols, a, limit), brute(c, rows, cols, limit, 0, used), 1e-9)
        << "trial " << trial << " " << rows << "x" << cols << " limit " << limit;
  }
}

TEST(Hungarian, PrefersTheGlobalOptimumOverGreedy) {
  // Greedy would take (0,0) at 0.1 and leave row 1 with 0.9; optimal is the
  // cross assignment (0.2 + 0.2).
  const std::vector<double> c = {0.1, 0.2, 0.2, 0.9};
  const auto a = solve_assignment(c, 2, 2, 1.0);
  EXPECT_EQ(a, (std::vector<int>{1, 0}));
}

TEST(Hungarian, EmptyAndForbidden) {
  EXPECT_TRUE(solve_assignment({}, 0, 3, 1.0).empty());
  EXPECT_EQ(solve_assignment({}, 2, 0, 1.0), (std::vector<int>{-1, -1}));
  EXPECT_EQ(solve_assignment({0.9, 0.95}, 1, 2, 0.8), (std::vector<int>{-1}));
}

}  // namespace
}  // namespace vidsift
