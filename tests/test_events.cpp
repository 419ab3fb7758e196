// Tests of `events` (gaps and islands over detections) and of the `vidsift
// events` command: a synthetic database with known ranges, the label_events
// view, and vtest.avi analysed for real.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "vidsift/events.h"
#include "vidsift/store.h"

namespace fs = std::filesystem;
using namespace vidsift;
using namespace vidsift::test;

namespace {

std::vector<Detection> boxes(int persons, int cars = 0) {
  std::vector<Detection> d;
  for (int i = 0; i < persons; ++i) d.push_back(Detection{0, 0.9f, Box{1, 2, 3, 4}});
  for (int i = 0; i < cars; ++i) d.push_back(Detection{1, 0.8f, Box{5, 6, 7, 8}});
  return d;
}

VideoRecord video(const std::string& path) {
  VideoRecord v;
  v.path = path;
  v.fingerprint = "fp";
  v.codec = "h264";
  v.width = 640;
  v.height = 480;
  return v;
}

// Persons per frame, one frame a second (ts 0..9, frame_index = 10 * ts):
constexpr int kPersons[] = {1, 1, 0, 0, 2, 3, 0, 0, 0, 1};

// /v/a.mp4 under key1 (persons as above, a car at 2 s and 3 s), the same file
// under key2 (a person at 0 s only), and /v/b.mp4 still running (persons in
// every frame, which must not count).
void make_db(const std::string& path) {
  Store s(path);
  s.set_labels({"person", "car"});
  RunRecord r;
  r.settings_key = "key1";
  const auto run = s.begin_run(r);
  const auto a = s.start_video(run, video("/v/a.mp4"), "key1");
  for (int t = 0; t < 10; ++t) s.add_frame(a, t * 10, t, boxes(kPersons[t], t == 2 || t == 3 ? 1 : 0));
  s.finish_video(a, VideoResult{VideoStatus::Done, "", 100, 10});
  const auto a2 = s.start_video(run, video("/v/a.mp4"), "key2");
  s.add_frame(a2, 0, 0, boxes(1));
  s.finish_video(a2, VideoResult{VideoStatus::Done, "", 100, 1});
  const auto b = s.start_video(run, video("/v/b.mp4"), "key1");
  for (int t = 0; t < 10; ++t) s.add_frame(b, t * 10, t, boxes(4));
  s.commit();  // b stays running
}

// start, end, frames, max_count of each key1 event of /v/a.mp4.
std::vector<std::vector<double>> ranges(const std::vector<Event>& events, const std::string& key = "key1") {
  std::vector<std::vector<double>> out;
  for (const auto& e : events)
    if (e.settings_key == key && e.path == "/v/a.mp4")
      out.push_back({e.start, e.end, static_cast<double>(e.frames), static_cast<double>(e.max_count)});
  return out;
}

using R = std::vector<std::vector<double>>;

// stdout only (run_command also captures stderr).
CommandResult stdout_of(const std::string& cmd) { return run_command("{ " + cmd + " 2>/dev/null; }"); }

}  // namespace

TEST(Events, GapsAndMinCountOnAKnownSequence) {
  TempDir d("events-known");
  const auto db = (d / "a.db").string();
  make_db(db);
  Store s(db, 1000, OpenMode::ReadOnly);
  // Gap 1 s: frames 1 s apart merge, the 3 s holes split.
  EXPECT_EQ(ranges(find_events(s, {"person", 1, 1.0})), (R{{0, 1, 2, 1}, {4, 5, 2, 3}, {9, 9, 1, 1}}));
  // Gap 2.5 s: still split (1 -> 4 is 3 s).
  EXPECT_EQ(ranges(find_events(s, {"person", 1, 2.5})), (R{{0, 1, 2, 1}, {4, 5, 2, 3}, {9, 9, 1, 1}}));
  // Gap 3 s: 1 -> 4 merges, 5 -> 9 (4 s) does not.
  EXPECT_EQ(ranges(find_events(s, {"person", 1, 3.0})), (R{{0, 5, 4, 3}, {9, 9, 1, 1}}));
  // Gap 0: every frame on its own.
  EXPECT_EQ(ranges(find_events(s, {"person", 1, 0.0})).size(), 5u);
  // At least 2 or 3 persons in the frame.
  EXPECT_EQ(ranges(find_events(s, {"person", 2, 1.0})), (R{{4, 5, 2, 3}}));
  EXPECT_EQ(ranges(find_events(s, {"person", 3, 10.0})), (R{{5, 5, 1, 3}}));
  EXPECT_TRUE(find_events(s, {"person", 4, 10.0}).empty());  // only the running video has 4
  EXPECT_EQ(ranges(find_events(s, {"car", 1, 1.0})), (R{{2, 3, 2, 1}}));
  // The other settings key is its own video row.
  EXPECT_EQ(ranges(find_events(s, {"person", 1, 1.0}), "key2"), (R{{0, 0, 1, 1}}));
  for (const auto& e : find_events(s, {"person", 1, 1.0})) EXPECT_NE(e.path, "/v/b.mp4");
  EXPECT_THROW(find_events(s, {"person", 0, 1.0}), std::invalid_argument);
  EXPECT_THROW(find_events(s, {"person", 1, -1.0}), std::invalid_argument);
}

TEST(Events, ViewHoldsTheDefaultRangesOfEveryLabel) {
  TempDir d("events-view");
  const auto db = (d / "a.db").string();
  make_db(db);
  Store s(db, 1000, OpenMode::ReadOnly);
  for (const std::string label : {"person", "car"}) {
    std::vector<std::vector<std::string>> expected;
    for (const auto& e : find_events(s, {label, kDefaultEventMinCount, kDefaultEventGap}))
      expected.push_back({std::to_string(e.video_id), e.settings_key, std::to_string(e.first_frame),
                          std::to_string(e.last_frame), std::to_string(e.frames), std::to_string(e.max_count)});
    auto rows = s.query(
        "SELECT video_id, settings_key, first_frame, last_frame, frames, max_count FROM label_events WHERE label=? "
        "ORDER BY path, settings_key, video_id, start_ts",
        {label});
    EXPECT_EQ(rows, expected) << label;
    EXPECT_FALSE(rows.empty()) << label;
  }
  EXPECT_EQ(
      s.query("SELECT start_ts, end_ts, duration FROM label_events WHERE label='person' AND "
              "settings_key='key1' ORDER BY start_ts"),
      (std::vector<std::vector<std::string>>{{"0.0", "1.0", "1.0"}, {"4.0", "5.0", "1.0"}, {"9.0", "9.0", "0.0"}}));
}

TEST(Events, CommandPrintsJsonAndTableAndNeverCreatesTheDatabase) {
  TempDir d("events-cli");
  const auto db = (d / "a.db").string();
  make_db(db);
  const std::string bin = sh_quote(vidsift_binary());
  auto r = stdout_of(bin + " events " + sh_quote(db) + " --label person --gap 3 --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j["events"].size(), 3u) << r.output;  // key1: 0-5, 9-9; key2: 0-0
  EXPECT_EQ(j["gap"], 3.0);
  EXPECT_EQ(j["events"][0]["start"], 0.0);
  EXPECT_EQ(j["events"][0]["end"], 5.0);
  EXPECT_EQ(j["events"][0]["max_count"], 3);
  EXPECT_EQ(j["events"][0]["frames"], 4);
  EXPECT_EQ(j["events"][0]["settings_key"], "key1");

  r = run_command(bin + " events --db " + sh_quote(db) + " --label person --min-count 2");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("/v/a.mp4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("0:00:04.00"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("0:00:05.00"), std::string::npos) << r.output;

  // Gap 0 s with frames 1 s apart: every range is one frame, and a hint says why.
  r = run_command(bin + " events " + sh_quote(db) + " --label person --gap 0");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("raise --gap"), std::string::npos) << r.output;

  r = run_command(bin + " events " + sh_quote(db) + " --label persn");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("labels found: person, car"), std::string::npos) << r.output;

  EXPECT_EQ(run_command(bin + " events " + sh_quote(db)).status, 2);  // no --label
  EXPECT_EQ(run_command(bin + " events " + sh_quote(db) + " --label person --gap -1").status, 2);
  EXPECT_EQ(run_command(bin + " events " + sh_quote(db) + " --label person --min-count 0").status, 2);
  const fs::path missing = d / "missing.db";
  EXPECT_EQ(run_command(bin + " events " + sh_quote(missing.string()) + " --label person").status, 3);
  EXPECT_FALSE(fs::exists(missing));
}

TEST(Events, VtestPersonsFormOneRangeAndCrowdsMatchTheFrames) {
  TempDir d("events-vtest");
  const auto db = d / "v.db";
  const std::string bin = sh_quote(vidsift_binary());
  auto r = run_command(bin + " run " + sh_quote(video_path("vtest.avi").string()) + " --db " + sh_quote(db.string()) +
                       " --model " + sh_quote(model_path("yolox_nano.onnx").string()) + " --every 10 --progress=false");
  ASSERT_EQ(r.status, 0) << r.output;
  // 80 frames, one a second, each with a person: one range 0 .. 79 s.
  r = stdout_of(bin + " events " + sh_quote(db.string()) + " --label person --json");
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j["events"].size(), 1u) << r.output;
  EXPECT_EQ(j["events"][0]["start"], 0.0);
  EXPECT_NEAR(j["events"][0]["end"].get<double>(), 79.0, 1e-6);
  EXPECT_EQ(j["events"][0]["frames"], 80);
  EXPECT_EQ(j["events"][0]["first_frame"], 0);
  EXPECT_EQ(j["events"][0]["last_frame"], 790);
  const long long most = query_int(
      db, "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM detections WHERE label='person' GROUP BY frame_index)");
  EXPECT_EQ(j["events"][0]["max_count"], most);

  // Crowds: frames with at least K persons, computed here from the frames
  // and compared with the command (gap 1 s joins neighbouring frames only).
  const long long k = std::max(2LL, most - 2);
  auto counts = query_db(db,
                         "SELECT f.ts, (SELECT COUNT(*) FROM detections d WHERE d.video_id=f.video_id AND "
                         "d.frame_index=f.frame_index AND d.label='person') FROM frames f ORDER BY f.ts");
  ASSERT_EQ(counts.size(), 80u);
  std::vector<std::vector<double>> expected;  // start, end, frames, max
  double last = -100;
  for (const auto& c : counts) {
    const double ts = std::stod(c[0]);
    const long long n = std::stoll(c[1]);
    if (n < k) continue;
    if (expected.empty() || ts - last > 1.0 + 1e-6) expected.push_back({ts, ts, 0, 0});
    auto& e = expected.back();
    e[1] = ts;
    e[2] += 1;
    e[3] = std::max(e[3], static_cast<double>(n));
    last = ts;
  }
  ASSERT_FALSE(expected.empty());
  r = stdout_of(bin + " events " + sh_quote(db.string()) + " --label person --gap 1 --min-count " + std::to_string(k) +
                " --json");
  ASSERT_EQ(r.status, 0) << r.output;
  j = nlohmann::json::parse(r.output);
  std::vector<std::vector<double>> got;
  for (const auto& e : j["events"])
    got.push_back(
        {e["start"].get<double>(), e["end"].get<double>(), e["frames"].get<double>(), e["max_count"].get<double>()});
  EXPECT_EQ(got, expected) << "min-count " << k << "\n" << r.output;
}
