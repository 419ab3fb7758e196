// calibrate.h — pick the fastest inference configuration on this machine.
//
// Contract:
//  * calibrate(model, seconds) times real forward passes of `model` on a
//    ready-made blob for each candidate configuration — one net using every
//    core, and one single-threaded net per core running concurrently (also
//    per core + 1 when that differs) — for about `seconds` each after one
//    warm-up pass per net, and returns every measurement plus the fastest.
//  * Measures the backend that loaded the model (model.backend). For OpenCV
//    it sets the process-wide thread count while measuring; the pipeline
//    sets it again before it runs. Comparing backends is not done yet.
//  * Throws InferenceError when the model cannot run.
#pragma once

#include <string>
#include <vector>

#include "vidsift/inference.h"

namespace vidsift {

struct InferConfig {
  int workers = 1;
  int net_threads = 1;
  double images_per_second = 0.0;
  std::string describe() const;  // "2 nets x 1 thread: 34.1 images/s"
};

struct Calibration {
  std::vector<InferConfig> measured;
  InferConfig best;
};

Calibration calibrate(const LoadedModel& model, double seconds_per_config = 2.0);

// Measures one configuration (also used by the benchmark).
InferConfig measure_config(const LoadedModel& model, int workers, int net_threads, double seconds);

}  // namespace vidsift
