// Tests of the scheduler (flow graph): no deadlock with more decoders than
// cores and a tiny pool, per-video frame order, batching across videos,
// failures that do not stop other videos, cancellation roll-back.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "test_util.h"
#include "vidsift/pipeline.h"

namespace fs = std::filesystem;
using namespace vidsift;
using namespace vidsift::test;

namespace {

fs::path clip(int i, int frames) {
  const fs::path p = clip_cache_dir() / ("pipe_" + std::to_string(i) + "_" + std::to_string(frames) + ".mp4");
  EXPECT_TRUE(make_clip(p, "-f lavfi -i testsrc2=size=192x144:rate=25 -frames:v " + std::to_string(frames) +
                               " -c:v libx264 -g 25 -bf 2 -pix_fmt yuv420p"));
  return p;
}

VideoJob job(const fs::path& p) {
  VideoJob j;
  j.file.path = p.string();
  j.file.size = static_cast<std::int64_t>(fs::file_size(p));
  j.fingerprint = "fp-" + p.filename().string();
  return j;
}

const LoadedModel& yolox() {
  static const LoadedModel m = [] {
    ModelOptions o;
    o.model = model_path("yolox_nano.onnx").string();
    return load_model(o);
  }();
  return m;
}

std::string one(Store& s, const std::string& sql) {
  auto rows = s.query(sql);
  return rows.empty() || rows[0].empty() ? "" : rows[0][0];
}

struct Fixture {
  TempDir dir{"pipeline"};
  Store store{(dir / "p.db").string()};
  std::int64_t run = 0;
  Fixture() {
    store.set_labels(yolox().labels);
    RunRecord r;
    r.settings_key = "k";
    run = store.begin_run(r);
  }
};

}  // namespace

TEST(Pipeline, ManyDecodersTinyPoolNoDeadlockAndFrameOrder) {
  Fixture f;
  std::vector<VideoJob> jobs;
  for (int i = 0; i < 5; ++i) jobs.push_back(job(clip(i, 20 + 5 * i)));
  PipelineOptions o;
  o.decoders = 5;  // more decoders than cores
  o.pool = 2;      // tiny pool
  o.workers = 2;
  o.sampling.every = 2;
  Progress progress;
  auto res = Pipeline(yolox(), f.store, f.run, "k", o).run(jobs, &progress);
  EXPECT_TRUE(res.fatal_error.empty()) << res.fatal_error;
  EXPECT_EQ(res.videos_done, 5);
  EXPECT_EQ(res.pool_slots, 2u);
  EXPECT_LE(res.pool_high_water, 2u);
  // 20,25,30,35,40 frames, every 2nd: 10+13+15+18+20.
  EXPECT_EQ(res.frames_analysed, 76);
  EXPECT_EQ(progress.frames_analysed.load(), 76);
  EXPECT_EQ(progress.videos_finished.load(), 5);
  EXPECT_EQ(one(f.store, "SELECT COUNT(*) FROM videos WHERE status='done'"), "5");
  EXPECT_EQ(one(f.store, "SELECT SUM(frames_analysed) FROM videos"), "76");
  // Frames of each video were written in frame order (rowid order of frames is
  // per-video primary key order, so check detections' insertion order).
  EXPECT_EQ(one(f.store,
                "SELECT COUNT(*) FROM detections a JOIN detections b ON a.video_id=b.video_id AND b.id>a.id "
                "AND b.frame_index<a.frame_index"),
            "0");
  for (int i = 0; i < kStageCount; ++i) {
    EXPECT_GE(res.timings[static_cast<Stage>(i)].count(), 76) << stage_name(static_cast<Stage>(i));
  }
}

TEST(Pipeline, BatchesAcrossVideosWithPoolSmallerThanBatch) {
  Fixture f;
  std::vector<VideoJob> jobs = {job(clip(10, 7)), job(clip(11, 9)), job(clip(12, 5))};
  PipelineOptions o;
  o.decoders = 3;
  o.pool = 2;   // raised to the batch size so a batch can fill
  o.batch = 4;  // YOLOX export is static batch 1: OpenCV may or may not run it batched
  o.workers = 1;
  auto res = Pipeline(yolox(), f.store, f.run, "k", o).run(jobs);
  EXPECT_TRUE(res.fatal_error.empty()) << res.fatal_error;
  EXPECT_EQ(res.pool_slots, 4u);
  EXPECT_EQ(res.videos_done + res.videos_partial + res.videos_failed, 3);
  EXPECT_EQ(one(f.store, "SELECT COUNT(*) FROM videos WHERE status='running'"), "0");
  if (res.videos_done == 3) {
    EXPECT_EQ(res.frames_analysed, 21);
  } else {
    // When the backend rejects a batch, the error is recorded per video.
    EXPECT_NE(one(f.store, "SELECT error FROM videos WHERE status<>'done' LIMIT 1"), "");
  }
}

TEST(Pipeline, OneBadVideoDoesNotStopTheOthers) {
  Fixture f;
  const fs::path bad = f.dir / "bad.mp4";
  {
    std::ofstream o(bad, std::ios::binary);
    o << std::string(5000, '\x42');
  }
  std::vector<VideoJob> jobs = {job(clip(20, 10)), job(bad), job(clip(21, 10))};
  jobs[1].file.path = bad.string();
  PipelineOptions o;
  o.decoders = 2;
  auto res = Pipeline(yolox(), f.store, f.run, "k", o).run(jobs);
  EXPECT_EQ(res.videos_done, 2);
  EXPECT_EQ(res.videos_failed, 1);
  EXPECT_EQ(one(f.store, "SELECT status FROM videos WHERE path LIKE '%bad.mp4'"), "failed");
  EXPECT_NE(one(f.store, "SELECT error FROM videos WHERE path LIKE '%bad.mp4'"), "");
}

TEST(Pipeline, CancellationRollsBackVideosInFlight) {
  Fixture f;
  std::vector<VideoJob> jobs;
  for (int i = 0; i < 4; ++i) jobs.push_back(job(clip(30 + i, 60)));
  PipelineOptions o;
  o.decoders = 2;
  o.pool = 2;
  Progress progress;
  o.should_stop = [&progress] { return progress.frames_analysed.load() >= 5; };
  auto res = Pipeline(yolox(), f.store, f.run, "k", o).run(jobs, &progress);
  EXPECT_TRUE(res.fatal_error.empty()) << res.fatal_error;
  EXPECT_GT(res.videos_cancelled, 0);
  EXPECT_LT(res.videos_done, 4);
  // Nothing half-written remains: every row is final, and every final video is complete.
  EXPECT_EQ(one(f.store, "SELECT COUNT(*) FROM videos WHERE status='running'"), "0");
  EXPECT_EQ(one(f.store, "SELECT COUNT(*) FROM videos v WHERE frames_analysed <> (SELECT COUNT(*) FROM frames "
                         "WHERE video_id=v.id)"),
            "0");
}

TEST(Pipeline, VideoTimeoutKeepsAnalysedFramesAsPartial) {
  Fixture f;
  std::vector<VideoJob> jobs = {job(clip(40, 200))};
  PipelineOptions o;
  o.workers = 1;
  o.video_timeout = 0.5;  // 200 frames at ~20 frames/s cannot finish in time
  auto res = Pipeline(yolox(), f.store, f.run, "k", o).run(jobs);
  EXPECT_EQ(res.videos_partial + res.videos_failed, 1);
  EXPECT_NE(one(f.store, "SELECT error FROM videos").find("timed out"), std::string::npos);
  EXPECT_LT(res.frames_analysed, 200);
}
