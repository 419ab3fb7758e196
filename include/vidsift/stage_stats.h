// stage_stats.h — per-stage timing statistics with bounded memory.
//
// Contract:
//  * StageStats::add(seconds) records one sample. count, total, mean and max
//    are exact; p50 and p95 come from a log-spaced histogram (buckets 2% wide
//    from 1 µs to ~1 hour), so they are within 2% of the true quantile.
//    Memory is fixed whatever the number of samples.
//  * merge() adds another StageStats' samples (for per-run totals).
//  * StageTimer measures wall time with steady_clock.
// Not thread-safe: each StageStats is owned by one thread at a time.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace vidsift {

// Track: the tracker (--track), timed per frame in the store node; its
// count stays 0 when the run does not track.
enum class Stage { Decode, Preprocess, Infer, Postprocess, Store, Track };
inline constexpr int kStageCount = 6;
const char* stage_name(Stage s);

class StageStats {
 public:
  void add(double seconds);
  void merge(const StageStats& other);

  std::int64_t count() const { return count_; }
  double total() const { return total_; }
  double mean() const { return count_ ? total_ / static_cast<double>(count_) : 0.0; }
  double max() const { return max_; }
  double quantile(double q) const;  // q in [0,1]; seconds

 private:
  static constexpr int kBuckets = 1200;
  static int bucket_for(double seconds);
  static double bucket_value(int b);
  std::int64_t count_ = 0;
  double total_ = 0.0;
  double max_ = 0.0;
  std::vector<std::uint32_t> hist_;  // allocated on first add
};

// One StageStats per stage.
struct StageTimings {
  std::array<StageStats, kStageCount> stages;
  StageStats& operator[](Stage s) { return stages[static_cast<std::size_t>(s)]; }
  const StageStats& operator[](Stage s) const { return stages[static_cast<std::size_t>(s)]; }
  void merge(const StageTimings& o) {
    for (std::size_t i = 0; i < stages.size(); ++i) stages[i].merge(o.stages[i]);
  }
};

class StageTimer {
 public:
  StageTimer() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  double lap() {
    auto now = std::chrono::steady_clock::now();
    double s = std::chrono::duration<double>(now - start_).count();
    start_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace vidsift
