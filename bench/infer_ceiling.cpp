// infer_ceiling — the inference ceiling: pure forward throughput on
// ready-made blobs (no decode, no preprocessing, no postprocessing), with
// OpenCV dnn (cv::dnn::Net) or ONNX Runtime (vidsift::OrtBackend, the
// sessions vidsift itself runs).
//
//   infer_ceiling --model FILE [--backend opencv|ort] [--seconds S] [--cores N]
//                 [--configs LIST]
//
// Configurations (LIST is a comma list, default all of the backend's):
//   one_net_all_threads   one net/session, N intra-op threads
//   one_net_one_thread    one net/session, 1 thread
//   nets_per_core         N nets/sessions, one per std::thread, 1 thread each
//   shared_session        (ORT only) one session with 1 intra-op thread, N
//                         std::threads calling Run on it concurrently
// Each thread runs two warm-up forwards, then forwards until S seconds have
// passed. One JSON line per configuration on stdout (with the process's
// resident memory while the nets are alive, and cpu_ms_per_image: the
// process's CPU time over the timed window per image, which other load on a
// shared machine moves much less than images/s), then a "best" line.
// N defaults to std::thread::hardware_concurrency().
#include <algorithm>
#include <atomic>
#include <barrier>
#include <ctime>
#include <fstream>
#include <functional>
#include <thread>

#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>

#include "bench_common.h"
#include "vidsift/inference.h"
#ifdef VIDSIFT_HAVE_ORT
#include "vidsift/ort_backend.h"
#endif

namespace {

struct Sample {
  long images = 0;
  double seconds = 0;       // longest per-net window
  double images_per_s = 0;  // sum of the per-net rates
  double cpu_s = 0;         // CPU time of the timed windows, all threads (the process's, intra-op pools included)
};

// CPU seconds (user + system) of the whole process so far. On a shared
// machine wall-clock rates move with other load; CPU time per image much less.
double process_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

cv::dnn::Net load_net(const std::string& path) {
  cv::dnn::Net net = cv::dnn::readNetFromONNX(path);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return net;
}

std::vector<cv::Mat> make_blobs(const vidsift::InputSpec& in, int count) {
  std::vector<cv::Mat> blobs;
  cv::RNG rng(4242);
  for (int i = 0; i < count; ++i) {
    const int sz[4] = {1, 3, in.height, in.width};
    cv::Mat b(4, sz, CV_32F);
    rng.fill(b, cv::RNG::UNIFORM, 0.0, 255.0 * in.scale);
    blobs.push_back(std::move(b));
  }
  return blobs;
}

// Resident memory of this process now, MB (VmRSS of /proc/self/status).
double rss_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0.0;
}

// One forward pass of net `id` on a blob.
using ForwardFn = std::function<void(int id, const cv::Mat& blob)>;

// Runs `nets` forward functions concurrently (one std::thread each) for `seconds`.
Sample run_threads(const ForwardFn& forward, const std::vector<cv::Mat>& blobs, int nets, double seconds, double& rss) {
  std::vector<Sample> per(static_cast<std::size_t>(nets));
  std::barrier sync(nets);
  double cpu0 = 0;
  double cpu1 = 0;
  auto body = [&](int id) {
    for (int w = 0; w < 2; ++w)
      forward(id, blobs[static_cast<std::size_t>(w) % blobs.size()]);  // first passes allocate
    sync.arrive_and_wait();
    if (id == 0) cpu0 = process_cpu_s();
    const auto t0 = bench::Clock::now();
    long n = 0;
    while (bench::seconds_since(t0) < seconds) {
      forward(id, blobs[static_cast<std::size_t>(n + id) % blobs.size()]);
      ++n;
    }
    per[static_cast<std::size_t>(id)] = Sample{n, bench::seconds_since(t0), 0.0, 0.0};
    sync.arrive_and_wait();
    if (id == 0) cpu1 = process_cpu_s();
  };
  if (nets == 1) {
    body(0);
  } else {
    std::vector<std::jthread> threads;
    for (int i = 0; i < nets; ++i) threads.emplace_back(body, i);
  }
  rss = rss_mb();
  Sample total;
  total.cpu_s = cpu1 - cpu0;
  for (const auto& s : per) {
    total.images += s.images;
    total.seconds = std::max(total.seconds, s.seconds);
    total.images_per_s += s.seconds > 0 ? static_cast<double>(s.images) / s.seconds : 0.0;
  }
  return total;
}

// OpenCV dnn: `nets` nets (cv::setNumThreads is set by the caller).
Sample run_opencv(const std::string& path, const std::vector<cv::Mat>& blobs, int nets, double seconds, double& rss) {
  std::vector<cv::dnn::Net> pool;
  for (int i = 0; i < nets; ++i) pool.push_back(load_net(path));
  std::vector<std::vector<cv::Mat>> outs(static_cast<std::size_t>(nets));
  return run_threads(
      [&](int id, const cv::Mat& blob) {
        cv::dnn::Net& net = pool[static_cast<std::size_t>(id)];
        net.setInput(blob);
        net.forward(outs[static_cast<std::size_t>(id)]);
      },
      blobs, nets, seconds, rss);
}

#ifdef VIDSIFT_HAVE_ORT
// ONNX Runtime: `nets` backends with `threads` intra-op threads each, either
// one session each or all sharing the first one's session.
Sample run_ort(const std::string& path, const std::vector<cv::Mat>& blobs, int nets, int threads, bool shared,
               double seconds, double& rss) {
  std::vector<std::unique_ptr<vidsift::OrtBackend>> pool;
  for (int i = 0; i < nets; ++i)
    pool.push_back(shared && i > 0 ? pool.front()->share() : std::make_unique<vidsift::OrtBackend>(path, threads));
  std::vector<cv::Mat> outs(static_cast<std::size_t>(nets));
  return run_threads(
      [&](int id, const cv::Mat& blob) {
        pool[static_cast<std::size_t>(id)]->forward(blob, outs[static_cast<std::size_t>(id)]);
      },
      blobs, nets, seconds, rss);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  try {
    bench::Args args(argc, argv);
    const std::string model_arg = args.value("--model", "yolox_nano.onnx");
    const double seconds = args.number("--seconds", 8.0);
    const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    const int cores = static_cast<int>(args.number("--cores", hw));
    const vidsift::Backend backend = vidsift::parse_backend(args.value("--backend", "opencv"));
    const bool ort = backend == vidsift::Backend::Ort;
    std::string configs =
        args.value("--configs", ort ? "one_net_all_threads,one_net_one_thread,nets_per_core,shared_session"
                                    : "one_net_all_threads,one_net_one_thread,nets_per_core");
    if (!args.positional().empty()) throw std::invalid_argument("unexpected argument " + args.positional().front());

    vidsift::ModelOptions mo;
    mo.model = model_arg;
    mo.backend = ort ? vidsift::Backend::Ort : vidsift::Backend::OpenCv;
    const vidsift::LoadedModel model = vidsift::load_model(mo);
    const std::string path = model.path.string();
    const auto blobs = make_blobs(model.input, 4);
    const std::string size = std::to_string(model.input.width) + "x" + std::to_string(model.input.height);

    std::string best_name;
    double best = 0;
    std::stringstream list(configs);
    std::string cfg;
    while (std::getline(list, cfg, ',')) {
      int nets = 1;
      int threads = 1;
      bool shared = false;
      if (cfg == "one_net_all_threads") {
        threads = cores;
      } else if (cfg == "one_net_one_thread") {
        threads = 1;
      } else if (cfg == "nets_per_core") {
        nets = cores;
      } else if (cfg == "shared_session" && ort) {
        nets = cores;
        shared = true;
      } else {
        throw std::invalid_argument("unknown configuration " + cfg);
      }
      std::cerr << "infer_ceiling: " << model.path.filename().string() << " " << size << " "
                << vidsift::backend_name(backend) << " " << cfg << " (" << nets << " net(s) x " << threads
                << " thread(s), " << seconds << " s)\n";
      double rss = 0;
      Sample s;
      if (ort) {
#ifdef VIDSIFT_HAVE_ORT
        s = run_ort(path, blobs, nets, threads, shared, seconds, rss);
#endif
      } else {
        cv::setNumThreads(threads);
        s = run_opencv(path, blobs, nets, seconds, rss);
      }
      const double ips = s.images_per_s;
      bench::JsonLine()
          .str("bench", "infer_ceiling")
          .str("model", model.path.filename().string())
          .str("input", size)
          .str("backend", vidsift::backend_name(backend))
          .str("config", cfg)
          .num("nets", nets)
          .boolean("shared_session", shared)
          .num("threads_per_net", threads)
          .num("images", static_cast<double>(s.images))
          .num("seconds", s.seconds)
          .num("images_per_s", ips)
          .num("cpu_ms_per_image", s.images > 0 ? 1000.0 * s.cpu_s / static_cast<double>(s.images) : 0.0)
          .num("rss_mb", rss)
          .print();
      if (ips > best) {
        best = ips;
        best_name = cfg;
      }
    }
    bench::JsonLine()
        .str("bench", "infer_ceiling_best")
        .str("model", model.path.filename().string())
        .str("input", size)
        .str("backend", vidsift::backend_name(backend))
        .str("config", best_name)
        .num("images_per_s", best)
        .str("library", vidsift::backend_library(backend))
        .str("opencv", vidsift::opencv_version())
        .print();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "infer_ceiling: " << e.what() << "\n";
    return 1;
  }
}
