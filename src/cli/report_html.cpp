#include "report_html.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "report.h"
#include "vidsift/annotate.h"
#include "vidsift/utf8.h"

namespace vidsift::cli {

namespace {

constexpr std::size_t kTimelineLabels = 6;  // labels drawn apart; the rest are "other"
constexpr std::size_t kMaxRuns = 10;        // runs whose timings are shown
constexpr const char* kOtherLabel = "(other)";
constexpr const char* kOtherColour = "#d4d4d4";  // light: apart from the palette's greys

// 1234567 -> "1,234,567".
std::string grouped(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A number for an SVG coordinate: one decimal, no exponent.
std::string coord(double v) { return fixed(v, 1); }

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string unhex(const std::string& hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>((nibble(hex[i]) << 4) | nibble(hex[i + 1]));
  return out;
}

std::string status_class(const std::string& status) {
  if (status == "done" || status == "partial" || status == "failed" || status == "interrupted") return status;
  return "other";
}

constexpr const char* kStyle = R"CSS(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px auto;max-width:1200px;
padding:0 16px;color:#1d1d1f;background:#fff;font-size:14px;line-height:1.45}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #e3e3e8;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px;word-break:break-all}
.meta{color:#555;margin:0 0 2px;word-break:break-all}
table{border-collapse:collapse;margin:6px 0 10px}
th,td{border:1px solid #d9d9e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f6;font-weight:600}
tbody tr:nth-child(even){background:#fafafc}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{white-space:nowrap}
td.path{word-break:break-all;max-width:420px}
td.note{max-width:360px;word-break:break-word;color:#6b2b00}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.card{border:1px solid #d9d9e0;border-radius:8px;padding:8px 14px;min-width:120px;background:#fafafc}
.card .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}.card .k{color:#555;font-size:12px}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;font-weight:600;color:#fff;background:#777}
.badge.done{background:#2e7d32}.badge.partial{background:#b26a00}.badge.failed{background:#c62828}
.badge.interrupted{background:#6a1b9a}
.legend{list-style:none;padding:0;margin:2px 0 6px;display:flex;flex-wrap:wrap;gap:4px 14px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.video{border:1px solid #e3e3e8;border-radius:8px;padding:4px 14px 10px;margin:12px 0}
.thumbs{display:flex;flex-wrap:wrap;gap:10px;margin-top:6px}
figure{margin:0;max-width:320px}figure img{display:block;max-width:320px;height:auto;border:1px solid #ccc}
figcaption{font-size:12px;color:#444;margin-top:2px;word-break:break-all}
.thumb-missing{width:300px;padding:14px 10px;border:1px dashed #bbb;color:#7a4b00;background:#fffaf0;font-size:12px;
word-break:break-word}
.note-line{color:#555;font-style:italic}
svg text{font-family:inherit;font-size:11px;fill:#444}
.timebar{margin:4px 0 2px}
)CSS";

struct Label {
  std::string name;
  int class_id = 0;
  std::int64_t count = 0;
};

// The page, written piece by piece.
class Page {
 public:
  Page(Store& store, const ReportScope& scope, const HtmlOptions& options, const Thumbnailer& thumbnailer,
       std::ostream& out)
      : store_(store), scope_(scope), options_(options), thumbnailer_(thumbnailer), out_(out) {}

  bool write();

 private:
  void head();
  void summary(const ResultSet& set, const std::vector<std::int64_t>& runs);
  void runs_table(const std::vector<std::int64_t>& runs);
  void timings(std::int64_t run_id);
  void videos_table(const ResultSet& set, const std::set<std::int64_t>& detailed);
  void details(const ResultSet& set, const std::vector<const VideoRow*>& top, std::size_t with_detections);
  void timeline(const VideoRow& v);
  void thumbnails(const VideoRow& v);
  std::size_t thumbs_left_ = kMaxThumbnails;
  void thumb(const ThumbRequest& request, const std::string& caption);
  std::map<std::string, int> class_ids();

  Store& store_;
  const ReportScope& scope_;
  const HtmlOptions& options_;
  const Thumbnailer& thumbnailer_;
  std::ostream& out_;
  std::map<std::string, int> class_of_;  // label -> class id (first seen)
  bool has_tracks_ = false;
};

std::map<std::string, int> Page::class_ids() {
  // From the runs' label lists (index = class id); a label missing there
  // (an older database) from one of its detections.
  std::map<std::string, int> m;
  for (const auto& r : store_.query("SELECT j.value, MIN(CAST(j.key AS INTEGER)) FROM runs r, json_each(r.labels) j "
                                    "WHERE json_valid(r.labels) GROUP BY j.value"))
    m[r[0]] = static_cast<int>(cell_int(r[1]));
  return m;
}

void Page::head() {
  out_ << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src "
          "'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>vidsift report: "
       << html_escape(store_.path()) << "</title>\n<style>" << kStyle << "</style></head>\n<body>\n";
  const auto now = store_.query("SELECT strftime('%Y-%m-%d %H:%M:%S','now')");
  out_ << "<h1>vidsift report</h1>\n<p class=\"meta\">database <code>" << html_escape(store_.path()) << "</code></p>\n"
       << "<p class=\"meta\">" << html_escape(scope_text(scope_)) << "; written "
       << (now.empty() ? std::string() : now[0][0]) << " UTC by vidsift " << VIDSIFT_VERSION << "</p>\n";
}

void Page::summary(const ResultSet& set, const std::vector<std::int64_t>& runs) {
  out_ << "<h2 id=\"summary\">Summary</h2>\n<div class=\"cards\">\n";
  auto card = [&](const char* id, const std::string& key, std::int64_t value) {
    out_ << "<div class=\"card\"><div class=\"v\" id=\"" << id << "\" data-value=\"" << value << "\">" << grouped(value)
         << "</div><div class=\"k\">" << key << "</div></div>\n";
  };
  card("total-videos", "videos", static_cast<std::int64_t>(set.videos.size()));
  card("total-frames", "frames analysed", set.frames_analysed);
  card("total-detections", "detections", set.detections);
  card("total-labels", "labels", static_cast<std::int64_t>(set.labels.size()));
  out_ << "</div>\n<table id=\"status-counts\"><thead><tr><th>status</th><th class=\"n\">videos</th></tr></thead>"
          "<tbody>\n";
  for (const auto& [status, n] : set.by_status)
    out_ << "<tr class=\"status-row\" data-status=\"" << html_escape(status) << "\" data-count=\"" << n
         << "\"><td><span class=\"badge " << status_class(status) << "\">" << html_escape(status)
         << "</span></td><td class=\"n\">" << grouped(n) << "</td></tr>\n";
  out_ << "</tbody></table>\n";
  if (!set.labels.empty()) {
    out_ << "<table id=\"label-counts\"><thead><tr><th>label</th><th class=\"n\">detections</th><th "
            "class=\"n\">share</th></tr></thead><tbody>\n";
    for (const auto& l : set.labels) {
      const auto it = class_of_.find(l.label);
      const std::string colour = it == class_of_.end() ? kOtherColour : label_colour(it->second);
      out_ << "<tr class=\"label-row\" data-label=\"" << html_escape(l.label) << "\" data-count=\"" << l.count
           << "\"><td><span class=\"swatch\" style=\"background:" << colour << "\"></span>" << html_escape(l.label)
           << "</td><td class=\"n\">" << grouped(l.count) << "</td><td class=\"n\">"
           << fixed(
                  set.detections > 0 ? 100.0 * static_cast<double>(l.count) / static_cast<double>(set.detections) : 0.0,
                  1)
           << " %</td></tr>\n";
    }
    out_ << "</tbody></table>\n";
  }
  runs_table(runs);
}

void Page::runs_table(const std::vector<std::int64_t>& runs) {
  if (runs.empty()) return;
  out_ << "<h2 id=\"runs\">Runs</h2>\n";
  if (runs.size() > kMaxRuns)
    out_ << "<p class=\"note-line\">the latest " << kMaxRuns << " of "
         << grouped(static_cast<std::int64_t>(runs.size())) << " runs</p>\n";
  out_ << "<table id=\"runs-table\"><thead><tr><th>run</th><th>status</th><th>started (UTC)</th><th "
          "class=\"n\">wall s</th><th class=\"n\">done</th><th class=\"n\">partial</th><th class=\"n\">failed</th>"
          "<th class=\"n\">skipped</th><th class=\"n\">frames analysed</th><th class=\"n\">frames/s</th><th "
          "class=\"n\">detections</th><th>model</th></tr></thead><tbody>\n";
  const std::size_t from = runs.size() > kMaxRuns ? runs.size() - kMaxRuns : 0;
  for (std::size_t i = from; i < runs.size(); ++i) {
    const auto r = store_.query(
        "SELECT status, coalesce(started_at,''), coalesce(wall_seconds,0), coalesce(videos_done,0), "
        "coalesce(videos_partial,0), coalesce(videos_failed,0), coalesce(videos_skipped,0), "
        "coalesce(frames_analysed,0), coalesce(detections,0), coalesce(model_path,''), coalesce(model_family,''), "
        "coalesce(input_size,''), coalesce(CASE WHEN json_valid(execution) THEN json_extract(execution, '$.backend') "
        "END, CASE WHEN json_valid(settings) THEN json_extract(settings, '$.backend') END, '') FROM runs WHERE id=?",
        {std::to_string(runs[i])});
    if (r.empty()) continue;
    const auto& c = r[0];
    const double wall = cell_real(c[2]);
    const double frames = cell_real(c[7]);
    out_ << "<tr class=\"run-row\" data-run=\"" << runs[i] << "\" data-frames=\"" << cell_int(c[7])
         << "\" data-detections=\"" << cell_int(c[8]) << "\"><td class=\"n\">" << runs[i] << "</td><td>"
         << html_escape(c[0]) << "</td><td class=\"t\">" << html_escape(c[1]) << "</td><td class=\"n\">"
         << fixed(wall, 1) << "</td>";
    for (int k = 3; k <= 7; ++k)
      out_ << "<td class=\"n\">" << grouped(cell_int(c[static_cast<std::size_t>(k)])) << "</td>";
    out_ << "<td class=\"n\">" << fixed(wall > 0 ? frames / wall : 0.0, 1) << "</td><td class=\"n\">"
         << grouped(cell_int(c[8])) << "</td><td class=\"path\" title=\"" << html_escape(c[9]) << "\">"
         << html_escape(std::filesystem::path(c[9]).filename().string()) << " (" << html_escape(c[10]) << ", "
         << html_escape(c[11]) << (c[12].empty() ? "" : ", " + html_escape(c[12])) << ")</td></tr>\n";
  }
  out_ << "</tbody></table>\n";
  bool any = false;
  for (std::size_t i = from; i < runs.size(); ++i) {
    if (store_.query("SELECT 1 FROM timings WHERE run_id=? AND video_id IS NULL LIMIT 1", {std::to_string(runs[i])})
            .empty())
      continue;
    if (!any) out_ << "<h2 id=\"timings\">Where the time went</h2>\n";
    any = true;
    timings(runs[i]);
  }
}

// Stage colours: a fixed order, distinct from each other.
const char* stage_colour(std::size_t i) {
  static constexpr std::array<const char*, 8> kColours = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                                          "#b07aa1", "#76b7b2", "#edc948", "#9c755f"};
  return kColours[i % kColours.size()];
}

void Page::timings(std::int64_t run_id) {
  const auto rows = store_.query(
      "SELECT stage, frames, total_s, mean_ms, p50_ms, p95_ms, max_ms, quote(total_s) FROM timings WHERE run_id=? AND "
      "video_id IS NULL ORDER BY rowid",
      {std::to_string(run_id)});
  double sum = 0;
  for (const auto& t : rows) sum += std::max(0.0, cell_real(t[2]));
  out_ << "<h3>run " << run_id << "</h3>\n";
  // The bar: each stage's share of the summed stage time.
  const double width = 760;
  out_ << "<svg class=\"timebar\" data-run=\"" << run_id << "\" width=\"" << width << "\" height=\"26\" viewBox=\"0 0 "
       << width << " 26\" role=\"img\" aria-label=\"stage time shares\">";
  double x = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double s = std::max(0.0, cell_real(rows[i][2]));
    const double w = sum > 0 ? width * s / sum : 0;
    out_ << "<rect class=\"stage-bar\" data-stage=\"" << html_escape(rows[i][0]) << "\" x=\"" << coord(x)
         << "\" y=\"2\" width=\"" << coord(w) << "\" height=\"22\" fill=\"" << stage_colour(i) << "\"><title>"
         << html_escape(rows[i][0]) << ": " << fixed(s, 2) << " s</title></rect>";
    if (w > 70)
      out_ << "<text x=\"" << coord(x + 5) << "\" y=\"17\" style=\"fill:#fff;font-weight:600\">"
           << html_escape(rows[i][0]) << " " << fixed(sum > 0 ? 100 * s / sum : 0, 0) << "%</text>";
    x += w;
  }
  out_ << "</svg>\n<table class=\"timings\" data-run=\"" << run_id
       << "\"><thead><tr><th>stage</th><th class=\"n\">frames</th><th class=\"n\">total s</th><th "
          "class=\"n\">share</th><th class=\"n\">mean ms</th><th class=\"n\">p50 ms</th><th class=\"n\">p95 "
          "ms</th><th class=\"n\">max ms</th></tr></thead><tbody>\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& t = rows[i];
    const double s = cell_real(t[2]);
    out_ << "<tr class=\"timing-row\" data-run=\"" << run_id << "\" data-stage=\"" << html_escape(t[0])
         << "\" data-total-s=\"" << html_escape(t[7])
         << "\"><td><span class=\"swatch\" style=\"background:" << stage_colour(i) << "\"></span>" << html_escape(t[0])
         << "</td><td class=\"n\">" << grouped(cell_int(t[1])) << "</td><td class=\"n\">" << fixed(s, 2)
         << "</td><td class=\"n\">" << fixed(sum > 0 ? 100 * std::max(0.0, s) / sum : 0, 1) << " %</td>";
    for (std::size_t c = 3; c < 7; ++c) out_ << "<td class=\"n\">" << fixed(cell_real(t[c]), 1) << "</td>";
    out_ << "</tr>\n";
  }
  out_ << "</tbody></table>\n<p class=\"note-line\">Shares are of the summed stage time: decoding, inference and "
          "storing run concurrently, so their sum exceeds the wall time.</p>\n";
}

void Page::videos_table(const ResultSet& set, const std::set<std::int64_t>& detailed) {
  // recorded_at, when this database has that column.
  std::unordered_map<std::int64_t, std::string> recorded;
  const bool has_recorded = store_.has_column("videos", "recorded_at");
  if (has_recorded) {
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& v : set.videos)
      if (v.id) ids.push_back(v.id);
    for (const auto& r : store_.query("SELECT id, coalesce(recorded_at,'') FROM videos WHERE id IN (SELECT value "
                                      "FROM json_each(?1))",
                                      {ids.dump()}))
      recorded[cell_int(r[0])] = r[1];
  }
  out_ << "<h2 id=\"videos\">Videos</h2>\n";
  // Problems first (failed, interrupted, partial, unfinished), then by path.
  std::vector<const VideoRow*> order;
  for (const auto& v : set.videos) order.push_back(&v);
  std::stable_sort(order.begin(), order.end(),
                   [](const VideoRow* a, const VideoRow* b) { return (a->status != "done") > (b->status != "done"); });
  const std::size_t n = std::min(order.size(), kHtmlMaxRows);
  out_ << "<p class=\"note-line\">";
  if (n < set.videos.size())
    out_ << "The first " << grouped(static_cast<std::int64_t>(n)) << " of "
         << grouped(static_cast<std::int64_t>(set.videos.size())) << " videos are listed (<code>vidsift report "
         << "--json</code> lists them all). ";
  out_ << "Videos that are not done come first, then the others by path.</p>\n";
  out_ << "<table id=\"videos-table\"><thead><tr><th>video</th><th>status</th>"
       << (has_recorded ? "<th>recorded at (UTC)</th>" : "")
       << "<th>finished (UTC)</th><th class=\"n\">frames analysed</th><th class=\"n\">detections</th><th>top "
          "labels</th><th>error / warning</th></tr></thead><tbody>\n";
  for (std::size_t i = 0; i < n; ++i) {
    const VideoRow& v = *order[i];
    out_ << "<tr class=\"video-row\" data-video-id=\"" << v.id << "\" data-status=\"" << html_escape(v.status)
         << "\" data-frames=\"" << v.frames_analysed << "\" data-detections=\"" << v.detections
         << "\"><td class=\"path\">";
    if (detailed.count(v.id))
      out_ << "<a href=\"#video-" << v.id << "\">" << html_escape(v.path) << "</a>";
    else
      out_ << html_escape(v.path);
    out_ << "</td><td><span class=\"badge " << status_class(v.status) << "\">" << html_escape(v.status)
         << "</span></td>";
    if (has_recorded) {
      const auto it = recorded.find(v.id);
      out_ << "<td>" << (it == recorded.end() ? std::string() : html_escape(it->second)) << "</td>";
    }
    out_ << "<td class=\"t\">" << html_escape(v.finished_at) << "</td><td class=\"n\">" << grouped(v.frames_analysed)
         << "</td><td class=\"n\">" << grouped(v.detections) << "</td><td>";
    for (std::size_t k = 0; k < v.labels.size() && k < 3; ++k)
      out_ << (k ? ", " : "") << html_escape(v.labels[k].label) << "&nbsp;" << grouped(v.labels[k].count);
    if (v.labels.size() > 3) out_ << ", &hellip;";
    out_ << "</td><td class=\"note\">";
    const std::string warning = v.warning.empty() ? empty_window_warning(v) : v.warning;
    if (!v.error.empty()) out_ << "<span class=\"error\">" << html_escape(v.error) << "</span>";
    if (!warning.empty())
      out_ << (v.error.empty() ? "" : "<br>") << "<span class=\"warning\">" << html_escape(warning) << "</span>";
    out_ << "</td></tr>\n";
  }
  out_ << "</tbody></table>\n";
}

void Page::details(const ResultSet& set, const std::vector<const VideoRow*>& top, std::size_t with_detections) {
  out_ << "<h2 id=\"details\">Timelines and thumbnails</h2>\n<p class=\"note-line\" id=\"top-rule\" data-shown=\""
       << top.size() << "\" data-videos=\"" << set.videos.size() << "\">Timelines and thumbnails for "
       << grouped(static_cast<std::int64_t>(top.size())) << " of "
       << grouped(static_cast<std::int64_t>(set.videos.size())) << " videos: the "
       << (top.size() < with_detections ? "ones" : "videos") << " with the most detections, sorted by detections";
  if (top.size() < with_detections)
    out_ << " (" << grouped(static_cast<std::int64_t>(with_detections)) << " have detections; "
         << "<code>--html-top N</code> shows more)";
  else if (with_detections < set.videos.size())
    out_ << " (the others have no detections)";
  out_ << ".";
  if (options_.thumbs > 0 && top.size() * options_.thumbs > kMaxThumbnails)
    out_ << " Thumbnails for the first " << kMaxThumbnails / options_.thumbs << " of them only (at most "
         << kMaxThumbnails << " pictures keep the page light).";
  out_ << "</p>\n";
  for (const VideoRow* v : top) {
    out_ << "<div class=\"video\" id=\"video-" << v->id << "\"><h3>" << html_escape(v->path)
         << "</h3>\n<p class=\"meta\">" << html_escape(v->status) << ", " << grouped(v->frames_analysed)
         << " frames analysed, " << grouped(v->detections) << " detections</p>\n";
    timeline(*v);
    thumbnails(*v);
    out_ << "</div>\n";
  }
}

void Page::timeline(const VideoRow& v) {
  const std::string id = std::to_string(v.id);
  // The same minutes and counts as the per_minute_label_counts view, for
  // this video only (the view would group every video first).
  std::vector<std::int64_t> minutes;
  for (const auto& r :
       store_.query("SELECT DISTINCT CAST(ts / 60 AS INTEGER) FROM frames WHERE video_id=? ORDER BY 1", {id}))
    minutes.push_back(cell_int(r[0]));
  if (minutes.empty()) {
    out_ << "<p class=\"note-line\">no frames stored for this video</p>\n";
    return;
  }
  // Labels drawn apart: the video's most frequent ones.
  std::vector<Label> labels;
  std::map<std::string, std::size_t> slot;
  for (const auto& l : v.labels) {
    if (labels.size() == kTimelineLabels) break;
    const auto it = class_of_.find(l.label);
    slot[l.label] = labels.size();
    labels.push_back({l.label, it == class_of_.end() ? 0 : it->second, l.count});
  }
  const bool other = v.labels.size() > kTimelineLabels;
  if (other) {
    std::int64_t rest = 0;
    for (std::size_t i = kTimelineLabels; i < v.labels.size(); ++i) rest += v.labels[i].count;
    labels.push_back({kOtherLabel, -1, rest});
  }
  const std::int64_t first = minutes.front();
  const std::int64_t span = minutes.back() - first + 1;
  const std::int64_t bin =
      (span + static_cast<std::int64_t>(kTimelineBins) - 1) / static_cast<std::int64_t>(kTimelineBins);
  const std::size_t bins = static_cast<std::size_t>((span + bin - 1) / bin);
  std::vector<std::vector<std::int64_t>> counts(bins, std::vector<std::int64_t>(labels.size(), 0));
  for (const auto& r : store_.query("SELECT CAST(ts / 60 AS INTEGER), label, COUNT(*) FROM detections WHERE "
                                    "video_id=? GROUP BY 1, 2",
                                    {id})) {
    const std::int64_t m = cell_int(r[0]);
    if (m < first) continue;
    const auto b = static_cast<std::size_t>((m - first) / bin);
    if (b >= bins) continue;
    const auto it = slot.find(r[1]);
    const std::size_t s = it != slot.end() ? it->second : (other ? labels.size() - 1 : labels.size());
    if (s >= labels.size()) continue;
    counts[b][s] += cell_int(r[2]);
  }
  std::int64_t ymax = 0;
  for (const auto& c : counts) {
    std::int64_t total = 0;
    for (auto n : c) total += n;
    ymax = std::max(ymax, total);
  }
  // Legend.
  out_ << "<ul class=\"legend\">";
  for (const auto& l : labels)
    out_ << "<li data-label=\"" << html_escape(l.name) << "\"><span class=\"swatch\" style=\"background:"
         << (l.class_id < 0 ? kOtherColour : label_colour(l.class_id)) << "\"></span>" << html_escape(l.name) << " "
         << grouped(l.count) << "</li>";
  out_ << "</ul>\n";
  const double W = 760, H = 170, left = 48, right = 12, top = 10, bottom = 30;
  const double pw = W - left - right, ph = H - top - bottom;
  const double step = pw / static_cast<double>(bins);
  const double bw = std::clamp(step * 0.8, 1.0, 48.0);
  out_ << "<svg class=\"timeline\" data-video-id=\"" << v.id << "\" data-bin-minutes=\"" << bin
       << "\" data-first-minute=\"" << first << "\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
       << " " << H << "\" role=\"img\" aria-label=\"detections per "
       << (bin == 1 ? std::string("minute") : std::to_string(bin) + " minutes") << " per label\">";
  // Axes and grid.
  const double y0 = top + ph;
  out_ << "<line x1=\"" << left << "\" y1=\"" << y0 << "\" x2=\"" << left + pw << "\" y2=\"" << y0
       << "\" stroke=\"#888\"/><line x1=\"" << left << "\" y1=\"" << top << "\" x2=\"" << left << "\" y2=\"" << y0
       << "\" stroke=\"#888\"/>";
  for (int g = 1; g <= 2; ++g) {
    const double gy = y0 - ph * g / 2.0;
    const std::int64_t value = g == 2 ? ymax : ymax / 2;
    if (g == 1 && ymax < 2) continue;
    out_ << "<line x1=\"" << left << "\" y1=\"" << coord(gy) << "\" x2=\"" << left + pw << "\" y2=\"" << coord(gy)
         << "\" stroke=\"#e3e3e8\"/><text x=\"" << left - 5 << "\" y=\"" << coord(gy + 4) << "\" text-anchor=\"end\">"
         << grouped(g == 2 ? ymax : value) << "</text>";
  }
  out_ << "<text x=\"" << left - 5 << "\" y=\"" << coord(y0 + 4) << "\" text-anchor=\"end\">0</text>";
  const double scale = ymax > 0 ? ph / static_cast<double>(ymax) : 0;
  for (std::size_t b = 0; b < bins; ++b) {
    const double x = left + step * static_cast<double>(b) + (step - bw) / 2;
    double y = y0;
    const std::int64_t minute = first + static_cast<std::int64_t>(b) * bin;
    for (std::size_t s = 0; s < labels.size(); ++s) {
      const std::int64_t n = counts[b][s];
      if (n == 0) continue;
      const double h = std::max(1.5, static_cast<double>(n) * scale);  // a non-zero count stays visible
      y -= h;
      out_ << "<rect class=\"bar\" data-label=\"" << html_escape(labels[s].name) << "\" data-minute=\"" << minute
           << "\" data-count=\"" << n << "\" x=\"" << coord(x) << "\" y=\"" << coord(y) << "\" width=\"" << coord(bw)
           << "\" height=\"" << coord(h) << "\" fill=\""
           << (labels[s].class_id < 0 ? kOtherColour : label_colour(labels[s].class_id)) << "\"><title>minute "
           << minute;
      if (bin > 1) out_ << '-' << minute + bin - 1;
      out_ << ": " << html_escape(labels[s].name) << " " << grouped(n) << "</title></rect>";
    }
  }
  // Minute ticks: at most ~10 labels.
  const std::size_t every = std::max<std::size_t>(1, (bins + 9) / 10);
  for (std::size_t b = 0; b < bins; b += every) {
    const double x = left + step * (static_cast<double>(b) + 0.5);
    out_ << "<text x=\"" << coord(x) << "\" y=\"" << coord(y0 + 14) << "\" text-anchor=\"middle\">"
         << first + static_cast<std::int64_t>(b) * bin << "</text>";
  }
  out_ << "<text x=\"" << coord(left + pw / 2) << "\" y=\"" << coord(H - 3) << "\" text-anchor=\"middle\">minute of "
       << "the video";
  if (bin > 1)
    out_ << " (" << bin << " minutes per bar); detections per bar</text></svg>\n";
  else
    out_ << "; detections per minute</text></svg>\n";
}

void Page::thumb(const ThumbRequest& request, const std::string& caption) {
  ThumbResult r;
  try {
    r = thumbnailer_ ? thumbnailer_(request) : ThumbResult{"", "no picture decoder"};
  } catch (const std::exception& e) {
    r = {"", e.what()};
  } catch (...) {
    r = {"", "unknown error"};
  }
  out_ << "<figure>";
  if (!r.jpeg.empty()) {
    out_ << "<img class=\"thumb\" alt=\"" << html_escape(caption) << "\" src=\"data:image/jpeg;base64,"
         << base64(r.jpeg) << "\">";
  } else {
    out_ << "<div class=\"thumb-missing\">source not available: " << html_escape(r.unavailable) << "</div>";
  }
  out_ << "<figcaption>" << html_escape(caption) << "</figcaption></figure>\n";
}

void Page::thumbnails(const VideoRow& v) {
  if (options_.thumbs == 0 || thumbs_left_ < options_.thumbs) return;
  thumbs_left_ -= options_.thumbs;
  const std::string id = std::to_string(v.id);
  const std::string limit = std::to_string(options_.thumbs);
  ThumbRequest base;
  base.video_id = v.id;
  base.path = v.path;
  if (store_.has_column("videos", "path_bytes")) {
    const auto p = store_.query("SELECT hex(path_bytes) FROM videos WHERE id=? AND path_bytes IS NOT NULL", {id});
    if (!p.empty()) base.path = unhex(p[0][0]);
  }
  std::vector<std::pair<ThumbRequest, std::string>> wanted;
  if (has_tracks_) {
    for (const auto& r : store_.query(
             "SELECT track_id, label, class_id, frames, max_conf, best_frame, best_ts, best_x, best_y, best_w, "
             "best_h, first_ts, last_ts FROM tracks WHERE video_id=?1 ORDER BY frames DESC, max_conf DESC, track_id "
             "LIMIT ?2",
             {id, limit})) {
      ThumbRequest q = base;
      q.label = r[1];
      q.class_id = static_cast<int>(cell_int(r[2]));
      q.confidence = cell_real(r[4]);
      q.frame_index = cell_int(r[5]);
      q.ts = cell_real(r[6]);
      q.x = cell_real(r[7]);
      q.y = cell_real(r[8]);
      q.w = cell_real(r[9]);
      q.h = cell_real(r[10]);
      wanted.emplace_back(q, "track " + r[0] + ": " + r[1] + ", " + fixed(cell_real(r[11]), 1) + "-" +
                                 fixed(cell_real(r[12]), 1) + " s, " + grouped(cell_int(r[3])) + " frames; best " +
                                 fixed(q.confidence, 2) + " at " + fixed(q.ts, 1) + " s");
    }
  }
  if (wanted.empty()) {
    for (std::size_t i = 0; i < v.labels.size() && i < options_.thumbs; ++i) {
      // +label: look the video's rows up by video_id, not every row of the label.
      const auto r = store_.query(
          "SELECT frame_index, ts, x, y, w, h, class_id, confidence FROM detections WHERE video_id=?1 AND "
          "+label=?2 ORDER BY confidence DESC, frame_index LIMIT 1",
          {id, v.labels[i].label});
      if (r.empty()) continue;
      ThumbRequest q = base;
      q.label = v.labels[i].label;
      q.frame_index = cell_int(r[0][0]);
      q.ts = cell_real(r[0][1]);
      q.x = cell_real(r[0][2]);
      q.y = cell_real(r[0][3]);
      q.w = cell_real(r[0][4]);
      q.h = cell_real(r[0][5]);
      q.class_id = static_cast<int>(cell_int(r[0][6]));
      q.confidence = cell_real(r[0][7]);
      wanted.emplace_back(q, q.label + " " + fixed(q.confidence, 2) + " at " + fixed(q.ts, 1) + " s (frame " +
                                 std::to_string(q.frame_index) + "), best of " + grouped(v.labels[i].count));
    }
  }
  if (wanted.empty()) return;
  out_ << "<div class=\"thumbs\">\n";
  for (const auto& [q, caption] : wanted) thumb(q, caption);
  out_ << "</div>\n";
}

bool Page::write() {
  const ResultSet set = results_in_scope(store_, scope_);
  const auto runs = runs_in_scope(store_, scope_);
  class_of_ = class_ids();
  for (const auto& l : set.labels) {
    if (class_of_.count(l.label)) continue;
    const auto r = store_.query("SELECT class_id FROM detections WHERE label=? LIMIT 1", {l.label});
    class_of_[l.label] = r.empty() ? 0 : static_cast<int>(cell_int(r[0][0]));
  }
  has_tracks_ = !store_.query("SELECT 1 FROM sqlite_master WHERE type='table' AND name='tracks'").empty() &&
                !store_.query("SELECT 1 FROM tracks LIMIT 1").empty();
  head();
  bool found = true;
  if (!scope_.any() && runs.empty()) {
    out_ << "<p id=\"empty\">This database holds no runs yet.</p>\n";
  } else if (scope_.run && runs.empty()) {
    out_ << "<p id=\"empty\">There is no run " << *scope_.run << " in this database.</p>\n";
    found = false;
  } else {
    if (scope_.any() && set.videos.empty() && !scope_.run) found = false;
    std::vector<const VideoRow*> ranked;
    for (const auto& v : set.videos)
      if (v.id && v.detections > 0) ranked.push_back(&v);
    std::sort(ranked.begin(), ranked.end(), [](const VideoRow* a, const VideoRow* b) {
      return a->detections != b->detections ? a->detections > b->detections : a->path < b->path;
    });
    const std::size_t with_detections = ranked.size();
    if (ranked.size() > options_.top) ranked.resize(options_.top);
    std::set<std::int64_t> detailed;
    for (const VideoRow* v : ranked) detailed.insert(v->id);
    summary(set, runs);
    videos_table(set, detailed);
    details(set, ranked, with_detections);
  }
  out_ << "</body></html>\n";
  return found;
}

}  // namespace

std::string html_escape(std::string_view text) {
  const std::string valid = to_utf8(text);
  std::string out;
  out.reserve(valid.size() + 16);
  for (char c : valid) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n')
          out += "\xEF\xBF\xBD";  // U+FFFD: control characters are not allowed in HTML text
        else
          out += c;
    }
  }
  return out;
}

std::string label_colour(int class_id) {
  // The boxes' palette (annotate.h), BGR -> "#rrggbb".
  const cv::Scalar bgr = class_colour(class_id);
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(bgr[2]), static_cast<int>(bgr[1]),
                static_cast<int>(bgr[0]));
  return buf;
}

bool write_html_report(Store& store, const ReportScope& scope, const HtmlOptions& options,
                       const Thumbnailer& thumbnailer, std::ostream& out) {
  Page page(store, scope, options, thumbnailer, out);
  return page.write();
}

}  // namespace vidsift::cli
