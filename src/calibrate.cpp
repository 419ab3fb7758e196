#include "vidsift/calibrate.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace vidsift {

std::string InferConfig::describe() const {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%d net%s x %d thread%s: %.1f images/s", workers, workers == 1 ? "" : "s", net_threads,
                net_threads == 1 ? "" : "s", images_per_second);
  return buf;
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
  c.workers = workers;
  c.net_threads = net_threads;
  c.images_per_second = elapsed > 0 ? static_cast<double>(images.load()) / elapsed : 0.0;
  return c;
}

Calibration calibrate(const LoadedModel& model, double seconds_per_config) {
  const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<std::pair<int, int>> candidates = {{1, hw}, {hw, 1}};
  if (hw > 1) candidates.emplace_back(hw + 1, 1);
  if (hw >= 4) candidates.emplace_back(hw / 2, 2);
  Calibration cal;
  for (auto [w, t] : candidates) cal.measured.push_back(measure_config(model, w, t, seconds_per_config));
  cal.best = *std::max_element(
      cal.measured.begin(), cal.measured.end(),
      [](const InferConfig& a, const InferConfig& b) { return a.images_per_second < b.images_per_second; });
  return cal;
}

}  // namespace vidsift
