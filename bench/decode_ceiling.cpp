// decode_ceiling — the decode ceiling: vidsift's own vidsift::Decoder
// decoding every frame (or key frames only), with no preprocessing and no
// inference.
//
//   decode_ceiling [--name NAME] [--keyframes] [--fps F] [--no-skip-nonref]
//                  [--threads N] [--parallel P] [--per-file] FILE...
//
// --fps       sample like vidsift --fps F: only the frames that must be
//             decoded are decoded (unsampled non-reference frames are
//             skipped, AVDISCARD_NONREF); --no-skip-nonref decodes them all
//             anyway, to measure that lever
// --threads   libavcodec threads per decoder (vidsift's --decode-threads,
//             default 1 like vidsift)
// --parallel  files decoded at once, one std::thread each, pulling from one
//             queue (vidsift's --decoders; default 1)
// Prints one JSON line for the whole set (and one per file with --per-file):
// frames returned, frames decoded, packets read, wall seconds, frames/s,
// video seconds (container duration) and video-seconds/s.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "bench_common.h"
#include "vidsift/decoder.h"

namespace {

struct FileResult {
  std::string path;
  std::int64_t frames = 0;   // frames next() returned
  std::int64_t decoded = 0;  // frames the codec produced
  std::int64_t packets = 0;
  double video_s = 0;
  double wall_s = 0;
  std::string error;
};

FileResult decode_file(const std::string& path, bool keyframes, double fps, bool skip_nonref, int threads) {
  FileResult r;
  r.path = path;
  const auto t0 = bench::Clock::now();
  try {
    vidsift::DecoderOptions o;
    o.sampling.keyframes = keyframes;
    o.sampling.fps = fps;
    o.skip_unsampled_nonref = skip_nonref;
    o.threads = threads;
    vidsift::Decoder dec(path, o);
    vidsift::DecodedFrame f;
    double last_ts = 0;
    while (dec.next(f)) {
      ++r.frames;
      last_ts = f.timestamp;
    }
    r.decoded = dec.frames_decoded();
    r.packets = dec.packets_read();
    const auto& info = dec.info();
    r.video_s = info.duration > 0 ? info.duration : last_ts + (info.fps > 0 ? 1.0 / info.fps : 0.0);
    if (dec.decode_errors() > 0 || dec.truncated()) r.error = dec.last_error();
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  r.wall_s = bench::seconds_since(t0);
  return r;
}

void print(const std::string& bench_name, const std::string& name, bool keyframes, double fps, bool skip_nonref,
           int threads, int parallel, std::size_t files, std::int64_t frames, std::int64_t decoded,
           std::int64_t packets, double video_s, double wall_s, const std::string& error) {
  bench::JsonLine()
      .str("bench", bench_name)
      .str("name", name)
      .boolean("keyframes", keyframes)
      .num("fps", fps)
      .boolean("skip_nonref", skip_nonref)
      .num("threads", threads)
      .num("parallel", parallel)
      .num("files", static_cast<double>(files))
      .num("frames", static_cast<double>(frames))
      .num("decoded", static_cast<double>(decoded))
      .num("packets", static_cast<double>(packets))
      .num("video_s", video_s)
      .num("wall_s", wall_s)
      .num("frames_per_s", wall_s > 0 ? static_cast<double>(frames) / wall_s : 0.0)
      .num("decoded_per_s", wall_s > 0 ? static_cast<double>(decoded) / wall_s : 0.0)
      .num("video_s_per_s", wall_s > 0 ? video_s / wall_s : 0.0)
      .str("error", error)
      .print();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    av_log_set_level(AV_LOG_ERROR);
    bench::Args args(argc, argv);
    const std::string name = args.value("--name", "");
    const bool keyframes = args.flag("--keyframes");
    const bool per_file = args.flag("--per-file");
    const bool skip_nonref = !args.flag("--no-skip-nonref");
    const double fps = args.number("--fps", 0.0);
    const int threads = static_cast<int>(args.number("--threads", 1));
    const int parallel = std::max(1, static_cast<int>(args.number("--parallel", 1)));
    const std::vector<std::string> files = args.positional();
    if (files.empty()) throw std::invalid_argument("usage: decode_ceiling [options] FILE...");

    std::vector<FileResult> results(files.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      for (std::size_t i = next.fetch_add(1); i < files.size(); i = next.fetch_add(1))
        results[i] = decode_file(files[i], keyframes, fps, skip_nonref, threads);
    };
    const auto t0 = bench::Clock::now();
    {
      std::vector<std::jthread> pool;
      const int n = std::min<int>(parallel, static_cast<int>(files.size()));
      for (int i = 0; i < n; ++i) pool.emplace_back(worker);
    }
    const double wall = bench::seconds_since(t0);

    std::int64_t frames = 0, decoded = 0, packets = 0;
    double video_s = 0;
    std::string error;
    for (const auto& r : results) {
      frames += r.frames;
      decoded += r.decoded;
      packets += r.packets;
      video_s += r.video_s;
      if (!r.error.empty() && error.empty()) error = r.path + ": " + r.error;
      if (per_file)
        print("decode_ceiling_file", r.path, keyframes, fps, skip_nonref, threads, 1, 1, r.frames, r.decoded, r.packets,
              r.video_s, r.wall_s, r.error);
    }
    print("decode_ceiling", name.empty() ? files.front() : name, keyframes, fps, skip_nonref, threads, parallel,
          files.size(), frames, decoded, packets, video_s, wall, error);
    std::cerr << "decode_ceiling: " << (name.empty() ? files.front() : name)
              << (keyframes ? " keyframes"
                  : fps > 0 ? " fps " + std::to_string(fps)
                            : std::string(" all"))
              << ": " << frames << " frames (" << decoded << " decoded) in " << wall << " s\n";
    return error.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "decode_ceiling: " << e.what() << "\n";
    return 1;
  }
}
