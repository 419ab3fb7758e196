// sampling_note.h — the run summary's sparse-sampling warning line.
//
// Contract:
//  * sampling_note(store, run_id, sampling) returns the advice of
//    sparse_sampling_advice() for the videos this run analysed (done or
//    partial), or "" when there is none. Reads only.
#pragma once

#include <cstdint>
#include <string>

#include "vidsift/sampler.h"
#include "vidsift/store.h"

namespace vidsift::cli {

std::string sampling_note(Store& store, std::int64_t run_id, const SamplingOptions& sampling);

}  // namespace vidsift::cli
