#include "vidsift/decode_stage.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <new>

#include "vidsift/decoder.h"
#include "vidsift/limits.h"
#include "vidsift/preprocess.h"
#include "vidsift/stage_stats.h"

namespace vidsift {

namespace {

std::int64_t estimate_sampled(const VideoInfo& info, const SamplingOptions& s) {
  std::int64_t est = info.frame_count_estimate;
  if (s.fps > 0 && info.duration > 0) return static_cast<std::int64_t>(info.duration * s.fps);
  if (s.every > 1) est /= s.every;
  return est;
}

// The first frame whose size differs from the recorded one (a mid-stream
// resolution change): its boxes are scaled into the recorded size (see
// preprocess.h); say so on the video's row.
void note_size_change(const AVFrame& f, const VideoInfo& info, std::int64_t index, std::string& warning, bool& noted) {
  if (noted) return;
  const int w = info.orientation.upright_width(f.width, f.height);
  const int h = info.orientation.upright_height(f.width, f.height);
  if (w == info.width && h == info.height) return;
  const auto size = [](int a, int b) { return std::to_string(a) + "x" + std::to_string(b); };
  noted = true;
  if (!warning.empty()) warning += "; ";
  warning += "resolution changes mid-stream from " + size(info.width, info.height) + " to " + size(w, h) +
             " at frame " + std::to_string(index) + "; boxes are given in " + size(info.width, info.height) + " pixels";
}

}  // namespace

void decode_video(int vid, const VideoJob& job, const DecodeStageOptions& opts, BufferPool& pool,
                  FrameSink& sink) noexcept {
  VideoEnd end;
  end.vid = vid;
  end.timeout_s = opts.video_timeout;
  const auto cancelled = [&] { return opts.should_stop && opts.should_stop(); };
  try {
    end.rec.path = job.file.path;
    end.rec.size = job.file.size;
    end.rec.mtime = job.file.mtime;
    end.rec.fingerprint = job.fingerprint;

    using Clock = std::chrono::steady_clock;
    const bool has_deadline = opts.video_timeout > 0;
    // Clamped (limits.h): a huge timeout must not overflow the time point.
    const Clock::time_point deadline =
        has_deadline ? Clock::now() + seconds_to_duration(opts.video_timeout) : Clock::time_point::max();
    std::atomic<bool> timed_out{false};
    DecoderOptions dopts;
    dopts.sampling = opts.sampling;
    dopts.threads = opts.decode_threads;
    if (job.resume && job.resume->last_index >= 0)
      dopts.resume_after = DecoderOptions::ResumeAfter{job.resume->last_index, job.resume->last_ts};
    dopts.should_stop = [&] {
      if (cancelled()) return true;
      if (has_deadline && Clock::now() > deadline) {
        timed_out = true;
        return true;
      }
      return false;
    };

    // The name decides before the file is opened (a file that cannot be
    // opened keeps its name's time); the container's tag once it is.
    RecordingStart start = recording_start(job.file.path, "", opts.name_time);
    end.rec.recorded_at = start.at;
    end.rec.recorded_at_source = start.source;

    std::unique_ptr<Decoder> dec;
    try {
      dec = std::make_unique<Decoder>(job.file.path, dopts);
    } catch (const std::exception& ex) {
      end.cancelled = cancelled();
      end.timed_out = timed_out;
      end.error = timed_out ? "timed out while opening" : ex.what();
    }
    if (dec) {
      const VideoInfo& info = dec->info();
      end.rec.codec = info.codec;
      end.rec.width = info.width;
      end.rec.height = info.height;
      end.rec.rotation = info.orientation.rotation();
      end.rec.mirrored = info.orientation.mirrored();
      end.rec.stream_index = info.stream_index;
      end.rec.fps = info.fps;
      end.rec.duration = info.duration;
      start = recording_start(job.file.path, info.creation_time, opts.name_time);
      end.rec.recorded_at = start.at;
      end.rec.recorded_at_source = start.source;
      end.warning = start.warning;
      const std::int64_t done_before = job.resume ? job.resume->frames : 0;
      sink.video_start(VideoStart{
          vid, end.rec, std::max<std::int64_t>(0, estimate_sampled(info, opts.sampling) - done_before), job.resume});
      end.opened = true;

      StageTimer t;
      try {
        Preprocessor pre(opts.input, info.orientation, info.width, info.height);
        DecodedFrame frame;
        bool size_noted = false;
        while (dec->next(frame)) {
          note_size_change(*frame.frame, info, frame.index, end.warning, size_noted);
          const double decode_s = t.lap();
          auto slot = pool.acquire(dopts.should_stop);
          if (!slot) break;
          t.lap();  // waiting for a slot is backpressure, not work
          FrameJob fj;
          fj.vid = vid;
          fj.index = frame.index;
          fj.ts = frame.timestamp;
          fj.lb = pre.run(*frame.frame, slot->data());  // may throw: the frame is then not sent
          fj.slot = std::move(slot);
          fj.decode_s = decode_s;
          fj.pre_s = t.lap();
          fj.seq = end.sampled;  // only now is the frame certain to be sent
          sink.frame(std::move(fj));
          ++end.sampled;
        }
      } catch (const std::exception& ex) {
        end.error = ex.what();
      }
      end.tail_decode_s = t.lap();
      end.decoded = dec->frames_decoded();
      end.cancelled = cancelled();
      end.timed_out = timed_out;
      end.truncated = dec->truncated();
      end.decode_errors = dec->decode_errors();
      end.decoder_error = dec->last_error();
    }
  } catch (const std::bad_alloc&) {
    end.error = "out of memory while decoding";
  } catch (const std::exception& ex) {
    end.error = std::string("internal error while decoding: ") + ex.what();
  } catch (...) {
    end.error = "internal error while decoding";
  }
  try {
    sink.video_end(std::move(end));
  } catch (...) {
    // The sink could not take the end (out of memory): the scheduler
    // finalises every video still open when the graph drains.
  }
}

}  // namespace vidsift
