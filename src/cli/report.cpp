#include "report.h"

#include <cstdio>
#include <iomanip>
#include <sstream>

namespace vidsift::cli {

namespace {

std::string json_escape(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      case '\r': o += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  return o;
}

double num(const std::string& s) { return s.empty() ? 0.0 : std::stod(s); }

}  // namespace

void print_run_summary(Store& store, std::int64_t run_id, std::ostream& out) {
  const std::string id = std::to_string(run_id);
  auto run = store.query(
      "SELECT status, wall_seconds, videos_done, videos_partial, videos_failed, videos_skipped, frames_analysed, "
      "detections, model_path, model_family, input_size FROM runs WHERE id=?",
      {id});
  if (run.empty()) {
    out << "no run " << id << " in " << store.path() << "\n";
    return;
  }
  const auto& r = run[0];
  const double wall = num(r[1]);
  const double frames = num(r[6]);
  out << "vidsift run " << id << " (" << r[0] << "): " << r[2] << " done, " << r[3] << " partial, " << r[4]
      << " failed, " << r[5] << " skipped in " << std::fixed << std::setprecision(1) << wall << " s\n";
  out << "  model " << r[8] << " (" << r[9] << ", " << r[10] << ")\n";
  out << "  frames analysed " << r[6] << " (" << std::setprecision(1) << (wall > 0 ? frames / wall : 0.0)
      << " frames/s), detections " << r[7] << "\n";

  auto bad = store.query(
      "SELECT status, path, error FROM videos WHERE run_id=? AND status IN ('failed','partial') ORDER BY path LIMIT 20",
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
      for (int c = 2; c < 7; ++c) out << std::setw(10) << std::setprecision(c == 2 ? 2 : 1) << num(t[static_cast<std::size_t>(c)]);
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
  auto totals = store.query(
      "SELECT status, COUNT(*) FROM videos GROUP BY status ORDER BY status");
  out << "  all videos in the database:";
  for (const auto& t : totals) out << " " << t[0] << " " << t[1];
  out << "\n";
}

std::string run_summary_json(Store& store, std::int64_t run_id) {
  const std::string id = std::to_string(run_id);
  auto run = store.query(
      "SELECT status, wall_seconds, videos_done, videos_partial, videos_failed, videos_skipped, frames_analysed, "
      "detections FROM runs WHERE id=?",
      {id});
  std::ostringstream j;
  j << "{\"run_id\":" << run_id << ",\"database\":\"" << json_escape(store.path()) << "\"";
  if (!run.empty()) {
    const auto& r = run[0];
    j << ",\"status\":\"" << json_escape(r[0]) << "\",\"wall_seconds\":" << num(r[1])
      << ",\"videos_done\":" << num(r[2]) << ",\"videos_partial\":" << num(r[3])
      << ",\"videos_failed\":" << num(r[4]) << ",\"videos_skipped\":" << num(r[5])
      << ",\"frames_analysed\":" << num(r[6]) << ",\"detections\":" << num(r[7]);
  }
  auto vids = store.query("SELECT path, status, error, frames_analysed FROM videos WHERE run_id=? ORDER BY path", {id});
  j << ",\"videos\":[";
  for (std::size_t i = 0; i < vids.size(); ++i) {
    j << (i ? "," : "") << "{\"path\":\"" << json_escape(vids[i][0]) << "\",\"status\":\"" << vids[i][1]
      << "\",\"error\":\"" << json_escape(vids[i][2]) << "\",\"frames_analysed\":" << num(vids[i][3]) << "}";
  }
  j << "]}";
  return j.str();
}

}  // namespace vidsift::cli
