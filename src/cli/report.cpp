#include "report.h"

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

namespace vidsift::cli {

namespace {

using Json = nlohmann::ordered_json;

// The run line, the model line and what the run itself analysed. False when
// there is no such run.
bool print_run_header(Store& store, std::int64_t run_id, std::ostream& out, std::int64_t* frames_out = nullptr,
                      std::int64_t* skipped_out = nullptr, std::int64_t* inputs_out = nullptr) {
  const std::string id = std::to_string(run_id);
  auto run = store.query(
      "SELECT status, wall_seconds, videos_done, videos_partial, videos_failed, videos_skipped, frames_analysed, "
      "detections, model_path, model_family, input_size, "
      "coalesce(CASE WHEN json_valid(execution) THEN json_extract(execution, '$.backend') END, "
      "CASE WHEN json_valid(settings) THEN json_extract(settings, '$.backend') END, ''), coalesce(started_at,''), "
      "coalesce(videos_interrupted, 0) "
      "FROM runs WHERE id=?",
      {id});
  if (run.empty()) return false;
  const auto& r = run[0];
  const double wall = cell_real(r[1]);
  const double frames = cell_real(r[6]);
  out << "vidsift run " << id << " (" << r[0] << ", started " << r[12] << "): " << r[2] << " done, " << r[3]
      << " partial, " << r[4] << " failed, " << (cell_int(r[13]) > 0 ? r[13] + " interrupted, " : std::string()) << r[5]
      << " skipped in " << std::fixed << std::setprecision(1) << wall << " s\n";
  out << "  model " << r[8] << " (" << r[9] << ", " << r[10] << ")";
  if (!r[11].empty()) out << " on " << r[11];
  out << "\n";
  out << "  this run analysed " << r[6] << " frame(s) (" << std::setprecision(1) << (wall > 0 ? frames / wall : 0.0)
      << " frames/s), detections " << r[7] << "\n";
  out.unsetf(std::ios::fixed);
  if (frames_out) *frames_out = cell_int(r[6]);
  if (skipped_out) *skipped_out = cell_int(r[5]);
  if (inputs_out) *inputs_out = cell_int(r[2]) + cell_int(r[3]) + cell_int(r[4]) + cell_int(r[5]) + cell_int(r[13]);
  return true;
}

void print_timings(Store& store, std::int64_t run_id, std::ostream& out) {
  auto timings = store.query(
      "SELECT stage, frames, total_s, mean_ms, p50_ms, p95_ms, max_ms FROM timings WHERE run_id=? AND video_id IS "
      "NULL ORDER BY rowid",
      {std::to_string(run_id)});
  if (timings.empty()) return;
  out << std::fixed;
  out << "  stage         frames   total s   mean ms    p50 ms    p95 ms    max ms\n";
  for (const auto& t : timings) {
    out << "  " << std::left << std::setw(12) << t[0] << std::right << std::setw(8) << t[1];
    for (int c = 2; c < 7; ++c)
      out << std::setw(10) << std::setprecision(c == 2 ? 2 : 1) << cell_real(t[static_cast<std::size_t>(c)]);
    out << "\n";
  }
  out << "  (stages overlap: decoding, inference and storing run concurrently)\n";
  out.unsetf(std::ios::fixed);
}

// `head` + the totals, the labels, then every problem named.
void print_results(const std::string& head, const ResultSet& set, std::int64_t this_run, std::ostream& out) {
  const auto totals = totals_lines(set);
  out << "  " << head << totals[0] << "\n";
  for (std::size_t i = 1; i < totals.size(); ++i) out << "  " << totals[i] << "\n";
  for (const auto& l : problem_lines(set, this_run)) out << "  " << l << "\n";
}

// The runs row as JSON (counts as integers, wall_seconds exact).
void add_run_json(Store& store, std::int64_t run_id, Json& j) {
  auto run = store.query(
      "SELECT status, quote(wall_seconds), videos_done, videos_partial, videos_failed, videos_skipped, "
      "frames_analysed, detections, "
      "coalesce(CASE WHEN json_valid(settings) THEN json_extract(settings, '$.backend') END, ''), "
      "coalesce(started_at,''), coalesce(finished_at,''), coalesce(settings_key,''), coalesce(videos_interrupted, 0) "
      "FROM runs WHERE id=?",
      {std::to_string(run_id)});
  if (run.empty()) return;
  const auto& r = run[0];
  j["status"] = r[0];
  j["started_at"] = r[9];
  j["finished_at"] = r[10];
  j["settings_key"] = r[11];
  j["wall_seconds"] = cell_real(r[1]);
  j["videos_done"] = cell_int(r[2]);
  j["videos_partial"] = cell_int(r[3]);
  j["videos_failed"] = cell_int(r[4]);
  j["videos_skipped"] = cell_int(r[5]);
  j["videos_interrupted"] = cell_int(r[12]);
  j["frames_analysed"] = cell_int(r[6]);
  j["detections"] = cell_int(r[7]);
  if (!r[8].empty()) j["backend"] = r[8];
}

Json results_json(const ResultSet& set) {
  Json j;
  j["videos"] = static_cast<std::int64_t>(set.videos.size());
  j["by_status"] = status_counts_json(set);
  j["frames_analysed"] = set.frames_analysed;
  j["detections"] = set.detections;
  j["labels"] = labels_json(set.labels);
  return j;
}

Json videos_json(const ResultSet& set) {
  Json videos = Json::array();
  for (const auto& v : set.videos) videos.push_back(to_json(v));
  return videos;
}

std::string dump(const Json& j) {
  // Paths come from the database (valid UTF-8, escaped) or through
  // to_utf8; `replace` is a last guard so the output is always valid JSON.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

// The runs a report concerns: the chosen one, those started in the time
// range, or the latest.
std::vector<std::int64_t> runs_in_scope(Store& store, const ReportScope& scope) {
  std::vector<std::int64_t> ids;
  if (scope.run) {
    if (!store.query("SELECT id FROM runs WHERE id=?", {std::to_string(*scope.run)}).empty()) ids.push_back(*scope.run);
    return ids;
  }
  if (!scope.since.empty() || !scope.until.empty()) {
    for (const auto& r :
         store.query("SELECT id FROM runs WHERE (?1 = '' OR started_at >= ?1) AND (?2 = '' OR started_at < ?2) "
                     "ORDER BY id",
                     {scope.since, scope.until}))
      ids.push_back(cell_int(r[0]));
    return ids;
  }
  auto last = store.query("SELECT MAX(id) FROM runs");
  if (!last.empty() && !last[0][0].empty()) ids.push_back(cell_int(last[0][0]));
  return ids;
}

std::string scope_text(const ReportScope& scope) {
  if (!scope.any()) return "current results (latest result per video and settings)";
  std::string s = scope.run ? "results written by run " + std::to_string(*scope.run) : "current results";
  if (scope.video) s += " for " + *scope.video;
  if (!scope.since.empty()) s += " finished from " + scope.since;
  if (!scope.until.empty()) s += " finished before " + scope.until;
  return s;
}

void print_run_summary(Store& store, std::int64_t run_id, const ResultSet* inputs, std::ostream& out) {
  std::int64_t frames = 0, skipped = 0, counted = 0;
  if (!print_run_header(store, run_id, out, &frames, &skipped, &counted)) {
    out << "no run " << run_id << " in " << store.path() << "\n";
    return;
  }
  if (inputs) {
    const auto n = static_cast<std::int64_t>(inputs->videos.size());
    if (n > 0 && skipped == n)
      out << "  nothing new to analyse: all " << n
          << " input(s) were analysed before with these settings (--force to redo them)\n";
    print_results("results for these " + std::to_string(n) + " input(s) and settings: ", *inputs, run_id, out);
  } else {
    ReportScope scope;
    scope.run = run_id;
    const ResultSet set = results_in_scope(store, scope);
    print_results("rows written by this run: ", set, run_id, out);
  }
  if (frames > 0) print_timings(store, run_id, out);
  out << "  database " << store.path() << "\n";
}

std::string run_summary_json(Store& store, std::int64_t run_id, const ResultSet* inputs) {
  Json j = {{"run_id", run_id}, {"database", store.path()}};
  add_run_json(store, run_id, j);
  if (inputs) {
    j["inputs"] = static_cast<std::int64_t>(inputs->videos.size());
    j["results"] = results_json(*inputs);
    j["videos"] = videos_json(*inputs);
  } else {
    ReportScope scope;
    scope.run = run_id;
    const ResultSet set = results_in_scope(store, scope);
    j["results"] = results_json(set);
    j["videos"] = videos_json(set);
  }
  return dump(j);
}

bool print_report(Store& store, const ReportScope& scope, std::ostream& out) {
  const ResultSet set = results_in_scope(store, scope);
  const auto runs = runs_in_scope(store, scope);
  if (!scope.any() && runs.empty()) {
    out << store.path() << " holds no runs yet\n";
    return true;
  }
  if (scope.run && runs.empty()) {
    out << "no run " << *scope.run << " in " << store.path() << "\n";
    return false;
  }
  out << "vidsift report of " << store.path() << ": " << scope_text(scope) << "\n";
  print_results(std::to_string(set.videos.size()) + " video(s): ", set, 0, out);
  if (!scope.run) {
    // Results from several settings are never mixed: say how many there are.
    std::map<std::string, std::int64_t> keys;
    for (const auto& v : set.videos) ++keys[v.settings_key];
    if (keys.size() > 1) {
      out << "  settings (results of different settings are kept apart):\n";
      for (const auto& [key, n] : keys) {
        auto m = store.query(
            "SELECT coalesce(model_path,''), coalesce(settings,'') FROM runs WHERE settings_key=? ORDER BY id DESC "
            "LIMIT 1",
            {key});
        out << "    " << key << ": " << n << " video(s)";
        if (!m.empty()) out << ", model " << m[0][0];
        out << "\n";
      }
    }
  }
  for (std::int64_t id : runs) {
    out << (scope.run ? "" : (scope.since.empty() && scope.until.empty() ? "latest " : ""));
    print_run_header(store, id, out);
    if (scope.run) print_timings(store, id, out);
  }
  if (scope.any() && set.videos.empty() && !scope.run) return false;
  return true;
}

bool report_json(Store& store, const ReportScope& scope, std::string& json) {
  const ResultSet set = results_in_scope(store, scope);
  const auto runs = runs_in_scope(store, scope);
  Json j;
  j["database"] = store.path();
  Json s = Json::object();
  if (scope.run) s["run"] = *scope.run;
  if (scope.video) s["video"] = *scope.video;
  if (!scope.since.empty()) s["since"] = scope.since;
  if (!scope.until.empty()) s["until"] = scope.until;
  j["scope"] = s;
  j["results"] = results_json(set);
  j["videos"] = videos_json(set);
  Json rj = Json::array();
  for (std::int64_t id : runs) {
    Json r = {{"run_id", id}};
    add_run_json(store, id, r);
    rj.push_back(r);
  }
  j["runs"] = rj;
  json = dump(j);
  if (scope.run) return !runs.empty();
  return !(scope.any() && set.videos.empty());
}

std::string recorded_path(const std::string& arg) {
  std::error_code ec;
  const auto abs = std::filesystem::absolute(arg, ec);
  return (ec ? std::filesystem::path(arg) : abs).lexically_normal().string();
}

std::string utc_time(Store& store, const std::string& option, const std::string& text) {
  if (text.empty()) return {};
  const auto r = store.query("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ?1)", {text});
  if (r.empty() || r[0][0].empty())
    throw std::invalid_argument(option + " " + text +
                                ": not a time SQLite can read (use UTC, e.g. 2026-11-21 or 2026-11-21T03:00:00)");
  return r[0][0];
}

}  // namespace vidsift::cli
