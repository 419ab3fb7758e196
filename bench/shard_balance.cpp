// shard_balance — how evenly --shard splits work (issue 13): the largest
// shard's frames against the mean, for --shard-by path and size, on a
// synthetic archive of mixed lengths, and how many files move when one file
// is added (what a rerun redoes).
//   shard_balance [files...]   (default: 200 1000 10000)
// The corpus: durations log-uniform between 30 s and 3 h (seeded, the same
// on every run), 25 fps, size proportional to duration; paths
// camN/YYYY-MM-DD/clipK.mp4 under one root.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "vidsift/shard.h"

using namespace vidsift;

namespace {

std::vector<VideoFile> corpus(int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> logdur(std::log(30.0), std::log(3 * 3600.0));
  std::vector<VideoFile> files;
  for (int i = 0; i < n; ++i) {
    VideoFile f;
    const double seconds = std::exp(logdur(rng));
    f.size = static_cast<std::int64_t>(seconds * 25);  // frames; bytes are proportional
    f.path = "/archive/cam" + std::to_string(i % 37) + "/2026-" + std::to_string(1 + i % 12) + "-" +
             std::to_string(1 + i % 28) + "/clip" + std::to_string(i) + ".mp4";
    files.push_back(f);
  }
  std::sort(files.begin(), files.end(), [](const VideoFile& a, const VideoFile& b) { return a.path < b.path; });
  return files;
}

// Shard of every file, in `files` order.
std::vector<int> assign(const std::vector<VideoFile>& files, int n, ShardBy by) {
  std::vector<int> out(files.size(), -1);
  for (int s = 0; s < n; ++s) {
    const auto mine = select_shard(files, {"/archive"}, Shard{s, n, "bench"}, by);
    std::size_t j = 0;
    for (std::size_t i = 0; i < files.size() && j < mine.size(); ++i)
      if (files[i].path == mine[j].path) {
        out[i] = s;
        ++j;
      }
  }
  return out;
}

double max_files_over_mean(const std::vector<int>& shard, int n) {
  std::vector<double> count(static_cast<std::size_t>(n), 0);
  for (int s : shard) count[static_cast<std::size_t>(s)] += 1;
  return *std::max_element(count.begin(), count.end()) / (static_cast<double>(shard.size()) / n);
}

double max_over_mean(const std::vector<VideoFile>& files, const std::vector<int>& shard, int n) {
  std::vector<double> frames(static_cast<std::size_t>(n), 0);
  double total = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    frames[static_cast<std::size_t>(shard[i])] += static_cast<double>(files[i].size);
    total += static_cast<double>(files[i].size);
  }
  return *std::max_element(frames.begin(), frames.end()) / (total / n);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {200, 1000, 10000};
  std::printf(
      "| files | shards | path: max/mean files | path: max/mean frames | size: max/mean frames | size: files moved by "
      "adding one |\n");
  std::printf("| ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (int n_files : sizes) {
    const auto files = corpus(n_files, 13);
    auto more = files;
    VideoFile extra;
    extra.path = "/archive/cam0/2026-6-15/new.mp4";
    extra.size = 25 * 1800;
    more.insert(std::upper_bound(more.begin(), more.end(), extra,
                                 [](const VideoFile& a, const VideoFile& b) { return a.path < b.path; }),
                extra);
    for (int n : {4, 16, 64}) {
      if (n * 2 > n_files) continue;
      const auto by_path = assign(files, n, ShardBy::Path);
      const auto by_size = assign(files, n, ShardBy::Size);
      const auto by_size_more = assign(more, n, ShardBy::Size);
      int moved = 0;
      for (std::size_t i = 0, j = 0; i < files.size(); ++i, ++j) {
        if (more[j].path != files[i].path) ++j;  // skip the added file
        moved += by_size[i] != by_size_more[j];
      }
      std::printf("| %d | %d | %.3f | %.3f | %.3f | %d (%.0f%%) |\n", n_files, n, max_files_over_mean(by_path, n),
                  max_over_mean(files, by_path, n), max_over_mean(files, by_size, n), moved, 100.0 * moved / n_files);
    }
  }
  return 0;
}
