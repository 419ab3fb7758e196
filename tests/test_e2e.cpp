// End-to-end tests of the `vidsift` CLI: real processes, real FFmpeg decoding,
// the real models from ../shared/models, real SQLite files.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report.h"
#include "test_util.h"
#include "vidsift/store.h"

namespace fs = std::filesystem;
using namespace vidsift::test;

namespace {

std::vector<std::vector<std::string>> q(const fs::path& db, const std::string& sql) { return query_db(db, sql); }
long long q1(const fs::path& db, const std::string& sql) { return query_int(db, sql); }

CommandResult run_vidsift(const std::string& args) {
  return run_command(sh_quote(vidsift_binary()) + " " + args + " --progress=false");
}

// Runs vidsift and returns its exit status and its stdout only (stderr is
// discarded), e.g. for --json.
CommandResult run_vidsift_stdout(const std::string& args) {
  return run_command("{ " + sh_quote(vidsift_binary()) + " " + args + " --progress=false 2>/dev/null; }");
}

fs::path vtest() { return video_path("vtest.avi"); }

// Runs one statement on a SQLite file with read-write access, binding the
// given doubles (?1, ?2, ...).
void exec_db(const fs::path& db, const std::string& sql, const std::vector<double>& params = {}) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK) << db;
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> conn(raw, sqlite3_close);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(st, sqlite3_finalize);
  for (std::size_t i = 0; i < params.size(); ++i) sqlite3_bind_double(st, static_cast<int>(i + 1), params[i]);
  ASSERT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(raw);
}

// Small synthetic H.264 clip, cached across tests.
fs::path small_clip() {
  const fs::path p = clip_cache_dir() / "e2e_small.mp4";
  EXPECT_TRUE(
      make_clip(p, "-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 50 -c:v libx264 -g 25 -pix_fmt yuv420p"));
  return p;
}

void expect_person_run(const fs::path& db, int frames) {
  EXPECT_EQ(q1(db, "SELECT COUNT(*) FROM frames"), frames);
  EXPECT_EQ(q1(db, "SELECT frames_analysed FROM videos"), frames);
  // Every analysed frame has at least one person with confidence >= 0.3.
  EXPECT_EQ(q1(db,
               "SELECT COUNT(*) FROM frames f WHERE NOT EXISTS (SELECT 1 FROM detections d WHERE "
               "d.video_id=f.video_id AND d.frame_index=f.frame_index AND d.label='person' AND d.confidence>=0.3)"),
            0);
}

}  // namespace

class VtestYolox : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("e2e-yolox");
    db_ = dir_->path() / "run.db";
    result_ = run_vidsift("run " + sh_quote(vtest().string()) + " --db " + sh_quote(db_.string()) + " --model " +
                          sh_quote(model_path("yolox_nano.onnx").string()) + " --every 10");
  }
  static void TearDownTestSuite() { dir_.reset(); }
  static inline std::unique_ptr<TempDir> dir_;
  static inline fs::path db_;
  static inline CommandResult result_;
};

TEST_F(VtestYolox, ExitsZeroAndPrintsSummary) {
  EXPECT_EQ(result_.status, 0) << result_.output;
  EXPECT_NE(result_.output.find("1 done"), std::string::npos) << result_.output;
  EXPECT_NE(result_.output.find("person"), std::string::npos) << result_.output;
}

TEST_F(VtestYolox, EightyFramesEachWithAPerson) {
  expect_person_run(db_, 80);
  auto idx = q(db_, "SELECT frame_index, ts FROM frames ORDER BY frame_index");
  ASSERT_EQ(idx.size(), 80u);
  for (std::size_t i = 0; i < idx.size(); ++i) {
    EXPECT_EQ(std::stoll(idx[i][0]), static_cast<long long>(i * 10));
    EXPECT_NEAR(std::stod(idx[i][1]), static_cast<double>(i), 1e-6);  // 10 fps, every 10th frame
  }
}

TEST_F(VtestYolox, BoxesInsideTheFrame) {
  EXPECT_GT(q1(db_, "SELECT COUNT(*) FROM detections"), 0);
  EXPECT_EQ(q1(db_,
               "SELECT COUNT(*) FROM detections WHERE x < 0 OR y < 0 OR w <= 0 OR h <= 0 OR x + w > 768.001 "
               "OR y + h > 576.001"),
            0);
}

TEST_F(VtestYolox, VideoRowDescribesTheFile) {
  auto v = q(db_, "SELECT status, width, height, codec, fps, frame_count, error IS NULL FROM videos");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0][0], "done");
  EXPECT_EQ(v[0][1], "768");
  EXPECT_EQ(v[0][2], "576");
  EXPECT_EQ(v[0][3], "msmpeg4");
  EXPECT_NEAR(std::stod(v[0][4]), 10.0, 1e-6);
  EXPECT_EQ(v[0][5], "795");
  EXPECT_EQ(v[0][6], "1");
}

TEST_F(VtestYolox, ViewsReturnRows) {
  EXPECT_GT(q1(db_, "SELECT COUNT(*) FROM per_video_label_counts WHERE label='person'"), 0);
  EXPECT_EQ(q1(db_, "SELECT frames_with_label FROM per_video_label_counts WHERE label='person'"), 80);
  // 79.5 s of video: minutes 0 and 1.
  EXPECT_EQ(q1(db_, "SELECT COUNT(*) FROM per_minute_label_counts WHERE label='person'"), 2);
  EXPECT_EQ(q1(db_, "SELECT SUM(frames_analysed) FROM per_minute_label_counts WHERE label='person'"), 80);
}

TEST_F(VtestYolox, TimingRowsForEveryStage) {
  for (const char* stage : {"decode", "preprocess", "infer", "postprocess", "store"}) {
    const std::string s = stage;
    EXPECT_EQ(q1(db_, "SELECT COUNT(*) FROM timings WHERE video_id IS NULL AND stage='" + s + "'"), 1) << s;
    EXPECT_EQ(q1(db_, "SELECT COUNT(*) FROM timings WHERE video_id IS NOT NULL AND stage='" + s + "'"), 1) << s;
    EXPECT_GE(q1(db_, "SELECT frames FROM timings WHERE video_id IS NULL AND stage='" + s + "'"), 80) << s;
  }
  EXPECT_EQ(q1(db_,
               "SELECT COUNT(*) FROM timings WHERE stage='infer' AND total_s > 0 AND p95_ms >= p50_ms AND "
               "max_ms >= p95_ms"),
            2);
}

TEST_F(VtestYolox, TimingsAddUpToTheWallTime) {
  // Each stage runs on a known number of threads (runs.execution), so its
  // busy time can never exceed wall time x those threads; and together the
  // stages account for most of the wall time (nothing big goes unmeasured).
  const auto r = q(db_,
                   "SELECT wall_seconds, json_extract(execution,'$.workers'), json_extract(execution,'$.decoders'), "
                   "json_extract(execution,'$.cores') FROM runs");
  ASSERT_EQ(r.size(), 1u);
  const double wall = std::stod(r[0][0]);
  const int workers = std::stoi(r[0][1]);
  const int decoders = std::stoi(r[0][2]);
  EXPECT_GE(std::stoi(r[0][3]), 1);
  EXPECT_EQ(decoders, 1);  // one video
  auto total = [&](const std::string& stage) {
    return std::stod(q(db_, "SELECT total_s FROM timings WHERE video_id IS NULL AND stage='" + stage + "'")[0][0]);
  };
  const double slack = 1.02;
  EXPECT_LE(total("infer"), wall * workers * slack);
  EXPECT_LE(total("decode") + total("preprocess"), wall * decoders * slack);
  EXPECT_LE(total("store"), wall * slack);
  const double busy = total("decode") + total("preprocess") + total("infer") + total("postprocess") + total("store");
  EXPECT_GE(busy, 0.5 * wall) << "the stage timings miss most of the run's time";
}

TEST_F(VtestYolox, RunRowRecordsModelAndSettings) {
  auto r = q(db_, "SELECT status, model_sha256, model_family, input_size, videos_done, frames_analysed FROM runs");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0][0], "finished");
  EXPECT_EQ(r[0][1], "e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd");
  EXPECT_EQ(r[0][2], "yolox");
  EXPECT_EQ(r[0][3], "416x416");
  EXPECT_EQ(r[0][4], "1");
  EXPECT_EQ(r[0][5], "80");
}

TEST_F(VtestYolox, RerunSkipsAndForceReplaces) {
  // Work on a copy so the fixture's database stays as the suite expects.
  TempDir d("e2e-rerun");
  const fs::path db = d / "copy.db";
  fs::copy_file(db_, db);
  const std::string base = "run " + sh_quote(vtest().string()) + " --db " + sh_quote(db.string()) + " --every 10";
  auto again = run_vidsift(base);
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("1 skipped"), std::string::npos) << again.output;
  EXPECT_EQ(q1(db, "SELECT COUNT(*) FROM frames"), 80);
  const long long dets = q1(db, "SELECT COUNT(*) FROM detections");

  auto forced = run_vidsift(base + " --force");
  EXPECT_EQ(forced.status, 0) << forced.output;
  EXPECT_EQ(q1(db, "SELECT COUNT(*) FROM videos"), 1);  // replaced, not added
  EXPECT_EQ(q1(db, "SELECT COUNT(*) FROM frames"), 80);
  EXPECT_EQ(q1(db, "SELECT COUNT(*) FROM detections"), dets);

  // Different settings: a new result set, never mixed with the old one.
  auto other = run_vidsift(base.substr(0, base.size() - 2) + "20");
  EXPECT_EQ(other.status, 0) << other.output;
  EXPECT_EQ(q1(db, "SELECT COUNT(*) FROM videos WHERE status='done'"), 2);
  EXPECT_EQ(q1(db, "SELECT COUNT(DISTINCT settings_key) FROM videos"), 2);
  EXPECT_EQ(
      q1(db, "SELECT COUNT(*) FROM frames f JOIN videos v ON v.id=f.video_id AND v.run_id=(SELECT MAX(id) FROM runs)"),
      40);
}

TEST(E2E, Yolov5FindsPersonsInEveryFrame) {
  TempDir d("e2e-v5");
  const fs::path db = d / "v5.db";
  auto r = run_vidsift("run " + sh_quote(vtest().string()) + " --db " + sh_quote(db.string()) + " --model " +
                       sh_quote(model_path("yolov5n.onnx").string()) + " --every 10");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(q(db, "SELECT model_family, input_size FROM runs")[0], (std::vector<std::string>{"yolov5", "640x640"}));
  expect_person_run(db, 80);
}

TEST(E2E, Yolov8FindsPersonsInEveryFrame) {
  TempDir d("e2e-v8");
  const fs::path db = d / "v8.db";
  auto r = run_vidsift("run " + sh_quote(vtest().string()) + " --db " + sh_quote(db.string()) + " --model " +
                       sh_quote(model_path("yolov8n.onnx").string()) + " --every 10");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(q(db, "SELECT model_family, input_size FROM runs")[0], (std::vector<std::string>{"yolov8", "640x640"}));
  expect_person_run(db, 80);
  EXPECT_EQ(q1(db, "SELECT COUNT(*) FROM detections WHERE x < 0 OR y < 0 OR x + w > 768.001 OR y + h > 576.001"), 0);
}

// The stock Ultralytics YOLOv8 export with --backend opencv: OpenCV before
// 4.9 (Debian 12: 4.6) cannot run it, and vidsift stops before any video with
// exit 3 and advice. OpenCV >= 4.9 (Debian 13: 4.10) runs it, and its
// detections are those of the OpenCV-compatible rebuild of the same weights.
TEST(E2E, StockYolov8FailsAtStartWithAdvice) {
  TempDir d("e2e-stock");
  const fs::path db = d / "stock.db";
  const std::string every = kOpenCvRunsStockExports ? " --every 100" : "";
  auto r = run_vidsift("run " + sh_quote(vtest().string()) + " --db " + sh_quote(db.string()) + " --model " +
                       sh_quote(model_path("yolov8n_stock.onnx").string()) + " --backend opencv" + every);
  if (kOpenCvRunsStockExports) {
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("on opencv-dnn (OpenCV "), std::string::npos) << r.output;
    EXPECT_EQ(q1(db, "SELECT frames_analysed FROM videos WHERE status='done'"), 8);
    const fs::path rebuild = d / "rebuild.db";
    auto rr = run_vidsift("run " + sh_quote(vtest().string()) + " --db " + sh_quote(rebuild.string()) + " --model " +
                          sh_quote(model_path("yolov8n.onnx").string()) + " --backend opencv" + every);
    ASSERT_EQ(rr.status, 0) << rr.output;
    // The same boxes: same frame and class, corners within 1 pixel.
    const std::string sql = "SELECT frame_index, class_id, x, y, x + w, y + h FROM detections ORDER BY 1, 2, 3, 4";
    const auto a = q(db, sql);
    const auto b = q(rebuild, sql);
    EXPECT_GT(a.size(), 20u);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i][0], b[i][0]);
      EXPECT_EQ(a[i][1], b[i][1]);
      for (int c = 2; c < 6; ++c) EXPECT_NEAR(std::stod(a[i][c]), std::stod(b[i][c]), 1.0) << "detection " << i;
    }
    return;
  }
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("yolov8n_stock.onnx"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("OpenCV 4."), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(">= 4.9"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("YOLOX"), std::string::npos) << r.output;
  // Stopped before any video: nothing analysed.
  EXPECT_FALSE(fs::exists(db) && q1(db, "SELECT COUNT(*) FROM videos") > 0);
}

TEST(E2E, GoodClipAndGarbageFile) {
  TempDir d("e2e-garbage");
  fs::create_directories(d / "in");
  fs::copy_file(small_clip(), d / "in" / "good.mp4");
  {
    std::ofstream g(d / "in" / "garbage.mp4", std::ios::binary);
    for (int i = 0; i < 100000; ++i) g.put(static_cast<char>((i * 7919 + 13) % 251));
  }
  const fs::path db = d / "g.db";
  auto r = run_vidsift("run " + sh_quote((d / "in").string()) + " --db " + sh_quote(db.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_EQ(q1(db, "SELECT COUNT(*) FROM videos WHERE status='done' AND path LIKE '%good.mp4'"), 1);
  EXPECT_EQ(q1(db,
               "SELECT COUNT(*) FROM videos WHERE status='failed' AND path LIKE '%garbage.mp4' AND "
               "length(error) > 5"),
            1);
  EXPECT_EQ(q1(db, "SELECT frames_analysed FROM videos WHERE path LIKE '%good.mp4'"), 50);
  EXPECT_NE(r.output.find("garbage.mp4"), std::string::npos) << r.output;
}

TEST(E2E, ListFileConfigFileAndClassFilter) {
  TempDir d("e2e-config");
  const fs::path clip = d / "clip one.mp4";  // a space in the name
  fs::copy_file(small_clip(), clip);
  {
    std::ofstream l(d / "list.txt");
    l << "# videos for tonight\n\n" << vtest().string() << "\nclip one.mp4\n";
  }
  {
    std::ofstream c(d / "job.ini");
    c << "# nightly job\nevery = 20\nclasses = person\nconf = 0.3\n";
  }
  const fs::path db = d / "c.db";
  auto r = run_vidsift("run @" + sh_quote((d / "list.txt").string()) + " --config " +
                       sh_quote((d / "job.ini").string()) + " --db " + sh_quote(db.string()));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(q1(db, "SELECT COUNT(*) FROM videos WHERE status='done'"), 2);
  EXPECT_EQ(q1(db, "SELECT frames_analysed FROM videos WHERE path LIKE '%vtest.avi'"), 40);
  EXPECT_EQ(q1(db, "SELECT frames_analysed FROM videos WHERE path LIKE '%clip one.mp4'"), 3);
  EXPECT_EQ(q1(db, "SELECT COUNT(*) FROM detections WHERE label <> 'person' OR confidence < 0.3"), 0);
  EXPECT_GT(q1(db, "SELECT COUNT(*) FROM detections"), 40);
}

TEST(E2E, UsageErrorsExitTwo) {
  EXPECT_EQ(run_vidsift("run --no-such-option x.mp4").status, 2);
  EXPECT_EQ(run_vidsift("run").status, 2);
  EXPECT_EQ(run_vidsift("frobnicate").status, 2);
  EXPECT_EQ(run_vidsift("run x.mp4 --every 0").status, 2);
  EXPECT_EQ(run_vidsift("run x.mp4 --fps 2 --every 3").status, 2);
  auto r = run_vidsift("run x.mp4 --classes person,unicorn");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("unicorn"), std::string::npos) << r.output;
  EXPECT_EQ(run_vidsift("--help").status, 0);
}

TEST(E2E, CannotStartExitsThree) {
  TempDir d("e2e-start");
  auto r = run_vidsift("run " + sh_quote(vtest().string()) + " --db " + sh_quote((d / "x.db").string()) +
                       " --model no_such_model.onnx");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("no_such_model.onnx"), std::string::npos);
  // A database path that is a directory.
  fs::create_directories(d / "dir.db");
  r = run_vidsift("run " + sh_quote(vtest().string()) + " --db " + sh_quote((d / "dir.db").string()));
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("dir.db"), std::string::npos) << r.output;
}

TEST(E2E, MissingInputIsAFailedRow) {
  TempDir d("e2e-missing");
  const fs::path db = d / "m.db";
  auto r = run_vidsift("run " + sh_quote((d / "nope.mp4").string()) + " " + sh_quote(small_clip().string()) + " --db " +
                       sh_quote(db.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_EQ(q1(db, "SELECT COUNT(*) FROM videos WHERE status='failed' AND path LIKE '%nope.mp4'"), 1);
  EXPECT_EQ(q1(db, "SELECT COUNT(*) FROM videos WHERE status='done'"), 1);
}

// --json must stay valid JSON whatever bytes a path holds: invalid UTF-8
// (escaped reversibly, as in the database: \xHH), quotes and newlines
// (JSON-escaped).
TEST(E2E, JsonSummaryParsesWithOddPaths) {
  TempDir d("e2e-json-odd");
  const std::string odd = "odd \xff\xfe \"quoted\"\nline \xc3.mp4";
  fs::copy_file(small_clip(), d / odd);
  const fs::path missing = d / "gone \xff\".mp4";
  const fs::path db = d / "j.db";
  auto r = run_vidsift_stdout("run " + sh_quote((d / odd).string()) + " " + sh_quote(missing.string()) + " --db " +
                              sh_quote(db.string()) + " --every 25 --json");
  EXPECT_EQ(r.status, 1) << r.output;  // the missing input failed
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.output)) << r.output;
  ASSERT_TRUE(j["videos"].is_array()) << j.dump();
  ASSERT_EQ(j["videos"].size(), 2u) << j.dump();
  bool saw_odd = false, saw_missing = false;
  for (const auto& v : j["videos"]) {
    const std::string path = v["path"].get<std::string>();
    if (path.find("\"quoted\"\nline ") != std::string::npos) {
      saw_odd = true;
      EXPECT_NE(path.find("odd \\xff\\xfe \"quoted\"\nline \\xc3.mp4"), std::string::npos) << path;  // escaped
      EXPECT_EQ(v["status"], "done");
      EXPECT_EQ(v["frames_analysed"], 2);
    } else if (path.find("gone ") != std::string::npos) {
      saw_missing = true;
      EXPECT_EQ(v["status"], "failed");
      EXPECT_EQ(v["error"], "no such file or directory");
    }
  }
  EXPECT_TRUE(saw_odd) << j.dump();
  EXPECT_TRUE(saw_missing) << j.dump();
  EXPECT_EQ(j["videos_done"], 1);
  EXPECT_EQ(j["videos_failed"], 1);
}

// Counts are integers in the JSON summary, however large, and wall_seconds
// keeps every bit of the double stored in the database.
TEST(E2E, JsonSummaryKeepsLargeCountsAndExactSeconds) {
  TempDir d("e2e-json-numbers");
  const fs::path db = d / "n.db";
  auto r = run_vidsift("run " + sh_quote(small_clip().string()) + " --db " + sh_quote(db.string()) + " --every 25");
  ASSERT_EQ(r.status, 0) << r.output;
  const double wall = 0.1 + 0.2;  // 0.30000000000000004: needs 17 digits
  exec_db(db,
          "UPDATE runs SET detections=1234567, frames_analysed=9007199254740993, videos_done=2000000, "
          "wall_seconds=?1",
          {wall});
  exec_db(db, "UPDATE videos SET frames_analysed=3000001");
  const long long run_id = q1(db, "SELECT MAX(id) FROM runs");

  vidsift::Store store(db.string());
  const std::string text = vidsift::cli::run_summary_json(store, run_id);
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(text)) << text;
  EXPECT_EQ(j["run_id"], run_id);
  EXPECT_TRUE(j["detections"].is_number_integer()) << text;
  EXPECT_EQ(j["detections"], 1234567) << text;
  EXPECT_EQ(j["frames_analysed"].get<long long>(), 9007199254740993LL) << text;
  EXPECT_EQ(j["videos_done"], 2000000) << text;
  EXPECT_TRUE(j["videos_failed"].is_number_integer()) << text;
  EXPECT_EQ(j["videos_failed"], 0) << text;
  ASSERT_TRUE(j["wall_seconds"].is_number_float()) << text;
  EXPECT_EQ(j["wall_seconds"].get<double>(), wall) << text;
  ASSERT_EQ(j["videos"].size(), 1u) << text;
  EXPECT_TRUE(j["videos"][0]["frames_analysed"].is_number_integer()) << text;
  EXPECT_EQ(j["videos"][0]["frames_analysed"], 3000001) << text;
}

// The settings key sees every digit of the sampling numbers: --start values
// that agree in their first six digits are still different settings.
TEST(E2E, SettingsKeyKeepsEveryDigitOfStart) {
  TempDir d("e2e-key-start");
  const fs::path db = d / "s.db";
  const std::string base = "run " + sh_quote(small_clip().string()) + " --db " + sh_quote(db.string());
  // Both windows lie beyond the end of the clip: nothing analysed, exit 4.
  auto first = run_vidsift(base + " --start 100000.2");
  ASSERT_EQ(first.status, 4) << first.output;
  auto second = run_vidsift(base + " --start 100000.4");
  EXPECT_NE(second.output.find("1 done, 0 partial, 0 failed, 0 skipped"), std::string::npos) << second.output;
  EXPECT_EQ(q1(db, "SELECT COUNT(DISTINCT settings_key) FROM runs"), 2);
  EXPECT_EQ(q1(db, "SELECT COUNT(DISTINCT settings_key) FROM videos"), 2);
  EXPECT_EQ(q1(db, "SELECT COUNT(*) FROM videos WHERE run_id=(SELECT MAX(id) FROM runs)"), 1);
  // The recorded settings are JSON, with the numbers as numbers.
  const auto settings = q(db, "SELECT settings FROM runs ORDER BY id");
  ASSERT_EQ(settings.size(), 2u);
  nlohmann::json s1, s2;
  ASSERT_NO_THROW(s1 = nlohmann::json::parse(settings[0][0])) << settings[0][0];
  ASSERT_NO_THROW(s2 = nlohmann::json::parse(settings[1][0])) << settings[1][0];
  EXPECT_EQ(s1["sampling"]["start"], 100000.2) << settings[0][0];
  EXPECT_EQ(s2["sampling"]["start"], 100000.4) << settings[1][0];
  EXPECT_TRUE(s1["backend"].is_string() && !s1["backend"].get<std::string>().empty()) << settings[0][0];
  EXPECT_EQ(s1["labels_sha256"].get<std::string>().size(), 64u) << settings[0][0];
  EXPECT_EQ(s1["labels_sha256"], s2["labels_sha256"]);
}

// A corrected --labels file is a different setting: the video is analysed
// again and the new label text is what the new result set holds.
TEST(E2E, CorrectedLabelsFileReanalyses) {
  TempDir d("e2e-labels");
  std::string coco;
  {
    std::ifstream in(model_path("coco.names"));
    coco.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_EQ(coco.rfind("person\n", 0), 0u) << "coco.names should start with person";
  {
    std::ofstream typo(d / "typo.names");
    typo << "persn\n" << coco.substr(7);
    std::ofstream fixed(d / "fixed.names");
    fixed << coco;
  }
  const fs::path db = d / "l.db";
  const std::string base = "run " + sh_quote(vtest().string()) + " --db " + sh_quote(db.string()) +
                           " --every 100 --model " + sh_quote(model_path("yolox_nano.onnx").string()) + " --labels ";
  auto first = run_vidsift(base + sh_quote((d / "typo.names").string()));
  ASSERT_EQ(first.status, 0) << first.output;
  EXPECT_GT(q1(db, "SELECT COUNT(*) FROM detections WHERE label='persn'"), 0);
  auto second = run_vidsift(base + sh_quote((d / "fixed.names").string()));
  ASSERT_EQ(second.status, 0) << second.output;
  EXPECT_NE(second.output.find("1 done, 0 partial, 0 failed, 0 skipped"), std::string::npos) << second.output;
  const std::string latest =
      " FROM detections dd JOIN videos v ON v.id=dd.video_id "
      "WHERE v.run_id=(SELECT MAX(id) FROM runs)";
  EXPECT_GT(q1(db, "SELECT COUNT(*)" + latest + " AND dd.label='person'"), 0);
  EXPECT_EQ(q1(db, "SELECT COUNT(*)" + latest + " AND dd.label='persn'"), 0);
  EXPECT_EQ(q1(db, "SELECT COUNT(DISTINCT settings_key) FROM videos WHERE status='done'"), 2);
}

// An input that cannot be reached is recorded with the real reason, not a
// blanket "no such file or directory". These errors occur for root too.
TEST(E2E, UnreachableInputRecordsTheRealError) {
  TempDir d("e2e-unreachable");
  { std::ofstream(d / "plain.txt") << "x"; }
  const fs::path not_dir = d / "plain.txt" / "clip.mp4";           // ENOTDIR
  const fs::path too_long = d / (std::string(300, 'n') + ".mp4");  // ENAMETOOLONG
  fs::create_symlink(d / "loop_b.mp4", d / "loop_a.mp4");          // ELOOP
  fs::create_symlink(d / "loop_a.mp4", d / "loop_b.mp4");
  const fs::path db = d / "u.db";
  auto r = run_vidsift("run " + sh_quote(not_dir.string()) + " " + sh_quote(too_long.string()) + " " +
                       sh_quote((d / "loop_a.mp4").string()) + " " + sh_quote((d / "absent.mp4").string()) + " --db " +
                       sh_quote(db.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  auto error_of = [&](const std::string& like) {
    const auto rows = q(db, "SELECT status, error FROM videos WHERE path LIKE '%" + like + "'");
    return rows.size() == 1 ? rows[0][0] + ": " + rows[0][1]
                            : std::string("(") + std::to_string(rows.size()) + " rows)";
  };
  EXPECT_EQ(error_of("plain.txt/clip.mp4"), "failed: not a directory");
  EXPECT_EQ(error_of("nnnn.mp4"), "failed: file name too long");
  EXPECT_EQ(error_of("loop_a.mp4"), "failed: too many levels of symbolic links");
  EXPECT_EQ(error_of("absent.mp4"), "failed: no such file or directory");
}

// --- issue 10: options and inputs that lied ---------------------------------

// A cron job with an unset $DB runs `--db ''`: that, :memory: and SQLite
// URIs used to exit 0 with every result thrown away.
TEST(E2E, DbValuesThatKeepNothingAreUsageErrors) {
  TempDir d("e2e-db-memory");
  for (const std::string& db : {std::string(""), std::string(":memory:"),
                                "file:" + (d / "m.db").string() + "?mode=memory", "file:" + (d / "u.db").string()}) {
    const auto r = run_vidsift("run " + sh_quote(small_clip().string()) + " --db " + sh_quote(db));
    EXPECT_EQ(r.status, 2) << "--db '" << db << "': " << r.output;
    EXPECT_NE(r.output.find("--db"), std::string::npos) << r.output;
    const auto rep = run_vidsift("report --db " + sh_quote(db));
    EXPECT_EQ(rep.status, 2) << "report --db '" << db << "': " << rep.output;
  }
  EXPECT_TRUE(fs::is_empty(d.path()));
}

// Another application's SQLite file, with or without a `frames` table, must
// come out of `run` and `report` byte-identical (no WAL switch, no tables).
TEST(E2E, ForeignSqliteFileIsLeftByteIdentical) {
  TempDir d("e2e-foreign");
  auto bytes = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const std::vector<std::string> setups = {
      "PRAGMA user_version=1; CREATE TABLE frames(id INTEGER, data BLOB); INSERT INTO frames VALUES(1, x'00');",
      "PRAGMA application_id=42; PRAGMA user_version=3; CREATE TABLE notes(t TEXT); INSERT INTO notes VALUES('x');",
      "PRAGMA application_id=42;",
  };
  int n = 0;
  for (const auto& sql : setups) {
    const fs::path db = d / ("other" + std::to_string(n++) + ".db");
    { std::ofstream touch(db); }
    exec_db(db, "PRAGMA user_version=0");
    for (std::size_t at = 0, next; at < sql.size(); at = next + 1) {
      next = sql.find(';', at);
      exec_db(db, sql.substr(at, next - at));
    }
    const std::string before = bytes(db);
    const auto run = run_vidsift("run " + sh_quote(small_clip().string()) + " --db " + sh_quote(db.string()));
    EXPECT_EQ(run.status, 3) << sql << "\n" << run.output;
    EXPECT_NE(run.output.find("not a vidsift database"), std::string::npos) << run.output;
    EXPECT_EQ(bytes(db), before) << "run changed: " << sql;
    const auto rep = run_vidsift("report --db " + sh_quote(db.string()));
    EXPECT_EQ(rep.status, 3) << sql << "\n" << rep.output;
    EXPECT_NE(rep.output.find("not a vidsift database"), std::string::npos) << rep.output;
    EXPECT_EQ(bytes(db), before) << "report changed: " << sql;
    EXPECT_FALSE(fs::exists(db.string() + "-wal")) << sql;
  }
}

// Every numeric option is checked for finiteness and range before anything
// runs: exit 2, naming the option and its valid range.
TEST(E2E, NonFiniteOrHugeNumbersAreUsageErrors) {
  TempDir d("e2e-numbers");
  const std::string base = "run " + sh_quote(small_clip().string()) + " --db " + sh_quote((d / "n.db").string());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--db-timeout 1e10", "--db-timeout must be a number within 0..1000000"},
      {"--db-timeout inf", "--db-timeout must be a number within 0..1000000"},
      {"--db-timeout nan", "--db-timeout must be a number within 0..1000000"},
      {"--video-timeout 1e10", "--video-timeout must be a number within 0..1000000"},
      {"--video-timeout inf", "--video-timeout must be a number within 0..1000000"},
      {"--conf nan", "--conf must be a number within 0..1"},
      {"--nms nan", "--nms must be a number within (0, 1]"},
      {"--fps 1e308", "--fps must be a number within 0..1000"},
      {"--start 1e300", "--start must be a number of seconds within 0..100000000"},
      {"--end 1e300", "--end must be a number of seconds up to 100000000"},
      {"--max-det 0", "--max-det must be within 1..100000"},
      {"--input-size 1073741824", "--input-size must be a multiple of 32 within 32..8192"},
  };
  for (const auto& [args, msg] : cases) {
    const auto r = run_vidsift(base + " " + args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(msg), std::string::npos) << args << "\n" << r.output;
  }
  EXPECT_FALSE(fs::exists(d / "n.db"));
}

// Thread counts and the pool are bounded by the machine (cores, memory), and
// the message says so. --net-threads 70000 used to segfault at exit,
// --pool 1000000 to allocate until memory ran out.
TEST(E2E, ThreadAndPoolOptionsAreBoundedByTheMachine) {
  TempDir d("e2e-machine");
  const std::string base = "run " + sh_quote(small_clip().string()) + " --db " + sh_quote((d / "n.db").string());
  for (const std::string args : {"--net-threads 70000", "--decode-threads 100000"}) {
    const auto r = run_vidsift(base + " " + args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("core(s)"), std::string::npos) << args << "\n" << r.output;
  }
  const auto r = run_vidsift(base + " --pool 1000000");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--pool 1000000 needs 2.1 TB"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("memory available on this machine; use at most"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(d / "n.db"));
}

// A file name that is not UTF-8 and a --json summary: every table and view
// reads in Python's sqlite3 (which refuses invalid UTF-8 in TEXT), the JSON
// parses, and videos.path_bytes keeps the exact bytes of the name.
TEST(E2E, NonUtf8FileNameReadsInPythonAndJson) {
  TempDir d("e2e-utf8");
  const std::string name = "caf\xe9 \xff.mp4";
  fs::copy_file(small_clip(), d / name);
  const fs::path db = d / "u.db";
  const fs::path json = d / "u.json";
  const auto r =
      run_command(sh_quote(vidsift_binary()) + " run " + sh_quote((d / name).string()) + " --db " +
                  sh_quote(db.string()) + " --every 25 --json -q --progress=false > " + sh_quote(json.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string script =
      "import json, sqlite3, sys\n"
      "c = sqlite3.connect(sys.argv[1])\n"
      "for t in ['runs', 'videos', 'frames', 'detections', 'timings', 'finished_videos',\n"
      "          'per_video_label_counts', 'per_minute_label_counts']:\n"
      "    c.execute('SELECT * FROM ' + t).fetchall()\n"
      "(b,) = c.execute('SELECT path_bytes FROM videos').fetchone()\n"
      "assert b == sys.argv[3].encode('utf-8', 'surrogateescape'), b\n"
      "j = json.loads(open(sys.argv[2], 'rb').read().decode('utf-8'))\n"
      "assert j['videos'][0]['status'] == 'done', j\n"
      "print('ok', c.execute('SELECT path FROM videos').fetchone()[0])\n";
  std::ofstream(d / "check.py") << script;
  const auto py = run_command("/usr/bin/python3 " + sh_quote((d / "check.py").string()) + " " + sh_quote(db.string()) +
                              " " + sh_quote(json.string()) + " " + sh_quote((d / name).string()));
  EXPECT_EQ(py.status, 0) << py.output;
  EXPECT_NE(py.output.find("ok "), std::string::npos) << py.output;
  // A rerun finds the file by its exact bytes and skips it.
  const auto again =
      run_vidsift("run " + sh_quote((d / name).string()) + " --db " + sh_quote(db.string()) + " --every 25");
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("0 failed, 1 skipped"), std::string::npos) << again.output;
}

// A Latin-1 --labels file is refused with a clear message instead of
// putting bytes that are not UTF-8 into detections.label.
TEST(E2E, Latin1LabelsFileIsRefused) {
  TempDir d("e2e-latin1-labels");
  std::ofstream(d / "latin1.names") << "person\ncaf\xe9\n";
  const auto r = run_vidsift("run " + sh_quote(small_clip().string()) + " --db " + sh_quote((d / "l.db").string()) +
                             " --labels " + sh_quote((d / "latin1.names").string()));
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("is not UTF-8 (byte 0xE9 on line 2)"), std::string::npos) << r.output;
}

// --family yolov8 on a YOLOX model used to give `done` with 0 detections.
TEST(E2E, FamilyOverrideThatCannotMatchTheModelExitsThree) {
  TempDir d("e2e-family");
  const auto r = run_vidsift("run " + sh_quote(small_clip().string()) + " --db " + sh_quote((d / "f.db").string()) +
                             " --model " + sh_quote(model_path("yolox_nano.onnx").string()) + " --family yolov8");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("output shape 1x3549x85"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("it fits yolox"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(d / "f.db"));
}

// --labels /dev/zero and --config /dev/zero used to read 4 GB before failing.
TEST(E2E, DeviceAsLabelsOrConfigIsRefusedAtOnce) {
  TempDir d("e2e-devzero");
  const std::string base = "run " + sh_quote(small_clip().string()) + " --db " + sh_quote((d / "z.db").string());
  const auto labels = run_vidsift(base + " --labels /dev/zero");
  EXPECT_EQ(labels.status, 3) << labels.output;
  EXPECT_NE(labels.output.find("labels file /dev/zero is not a regular file"), std::string::npos) << labels.output;
  const auto config = run_vidsift(base + " --config /dev/zero");
  EXPECT_EQ(config.status, 2) << config.output;
  EXPECT_NE(config.output.find("config file /dev/zero is not a regular file"), std::string::npos) << config.output;
}

// Editors on Windows save INI files with a UTF-8 byte order mark.
TEST(E2E, ConfigFileWithByteOrderMarkIsRead) {
  TempDir d("e2e-bom");
  std::ofstream(d / "bom.ini") << "\xef\xbb\xbf"
                               << "every = 25\n";
  const fs::path db = d / "b.db";
  const auto r = run_vidsift("run " + sh_quote(small_clip().string()) + " --db " + sh_quote(db.string()) +
                             " --config " + sh_quote((d / "bom.ini").string()));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(q1(db, "SELECT frames_analysed FROM videos"), 2);
}

// A --json summary that cannot be written is a failure, not exit 0.
TEST(E2E, JsonToAFullDiskExitsNonZero) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  TempDir d("e2e-full");
  const auto r = run_command("{ " + sh_quote(vidsift_binary()) + " run " + sh_quote(small_clip().string()) + " --db " +
                             sh_quote((d / "f.db").string()) + " --every 25 --json --progress=false > /dev/full; }");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("cannot write the --json summary"), std::string::npos) << r.output;
}

// A rerun counts each input once: a video that failed before and is not
// retried is failed, not also skipped ("1 failed, 2 skipped" for 2 videos).
TEST(E2E, RerunCountsAddUpToTheInputs) {
  TempDir d("e2e-rerun-counts");
  std::ofstream(d / "garbage.mp4") << std::string(4096, 'x');
  const fs::path db = d / "r.db";
  const std::string args = "run " + sh_quote(small_clip().string()) + " " + sh_quote((d / "garbage.mp4").string()) +
                           " --db " + sh_quote(db.string()) + " --every 25";
  ASSERT_EQ(run_vidsift(args).status, 1);
  const auto again = run_vidsift(args);
  EXPECT_EQ(again.status, 1) << again.output;
  EXPECT_NE(again.output.find("0 done, 0 partial, 1 failed, 1 skipped"), std::string::npos) << again.output;
  const auto row = q(db, "SELECT videos_done + videos_partial + videos_failed + videos_skipped FROM runs WHERE id=2");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0][0], "2");
}
