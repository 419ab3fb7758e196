#include "vidsift/tracker.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <opencv2/core.hpp>

#include "vidsift/hungarian.h"

namespace vidsift {

double box_iou(const Box& a, const Box& b) {
  if (a.w <= 0 || a.h <= 0 || b.w <= 0 || b.h <= 0) return 0;
  const double x1 = std::max(a.x, b.x), y1 = std::max(a.y, b.y);
  const double x2 = std::min(a.x + a.w, b.x + b.w), y2 = std::min(a.y + a.h, b.y + b.h);
  const double inter = std::max(0.0, x2 - x1) * std::max(0.0, y2 - y1);
  const double uni = static_cast<double>(a.w) * a.h + static_cast<double>(b.w) * b.h - inter;
  return uni > 0 ? inter / uni : 0;
}

namespace {

Box widen(const Box& b, double f) {
  const double dx = b.w * f, dy = b.h * f;
  return Box{static_cast<float>(b.x - dx), static_cast<float>(b.y - dy), static_cast<float>(b.w + 2 * dx),
             static_cast<float>(b.h + 2 * dy)};
}

using Vec8 = cv::Matx<double, 8, 1>;
using Mat8 = cv::Matx<double, 8, 8>;
using Vec4 = cv::Matx<double, 4, 1>;
using Mat4 = cv::Matx<double, 4, 4>;
using Mat48 = cv::Matx<double, 4, 8>;

// ByteTrack's / DeepSORT's noise model: standard deviations relative to the
// box height.
constexpr double kStdPos = 1.0 / 20;
constexpr double kStdVel = 1.0 / 160;

Vec4 measure(const Box& b) {
  const double h = std::max(1e-3f, b.h);
  return Vec4(b.x + b.w / 2.0, b.y + b.h / 2.0, b.w / h, h);
}

struct Kalman {
  Vec8 mean;
  Mat8 cov;

  static Mat8 transition() {
    Mat8 f = Mat8::eye();
    for (int i = 0; i < 4; ++i) f(i, i + 4) = 1;
    return f;
  }
  static Mat48 observation() {
    Mat48 h;
    for (int i = 0; i < 4; ++i) h(i, i) = 1;
    return h;
  }

  explicit Kalman(const Box& b) {
    const Vec4 z = measure(b);
    for (int i = 0; i < 4; ++i) mean(i) = z(i);
    const double h = z(3);
    const double sd[8] = {2 * kStdPos * h,  2 * kStdPos * h,  1e-2, 2 * kStdPos * h,
                          10 * kStdVel * h, 10 * kStdVel * h, 1e-5, 10 * kStdVel * h};
    cov = Mat8::zeros();
    for (int i = 0; i < 8; ++i) cov(i, i) = sd[i] * sd[i];
  }

  void predict(bool lost) {
    if (lost) mean(7) = 0;  // a lost track keeps its course but not its growth
    const double h = mean(3);
    const double sd[8] = {kStdPos * h, kStdPos * h, 1e-2, kStdPos * h, kStdVel * h, kStdVel * h, 1e-5, kStdVel * h};
    Mat8 q = Mat8::zeros();
    for (int i = 0; i < 8; ++i) q(i, i) = sd[i] * sd[i];
    const Mat8 f = transition();
    mean = f * mean;
    cov = f * cov * f.t() + q;
  }

  void correct(const Box& b) {
    const Vec4 z = measure(b);
    const double h = mean(3);
    const double sd[4] = {kStdPos * h, kStdPos * h, 1e-1, kStdPos * h};
    Mat4 r = Mat4::zeros();
    for (int i = 0; i < 4; ++i) r(i, i) = sd[i] * sd[i];
    const Mat48 hm = observation();
    const Mat4 s = hm * cov * hm.t() + r;
    const cv::Matx<double, 8, 4> k = cov * hm.t() * s.inv(cv::DECOMP_CHOLESKY);
    mean = mean + k * (z - hm * mean);
    cov = cov - k * s * k.t();
  }

  Box box() const {
    const double h = std::max(0.0, mean(3));
    const double w = std::max(0.0, mean(2) * h);
    return Box{static_cast<float>(mean(0) - w / 2), static_cast<float>(mean(1) - h / 2), static_cast<float>(w),
               static_cast<float>(h)};
  }
};

struct Track {
  std::int64_t id = 0;
  int class_id = 0;
  Kalman kf;
  double last_ts = 0;
  bool lost = false;
};

}  // namespace

struct Tracker::Impl {
  TrackerOptions opts;
  std::vector<Track> tracks;  // tracked and lost, in creation order
  std::int64_t next_id = 1;
  double buffer = 0;   // this frame's box widening (see TrackerOptions)
  double last_ts = 0;  // the previous frame's time
  bool seen_frame = false;

  void begin_frame(double ts) {
    const double gap = seen_frame ? std::max(0.0, ts - last_ts) : 0.0;
    buffer = std::min(opts.max_buffer, opts.buffer_per_second * gap);
    last_ts = ts;
    seen_frame = true;
  }

  void predict_all() {
    for (auto& t : tracks) t.kf.predict(t.lost);
  }

  // Optimal assignment of `cand` tracks to `boxes` (indices into dets) by
  // 1 - IoU, class-aware; returns box index per candidate or -1.
  std::vector<int> associate(const std::vector<std::size_t>& cand, const std::vector<std::size_t>& boxes,
                             const std::vector<Detection>& dets, double min_iou) const {
    const int rows = static_cast<int>(cand.size());
    const int cols = static_cast<int>(boxes.size());
    const double limit = 1.0 - min_iou;
    std::vector<double> cost(static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols), 1.0);
    for (int i = 0; i < rows; ++i) {
      const Track& t = tracks[cand[static_cast<std::size_t>(i)]];
      const Box pb = widen(t.kf.box(), buffer);
      for (int j = 0; j < cols; ++j) {
        const Detection& d = dets[boxes[static_cast<std::size_t>(j)]];
        if (d.class_id != t.class_id) continue;
        cost[static_cast<std::size_t>(i) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(j)] =
            1.0 - box_iou(pb, widen(d.box, buffer));
      }
    }
    return solve_assignment(cost, rows, cols, limit);
  }

  void expire(double ts) {
    tracks.erase(std::remove_if(tracks.begin(), tracks.end(),
                                [&](const Track& t) { return t.lost && ts - t.last_ts > opts.lost_seconds + 1e-9; }),
                 tracks.end());
  }

  void start(const Detection& d, double ts, std::int64_t id) {
    Track t{id, d.class_id, Kalman(d.box), ts, false};
    tracks.push_back(std::move(t));
  }
};

Tracker::Tracker(TrackerOptions opts) : impl_(std::make_unique<Impl>()) { impl_->opts = opts; }
Tracker::~Tracker() = default;
Tracker::Tracker(Tracker&&) noexcept = default;
Tracker& Tracker::operator=(Tracker&&) noexcept = default;

std::size_t Tracker::live_tracks() const { return impl_->tracks.size(); }
std::int64_t Tracker::next_id() const { return impl_->next_id; }
const TrackerOptions& Tracker::options() const { return impl_->opts; }

std::vector<std::int64_t> Tracker::update(double ts, const std::vector<Detection>& dets) {
  Impl& m = *impl_;
  std::vector<std::int64_t> ids(dets.size(), -1);
  std::vector<std::size_t> high, low;
  for (std::size_t i = 0; i < dets.size(); ++i) {
    if (dets[i].confidence >= m.opts.high_conf) {
      high.push_back(i);
    } else if (dets[i].confidence >= m.opts.low_conf) {
      low.push_back(i);
    }
  }
  m.begin_frame(ts);
  m.predict_all();
  std::vector<char> matched(m.tracks.size(), 0);

  // 1. High-confidence boxes against every live track (tracked and lost).
  std::vector<std::size_t> cand(m.tracks.size());
  for (std::size_t i = 0; i < cand.size(); ++i) cand[i] = i;
  std::vector<char> high_used(high.size(), 0);
  const auto a1 = m.associate(cand, high, dets, m.opts.match_iou);
  for (std::size_t i = 0; i < a1.size(); ++i) {
    if (a1[i] < 0) continue;
    Track& t = m.tracks[cand[i]];
    const std::size_t di = high[static_cast<std::size_t>(a1[i])];
    t.kf.correct(dets[di].box);
    t.last_ts = ts;
    t.lost = false;
    matched[cand[i]] = 1;
    high_used[static_cast<std::size_t>(a1[i])] = 1;
    ids[di] = t.id;
  }

  // 2. Low-confidence boxes against the tracked tracks still unmatched.
  std::vector<std::size_t> cand2;
  for (std::size_t i = 0; i < m.tracks.size(); ++i)
    if (!matched[i] && !m.tracks[i].lost) cand2.push_back(i);
  const auto a2 = m.associate(cand2, low, dets, m.opts.low_match_iou);
  for (std::size_t i = 0; i < a2.size(); ++i) {
    if (a2[i] < 0) continue;
    Track& t = m.tracks[cand2[i]];
    const std::size_t di = low[static_cast<std::size_t>(a2[i])];
    t.kf.correct(dets[di].box);
    t.last_ts = ts;
    matched[cand2[i]] = 1;
    ids[di] = t.id;
  }

  // 3. Tracked tracks without a box are lost.
  for (std::size_t i = 0; i < m.tracks.size(); ++i)
    if (!matched[i]) m.tracks[i].lost = true;

  // 4. Unmatched high-confidence boxes start tracks.
  for (std::size_t j = 0; j < high.size(); ++j) {
    if (high_used[j]) continue;
    ids[high[j]] = m.next_id;
    m.start(dets[high[j]], ts, m.next_id++);
  }

  // 5. Lost too long: gone.
  m.expire(ts);
  return ids;
}

void Tracker::restore(double ts, const std::vector<Detection>& dets, const std::vector<std::int64_t>& ids) {
  Impl& m = *impl_;
  m.begin_frame(ts);
  m.predict_all();
  std::map<std::int64_t, std::size_t> by_id;
  for (std::size_t i = 0; i < m.tracks.size(); ++i) by_id[m.tracks[i].id] = i;
  std::vector<char> matched(m.tracks.size(), 0);
  std::vector<std::pair<std::size_t, std::int64_t>> fresh;
  for (std::size_t i = 0; i < dets.size() && i < ids.size(); ++i) {
    if (ids[i] <= 0) continue;
    auto it = by_id.find(ids[i]);
    if (it == by_id.end()) {
      fresh.emplace_back(i, ids[i]);
      continue;
    }
    Track& t = m.tracks[it->second];
    t.kf.correct(dets[i].box);
    t.last_ts = ts;
    t.lost = false;
    matched[it->second] = 1;
  }
  for (std::size_t i = 0; i < matched.size(); ++i)
    if (!matched[i]) m.tracks[i].lost = true;
  for (const auto& [i, id] : fresh) {
    m.start(dets[i], ts, id);
    m.next_id = std::max(m.next_id, id + 1);
  }
  m.expire(ts);
}

}  // namespace vidsift
