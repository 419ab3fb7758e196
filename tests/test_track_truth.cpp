// --track end to end: ground-truth clips built with ffmpeg from real people
// cut out of vtest.avi (tests/track_clip.py), the real yolox_nano model, the
// real CLI. Also the sampling rules, the settings key, vtest.avi itself,
// merge and export of tracks.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace vidsift::test;

namespace {

std::string q(const fs::path& p) { return sh_quote(p.string()); }
CommandResult cli(const std::string& args) { return run_command(sh_quote(vidsift_binary()) + " " + args + " 2>&1"); }
const std::string kModel = " --model " + q(model_path("yolox_nano.onnx")) + " ";

std::string script() { return (fs::path(VIDSIFT_SOURCE_DIR) / "tests" / "track_clip.py").string(); }

// The ground-truth clip (cached under the build tree).
fs::path truth_clip() {
  const fs::path clip = clip_cache_dir() / "track_truth_v1.mp4";
  if (!fs::exists(clip)) {
    // Test processes run in parallel: each makes its own file and renames it
    // into place, so none reads a clip another is still writing.
    const fs::path part = clip_cache_dir() / ("track_truth_v1." + std::to_string(::getpid()) + ".part.mp4");
    const auto r = run_command("/usr/bin/python3 " + sh_quote(script()) + " make " + q(part) + " " +
                               q(video_path("vtest.avi")) + " 2>&1");
    EXPECT_EQ(r.status, 0) << r.output;
    std::error_code ec;
    fs::rename(part, clip, ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  return clip;
}

nlohmann::json metrics(const fs::path& db) {
  const auto r = run_command("/usr/bin/python3 " + sh_quote(script()) + " metrics " + q(db) + " 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
  try {
    return nlohmann::json::parse(r.output);
  } catch (const std::exception&) {
    ADD_FAILURE() << r.output;
    return nlohmann::json::object();
  }
}

class TrackTruth : public ::testing::TestWithParam<std::string> {};

// Five appearances (p4 leaves and comes back: two), two paths that cross
// with one person hidden, one person who stops. Every rate --track accepts
// for walking people must count them right (README, "Tracking").
TEST_P(TrackTruth, CountsUniquePeopleWithoutSwitches) {
  TempDir dir("track_truth");
  const fs::path clip = truth_clip();
  ASSERT_TRUE(fs::exists(clip));
  const fs::path db = dir / "t.db";
  const auto r = cli("run " + q(clip) + " --db " + q(db) + kModel + "--track -q " + GetParam());
  ASSERT_EQ(r.status, 0) << r.output;
  const auto m = metrics(db);
  SCOPED_TRACE(m.dump());
  EXPECT_EQ(m["unique"], 5) << "tracks of >= 3 frames should be the 5 appearances";
  EXPECT_EQ(m["appearances_seen"], 5);
  EXPECT_LE(m["id_switches"].get<int>(), 1);
  EXPECT_LE(m["fragmented"].get<int>(), 1);
  EXPECT_EQ(m["merged"], 0) << "a track followed two people";
  EXPECT_EQ(m["detections_without_track"], 0);
  EXPECT_GE(m["coverage"].get<double>(), 0.9);
  // The tracks table agrees with detections.track_id.
  EXPECT_EQ(query_int(db,
                      "SELECT COUNT(*) FROM tracks t WHERE frames <> (SELECT COUNT(DISTINCT frame_index) FROM "
                      "detections d WHERE d.video_id = t.video_id AND d.track_id = t.track_id)"),
            0);
  EXPECT_EQ(query_int(db, "SELECT SUM(unique_objects) FROM per_video_track_counts WHERE label = 'person'"),
            m["unique"].get<int>());
}

INSTANTIATE_TEST_SUITE_P(Rates, TrackTruth, ::testing::Values("--every 1", "--every 5", "--fps 2"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

// Sparse or irregular sampling is refused before anything is analysed.
TEST(Track, RefusesSamplingTooSparseToTrack) {
  TempDir dir("track_usage");
  const fs::path clip = truth_clip();  // 25 fps
  const fs::path db = dir / "u.db";
  auto r = cli("run " + q(clip) + " --db " + q(db) + kModel + "--track --keyframes");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--keyframes"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--fps 5"), std::string::npos) << r.output;  // says what works
  r = cli("run " + q(clip) + " --db " + q(db) + kModel + "--track --fps 0.5");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("2 s apart"), std::string::npos) << r.output;
  r = cli("run " + q(clip) + " --db " + q(db) + kModel + "--track --every 50");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("use --every 25 or less"), std::string::npos) << r.output;
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos"), 0);
  // Without --track the same sampling is fine.
  r = cli("run " + q(clip) + " --db " + q(db) + kModel + "--every 50 -q");
  EXPECT_EQ(r.status, 0) << r.output;
}

// --track is part of the settings key: a tracked run after an untracked one
// analyses the video again (and the stored boxes are the same: the
// low-confidence boxes only feed the tracker).
TEST(Track, TrackingIsANewResultNotNothingNew) {
  TempDir dir("track_key");
  const fs::path clip = truth_clip();
  const fs::path db = dir / "k.db";
  auto r = cli("run " + q(clip) + " --db " + q(db) + kModel + "--every 10 -q");
  ASSERT_EQ(r.status, 0) << r.output;
  r = cli("run " + q(clip) + " --db " + q(db) + kModel + "--every 10 --track");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("already analysed"), std::string::npos) << r.output;
  EXPECT_EQ(query_int(db, "SELECT COUNT(DISTINCT settings_key) FROM finished_videos"), 2);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM runs WHERE settings LIKE '%\"track\":true%'"), 1);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM runs WHERE settings LIKE '%track%'"), 1);
  const auto untracked = query_db(db,
                                  "SELECT group_concat(frame_index || ':' || class_id || ':' || x || ':' || y, ' ') "
                                  "FROM (SELECT d.* FROM detections d JOIN videos v ON v.id = d.video_id "
                                  "WHERE d.track_id IS NULL ORDER BY d.frame_index, d.id)");
  const auto tracked = query_db(db,
                                "SELECT group_concat(frame_index || ':' || class_id || ':' || x || ':' || y, ' ') "
                                "FROM (SELECT d.* FROM detections d JOIN videos v ON v.id = d.video_id "
                                "WHERE d.track_id IS NOT NULL ORDER BY d.frame_index, d.id)");
  ASSERT_FALSE(untracked.empty());
  ASSERT_FALSE(tracked.empty());
  EXPECT_EQ(untracked, tracked);
  EXPECT_GT(query_int(db, "SELECT COUNT(*) FROM tracks"), 0);
  // Rerun with --track: nothing new this time.
  r = cli("run " + q(clip) + " --db " + q(db) + kModel + "--every 10 --track");
  EXPECT_NE(r.output.find("already analysed"), std::string::npos) << r.output;
}

// kill -9 in the middle of a tracked video, then a rerun: the video resumes
// after its last stored frame, the tracker replays the stored frames, and
// the video ends with the right tracks (README, "Tracking": interrupted
// videos).
TEST(Track, KillNineThenRerunEndsWithTheRightTracks) {
  TempDir dir("track_kill");
  const fs::path clip = truth_clip();
  const fs::path db = dir / "k.db";
  const fs::path poll = dir / "poll.py";
  {
    std::ofstream f(poll);
    f << "import sqlite3, sys, time\n"
         "while True:\n"
         "    try:\n"
         "        c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)\n"
         "        if c.execute('SELECT COUNT(*) FROM frames').fetchone()[0] >= int(sys.argv[2]): break\n"
         "    except Exception:\n"
         "        pass\n"
         "    time.sleep(0.02)\n";
  }
  const auto r = run_command(sh_quote(vidsift_binary()) + " run " + q(clip) + " --db " + q(db) + kModel +
                             "--track -q & pid=$!; /usr/bin/python3 " + q(poll) + " " + q(db) +
                             " 70; kill -9 $pid; wait $pid; echo status $?");
  ASSERT_NE(r.output.find("status 137"), std::string::npos) << "not killed: " << r.output;
  ASSERT_EQ(query_db(db, "SELECT status FROM videos"), (std::vector<std::vector<std::string>>{{"running"}}));
  const long long kept = query_int(db, "SELECT COUNT(*) FROM frames");
  ASSERT_GE(kept, 70);
  ASSERT_LT(kept, 200) << "the run finished before the kill: the test proves nothing";
  const auto again = cli("run " + q(clip) + " --db " + q(db) + kModel + "--track -q");
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM frames"), 200);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM finished_videos"), 1);
  const auto m = metrics(db);
  SCOPED_TRACE("killed after " + std::to_string(kept) + " frames: " + m.dump());
  EXPECT_EQ(m["unique"], 5);
  EXPECT_LE(m["id_switches"].get<int>(), 1);
  EXPECT_LE(m["fragmented"].get<int>(), 1);
  EXPECT_EQ(m["merged"], 0);
  EXPECT_EQ(m["detections_without_track"], 0);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM tracks"),
            query_int(db, "SELECT COUNT(DISTINCT track_id) FROM detections"));
}

// vtest.avi gives tracks; the track stage is timed; merge copies tracks with
// remapped video ids; export carries track_id.
TEST(Track, VtestTracksMergeAndExport) {
  TempDir dir("track_vtest");
  const fs::path a = dir / "a.db", b = dir / "b.db", all = dir / "all.db";
  auto r = cli("run " + q(video_path("vtest.avi")) + " --db " + q(a) + kModel + "--track --end 10 -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto tracks = query_int(a, "SELECT COUNT(*) FROM tracks");
  EXPECT_GE(query_int(a, "SELECT unique_objects FROM per_video_track_counts WHERE label = 'person'"), 3);
  EXPECT_EQ(query_int(a, "SELECT COUNT(*) FROM detections WHERE track_id IS NULL"), 0);
  EXPECT_EQ(query_int(a, "SELECT frames FROM timings WHERE stage = 'track' AND video_id IS NULL"), 100);
  r = cli("report --db " + q(a) + " --run 1");
  EXPECT_NE(r.output.find("track"), std::string::npos) << r.output;
  // A second database with the clip under another name, then merge both.
  const fs::path copy = dir / "copy.avi";
  fs::copy_file(video_path("vtest.avi"), copy);
  r = cli("run " + q(copy) + " --db " + q(b) + kModel + "--track --end 10 -q");
  ASSERT_EQ(r.status, 0) << r.output;
  r = cli("merge --db " + q(all) + " " + q(a) + " " + q(b));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(query_int(all, "SELECT COUNT(*) FROM tracks"), 2 * tracks);
  EXPECT_EQ(query_int(all,
                      "SELECT COUNT(*) FROM tracks t LEFT JOIN videos v ON v.id = t.video_id WHERE v.id IS "
                      "NULL OR v.path NOT LIKE '%.avi'"),
            0);
  EXPECT_EQ(query_int(all,
                      "SELECT COUNT(*) FROM tracks t WHERE NOT EXISTS (SELECT 1 FROM detections d WHERE "
                      "d.video_id = t.video_id AND d.track_id = t.track_id)"),
            0);
  const fs::path csv = dir / "t.csv";
  r = cli("export --db " + q(a) + " --format csv --out " + q(csv));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto head = run_command("head -2 " + q(csv));
  EXPECT_NE(head.output.find(",h,track_id,at\n"), std::string::npos) << head.output;
  EXPECT_EQ(head.output.back(), '\n');
  // Its last two fields: the track id (set), then the wall-clock time
  // (empty: vtest.avi has no start time).
  const std::string row = head.output.substr(head.output.find('\n') + 1);
  EXPECT_EQ(row.substr(row.size() - 2), ",\n") << row;
  EXPECT_NE(row[row.size() - 3], ',') << "the first detection has a track id: " << row;
}

}  // namespace
