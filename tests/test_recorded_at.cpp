// End-to-end tests of wall-clock time: videos.recorded_at from real
// containers' creation_time (mp4, mkv, set with ffmpeg -metadata), from file
// names (--time-from-name, --timezone, DST), updated by a rerun without
// reanalysing; the detections_at and per_hour_label_counts views; merge and
// report --json carrying recorded_at.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "vidsift/wallclock.h"

namespace fs = std::filesystem;
using namespace vidsift::test;

namespace {

std::string q(const fs::path& p) { return sh_quote(p.string()); }

CommandResult cli(const std::string& args) { return run_command(sh_quote(vidsift_binary()) + " " + args); }

std::string run_args(const fs::path& input, const fs::path& db) {
  return "run " + q(input) + " --db " + q(db) + " --model " + q(model_path("yolox_nano.onnx")) +
         " --every 2 --progress=false ";
}

// A clip cut from vtest.avi (people walking), no metadata but `meta`.
bool cut(const fs::path& out, double seconds, const std::string& meta) {
  fs::create_directories(out.parent_path());
  return make_clip(out, "-t " + std::to_string(seconds) + " -i " + q(video_path("vtest.avi")) +
                            " -map_metadata -1 -c:v libx264 -preset ultrafast -pix_fmt yuv420p " + meta);
}

std::string one(const fs::path& db, const std::string& sql) {
  const auto rows = query_db(db, sql);
  return rows.empty() || rows[0].empty() ? "<none>" : rows[0][0];
}

// "YYYY-MM-DDTHH:MM:SS.mmmZ" of `start` plus `ms` milliseconds.
std::string plus_ms(const std::string& start, long long ms) {
  vidsift::UtcTime t = *vidsift::parse_iso_utc(start);
  t.seconds += ms / 1000;
  char frac[8];
  std::snprintf(frac, sizeof frac, "%03lld", ms % 1000);
  t.fraction = frac;
  return vidsift::format_iso_utc(t);
}

}  // namespace

TEST(RecordedAt, ContainerCreationTimeAndTheWallClockViews) {
  TempDir d("recorded-container");
  const fs::path a = d / "in/cam1/a.mp4";  // crosses 23:00
  const fs::path b = d / "in/cam1/b.mkv";
  const fs::path c = d / "in/cam2/c.mp4";  // no tag
  ASSERT_TRUE(cut(a, 2, "-metadata creation_time=2026-11-25T22:59:59Z"));
  ASSERT_TRUE(cut(b, 1, "-metadata creation_time=2026-11-25T23:10:00.250000Z"));
  ASSERT_TRUE(cut(c, 1, ""));
  const fs::path db = d / "v.db";
  const auto r = cli(run_args(d / "in", db));
  ASSERT_EQ(r.status, 0) << r.output;

  const std::string id_a = one(db, "SELECT id FROM videos WHERE path LIKE '%/a.mp4'");
  const std::string id_b = one(db, "SELECT id FROM videos WHERE path LIKE '%/b.mkv'");
  const std::string id_c = one(db, "SELECT id FROM videos WHERE path LIKE '%/c.mp4'");
  EXPECT_EQ(one(db, "SELECT recorded_at || ' ' || recorded_at_source FROM videos WHERE id=" + id_a),
            "2026-11-25T22:59:59Z container");
  EXPECT_EQ(one(db, "SELECT recorded_at || ' ' || recorded_at_source FROM videos WHERE id=" + id_b),
            "2026-11-25T23:10:00.25Z container");
  EXPECT_EQ(one(db, "SELECT COUNT(*) FROM videos WHERE id=" + id_c +
                        " AND recorded_at IS NULL AND "
                        "recorded_at_source IS NULL"),
            "1");

  // detections_at: every detection, at = start + ts (NULL without a start).
  ASSERT_GT(query_int(db, "SELECT COUNT(*) FROM detections WHERE video_id=" + id_a + " AND ts < 1"), 0);
  ASSERT_GT(query_int(db, "SELECT COUNT(*) FROM detections WHERE video_id=" + id_a + " AND ts >= 1"), 0);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM detections_at"), query_int(db, "SELECT COUNT(*) FROM detections"));
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM detections_at WHERE at IS NULL"),
            query_int(db, "SELECT COUNT(*) FROM detections WHERE video_id=" + id_c));
  for (const auto& row : query_db(db,
                                  "SELECT DISTINCT CAST(ROUND(ts * 1000) AS INTEGER), at, video_id FROM "
                                  "detections_at WHERE at IS NOT NULL")) {
    const std::string start = row[2] == id_a ? "2026-11-25T22:59:59Z" : "2026-11-25T23:10:00Z";
    const long long ms = std::stoll(row[0]) + (row[2] == id_a ? 0 : 250);
    EXPECT_EQ(row[1], plus_ms(start, ms)) << row[0];
  }
  EXPECT_EQ(one(db, "SELECT folder FROM detections_at WHERE video_id=" + id_a), (d / "in/cam1").string());

  // per_hour_label_counts: cam1's detections split at 23:00 (a's second
  // second and all of b are in the 23:00 hour); cam2 has no start.
  const auto det = [&](const std::string& where) {
    return query_int(db, "SELECT COUNT(*) FROM detections WHERE " + where);
  };
  std::map<std::string, long long> hours;
  for (const auto& row : query_db(db,
                                  "SELECT folder, hour, SUM(detections) FROM per_hour_label_counts GROUP BY "
                                  "folder, hour"))
    hours[fs::path(row[0]).filename().string() + " " + row[1]] = std::stoll(row[2]);
  const std::map<std::string, long long> want = {
      {"cam1 2026-11-25T22:00:00Z", det("video_id=" + id_a + " AND ts < 1")},
      {"cam1 2026-11-25T23:00:00Z", det("video_id=" + id_a + " AND ts >= 1") + det("video_id=" + id_b)}};
  EXPECT_EQ(hours, want);
  EXPECT_EQ(query_int(db,
                      "SELECT SUM(videos) FROM per_hour_label_counts WHERE hour='2026-11-25T23:00:00Z' AND "
                      "label='person'"),
            2);

  // report --json shows each video's start.
  const auto rep = cli("report " + q(db) + " --json");
  ASSERT_EQ(rep.status, 0) << rep.output;
  const auto j = nlohmann::json::parse(rep.output.substr(rep.output.find('{')));
  std::map<std::string, nlohmann::json> at;
  for (const auto& v : j["videos"]) at[fs::path(v["path"].get<std::string>()).filename().string()] = v["recorded_at"];
  EXPECT_EQ(at["a.mp4"], "2026-11-25T22:59:59Z");
  EXPECT_TRUE(at["c.mp4"].is_null());

  // export carries the wall-clock time of each detection.
  const auto csv = cli("export " + q(db) + " --format csv --where \"video_id=" + id_a + " AND ts = 0\"");
  ASSERT_EQ(csv.status, 0) << csv.output;
  EXPECT_NE(csv.output.find(",2026-11-25T22:59:59.000Z\n"), std::string::npos) << csv.output;
}

TEST(RecordedAt, FileNamesInZonesOffsetsAndDaylightSaving) {
  TempDir d("recorded-names");
  const fs::path clip = d / "clip.mp4";
  ASSERT_TRUE(cut(clip, 0.5, ""));
  const fs::path tagged = d / "in/other.mp4";
  ASSERT_TRUE(cut(tagged, 0.5, "-metadata creation_time=2026-01-01T00:00:00Z"));
  for (const char* name :
       {"cam1_20261125_221403.mp4", "plain.mp4", "cam1_20260329_023000.mp4", "cam1_20261025_023000.mp4"})
    fs::copy_file(clip, d / "in" / name);
  const std::string pattern = " --time-from-name 'cam1_%Y%m%d_%H%M%S.mp4'";
  const fs::path db = d / "berlin.db";
  auto r = cli(run_args(d / "in", db) + pattern + " --timezone Europe/Berlin");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto row = [&](const fs::path& file, const std::string& name) {
    return one(file,
               "SELECT coalesce(recorded_at,'NULL') || ' ' || coalesce(recorded_at_source,'NULL') || ' | ' || "
               "coalesce(warning,'') FROM videos WHERE path LIKE '%/" +
                   name + "'");
  };
  EXPECT_EQ(row(db, "cam1_20261125_221403.mp4"), "2026-11-25T21:14:03Z name | ");
  EXPECT_EQ(row(db, "other.mp4"),
            "2026-01-01T00:00:00Z container | the file name does not match --time-from-name "
            "'cam1_%Y%m%d_%H%M%S.mp4'; recorded_at is the container's creation_time");
  EXPECT_EQ(row(db, "plain.mp4"),
            "NULL NULL | the file name does not match --time-from-name 'cam1_%Y%m%d_%H%M%S.mp4'; recorded_at is "
            "unknown");
  // 02:30 on 29 March 2026 does not exist in Berlin; 02:30 on 25 October
  // happens twice.
  EXPECT_EQ(row(db, "cam1_20260329_023000.mp4").substr(0, 40), "2026-03-29T01:30:00Z name | the name's l");
  EXPECT_NE(row(db, "cam1_20260329_023000.mp4").find("does not exist in Europe/Berlin"), std::string::npos);
  EXPECT_EQ(row(db, "cam1_20261025_023000.mp4").substr(0, 26), "2026-10-25T00:30:00Z name ");
  EXPECT_NE(row(db, "cam1_20261025_023000.mp4").find("occurs twice"), std::string::npos);

  // A UTC offset.
  const fs::path db2 = d / "offset.db";
  r = cli(run_args(d / "in", db2) + pattern + " --timezone +05:30");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(row(db2, "cam1_20261125_221403.mp4"), "2026-11-25T16:44:03Z name | ");

  // The options change no detection, so not the settings key: a rerun with
  // another zone (from a config file) skips every video and only sets
  // recorded_at from the names, in the same rows.
  const std::string before = one(db2, "SELECT group_concat(id) || ':' || (SELECT COUNT(*) FROM frames) FROM videos");
  const fs::path ini = d / "utc.ini";
  std::ofstream(ini) << "time-from-name = cam1_%Y%m%d_%H%M%S.mp4\ntimezone = UTC\n";
  r = cli(run_args(d / "in", db2) + "--config " + q(ini));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("skipped 5 video(s)"), std::string::npos) << r.output;
  EXPECT_EQ(one(db2, "SELECT group_concat(id) || ':' || (SELECT COUNT(*) FROM frames) FROM videos"), before);
  EXPECT_EQ(row(db2, "cam1_20261125_221403.mp4"), "2026-11-25T22:14:03Z name | ");
  EXPECT_EQ(one(db2, "SELECT COUNT(DISTINCT settings_key) FROM videos"), "1");
  EXPECT_EQ(row(db2, "other.mp4").substr(0, 31), "2026-01-01T00:00:00Z container ");

  // Merge carries the columns.
  const fs::path all = d / "all.db";
  r = cli("merge --db " + q(all) + " " + q(db));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(row(all, "cam1_20261125_221403.mp4"), "2026-11-25T21:14:03Z name | ");
}

TEST(RecordedAt, BadZoneOrPatternIsAUsageError) {
  TempDir d("recorded-usage");
  const fs::path db = d / "u.db";
  const std::string in = q(video_path("vtest.avi"));
  auto r = cli(run_args(video_path("vtest.avi"), db) + "--time-from-name 'x_%Y%m%d.mp4' --timezone Mars/Olympus");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("Mars/Olympus"), std::string::npos) << r.output;
  r = cli(run_args(video_path("vtest.avi"), db) + "--timezone Europe/Berlin");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--time-from-name"), std::string::npos) << r.output;
  r = cli(run_args(video_path("vtest.avi"), db) + "--time-from-name 'x_%H%M%S.mp4'");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("gives no date"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(db));
}

// --track with a known start: every track gets its wall-clock span
// (tracks_at), and tracks are counted per camera folder and hour of their
// first sighting (per_hour_track_counts).
TEST(RecordedAt, TracksGetWallClockTimes) {
  TempDir d("recorded-tracks");
  const fs::path a = d / "in/cam1/a.mp4";  // crosses 23:00
  ASSERT_TRUE(cut(a, 3, "-metadata creation_time=2026-11-25T22:59:59Z"));
  const fs::path db = d / "v.db";
  const auto r = cli(run_args(d / "in", db) + " --track");
  ASSERT_EQ(r.status, 0) << r.output;
  const long long tracks = query_int(db, "SELECT COUNT(*) FROM tracks");
  ASSERT_GT(tracks, 0);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM tracks_at"), tracks);
  for (const auto& row : query_db(db,
                                  "SELECT CAST(ROUND(first_ts * 1000) AS INTEGER), first_at, "
                                  "CAST(ROUND(last_ts * 1000) AS INTEGER), last_at, folder FROM tracks_at")) {
    EXPECT_EQ(row[1], plus_ms("2026-11-25T22:59:59Z", std::stoll(row[0])));
    EXPECT_EQ(row[3], plus_ms("2026-11-25T22:59:59Z", std::stoll(row[2])));
    EXPECT_EQ(row[4], (d / "in/cam1").string());
  }
  std::map<std::string, long long> hours;
  for (const auto& row : query_db(db, "SELECT hour, SUM(tracks) FROM per_hour_track_counts GROUP BY hour"))
    hours[row[0]] = std::stoll(row[1]);
  const long long before = query_int(db, "SELECT COUNT(*) FROM tracks WHERE first_ts < 1");
  std::map<std::string, long long> want;
  if (before > 0) want["2026-11-25T22:00:00Z"] = before;
  if (tracks > before) want["2026-11-25T23:00:00Z"] = tracks - before;
  EXPECT_EQ(hours, want);
  EXPECT_EQ(query_int(db, "SELECT SUM(unique_objects) FROM per_hour_track_counts"),
            query_int(db, "SELECT COUNT(*) FROM tracks WHERE frames >= 3"));
}
