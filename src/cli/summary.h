// summary.h — what the database says about a set of videos now: the
// "current result" of each, for the run summary, `--json` and `report`.
//
// Contract:
//  * The current result of a video under a settings key is its latest final
//    row (highest id, status not `running`) for that path (exact bytes) and
//    key. A rerun replaces done/partial rows and a failure replaces older
//    failures (store.h), so there is one such row per file and key; this
//    rule also reads databases written before that was so.
//  * results_for_inputs(store, paths, key) returns one VideoRow per path, in
//    the order given: its current result under `key` (whether this run made
//    it or an earlier one), or status "unfinished" (id 0) when there is none
//    (the run stopped before it). Totals cover exactly these rows.
//  * results_in_scope(store, scope) returns the rows a `report` asks for:
//    the current results of the whole database (every settings key), or
//    only those of one video (path), or finished within [since, until)
//    (UTC, compared as stored: "2026-11-21T03:00:00.000Z"); with a run id,
//    the rows that run wrote (still in the database) instead of current ones.
//    Filters combine.
//  * Each row carries its per-label detection counts (largest first, then by
//    name); ResultSet totals them.
//  * empty_window_warning(row) is non-empty for a `done` video with no frame
//    analysed: names the clip, and says when --start lies at or beyond its
//    end.
//  * to_json(row) is the per-video object of every JSON output: id, path,
//    status, error, warning, run_id, settings_key, finished_at, recorded_at
//    (null when unknown),
//    frames_analysed, frames_decoded, detections, labels {label: count}.
//  * empty_input_warnings(inputs, found) names what makes a run analyse
//    nothing: each INPUT directory in which no video file was found (an
//    unmounted share is an empty directory), and, when nothing at all was
//    found, the whole list. Touches only the file system.
// Reads only (works on a ReadOnly Store). Throws StoreError.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vidsift/discover.h"
#include "vidsift/store.h"

namespace vidsift::cli {

struct LabelCount {
  std::string label;
  std::int64_t count = 0;
};

struct VideoRow {
  std::int64_t id = 0;  // 0: no final row ("unfinished")
  std::string path;
  std::string status;  // done, partial, failed, ..., or "unfinished"
  std::string error;
  std::string warning;
  std::string recorded_at;  // UTC ISO-8601 start of the recording, "" = unknown
  std::int64_t run_id = 0;  // the run that wrote it
  std::string settings_key;
  std::string finished_at;
  std::int64_t frames_analysed = 0;
  std::int64_t frames_decoded = 0;
  double duration = 0;  // seconds, 0 when unknown
  double start = 0;     // --start of the run that wrote it
  std::int64_t detections = 0;
  std::vector<LabelCount> labels;
};

struct ResultSet {
  std::vector<VideoRow> videos;
  std::map<std::string, std::int64_t> by_status;  // status -> videos
  std::int64_t frames_analysed = 0;
  std::int64_t detections = 0;
  std::vector<LabelCount> labels;  // over all rows, largest first

  std::int64_t count(const std::string& status) const {
    const auto it = by_status.find(status);
    return it == by_status.end() ? 0 : it->second;
  }
};

ResultSet results_for_inputs(Store& store, const std::vector<std::string>& paths, const std::string& settings_key);

struct ReportScope {
  std::optional<std::int64_t> run;
  std::optional<std::string> video;  // exact path as recorded (absolute)
  std::string since;                 // normalised UTC timestamps, "" = open
  std::string until;
  bool any() const { return run || video || !since.empty() || !until.empty(); }
};

ResultSet results_in_scope(Store& store, const ReportScope& scope);

std::string empty_window_warning(const VideoRow& row);

nlohmann::ordered_json to_json(const VideoRow& row);
// {"done": 3, "failed": 1, ...} and {"person": 12, ...} in the set's order.
nlohmann::ordered_json status_counts_json(const ResultSet& set);
nlohmann::ordered_json labels_json(const std::vector<LabelCount>& labels);

// Human lines naming every video that is failed or partial now, and
// whether `this_run` made that result or an earlier run did (inputs with no
// result, "unfinished", are counted in one line):
//   "failed in this run: PATH: ERROR", "failed before (run 3): PATH: ERROR";
// with this_run 0 (a report) "failed (run 3): PATH: ERROR".
// Then a warning line per video with nothing analysed.
std::vector<std::string> problem_lines(const ResultSet& set, std::int64_t this_run);

// "3 done, 1 failed; frames analysed 80, detections 1139" ("none; ..." for
// an empty set) and, when there
// are labels, a second line "labels: person 1100, car 39, ...".
std::vector<std::string> totals_lines(const ResultSet& set, std::size_t max_labels = 8);

std::vector<std::string> empty_input_warnings(const std::vector<std::string>& inputs, const Discovery& found);

}  // namespace vidsift::cli
