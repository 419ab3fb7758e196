#include "summary.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <sstream>
#include <unordered_map>

#include "vidsift/format.h"
#include "vidsift/utf8.h"

namespace vidsift::cli {

namespace {

using Json = nlohmann::ordered_json;

// Upper-case hex of the bytes, as SQLite's hex() writes a BLOB.
std::string hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// The columns a database of this schema has (a report may read an older
// one: it never upgrades it).
struct Schema {
  std::string bytes = "v.path_bytes";  // the path's exact bytes; the text path before path_bytes
  bool path_bytes = true;
  bool warning = true;
  bool recorded_at = true;
};

Schema schema_of(Store& store) {
  Schema s;
  s.path_bytes = s.warning = s.recorded_at = false;
  for (const auto& r : store.query("SELECT name FROM pragma_table_info('videos')")) {
    s.path_bytes = s.path_bytes || r[0] == "path_bytes";
    s.warning = s.warning || r[0] == "warning";
    s.recorded_at = s.recorded_at || r[0] == "recorded_at";
  }
  if (!s.path_bytes) s.bytes = "CAST(v.path AS BLOB)";
  return s;
}

// Selects the columns of VideoRow, in order, then hex(path bytes) (to match
// inputs exactly), from final rows; with `current`, only the latest final
// row for each file and settings key.
std::string select_rows(const Schema& s, bool current) {
  std::string sql = std::string("SELECT v.id, v.path, v.status, coalesce(v.error,''), ") +
                    (s.warning ? "coalesce(v.warning,'')" : "''") +
                    ", coalesce(v.run_id,0), coalesce(v.settings_key,''), coalesce(v.finished_at,''), "
                    "coalesce(v.frames_analysed,0), coalesce(v.frame_count,0), coalesce(v.duration,0), "
                    "coalesce((SELECT CASE WHEN json_valid(r.settings) THEN "
                    "json_extract(r.settings,'$.sampling.start') END FROM runs r WHERE r.id=v.run_id),0), hex(" +
                    s.bytes + "), " + (s.recorded_at ? "coalesce(v.recorded_at,'')" : "''") +
                    " FROM videos v WHERE v.status<>'running' ";
  if (current)
    sql += std::string(
               "AND NOT EXISTS (SELECT 1 FROM videos n WHERE n.path=v.path AND n.settings_key IS "
               "v.settings_key AND ") +
           (s.path_bytes ? "n.path_bytes IS v.path_bytes AND " : "") + "n.id>v.id AND n.status<>'running') ";
  return sql;
}

VideoRow to_row(const std::vector<std::string>& r) {
  VideoRow v;
  v.id = cell_int(r[0]);
  v.path = r[1];
  v.status = r[2];
  v.error = r[3];
  v.warning = r[4];
  v.run_id = cell_int(r[5]);
  v.settings_key = r[6];
  v.finished_at = r[7];
  v.frames_analysed = cell_int(r[8]);
  v.frames_decoded = cell_int(r[9]);
  v.duration = cell_real(r[10]);
  v.start = cell_real(r[11]);
  v.recorded_at = r[13];
  return v;
}

bool by_count(const LabelCount& a, const LabelCount& b) {
  return a.count != b.count ? a.count > b.count : a.label < b.label;
}

// Fills each row's labels and the set's totals.
void finish(Store& store, ResultSet& set) {
  Json ids = Json::array();
  std::unordered_map<std::int64_t, std::size_t> at;
  for (std::size_t i = 0; i < set.videos.size(); ++i) {
    if (set.videos[i].id == 0) continue;
    ids.push_back(set.videos[i].id);
    at[set.videos[i].id] = i;
  }
  std::map<std::string, std::int64_t> totals;
  if (!ids.empty()) {
    for (const auto& r : store.query(
             "SELECT video_id, label, COUNT(*) FROM detections WHERE video_id IN (SELECT value FROM json_each(?1)) "
             "GROUP BY video_id, label",
             {ids.dump()})) {
      const auto it = at.find(cell_int(r[0]));
      if (it == at.end()) continue;
      VideoRow& v = set.videos[it->second];
      const std::int64_t n = cell_int(r[2]);
      v.labels.push_back({r[1], n});
      v.detections += n;
      totals[r[1]] += n;
    }
  }
  for (auto& v : set.videos) {
    std::sort(v.labels.begin(), v.labels.end(), by_count);
    ++set.by_status[v.status];
    set.frames_analysed += v.frames_analysed;
    set.detections += v.detections;
  }
  for (const auto& [label, n] : totals) set.labels.push_back({label, n});
  std::sort(set.labels.begin(), set.labels.end(), by_count);
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

ResultSet results_for_inputs(Store& store, const std::vector<std::string>& paths, const std::string& settings_key) {
  ResultSet set;
  Json wanted = Json::array();
  for (const auto& p : paths) wanted.push_back(hex(p));
  std::unordered_map<std::string, VideoRow> found;
  if (!paths.empty()) {
    const Schema schema = schema_of(store);
    const std::string sql = select_rows(schema, true) + "AND v.settings_key=?1 AND hex(" + schema.bytes +
                            ") IN (SELECT value FROM json_each(?2))";
    for (const auto& r : store.query(sql, {settings_key, wanted.dump()})) found[r[12]] = to_row(r);
  }
  set.videos.reserve(paths.size());
  for (const auto& p : paths) {
    const auto it = found.find(hex(p));
    if (it != found.end()) {
      set.videos.push_back(it->second);
    } else {
      VideoRow v;
      v.path = to_utf8(p);  // as the database would store it
      v.status = "unfinished";
      v.settings_key = settings_key;
      set.videos.push_back(std::move(v));
    }
  }
  finish(store, set);
  return set;
}

ResultSet results_in_scope(Store& store, const ReportScope& scope) {
  const Schema schema = schema_of(store);
  std::string sql = select_rows(schema, !scope.run);
  std::vector<std::string> params;
  auto param = [&](const std::string& value) {
    params.push_back(value);
    return "?" + std::to_string(params.size());
  };
  if (scope.run) sql += "AND v.run_id=" + param(std::to_string(*scope.run)) + " ";
  if (scope.video) sql += "AND hex(" + schema.bytes + ")=" + param(hex(*scope.video)) + " ";
  if (!scope.since.empty()) sql += "AND v.finished_at>=" + param(scope.since) + " ";
  if (!scope.until.empty()) sql += "AND v.finished_at<" + param(scope.until) + " ";
  sql += "ORDER BY v.path, v.settings_key, v.id";
  ResultSet set;
  for (const auto& r : store.query(sql, params)) set.videos.push_back(to_row(r));
  finish(store, set);
  return set;
}

std::string empty_window_warning(const VideoRow& row) {
  if (row.status != "done" || row.frames_analysed > 0) return {};
  std::string s = "no frame analysed in " + one_line(row.path);
  if (row.start > 0 && row.duration > 0 && row.start >= row.duration) {
    s += ": --start " + human_number(row.start) + " s is at or beyond the end of the clip (" +
         human_number(row.duration, 1) + " s)";
  } else {
    s += ": the sampling window holds no frame";
  }
  return s;
}

Json to_json(const VideoRow& v) {
  Json j;
  if (v.id) {
    j["id"] = v.id;
  } else {
    j["id"] = nullptr;
  }
  j["path"] = v.path;
  j["status"] = v.status;
  j["error"] = v.error;
  j["warning"] = v.warning.empty() ? empty_window_warning(v) : v.warning;
  if (v.run_id) {
    j["run_id"] = v.run_id;
  } else {
    j["run_id"] = nullptr;
  }
  j["settings_key"] = v.settings_key;
  j["finished_at"] = v.finished_at;
  if (v.recorded_at.empty()) {
    j["recorded_at"] = nullptr;
  } else {
    j["recorded_at"] = v.recorded_at;
  }
  j["frames_analysed"] = v.frames_analysed;
  j["frames_decoded"] = v.frames_decoded;
  j["detections"] = v.detections;
  j["labels"] = labels_json(v.labels);
  return j;
}

Json status_counts_json(const ResultSet& set) {
  Json j = Json::object();
  for (const auto& [status, n] : set.by_status) j[status] = n;
  return j;
}

Json labels_json(const std::vector<LabelCount>& labels) {
  Json j = Json::object();
  for (const auto& l : labels) j[l.label] = l.count;
  return j;
}

std::vector<std::string> problem_lines(const ResultSet& set, std::int64_t this_run) {
  std::vector<std::string> out;
  std::int64_t unfinished = 0;
  for (const auto& v : set.videos) {
    if (v.status == "done") continue;
    if (v.id == 0) {
      ++unfinished;  // one line for all of them: an archive may hold thousands
      continue;
    }
    std::string when;
    if (this_run == 0) {
      when = " (run " + std::to_string(v.run_id) + ")";
    } else if (v.run_id == this_run) {
      when = " in this run";
    } else {
      when = " before (run " + std::to_string(v.run_id) + ")";
    }
    std::string s = v.status + when + ": " + v.path;
    if (!v.error.empty()) s += ": " + v.error;
    out.push_back(one_line(s));
  }
  if (unfinished > 0)
    out.push_back(std::to_string(unfinished) +
                  " input(s) not analysed: the run stopped before them (the next run analyses them)");
  for (const auto& v : set.videos)
    if (const std::string w = empty_window_warning(v); !w.empty()) out.push_back("warning: " + w);
  return out;
}

std::vector<std::string> totals_lines(const ResultSet& set, std::size_t max_labels) {
  std::ostringstream s;
  bool first = true;
  for (const auto& [status, n] : set.by_status) {
    s << (first ? "" : ", ") << n << " " << status;
    first = false;
  }
  if (first) s << "none";
  s << "; frames analysed " << set.frames_analysed << ", detections " << set.detections;
  std::vector<std::string> out{s.str()};
  if (!set.labels.empty()) {
    std::ostringstream l;
    l << "top labels:";
    for (std::size_t i = 0; i < set.labels.size() && i < max_labels; ++i)
      l << (i ? ", " : " ") << set.labels[i].label << " " << set.labels[i].count;
    if (set.labels.size() > max_labels) l << ", ... (" << set.labels.size() << " labels)";
    out.push_back(l.str());
  }
  return out;
}

std::vector<std::string> empty_input_warnings(const std::vector<std::string>& inputs, const Discovery& found) {
  std::vector<std::string> out;
  for (const auto& in : inputs) {
    if (in.empty() || in[0] == '@') continue;
    std::error_code ec;
    if (!std::filesystem::is_directory(in, ec)) continue;
    const auto abs = std::filesystem::absolute(in, ec);
    if (ec) continue;
    std::string dir = abs.lexically_normal().string();
    if (dir.empty() || dir.back() != '/') dir += '/';
    const bool any = std::any_of(found.files.begin(), found.files.end(),
                                 [&](const VideoFile& f) { return f.path.rfind(dir, 0) == 0; });
    if (!any) out.push_back("no video files found in directory " + one_line(in) + " (empty, or not mounted?)");
  }
  if (found.files.empty() && found.missing.empty()) {
    std::string list;
    for (const auto& in : inputs) list += (list.empty() ? "" : ", ") + one_line(in);
    out.push_back("no inputs found in " + list + ": nothing to analyse (exit status 4)");
  }
  return out;
}

}  // namespace vidsift::cli
