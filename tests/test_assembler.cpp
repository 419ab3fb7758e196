// Tests of the per-video assembler and the final-status rules, without a
// model: synthetic stage messages into a real SQLite store.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "test_util.h"
#include "vidsift/assembler.h"

using namespace vidsift;
using namespace vidsift::test;

namespace {

std::string one(Store& s, const std::string& sql) {
  auto rows = s.query(sql);
  return rows.empty() || rows[0].empty() ? "" : rows[0][0];
}

VideoStart start(int vid, const std::string& path = "") {
  VideoStart s;
  s.vid = vid;
  s.rec.path = path.empty() ? "/v/" + std::to_string(vid) + ".mp4" : path;
  s.rec.codec = "h264";
  s.rec.width = 64;
  s.rec.height = 48;
  return s;
}

VideoEnd end(int vid, std::int64_t sampled) {
  VideoEnd e;
  e.vid = vid;
  e.opened = true;
  e.rec.path = "/v/" + std::to_string(vid) + ".mp4";
  e.sampled = sampled;
  e.decoded = sampled;
  return e;
}

FrameResult result(int vid, std::int64_t seq, int dets = 1) {
  FrameResult r;
  r.vid = vid;
  r.seq = seq;
  r.index = seq * 10;
  r.ts = static_cast<double>(seq);
  for (int i = 0; i < dets; ++i) r.dets.push_back(Detection{0, 0.9f, Box{1, 2, 3, 4}});
  return r;
}

std::vector<FrameResult> batch(std::initializer_list<FrameResult> rs) { return std::vector<FrameResult>(rs); }

struct Fixture {
  TempDir dir{"assembler"};
  Store store{(dir / "a.db").string()};
  std::int64_t run = 0;
  Fixture() {
    store.set_labels({"person", "car"});
    RunRecord r;
    r.settings_key = "k";
    run = store.begin_run(r);
  }
};

}  // namespace

TEST(DecideStatus, Rules) {
  VideoEnd e = end(0, 10);
  EXPECT_EQ(decide_status(e, 10, 0).status, VideoStatus::Done);
  EXPECT_EQ(decide_status(e, 10, 0).error, "");

  // Stopped by a signal or --video-timeout with a clean prefix: resumable.
  VideoEnd c = e;
  c.cancelled = true;
  EXPECT_EQ(decide_status(c, 10, 0).status, VideoStatus::Interrupted);
  EXPECT_EQ(decide_status(c, 0, 0).status, VideoStatus::Interrupted);
  EXPECT_EQ(decide_status(c, 10, 0).error, "the run was interrupted; a rerun resumes after the last stored frame");
  VideoEnd to = e;
  to.timed_out = true;
  to.timeout_s = 2;
  EXPECT_EQ(decide_status(to, 4, 0).status, VideoStatus::Interrupted);
  EXPECT_EQ(decide_status(to, 4, 0).error,
            "timed out after 2 s (--video-timeout); a rerun resumes after the last stored frame");
  // A hole (a frame that failed) or corrupt packets: not a clean prefix.
  EXPECT_EQ(decide_status(c, 10, 1, 0, "x").status, VideoStatus::Partial);
  VideoEnd cd = c;
  cd.decode_errors = 1;
  EXPECT_EQ(decide_status(cd, 10, 0).status, VideoStatus::Partial);
  // Cancelled before it opened: no row at all.
  VideoEnd cc = c;
  cc.opened = false;
  EXPECT_EQ(decide_status(cc, 0, 0).status, VideoStatus::Cancelled);

  VideoEnd closed = e;
  closed.opened = false;
  closed.error = "cannot open video: Invalid data";
  EXPECT_EQ(decide_status(closed, 0, 0).status, VideoStatus::Failed);
  EXPECT_EQ(decide_status(closed, 0, 0).error, "cannot open video: Invalid data");

  VideoEnd t = e;
  t.timed_out = true;
  t.timeout_s = 1800;
  // With a hole it is not resumable: partial, and the error says both.
  EXPECT_EQ(decide_status(t, 4, 1, 0, "x").status, VideoStatus::Partial);
  EXPECT_EQ(decide_status(t, 4, 1, 0, "x").error,
            "timed out after 1800 s (--video-timeout); 1 frame(s) could not be analysed: x");
  EXPECT_EQ(decide_status(t, 0, 1, 0, "x").status, VideoStatus::Failed);

  VideoEnd pre = e;
  pre.error = "cannot convert pixel format rgb4 64x48";
  EXPECT_EQ(decide_status(pre, 0, 0).status, VideoStatus::Failed);
  EXPECT_EQ(decide_status(pre, 3, 0).status, VideoStatus::Partial);

  VideoEnd cut = e;
  cut.truncated = true;
  cut.decoder_error = "read error";
  EXPECT_EQ(decide_status(cut, 3, 0).status, VideoStatus::Partial);
  EXPECT_EQ(decide_status(cut, 3, 0).error, "read error");

  EXPECT_EQ(decide_status(e, 7, 3, 0, "forward pass failed").status, VideoStatus::Partial);
  EXPECT_NE(decide_status(e, 7, 3, 0, "forward pass failed").error.find("3 frame(s) could not be analysed"),
            std::string::npos);
  EXPECT_EQ(decide_status(e, 0, 10, 0, "x").status, VideoStatus::Failed);
  EXPECT_NE(decide_status(e, 8, 0, 2).error.find("2 frame(s) were lost"), std::string::npos);

  VideoEnd empty = e;
  empty.decoded = 0;
  empty.sampled = 0;
  EXPECT_EQ(decide_status(empty, 0, 0).error, "the video holds no frames");
  empty.decode_errors = 5;
  empty.decoder_error = "bad";
  EXPECT_EQ(decide_status(empty, 0, 0).error, "no frame could be decoded: bad");

  VideoEnd corrupt = e;
  corrupt.decode_errors = 2;
  corrupt.decoder_error = "corrupt packet skipped";
  EXPECT_EQ(decide_status(corrupt, 10, 0).status, VideoStatus::Partial);
}

TEST(Assembler, ReordersFramesAndFinishesWhenAllArrived) {
  Fixture f;
  Progress p;
  Assembler a(f.store, f.run, "k", 2, &p);
  a.on_start(start(0));
  std::vector<std::int64_t> order = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  a.on_end(end(0, 10));  // the end may come before the frames
  for (std::size_t i = 0; i < order.size(); ++i) {
    EXPECT_EQ(one(f.store, "SELECT status FROM videos"), "running");
    auto b = batch({result(0, order[i], 2)});
    a.on_results(b);
  }
  EXPECT_EQ(a.open_videos(), 0u);
  EXPECT_EQ(one(f.store, "SELECT status FROM videos"), "done");
  EXPECT_EQ(one(f.store, "SELECT frames_analysed FROM videos"), "10");
  EXPECT_EQ(one(f.store, "SELECT COUNT(*) FROM detections"), "20");
  // Stored in frame order.
  EXPECT_EQ(
      one(f.store, "SELECT COUNT(*) FROM detections a JOIN detections b ON b.id>a.id AND b.frame_index<a.frame_index"),
      "0");
  EXPECT_EQ(a.totals().videos_done, 1);
  EXPECT_EQ(a.totals().detections, 20);
  EXPECT_EQ(a.totals().per_label[0], 20);
  EXPECT_EQ(p.videos_finished.load(), 1);
  EXPECT_EQ(p.frames_analysed.load(), 10);
  EXPECT_EQ(one(f.store, "SELECT frames FROM timings WHERE stage='infer'"), "10");
}

TEST(Assembler, ResultsBeforeStartWaitForTheStart) {
  Fixture f;
  Assembler a(f.store, f.run, "k", 2);
  auto b = batch({result(3, 0), result(3, 1)});
  a.on_results(b);  // VideoStart has not arrived: held, nothing written
  EXPECT_EQ(one(f.store, "SELECT COUNT(*) FROM videos"), "0");
  a.on_end(end(3, 2));
  EXPECT_EQ(one(f.store, "SELECT COUNT(*) FROM videos"), "0");
  a.on_start(start(3));
  EXPECT_EQ(one(f.store, "SELECT status || ' ' || frames_analysed FROM videos"), "done 2");
}

TEST(Assembler, FrameErrorsMakeThePartialOrFailedVerdict) {
  Fixture f;
  Assembler a(f.store, f.run, "k", 2);
  a.on_start(start(0));
  a.on_start(start(1));
  FrameResult bad = result(0, 1);
  bad.error = "forward pass failed";
  bad.dets.clear();
  auto b = batch({result(0, 0), bad, result(0, 2)});
  a.on_results(b);
  a.on_end(end(0, 3));
  FrameResult bad1 = result(1, 0);
  bad1.error = "forward pass failed";
  auto b1 = batch({bad1});
  a.on_results(b1);
  a.on_end(end(1, 1));
  EXPECT_EQ(one(f.store, "SELECT status FROM videos WHERE path='/v/0.mp4'"), "partial");
  EXPECT_EQ(one(f.store, "SELECT frames_analysed FROM videos WHERE path='/v/0.mp4'"), "2");
  EXPECT_NE(one(f.store, "SELECT error FROM videos WHERE path='/v/0.mp4'").find("forward pass failed"),
            std::string::npos);
  EXPECT_EQ(one(f.store, "SELECT status FROM videos WHERE path='/v/1.mp4'"), "failed");
  EXPECT_EQ(a.totals().videos_partial, 1);
  EXPECT_EQ(a.totals().videos_failed, 1);
}

TEST(Assembler, VideoThatNeverOpenedIsOneFailedRow) {
  Fixture f;
  Assembler a(f.store, f.run, "k", 2);
  VideoEnd e;
  e.vid = 5;
  e.rec.path = "/v/garbage.mp4";
  e.error = "cannot open video: Invalid data found when processing input";
  a.on_end(e);
  EXPECT_EQ(one(f.store, "SELECT status || ': ' || error FROM videos"),
            "failed: cannot open video: Invalid data found when processing input");
  EXPECT_EQ(a.open_videos(), 0u);
}

TEST(Assembler, CancelledVideoKeepsItsFramesAsInterruptedAndResumesInTheSameRow) {
  Fixture f;
  std::int64_t id = 0;
  {
    Assembler a(f.store, f.run, "k", 2);
    a.on_start(start(0));
    auto b = batch({result(0, 0), result(0, 1)});
    a.on_results(b);
    VideoEnd e = end(0, 2);
    e.cancelled = true;
    a.on_end(e);
    EXPECT_EQ(one(f.store, "SELECT status || ' ' || frames_analysed FROM videos"), "interrupted 2");
    EXPECT_EQ(a.totals().videos_interrupted, 1);
    EXPECT_EQ(a.totals().frames_analysed, 2);
    id = std::stoll(one(f.store, "SELECT id FROM videos"));
  }
  // The next run claims the row and adds the rest.
  const auto run2 = f.store.begin_run(RunRecord{});
  Assembler a(f.store, run2, "k", 2);
  VideoStart s = start(0);
  s.resume = ResumePoint{id, 2, 2, 10, 1.0};
  a.on_start(s);
  auto b = batch({result(0, 0), result(0, 1)});
  b[0].index = 20;
  b[1].index = 30;
  a.on_results(b);
  a.on_end(end(0, 2));
  EXPECT_EQ(one(f.store, "SELECT status || ' ' || frames_analysed || ' ' || run_id FROM videos"),
            "done 4 " + std::to_string(run2));
  EXPECT_EQ(one(f.store, "SELECT COUNT(*) FROM frames"), "4");
  EXPECT_EQ(a.totals().frames_analysed, 2);  // this run's share
  // A second claim of the same row (another process won) records nothing.
  f.store.query("UPDATE videos SET status='running'");
  Assembler late(f.store, run2, "k", 2);
  late.on_start(s);
  auto b2 = batch({result(0, 0)});
  late.on_results(b2);
  late.on_end(end(0, 1));
  EXPECT_EQ(late.totals().videos_cancelled, 1);
  EXPECT_EQ(late.open_videos(), 0u);
  EXPECT_EQ(one(f.store, "SELECT COUNT(*) FROM frames"), "4");
}

// A video whose end says more frames were sent than ever came back must not
// stay `running` forever: once the graph drained, finish_all() finalises it.
TEST(Assembler, FinishAllFinalisesVideosWithMissingFrames) {
  Fixture f;
  Assembler a(f.store, f.run, "k", 2);
  a.on_start(start(0));
  auto b = batch({result(0, 0), result(0, 2)});  // seq 1 never arrives
  a.on_results(b);
  a.on_end(end(0, 3));
  EXPECT_EQ(one(f.store, "SELECT status FROM videos"), "running");
  a.on_start(start(1));  // started, never ended, nothing came back
  a.finish_all();
  EXPECT_EQ(a.open_videos(), 0u);
  EXPECT_EQ(one(f.store, "SELECT COUNT(*) FROM videos WHERE status='running'"), "0");
  EXPECT_EQ(one(f.store, "SELECT status FROM videos WHERE path='/v/0.mp4'"), "partial");
  EXPECT_EQ(one(f.store, "SELECT frames_analysed FROM videos WHERE path='/v/0.mp4'"), "2");
  EXPECT_NE(one(f.store, "SELECT error FROM videos WHERE path='/v/0.mp4'").find("1 frame(s) were lost"),
            std::string::npos);
  EXPECT_EQ(one(f.store, "SELECT status FROM videos WHERE path='/v/1.mp4'"), "failed");
  // Frames after the gap were written in order.
  EXPECT_EQ(one(f.store, "SELECT group_concat(frame_index) FROM (SELECT frame_index FROM detections ORDER BY id)"),
            "0,20");
}

// Each video that reaches its final row is reported once, with its own
// frames and detections, for the log line; a cancelled one with frames is
// `interrupted` (its frames are kept for a rerun to resume) and reported too.
TEST(Assembler, ReportsEachFinishedVideoOnce) {
  Fixture f;
  Progress p;
  std::vector<FinishedVideo> seen;
  p.on_video_finished = [&](const FinishedVideo& v) { seen.push_back(v); };
  Assembler a(f.store, f.run, "k", 2, &p);
  a.on_start(start(0));
  a.on_start(start(1));
  auto b = batch({result(0, 0, 2), result(1, 0, 1), result(0, 1, 3)});
  a.on_results(b);
  a.on_end(end(0, 2));
  VideoEnd cut = end(1, 1);
  cut.cancelled = true;
  a.on_end(cut);
  VideoEnd bad;
  bad.vid = 2;
  bad.rec.path = "/v/bad.mp4";
  bad.error = "cannot open video";
  a.on_end(bad);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].path, "/v/0.mp4");
  EXPECT_EQ(seen[0].status, VideoStatus::Done);
  EXPECT_EQ(seen[0].frames_analysed, 2);
  EXPECT_EQ(seen[0].detections, 5);
  EXPECT_GE(seen[0].seconds, 0.0);
  EXPECT_EQ(seen[1].path, "/v/1.mp4");
  EXPECT_EQ(seen[1].status, VideoStatus::Interrupted);
  EXPECT_EQ(seen[1].frames_analysed, 1);
  EXPECT_EQ(seen[2].path, "/v/bad.mp4");
  EXPECT_EQ(seen[2].status, VideoStatus::Failed);
  EXPECT_EQ(seen[2].error, "cannot open video");
}

// --track: two people walking towards each other, a third standing, and a
// low-confidence box that only the tracker sees.
namespace {
FrameResult walking(int vid, std::int64_t seq) {
  FrameResult r;
  r.vid = vid;
  r.seq = seq;
  r.index = seq;
  r.ts = 0.04 * static_cast<double>(seq);
  const float s = static_cast<float>(seq);
  r.dets.push_back(Detection{0, 0.9f, Box{10 + 6 * s, 50, 30, 80}});
  r.dets.push_back(Detection{0, 0.8f, Box{400 - 6 * s, 52, 30, 80}});
  r.dets.push_back(Detection{1, 0.7f, Box{100, 300, 60, 40}});
  r.dets.push_back(Detection{0, 0.15f, Box{600, 400, 30, 80}});  // under --conf: never stored
  return r;
}

std::string tracks_of(Store& s, std::int64_t video) {
  std::string out;
  for (const auto& r :
       s.query("SELECT track_id, label, first_frame, last_frame, frames, best_frame FROM tracks WHERE video_id=? "
               "ORDER BY track_id",
               {std::to_string(video)}))
    out += r[0] + ":" + r[1] + ":" + r[2] + "-" + r[3] + ":" + r[4] + ":" + r[5] + " ";
  return out;
}
}  // namespace

TEST(Assembler, TrackingStoresTrackIdsAndTracks) {
  Fixture f;
  TrackerOptions t;
  t.high_conf = 0.25f;
  Assembler a(f.store, f.run, "k", 2);
  a.enable_tracking(t);
  a.on_start(start(0));
  std::vector<FrameResult> b;
  for (int i = 0; i < 60; ++i) b.push_back(walking(0, i));
  std::shuffle(b.begin(), b.end(), std::mt19937(7));  // batches arrive in any order
  a.on_results(b);
  a.on_end(end(0, 60));
  EXPECT_EQ(one(f.store, "SELECT COUNT(*) FROM detections WHERE confidence < 0.25"), "0");
  EXPECT_EQ(one(f.store, "SELECT COUNT(*) FROM detections WHERE track_id IS NULL"), "0");
  EXPECT_EQ(one(f.store, "SELECT COUNT(*) FROM detections"), "180");
  EXPECT_EQ(tracks_of(f.store, 1), "1:person:0-59:60:0 2:person:0-59:60:0 3:car:0-59:60:0 ");
  EXPECT_EQ(one(f.store, "SELECT group_concat(unique_objects) FROM per_video_track_counts ORDER BY label"), "1,2");
  EXPECT_EQ(one(f.store, "SELECT MAX(dwell_s) FROM track_dwell"), "2.36");
  EXPECT_EQ(a.totals().timings[Stage::Track].count(), 60);
  EXPECT_EQ(one(f.store, "SELECT frames FROM timings WHERE stage='track'"), "60");
}

// An interrupted video (signal, --video-timeout, or kill -9 followed by
// recover_stale) resumes: the tracker replays the stored frames and the
// video ends with the same tracks as an uninterrupted run.
TEST(Assembler, TracksOfAResumedVideoEqualAnUninterruptedRun) {
  TrackerOptions t;
  std::string clean;
  {
    Fixture f;
    Assembler a(f.store, f.run, "k", 2);
    a.enable_tracking(t);
    a.on_start(start(0));
    std::vector<FrameResult> b;
    for (int i = 0; i < 60; ++i) b.push_back(walking(0, i));
    a.on_results(b);
    a.on_end(end(0, 60));
    clean = tracks_of(f.store, 1);
  }
  for (int cut : {1, 25, 33, 59}) {
    Fixture f;
    {
      Assembler a(f.store, f.run, "k", 2);
      a.enable_tracking(t);
      a.on_start(start(0));
      std::vector<FrameResult> b;
      for (int i = 0; i < cut; ++i) b.push_back(walking(0, i));
      a.on_results(b);
      VideoEnd e = end(0, cut);
      e.cancelled = true;
      a.on_end(e);
    }
    const auto run2 = f.store.begin_run(RunRecord{});
    Assembler a(f.store, run2, "k", 2);
    a.enable_tracking(t);
    VideoStart s = start(0);
    s.resume = ResumePoint{1, cut, cut, cut - 1, 0.04 * (cut - 1)};
    a.on_start(s);
    std::vector<FrameResult> b;
    for (int i = cut; i < 60; ++i) {
      b.push_back(walking(0, i));
      b.back().seq = i - cut;
    }
    a.on_results(b);
    a.on_end(end(0, 60 - cut));
    EXPECT_EQ(one(f.store, "SELECT status FROM videos"), "done");
    EXPECT_EQ(tracks_of(f.store, 1), clean) << "cut at " << cut;
  }
}
