// hungarian.h — optimal assignment (minimum-cost bipartite matching) for the
// tracker's association step.
//
// Contract:
//  * solve_assignment(cost, rows, cols, limit) takes a rows x cols cost matrix
//    (row-major, finite values) and returns, for each row, the column it is
//    assigned to, or -1. Only pairs with cost < limit may be assigned. Among
//    all such matchings it returns one that maximises the sum of
//    (limit - cost) over assigned pairs (equivalently: minimises the total
//    cost when every unassigned row and column costs limit). Each column is
//    used at most once.
//  * The Hungarian method (Kuhn-Munkres, shortest augmenting paths with
//    potentials) on the square matrix min(cost, limit) padded with `limit`:
//    O(n^3) for n = max(rows, cols). Tracker matrices are small (tens).
//  * rows or cols 0 gives all -1 (or an empty result).
// Pure function; thread-safe.
#pragma once

#include <vector>

namespace vidsift {

std::vector<int> solve_assignment(const std::vector<double>& cost, int rows, int cols, double limit);

}  // namespace vidsift
