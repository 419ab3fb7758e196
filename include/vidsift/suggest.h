// suggest.h — "did you mean ...?" for names the user mistyped.
//
// Contract:
//  * edit_distance(a, b): the Damerau–Levenshtein distance (insertions,
//    deletions, substitutions and swaps of two neighbours each cost 1),
//    comparing bytes, ASCII letters case-insensitively.
//  * closest_name(typed, names) returns the name in `names` nearest to
//    `typed`, or "" when none is near enough to be a plausible typo: the
//    distance must be at most max(1, length of typed / 3) (so "keyframe" ->
//    "keyframes", "preson" -> "person", but "x" suggests nothing). A name
//    that starts with `typed` (an unfinished word of 3+ characters) also
//    counts as near. Ties go to the earlier name in `names`.
//  * join_names(names, sep) concatenates names with `sep` (for listings).
// Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace vidsift {

std::size_t edit_distance(const std::string& a, const std::string& b);
std::string closest_name(const std::string& typed, const std::vector<std::string>& names);
std::string join_names(const std::vector<std::string>& names, const std::string& sep);

}  // namespace vidsift
