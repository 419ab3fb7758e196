#include "vidsift/stage_stats.h"

#include <algorithm>
#include <cmath>

namespace vidsift {

const char* stage_name(Stage s) {
  switch (s) {
    case Stage::Decode: return "decode";
    case Stage::Preprocess: return "preprocess";
    case Stage::Infer: return "infer";
    case Stage::Postprocess: return "postprocess";
    case Stage::Store: return "store";
    case Stage::Track: return "track";
  }
  return "?";
}

namespace {
constexpr double kMin = 1e-6;            // 1 µs
const double kLogStep = std::log(1.02);  // 2% buckets
}  // namespace

int StageStats::bucket_for(double seconds) {
  if (seconds <= kMin) return 0;
  const int b = 1 + static_cast<int>(std::log(seconds / kMin) / kLogStep);
  return std::min(b, kBuckets - 1);
}

double StageStats::bucket_value(int b) {
  if (b == 0) return kMin;
  // Geometric middle of the bucket.
  return kMin * std::exp((b - 0.5) * kLogStep);
}

void StageStats::add(double seconds) {
  if (seconds < 0) seconds = 0;
  if (hist_.empty()) hist_.assign(kBuckets, 0);
  ++hist_[static_cast<std::size_t>(bucket_for(seconds))];
  ++count_;
  total_ += seconds;
  max_ = std::max(max_, seconds);
}

void StageStats::merge(const StageStats& other) {
  if (other.count_ == 0) return;
  if (hist_.empty()) hist_.assign(kBuckets, 0);
  for (std::size_t i = 0; i < hist_.size(); ++i) hist_[i] += other.hist_[i];
  count_ += other.count_;
  total_ += other.total_;
  max_ = std::max(max_, other.max_);
}

double StageStats::quantile(double q) const {
  if (count_ == 0) return 0.0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<std::int64_t>(std::ceil(q * static_cast<double>(count_)));
  std::int64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += hist_[static_cast<std::size_t>(b)];
    if (seen >= std::max<std::int64_t>(rank, 1)) return std::min(bucket_value(b), max_);
  }
  return max_;
}

}  // namespace vidsift
