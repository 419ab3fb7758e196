// bench_micro — Google Benchmark micro-benchmarks of vidsift's per-frame CPU
// stages other than the network itself:
//   BM_Preprocess/<src h>/<net side>  vidsift::Preprocessor::run: a yuv420p
//                                     frame (16:9) → letterboxed CHW float blob
//   BM_Postprocess/<model>            vidsift::postprocess (decode + NMS +
//                                     mapping) on a real network output for a
//                                     vtest.avi frame
// Models and video come from $VIDSIFT_SHARED_DIR (default: the build's
// VIDSIFT_SHARED_DIR). Postprocess benchmarks are skipped when missing.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "vidsift/decoder.h"
#include "vidsift/inference.h"
#include "vidsift/postprocess.h"
#include "vidsift/preprocess.h"

extern "C" {
#include <libavutil/imgutils.h>
}

namespace {

std::filesystem::path shared_dir() {
  if (const char* e = std::getenv("VIDSIFT_SHARED_DIR"); e && *e) return e;
  return VIDSIFT_BENCH_SHARED_DIR;
}

vidsift::FramePtr make_yuv_frame(int w, int h) {
  vidsift::FramePtr f = vidsift::make_frame();
  f->format = AV_PIX_FMT_YUV420P;
  f->width = w;
  f->height = h;
  if (av_frame_get_buffer(f.get(), 0) < 0) throw std::bad_alloc();
  for (int p = 0; p < 3; ++p) {
    const int ph = p == 0 ? h : (h + 1) / 2;
    for (int y = 0; y < ph; ++y)
      for (int x = 0; x < f->linesize[p]; ++x)
        f->data[p][static_cast<std::size_t>(y) * f->linesize[p] + x] =
            static_cast<std::uint8_t>((x * 7 + y * 3 + p * 50) & 0xff);
  }
  return f;
}

void BM_Preprocess(benchmark::State& state) {
  const int src_h = static_cast<int>(state.range(0));
  const int src_w = src_h * 16 / 9;
  const int side = static_cast<int>(state.range(1));
  // YOLOX convention at 416, Ultralytics convention at 640.
  const vidsift::Family fam = side == 416 ? vidsift::Family::YoloX : vidsift::Family::YoloV8;
  vidsift::Preprocessor pre(vidsift::input_spec_for(fam, side, side));
  auto frame = make_yuv_frame(src_w, src_h);
  std::vector<float> blob(static_cast<std::size_t>(3) * side * side);
  for (auto _ : state) {
    auto lb = pre.run(*frame, blob.data());
    benchmark::DoNotOptimize(lb);
    benchmark::DoNotOptimize(blob.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Preprocess)
    ->Args({576, 416})
    ->Args({720, 416})
    ->Args({1080, 416})
    ->Args({1080, 640})
    ->Unit(benchmark::kMicrosecond);

struct RealOutput {
  vidsift::LoadedModel model;
  vidsift::Letterbox lb;
  cv::Mat out;
};

// One real network output per model, computed once.
const RealOutput* real_output(const std::string& model_file) {
  static std::map<std::string, std::unique_ptr<RealOutput>> cache;
  auto it = cache.find(model_file);
  if (it != cache.end()) return it->second.get();
  std::unique_ptr<RealOutput> r;
  const auto shared = shared_dir();
  const auto model_path = shared / "models" / model_file;
  const auto video = shared / "videos" / "vtest.avi";
  if (std::filesystem::exists(model_path) && std::filesystem::exists(video)) {
    r = std::make_unique<RealOutput>();
    vidsift::ModelOptions mo;
    mo.model = model_path.string();
    mo.backend = vidsift::Backend::OpenCv;  // the OpenCV dnn figures
    r->model = vidsift::load_model(mo);
    vidsift::DecoderOptions dopts;
    dopts.sampling.start = 10.0;  // a busy frame
    vidsift::Decoder dec(video.string(), dopts);
    vidsift::DecodedFrame f;
    if (!dec.next(f)) throw std::runtime_error("cannot decode " + video.string());
    const auto& in = r->model.input;
    const int sz[4] = {1, 3, in.height, in.width};
    cv::Mat blob(4, sz, CV_32F);
    vidsift::Preprocessor pre(in);
    r->lb = pre.run(*f.frame, blob.ptr<float>());
    auto backend = vidsift::make_backend(r->model);
    backend->forward(blob, r->out);
  }
  return cache.emplace(model_file, std::move(r)).first->second.get();
}

void BM_Postprocess(benchmark::State& state, const std::string& model_file) {
  const RealOutput* r = real_output(model_file);
  if (!r) {
    state.SkipWithError(("missing " + model_file + " or vtest.avi under " + shared_dir().string()).c_str());
    return;
  }
  vidsift::PostprocessOptions opts;
  std::vector<float> scratch;
  std::size_t dets = 0;
  for (auto _ : state) {
    const auto view = vidsift::image_output(r->out, 0, 1, r->model.batch_layout, r->model.input.width,
                                            r->model.input.height, scratch);
    auto d = vidsift::postprocess(view, r->model.family, r->lb, opts);
    dets = d.size();
    benchmark::DoNotOptimize(d.data());
  }
  state.counters["detections"] = static_cast<double>(dets);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_Postprocess, yolox_nano, std::string("yolox_nano.onnx"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Postprocess, yolov8n, std::string("yolov8n.onnx"))->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
