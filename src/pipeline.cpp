// The scheduler: builds the graph and wires the stages. Stage logic lives in
// decode_stage.cpp (decode producer), postprocess.cpp / inference.cpp (the
// bodies' work) and assembler.cpp (the store side).
#include "vidsift/pipeline.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <variant>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <nlohmann/json.hpp>

#include "vidsift/admission.h"
#include "vidsift/buffer_pool.h"
#include "vidsift/decode_stage.h"

namespace flow = oneapi::tbb::flow;

namespace vidsift {

namespace {

// ---- messages local to the graph ---------------------------------------------

struct Flush {};  // a video ended: send a partial batch now
using BatchIn = std::variant<FrameJob, Flush>;
using Batch = std::shared_ptr<std::vector<FrameJob>>;

struct InferOut {
  Batch frames;  // slots already released
  cv::Mat out;   // network output for the whole batch
  double infer_s = 0;
  std::string error;
};

using Results = std::shared_ptr<std::vector<FrameResult>>;
using StoreMsg = std::variant<VideoStart, Results, VideoEnd>;

// A frame that cannot go further comes back as an error result, so that its
// video still finishes.
FrameResult error_result(const FrameJob& f, const std::string& error) {
  FrameResult r;
  r.vid = f.vid;
  r.seq = f.seq;
  r.index = f.index;
  r.ts = f.ts;
  r.decode_s = f.decode_s;
  r.pre_s = f.pre_s;
  r.error = error;
  return r;
}

// ---- inference workers ------------------------------------------------------

struct Worker {
  std::unique_ptr<InferenceBackend> backend;
  cv::Mat batch_blob;
};

class WorkerPool {
 public:
  void add(std::unique_ptr<Worker> w) { free_.push_back(std::move(w)); }
  std::unique_ptr<Worker> take() {
    std::lock_guard<std::mutex> lock(mu_);
    auto w = std::move(free_.back());
    free_.pop_back();
    return w;
  }
  void give(std::unique_ptr<Worker> w) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(w));
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<Worker>> free_;
};

// Runs one forward pass over a batch; never throws.
InferOut infer_batch(Worker& w, const Batch& b, const InputSpec& in) {
  InferOut io;
  StageTimer t;
  try {
    const int n = static_cast<int>(b->size());
    const int sz[4] = {n, 3, in.height, in.width};
    if (n == 1) {
      // Zero-copy: the pooled slot is the blob.
      cv::Mat blob(4, sz, CV_32F, (*b)[0].slot->data());
      w.backend->forward(blob, io.out);
    } else {
      w.batch_blob.create(4, sz, CV_32F);
      const std::size_t per = static_cast<std::size_t>(3) * in.width * in.height;
      for (int i = 0; i < n; ++i)
        std::copy_n((*b)[static_cast<std::size_t>(i)].slot->data(), per,
                    w.batch_blob.ptr<float>() + per * static_cast<std::size_t>(i));
      w.backend->forward(w.batch_blob, io.out);
    }
  } catch (const std::bad_alloc&) {
    io.error = "out of memory during inference";
  } catch (const std::exception& ex) {
    io.error = ex.what();
  } catch (...) {
    io.error = "inference failed with an unknown error";
  }
  io.infer_s = t.seconds();
  return io;
}

// Decodes boxes for every frame of a batch; never throws past its caller's
// catch (each frame's own failure is recorded in its result).
Results postprocess_batch(const InferOut& io, const LoadedModel& model, const PostprocessOptions& post) {
  auto results = std::make_shared<std::vector<FrameResult>>();
  std::vector<float> scratch;
  const int n = static_cast<int>(io.frames->size());
  results->reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const FrameJob& f = (*io.frames)[static_cast<std::size_t>(i)];
    FrameResult r = error_result(f, io.error);
    r.infer_s = io.infer_s / n;
    if (r.error.empty()) {
      StageTimer t;
      try {
        r.dets =
            postprocess(image_output(io.out, i, n, model.batch_layout, model.input.width, model.input.height, scratch),
                        model.family, f.lb, post);
      } catch (const std::exception& ex) {
        r.error = ex.what();
      }
      r.post_s = t.seconds();
    }
    results->push_back(std::move(r));
  }
  return results;
}

}  // namespace

ExecutionPlan plan_execution(const PipelineOptions& o, std::size_t videos) {
  ExecutionPlan p;
  p.cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  p.workers = std::max(1, o.workers);
  p.batch = std::max(1, o.batch);
  p.net_threads = o.net_threads > 0 ? o.net_threads : (p.workers > 1 ? 1 : p.cores);
  p.decoders = std::max(1, std::min<int>(o.decoders, std::max<int>(1, static_cast<int>(videos))));
  p.decode_threads = o.decode_threads;
  // Single-threaded nets: one graph thread per net, the serial bodies run
  // between forward passes (bench/RESULTS.md (g): a spare thread only spins
  // and yields, 0.89 against 0.74 of the cores kept). Nets with threads of
  // their own keep the spare thread, as before.
  p.graph_threads = p.net_threads == 1 ? std::max(2, p.workers) : p.workers + 1;
  p.pool_slots =
      o.pool > 0 ? static_cast<std::size_t>(o.pool) : static_cast<std::size_t>(std::max(4, 2 * p.workers * p.batch));
  // A batch must be fillable, or the batcher would wait forever.
  p.pool_slots = std::max<std::size_t>(p.pool_slots, static_cast<std::size_t>(p.batch));
  return p;
}

std::string ExecutionPlan::json() const {
  nlohmann::json j{{"cores", cores},          {"workers", workers},   {"net_threads", net_threads},
                   {"batch", batch},          {"decoders", decoders}, {"decode_threads", decode_threads},
                   {"pool_slots", pool_slots}};
  if (!backend.empty()) j["backend"] = backend;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Pipeline::Pipeline(const LoadedModel& model, Store& store, std::int64_t run_id, std::string settings_key,
                   PipelineOptions opts)
    : model_(model), store_(store), run_id_(run_id), settings_key_(std::move(settings_key)), opts_(std::move(opts)) {}

PipelineResult Pipeline::run(const std::vector<VideoJob>& jobs, Progress* progress) {
  PipelineResult result;
  StageTimer wall;

  const ExecutionPlan plan = plan_execution(opts_, jobs.size());
  const InputSpec& in = model_.input;
  BufferPool pool(plan.pool_slots, static_cast<std::size_t>(3) * in.width * in.height);
  result.pool_slots = plan.pool_slots;

  WorkerPool worker_pool;
  for (int i = 0; i < plan.workers; ++i) {
    auto w = std::make_unique<Worker>();
    w->backend =
        opts_.backend_factory ? opts_.backend_factory(plan.net_threads) : make_backend(model_, plan.net_threads);
    worker_pool.add(std::move(w));
  }

  Assembler assembler(store_, run_id_, settings_key_, model_.labels.size(), progress);
  PostprocessOptions post = opts_.post;
  if (opts_.track) {
    TrackerOptions t = opts_.tracker;
    t.high_conf = opts_.post.conf;
    t.low_conf = std::min(t.low_conf, t.high_conf);
    post.conf = t.low_conf;  // the second stage's boxes; the assembler stores only those >= high_conf
    assembler.enable_tracking(t);
  }
  std::atomic<bool> fatal{false};
  std::atomic<std::int64_t> skipped{0};
  std::atomic<std::int64_t> skipped_failed{0};
  // Skipped videos whose name gives a start time: their rows get it after
  // the graph has drained (the store is written by one thread at a time).
  std::mutex renamed_mutex;
  std::vector<std::pair<std::string, std::string>> renamed;  // path, fingerprint
  std::mutex fatal_mu;
  auto set_fatal = [&](const std::string& msg) {
    std::lock_guard<std::mutex> lock(fatal_mu);
    if (result.fatal_error.empty()) result.fatal_error = msg;
    fatal = true;
  };
  auto stop_all = [&] { return fatal.load() || (opts_.should_stop && opts_.should_stop()); };

  // The graph's own threads (plan.graph_threads, see ExecutionPlan). TBB's process-wide limit is raised so the arena
  // gets its threads (and TBB does not warn that it cannot), never lowered: a cap would also cap the backends' own
  // thread pools (OpenCV's parallel_for_ runs on oneTBB).
  const std::size_t tbb_default =
      oneapi::tbb::global_control::active_value(oneapi::tbb::global_control::max_allowed_parallelism);
  const std::size_t wanted =
      static_cast<std::size_t>(std::max(plan.workers + 1, plan.workers * std::max(1, plan.net_threads) + 1));
  oneapi::tbb::global_control raise(oneapi::tbb::global_control::max_allowed_parallelism,
                                    std::max(tbb_default, wanted));
  oneapi::tbb::task_arena arena(plan.graph_threads);
  arena.execute([&] {
    flow::graph g;

    // Messages queued for or running in the store node: when it reaches zero
    // the node is idle and commits, so no write lock is held while waiting.
    std::atomic<std::int64_t> store_queued{0};
    auto to_store = [&](StoreMsg m) {
      ++store_queued;
      return m;
    };

    // -- store (serial, the single writer) ------------------------------------
    flow::function_node<StoreMsg, flow::continue_msg, flow::queueing> store_node(
        g, flow::serial, [&](const StoreMsg& msg) {
          if (!fatal) {
            try {
              if (const auto* s = std::get_if<VideoStart>(&msg)) {
                assembler.on_start(*s);
              } else if (const auto* rs = std::get_if<Results>(&msg)) {
                assembler.on_results(**rs);
              } else if (const auto* e = std::get_if<VideoEnd>(&msg)) {
                assembler.on_end(*e);
              }
              if (--store_queued == 0) store_.commit();
              return flow::continue_msg{};
            } catch (const std::exception& ex) {
              store_.rollback();
              set_fatal(ex.what());
            } catch (...) {
              store_.rollback();
              set_fatal("internal error in the store stage");
            }
          }
          --store_queued;
          return flow::continue_msg{};
        });

    // -- postprocess (parallel) -----------------------------------------------
    flow::function_node<InferOut, StoreMsg> post_node(g, flow::unlimited, [&, post](const InferOut& io) {
      try {
        return to_store(StoreMsg{postprocess_batch(io, model_, post)});
      } catch (...) {
        // Out of memory building the results: report every frame as failed
        // if even that is possible; otherwise the assembler counts them lost.
        auto errs = std::make_shared<std::vector<FrameResult>>();
        for (const auto& f : *io.frames) errs->push_back(error_result(f, "out of memory in postprocessing"));
        return to_store(StoreMsg{errs});
      }
    });

    // -- infer (W concurrent backends) ------------------------------------------
    flow::function_node<Batch, InferOut> infer_node(g, plan.workers, [&, in](const Batch& b) {
      auto worker = worker_pool.take();
      InferOut io = infer_batch(*worker, b, in);
      worker_pool.give(std::move(worker));
      // Input slots go back to the pool now: decoders may continue. The
      // batch has no other reader, so it is released in place, not copied.
      for (auto& f : *b) f.slot.reset();
      io.frames = b;
      return io;
    });

    // -- batch (serial) -----------------------------------------------------------
    using BatchNode = flow::multifunction_node<BatchIn, std::tuple<Batch, StoreMsg>>;
    auto pending = std::make_shared<std::vector<FrameJob>>();
    const int batch = plan.batch;
    BatchNode batch_node(g, flow::serial, [&, batch](const BatchIn& msg, BatchNode::output_ports_type& ports) {
      const auto* f = std::get_if<FrameJob>(&msg);
      try {
        if (f) pending->push_back(*f);
        const bool flush = std::holds_alternative<Flush>(msg);
        if (!pending->empty() && (flush || static_cast<int>(pending->size()) >= batch)) {
          auto full = std::make_shared<std::vector<FrameJob>>();
          full->reserve(static_cast<std::size_t>(batch));
          std::swap(full, pending);
          std::get<0>(ports).try_put(full);
        }
      } catch (...) {
        // Out of memory: this frame cannot be batched; its video still ends.
        if (f) {
          auto errs = std::make_shared<std::vector<FrameResult>>();
          errs->push_back(error_result(*f, "out of memory while batching"));
          std::get<1>(ports).try_put(to_store(StoreMsg{errs}));
        }
      }
    });

    flow::make_edge(flow::output_port<0>(batch_node), infer_node);
    flow::make_edge(flow::output_port<1>(batch_node), store_node);
    flow::make_edge(infer_node, post_node);
    flow::make_edge(post_node, store_node);

    // -- decoders (dedicated threads, outside the arena) -------------------------
    struct Sink final : FrameSink {
      BatchNode& batch_node;
      flow::function_node<StoreMsg, flow::continue_msg, flow::queueing>& store_node;
      std::function<StoreMsg(StoreMsg)> counted;
      Sink(BatchNode& b, flow::function_node<StoreMsg, flow::continue_msg, flow::queueing>& s,
           std::function<StoreMsg(StoreMsg)> c)
          : batch_node(b), store_node(s), counted(std::move(c)) {}
      void video_start(VideoStart s) override { store_node.try_put(counted(StoreMsg{std::move(s)})); }
      void frame(FrameJob f) override { batch_node.try_put(BatchIn{std::move(f)}); }
      void video_end(VideoEnd e) override {
        batch_node.try_put(BatchIn{Flush{}});
        store_node.try_put(counted(StoreMsg{std::move(e)}));
      }
    };
    Sink sink(batch_node, store_node, to_store);

    DecodeStageOptions dopts;
    dopts.sampling = opts_.sampling;
    dopts.input = in;
    dopts.decode_threads = opts_.decode_threads;
    dopts.video_timeout = opts_.video_timeout;
    dopts.should_stop = stop_all;
    dopts.name_time = opts_.name_time.get();

    std::atomic<std::size_t> next_job{0};
    auto decode_loop = [&] {
      try {
        std::unique_ptr<Store> reader;  // this thread's read-only lookups
        const FinalLookup lookup = [&](const std::string& path, const std::string& fp, bool include_failed) {
          if (!reader) reader = std::make_unique<Store>(store_.path(), 10000, OpenMode::ReadOnly);
          return reader->find_final(path, fp, settings_key_, include_failed);
        };
        const ResumeLookup resume_lookup = [&](const std::string& path, const std::string& fp) {
          if (!reader) reader = std::make_unique<Store>(store_.path(), 10000, OpenMode::ReadOnly);
          return reader->find_resume(path, fp, settings_key_);
        };
        for (;;) {
          if (stop_all()) break;
          const std::size_t j = next_job.fetch_add(1);
          if (j >= jobs.size()) break;
          const int vid = static_cast<int>(j);
          if (!jobs[j].fingerprint.empty()) {
            decode_video(vid, jobs[j], dopts, pool, sink);
            continue;
          }
          const Admission a = admit(jobs[j].file, opts_.admission, lookup, resume_lookup);
          if (a.verdict == Admit::SkipDone || a.verdict == Admit::SkipFailed) {
            ++skipped;
            if (a.verdict == Admit::SkipFailed) ++skipped_failed;
            if (opts_.name_time) {
              const std::lock_guard<std::mutex> lock(renamed_mutex);
              renamed.emplace_back(jobs[j].file.path, a.fingerprint);
            }
            if (progress) {
              ++progress->videos_skipped;
              ++progress->videos_finished;
            }
            continue;
          }
          VideoJob job = jobs[j];
          job.fingerprint = a.fingerprint;
          job.resume = a.resume;
          if (a.verdict == Admit::Unreadable) {
            VideoEnd end;
            end.vid = vid;
            end.rec.path = job.file.path;
            end.rec.size = job.file.size;
            end.rec.mtime = job.file.mtime;
            end.error = a.error;
            sink.video_end(std::move(end));
            continue;
          }
          decode_video(vid, job, dopts, pool, sink);
        }
        batch_node.try_put(BatchIn{Flush{}});
      } catch (...) {
        set_fatal("internal error in a decoder thread");
      }
      g.release_wait();
    };

    std::vector<std::thread> threads;
    for (int i = 0; i < plan.decoders; ++i) {
      g.reserve_wait();
      threads.emplace_back(decode_loop);
    }
    g.wait_for_all();
    for (auto& th : threads) th.join();
    g.wait_for_all();
  });

  // The graph has drained: nothing is in flight. Finalise what is still open
  // (frames lost to an internal error) so no video stays `running`.
  if (!fatal) {
    try {
      assembler.finish_all();
      store_.commit();
      // A rerun with --time-from-name sets the start of what it skipped,
      // without analysing it again (a name that does not match keeps what is
      // stored).
      for (const auto& [path, fingerprint] : renamed) {
        const RecordingStart start = recording_start(path, "", opts_.name_time.get());
        if (!start.at.empty()) store_.set_recorded_at(path, fingerprint, start.at, start.source);
      }
    } catch (const std::exception& ex) {
      store_.rollback();
      set_fatal(ex.what());
    }
  }

  static_cast<AssemblyTotals&>(result) = assembler.totals();
  result.videos_skipped = skipped;
  result.videos_skipped_failed = skipped_failed;
  result.pool_high_water = pool.high_water();
  result.wall_seconds = wall.seconds();
  return result;
}

}  // namespace vidsift
