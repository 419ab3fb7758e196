// pipeline.h — the scheduler: the one place that knows the whole graph.
//
//   decoder threads ──► batch ──► infer (W nets) ──► postprocess ──► store
//   (decode+sample+       (serial)   (concurrency W)     (parallel)      (serial,
//    preprocess into                                                      one writer)
//    pooled slots)
//
// Contract:
//  * run(jobs) analyses every job and returns when all are final in the
//    store. Decoding runs on `decoders` dedicated threads outside the TBB
//    arena; they block only on the BufferPool (the memory bound and the
//    backpressure), never inside a graph body, so the graph cannot deadlock
//    however many decoders there are and however small the pool.
//  * Graph bodies run in a private arena of workers+1 threads: W inference
//    bodies, each with its own backend (own cv::dnn::Net), plus one thread
//    for the serial batch/store bodies and postprocess.
//  * OpenCV's thread count is process-wide; run() sets it (cv::setNumThreads)
//    from net_threads before any forward pass and leaves it set.
//  * Per video, frames are stored in frame order; videos interleave. A video
//    ends `done`, `partial` (some frames decoded or analysed, then an error
//    or timeout: the analysed frames are kept) or `failed` (nothing usable),
//    always with its error text. A cancelled run (should_stop) stops taking
//    new videos and rolls back the ones in flight (their rows are deleted).
//  * A store error (disk full, database locked) stops the run; it is reported
//    in PipelineResult::fatal_error.
//  * Never converts or copies a frame that is not analysed (see Decoder).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vidsift/discover.h"
#include "vidsift/inference.h"
#include "vidsift/postprocess.h"
#include "vidsift/sampler.h"
#include "vidsift/stage_stats.h"
#include "vidsift/store.h"

namespace vidsift {

struct PipelineOptions {
  SamplingOptions sampling;
  PostprocessOptions post;
  int decoders = 2;            // videos decoded at once
  int decode_threads = 1;      // libavcodec threads per decoder
  int workers = 2;             // inference backends running concurrently
  int net_threads = 0;         // intra-op threads per backend; 0 = 1 when workers > 1, else all cores
  int batch = 1;               // frames per forward pass
  int pool = 0;                // input slots; 0 = automatic
  double video_timeout = 0;    // seconds per video; 0 = none
  std::function<bool()> should_stop;  // polled; true = cancel the run
};

// The configuration a run actually uses once defaults are resolved (what
// run() does, and what runs.execution records so that the timings can be
// read against it).
struct ExecutionPlan {
  int cores = 1;           // hardware threads of the machine
  int workers = 1;         // inference nets
  int net_threads = 1;     // OpenCV threads per net
  int batch = 1;
  int decoders = 1;        // min(--decoders, videos)
  int decode_threads = 1;  // libavcodec threads per decoder (0 = auto)
  std::size_t pool_slots = 4;

  // {"cores":2,"workers":2,...}: one JSON object.
  std::string json() const;
};

// Resolves defaults: net_threads 0 = 1 when several workers run, else every
// core; pool 0 = max(4, 2 x workers x batch), never less than one batch.
ExecutionPlan plan_execution(const PipelineOptions& opts, std::size_t videos);

struct VideoJob {
  VideoFile file;
  std::string fingerprint;
};

// Live counters for a progress display (read from another thread).
struct Progress {
  std::atomic<std::int64_t> videos_total{0};
  std::atomic<std::int64_t> videos_finished{0};
  std::atomic<std::int64_t> videos_failed{0};
  std::atomic<std::int64_t> frames_analysed{0};
  std::atomic<std::int64_t> frames_expected{0};  // estimate, grows as videos open
  std::atomic<std::int64_t> detections{0};
};

struct PipelineResult {
  std::int64_t videos_done = 0;
  std::int64_t videos_partial = 0;
  std::int64_t videos_failed = 0;
  std::int64_t videos_cancelled = 0;
  std::int64_t frames_analysed = 0;
  std::int64_t frames_decoded = 0;
  std::int64_t detections = 0;
  std::vector<std::int64_t> per_label;  // detections per class id
  StageTimings timings;                 // whole run
  double wall_seconds = 0;
  std::size_t pool_slots = 0;
  std::size_t pool_high_water = 0;
  std::string fatal_error;              // non-empty when the store failed
};

class Pipeline {
 public:
  Pipeline(const LoadedModel& model, Store& store, std::int64_t run_id, std::string settings_key,
           PipelineOptions opts);

  PipelineResult run(const std::vector<VideoJob>& jobs, Progress* progress = nullptr);

 private:
  const LoadedModel& model_;
  Store& store_;
  std::int64_t run_id_;
  std::string settings_key_;
  PipelineOptions opts_;
};

}  // namespace vidsift
