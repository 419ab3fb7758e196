#include "vidsift/calibrate.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace vidsift {

namespace {

// The --backend value that selects b.
const char* backend_flag(Backend b) { return b == Backend::Ort ? "ort" : "opencv"; }

bool faster(const InferConfig& a, const InferConfig& b) { return a.images_per_second < b.images_per_second; }

// The candidate layouts, as (workers, net_threads).
std::vector<std::pair<int, int>> candidates() {
  const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<std::pair<int, int>> c = {{1, hw}, {hw, 1}};
  if (hw > 1) c.emplace_back(hw + 1, 1);
  if (hw >= 4) c.emplace_back(hw / 2, 2);
  return c;
}

}  // namespace

std::string InferConfig::layout() const {
  return std::to_string(workers) + (workers == 1 ? " net x " : " nets x ") + std::to_string(net_threads) +
         (net_threads == 1 ? " thread" : " threads");
}

std::string InferConfig::describe() const {
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.1f", images_per_second);
  return backend_name(backend) + ", " + layout() + ": " + rate + " images/s";
}

std::string InferConfig::flags() const {
  return std::string("--backend ") + backend_flag(backend) + " --workers " + std::to_string(workers) +
         " --net-threads " + std::to_string(net_threads);
}

InferConfig measure_config(const LoadedModel& model, int workers, int net_threads, double seconds) {
  const int sz[4] = {1, 3, model.input.height, model.input.width};
  std::vector<std::unique_ptr<InferenceBackend>> nets;
  std::vector<cv::Mat> blobs;
  for (int i = 0; i < workers; ++i) {
    nets.push_back(make_backend(model, net_threads));  // model.backend; sets OpenCV's threads
    blobs.emplace_back(4, sz, CV_32F, cv::Scalar(model.input.pad * model.input.scale));
    cv::Mat out;
    nets.back()->forward(blobs.back(), out);  // warm-up: allocations, layer setup
  }
  std::atomic<long> images{0};
  std::atomic<bool> failed{false};
  const auto start = std::chrono::steady_clock::now();
  const auto until =
      start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < workers; ++i) {
    threads.emplace_back([&, i] {
      cv::Mat out;
      try {
        while (std::chrono::steady_clock::now() < until) {
          nets[static_cast<std::size_t>(i)]->forward(blobs[static_cast<std::size_t>(i)], out);
          ++images;
        }
      } catch (...) {
        failed = true;
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) throw InferenceError("calibration forward pass failed");
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  InferConfig c;
  c.backend = model.backend;
  c.workers = workers;
  c.net_threads = net_threads;
  c.images_per_second = elapsed > 0 ? static_cast<double>(images.load()) / elapsed : 0.0;
  return c;
}

Calibration calibrate(const LoadedModel& model, double seconds_per_config) {
  Calibration cal;
  for (auto [w, t] : candidates()) cal.measured.push_back(measure_config(model, w, t, seconds_per_config));
  cal.best = *std::max_element(cal.measured.begin(), cal.measured.end(), faster);
  cal.fastest = cal.best;
  return cal;
}

Calibration calibrate_backends(const ModelOptions& opts, const LoadedModel& model, double seconds_per_config) {
  Calibration cal = calibrate(model, seconds_per_config);
  std::vector<Backend> others;
  if (model.backend != Backend::OpenCv) others.push_back(Backend::OpenCv);
  if (model.backend != Backend::Ort && ort_built_in()) others.push_back(Backend::Ort);
  for (const Backend b : others) {
    try {
      ModelOptions o = opts;
      o.backend = b;
      const LoadedModel other = load_model(o);
      std::vector<InferConfig> rows;
      for (auto [w, t] : candidates()) rows.push_back(measure_config(other, w, t, seconds_per_config));
      cal.measured.insert(cal.measured.end(), rows.begin(), rows.end());
    } catch (const std::exception& e) {
      cal.skipped.push_back({b, e.what()});
    }
  }
  cal.fastest = *std::max_element(cal.measured.begin(), cal.measured.end(), faster);
  return cal;
}

std::vector<std::string> report_lines(const Calibration& cal) {
  std::vector<std::string> lines;
  for (const InferConfig& c : cal.measured) lines.push_back(c.describe());
  for (const SkippedBackend& s : cal.skipped) lines.push_back(backend_name(s.backend) + ": not measured: " + s.reason);
  const InferConfig& f = cal.fastest;
  lines.push_back("fastest: " + f.describe() + "; " + f.flags() + " selects it");
  if (f.backend == cal.best.backend) {
    lines.push_back("using " + cal.best.describe());
  } else {
    lines.push_back("using " + cal.best.describe() + " (a run keeps the backend it loaded, part of the settings key)");
  }
  return lines;
}

}  // namespace vidsift
