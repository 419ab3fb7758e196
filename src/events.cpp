#include "vidsift/events.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace vidsift {

namespace {

// The gaps-and-islands query. `label_filter`, `min_count` and `gap` are SQL
// expressions: literals for the view, bound parameters for find_events().
//  hits:    frames showing the label (>= min_count boxes), with their count;
//  starts:  1 where a frame is more than `gap` after the previous hit (or is
//           the first one): an event starts there;
//  islands: the running sum of those starts numbers the events.
std::string events_select(const std::string& label_filter, const std::string& min_count, const std::string& gap) {
  return "WITH hits AS (\n"
         "  SELECT d.video_id AS video_id, d.label AS label, d.frame_index AS frame_index, MIN(d.ts) AS ts,\n"
         "         COUNT(*) AS boxes\n"
         "  FROM detections d JOIN finished_videos v ON v.id = d.video_id\n"
         "  WHERE " +
         label_filter +
         "\n"
         "  GROUP BY d.video_id, d.label, d.frame_index\n"
         "  HAVING COUNT(*) >= " +
         min_count +
         "),\n"
         "starts AS (\n"
         "  SELECT hits.*, CASE WHEN ts - LAG(ts) OVER (PARTITION BY video_id, label ORDER BY ts, frame_index)\n"
         "                      <= " +
         gap +
         " + 1e-6 THEN 0 ELSE 1 END AS new_event\n"
         "  FROM hits),\n"
         "islands AS (\n"
         "  SELECT starts.*, SUM(new_event) OVER (PARTITION BY video_id, label ORDER BY ts, frame_index\n"
         "                                        ROWS UNBOUNDED PRECEDING) AS event_no\n"
         "  FROM starts)\n"
         "SELECT i.video_id AS video_id, v.path AS path, v.settings_key AS settings_key, v.run_id AS run_id,\n"
         "       i.label AS label, MIN(i.ts) AS start_ts, MAX(i.ts) AS end_ts, MAX(i.ts) - MIN(i.ts) AS duration,\n"
         "       MIN(i.frame_index) AS first_frame, MAX(i.frame_index) AS last_frame, COUNT(*) AS frames,\n"
         "       MAX(i.boxes) AS max_count\n"
         "FROM islands i JOIN videos v ON v.id = i.video_id\n"
         "GROUP BY i.video_id, i.label, i.event_no";
}

std::string number(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

}  // namespace

std::string label_events_view_sql() {
  return "DROP VIEW IF EXISTS label_events;\nCREATE VIEW label_events AS\n" +
         events_select("1", std::to_string(kDefaultEventMinCount), number(kDefaultEventGap)) + ";\n";
}

std::vector<Event> find_events(Store& store, const EventQuery& q) {
  if (q.min_count < 1) throw std::invalid_argument("min_count must be at least 1");
  if (!std::isfinite(q.gap) || q.gap < 0) throw std::invalid_argument("gap must be a finite number >= 0");
  // Parameters arrive as text: cast them, or SQLite would compare numbers
  // with strings.
  const std::string sql = "SELECT * FROM (" + events_select("d.label = ?1", "CAST(?2 AS INTEGER)", "CAST(?3 AS REAL)") +
                          ") ORDER BY path, settings_key, video_id, start_ts";
  std::vector<Event> out;
  for (const auto& r : store.query(sql, {q.label, std::to_string(q.min_count), number(q.gap)})) {
    Event e;
    e.video_id = cell_int(r[0]);
    e.path = r[1];
    e.settings_key = r[2];
    e.run_id = cell_int(r[3]);
    e.label = r[4];
    e.start = cell_real(r[5]);
    e.end = cell_real(r[6]);
    e.duration = cell_real(r[7]);
    e.first_frame = cell_int(r[8]);
    e.last_frame = cell_int(r[9]);
    e.frames = cell_int(r[10]);
    e.max_count = cell_int(r[11]);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace vidsift
