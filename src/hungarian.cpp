#include "vidsift/hungarian.h"

#include <algorithm>
#include <limits>

namespace vidsift {

std::vector<int> solve_assignment(const std::vector<double>& cost, int rows, int cols, double limit) {
  std::vector<int> result(static_cast<std::size_t>(std::max(rows, 0)), -1);
  if (rows <= 0 || cols <= 0) return result;
  const int n = std::max(rows, cols);
  auto a = [&](int i, int j) {  // 1-based, padded, clipped at limit
    if (i > rows || j > cols) return limit;
    return std::min(
        cost[static_cast<std::size_t>(i - 1) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(j - 1)],
        limit);
  };
  const double inf = std::numeric_limits<double>::infinity();
  const auto sz = static_cast<std::size_t>(n + 1);
  std::vector<double> u(sz, 0), v(sz, 0);
  std::vector<int> p(sz, 0), way(sz, 0);  // p[j]: row matched to column j
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::vector<double> minv(sz, inf);
    std::vector<char> used(sz, 0);
    do {
      used[static_cast<std::size_t>(j0)] = 1;
      const int i0 = p[static_cast<std::size_t>(j0)];
      double delta = inf;
      int j1 = 0;
      for (int j = 1; j <= n; ++j) {
        const auto uj = static_cast<std::size_t>(j);
        if (used[uj]) continue;
        const double cur = a(i0, j) - u[static_cast<std::size_t>(i0)] - v[uj];
        if (cur < minv[uj]) {
          minv[uj] = cur;
          way[uj] = j0;
        }
        if (minv[uj] < delta) {
          delta = minv[uj];
          j1 = j;
        }
      }
      for (int j = 0; j <= n; ++j) {
        const auto uj = static_cast<std::size_t>(j);
        if (used[uj]) {
          u[static_cast<std::size_t>(p[uj])] += delta;
          v[uj] -= delta;
        } else {
          minv[uj] -= delta;
        }
      }
      j0 = j1;
    } while (p[static_cast<std::size_t>(j0)] != 0);
    do {
      const int j1 = way[static_cast<std::size_t>(j0)];
      p[static_cast<std::size_t>(j0)] = p[static_cast<std::size_t>(j1)];
      j0 = j1;
    } while (j0 != 0);
  }
  for (int j = 1; j <= cols; ++j) {
    const int i = p[static_cast<std::size_t>(j)];
    if (i < 1 || i > rows) continue;
    if (cost[static_cast<std::size_t>(i - 1) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(j - 1)] <
        limit)
      result[static_cast<std::size_t>(i - 1)] = j - 1;
  }
  return result;
}

}  // namespace vidsift
