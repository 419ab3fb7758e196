// infer_ceiling — the inference ceiling: pure cv::dnn forward throughput on
// ready-made blobs (no decode, no preprocessing, no postprocessing).
//
//   infer_ceiling --model FILE [--seconds S] [--cores N] [--configs LIST]
//
// Configurations (LIST is a comma list, default all):
//   one_net_all_threads   one net, cv::setNumThreads(N)
//   one_net_one_thread    one net, cv::setNumThreads(1)
//   nets_per_core         N nets, one per std::thread, cv::setNumThreads(1)
// Each net runs two warm-up forwards, then forwards until S seconds have
// passed. One JSON line per configuration on stdout, then a "best" line.
// N defaults to std::thread::hardware_concurrency().
#include <algorithm>
#include <atomic>
#include <barrier>
#include <thread>

#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>

#include "bench_common.h"
#include "vidsift/inference.h"

namespace {

struct Sample {
  long images = 0;
  double seconds = 0;       // longest per-net window
  double images_per_s = 0;  // sum of the per-net rates
};

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

// Runs `nets` nets concurrently (one std::thread each) for `seconds`.
Sample run_config(const std::string& path, const std::vector<cv::Mat>& blobs, int nets, double seconds) {
  std::vector<cv::dnn::Net> pool;
  for (int i = 0; i < nets; ++i) pool.push_back(load_net(path));
  std::vector<Sample> per(static_cast<std::size_t>(nets));
  std::barrier sync(nets);
  auto body = [&](int id) {
    cv::dnn::Net& net = pool[static_cast<std::size_t>(id)];
    std::vector<cv::Mat> outs;
    for (int w = 0; w < 2; ++w) {  // warm-up: first forwards allocate
      net.setInput(blobs[static_cast<std::size_t>(w) % blobs.size()]);
      net.forward(outs);
    }
    sync.arrive_and_wait();
    const auto t0 = bench::Clock::now();
    long n = 0;
    while (bench::seconds_since(t0) < seconds) {
      net.setInput(blobs[static_cast<std::size_t>(n + id) % blobs.size()]);
      net.forward(outs);
      ++n;
    }
    per[static_cast<std::size_t>(id)] = Sample{n, bench::seconds_since(t0), 0.0};
  };
  if (nets == 1) {
    body(0);
  } else {
    std::vector<std::jthread> threads;
    for (int i = 0; i < nets; ++i) threads.emplace_back(body, i);
  }
  Sample total;
  for (const auto& s : per) {
    total.images += s.images;
    total.seconds = std::max(total.seconds, s.seconds);
    total.images_per_s += s.seconds > 0 ? static_cast<double>(s.images) / s.seconds : 0.0;
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bench::Args args(argc, argv);
    const std::string model_arg = args.value("--model", "yolox_nano.onnx");
    const double seconds = args.number("--seconds", 8.0);
    const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    const int cores = static_cast<int>(args.number("--cores", hw));
    std::string configs = args.value("--configs", "one_net_all_threads,one_net_one_thread,nets_per_core");
    if (!args.positional().empty()) throw std::invalid_argument("unexpected argument " + args.positional().front());

    vidsift::ModelOptions mo;
    mo.model = model_arg;
    mo.backend = vidsift::Backend::OpenCv;  // the OpenCV dnn figures
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
      if (cfg == "one_net_all_threads") {
        threads = cores;
      } else if (cfg == "one_net_one_thread") {
        threads = 1;
      } else if (cfg == "nets_per_core") {
        nets = cores;
      } else {
        throw std::invalid_argument("unknown configuration " + cfg);
      }
      cv::setNumThreads(threads);
      std::cerr << "infer_ceiling: " << model.path.filename().string() << " " << size << " " << cfg << " (" << nets
                << " net(s) x " << threads << " thread(s), " << seconds << " s)\n";
      const Sample s = run_config(path, blobs, nets, seconds);
      const double ips = s.images_per_s;
      bench::JsonLine()
          .str("bench", "infer_ceiling")
          .str("model", model.path.filename().string())
          .str("input", size)
          .str("config", cfg)
          .num("nets", nets)
          .num("threads_per_net", threads)
          .num("images", static_cast<double>(s.images))
          .num("seconds", s.seconds)
          .num("images_per_s", ips)
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
        .str("config", best_name)
        .num("images_per_s", best)
        .str("opencv", vidsift::opencv_version())
        .print();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "infer_ceiling: " << e.what() << "\n";
    return 1;
  }
}
