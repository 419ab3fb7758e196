#include "report.h"

#include <charconv>
#include <cstdint>
#include <iomanip>
#include <utility>

#include <nlohmann/json.hpp>

namespace vidsift::cli {

namespace {

// SQLite text of an INTEGER column -> the integer (0 for NULL or non-numbers).
std::int64_t integer(const std::string& s) {
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// SQLite text of quote(REAL) -> the double, every bit kept (quote() prints
// enough digits to round-trip; plain column text keeps only 15). 0 for NULL.
double exact_real(const std::string& s) {
  double v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

double num(const std::string& s) { return s.empty() ? 0.0 : std::stod(s); }

}  // namespace

void print_run_summary(Store& store, std::int64_t run_id, std::ostream& out) {
  const std::string id = std::to_string(run_id);
  auto run = store.query(
      "SELECT status, wall_seconds, videos_done, videos_partial, videos_failed, videos_skipped, frames_analysed, "
      "detections, model_path, model_family, input_size, "
      "coalesce(CASE WHEN json_valid(execution) THEN json_extract(execution, '$.backend') END, "
      "CASE WHEN json_valid(settings) THEN json_extract(settings, '$.backend') END, ''), "
      "coalesce(videos_interrupted, 0) FROM runs WHERE id=?",
      {id});
  if (run.empty()) {
    out << "no run " << id << " in " << store.path() << "\n";
    return;
  }
  const auto& r = run[0];
  const double wall = num(r[1]);
  const double frames = num(r[6]);
  out << "vidsift run " << id << " (" << r[0] << "): " << r[2] << " done, " << r[3] << " partial, " << r[4]
      << " failed, " << (integer(r[12]) > 0 ? r[12] + " interrupted, " : std::string()) << r[5] << " skipped in "
      << std::fixed << std::setprecision(1) << wall << " s\n";
  out << "  model " << r[8] << " (" << r[9] << ", " << r[10] << ")";
  if (!r[11].empty()) out << " on " << r[11];
  out << "\n";
  out << "  frames analysed " << r[6] << " (" << std::setprecision(1) << (wall > 0 ? frames / wall : 0.0)
      << " frames/s), detections " << r[7] << "\n";

  auto bad = store.query(
      "SELECT status, path, error FROM videos WHERE run_id=? AND status IN ('failed','partial','interrupted') ORDER BY "
      "path "
      "LIMIT 20",
      {id});
  for (const auto& b : bad) out << "  " << b[0] << ": " << b[1] << ": " << b[2] << "\n";

  auto labels = store.query(
      "SELECT d.label, COUNT(*) FROM detections d JOIN videos v ON v.id=d.video_id WHERE v.run_id=? "
      "GROUP BY d.label ORDER BY COUNT(*) DESC LIMIT 8",
      {id});
  if (!labels.empty()) {
    out << "  top labels:";
    for (std::size_t i = 0; i < labels.size(); ++i) out << (i ? ", " : " ") << labels[i][0] << " " << labels[i][1];
    out << "\n";
  }
  auto timings = store.query(
      "SELECT stage, frames, total_s, mean_ms, p50_ms, p95_ms, max_ms FROM timings WHERE run_id=? AND video_id IS "
      "NULL ORDER BY rowid",
      {id});
  if (!timings.empty()) {
    out << "  stage         frames   total s   mean ms    p50 ms    p95 ms    max ms\n";
    for (const auto& t : timings) {
      out << "  " << std::left << std::setw(12) << t[0] << std::right << std::setw(8) << t[1];
      for (int c = 2; c < 7; ++c)
        out << std::setw(10) << std::setprecision(c == 2 ? 2 : 1) << num(t[static_cast<std::size_t>(c)]);
      out << "\n";
    }
    out << "  (stages overlap: decoding, inference and storing run concurrently)\n";
  }
  out << "  database " << store.path() << "\n";
  out.unsetf(std::ios::fixed);
}

void print_report(Store& store, std::ostream& out) {
  auto last = store.query("SELECT MAX(id) FROM runs");
  if (last.empty() || last[0][0].empty()) {
    out << store.path() << " holds no runs yet\n";
    return;
  }
  print_run_summary(store, std::stoll(last[0][0]), out);
  auto totals = store.query("SELECT status, COUNT(*) FROM videos GROUP BY status ORDER BY status");
  out << "  all videos in the database:";
  for (const auto& t : totals) out << " " << t[0] << " " << t[1];
  out << "\n";
}

std::string run_summary_json(Store& store, std::int64_t run_id) {
  using Json = nlohmann::ordered_json;
  const std::string id = std::to_string(run_id);
  auto run = store.query(
      "SELECT status, quote(wall_seconds), videos_done, videos_partial, videos_failed, videos_skipped, "
      "frames_analysed, detections, "
      "coalesce(CASE WHEN json_valid(settings) THEN json_extract(settings, '$.backend') END, ''), "
      "coalesce(videos_interrupted, 0) FROM runs WHERE id=?",
      {id});
  Json j = {{"run_id", run_id}, {"database", store.path()}};
  if (!run.empty()) {
    const auto& r = run[0];
    j["status"] = r[0];
    j["wall_seconds"] = exact_real(r[1]);
    j["videos_done"] = integer(r[2]);
    j["videos_partial"] = integer(r[3]);
    j["videos_failed"] = integer(r[4]);
    j["videos_skipped"] = integer(r[5]);
    j["videos_interrupted"] = integer(r[9]);
    j["frames_analysed"] = integer(r[6]);
    j["detections"] = integer(r[7]);
    if (!r[8].empty()) j["backend"] = r[8];
  }
  Json videos = Json::array();
  for (const auto& v :
       store.query("SELECT path, status, error, frames_analysed FROM videos WHERE run_id=? ORDER BY path", {id})) {
    videos.push_back({{"path", v[0]}, {"status", v[1]}, {"error", v[2]}, {"frames_analysed", integer(v[3])}});
  }
  j["videos"] = std::move(videos);
  // Paths are bytes, not always UTF-8: invalid sequences become U+FFFD so the
  // output is always valid JSON.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace vidsift::cli
