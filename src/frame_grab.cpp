#include "vidsift/frame_grab.h"

#include <sys/stat.h>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "vidsift/discover.h"
#include "vidsift/store.h"

namespace vidsift {

namespace {

std::string describe_time(double ts) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3f s", ts);
  return buf;
}

}  // namespace

SourceVideo load_source_video(Store& store, std::int64_t video_id) {
  const auto rows = store.query(
      "SELECT v.path, coalesce(v.fingerprint, ''), coalesce(v.width, 0), coalesce(v.height, 0), "
      "coalesce((SELECT CASE WHEN json_valid(r.settings) THEN json_extract(r.settings, '$.keyframes') END "
      "FROM runs r WHERE r.id = v.run_id), 0) FROM videos v WHERE v.id = ?",
      {std::to_string(video_id)});
  if (rows.empty()) throw std::invalid_argument("no video with id " + std::to_string(video_id) + " in the database");
  const auto& r = rows.front();
  SourceVideo s;
  s.video_id = video_id;
  s.path = r[0];
  s.fingerprint = r[1];
  s.width = std::atoi(r[2].c_str());
  s.height = std::atoi(r[3].c_str());
  s.keyframes = r[4] == "1" || r[4] == "true";
  // videos.recorded_at exists from the wall-clock schema on.
  if (store.has_column("videos", "recorded_at")) {
    const auto t = store.query("SELECT coalesce(recorded_at, '') FROM videos WHERE id = ?", {std::to_string(video_id)});
    if (!t.empty()) s.recorded_at = t.front()[0];
  }
  return s;
}

std::optional<FrameGrabError> check_source(const SourceVideo& src) {
  struct stat sb {};
  if (::stat(src.path.c_str(), &sb) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ENOTDIR)
      return FrameGrabError(GrabFailure::Missing,
                            src.path + ": the video is missing (moved or deleted since it was analysed)");
    return FrameGrabError(GrabFailure::Unreadable, src.path + ": cannot read the video: " + std::strerror(e));
  }
  if (!S_ISREG(sb.st_mode))
    return FrameGrabError(GrabFailure::Unreadable, src.path + ": " + irregular_file_reason(sb.st_mode));
  if (src.fingerprint.empty()) return std::nullopt;
  VideoFile f;
  f.path = src.path;
  f.size = static_cast<std::int64_t>(sb.st_size);
  f.mtime = static_cast<std::int64_t>(sb.st_mtime);
  std::string now;
  try {
    now = fingerprint(f);
  } catch (const std::exception& e) {
    return FrameGrabError(GrabFailure::Unreadable, src.path + ": cannot read the video: " + e.what());
  }
  if (now != src.fingerprint)
    return FrameGrabError(GrabFailure::Changed, src.path +
                                                    ": the video has changed since it was analysed (fingerprint " +
                                                    now + ", the database has " + src.fingerprint + ")");
  return std::nullopt;
}

cv::Mat BgrConverter::convert(const AVFrame& frame, Orientation orientation) {
  const std::optional<SwsSource> source = SwsSource::of(frame);
  if (!source) throw FrameGrabError(GrabFailure::Unreadable, "cannot convert pixel format " + pix_fmt_text(frame));
  const Key key{frame.width, frame.height, *source};
  if (!sws_ || !(key == key_)) {
    // SWS_ACCURATE_RND: FFmpeg's unscaled SIMD converters may leave the last
    // columns of a width that is not a multiple of 16 unwritten (see
    // preprocess.cpp).
    sws_ = make_sws_context(*source, frame.width, frame.height, frame.width, frame.height, AV_PIX_FMT_BGR24,
                            SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT);
    if (!sws_)
      throw FrameGrabError(GrabFailure::Unreadable, "cannot convert pixel format " + pix_fmt_text(frame) + " to BGR");
    key_ = key;
  }
  cv::Mat stored(frame.height, frame.width, CV_8UC3);
  std::uint8_t* dst[4] = {stored.data, nullptr, nullptr, nullptr};
  int dst_stride[4] = {static_cast<int>(stored.step[0]), 0, 0, 0};
  const int rows = sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, dst, dst_stride);
  if (rows != frame.height) throw FrameGrabError(GrabFailure::Unreadable, "swscale could not convert the frame");
  if (orientation.upright()) return stored;
  // Upright (x, y) is stored (sx, sy) with sx = transpose ? y : x (counted
  // from the far edge with flip_x), likewise sy: flip the stored picture,
  // then transpose it.
  cv::Mat flipped;
  if (orientation.flip_x && orientation.flip_y) {
    cv::flip(stored, flipped, -1);
  } else if (orientation.flip_x) {
    cv::flip(stored, flipped, 1);
  } else if (orientation.flip_y) {
    cv::flip(stored, flipped, 0);
  } else {
    flipped = stored;
  }
  if (!orientation.transpose) return flipped;
  cv::Mat up;
  cv::transpose(flipped, up);
  return up;
}

double FrameGrabber::tolerance() const {
  const double fps = decoder_ ? decoder_->info().fps : 0.0;
  return fps > 0 ? 0.25 / fps : 1e-3;
}

FrameGrabber::FrameGrabber(SourceVideo src) : src_(std::move(src)) {
  if (auto err = check_source(src_)) throw *err;
}

FrameGrabber::~FrameGrabber() = default;

void FrameGrabber::open_at(double start) {
  decoder_.reset();
  DecoderOptions o;
  o.sampling.every = 1;
  o.sampling.keyframes = src_.keyframes;
  o.sampling.start = start > 0 ? start : 0.0;
  o.threads = 1;
  try {
    decoder_ = std::make_unique<Decoder>(src_.path, o);
  } catch (const DecodeError& e) {
    throw FrameGrabError(GrabFailure::Unreadable, src_.path + ": " + e.what());
  }
  ++opens_;
  last_ts_ = -1;
  exhausted_ = false;
}

// Decodes on until the frame at `ts`; false when it is passed or the stream ends.
bool FrameGrabber::scan_to(double ts, double tol, cv::Mat& out) {
  while (!exhausted_) {
    if (!decoder_->next(frame_)) {
      exhausted_ = true;
      break;
    }
    last_ts_ = frame_.timestamp;
    const double d = frame_.timestamp - ts;
    if (d < -tol) continue;
    if (d > tol) return false;
    cv::Mat up = converter_.convert(*frame_.frame, decoder_->info().orientation);
    if (src_.width > 0 && src_.height > 0 && (up.cols != src_.width || up.rows != src_.height)) {
      cv::Mat scaled;
      cv::resize(up, scaled, cv::Size(src_.width, src_.height), 0, 0, cv::INTER_LINEAR);
      up = scaled;
    }
    cached_ = up;
    cached_ts_ = frame_.timestamp;
    out = up.clone();
    return true;
  }
  return false;
}

cv::Mat FrameGrabber::grab(std::int64_t frame_index, double ts) {
  (void)frame_index;  // the timestamp identifies the frame (see contract)
  if (!cached_.empty() && std::abs(cached_ts_ - ts) <= tolerance()) return cached_.clone();
  cv::Mat out;
  const bool forward = decoder_ && !exhausted_ && last_ts_ >= 0 && ts > last_ts_ && ts - last_ts_ <= kForwardSeconds;
  // Start a hair before the frame so that rounding never excludes it.
  if (!forward) open_at(ts - kStartMargin);
  try {
    if (scan_to(ts, tolerance(), out)) return out;
    // Not found after a seek: decode the whole video from the start once
    // (not for a time past the end of a video whose duration is known).
    const double duration = decoder_->info().duration;
    if (!(duration > 0 && ts > duration + 1.0)) {
      open_at(0);
      if (scan_to(ts, tolerance(), out)) return out;
    }
  } catch (const FrameGrabError& e) {
    throw FrameGrabError(e.kind(), src_.path + " at " + describe_time(ts) + ": " + e.what());
  }
  throw FrameGrabError(GrabFailure::NoSuchFrame,
                       src_.path + ": no frame at " + describe_time(ts) + " (frame " + std::to_string(frame_index) +
                           ")" + (decoder_->last_error().empty() ? "" : "; " + decoder_->last_error()));
}

}  // namespace vidsift
