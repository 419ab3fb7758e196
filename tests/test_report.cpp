// What a run and `vidsift report` tell the operator (src/cli/summary.cpp,
// report.cpp, log.cpp): reruns, current results, named failures, -q, exit
// statuses, log lines and JSON. Real processes on real clips and databases.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace vidsift::test;

namespace {

CommandResult run_vidsift(const std::string& args) {
  return run_command(sh_quote(vidsift_binary()) + " " + args + " --progress=false");
}

// Exit status and stdout only (stderr discarded), e.g. for --json.
CommandResult run_stdout(const std::string& args) {
  return run_command("{ " + sh_quote(vidsift_binary()) + " " + args + " 2>/dev/null; }");
}

fs::path small_clip() {
  const fs::path p = clip_cache_dir() / "report_small.mp4";
  EXPECT_TRUE(
      make_clip(p, "-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 50 -c:v libx264 -g 25 -pix_fmt yuv420p"));
  return p;
}

// vtest.avi every 100th frame: 8 frames with people, a few seconds.
std::string vtest_args(const fs::path& db) {
  return "run " + sh_quote(video_path("vtest.avi").string()) + " --db " + sh_quote(db.string()) + " --every 100";
}

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The README's "what failed" query.
const char* kWhatFailed = "SELECT path, status, error FROM videos WHERE status IN ('failed','partial')";

}  // namespace

// Item 2: asking the same question twice shows the results that exist,
// not "detections 0"; `report` shows the database's current results, not the
// empty last run.
TEST(Report, RerunThatSkipsEverythingShowsTheExistingResults) {
  TempDir d("report-rerun");
  const fs::path db = d / "r.db";
  const auto first = run_vidsift(vtest_args(db));
  ASSERT_EQ(first.status, 0) << first.output;
  const auto again = run_vidsift(vtest_args(db));
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_TRUE(has(again.output, "nothing new to analyse: all 1 input(s) were analysed before")) << again.output;
  const long long dets = query_int(db, "SELECT COUNT(*) FROM detections");
  ASSERT_GT(dets, 0);
  EXPECT_TRUE(has(again.output, "results for these 1 input(s) and settings: 1 done; frames analysed 8, detections " +
                                    std::to_string(dets)))
      << again.output;
  EXPECT_TRUE(has(again.output, "top labels: person")) << again.output;

  const auto rep = run_vidsift("report " + sh_quote(db.string()));
  EXPECT_EQ(rep.status, 0) << rep.output;
  EXPECT_TRUE(has(rep.output, "1 video(s): 1 done; frames analysed 8, detections " + std::to_string(dets)))
      << rep.output;
  EXPECT_TRUE(has(rep.output, "top labels: person")) << rep.output;
}

// Item 3: --retry-failed replaces the earlier failure: one row per file and
// settings, so the README's query lists the file once and report counts files.
TEST(Report, RetryFailedKeepsOneRowPerFile) {
  TempDir d("report-retry");
  std::ofstream(d / "bad.mp4") << std::string(4096, 'x');
  const fs::path db = d / "r.db";
  const std::string args = "run " + sh_quote(small_clip().string()) + " " + sh_quote((d / "bad.mp4").string()) +
                           " --db " + sh_quote(db.string()) + " --every 25";
  ASSERT_EQ(run_vidsift(args).status, 1);
  for (int i = 0; i < 2; ++i) {
    const auto r = run_vidsift(args + " --retry-failed");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_TRUE(has(r.output, "failed in this run: " + (d / "bad.mp4").string())) << r.output;
  }
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos WHERE path LIKE '%bad.mp4'"), 1);
  EXPECT_EQ(query_db(db, kWhatFailed).size(), 1u);
  const auto rep = run_stdout("report --json --db " + sh_quote(db.string()));
  ASSERT_EQ(rep.status, 0) << rep.output;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(rep.output)) << rep.output;
  EXPECT_EQ(j["results"]["by_status"]["failed"], 1) << rep.output;
  EXPECT_EQ(j["results"]["by_status"]["done"], 1) << rep.output;
  EXPECT_EQ(j["videos"].size(), 2u) << rep.output;
}

// Item 3, the other way round: a file whose latest attempt failed is not
// skipped as "done" by --retry-failed because an older attempt was done.
TEST(Report, FailureAfterDoneIsTheCurrentResult) {
  TempDir d("report-fail-after-done");
  const fs::path clip = d / "clip.mp4";
  fs::copy_file(small_clip(), clip);
  const fs::path db = d / "r.db";
  const std::string args = "run " + sh_quote(clip.string()) + " --db " + sh_quote(db.string()) + " --every 25";
  ASSERT_EQ(run_vidsift(args).status, 0);
  // Make the stored done row look older than a failure of the same file.
  fs::remove(clip);
  auto gone = run_vidsift(args);
  EXPECT_EQ(gone.status, 1) << gone.output;
  EXPECT_TRUE(has(gone.output, "failed in this run: " + clip.string())) << gone.output;
  // The failure did not delete the earlier results.
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos WHERE status='done'"), 1);
  const auto rep = run_vidsift("report " + sh_quote(db.string()));
  EXPECT_TRUE(has(rep.output, "1 video(s): 1 failed")) << rep.output;
}

// Item 4: every run names each video failed now, and when it failed; counts
// add up to the inputs; --json lists every input.
TEST(Report, EveryRunNamesCurrentFailures) {
  TempDir d("report-named");
  std::ofstream(d / "bad.mp4") << std::string(4096, 'x');
  const fs::path db = d / "r.db";
  const std::string args = "run " + sh_quote(small_clip().string()) + " " + sh_quote((d / "bad.mp4").string()) +
                           " --db " + sh_quote(db.string()) + " --every 25";
  ASSERT_EQ(run_vidsift(args).status, 1);
  const auto again = run_vidsift(args);
  EXPECT_EQ(again.status, 1) << again.output;
  EXPECT_TRUE(has(again.output, "failed before (run 1): " + (d / "bad.mp4").string() + ": cannot open video"))
      << again.output;
  EXPECT_TRUE(has(again.output, "inputs=2 done=0 partial=0 failed=1 skipped=1 unfinished=0")) << again.output;

  const auto js = run_stdout(args + " --json");
  EXPECT_EQ(js.status, 1);
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(js.output)) << js.output;
  ASSERT_EQ(j["videos"].size(), 2u) << js.output;
  EXPECT_EQ(j["inputs"], 2);
  for (const auto& v : j["videos"]) {
    if (has(v["path"].get<std::string>(), "bad.mp4")) {
      EXPECT_EQ(v["status"], "failed");
      EXPECT_EQ(v["run_id"], 1);
      EXPECT_TRUE(has(v["error"].get<std::string>(), "cannot open video")) << v.dump();
    } else {
      EXPECT_EQ(v["status"], "done");
      EXPECT_EQ(v["frames_analysed"], 2);
    }
  }
}

// Item 5: -q is quiet, not silent on failure.
TEST(Report, QuietStillNamesFailures) {
  TempDir d("report-quiet");
  std::ofstream(d / "bad.mp4") << std::string(4096, 'x');
  const auto ok =
      run_vidsift("run " + sh_quote(small_clip().string()) + " -q --every 25 --db " + sh_quote((d / "ok.db").string()));
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_EQ(ok.output, "");
  const auto bad = run_vidsift("run " + sh_quote(small_clip().string()) + " " + sh_quote((d / "bad.mp4").string()) +
                               " -q --every 25 --db " + sh_quote((d / "bad.db").string()));
  EXPECT_EQ(bad.status, 1) << bad.output;
  EXPECT_TRUE(has(bad.output, "failed in this run: " + (d / "bad.mp4").string())) << bad.output;
  EXPECT_TRUE(has(bad.output, "vidsift: summary run=1 status=finished exit=1")) << bad.output;
  EXPECT_FALSE(has(bad.output, "stage ")) << bad.output;  // no table
}

// Item 6: nothing analysed is visible: an empty directory, --start beyond the
// end of the clip.
TEST(Report, EmptyDirectoryWarnsAndExitsFour) {
  TempDir d("report-empty");
  fs::create_directory(d / "share");
  const auto r = run_vidsift("run " + sh_quote((d / "share").string()) + " -q --db " + sh_quote((d / "e.db").string()));
  EXPECT_EQ(r.status, 4) << r.output;
  EXPECT_TRUE(has(r.output, "warning: no video files found in directory " + (d / "share").string())) << r.output;
  EXPECT_TRUE(has(r.output, "inputs=0")) << r.output;
}

TEST(Report, StartBeyondTheEndWarnsAndExitsFour) {
  TempDir d("report-start");
  const auto r =
      run_vidsift("run " + sh_quote(small_clip().string()) + " --start 100 --db " + sh_quote((d / "s.db").string()));
  EXPECT_EQ(r.status, 4) << r.output;
  EXPECT_TRUE(has(r.output, "warning: no frame analysed in " + small_clip().string() +
                                ": --start 100 s is at or beyond the end of the clip"))
      << r.output;
  // With another clip that has frames, the run succeeds, still naming it.
  const auto mixed =
      run_vidsift("run " + sh_quote(small_clip().string()) + " " + sh_quote(video_path("vtest.avi").string()) +
                  " --start 30 --every 100 --db " + sh_quote((d / "m.db").string()));
  EXPECT_EQ(mixed.status, 0) << mixed.output;
  EXPECT_TRUE(has(mixed.output, "warning: no frame analysed in " + small_clip().string())) << mixed.output;
}

// Item 7: report takes the database positionally, never creates or changes
// one, speaks JSON and reports a chosen run, video or time range.
TEST(Report, ReportArgumentsAndScopes) {
  TempDir d("report-args");
  std::ofstream(d / "bad.mp4") << std::string(4096, 'x');
  const fs::path db = d / "e.db";
  ASSERT_EQ(run_vidsift(vtest_args(db)).status, 0);
  ASSERT_EQ(run_vidsift("run " + sh_quote((d / "bad.mp4").string()) + " --db " + sh_quote(db.string()) + " --every 100")
                .status,
            1);
  const auto size_before = fs::file_size(db);

  const auto pos =
      run_command("cd " + sh_quote(d.path().string()) + " && " + sh_quote(vidsift_binary()) + " report e.db");
  EXPECT_EQ(pos.status, 0) << pos.output;
  EXPECT_TRUE(has(pos.output, "2 video(s): 1 done, 1 failed")) << pos.output;
  EXPECT_FALSE(fs::exists(d / "vidsift.db"));

  const auto none =
      run_command("cd " + sh_quote(d.path().string()) + " && " + sh_quote(vidsift_binary()) + " report nosuch.db");
  EXPECT_NE(none.status, 0) << none.output;
  EXPECT_FALSE(fs::exists(d / "nosuch.db"));

  nlohmann::json j;
  auto run1 = run_stdout("report " + sh_quote(db.string()) + " --run 1 --json");
  EXPECT_EQ(run1.status, 0);
  ASSERT_NO_THROW(j = nlohmann::json::parse(run1.output)) << run1.output;
  ASSERT_EQ(j["videos"].size(), 1u) << run1.output;
  EXPECT_GT(j["videos"][0]["labels"]["person"].get<long long>(), 0) << run1.output;
  EXPECT_EQ(j["runs"][0]["run_id"], 1);

  auto vid =
      run_stdout("report " + sh_quote(db.string()) + " --video " + sh_quote((d / "bad.mp4").string()) + " --json");
  EXPECT_EQ(vid.status, 0);
  ASSERT_NO_THROW(j = nlohmann::json::parse(vid.output)) << vid.output;
  ASSERT_EQ(j["videos"].size(), 1u) << vid.output;
  EXPECT_EQ(j["videos"][0]["status"], "failed");

  auto future = run_stdout("report " + sh_quote(db.string()) + " --since 2999-01-01 --json");
  EXPECT_EQ(future.status, 4) << future.output;
  ASSERT_NO_THROW(j = nlohmann::json::parse(future.output)) << future.output;
  EXPECT_EQ(j["videos"].size(), 0u);
  auto past = run_stdout("report " + sh_quote(db.string()) + " --since 2000-01-01 --until 2999-01-01 --json");
  EXPECT_EQ(past.status, 0) << past.output;
  ASSERT_NO_THROW(j = nlohmann::json::parse(past.output)) << past.output;
  EXPECT_EQ(j["videos"].size(), 2u);
  EXPECT_EQ(j["runs"].size(), 2u);

  EXPECT_EQ(run_vidsift("report " + sh_quote(db.string()) + " --run 99").status, 4);
  EXPECT_EQ(run_vidsift("report " + sh_quote(db.string()) + " --since yesterday").status, 2);
  EXPECT_EQ(run_vidsift("report " + sh_quote(db.string()) + " --db " + sh_quote(db.string())).status, 2);
  EXPECT_EQ(fs::file_size(db), size_before);
}

// Log lines for cron: a timestamp on every line when stderr is not a
// terminal, one line per finished video, and a final summary line.
TEST(Report, LogLinesForCron) {
  TempDir d("report-log");
  std::ofstream(d / "bad.mp4") << std::string(4096, 'x');
  const auto r = run_vidsift("run " + sh_quote(small_clip().string()) + " " + sh_quote((d / "bad.mp4").string()) +
                             " --every 25 --db " + sh_quote((d / "l.db").string()));
  EXPECT_EQ(r.status, 1) << r.output;
  const std::regex stamp(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ .*)");
  const auto lines = lines_of(r.output);
  ASSERT_FALSE(lines.empty());
  for (const auto& l : lines) EXPECT_TRUE(std::regex_match(l, stamp)) << l;
  const std::regex done(R"(.* vidsift: video done frames=2 detections=0 seconds=\d+\.\d .*report_small\.mp4$)");
  const std::regex failed(
      R"(.* vidsift: video failed frames=0 detections=0 seconds=\d+\.\d .*bad\.mp4: cannot open.*)");
  int n_done = 0, n_failed = 0;
  for (const auto& l : lines) {
    n_done += std::regex_match(l, done);
    n_failed += std::regex_match(l, failed);
  }
  EXPECT_EQ(n_done, 1) << r.output;
  EXPECT_EQ(n_failed, 1) << r.output;
  const std::regex summary(
      R"(.* vidsift: summary run=1 status=finished exit=1 inputs=2 done=1 partial=0 failed=1 skipped=0 )"
      R"(unfinished=0 frames=2 detections=0 seconds=\d+\.\d db=.*l\.db$)");
  EXPECT_TRUE(std::regex_match(lines.back(), summary)) << lines.back();
}

// --json lists each video with id, path, status, error, frames and per-label
// counts.
TEST(Report, JsonHasPerVideoResults) {
  TempDir d("report-json");
  const fs::path db = d / "j.db";
  const auto r = run_stdout(vtest_args(db) + " --json --progress=false");
  ASSERT_EQ(r.status, 0) << r.output;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.output)) << r.output;
  ASSERT_EQ(j["videos"].size(), 1u) << r.output;
  const auto& v = j["videos"][0];
  EXPECT_EQ(v["id"], query_int(db, "SELECT id FROM videos"));
  EXPECT_EQ(v["path"], video_path("vtest.avi").string());
  EXPECT_EQ(v["status"], "done");
  EXPECT_EQ(v["error"], "");
  EXPECT_EQ(v["frames_analysed"], 8);
  EXPECT_EQ(v["labels"]["person"].get<long long>(),
            query_int(db, "SELECT COUNT(*) FROM detections WHERE label='person'"));
  EXPECT_EQ(v["detections"].get<long long>(), query_int(db, "SELECT COUNT(*) FROM detections"));
  EXPECT_EQ(j["results"]["labels"]["person"], v["labels"]["person"]);
}
