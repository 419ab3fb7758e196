// naive_baseline — what a first attempt looks like: cv::VideoCapture, one
// cv::dnn::Net with OpenCV's default threading, one thread of control, every
// frame: read → blobFromImage (plain resize, no letterbox) → forward →
// decode candidates → per-class NMS → boxes mapped to source pixels.
//
//   naive_baseline --model FILE [--end S] [--conf C] [--nms T] VIDEO
//
// Same model, same input size and the same frames as `vidsift run` every
// frame (--end S stops at S seconds of video, like vidsift's --end). The
// candidate decode and NMS are vidsift's own functions (the same work as
// vidsift's postprocess stage). The wall time includes loading the net and
// opening the video, like vidsift's pipeline wall time includes creating its
// nets and decoders. One JSON line on stdout.
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/videoio.hpp>

#include "bench_common.h"
#include "vidsift/inference.h"
#include "vidsift/postprocess.h"

int main(int argc, char** argv) {
  try {
    bench::Args args(argc, argv);
    const std::string model_arg = args.value("--model", "yolox_nano.onnx");
    const double end = args.number("--end", 0.0);
    vidsift::PostprocessOptions post;
    post.conf = static_cast<float>(args.number("--conf", 0.25));
    post.nms = static_cast<float>(args.number("--nms", 0.45));
    const auto pos = args.positional();
    if (pos.size() != 1) throw std::invalid_argument("usage: naive_baseline --model FILE [--end S] VIDEO");
    const std::string video = pos.front();

    // Family and input convention only (vidsift's start-up probe); not timed.
    vidsift::ModelOptions mo;
    mo.model = model_arg;
    mo.backend = vidsift::Backend::OpenCv;  // the OpenCV dnn figures
    const vidsift::LoadedModel model = vidsift::load_model(mo);
    const vidsift::InputSpec& in = model.input;

    const auto t0 = bench::Clock::now();
    cv::dnn::Net net = cv::dnn::readNetFromONNX(model.path.string());
    cv::VideoCapture cap(video);
    if (!cap.isOpened()) throw std::runtime_error("cannot open " + video);
    const double fps = cap.get(cv::CAP_PROP_FPS);

    cv::Mat frame, blob;
    std::vector<cv::Mat> outs;
    long frames = 0;
    long detections = 0;
    double forward_s = 0;
    while (cap.read(frame)) {
      if (end > 0 && fps > 0 && static_cast<double>(frames) / fps >= end) break;
      cv::dnn::blobFromImage(frame, blob, in.scale, cv::Size(in.width, in.height), cv::Scalar(), in.rgb, false, CV_32F);
      const auto tf = bench::Clock::now();
      net.setInput(blob);
      net.forward(outs);
      forward_s += bench::seconds_since(tf);
      const vidsift::OutputView view = vidsift::slice_output(outs.front(), 0, 1);
      auto dets = vidsift::apply_nms(vidsift::decode_candidates(view, model.family, in.width, in.height, post), post);
      const float sx = static_cast<float>(frame.cols) / static_cast<float>(in.width);
      const float sy = static_cast<float>(frame.rows) / static_cast<float>(in.height);
      for (auto& d : dets) d.box = vidsift::Box{d.box.x * sx, d.box.y * sy, d.box.w * sx, d.box.h * sy};
      detections += static_cast<long>(dets.size());
      ++frames;
    }
    const double wall = bench::seconds_since(t0);
    bench::JsonLine()
        .str("bench", "naive_baseline")
        .str("model", model.path.filename().string())
        .str("video", video)
        .num("end", end)
        .num("opencv_threads", cv::getNumThreads())
        .num("frames", static_cast<double>(frames))
        .num("detections", static_cast<double>(detections))
        .num("wall_s", wall)
        .num("forward_s", forward_s)
        .num("frames_per_s", wall > 0 ? static_cast<double>(frames) / wall : 0.0)
        .print();
    std::cerr << "naive_baseline: " << frames << " frames in " << wall << " s ("
              << (wall > 0 ? static_cast<double>(frames) / wall : 0.0) << " frames/s, " << detections
              << " detections)\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "naive_baseline: " << e.what() << "\n";
    return 1;
  }
}
