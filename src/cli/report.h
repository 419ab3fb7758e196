// report.h — human summaries of what a database holds.
//
// Contract:
//  * print_run_summary(store, run_id, out) writes a short, readable summary of
//    one run (videos by status with their errors, frames, top labels, the
//    per-stage timing table) to `out`. Reads only.
//  * print_report(store, out) summarises the latest run and the database.
//  * run_summary_json(store, run_id) returns the same facts as one JSON
//    object (machine output, for stdout): counts are JSON integers,
//    wall_seconds a number that round-trips to the stored double, and text
//    that is not valid UTF-8 (paths are bytes) has its bad sequences replaced
//    by U+FFFD, so the output is always valid JSON. Reads only.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "vidsift/store.h"

namespace vidsift::cli {

void print_run_summary(Store& store, std::int64_t run_id, std::ostream& out);
void print_report(Store& store, std::ostream& out);
std::string run_summary_json(Store& store, std::int64_t run_id);

}  // namespace vidsift::cli
