// calibrate.h — pick the fastest inference configuration on this machine.
//
// Contract:
//  * A configuration is a backend and a layout: `workers` nets running at
//    once, each with `net_threads` intra-op threads.
//  * calibrate(model, seconds) times real forward passes of `model` on a
//    ready-made blob for each candidate layout of model.backend — one net
//    using every core, and one single-threaded net per core running
//    concurrently (also per core + 1 when that differs) — for about
//    `seconds` each after one warm-up pass per net, and returns every
//    measurement plus the fastest. Throws InferenceError when the model
//    cannot run.
//  * calibrate_backends(opts, model, seconds) does the same for every
//    backend this build has (opencv-dnn, and onnxruntime when built in),
//    model.backend first. Another backend is opened with load_model(opts)
//    with only the backend changed; when it cannot open or run the model it
//    is listed in `skipped` with the reason, and the other rows still count.
//    `best` is the fastest layout of model.backend (the backend the run
//    loaded and keeps: the backend is part of the settings key, so a noisy
//    measurement must not change which results a run writes); `fastest` is
//    the fastest row of all, whose flags() select it in a later run. Throws
//    InferenceError only when model.backend itself cannot run.
//  * For OpenCV, measuring sets the process-wide thread count; the pipeline
//    sets it again before it runs.
//  * report_lines(cal) is what `vidsift run --calibrate` prints: one line
//    per measured row (describe()), one per skipped backend, then the
//    fastest row with the flags that select it, and what this run uses.
#pragma once

#include <string>
#include <vector>

#include "vidsift/inference.h"

namespace vidsift {

struct InferConfig {
  Backend backend = Backend::OpenCv;
  int workers = 1;
  int net_threads = 1;
  double images_per_second = 0.0;
  std::string layout() const;    // "2 nets x 1 thread"
  std::string describe() const;  // "onnxruntime, 2 nets x 1 thread: 34.1 images/s"
  std::string flags() const;     // "--backend ort --workers 2 --net-threads 1"
};

struct SkippedBackend {
  Backend backend = Backend::OpenCv;
  std::string reason;
};

struct Calibration {
  std::vector<InferConfig> measured;    // model.backend's rows first
  InferConfig best;                     // fastest row of model.backend
  InferConfig fastest;                  // fastest row of all
  std::vector<SkippedBackend> skipped;  // backends that could not be measured
};

Calibration calibrate(const LoadedModel& model, double seconds_per_config = 2.0);

Calibration calibrate_backends(const ModelOptions& opts, const LoadedModel& model, double seconds_per_config = 1.0);

std::vector<std::string> report_lines(const Calibration& cal);

// Measures one configuration of model.backend.
InferConfig measure_config(const LoadedModel& model, int workers, int net_threads, double seconds);

}  // namespace vidsift
