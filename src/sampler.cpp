#include "vidsift/sampler.h"

#include <cmath>
#include <sstream>

namespace vidsift {

namespace {
constexpr double kEps = 1e-4;  // seconds: tolerance for timestamp rounding
}

std::string SamplingOptions::validate() const {
  // NaN and infinity parse as doubles on the command line; reject them here
  // (an infinite --start would overflow the decoder's seek target, a huge
  // --fps the sampler's tick arithmetic). Each check says "inside the range",
  // so NaN fails it.
  const std::string max_s = std::to_string(static_cast<long long>(kMaxSamplingSeconds));
  if (every < 1) return "--every must be >= 1";
  if (!(fps >= 0 && fps <= kMaxSamplingFps))
    return "--fps must be a number within 0.." + std::to_string(static_cast<int>(kMaxSamplingFps)) + " (0 = off)";
  if (!(start >= 0 && start <= kMaxSamplingSeconds)) return "--start must be a number of seconds within 0.." + max_s;
  if (!(std::isfinite(end) && end <= kMaxSamplingSeconds))
    return "--end must be a number of seconds up to " + max_s + " (<= 0 for no end)";
  if (end > 0 && end <= start) return "--end must be greater than --start";
  return {};
}

std::string SamplingOptions::describe() const {
  std::ostringstream s;
  s << "every=" << every << ";fps=" << fps << ";keyframes=" << (keyframes ? 1 : 0) << ";start=" << start
    << ";end=" << end;
  return s.str();
}

Sampler::Sampler(const SamplingOptions& opts) : opts_(opts), next_tick_(opts.start) {}

void Sampler::advance_tick(double ts) {
  // Next tick strictly after this frame's slot.
  const double k = std::floor((ts - opts_.start) * opts_.fps + kEps) + 1.0;
  next_tick_ = opts_.start + k / opts_.fps;
}

void Sampler::resume_after(std::int64_t index, double ts) {
  resume_index_ = index;
  resume_ts_ = ts;
  if (opts_.fps > 0) advance_tick(ts);
}

bool Sampler::take(std::int64_t index, double ts) {
  if (index <= resume_index_) return false;
  if (ts + kEps < opts_.start) return false;
  if (done(ts)) return false;
  if (opts_.every > 1 && index % opts_.every != 0) return false;
  if (opts_.fps > 0) {
    if (ts + kEps < next_tick_) return false;
    advance_tick(ts);
  }
  return true;
}

bool Sampler::may_take(double ts) const {
  if (ts + kEps < opts_.start || done(ts)) return false;
  if (resume_index_ >= 0 && ts + kEps < resume_ts_) return false;  // analysed before
  // next_tick_ only grows, so a frame before it now stays rejected.
  if (opts_.fps > 0 && ts + kEps < next_tick_) return false;
  return true;
}

bool Sampler::done(double ts) const { return opts_.end > 0 && ts + kEps >= opts_.end; }

}  // namespace vidsift
