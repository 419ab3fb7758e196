#include "vidsift/pipeline.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <opencv2/core/utility.hpp>

#include "vidsift/buffer_pool.h"
#include "vidsift/decoder.h"
#include "vidsift/preprocess.h"

namespace flow = oneapi::tbb::flow;

namespace vidsift {

namespace {

// ---- messages ---------------------------------------------------------------

struct FrameJob {
  int vid = 0;
  std::int64_t seq = 0;
  std::int64_t index = 0;
  double ts = 0;
  BufferPool::Handle slot;
  Letterbox lb;
  double decode_s = 0;
  double pre_s = 0;
};

struct Flush {};
using BatchIn = std::variant<FrameJob, Flush>;
using Batch = std::shared_ptr<std::vector<FrameJob>>;

struct InferOut {
  Batch frames;   // slots already released
  cv::Mat out;    // network output for the whole batch
  double infer_s = 0;
  std::string error;
};

struct FrameResult {
  int vid = 0;
  std::int64_t seq = 0;
  std::int64_t index = 0;
  double ts = 0;
  std::vector<Detection> dets;
  double decode_s = 0, pre_s = 0, infer_s = 0, post_s = 0;
  std::string error;
};
using Results = std::shared_ptr<std::vector<FrameResult>>;

struct VideoStart {
  int vid = 0;
  VideoRecord rec;
};

struct VideoEnd {
  int vid = 0;
  bool started = false;
  VideoRecord rec;            // for videos that never started
  std::int64_t sampled = 0;   // frames sent for analysis
  std::int64_t decoded = 0;
  std::string status;         // done | partial | failed | cancelled
  std::string error;
  double tail_decode_s = 0;   // decode time after the last analysed frame
};

using StoreMsg = std::variant<VideoStart, Results, VideoEnd>;

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

// ---- store-side state per video --------------------------------------------

struct VideoState {
  std::int64_t db_id = -1;
  std::int64_t next_seq = 0;
  std::int64_t expected = -1;
  std::map<std::int64_t, FrameResult> pending;
  StageTimings timings;
  VideoEnd end;
  bool have_end = false;
  std::string frame_error;
  std::int64_t frames_with_error = 0;
};

}  // namespace

ExecutionPlan plan_execution(const PipelineOptions& o, std::size_t videos) {
  ExecutionPlan p;
  p.cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  p.workers = std::max(1, o.workers);
  p.batch = std::max(1, o.batch);
  p.net_threads = o.net_threads > 0 ? o.net_threads : (p.workers > 1 ? 1 : p.cores);
  p.decoders = std::max(1, std::min<int>(o.decoders, std::max<int>(1, static_cast<int>(videos))));
  p.decode_threads = o.decode_threads;
  p.pool_slots = o.pool > 0 ? static_cast<std::size_t>(o.pool) : static_cast<std::size_t>(std::max(4, 2 * p.workers * p.batch));
  // A batch must be fillable, or the batcher would wait forever.
  p.pool_slots = std::max<std::size_t>(p.pool_slots, static_cast<std::size_t>(p.batch));
  return p;
}

std::string ExecutionPlan::json() const {
  return "{\"cores\":" + std::to_string(cores) + ",\"workers\":" + std::to_string(workers) +
         ",\"net_threads\":" + std::to_string(net_threads) + ",\"batch\":" + std::to_string(batch) +
         ",\"decoders\":" + std::to_string(decoders) + ",\"decode_threads\":" + std::to_string(decode_threads) +
         ",\"pool_slots\":" + std::to_string(pool_slots) + "}";
}

Pipeline::Pipeline(const LoadedModel& model, Store& store, std::int64_t run_id, std::string settings_key,
                   PipelineOptions opts)
    : model_(model), store_(store), run_id_(run_id), settings_key_(std::move(settings_key)), opts_(std::move(opts)) {}

PipelineResult Pipeline::run(const std::vector<VideoJob>& jobs, Progress* progress) {
  PipelineResult result;
  result.per_label.assign(model_.labels.size(), 0);
  StageTimer wall;

  const ExecutionPlan plan = plan_execution(opts_, jobs.size());
  const int workers = plan.workers;
  const int batch = plan.batch;
  const int decoders = plan.decoders;
  const std::size_t slots = plan.pool_slots;
  const InputSpec& in = model_.input;
  const std::size_t floats = static_cast<std::size_t>(3) * in.width * in.height;
  BufferPool pool(slots, floats);
  result.pool_slots = slots;

  cv::setNumThreads(plan.net_threads);

  WorkerPool worker_pool;
  for (int i = 0; i < workers; ++i) {
    auto w = std::make_unique<Worker>();
    w->backend = make_backend(model_);
    worker_pool.add(std::move(w));
  }

  std::atomic<bool> fatal{false};
  std::mutex fatal_mu;
  auto stop_all = [&] { return fatal.load() || (opts_.should_stop && opts_.should_stop()); };

  oneapi::tbb::global_control gc(oneapi::tbb::global_control::max_allowed_parallelism,
                                 static_cast<std::size_t>(workers + 2));
  oneapi::tbb::task_arena arena(workers + 1);

  arena.execute([&] {
    flow::graph g;

    // -- store (serial, the single writer) ------------------------------------
    std::map<int, VideoState> videos;
    auto set_fatal = [&](const std::string& msg) {
      std::lock_guard<std::mutex> lock(fatal_mu);
      if (result.fatal_error.empty()) result.fatal_error = msg;
      fatal = true;
    };
    auto finalize = [&](int vid, VideoState& st) {
      const VideoEnd& e = st.end;
      if (e.tail_decode_s > 0) st.timings[Stage::Decode].add(e.tail_decode_s);
      if (e.status == "cancelled") {
        store_.discard_video(st.db_id);
        ++result.videos_cancelled;
      } else {
        VideoResult r;
        r.frames_decoded = e.decoded;
        r.frames_analysed = st.next_seq;
        r.status = parse_status(e.status).value_or(VideoStatus::Failed);
        r.error = e.error;
        if (st.frames_with_error > 0) {
          r.status = st.next_seq > st.frames_with_error ? VideoStatus::Partial : VideoStatus::Failed;
          if (!r.error.empty()) r.error += "; ";
          r.error += std::to_string(st.frames_with_error) + " frame(s) could not be analysed: " + st.frame_error;
        }
        if (r.status == VideoStatus::Partial && st.next_seq == 0) r.status = VideoStatus::Failed;
        store_.write_timings(run_id_, st.db_id, st.timings);
        store_.finish_video(st.db_id, r);
        if (r.status == VideoStatus::Done) ++result.videos_done;
        else if (r.status == VideoStatus::Partial) ++result.videos_partial;
        else ++result.videos_failed;
        if (progress && r.status != VideoStatus::Done) ++progress->videos_failed;
      }
      result.frames_decoded += e.decoded;
      result.timings.merge(st.timings);
      if (progress) ++progress->videos_finished;
      videos.erase(vid);
    };
    auto drain = [&](int vid, VideoState& st) {
      while (true) {
        auto it = st.pending.find(st.next_seq);
        if (it == st.pending.end()) break;
        FrameResult& r = it->second;
        StageTimer t;
        if (!r.error.empty()) {
          ++st.frames_with_error;
          st.frame_error = r.error;
        } else {
          store_.add_frame(st.db_id, r.index, r.ts, r.dets);
        }
        st.timings[Stage::Decode].add(r.decode_s);
        st.timings[Stage::Preprocess].add(r.pre_s);
        st.timings[Stage::Infer].add(r.infer_s);
        st.timings[Stage::Postprocess].add(r.post_s);
        st.timings[Stage::Store].add(t.seconds());
        for (const auto& d : r.dets) {
          if (d.class_id >= 0 && static_cast<std::size_t>(d.class_id) < result.per_label.size())
            ++result.per_label[static_cast<std::size_t>(d.class_id)];
        }
        result.detections += static_cast<std::int64_t>(r.dets.size());
        ++result.frames_analysed;
        if (progress) {
          ++progress->frames_analysed;
          progress->detections += static_cast<std::int64_t>(r.dets.size());
        }
        st.pending.erase(it);
        ++st.next_seq;
      }
      if (st.have_end && st.next_seq >= st.expected) finalize(vid, st);
    };
    flow::function_node<StoreMsg, flow::continue_msg, flow::queueing> store_node(
        g, flow::serial, [&](const StoreMsg& msg) {
          if (fatal) return flow::continue_msg{};
          try {
            if (const auto* s = std::get_if<VideoStart>(&msg)) {
              VideoState st;
              st.db_id = store_.start_video(run_id_, s->rec, settings_key_);
              videos.emplace(s->vid, std::move(st));
            } else if (const auto* rs = std::get_if<Results>(&msg)) {
              std::vector<int> touched;
              for (auto& r : **rs) {
                touched.push_back(r.vid);
                auto it = videos.find(r.vid);
                if (it != videos.end()) it->second.pending.emplace(r.seq, std::move(r));
              }
              // Results of one batch may span videos; drain each touched.
              std::sort(touched.begin(), touched.end());
              touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
              for (int v : touched) {
                auto it = videos.find(v);
                if (it != videos.end()) drain(v, it->second);
              }
            } else if (const auto* e = std::get_if<VideoEnd>(&msg)) {
              if (!e->started) {
                if (e->status != "cancelled") {
                  store_.record_failed(run_id_, e->rec, settings_key_, e->error);
                  ++result.videos_failed;
                  if (progress) {
                    ++progress->videos_failed;
                    ++progress->videos_finished;
                  }
                } else {
                  ++result.videos_cancelled;
                }
              } else {
                auto it = videos.find(e->vid);
                if (it != videos.end()) {
                  it->second.end = *e;
                  it->second.have_end = true;
                  it->second.expected = e->sampled;
                  drain(e->vid, it->second);
                }
              }
            }
          } catch (const std::exception& ex) {
            store_.rollback();
            set_fatal(ex.what());
          }
          return flow::continue_msg{};
        });

    // -- postprocess (parallel) -----------------------------------------------
    const Family family = model_.family;
    const PostprocessOptions post = opts_.post;
    const BatchLayout layout = model_.batch_layout;
    flow::function_node<InferOut, StoreMsg> post_node(g, flow::unlimited, [&, family, post, layout](const InferOut& io) {
      std::vector<float> scratch;
      auto results = std::make_shared<std::vector<FrameResult>>();
      const int n = static_cast<int>(io.frames->size());
      results->reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) {
        const FrameJob& f = (*io.frames)[static_cast<std::size_t>(i)];
        FrameResult r;
        r.vid = f.vid;
        r.seq = f.seq;
        r.index = f.index;
        r.ts = f.ts;
        r.decode_s = f.decode_s;
        r.pre_s = f.pre_s;
        r.infer_s = io.infer_s / n;
        r.error = io.error;
        if (r.error.empty()) {
          StageTimer t;
          try {
            r.dets = postprocess(image_output(io.out, i, n, layout, in.width, in.height, scratch), family, f.lb, post);
          } catch (const std::exception& ex) {
            r.error = ex.what();
          }
          r.post_s = t.seconds();
        }
        results->push_back(std::move(r));
      }
      return StoreMsg{results};
    });

    // -- infer (W concurrent backends) ------------------------------------------
    flow::function_node<Batch, InferOut> infer_node(g, workers, [&, in](const Batch& b) {
      InferOut io;
      auto worker = worker_pool.take();
      StageTimer t;
      try {
        const int n = static_cast<int>(b->size());
        const int sz[4] = {n, 3, in.height, in.width};
        if (n == 1) {
          // Zero-copy: the pooled slot is the blob.
          cv::Mat blob(4, sz, CV_32F, (*b)[0].slot->data());
          worker->backend->forward(blob, io.out);
        } else {
          worker->batch_blob.create(4, sz, CV_32F);
          const std::size_t per = static_cast<std::size_t>(3) * in.width * in.height;
          for (int i = 0; i < n; ++i)
            std::copy_n((*b)[static_cast<std::size_t>(i)].slot->data(), per,
                        worker->batch_blob.ptr<float>() + per * static_cast<std::size_t>(i));
          worker->backend->forward(worker->batch_blob, io.out);
        }
      } catch (const std::exception& ex) {
        io.error = ex.what();
      }
      io.infer_s = t.seconds();
      worker_pool.give(std::move(worker));
      // Input slots go back to the pool now: decoders may continue. The
      // batch has no other reader, so it is released in place, not copied.
      for (auto& f : *b) f.slot.reset();
      io.frames = b;
      return io;
    });

    // -- batch (serial) -----------------------------------------------------------
    using BatchNode = flow::multifunction_node<BatchIn, std::tuple<Batch>>;
    auto pending = std::make_shared<std::vector<FrameJob>>();
    BatchNode batch_node(g, flow::serial, [&, batch](const BatchIn& msg, BatchNode::output_ports_type& ports) {
      if (const auto* f = std::get_if<FrameJob>(&msg)) pending->push_back(*f);
      const bool flush = std::holds_alternative<Flush>(msg);
      if (!pending->empty() && (flush || static_cast<int>(pending->size()) >= batch)) {
        std::get<0>(ports).try_put(pending);
        pending = std::make_shared<std::vector<FrameJob>>();
        pending->reserve(static_cast<std::size_t>(batch));
      }
    });

    flow::make_edge(flow::output_port<0>(batch_node), infer_node);
    flow::make_edge(infer_node, post_node);
    flow::make_edge(post_node, store_node);

    // -- decoders (dedicated threads, outside the arena) -------------------------
    std::atomic<std::size_t> next_job{0};
    auto decode_loop = [&] {
      for (;;) {
        if (stop_all()) break;
        const std::size_t j = next_job.fetch_add(1);
        if (j >= jobs.size()) break;
        const int vid = static_cast<int>(j);
        const VideoJob& job = jobs[j];
        VideoRecord rec;
        rec.path = job.file.path;
        rec.size = job.file.size;
        rec.mtime = job.file.mtime;
        rec.fingerprint = job.fingerprint;

        const auto deadline = std::chrono::steady_clock::now() +
                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(opts_.video_timeout > 0 ? opts_.video_timeout : 1e9));
        std::atomic<bool> timed_out{false};
        DecoderOptions dopts;
        dopts.sampling = opts_.sampling;
        dopts.threads = opts_.decode_threads;
        dopts.should_stop = [&] {
          if (stop_all()) return true;
          if (opts_.video_timeout > 0 && std::chrono::steady_clock::now() > deadline) {
            timed_out = true;
            return true;
          }
          return false;
        };

        VideoEnd end;
        end.vid = vid;
        end.rec = rec;
        std::unique_ptr<Decoder> dec;
        try {
          dec = std::make_unique<Decoder>(job.file.path, dopts);
        } catch (const std::exception& ex) {
          end.status = stop_all() ? "cancelled" : "failed";
          end.error = timed_out ? "timed out while opening" : ex.what();
          store_node.try_put(StoreMsg{end});
          continue;
        }
        const VideoInfo& info = dec->info();
        rec.codec = info.codec;
        rec.width = info.width;
        rec.height = info.height;
        rec.fps = info.fps;
        rec.duration = info.duration;
        store_node.try_put(StoreMsg{VideoStart{vid, rec}});
        end.started = true;
        if (progress) {
          std::int64_t est = info.frame_count_estimate;
          if (opts_.sampling.every > 1) est /= opts_.sampling.every;
          if (opts_.sampling.fps > 0 && info.duration > 0)
            est = static_cast<std::int64_t>(info.duration * opts_.sampling.fps);
          progress->frames_expected += est;
        }

        Preprocessor pre(in);
        DecodedFrame frame;
        std::int64_t seq = 0;
        std::string error;
        StageTimer t;
        try {
          while (dec->next(frame)) {
            const double decode_s = t.lap();
            auto slot = pool.acquire(dopts.should_stop);
            if (!slot) break;
            t.lap();  // waiting for a slot is backpressure, not work
            FrameJob fj;
            fj.vid = vid;
            fj.seq = seq++;
            fj.index = frame.index;
            fj.ts = frame.timestamp;
            fj.lb = pre.run(*frame.frame, slot->data());
            fj.slot = std::move(slot);
            fj.decode_s = decode_s;
            fj.pre_s = t.lap();
            batch_node.try_put(BatchIn{std::move(fj)});
          }
        } catch (const std::exception& ex) {
          error = ex.what();
        }
        end.tail_decode_s = t.lap();
        end.sampled = seq;
        end.decoded = dec->frames_decoded();
        if (opts_.should_stop && opts_.should_stop()) {
          end.status = "cancelled";
        } else if (timed_out) {
          end.status = seq > 0 ? "partial" : "failed";
          end.error = "timed out after " + std::to_string(opts_.video_timeout) + " s (--video-timeout)";
        } else if (!error.empty() || dec->truncated()) {
          end.status = seq > 0 ? "partial" : "failed";
          end.error = !error.empty() ? error : dec->last_error();
        } else if (dec->frames_decoded() == 0) {
          end.status = "failed";
          end.error = dec->decode_errors() > 0 ? "no frame could be decoded: " + dec->last_error()
                                               : "the video holds no frames";
        } else if (dec->decode_errors() > 0) {
          end.status = "partial";
          end.error = std::to_string(dec->decode_errors()) + " corrupt packet(s) skipped; last: " + dec->last_error();
        } else {
          end.status = "done";
        }
        batch_node.try_put(BatchIn{Flush{}});
        store_node.try_put(StoreMsg{end});
      }
      batch_node.try_put(BatchIn{Flush{}});
      g.release_wait();
    };

    std::vector<std::thread> threads;
    for (int i = 0; i < decoders; ++i) {
      g.reserve_wait();
      threads.emplace_back(decode_loop);
    }
    g.wait_for_all();
    for (auto& th : threads) th.join();
    g.wait_for_all();
  });

  // Jobs never started because of cancellation or a fatal error.
  result.pool_high_water = pool.high_water();
  result.wall_seconds = wall.seconds();
  return result;
}

}  // namespace vidsift
