// decode_stage.h — the decode producer: one video in, preprocessed frames out.
//
// The pipeline runs this on dedicated decoder threads, outside the TBB arena
// (see pipeline.h): it is the only stage allowed to block, and it blocks only
// on the BufferPool, which is the run's memory bound and backpressure.
//
// Contract of decode_video():
//  * Opens the file (Decoder), and for every frame the sampler accepts:
//    acquires a pooled slot, preprocesses the frame into it (Preprocessor)
//    and hands a FrameJob to the sink. Frames the sampler rejects are never
//    converted or copied.
//    A job with `resume` continues an interrupted row: only the frames after
//    its last stored one are sent (decoder.h), and the VideoStart carries the
//    resume point.
//  * Emits, in this order on the calling thread: video_start() once if the
//    file opened, then frame() for seq 0, 1, 2, ... (a seq is assigned only
//    to a frame that was actually sent: a frame the preprocessor rejects ends
//    the video with that error and is not counted), then video_end() exactly
//    once, whose `sampled` equals the number of frames sent.
//  * Never throws: open errors, preprocessing errors, timeouts, cancellation,
//    bad_alloc and anything else end up in VideoEnd's fields. The sink's own
//    exceptions are caught too (reported as the video's error).
//  * Sets rec.recorded_at/recorded_at_source (wallclock.h, recording_start):
//    from the name before opening (so a file that fails to open keeps it),
//    from the container's creation_time once opened; a note about it starts
//    VideoEnd::warning.
//  * should_stop() (the run is cancelled) and the per-video timeout are
//    polled between packets, during blocking I/O and while waiting for a slot.
// Thread-safe: any number of threads may call decode_video() at once, each
// with its own video; the sink must accept calls from all of them.
#pragma once

#include <functional>

#include "vidsift/buffer_pool.h"
#include "vidsift/model.h"
#include "vidsift/sampler.h"
#include "vidsift/stage_messages.h"
#include "vidsift/wallclock.h"

namespace vidsift {

// Where the decode stage delivers; implemented by the scheduler (and by tests).
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void video_start(VideoStart start) = 0;
  virtual void frame(FrameJob job) = 0;
  virtual void video_end(VideoEnd end) = 0;
};

struct DecodeStageOptions {
  SamplingOptions sampling;
  InputSpec input;                      // the network input the frames are made for
  int decode_threads = 1;               // libavcodec threads per video (0 = auto)
  double video_timeout = 0;             // seconds per video; 0 = none
  std::function<bool()> should_stop;    // true = the run is cancelled
  const NameTime* name_time = nullptr;  // --time-from-name (outlives the run), or none
};

// See contract above.
void decode_video(int vid, const VideoJob& job, const DecodeStageOptions& opts, BufferPool& pool,
                  FrameSink& sink) noexcept;

}  // namespace vidsift
