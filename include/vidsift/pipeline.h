// pipeline.h — the scheduler: the one place that knows the whole graph.
//
//   decoder threads ──► batch ──► infer (W nets) ──► postprocess ──► store
//   (decode_stage.h:      (serial)   (concurrency W)     (parallel)      (serial:
//    decode+sample+                                                       assembler.h,
//    preprocess into                                                      one writer)
//    pooled slots)   ────────── VideoStart / VideoEnd ─────────────────►
//
// Each stage is a unit of its own and knows only the messages it takes and
// gives (stage_messages.h); this file wires them, as fftools' scheduler does
// for demux/decode/filter/encode/mux. pipeline.cpp holds no stage logic.
//
// Contract:
//  * run(jobs) analyses every job and returns when all are final in the
//    store. Decoding runs on `decoders` dedicated threads outside the TBB
//    arena; they block only on the BufferPool (the memory bound and the
//    backpressure), never inside a graph body, so the graph cannot deadlock
//    however many decoders there are and however small the pool.
//  * Graph bodies run in a private arena of graph_threads threads (see
//    ExecutionPlan): W inference bodies, each with its own backend; the
//    serial batch/store bodies and postprocess run between forward passes
//    (single-threaded nets) or on one extra thread. The process-wide TBB parallelism is
//    raised to fit the arena and the nets' threads, never lowered: a
//    backend's own threads (OpenCV's parallel_for_ runs on oneTBB) get what
//    --net-threads asks for.
//  * Per video, frames are stored in frame order; videos interleave. The
//    final status of a video (done, partial, failed) is decided by the
//    assembler (decide_status in assembler.h) and always carries the error
//    text. A cancelled run (should_stop) stops taking new videos; the ones in
//    flight stop decoding, the frames already sent are analysed and stored,
//    and they end `interrupted` (resumable, see video_status.h).
//  * No exception escapes a graph body or a decoder thread: a frame that
//    cannot be batched, inferred or postprocessed comes back as an error
//    result, so its video still finishes (partial or failed). Videos still
//    open when the graph drains are finalised then; none is left `running`.
//  * With opts.name_time (--time-from-name), a video skipped as already
//    analysed gets recorded_at from its name (Store::set_recorded_at) once
//    the graph has drained; analysed videos get it from decode_stage.
//  * The store node commits whenever it has nothing queued, so the write lock
//    is never held while the pipeline waits for frames.
//  * A store error (disk full, database locked) stops the run; it is reported
//    in PipelineResult::fatal_error.
//  * Never converts or copies a frame that is not analysed (see Decoder).
//  * Files are fingerprinted and checked against earlier results on the
//    decoder threads, just before they are decoded (see run()).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vidsift/admission.h"
#include "vidsift/assembler.h"
#include "vidsift/discover.h"
#include "vidsift/inference.h"
#include "vidsift/postprocess.h"
#include "vidsift/sampler.h"
#include "vidsift/stage_messages.h"
#include "vidsift/stage_stats.h"
#include "vidsift/store.h"
#include "vidsift/tracker.h"
#include "vidsift/wallclock.h"

namespace vidsift {

// Makes one inference backend; `threads` is the intra-op thread count that
// backend should use. Called once per worker before the graph starts.
using BackendFactory = std::function<std::unique_ptr<InferenceBackend>(int threads)>;

// How a run is carried out. None of these change results except `sampling`
// and `post` (the settings key covers those).
struct PipelineOptions {
  SamplingOptions sampling;
  PostprocessOptions post;
  int decoders = 2;                   // videos decoded at once
  int decode_threads = 1;             // libavcodec threads per decoder
  int workers = 2;                    // inference backends running concurrently
  int net_threads = 0;                // intra-op threads per backend; 0 = 1 when workers > 1, else all cores
  int batch = 1;                      // frames per forward pass
  int pool = 0;                       // input slots; 0 = automatic
  double video_timeout = 0;           // seconds per video; 0 = none
  std::function<bool()> should_stop;  // polled; true = cancel the run
  BackendFactory backend_factory;     // empty = make_backend(model, threads)
  AdmissionOptions admission;         // for jobs without a fingerprint (see run())
  // --track: the assembler links each video's detections into tracks
  // (tracker.h). Postprocessing then also keeps boxes down to
  // tracker.low_conf for the tracker's second stage; only boxes >= post.conf
  // are stored, as without tracking. tracker.high_conf is set to post.conf.
  bool track = false;
  TrackerOptions tracker;
  std::shared_ptr<const NameTime> name_time;  // --time-from-name: videos.recorded_at from names (wallclock.h)
};

// The configuration a run actually uses once defaults are resolved (what
// run() does, and what runs.execution records so that the timings can be
// read against it).
struct ExecutionPlan {
  int cores = 1;        // hardware threads of the machine
  int workers = 1;      // inference nets
  int net_threads = 1;  // OpenCV threads per net
  int batch = 1;
  int decoders = 1;        // min(--decoders, videos)
  int decode_threads = 1;  // libavcodec threads per decoder (0 = auto)
  // Threads of the graph's arena (the calling thread included): max(2,
  // workers) when every net runs one thread, else workers + 1. Not in json().
  int graph_threads = 2;
  std::size_t pool_slots = 4;
  std::string backend;  // which backend ran ("onnxruntime (ONNX Runtime 1.30.0)"); set by the caller, "" = omitted

  // {"cores":2,"workers":2,...}: one JSON object.
  std::string json() const;
};

// Resolves defaults: net_threads 0 = 1 when several workers run, else every
// core; pool 0 = max(4, 2 x workers x batch), never less than one batch.
ExecutionPlan plan_execution(const PipelineOptions& opts, std::size_t videos);

// What a run did, for the summary and runs row: the assembler's totals
// (videos by status, frames, detections, timings) plus what only the
// scheduler knows.
struct PipelineResult : AssemblyTotals {
  std::int64_t videos_skipped = 0;         // already analysed with these settings
  std::int64_t videos_skipped_failed = 0;  // of those, failed/partial before (not retried)
  double wall_seconds = 0;
  std::size_t pool_slots = 0;
  std::size_t pool_high_water = 0;
  std::string fatal_error;  // non-empty when the store failed
};

// Runs one set of videos through the graph. One Pipeline per run; run() may
// be called once per set of jobs.
class Pipeline {
 public:
  // `model` and `store` must outlive the Pipeline; rows are recorded under
  // `run_id` with `settings_key`.
  Pipeline(const LoadedModel& model, Store& store, std::int64_t run_id, std::string settings_key, PipelineOptions opts);

  // Analyses `jobs` (see contract). A job whose fingerprint is empty is
  // first admitted on its decoder thread (admission.h): fingerprinted and
  // looked up, through a read-only connection to the store's database, among
  // the results already made with this settings key; it is skipped when
  // found (per opts.admission), resumed when the latest row is
  // `interrupted`, recorded as failed when unreadable. So
  // fingerprinting overlaps with decoding and stops when the run is
  // cancelled. A job with a fingerprint is analysed as given.
  // `progress`, when given, is updated live and may be read from another
  // thread. Throws only when the inference backends cannot be created; every
  // other failure is in the result.
  PipelineResult run(const std::vector<VideoJob>& jobs, Progress* progress = nullptr);

 private:
  const LoadedModel& model_;
  Store& store_;
  std::int64_t run_id_;
  std::string settings_key_;
  PipelineOptions opts_;
};

}  // namespace vidsift
