// Tests for `vidsift render`: real runs of vidsift (yolox_nano) on a few
// seconds of vtest.avi, then the contact sheet and the clip are decoded and
// checked: tile count and size, drawn box edges where the stored coordinates
// say (a letterbox error would show as an offset), best frame per track,
// moved/changed sources skipped with a warning, the clip's codec, frame count
// and boxes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "test_util.h"
#include "vidsift/annotate.h"
#include "vidsift/decoder.h"
#include "vidsift/frame_grab.h"
#include "vidsift/store.h"

namespace fs = std::filesystem;
using namespace vidsift;
using namespace vidsift::test;

namespace {

constexpr int kTileWidth = 480;  // the default --tile-width
constexpr int kGap = 6;          // between tiles

class Render : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("render");
    clip_ = *dir_ / "vt3.avi";
    ASSERT_TRUE(make_clip(clip_, "-i " + sh_quote(video_path("vtest.avi").string()) + " -t 3 -c copy"));
    db_ = *dir_ / "v.db";
    const auto r = run_command(sh_quote(vidsift_binary()) + " run " + sh_quote(clip_.string()) + " --db " +
                               sh_quote(db_.string()) + " --model " + sh_quote(model_path("yolox_nano.onnx").string()) +
                               " --every 5 --progress=false");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static CommandResult render(const std::string& args, const fs::path& db = db_) {
    return run_command(sh_quote(vidsift_binary()) + " render " + sh_quote(db.string()) + " " + args);
  }

  static TempDir* dir_;
  static fs::path clip_, db_;
};
TempDir* Render::dir_ = nullptr;
fs::path Render::clip_;
fs::path Render::db_;

int dist(const cv::Vec3b& a, const cv::Scalar& b) {
  return std::abs(a[0] - static_cast<int>(b[0])) + std::abs(a[1] - static_cast<int>(b[1])) +
         std::abs(a[2] - static_cast<int>(b[2]));
}

struct StoredBox {
  double x, y, w, h;
};

std::vector<StoredBox> boxes(const fs::path& db, const std::string& where) {
  std::vector<StoredBox> out;
  for (const auto& r : query_db(db, "SELECT x, y, w, h FROM detections WHERE " + where))
    out.push_back({std::stod(r[0]), std::stod(r[1]), std::stod(r[2]), std::stod(r[3])});
  return out;
}

// How many of the boxes show the class colour on their left and right edges
// at mid-height, in a picture where the frame is drawn at (ox, oy) scaled by s.
// Also counts how often the colour is (wrongly) 4 px further out instead.
struct EdgeHits {
  int on_edge = 0;
  int total = 0;
};
EdgeHits edge_hits(const cv::Mat& pic, const std::vector<StoredBox>& bs, double s, int ox, int oy,
                   const cv::Scalar& colour) {
  EdgeHits h;
  for (const auto& b : bs) {
    if (b.h * s < 12 || b.w * s < 6) continue;  // too small to tell
    const int y = oy + static_cast<int>(std::lround((b.y + b.h / 2) * s));
    const int xl = ox + static_cast<int>(std::lround(b.x * s));
    const int xr = ox + static_cast<int>(std::lround((b.x + b.w) * s)) - 1;
    ++h.total;
    const bool left = dist(pic.at<cv::Vec3b>(y, xl), colour) < 150 || dist(pic.at<cv::Vec3b>(y, xl + 1), colour) < 150;
    const bool right = dist(pic.at<cv::Vec3b>(y, xr), colour) < 150 || dist(pic.at<cv::Vec3b>(y, xr - 1), colour) < 150;
    if (left && right) ++h.on_edge;
  }
  return h;
}

}  // namespace

TEST_F(Render, ContactSheetTilesAndBoxesWhereStored) {
  const fs::path out = *dir_ / "sheet.jpg";
  const auto r = render("--label person --limit 4 --out " + sh_quote(out.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("4 frame(s) of 1 video(s)"), std::string::npos) << r.output;
  const cv::Mat sheet = cv::imread(out.string());
  ASSERT_FALSE(sheet.empty());
  // 2 x 2 tiles of 480 px (vtest is 768x576: 360 rows + caption).
  EXPECT_EQ(sheet.cols, 2 * kTileWidth + 3 * kGap);
  const int tile_h = (sheet.rows - 3 * kGap) / 2;
  EXPECT_GT(tile_h, 360);
  EXPECT_LT(tile_h, 360 + 60);
  // The frames are spread over the matching ones: first and last included.
  const auto frames = query_db(db_, "SELECT DISTINCT frame_index FROM detections WHERE label='person' ORDER BY ts");
  ASSERT_GE(frames.size(), 4u);
  const double s = kTileWidth / 768.0;
  for (const auto& [tile, frame] :
       std::vector<std::pair<int, std::string>>{{0, frames.front()[0]}, {3, frames.back()[0]}}) {
    const int ox = kGap + (tile % 2) * (kTileWidth + kGap);
    const int oy = kGap + (tile / 2) * (tile_h + kGap);
    const auto bs = boxes(db_, "label='person' AND frame_index=" + frame);
    const EdgeHits h = edge_hits(sheet, bs, s, ox, oy, class_colour(0));
    ASSERT_GT(h.total, 0);
    EXPECT_GE(h.on_edge * 10, h.total * 7) << "tile " << tile << ": " << h.on_edge << " of " << h.total;
    // Shifted by a few pixels (a letterbox offset), the edges would miss.
    std::vector<StoredBox> shifted = bs;
    for (auto& b : shifted) b.x += 6 / s;
    const EdgeHits off = edge_hits(sheet, shifted, s, ox, oy, class_colour(0));
    EXPECT_LT(off.on_edge * 10, off.total * 5) << "edges also found 6 px off: the check would not see an offset";
  }
}

TEST_F(Render, NothingToDrawAndUsageErrors) {
  const fs::path out = *dir_ / "none.jpg";
  auto r = render("--label zebra --out " + sh_quote(out.string()));
  EXPECT_EQ(r.status, 4) << r.output;
  EXPECT_NE(r.output.find("nothing to draw"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
  r = render("--where 'no_such_column > 1' --out " + sh_quote(out.string()));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("no_such_column"), std::string::npos) << r.output;
  r = render("--label person");
  EXPECT_EQ(r.status, 2) << r.output;
  r = render("--track 3 --out x.jpg");
  EXPECT_EQ(r.status, 2) << r.output;  // --track needs --video
  r = render("--clip --video x.avi --out x.mp4");
  EXPECT_EQ(r.status, 2) << r.output;  // needs --track or --from/--to
}

TEST_F(Render, MovedOrChangedVideoIsNamedAndSkipped) {
  TempDir t("render_moved");
  const fs::path copy = t / "cam.avi";
  fs::copy_file(clip_, copy);
  const fs::path db = t / "c.db";
  auto r = run_command(sh_quote(vidsift_binary()) + " run " + sh_quote(copy.string()) + " --db " +
                       sh_quote(db.string()) + " --model " + sh_quote(model_path("yolox_nano.onnx").string()) +
                       " --every 10 --end 1 --progress=false");
  ASSERT_EQ(r.status, 0) << r.output;
  const fs::path out = t / "s.jpg";
  r = render("--out " + sh_quote(out.string()), db);
  ASSERT_EQ(r.status, 0) << r.output;
  {  // changed in place (same size)
    std::fstream f(copy, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5000);
    f.put('\x11');
  }
  r = render("--out " + sh_quote((t / "s2.jpg").string()), db);
  EXPECT_EQ(r.status, 4) << r.output;
  EXPECT_NE(r.output.find(copy.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("changed"), std::string::npos) << r.output;
  fs::rename(copy, t / "elsewhere.avi");
  r = render("--out " + sh_quote((t / "s3.jpg").string()), db);
  EXPECT_EQ(r.status, 4) << r.output;
  EXPECT_NE(r.output.find(copy.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("missing"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(t / "s3.jpg"));
}

// Track ids (as a --track run stores them; set here with SQL so the test knows them): one tile per
// track, its highest-confidence frame.
TEST_F(Render, OneTilePerTrackAtItsBestFrame) {
  TempDir t("render_tracks");
  const fs::path db = t / "t.db";
  fs::copy_file(db_, db);
  auto r = run_command("sqlite3 " + sh_quote(db.string()) +
                       " \"UPDATE detections SET track_id = "
                       "CASE WHEN label = 'person' THEN 7 WHEN label = 'car' THEN 8 END;\"");
  ASSERT_EQ(r.status, 0) << r.output;
  const fs::path out = t / "tracks.jpg";
  r = render("--where \"label IN ('person', 'car')\" --out " + sh_quote(out.string()), db);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("2 track(s)"), std::string::npos) << r.output;
  const cv::Mat sheet = cv::imread(out.string());
  EXPECT_EQ(sheet.cols, 2 * kTileWidth + 3 * kGap);
  // Track 7's tile shows the frame of the best person detection: its box is
  // drawn there.
  const auto best = query_db(db,
                             "SELECT frame_index, x, y, w, h FROM detections WHERE track_id = 7 ORDER BY "
                             "confidence DESC, ts LIMIT 1");
  ASSERT_EQ(best.size(), 1u);
  const double s = kTileWidth / 768.0;
  // Tiles are in time order; find which one is track 7's by its frame.
  const auto car_best =
      query_db(db, "SELECT frame_index FROM detections WHERE track_id = 8 ORDER BY confidence DESC, ts LIMIT 1");
  const int tile = std::stoll(best[0][0]) <= std::stoll(car_best[0][0]) ? 0 : 1;
  const EdgeHits h = edge_hits(sheet, boxes(db, "track_id = 7 AND frame_index = " + best[0][0]), s,
                               kGap + tile * (kTileWidth + kGap), kGap, class_colour(0));
  EXPECT_GE(h.on_edge * 10, h.total * 7) << h.on_edge << " of " << h.total;
  // --track selects one track: frames spread over its life.
  r = render("--video " + sh_quote(clip_.string()) + " --track 8 --limit 3 --out " + sh_quote((t / "t8.jpg").string()),
             db);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("3 frame(s)"), std::string::npos) << r.output;
  // A clip of one track: its span (0 .. 2.5 s, the last analysed frame) plus
  // 0.5 s after it, every frame.
  const fs::path clip = t / "t8.mp4";
  r = render("--clip --video " + sh_quote(clip_.string()) + " --track 8 --out " + sh_quote(clip.string()), db);
  ASSERT_EQ(r.status, 0) << r.output;
  Decoder d(clip.string(), DecoderOptions{});
  EXPECT_EQ(d.info().codec, "h264");
  DecodedFrame f;
  int n = 0;
  while (d.next(f)) ++n;
  EXPECT_EQ(n, 30);  // 0.0 .. 2.9 s: the clip ends at 3 s
}

TEST_F(Render, ClipIsH264WithEveryFrameAndBoxes) {
  const fs::path out = *dir_ / "c.mp4";
  const auto r =
      render("--clip --video " + sh_quote(clip_.string()) + " --from 0.5 --to 1.5 --out " + sh_quote(out.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  Decoder d(out.string(), DecoderOptions{});
  EXPECT_EQ(d.info().codec, "h264");
  EXPECT_EQ(d.info().width, 768);
  BgrConverter conv;
  DecodedFrame f;
  std::vector<cv::Mat> pics;
  std::vector<double> ts;
  while (d.next(f)) {
    pics.push_back(conv.convert(*f.frame, d.info().orientation));
    ts.push_back(f.timestamp);
  }
  // vtest is 10 fps: 0.5 .. 1.5 s inclusive is 11 frames, 0.1 s apart.
  ASSERT_EQ(pics.size(), 11u);
  EXPECT_NEAR(ts.back(), 1.0, 1e-3);
  // The analysed frame at 1.0 s (index 10) is the clip's 6th: its person
  // boxes are drawn where stored.
  const EdgeHits h =
      edge_hits(pics[5], boxes(db_, "label = 'person' AND frame_index = 10"), 1.0, 0, 0, class_colour(0));
  ASSERT_GT(h.total, 0);
  EXPECT_GE(h.on_edge * 10, h.total * 7) << h.on_edge << " of " << h.total;
}

// A phone-style clip: stored sideways (576x768) with a display matrix that
// shows it upright. Boxes are stored upright, and the sheet draws them on the
// upright picture, aligned with the same people as in the plain clip.
TEST_F(Render, RotatedSourceIsDrawnUpright) {
  TempDir t("render_rotated");
  const fs::path side = t / "side.mp4";
  ASSERT_TRUE(
      make_clip(side, "-i " + sh_quote(clip_.string()) +
                          " -t 1.1 -vf transpose=clock -c:v libx264 -preset ultrafast -qp 10 -pix_fmt yuv420p"));
  const fs::path phone = t / "phone.mp4";
  if (!make_clip(phone, "-display_rotation:v 90 -i " + sh_quote(side.string()) + " -c copy")) {
    ASSERT_TRUE(make_clip(phone, "-i " + sh_quote(side.string()) + " -c copy -metadata:s:v rotate=90"));
  }
  {
    Decoder d(phone.string(), DecoderOptions{});
    ASSERT_EQ(d.info().width, 768);
    ASSERT_EQ(d.info().height, 576);
  }
  const fs::path db = t / "r.db";
  auto r =
      run_command(sh_quote(vidsift_binary()) + " run " + sh_quote(phone.string()) + " --db " + sh_quote(db.string()) +
                  " --model " + sh_quote(model_path("yolox_nano.onnx").string()) + " --every 5 --progress=false");
  ASSERT_EQ(r.status, 0) << r.output;
  // The upright frame equals the plain clip's frame.
  FrameGrabber plain(SourceVideo{0, clip_.string(), "", 768, 576, false, ""});
  Store ro(db.string(), 1000, OpenMode::ReadOnly);
  FrameGrabber turned(load_source_video(ro, 1));
  cv::Mat diff;
  cv::absdiff(plain.grab(0, 0.0), turned.grab(0, 0.0), diff);
  const cv::Scalar m = cv::mean(diff);
  EXPECT_LT(m[0] + m[1] + m[2], 15.0);
  // Person boxes of the first frame lie where the plain run found them.
  const auto rot = boxes(db, "label = 'person' AND frame_index = 0");
  const auto ref = boxes(db_, "label = 'person' AND frame_index = 0");
  ASSERT_FALSE(rot.empty());
  int near = 0;
  for (const auto& b : rot)
    for (const auto& c : ref)
      if (std::abs(b.x - c.x) < 6 && std::abs(b.y - c.y) < 6) {
        ++near;
        break;
      }
  EXPECT_GE(near * 10, static_cast<int>(rot.size()) * 7);
  // And the sheet draws them there.
  const fs::path out = t / "r.jpg";
  r = render("--label person --limit 1 --out " + sh_quote(out.string()), db);
  ASSERT_EQ(r.status, 0) << r.output;
  const cv::Mat sheet = cv::imread(out.string());
  EXPECT_EQ(sheet.cols, kTileWidth + 2 * kGap);
  const EdgeHits h = edge_hits(sheet, rot, kTileWidth / 768.0, kGap, kGap, class_colour(0));
  EXPECT_GE(h.on_edge * 10, h.total * 7) << h.on_edge << " of " << h.total;
}
