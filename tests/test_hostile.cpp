// Hostile inputs, end to end: tests/make_hostile_corpus.sh builds a folder of
// everything an archive eventually contains (empty, random, truncated,
// corrupt, audio-only, still image, unknown codec, absurd size, zero frames,
// unreadable, odd names, symlink loop, bad timestamps); one `vidsift run`
// over it must give every file a final row with a clear error (or `partial`
// with the frames that decoded) while the healthy files finish.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "test_util.h"
#include "vidsift/pipeline.h"

namespace fs = std::filesystem;
using namespace vidsift::test;

namespace {

struct Corpus {
  std::unique_ptr<TempDir> dir;
  fs::path db;
  CommandResult run;
  std::map<std::string, std::vector<std::string>> rows;  // file name -> status, frames, error
};

const Corpus& corpus() {
  static Corpus c = [] {
    Corpus k;
    k.dir = std::make_unique<TempDir>("hostile");
    const fs::path in = k.dir->path() / "in";
    const auto made =
        run_command("bash " + sh_quote(std::string(VIDSIFT_SOURCE_DIR) + "/tests/make_hostile_corpus.sh") + " " +
                    sh_quote(in.string()));
    EXPECT_EQ(made.status, 0) << made.output;
    k.db = k.dir->path() / "h.db";
    k.run = run_command(sh_quote(vidsift_binary()) + " run " + sh_quote(in.string()) + " --db " +
                        sh_quote(k.db.string()) + " --progress=false --video-timeout 60");
    for (const auto& r : query_db(k.db, "SELECT path_bytes, status, frames_analysed, COALESCE(error,'') FROM videos"))
      k.rows[fs::path(r[0]).filename().string()] = {r[1], r[2], r[3]};
    return k;
  }();
  return c;
}

void expect_failed(const std::string& name, const std::string& error_part) {
  const auto& c = corpus();
  auto it = c.rows.find(name);
  ASSERT_NE(it, c.rows.end()) << name << " has no row\n" << c.run.output;
  EXPECT_EQ(it->second[0], "failed") << name;
  EXPECT_NE(it->second[2].find(error_part), std::string::npos) << name << ": " << it->second[2];
}

}  // namespace

TEST(Hostile, RunFinishesWithExitOneAndEveryFileHasAFinalRow) {
  const auto& c = corpus();
  EXPECT_EQ(c.run.status, 1) << c.run.output;
  EXPECT_EQ(query_int(c.db, "SELECT COUNT(*) FROM videos WHERE status='running'"), 0);
  EXPECT_EQ(query_int(c.db, "SELECT COUNT(*) FROM videos WHERE status<>'done' AND length(error) < 10"), 0);
  EXPECT_EQ(query_db(c.db, "SELECT status FROM runs")[0][0], "finished");
  EXPECT_NE(c.run.output.find("symlink loop"), std::string::npos) << c.run.output;
}

TEST(Hostile, HealthyFilesAndOddNamesAreDone) {
  const auto& c = corpus();
  for (const std::string name : {"good.mp4", "name with spaces.mp4", "latin1_\xe9t\xe9.mp4"}) {
    auto it = c.rows.find(name);
    ASSERT_NE(it, c.rows.end()) << name;
    EXPECT_EQ(it->second[0], "done") << name;
    EXPECT_EQ(it->second[1], "50") << name;
  }
}

// The odd names (Latin-1, ...) keep their exact bytes in path_bytes, and
// every TEXT column and view reads in Python's sqlite3, which refuses
// invalid UTF-8.
TEST(Hostile, EveryTableAndViewReadsInPython) {
  const auto& c = corpus();
  const auto py = run_command(
      "/usr/bin/python3 -c \"import sqlite3, sys\n"
      "c = sqlite3.connect(sys.argv[1])\n"
      "for t in ['runs','videos','frames','detections','timings','finished_videos','per_video_label_counts',"
      "'per_minute_label_counts']: c.execute('SELECT * FROM ' + t).fetchall()\n"
      "print('read', len(c.execute('SELECT path FROM videos').fetchall()))\" " +
      sh_quote(c.db.string()));
  EXPECT_EQ(py.status, 0) << py.output;
  EXPECT_NE(py.output.find("read "), std::string::npos) << py.output;
}

TEST(Hostile, UnopenableFilesFailWithClearErrors) {
  expect_failed("zero_bytes.mp4", "cannot open");
  expect_failed("random_bytes.mp4", "cannot open");
  expect_failed("truncated_no_moov.mp4", "cannot open");
  expect_failed("audio_only.mp4", "no video stream");
  expect_failed("still_image.mp4", "still image");
  expect_failed("unknown_codec.avi", "no decoder");
  expect_failed("absurd_dimensions.y4m", "");
  expect_failed("zero_frames.mkv", "");
}

TEST(Hostile, DamagedStreamsKeepWhatDecoded) {
  const auto& c = corpus();
  for (const std::string name : {"corrupt.mp4", "truncated.ts"}) {
    auto it = c.rows.find(name);
    ASSERT_NE(it, c.rows.end()) << name;
    EXPECT_EQ(it->second[0], "partial") << name << ": " << it->second[2];
    EXPECT_GT(std::stoi(it->second[1]), 10) << name;
    EXPECT_FALSE(it->second[2].empty()) << name;
  }
}

TEST(Hostile, BadTimestampsStillGiveUniqueOrderedFrames) {
  const auto& c = corpus();
  auto it = c.rows.find("bad_timestamps.ts");
  ASSERT_NE(it, c.rows.end());
  EXPECT_NE(it->second[0], "failed") << it->second[2];
  EXPECT_EQ(it->second[1], "75");
  EXPECT_EQ(query_int(c.db,
                      "SELECT COUNT(DISTINCT frame_index) FROM frames f JOIN videos v ON v.id=f.video_id "
                      "WHERE v.path LIKE '%bad_timestamps.ts'"),
            75);
}

TEST(Hostile, UnreadableFileFailsUnlessRoot) {
  const auto& c = corpus();
  auto it = c.rows.find("unreadable.mp4");
  ASSERT_NE(it, c.rows.end());
  if (geteuid() == 0) {
    EXPECT_EQ(it->second[0], "done") << "root reads any file";
  } else {
    EXPECT_EQ(it->second[0], "failed");
    EXPECT_NE(it->second[2].find("ermission"), std::string::npos) << it->second[2];
  }
}

TEST(Hostile, FileVanishingBeforeDecodingIsAFailedRow) {
  TempDir d("vanish");
  const fs::path clip = d / "gone.mp4";
  ASSERT_TRUE(make_clip(clip, "-f lavfi -i testsrc2=size=64x48:rate=5 -frames:v 5 -c:v libx264"));
  vidsift::VideoJob job;
  job.file.path = clip.string();
  job.file.size = static_cast<std::int64_t>(fs::file_size(clip));
  job.fingerprint = "x";
  fs::remove(clip);  // discovered, then gone
  vidsift::ModelOptions mo;
  mo.model = model_path("yolox_nano.onnx").string();
  const auto model = vidsift::load_model(mo);
  vidsift::Store store((d / "v.db").string());
  const auto run = store.begin_run({});
  auto res = vidsift::Pipeline(model, store, run, "k", {}).run({job});
  EXPECT_EQ(res.videos_failed, 1);
  EXPECT_NE(store.query("SELECT error FROM videos")[0][0].find("No such file"), std::string::npos);
}

// As root every file is readable, so the corpus run above cannot show the
// permission error. Here the CLI runs as `nobody` (setpriv) on a copy of
// itself, the model and the inputs in a world-readable directory.
TEST(Hostile, UnreadableFileFailsWithPermissionDeniedForAnOrdinaryUser) {
  if (geteuid() != 0) GTEST_SKIP() << "not root: UnreadableFileFailsUnlessRoot checks the error directly";
  ASSERT_EQ(run_command("command -v setpriv").status, 0) << "setpriv (util-linux) is needed";
  std::string tmpl = (fs::temp_directory_path() / "vidsift-perm-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{dir};
  const fs::path in = dir / "in";
  fs::create_directories(in);
  const fs::path good = in / "good.mp4";
  ASSERT_TRUE(make_clip(good, "-f lavfi -i testsrc2=size=64x48:rate=5 -frames:v 5 -c:v libx264 -pix_fmt yuv420p"));
  fs::copy_file(good, in / "secret.mp4");
  fs::copy_file(vidsift_binary(), dir / "vidsift");
  fs::copy_file(model_path("yolox_nano.onnx"), dir / "yolox_nano.onnx");
  using P = fs::perms;
  fs::permissions(dir, P::all);
  fs::permissions(in, P::owner_all | P::group_read | P::group_exec | P::others_read | P::others_exec);
  fs::permissions(in / "secret.mp4", P::none);
  const auto r =
      run_command("setpriv --reuid=65534 --regid=65534 --clear-groups " + sh_quote((dir / "vidsift").string()) +
                  " run " + sh_quote(in.string()) + " --db " + sh_quote((dir / "p.db").string()) + " --model " +
                  sh_quote((dir / "yolox_nano.onnx").string()) + " --progress=false");
  EXPECT_EQ(r.status, 1) << r.output;
  const auto rows = query_db(dir / "p.db", "SELECT path, status, COALESCE(error,'') FROM videos ORDER BY path");
  ASSERT_EQ(rows.size(), 2u) << r.output;
  EXPECT_EQ(fs::path(rows[0][0]).filename(), "good.mp4");
  EXPECT_EQ(rows[0][1], "done");
  EXPECT_EQ(fs::path(rows[1][0]).filename(), "secret.mp4");
  EXPECT_EQ(rows[1][1], "failed");
  EXPECT_NE(rows[1][2].find("ermission"), std::string::npos) << rows[1][2];
}
