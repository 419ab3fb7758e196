// sampler.h — which decoded frames get analysed.
//
// Contract:
//  * A Sampler sees every frame the decoder outputs, in presentation order,
//    as (frame index, timestamp in seconds from the stream start), and says
//    whether it is analysed. Frames it rejects are never converted or copied
//    by the caller.
//  * Rules, all of which must hold:
//     - time window: start <= ts, and ts < end when end is set (end <= 0 means
//       "to the end of the video");
//     - every N: index % N == 0 (index counts from the first frame of the
//       video, not from `start`);
//     - fps F (> 0): the first frame at or after each tick start + k/F is
//       taken (by timestamp, so variable frame rate and dropped frames are
//       handled; a gap longer than a tick yields one frame, not a burst).
//  * Keyframes-only is a decoder setting (non-key frames are discarded before
//    decoding); the sampler's rules still apply to the frames that remain.
//  * done(ts) tells the decoder it may stop reading: the timestamp is past the
//    end of the window.
//  * may_take(ts) is false only for a frame take() would certainly reject;
//    the decoder uses it to skip decoding unsampled non-reference frames.
//  * resume_after(index, ts): the frames up to and including (index, ts)
//    were analysed by an earlier, interrupted run. From then on take()
//    rejects every frame with an index <= `index` and decides the rest
//    exactly as a Sampler that had seen every frame from the start and taken
//    that one: --every depends only on the index, and the --fps tick that
//    follows a taken frame depends only on its timestamp.
// Not thread-safe: one Sampler per video.
#pragma once

#include <cstdint>
#include <string>

namespace vidsift {

// Bounds validate() enforces: --fps up to 1000, --start/--end up to 1e8 s.
inline constexpr double kMaxSamplingFps = 1000;
inline constexpr double kMaxSamplingSeconds = 1e8;

struct SamplingOptions {
  int every = 1;           // analyse every Nth frame (>= 1)
  double fps = 0.0;        // target analysed frames per second (0 = off)
  bool keyframes = false;  // decode key frames only
  double start = 0.0;      // seconds
  double end = 0.0;        // seconds; <= 0 means no end

  // Returns an empty string when valid (finite numbers within the bounds
  // above, end > start when set), else a message for the user.
  std::string validate() const;
  // Short human-readable text (numbers to 6 significant digits). Not the
  // settings key: the CLI records each sampling number exactly in its JSON.
  std::string describe() const;
};

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& opts);

  // Decides for one decoded frame; must be called in presentation order.
  bool take(std::int64_t index, double ts);

  // True once `ts` lies at or past the end of the window.
  bool done(double ts) const;

  // Prediction for a frame not decoded yet, at timestamp `ts`: false only
  // when take() will certainly reject it (outside the window, or before the
  // next --fps tick), whatever frames come before it. Ignores --every (the
  // index is not known before decoding). Lets the decoder skip decoding
  // non-reference frames nobody will look at.
  bool may_take(double ts) const;

  // See contract: continue after a frame an earlier run analysed.
  void resume_after(std::int64_t index, double ts);

 private:
  void advance_tick(double ts);

  SamplingOptions opts_;
  double next_tick_;
  std::int64_t resume_index_ = -1;  // frames at or before it were analysed already
  double resume_ts_ = -1;
};

}  // namespace vidsift
