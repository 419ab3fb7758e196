// report.h — human and JSON summaries of what a database holds: the end of
// `vidsift run`, and `vidsift report`.
//
// Contract:
//  * print_run_summary(store, run_id, inputs, out) writes the summary of one
//    run: its counts, model and what it analysed; "nothing new to analyse"
//    when it skipped every input; the current results of its inputs under
//    its settings (summary.h: per-status counts, frames, detections, top
//    labels, whether it or an earlier run made them); one line naming every
//    input that is failed or partial now, saying whether it failed in this
//    run or before; the per-stage timing table when it analysed frames.
//    Without `inputs` (nullptr) the results are the rows the run wrote.
//  * run_summary_json(store, run_id, inputs) returns the same facts as one
//    JSON object (machine output, for stdout): the run's counts, "inputs",
//    "results" (status counts, frames, detections, labels over the inputs'
//    current results) and "videos" (one object per input, summary.h
//    to_json). Counts are JSON integers, wall_seconds a number that
//    round-trips to the stored double, and text is valid UTF-8 (paths as
//    stored: bad bytes escaped as \xHH, utf8.h), so the output is always
//    valid JSON.
//  * print_report(store, scope, out) / report_json(store, scope) summarise
//    the database's current results (latest result per video and settings),
//    or the chosen run, video or time range (ReportScope), naming failures,
//    and list the runs concerned. They return false when the scope matches
//    nothing (no such run, no result for that video or time range).
//  * recorded_path(arg) is a video path as `run` records it (absolute,
//    lexically normal), for --video.
//  * utc_time(store, option, text) normalises a --since/--until time to the
//    stored form ("2026-11-21" -> "2026-11-21T00:00:00.000Z"; SQLite's time
//    formats, UTC, "Z" or an offset allowed); "" stays "". Throws
//    std::invalid_argument naming the option when SQLite cannot read it.
// All of them only read.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "summary.h"
#include "vidsift/store.h"

namespace vidsift::cli {

void print_run_summary(Store& store, std::int64_t run_id, const ResultSet* inputs, std::ostream& out);
std::string run_summary_json(Store& store, std::int64_t run_id, const ResultSet* inputs = nullptr);

bool print_report(Store& store, const ReportScope& scope, std::ostream& out);
bool report_json(Store& store, const ReportScope& scope, std::string& json);

// The runs a report concerns: the chosen one, those started in the time
// range, or the latest; and the scope in words ("current results ...").
std::vector<std::int64_t> runs_in_scope(Store& store, const ReportScope& scope);
std::string scope_text(const ReportScope& scope);

std::string recorded_path(const std::string& arg);
std::string utc_time(Store& store, const std::string& option, const std::string& text);

}  // namespace vidsift::cli
