#include "sampling_note.h"

#include <charconv>
#include <vector>

#include "vidsift/sampling_advice.h"

namespace vidsift::cli {

std::string sampling_note(Store& store, std::int64_t run_id, const SamplingOptions& sampling) {
  if (!sampling.keyframes && !(sampling.fps > 0)) return {};
  std::vector<SampledVideo> videos;
  for (const auto& row : store.query("SELECT quote(duration), frames_analysed FROM videos WHERE run_id=? AND "
                                     "status IN ('done','partial')",
                                     {std::to_string(run_id)})) {
    SampledVideo v;
    v.duration = cell_real(row[0]);
    v.frames_analysed = cell_int(row[1]);
    videos.push_back(v);
  }
  return sparse_sampling_advice(sampling, videos);
}

}  // namespace vidsift::cli
