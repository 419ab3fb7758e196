// Tests for frame_grab.h: the grabbed picture is exactly the frame a run
// analysed at that (frame_index, ts), for the ways a run numbers frames
// (counted, after --start, --fps in MP4, --keyframes, AVI with B-frames),
// upright for a rotated clip, and moved or changed files are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include <opencv2/core.hpp>

#include "test_util.h"
#include "vidsift/discover.h"
#include "vidsift/frame_grab.h"
#include "vidsift/store.h"

namespace fs = std::filesystem;
using namespace vidsift;
using test::clip_cache_dir;
using test::make_clip;
using test::sh_quote;

namespace {

struct RefFrame {
  std::int64_t index;
  double ts;
  cv::Mat img;
};

// The frames a run with these sampling options analyses, as the decoder
// gives them to the pipeline, converted to upright BGR.
std::vector<RefFrame> run_frames(const fs::path& clip, const SamplingOptions& s) {
  DecoderOptions o;
  o.sampling = s;
  Decoder d(clip.string(), o);
  BgrConverter conv;
  DecodedFrame f;
  std::vector<RefFrame> out;
  while (d.next(f)) out.push_back({f.index, f.timestamp, conv.convert(*f.frame, d.info().orientation)});
  return out;
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

SourceVideo source(const fs::path& p, bool keyframes = false) {
  SourceVideo s;
  s.path = p.string();
  s.keyframes = keyframes;
  return s;
}

// 8 s of a moving test pattern with the frame number burnt in: H.264 with
// B-frames, a key frame every second.
fs::path mp4_clip() {
  const fs::path p = clip_cache_dir() / "grab_h264_8s.mp4";
  EXPECT_TRUE(make_clip(p,
                        "-f lavfi -i testsrc2=size=320x240:rate=25 -vf "
                        "drawtext=text=%{n}:fontsize=40:x=10:y=10:fontcolor=white:box=1 "
                        "-frames:v 200 -g 25 -bf 2 -c:v libx264 -pix_fmt yuv420p") ||
              make_clip(p,
                        "-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 200 -g 25 -bf 2 -c:v libx264 "
                        "-pix_fmt yuv420p"));
  return p;
}

// Like vtest.avi: MPEG-4 part 2 in AVI, here with B-frames (AVI timestamps are
// decode times: the decoder counts frames).
fs::path avi_clip() {
  const fs::path p = clip_cache_dir() / "grab_mpeg4_bf.avi";
  EXPECT_TRUE(make_clip(p, "-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 150 -g 12 -bf 2 -c:v mpeg4 -q:v 4"));
  return p;
}

void expect_grabs_match(const fs::path& clip, const SamplingOptions& s, bool keyframes, int max_opens) {
  const auto ref = run_frames(clip, s);
  ASSERT_GE(ref.size(), 3u);
  // Neighbouring frames differ, so equality identifies the frame.
  FrameGrabber g(source(clip, keyframes));
  for (const auto& r : ref) {
    const cv::Mat got = g.grab(r.index, r.ts);
    EXPECT_TRUE(same(got, r.img)) << clip << " frame " << r.index << " at " << r.ts;
  }
  EXPECT_LE(g.opens(), max_opens) << "frames in increasing order should be reached by decoding on";
  // In random order (seeks backwards and forwards).
  std::vector<std::size_t> order(ref.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937 rng(7);
  std::shuffle(order.begin(), order.end(), rng);
  FrameGrabber g2(source(clip, keyframes));
  for (std::size_t k = 0; k < std::min<std::size_t>(order.size(), 8); ++k) {
    const auto& r = ref[order[k]];
    EXPECT_TRUE(same(g2.grab(r.index, r.ts), r.img)) << clip << " frame " << r.index << " (random order)";
  }
}

}  // namespace

TEST(FrameGrab, NeighbouringFramesDiffer) {
  SamplingOptions s;
  const auto ref = run_frames(mp4_clip(), s);
  ASSERT_EQ(ref.size(), 200u);
  for (std::size_t i = 1; i < ref.size(); ++i) EXPECT_FALSE(same(ref[i - 1].img, ref[i].img)) << i;
}

TEST(FrameGrab, CountedFramesOfAnH264ClipWithBFrames) {
  SamplingOptions s;
  s.every = 7;
  expect_grabs_match(mp4_clip(), s, false, 1);
}

TEST(FrameGrab, FramesOfARunWithStart) {
  SamplingOptions s;
  s.every = 5;
  s.start = 3.3;
  expect_grabs_match(mp4_clip(), s, false, 1);
}

TEST(FrameGrab, FramesOfARunWithFpsInMp4) {
  SamplingOptions s;
  s.fps = 3;
  expect_grabs_match(mp4_clip(), s, false, 1);
}

TEST(FrameGrab, FramesOfAKeyframesRun) {
  SamplingOptions s;
  s.keyframes = true;
  expect_grabs_match(mp4_clip(), s, true, 2);
}

TEST(FrameGrab, FramesOfAnAviWithBFrames) {
  SamplingOptions s;
  s.every = 4;
  expect_grabs_match(avi_clip(), s, false, 2);
}

TEST(FrameGrab, FarApartFramesSeekInsteadOfDecodingEverything) {
  const auto ref = run_frames(mp4_clip(), SamplingOptions{});
  FrameGrabber g(source(mp4_clip()));
  EXPECT_TRUE(same(g.grab(ref[10].index, ref[10].ts), ref[10].img));
  EXPECT_TRUE(same(g.grab(ref[190].index, ref[190].ts), ref[190].img));  // 7.2 s later: a new seek
  EXPECT_EQ(g.opens(), 2);
  EXPECT_TRUE(same(g.grab(ref[190].index, ref[190].ts), ref[190].img));  // the same frame: cached
  EXPECT_TRUE(same(g.grab(ref[20].index, ref[20].ts), ref[20].img));     // backwards: seek again
  EXPECT_EQ(g.opens(), 3);
}

// Stored sideways (240x320) with a display matrix: the grab is upright
// (320x240), as FFmpeg's own player/CLI shows it.
TEST(FrameGrab, RotatedClipIsUpright) {
  const fs::path side = clip_cache_dir() / "grab_sideways.mp4";
  ASSERT_TRUE(make_clip(side, "-f lavfi -i testsrc2=size=240x320:rate=10 -frames:v 20 -c:v libx264 -pix_fmt yuv444p"));
  const fs::path p = clip_cache_dir() / "grab_phone_cw90.mp4";
  if (!make_clip(p, "-display_rotation:v 270 -i " + sh_quote(side.string()) + " -c copy")) {
    ASSERT_TRUE(make_clip(p, "-i " + sh_quote(side.string()) + " -c copy -metadata:s:v rotate=270"));
  }
  SamplingOptions s;
  s.every = 3;
  const auto ref = run_frames(p, s);
  ASSERT_FALSE(ref.empty());
  FrameGrabber g(source(p));
  const cv::Mat got = g.grab(ref[2].index, ref[2].ts);
  EXPECT_EQ(got.cols, 320);
  EXPECT_EQ(got.rows, 240);
  EXPECT_TRUE(same(got, ref[2].img));
  // FFmpeg's CLI turns it the same way (autorotate); colours agree within
  // rounding of the two conversions.
  test::TempDir tmp("grab_rot");
  const fs::path raw = tmp / "f.bgr";
  const auto r = test::run_command("ffmpeg -loglevel error -y -i " + sh_quote(p.string()) + " -vf " +
                                   sh_quote("select=eq(n\\,6)") + " -frames:v 1 -f rawvideo -pix_fmt bgr24 " +
                                   sh_quote(raw.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream in(raw, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(bytes.size(), 320u * 240u * 3u);
  const cv::Mat ff(240, 320, CV_8UC3, bytes.data());
  ASSERT_EQ(ref[2].index, 6);
  cv::Mat diff;
  cv::absdiff(got, ff, diff);
  EXPECT_LT(cv::mean(diff)[0] + cv::mean(diff)[1] + cv::mean(diff)[2], 6.0);
}

TEST(FrameGrab, MissingFileIsNamed) {
  SourceVideo s = source("/nonexistent/dir/cam1.mp4");
  const auto err = check_source(s);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->kind(), GrabFailure::Missing);
  EXPECT_NE(std::string(err->what()).find("/nonexistent/dir/cam1.mp4"), std::string::npos);
  try {
    FrameGrabber g(s);
    FAIL() << "no error for a missing file";
  } catch (const FrameGrabError& e) {
    EXPECT_EQ(e.kind(), GrabFailure::Missing);
  }
}

TEST(FrameGrab, ChangedFileIsRefused) {
  test::TempDir tmp("grab_changed");
  const fs::path p = tmp / "cam.mp4";
  fs::copy_file(mp4_clip(), p);
  // The fingerprint a run stores.
  SourceVideo s = source(p);
  {
    const auto d = discover({p.string()});
    ASSERT_EQ(d.files.size(), 1u);
    s.fingerprint = fingerprint(d.files[0]);
  }
  EXPECT_FALSE(check_source(s)) << "the unchanged file is accepted";
  {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x55');
  }
  // Same size; content (and maybe mtime) differ.
  const auto err = check_source(s);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->kind(), GrabFailure::Changed);
  EXPECT_NE(std::string(err->what()).find(p.string()), std::string::npos) << err->what();
  EXPECT_THROW(FrameGrabber{s}, FrameGrabError);
}

TEST(FrameGrab, NoFrameAtThatTime) {
  FrameGrabber g(source(mp4_clip()));
  try {
    g.grab(5000, 200.0);
    FAIL() << "a frame after the end";
  } catch (const FrameGrabError& e) {
    EXPECT_EQ(e.kind(), GrabFailure::NoSuchFrame);
    EXPECT_NE(std::string(e.what()).find("grab_h264_8s.mp4"), std::string::npos) << e.what();
  }
  EXPECT_EQ(g.opens(), 1) << "past the end: not decoded again from the start";
}

TEST(FrameGrab, LoadSourceVideoReadsTheRowAndTheRunSettings) {
  test::TempDir tmp("grab_store");
  const std::string db = (tmp / "v.db").string();
  std::int64_t id = 0;
  {
    Store st(db);
    RunRecord rr;
    rr.settings = R"({"every":1,"keyframes":true})";
    rr.settings_key = "k";
    const auto run = st.begin_run(rr);
    VideoRecord v;
    v.path = "/videos/a.mp4";
    v.fingerprint = "123-456-abc";
    v.codec = "h264";
    v.width = 640;
    v.height = 360;
    id = st.start_video(run, v, "k");
    st.finish_video(id, VideoResult{VideoStatus::Done, "", 1, 1});
  }
  Store ro(db, 1000, OpenMode::ReadOnly);
  const auto s = load_source_video(ro, id);
  EXPECT_EQ(s.path, "/videos/a.mp4");
  EXPECT_EQ(s.fingerprint, "123-456-abc");
  EXPECT_EQ(s.width, 640);
  EXPECT_EQ(s.height, 360);
  EXPECT_TRUE(s.keyframes);
  EXPECT_EQ(s.recorded_at, "");
  EXPECT_THROW(load_source_video(ro, id + 100), std::invalid_argument);
}

// videos.recorded_at (the wall-clock schema) is read when the column exists.
TEST(FrameGrab, LoadSourceVideoReadsRecordedAtWhenPresent) {
  test::TempDir tmp("grab_store_clock");
  const std::string db = (tmp / "v.db").string();
  std::int64_t id = 0;
  {
    Store st(db);
    const auto run = st.begin_run(RunRecord{});
    VideoRecord v;
    v.path = "/videos/b.mp4";
    id = st.start_video(run, v, "k");
    st.finish_video(id, VideoResult{VideoStatus::Done, "", 1, 1});
  }
  const auto r = test::run_command("sqlite3 " + sh_quote(db) +
                                   " \"UPDATE videos SET recorded_at = "
                                   "'2024-05-01T12:00:00Z';\"");
  ASSERT_EQ(r.status, 0) << r.output;
  Store ro(db, 1000, OpenMode::ReadOnly);
  EXPECT_EQ(load_source_video(ro, id).recorded_at, "2024-05-01T12:00:00Z");
  EXPECT_FALSE(load_source_video(ro, id).keyframes);
}
