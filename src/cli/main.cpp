// vidsift command-line front end: parses options, loads the model, opens the
// database, discovers inputs, runs the pipeline, prints the summary and maps
// the outcome to the exit status.
#include <unistd.h>
#include <array>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string_view>
#include <system_error>
#include <thread>

#include <nlohmann/json.hpp>

#include <opencv2/core/utils/logger.hpp>

extern "C" {
#include <libavutil/log.h>
}

#include "events.h"
#include "exit_status.h"
#include "export.h"
#include "log.h"
#include "merge.h"
#include "options.h"
#include "progress.h"
#include "render.h"
#include "report.h"
#include "report_thumbs.h"
#include "sampling_note.h"
#include "summary.h"
#include "track_check.h"
#include "vidsift/calibrate.h"
#include "vidsift/discover.h"
#include "vidsift/format.h"
#include "vidsift/inference.h"
#include "vidsift/labels.h"
#include "vidsift/limits.h"
#include "vidsift/pipeline.h"
#include "vidsift/sha256.h"
#include "vidsift/store.h"

namespace vidsift::cli {
namespace {

// Waits for SIGINT/SIGTERM (blocked in every thread) and records which came.
// Every stage polls signal() and stops within about a second; should one be
// stuck anyway (a read from a hung network share cannot be interrupted), the
// process exits kStopGrace seconds after the first signal: its unfinished
// videos stay `running` until the next run marks them `interrupted` (keeping
// their committed frames) and resumes them.
class SignalWatcher {
 public:
  static constexpr int kStopGrace = 10;  // seconds

  SignalWatcher() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    thread_ = std::thread([this, set] {
      const timespec tick{0, 100'000'000};
      int ticks_since_signal = 0;
      while (!quit_) {
        if (signal_.load() != 0 && ++ticks_since_signal > kStopGrace * 10) {
          notice("vidsift: still not stopped " + std::to_string(kStopGrace) +
                 " s after the signal (blocked on I/O?): exiting now");
          std::_Exit(128 + signal_.load());
        }
        const int sig = sigtimedwait(&set, nullptr, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
          if (signal_.load() != 0) {
            // Second signal: the user insists.
            notice("vidsift: second signal, exiting now");
            std::_Exit(128 + sig);
          }
          signal_ = sig;
          notice(std::string("vidsift: ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                 " received: finishing videos in flight, then stopping");
        }
      }
    });
  }
  ~SignalWatcher() {
    quit_ = true;
    thread_.join();
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  int signal() const { return signal_.load(); }

 private:
  // One line through log.h's line(): timestamped in a log like every other
  // line. On a terminal the progress line may be on screen without its
  // newline, so the notice starts on a line of its own.
  static void notice(const std::string& text) {
    if (isatty(STDERR_FILENO)) std::fputc('\n', stderr);
    line(text);
  }

  std::atomic<bool> quit_{false};
  std::atomic<int> signal_{0};
  std::thread thread_;
};

// The decimal a user typed for a float option (0.3f -> 0.3), as a double, so
// the JSON shows "0.3" rather than the float's binary expansion.
double shortest_decimal(float v) {
  std::array<char, 64> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  double d = static_cast<double>(v);
  if (ec == std::errc()) std::from_chars(buf.data(), end, d);
  return d;
}

// SHA-256 of the label list, each label length-prefixed so that no two
// different lists give the same byte stream.
std::string labels_sha256(const std::vector<std::string>& labels) {
  Sha256 h;
  for (const auto& l : labels) {
    const std::string len = std::to_string(l.size()) + ":";
    h.update(len.data(), len.size());
    h.update(l.data(), l.size());
  }
  return h.hex_digest();
}

// The result-changing settings as canonical JSON (sorted keys, numbers that
// round-trip); its SHA-256 is the settings key that decides what a rerun may
// skip.
// --track adds "track": true (absent otherwise, so keys of runs without it
// stay what they were): a tracked run is a different result.
std::string settings_json(const LoadedModel& m, const std::string& backend, const PostprocessOptions& post,
                          const SamplingOptions& sampling, bool track) {
  nlohmann::json s = {
      {"backend", backend},
      {"model_sha256", m.sha256},
      {"family", family_name(m.family)},
      {"input", std::to_string(m.input.width) + "x" + std::to_string(m.input.height)},
      {"labels_sha256", labels_sha256(m.labels)},
      {"conf", shortest_decimal(post.conf)},
      {"nms", shortest_decimal(post.nms)},
      {"max_det", post.max_det},
      {"classes", post.classes},
      {"sampling",
       {{"every", sampling.every},
        {"fps", sampling.fps},
        {"keyframes", sampling.keyframes},
        {"start", sampling.start},
        {"end", sampling.end}}},
  };
  if (track) s["track"] = true;
  return s.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int run_command(const CliOptions& o, const SignalWatcher& signals) {
  auto say = [&](const std::string& s) {
    if (!o.quiet) std::cerr << s << "\n";
  };
  for (const auto& note : o.notes) say("vidsift: note: " + note);

  LoadedModel model;
  try {
    model = load_model(o.model);
  } catch (const std::exception& e) {
    std::cerr << "vidsift: " << e.what() << "\n";
    return kExitCannot;
  }
  if (!model.fallback_reason.empty())
    say("vidsift: note: --backend auto falls back to OpenCV dnn: " + model.fallback_reason);
  PipelineOptions popts = o.pipeline;
  // The pool's memory is known only now: slots x the model's input blob.
  if (const std::string err = check_pool(popts.pool,
                                         sizeof(float) * 3 * static_cast<std::size_t>(model.input.width) *
                                             static_cast<std::size_t>(model.input.height),
                                         available_memory_bytes());
      !err.empty()) {
    std::cerr << "vidsift: " << err << "\n(see vidsift --help)\n";
    return kExitUsage;
  }
  if (popts.batch > 1) {
    try {
      model.batch_layout = probe_batch(model, popts.batch);
      if (model.batch_layout == BatchLayout::StrideFlattened)
        say("vidsift: this export flattens the batch per stride; unscrambling batched outputs");
    } catch (const std::exception& e) {
      say(std::string("vidsift: warning: ") + e.what() + "; using --batch 1");
      popts.batch = 1;
    }
  }
  try {
    popts.post.classes = resolve_classes(o.classes, model.labels);
  } catch (const std::exception& e) {
    std::cerr << "vidsift: " << e.what() << "\n";
    return kExitUsage;
  }
  say("vidsift: model " + model.path.string() + " (" + family_name(model.family) + ", " +
      std::to_string(model.input.width) + "x" + std::to_string(model.input.height) + ", labels from " +
      model.labels_source + ") on " + backend_name(model.backend) + " (" + backend_library(model.backend) + ")");
  // Every worker gets its own backend of the kind that loaded the model,
  // running `threads` intra-op threads: an OpenCV net each, or backends
  // sharing one ORT session (see BackendSource).
  auto backends = std::make_shared<BackendSource>(model);
  popts.backend_factory = [backends](int threads) { return backends->make(threads); };
  if (o.calibrate) {
    try {
      const Calibration cal = calibrate_backends(o.model, model, 1.0);
      for (const std::string& line : report_lines(cal)) say("vidsift: calibrate: " + line);
      popts.workers = cal.best.workers;
      popts.net_threads = cal.best.net_threads;
    } catch (const std::exception& e) {
      std::cerr << "vidsift: calibration failed: " << e.what() << "\n";
      return kExitCannot;
    }
  }

  std::unique_ptr<Store> store;
  try {
    store = std::make_unique<Store>(o.db, seconds_to_ms(o.db_timeout));
    const int stale = store->recover_stale();
    if (stale > 0)
      say("vidsift: kept " + std::to_string(stale) +
          " unfinished video(s) of a run that stopped as `interrupted`; they resume after their last stored frame");
  } catch (const std::exception& e) {
    std::cerr << "vidsift: " << e.what() << "\n";
    return kExitCannot;
  }
  store->set_labels(model.labels);

  std::string settings;
  try {
    settings = settings_json(model, backend_name(model.backend), popts.post, popts.sampling, popts.track);
  } catch (const std::exception& e) {
    std::cerr << "vidsift: " << e.what() << "\n";
    return kExitCannot;
  }
  const std::string key = sha256_hex(settings).substr(0, 16);

  Discovery found = discover(o.inputs);
  for (const auto& w : found.warnings) say("vidsift: warning: " + w);
  // Nothing to analyse is never silent, even with -q: an unmounted share is
  // an empty directory. Judged on the whole listing, before sharding.
  for (const auto& w : empty_input_warnings(o.inputs, found)) std::cerr << "vidsift: warning: " << w << "\n";
  const bool listing_empty = found.files.empty() && found.missing.empty();
  if (o.shard) say("vidsift: " + keep_shard(o, found));
  if (popts.track) {
    if (const std::string err = track_spacing_error(popts.sampling, found.files); !err.empty()) {
      std::cerr << "vidsift: " << err << "\n(see vidsift --help)\n";
      return kExitUsage;
    }
  }
  // A shard whose share of a non-empty listing is empty has done its part:
  // not "nothing analysed" (exit 4), or a Slurm afterok merge would never run.
  const bool empty_share = o.shard && !listing_empty && found.files.empty() && found.missing.empty();
  std::vector<std::string> input_paths;
  for (const auto& f : found.files) input_paths.push_back(f.path);
  for (const auto& m : found.missing) input_paths.push_back(m.path);

  RunRecord rr;
  rr.tool_version = VIDSIFT_VERSION;
  rr.opencv_version = opencv_version();
  rr.model_path = model.path.string();
  rr.model_sha256 = model.sha256;
  rr.model_family = family_name(model.family);
  rr.input_size = std::to_string(model.input.width) + "x" + std::to_string(model.input.height);
  rr.settings = settings;
  rr.settings_key = key;
  rr.command = o.command_line;
  ExecutionPlan plan = plan_execution(popts, found.files.size());
  plan.backend = backend_name(model.backend) + " (" + backend_library(model.backend) + ")";
  rr.execution = plan.json();
  if (o.shard) rr.shard = o.shard->label();

  std::int64_t run_id = 0;
  RunSummary summary;
  std::vector<VideoJob> jobs;
  try {
    run_id = store->begin_run(rr);
    for (const auto& m : found.missing) {
      VideoRecord rec;
      rec.path = m.path;
      store->record_failed(run_id, rec, key, m.error);
      ++summary.videos_failed;
    }
    // Fingerprinting and the skip decision happen on the decoder threads,
    // overlapped with decoding (see Pipeline::run).
    for (const auto& f : found.files) {
      VideoJob job;
      job.file = f;
      jobs.push_back(std::move(job));
    }
  } catch (const std::exception& e) {
    std::cerr << "vidsift: " << e.what() << "\n";
    return kExitCannot;
  }
  say("vidsift: " + std::to_string(jobs.size()) + " video(s) to check and analyse into " + o.db);
  popts.admission.force = o.force;
  popts.admission.retry_failed = o.retry_failed;
  popts.should_stop = [&signals] { return signals.signal() != 0; };
  Progress progress;
  progress.videos_total = static_cast<std::int64_t>(jobs.size());
  const bool show_progress = !o.quiet && (o.progress == 1 || (o.progress == -1 && isatty(STDERR_FILENO)));
  // A log gets one line per finished video (a terminal has the progress line).
  if (!o.quiet && !show_progress)
    progress.on_video_finished = [](const FinishedVideo& f) { line(finished_video_line(f)); };

  PipelineResult res;
  {
    ProgressPrinter printer(progress, show_progress);
    try {
      Pipeline pipeline(model, *store, run_id, key, popts);
      res = pipeline.run(jobs, &progress);
    } catch (const std::exception& e) {
      res.fatal_error = e.what();
    }
  }

  summary.wall_seconds = res.wall_seconds;
  summary.videos_done = res.videos_done;
  summary.videos_partial = res.videos_partial;
  summary.videos_interrupted = res.videos_interrupted;
  // Each input is counted once: done, partial, failed (now, or before and
  // not retried) or skipped (done before), so the counts add up to the inputs.
  summary.videos_failed += res.videos_failed + res.videos_skipped_failed;
  summary.videos_skipped = res.videos_skipped - res.videos_skipped_failed;
  if (res.videos_skipped > 0)
    say("vidsift: skipped " + std::to_string(res.videos_skipped) +
        " video(s) already analysed with these settings (--force to redo)" +
        (res.videos_skipped_failed > 0 ? "; " + std::to_string(res.videos_skipped_failed) +
                                             " of them failed before and count as failed (--retry-failed to "
                                             "analyse them again)"
                                       : std::string()));
  summary.frames_analysed = res.frames_analysed;
  summary.detections = res.detections;
  const int sig = signals.signal();
  summary.status = !res.fatal_error.empty() ? "failed" : (sig != 0 ? "interrupted" : "finished");
  ResultSet current;  // the current results of this run's inputs
  bool recorded = false;
  try {
    if (o.verbose)
      say("vidsift: store: " + std::to_string(store->commits()) + " commits (" +
          human_number(res.wall_seconds > 0 ? static_cast<double>(store->commits()) / res.wall_seconds : 0.0) +
          "/s), " + human_number(store->commit_seconds() * 1e3) + " ms committing (" +
          human_number(res.wall_seconds > 0 ? 100.0 * store->commit_seconds() / res.wall_seconds : 0.0) +
          "% of the wall time)");
    store->write_timings(run_id, std::nullopt, res.timings);
    store->finish_run(run_id, summary);
    current = results_for_inputs(*store, input_paths, key);
    recorded = true;
  } catch (const std::exception& e) {
    std::cerr << "vidsift: " << e.what() << "\n";
    if (res.fatal_error.empty()) res.fatal_error = e.what();
  }
  int status = kExitOk;
  if (!res.fatal_error.empty()) {
    status = kExitCannot;
  } else if (sig != 0) {
    status = 128 + sig;
  } else if (summary.videos_failed + summary.videos_partial + summary.videos_interrupted > 0) {
    status = kExitSomeFailed;
  } else if (!empty_share && (input_paths.empty() || current.frames_analysed == 0)) {
    status = kExitNothing;
  }
  if (recorded) {
    try {
      if (!o.quiet) {
        print_run_summary(*store, run_id, &current, std::cerr);
        if (const std::string note = sampling_note(*store, run_id, popts.sampling); !note.empty())
          say("  note: " + note);
      } else if (status != kExitOk) {
        // -q: no table, but never silence when something is wrong.
        for (const auto& l : problem_lines(current, run_id)) std::cerr << "vidsift: " << l << "\n";
      }
      if (o.json) {
        std::cout << run_summary_json(*store, run_id, &current) << std::endl;
        if (!std::cout) {
          // The results are in the database, but whoever reads stdout got nothing.
          std::cerr << "vidsift: cannot write the --json summary to stdout (disk full or output closed?); the "
                       "results are in "
                    << o.db << "\n";
          status = kExitCannot;
        }
      }
    } catch (const std::exception& e) {
      std::cerr << "vidsift: " << e.what() << "\n";
      status = kExitCannot;
    }
  }
  if (!res.fatal_error.empty()) std::cerr << "vidsift: run stopped: " << res.fatal_error << "\n";
  if (!o.quiet || status != kExitOk) {
    SummaryFacts f;
    f.run_id = run_id;
    f.status = summary.status;
    f.exit_status = status;
    f.inputs = static_cast<std::int64_t>(input_paths.size());
    f.done = summary.videos_done;
    f.partial = summary.videos_partial;
    f.failed = summary.videos_failed;
    f.skipped = summary.videos_skipped;
    f.unfinished = std::max<std::int64_t>(0, f.inputs - f.done - f.partial - f.failed - f.skipped);
    f.frames = summary.frames_analysed;
    f.detections = summary.detections;
    f.seconds = summary.wall_seconds;
    f.db = o.db;
    line(summary_line(f));
  }
  return status;
}

int report_command(const CliOptions& o) {
  ReportScope scope;
  bool found = false;
  std::string json;
  try {
    Store store(o.db, seconds_to_ms(o.db_timeout), OpenMode::ReadOnly);
    if (o.report_run > 0) scope.run = o.report_run;
    if (!o.report_video.empty()) scope.video = recorded_path(o.report_video);
    try {
      scope.since = utc_time(store, "--since", o.report_since);
      scope.until = utc_time(store, "--until", o.report_until);
    } catch (const std::invalid_argument& e) {
      std::cerr << "vidsift: " << e.what() << "\n(see vidsift --help)\n";
      return kExitUsage;
    }
    if (!o.report_html.empty() && !write_html_file(store, scope, {o.html_top, o.html_thumbs}, o.report_html))
      return kExitCannot;
    if (o.json) {
      found = report_json(store, scope, json);
      std::cout << json << std::endl;
    } else {
      found = print_report(store, scope, std::cout);
    }
  } catch (const std::exception& e) {
    std::cerr << "vidsift: " << e.what() << "\n";
    return kExitCannot;
  }
  if (!std::cout) {
    std::cerr << "vidsift: cannot write the report to stdout (disk full or output closed?)\n";
    return kExitCannot;
  }
  return found ? kExitOk : kExitNothing;
}

}  // namespace
}  // namespace vidsift::cli

int main(int argc, char** argv) {
  using namespace vidsift::cli;
  // vidsift reports model problems itself, with advice; OpenCV's own log
  // lines would only repeat them less clearly.
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  av_log_set_level(AV_LOG_QUIET);  // decode problems are recorded per video instead
  // Commands with their own options (src/cli/export.cpp, src/cli/events.cpp).
  if (argc > 1 && std::string_view(argv[1]) == "export") return export_command(argc - 1, argv + 1);
  if (argc > 1 && std::string_view(argv[1]) == "events") return events_command(argc - 1, argv + 1);
  if (argc > 1 && std::string_view(argv[1]) == "render") return render_command(argc - 1, argv + 1);
  CliOptions o;
  try {
    o = parse_command_line(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "vidsift: " << e.what() << "\n(see vidsift --help)\n";
    return kExitUsage;
  }
  switch (o.command) {
    case Command::Help: std::cout << o.help_text; return kExitOk;
    case Command::Version:
      std::cout << "vidsift " << VIDSIFT_VERSION << " (OpenCV " << vidsift::opencv_version()
                << "; inference backends: " << vidsift::built_backends() << "; --backend auto picks "
                << (vidsift::ort_built_in() ? "onnxruntime when it runs the model" : "opencv-dnn") << ")\n";
      return kExitOk;
    case Command::Report: return report_command(o);
    case Command::Merge: return merge_command(o);
    case Command::Run: {
      // In a log (stderr not a terminal) every line starts with the UTC time.
      StampedStderr stamps(!isatty(STDERR_FILENO));
      if (o.dry_run) return dry_run_command(o);
      if (o.verbose) {
        av_log_set_level(AV_LOG_WARNING);
        cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_WARNING);
      }
      SignalWatcher signals;
      return run_command(o, signals);
    }
  }
  return kExitUsage;
}
