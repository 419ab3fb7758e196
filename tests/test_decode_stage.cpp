// Tests of the decode producer (decode_video) without a model: real ffmpeg
// clips, a real BufferPool, and a sink that records what it is given.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "test_util.h"
#include "vidsift/decode_stage.h"

namespace fs = std::filesystem;
using namespace vidsift;
using namespace vidsift::test;

namespace {

struct Recorder final : FrameSink {
  std::mutex mu;
  std::vector<std::string> events;  // "start", "frame <seq>", "end"
  std::vector<FrameJob> frames;
  std::optional<VideoEnd> last_end;
  bool hold_slots = false;
  void video_start(VideoStart) override {
    std::lock_guard<std::mutex> l(mu);
    events.push_back("start");
  }
  void frame(FrameJob f) override {
    std::lock_guard<std::mutex> l(mu);
    events.push_back("frame " + std::to_string(f.seq));
    if (!hold_slots) f.slot.reset();
    frames.push_back(std::move(f));
  }
  void video_end(VideoEnd e) override {
    std::lock_guard<std::mutex> l(mu);
    events.push_back("end");
    last_end = std::move(e);
  }
};

VideoJob job(const fs::path& p) {
  VideoJob j;
  j.file.path = p.string();
  j.file.size = static_cast<std::int64_t>(fs::file_size(p));
  j.fingerprint = "fp";
  return j;
}

DecodeStageOptions options() {
  DecodeStageOptions o;
  o.input = input_spec_for(Family::YoloX, 64, 64);
  return o;
}

}  // namespace

TEST(DecodeStage, StartThenFramesInSeqOrderThenOneEnd) {
  const fs::path p = clip_cache_dir() / "ds_ok.mp4";
  ASSERT_TRUE(make_clip(p, "-f lavfi -i testsrc2=size=96x64:rate=25 -frames:v 30 -c:v libx264 -g 10 -pix_fmt yuv420p"));
  BufferPool pool(2, 3 * 64 * 64);
  Recorder r;
  DecodeStageOptions o = options();
  o.sampling.every = 3;
  decode_video(4, job(p), o, pool, r);
  ASSERT_EQ(r.events.size(), 12u);
  EXPECT_EQ(r.events.front(), "start");
  EXPECT_EQ(r.events.back(), "end");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r.events[static_cast<std::size_t>(i + 1)], "frame " + std::to_string(i));
  ASSERT_TRUE(r.last_end);
  EXPECT_TRUE(r.last_end->opened);
  EXPECT_EQ(r.last_end->vid, 4);
  EXPECT_EQ(r.last_end->sampled, 10);
  EXPECT_EQ(r.last_end->decoded, 30);
  EXPECT_TRUE(r.last_end->error.empty());
  EXPECT_EQ(r.frames[3].index, 9);
  EXPECT_EQ(r.last_end->rec.width, 96);
}

// The review's defect: a frame the preprocessor rejects used to be counted in
// `sampled` although it was never sent, so the store waited for it forever.
TEST(DecodeStage, RejectedPixelFormatSendsNoFrameAndCountsNone) {
  const fs::path p = clip_cache_dir() / "ds_rgb4.nut";
  ASSERT_TRUE(make_clip(p, "-f lavfi -i testsrc2=size=64x48 -frames:v 30 -c:v rawvideo -pix_fmt rgb4 -f nut"));
  BufferPool pool(2, 3 * 64 * 64);
  Recorder r;
  decode_video(0, job(p), options(), pool, r);
  ASSERT_TRUE(r.last_end);
  EXPECT_TRUE(r.last_end->opened);
  EXPECT_EQ(r.last_end->sampled, 0);
  EXPECT_TRUE(r.frames.empty());
  EXPECT_NE(r.last_end->error.find("rgb4"), std::string::npos) << r.last_end->error;
  EXPECT_EQ(pool.available(), 2u);  // the rejected frame's slot went back
}

TEST(DecodeStage, UnopenableFileIsAnEndWithoutStart) {
  TempDir d("ds");
  const fs::path p = d / "garbage.mp4";
  {
    std::ofstream o(p, std::ios::binary);
    o << std::string(4000, '\x17');
  }
  BufferPool pool(2, 3 * 64 * 64);
  Recorder r;
  decode_video(1, job(p), options(), pool, r);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0], "end");
  EXPECT_FALSE(r.last_end->opened);
  EXPECT_FALSE(r.last_end->error.empty());
}

TEST(DecodeStage, CancelWhileWaitingForASlotEndsTheVideo) {
  const fs::path p = clip_cache_dir() / "ds_long.mp4";
  ASSERT_TRUE(make_clip(p, "-f lavfi -i testsrc2=size=96x64:rate=25 -frames:v 100 -c:v libx264 -pix_fmt yuv420p"));
  BufferPool pool(2, 3 * 64 * 64);
  Recorder r;
  r.hold_slots = true;  // nobody releases: the stage must wait, then give up on cancel
  std::atomic<bool> stop{false};
  DecodeStageOptions o = options();
  o.should_stop = [&] { return stop.load(); };
  std::thread t([&] { decode_video(0, job(p), o, pool, r); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  t.join();
  ASSERT_TRUE(r.last_end);
  EXPECT_TRUE(r.last_end->cancelled);
  EXPECT_EQ(r.last_end->sampled, 2);
}

TEST(DecodeStage, TimeoutIsReported) {
  const fs::path p = clip_cache_dir() / "ds_long.mp4";
  ASSERT_TRUE(make_clip(p, "-f lavfi -i testsrc2=size=96x64:rate=25 -frames:v 100 -c:v libx264 -pix_fmt yuv420p"));
  BufferPool pool(1, 3 * 64 * 64);
  Recorder r;
  r.hold_slots = true;  // blocks on the second frame until the timeout
  DecodeStageOptions o = options();
  o.video_timeout = 0.3;
  decode_video(0, job(p), o, pool, r);
  ASSERT_TRUE(r.last_end);
  EXPECT_TRUE(r.last_end->timed_out);
  EXPECT_FALSE(r.last_end->cancelled);
  EXPECT_EQ(r.last_end->sampled, 1);
  EXPECT_EQ(r.last_end->timeout_s, 0.3);
}
