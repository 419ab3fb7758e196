#include "vidsift/export.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "vidsift/labels.h"

namespace vidsift {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// What is exported: the --where condition, and whether the database has
// videos.recorded_at (a database made before schema 9 is read as it is).
struct Filter {
  std::string where;
  bool wall_clock = true;
};

// One exported detection per row, with the column names `where` may use.
// `at` is the detection's wall-clock time (ISO-8601 UTC, milliseconds; as
// the detections_at view), NULL when the video's start is unknown.
std::string base_sql(bool wall_clock) {
  return std::string(
             "SELECT d.id AS detection_id, d.video_id AS video_id, v.path AS path, v.settings_key AS settings_key, "
             "v.run_id AS run_id, d.frame_index AS frame_index, ROUND(d.ts, 6) AS ts, d.class_id AS class_id, "
             "d.label AS label, ROUND(d.confidence, 4) AS confidence, ROUND(d.x, 2) AS x, ROUND(d.y, 2) AS y, "
             "ROUND(d.w, 2) AS w, ROUND(d.h, 2) AS h, v.width AS width, v.height AS height, d.track_id AS track_id, ") +
         (wall_clock ? "v.recorded_at AS recorded_at, strftime('%Y-%m-%dT%H:%M:%fZ', v.recorded_at, "
                       "printf('%+.3f seconds', d.ts)) AS at "
                     : "NULL AS recorded_at, NULL AS at ") +
         "FROM detections d JOIN finished_videos v ON v.id = d.video_id";
}

// The exported detections: "SELECT <cols> FROM (base) WHERE (where)".
std::string selected(const std::string& cols, const Filter& where) {
  return "SELECT " + cols + " FROM (" + base_sql(where.wall_clock) + ")" +
         (where.where.empty() ? "" : " WHERE (" + where.where + "\n)");
}

// Columns of a detection row, in this order.
constexpr const char* kDetectionCols =
    "video_id, path, settings_key, frame_index, ts, class_id, label, confidence, x, y, w, h, width, height, track_id, "
    "at, recorded_at";
enum Col {
  kVideo,
  kPath,
  kKey,
  kFrame,
  kTs,
  kClass,
  kLabel,
  kConf,
  kX,
  kY,
  kW,
  kH,
  kWidth,
  kHeight,
  kTrack,
  kAt,
  kRecorded
};

// A track id cell as JSON: null when the run did not track.
Json track_json(const std::string& cell) { return cell.empty() ? Json(nullptr) : Json(cell_int(cell)); }

std::string ordered_detections(const Filter& where) {
  return selected(kDetectionCols, where) + " ORDER BY path, video_id, frame_index, detection_id";
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

void check_stream(const std::ostream& out) {
  if (!out) throw ExportError("cannot write the export (disk full or output closed?)");
}

// The exported videos: id -> image name prefix (stem, or stem_v<id> when
// two exported videos share a stem).
std::map<std::int64_t, std::string> image_prefixes(Store& store, const Filter& where) {
  std::map<std::int64_t, std::string> stems;
  store.each_row("SELECT id, path FROM videos WHERE id IN (" + selected("DISTINCT video_id", where) + ")", {},
                 [&](const std::vector<std::string>& r) {
                   std::string stem = fs::path(r[1]).stem().string();
                   if (stem.empty()) stem = "video";
                   stems[cell_int(r[0])] = stem;
                 });
  std::map<std::string, int> uses;
  for (const auto& [id, stem] : stems) ++uses[stem];
  for (auto& [id, stem] : stems)
    if (uses[stem] > 1) stem += "_v" + std::to_string(id);
  return stems;
}

std::string image_name(const std::string& prefix, std::int64_t frame) {
  char num[32];
  std::snprintf(num, sizeof num, "%06lld", static_cast<long long>(frame));
  return prefix + "_" + num;
}

// The class names (index = class id): the model's list recorded with the
// runs of the exported videos, completed from the detections.
std::vector<std::string> class_names(Store& store, const Filter& where) {
  std::vector<std::string> names;
  if (store.has_column("runs", "labels")) {
    auto lists = store.query(
        "SELECT DISTINCT labels FROM runs WHERE labels IS NOT NULL AND id IN (SELECT run_id FROM videos WHERE id IN "
        "(" +
        selected("DISTINCT video_id", where) + "))");
    if (lists.size() > 1) {
      auto keys = store.query("SELECT DISTINCT settings_key FROM videos WHERE id IN (" +
                              selected("DISTINCT video_id", where) + ") ORDER BY settings_key LIMIT 1");
      throw ExportError("the exported videos were analysed with " + std::to_string(lists.size()) +
                        " different label lists, so class ids would mix; export one settings key at a time, e.g. "
                        "--where \"settings_key = '" +
                        (keys.empty() ? std::string("KEY") : keys[0][0]) + "'\"");
    }
    if (!lists.empty()) {
      const Json j = Json::parse(lists[0][0], nullptr, false);
      if (j.is_array())
        for (const auto& l : j) names.push_back(l.is_string() ? l.get<std::string>() : std::string());
    }
  }
  for (const auto& r : store.query(selected("DISTINCT class_id, label", where) + " ORDER BY class_id")) {
    const std::int64_t id = cell_int(r[0]);
    if (id < 0 || id > 100000) throw ExportError("detection with class id " + r[0] + " cannot be exported");
    const auto i = static_cast<std::size_t>(id);
    if (i < names.size()) {
      if (names[i] != r[1])
        throw ExportError("class " + r[0] + " is '" + r[1] + "' in the detections but '" + names[i] +
                          "' in the run's label list");
      continue;
    }
    while (names.size() < i) names.push_back(label_name({}, static_cast<int>(names.size())));
    names.push_back(r[1]);
  }
  return names;
}

void write_csv(Store& store, const Filter& where, std::ostream& out, ExportCounts& n) {
  out << "video_id,path,settings_key,frame_index,ts,class_id,label,confidence,x,y,w,h,track_id,at\n";
  std::set<std::int64_t> videos;
  store.each_row(ordered_detections(where), {}, [&](const std::vector<std::string>& r) {
    out << r[kVideo] << ',' << csv_field(r[kPath]) << ',' << csv_field(r[kKey]) << ',' << r[kFrame] << ',' << r[kTs]
        << ',' << r[kClass] << ',' << csv_field(r[kLabel]) << ',' << r[kConf] << ',' << r[kX] << ',' << r[kY] << ','
        << r[kW] << ',' << r[kH] << ',' << r[kTrack] << ',' << r[kAt] << '\n';
    videos.insert(cell_int(r[kVideo]));
    ++n.detections;
    if ((n.detections & 0xfff) == 0) check_stream(out);
  });
  n.videos = static_cast<std::int64_t>(videos.size());
}

void write_jsonl(Store& store, const Filter& where, std::ostream& out, ExportCounts& n) {
  std::set<std::int64_t> videos;
  store.each_row(ordered_detections(where), {}, [&](const std::vector<std::string>& r) {
    const Json j = {{"video_id", cell_int(r[kVideo])},
                    {"path", r[kPath]},
                    {"settings_key", r[kKey]},
                    {"frame_index", cell_int(r[kFrame])},
                    {"ts", cell_real(r[kTs])},
                    {"class_id", cell_int(r[kClass])},
                    {"label", r[kLabel]},
                    {"confidence", cell_real(r[kConf])},
                    {"x", cell_real(r[kX])},
                    {"y", cell_real(r[kY])},
                    {"w", cell_real(r[kW])},
                    {"h", cell_real(r[kH])},
                    {"track_id", track_json(r[kTrack])},
                    {"at", r[kAt].empty() ? Json(nullptr) : Json(r[kAt])}};
    out << dump(j) << '\n';
    videos.insert(cell_int(r[kVideo]));
    ++n.detections;
    if ((n.detections & 0xfff) == 0) check_stream(out);
  });
  n.videos = static_cast<std::int64_t>(videos.size());
}

// Every analysed frame of the exported videos, in export order:
// video_id, path, width, height, frame_index, ts.
std::string frames_sql(const Filter& where) {
  return std::string("SELECT f.video_id, v.path, v.width, v.height, f.frame_index, ROUND(f.ts, 6), ") +
         (where.wall_clock ? "strftime('%Y-%m-%dT%H:%M:%fZ', v.recorded_at, printf('%+.3f seconds', f.ts))" : "NULL") +
         " FROM frames f JOIN videos v "
         "ON v.id = f.video_id WHERE f.video_id IN (" +
         selected("DISTINCT video_id", where) + ") ORDER BY v.path, f.video_id, f.frame_index";
}

void write_coco(Store& store, const Filter& where, std::ostream& out, ExportCounts& n) {
  const auto prefixes = image_prefixes(store, where);
  const auto names = class_names(store, where);
  n.videos = static_cast<std::int64_t>(prefixes.size());
  out << "{\"info\":" << dump(Json{{"description", "vidsift detections"}, {"version", "1.0"}})
      << ",\"licenses\":[],\"categories\":[";
  for (std::size_t i = 0; i < names.size(); ++i)
    out << (i ? ",\n" : "\n")
        << dump(Json{{"id", static_cast<std::int64_t>(i) + 1}, {"name", names[i]}, {"supercategory", ""}});
  out << "],\"images\":[";
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> image_ids;
  store.each_row(frames_sql(where), {}, [&](const std::vector<std::string>& r) {
    const std::int64_t video = cell_int(r[0]);
    const std::int64_t frame = cell_int(r[4]);
    const std::int64_t id = ++n.images;
    image_ids[{video, frame}] = id;
    out << (id > 1 ? ",\n" : "\n")
        << dump(Json{{"id", id},
                     {"file_name", image_name(prefixes.at(video), frame) + ".jpg"},
                     {"width", cell_int(r[2])},
                     {"height", cell_int(r[3])},
                     {"video_id", video},
                     {"video", r[1]},
                     {"frame_index", frame},
                     {"ts", cell_real(r[5])},
                     {"at", r[6].empty() ? Json(nullptr) : Json(r[6])}});
  });
  out << "],\"annotations\":[";
  store.each_row(ordered_detections(where), {}, [&](const std::vector<std::string>& r) {
    const auto it = image_ids.find({cell_int(r[kVideo]), cell_int(r[kFrame])});
    if (it == image_ids.end())
      throw ExportError("detection of video " + r[kVideo] + " frame " + r[kFrame] + " has no row in `frames`");
    const double w = cell_real(r[kW]);
    const double h = cell_real(r[kH]);
    const std::int64_t id = ++n.detections;
    Json a{{"id", id},
           {"image_id", it->second},
           {"category_id", cell_int(r[kClass]) + 1},
           {"bbox", {cell_real(r[kX]), cell_real(r[kY]), w, h}},
           {"area", static_cast<double>(static_cast<long long>(w * h * 100 + 0.5)) / 100},
           {"iscrowd", 0},
           {"score", cell_real(r[kConf])}};
    if (!r[kTrack].empty()) a["track_id"] = cell_int(r[kTrack]);
    out << (id > 1 ? ",\n" : "\n") << dump(a);
    if ((id & 0xfff) == 0) check_stream(out);
  });
  out << "]}\n";
}

std::string fixed6(double v) {
  v = std::clamp(v, 0.0, 1.0);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) throw ExportError("cannot write " + p.string() + " (disk full or not writable?)");
}

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "csv") return ExportFormat::Csv;
  if (name == "jsonl") return ExportFormat::Jsonl;
  if (name == "coco") return ExportFormat::Coco;
  if (name == "yolo") return ExportFormat::Yolo;
  return std::nullopt;
}

namespace {
Filter filter(Store& store, const std::string& where) { return {where, store.has_column("videos", "recorded_at")}; }
}  // namespace

void check_export_where(Store& store, const std::string& where) {
  if (!where.empty()) store.query(selected("1", filter(store, where)) + " LIMIT 0");
}

ExportCounts export_to_stream(Store& store, ExportFormat format, const std::string& where_sql, std::ostream& out) {
  check_export_where(store, where_sql);
  const Filter where = filter(store, where_sql);
  ExportCounts n;
  switch (format) {
    case ExportFormat::Csv: write_csv(store, where, out, n); break;
    case ExportFormat::Jsonl: write_jsonl(store, where, out, n); break;
    case ExportFormat::Coco: write_coco(store, where, out, n); break;
    case ExportFormat::Yolo: throw std::invalid_argument("export_to_stream: yolo writes a directory (export_yolo)");
  }
  out.flush();
  check_stream(out);
  return n;
}

ExportCounts export_yolo(Store& store, const std::string& where_sql, const fs::path& dir) {
  check_export_where(store, where_sql);
  const Filter where = filter(store, where_sql);
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) throw ExportError(dir.string() + " exists and is not a directory");
    if (!fs::is_empty(dir, ec))
      throw ExportError(dir.string() + " is not empty: give a new or empty directory for the YOLO files");
  } else if (!fs::create_directories(dir, ec) || ec) {
    throw ExportError("cannot create " + dir.string() + ": " + ec.message());
  }
  // Read everything the files need before writing any, so that a bad
  // --where leaves an empty directory.
  const auto prefixes = image_prefixes(store, where);
  const auto names = class_names(store, where);
  ExportCounts n;
  n.videos = static_cast<std::int64_t>(prefixes.size());
  std::string classes;
  for (const auto& l : names) classes += l + "\n";
  write_file(dir / "classes.txt", classes);

  std::set<std::pair<std::int64_t, std::int64_t>> written;
  std::pair<std::int64_t, std::int64_t> current{-1, -1};
  std::string text;
  auto flush = [&] {
    if (current.first < 0) return;
    write_file(dir / (image_name(prefixes.at(current.first), current.second) + ".txt"), text);
    written.insert(current);
    text.clear();
  };
  store.each_row(ordered_detections(where), {}, [&](const std::vector<std::string>& r) {
    const std::pair<std::int64_t, std::int64_t> frame{cell_int(r[kVideo]), cell_int(r[kFrame])};
    if (frame != current) {
      flush();
      current = frame;
    }
    const double W = cell_real(r[kWidth]);
    const double H = cell_real(r[kHeight]);
    if (!(W > 0 && H > 0)) throw ExportError("video " + r[kPath] + " has no width and height: cannot normalise");
    const double x = cell_real(r[kX]), y = cell_real(r[kY]), w = cell_real(r[kW]), h = cell_real(r[kH]);
    text += r[kClass] + " " + fixed6((x + w / 2) / W) + " " + fixed6((y + h / 2) / H) + " " + fixed6(w / W) + " " +
            fixed6(h / H) + "\n";
    ++n.detections;
  });
  flush();
  store.each_row(frames_sql(where), {}, [&](const std::vector<std::string>& r) {
    const std::pair<std::int64_t, std::int64_t> frame{cell_int(r[0]), cell_int(r[4])};
    ++n.images;
    if (!written.count(frame)) write_file(dir / (image_name(prefixes.at(frame.first), frame.second) + ".txt"), "");
  });
  return n;
}

}  // namespace vidsift
