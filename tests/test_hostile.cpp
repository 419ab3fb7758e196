// Hostile inputs, end to end: tests/make_hostile_corpus.sh builds a folder of
// everything an archive eventually contains (empty, random, truncated,
// corrupt, audio-only, still image, unknown codec, absurd size, zero frames,
// unreadable, odd names, symlink loop, bad timestamps, clips stored turned
// or mirrored with a display matrix, a thumbnail track, a mid-stream
// resolution change); one `vidsift run`
// over it must give every file a final row with a clear error (or `partial`
// with the frames that decoded) while the healthy files finish.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

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
                    sh_quote(in.string()) + " " + sh_quote(video_path("vtest.avi").string()));
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

std::string cli() {
  return sh_quote(vidsift_binary()) + " --model " + sh_quote(model_path("yolox_nano.onnx").string()) +
         " --progress=false";
}

// Runs the CLI with a hard time limit: a run that hangs fails the test
// instead of blocking ctest (status 137 = killed by `timeout`).
CommandResult run_bounded(const std::string& args, int seconds = 60) {
  return run_command("timeout -s KILL " + std::to_string(seconds) + " " + cli() + " " + args);
}

std::map<std::string, std::vector<std::string>> rows_by_name(const fs::path& db) {
  std::map<std::string, std::vector<std::string>> rows;
  for (const auto& r : query_db(db, "SELECT path, status, frames_analysed, COALESCE(error,'') FROM videos"))
    rows[fs::path(r[0]).filename().string()] = {r[1], r[2], r[3]};
  return rows;
}

// A small clip in the shared cache (ffmpeg arguments before the output).
fs::path cached(const std::string& name, const std::string& args) {
  const fs::path p = clip_cache_dir() / name;
  EXPECT_TRUE(make_clip(p, args)) << name;
  return p;
}

std::string ts_chunk(double seconds) {
  return "-f lavfi -i testsrc2=size=64x48:rate=25 -t " + std::to_string(seconds) +
         " -c:v libx264 -g 25 -pix_fmt yuv420p -f mpegts";
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
  expect_failed("no_sps.ts", "no decodable key frame / missing parameter sets");
}

// Issue 10, defect 9: a playlist or concat script is refused, not followed.
TEST(Hostile, PlaylistsAndConcatScriptsAreRefused) {
  expect_failed("hls_playlist.mp4", "refused: this is a playlist");
  expect_failed("ffconcat.mp4", "refused: this is a playlist");
  EXPECT_EQ(corpus().rows.count("walked_fifo.mp4"), 0u) << "a walk lists regular files only";
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

// ---- issue 10: inputs that hang, lie or vanish ---------------------------------

// Defect 1: a FIFO blocked open() for ever, before anything was analysed.
// FIFOs (named, in an @list, /dev/stdin fed by a pipe) and "-" are failed
// rows; the good clip is done and the run ends.
TEST(Hostile, FifosAndStdinAreFailedRowsAndTheRunEnds) {
  TempDir d("fifo_rows");
  const fs::path good = d / "good.mp4";
  ASSERT_TRUE(make_clip(good, "-f lavfi -i testsrc2=size=64x48:rate=5 -frames:v 5 -c:v libx264 -pix_fmt yuv420p"));
  ASSERT_EQ(::mkfifo((d / "named.mp4").c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo((d / "listed.mp4").c_str(), 0600), 0);
  {
    std::ofstream list(d / "list.txt");
    list << "listed.mp4\n";
  }
  const fs::path db = d / "f.db";
  const auto r = run_command("printf 'not a video' | timeout -s KILL 60 " + cli() + " run " +
                             sh_quote((d / "named.mp4").string()) + " @" + sh_quote((d / "list.txt").string()) +
                             " /dev/stdin - " + sh_quote(good.string()) + " --db " + sh_quote(db.string()));
  ASSERT_EQ(r.status, 1) << r.output;
  const auto rows = rows_by_name(db);
  ASSERT_EQ(rows.size(), 5u) << r.output;
  EXPECT_EQ(rows.at("good.mp4")[0], "done");
  for (const std::string name : {"named.mp4", "listed.mp4", "stdin"}) {
    EXPECT_EQ(rows.at(name)[0], "failed") << name;
    EXPECT_NE(rows.at(name)[2].find("not a regular file"), std::string::npos) << name << ": " << rows.at(name)[2];
  }
  EXPECT_NE(rows.at("-")[2].find("standard input"), std::string::npos) << rows.at("-")[2];
  EXPECT_EQ(query_db(db, "SELECT status FROM runs")[0][0], "finished");
}

// Defect 1: SIGTERM was ignored while a stage was blocked (here a FIFO that
// the test itself holds open read-write, so opening it succeeds and reading
// it would block for ever). The run stops within seconds, nothing stays
// `running`, and the run is recorded as interrupted.
TEST(Hostile, SigtermStopsARunWithinSecondsWhateverItWaitsFor) {
  TempDir d("fifo_term");
  const fs::path clip =
      cached("hostile_long_320.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25 -t 60 -c:v libx264 -pix_fmt yuv420p");
  const fs::path fifo = d / "stalled.mp4";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int hold = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK);  // a writer exists: reads wait, not open()
  ASSERT_GE(hold, 0);
  const fs::path db = d / "t.db";
  const std::vector<std::string> args = {vidsift_binary(),
                                         "run",
                                         fifo.string(),
                                         clip.string(),
                                         "--db",
                                         db.string(),
                                         "--model",
                                         model_path("yolox_nano.onnx").string(),
                                         "--progress=false"};
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  // Wait until the clip is being analysed.
  for (int i = 0; i < 300; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // (sqlite3 CLI: the schema may not exist yet, which is no test failure)
    if (run_command("sqlite3 -readonly " + sh_quote(db.string()) +
                    " \"SELECT COUNT(*) FROM videos WHERE status='running'\" 2>/dev/null")
            .output.rfind("1", 0) == 0)
      break;
  }
  const auto t0 = std::chrono::steady_clock::now();
  kill(pid, SIGTERM);
  int st = 0;
  bool exited = false;
  while (!exited && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30)) {
    exited = waitpid(pid, &st, WNOHANG) == pid;
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
  }
  ::close(hold);
  ASSERT_TRUE(exited) << "still running 30 s after SIGTERM";
  EXPECT_LT(took, 5.0) << "stopping took too long";
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 143);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos WHERE status='running'"), 0);
  EXPECT_EQ(query_db(db, "SELECT status FROM runs")[0][0], "interrupted");
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos WHERE status='failed' AND error LIKE 'not a regular file%'"), 1);
}

// Defect 9: a playlist pointing at a real local clip was recorded `done`
// with that clip's frames. It is refused; nothing else is read (the other
// clip gets no row and no frames), and neither is a network URL.
TEST(Hostile, PlaylistPointingAtAnotherClipIsRefusedNotFollowed) {
  TempDir d("playlist");
  fs::create_directories(d / "in");
  fs::create_directories(d / "elsewhere");
  const fs::path other = d / "elsewhere" / "other.mp4";
  ASSERT_TRUE(make_clip(other, "-f lavfi -i testsrc2=size=64x48:rate=5 -frames:v 5 -c:v libx264 -pix_fmt yuv420p"));
  {
    std::ofstream(d / "in" / "hls.mp4") << "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\n../elsewhere/other.mp4\n"
                                           "#EXT-X-ENDLIST\n";
    std::ofstream(d / "in" / "concat.mov") << "ffconcat version 1.0\nfile '" << other.string() << "'\n";
    std::ofstream(d / "in" / "net.mp4") << "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\nhttp://127.0.0.1:9/x.ts\n"
                                           "#EXT-X-ENDLIST\n";
  }
  const fs::path db = d / "p.db";
  const auto r = run_bounded("run " + sh_quote((d / "in").string()) + " --db " + sh_quote(db.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  const auto rows = rows_by_name(db);
  ASSERT_EQ(rows.size(), 3u) << r.output;
  for (const auto& [name, row] : rows) {
    EXPECT_EQ(row[0], "failed") << name;
    EXPECT_EQ(row[1], "0") << name;
    EXPECT_NE(row[2].find("refused: this is a playlist, concat script or manifest"), std::string::npos)
        << name << ": " << row[2];
  }
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM frames"), 0);
}

// Defect 2: on MPEG-TS with B-frames, --start 3 began at the next key frame
// (10 s), or found no frame at all before --end. Key frames every 10 s.
TEST(Hostile, StartOnMpegTsWithBFramesBeginsAtStart) {
  const fs::path ts = cached("hostile_bframes_gop250.ts",
                             "-f lavfi -i testsrc2=size=64x48:rate=25 -t 20 -c:v libx264 -g 250 -keyint_min 250 "
                             "-sc_threshold 0 -bf 3 -pix_fmt yuv420p -f mpegts");
  TempDir d("bstart");
  const fs::path db = d / "s.db";
  const auto r = run_bounded("run " + sh_quote(ts.string()) + " --start 3 --end 3.5 --db " + sh_quote(db.string()));
  EXPECT_EQ(r.status, 0) << r.output;
  const auto rows = rows_by_name(db);
  ASSERT_EQ(rows.size(), 1u) << r.output;
  EXPECT_EQ(rows.begin()->second[0], "done") << rows.begin()->second[2];
  EXPECT_EQ(rows.begin()->second[1], "13");  // 3.00, 3.04, ..., 3.48
  const auto first = query_db(db, "SELECT MIN(ts), MIN(frame_index) FROM frames");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_NEAR(std::stod(first[0][0]), 3.0, 0.05);
  EXPECT_EQ(first[0][1], "75");
}

// Defect 6: TS recordings joined byte by byte restart their timestamps at
// each join; --fps analysed the first chunk only and said `done`.
TEST(Hostile, FpsOnByteJoinedMpegTsCoversEveryChunk) {
  const fs::path chunk = cached("hostile_chunk_2s.ts", ts_chunk(2.0));
  TempDir d("joined");
  const fs::path joined = d / "joined.ts";
  ASSERT_EQ(run_command("cat " + sh_quote(chunk.string()) + " " + sh_quote(chunk.string()) + " " +
                        sh_quote(chunk.string()) + " > " + sh_quote(joined.string()))
                .status,
            0);
  const fs::path db = d / "j.db";
  const auto r = run_bounded("run " + sh_quote(joined.string()) + " --fps 1 --db " + sh_quote(db.string()));
  EXPECT_EQ(r.status, 0) << r.output;
  const auto rows = rows_by_name(db);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.at("joined.ts")[0], "done") << rows.at("joined.ts")[2];
  EXPECT_EQ(rows.at("joined.ts")[1], "6");
  const auto ts = query_db(db, "SELECT ts FROM frames ORDER BY frame_index");
  ASSERT_EQ(ts.size(), 6u);
  for (std::size_t i = 0; i < ts.size(); ++i) EXPECT_NEAR(std::stod(ts[i][0]), static_cast<double>(i), 0.05) << i;
}

// Defect 6, second half: when time goes backwards by less than a
// discontinuity (a 0.2 s chunk joined to a 1 s one) and the sampler drops
// frames for it, the video is `partial`, never `done`.
TEST(Hostile, TimestampsGoingBackwardsWithDroppedFramesAreNeverDone) {
  const fs::path a = cached("hostile_chunk_0.2s.ts", ts_chunk(0.2));
  const fs::path b = cached("hostile_chunk_1s.ts", ts_chunk(1.0));
  TempDir d("backwards");
  const fs::path joined = d / "back.ts";
  ASSERT_EQ(run_command("cat " + sh_quote(a.string()) + " " + sh_quote(b.string()) + " > " + sh_quote(joined.string()))
                .status,
            0);
  const fs::path db = d / "b.db";
  const auto r = run_bounded("run " + sh_quote(joined.string()) + " --fps 25 --db " + sh_quote(db.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  const auto rows = rows_by_name(db);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.at("back.ts")[0], "partial");
  EXPECT_NE(rows.at("back.ts")[2].find("timestamps went backwards"), std::string::npos) << rows.at("back.ts")[2];
}

namespace {

struct PersonBox {
  double x, y, w, h;
};

// Person boxes of the corpus file `name`, by frame index.
std::map<long long, std::vector<PersonBox>> person_boxes(const std::string& name) {
  std::map<long long, std::vector<PersonBox>> out;
  for (const auto& r : query_db(corpus().db,
                                "SELECT d.frame_index, d.x, d.y, d.w, d.h FROM detections d JOIN videos v ON "
                                "v.id=d.video_id WHERE d.label='person' AND v.path LIKE '%/" +
                                    name + "'"))
    out[std::stoll(r[0])].push_back({std::stod(r[1]), std::stod(r[2]), std::stod(r[3]), std::stod(r[4])});
  return out;
}

double iou(const PersonBox& a, const PersonBox& b) {
  const double ix = std::max(0.0, std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x));
  const double iy = std::max(0.0, std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y));
  const double inter = ix * iy;
  const double uni = a.w * a.h + b.w * b.h - inter;
  return uni > 0 ? inter / uni : 0.0;
}

std::vector<std::string> video_row(const std::string& name, const std::string& columns) {
  const auto rows = query_db(corpus().db, "SELECT " + columns + " FROM videos WHERE path LIKE '%/" + name + "'");
  if (rows.size() != 1) {
    ADD_FAILURE() << name << ": " << rows.size() << " rows";
    return {};
  }
  return rows[0];
}

}  // namespace

// A clip stored sideways, upside down or mirrored, with the display matrix
// that shows it upright, is analysed upright: the same people in the same
// places as in the upright clip (the pixels went through one more lossy
// encode, so a borderline detection may come and go), the upright size, and
// the turn recorded.
TEST(Hostile, TurnedClipsAreAnalysedUpright) {
  const auto upright = person_boxes("upright.mp4");
  std::size_t total = 0;
  for (const auto& [frame, boxes] : upright) total += boxes.size();
  ASSERT_GE(total, 20u) << "vtest.avi should show people";
  const struct {
    const char* name;
    const char* rotation;
    const char* mirrored;
  } turned[] = {{"turned_cw90.mp4", "90", "0"},
                {"turned_180.mp4", "180", "0"},
                {"turned_cw270.mp4", "270", "0"},
                {"mirrored.mp4", "0", "1"},
                {"transposed.mp4", "90", "1"}};
  for (const auto& t : turned) {
    SCOPED_TRACE(t.name);
    const auto row = video_row(t.name, "status, width, height, rotation, mirrored, frames_analysed");
    ASSERT_EQ(row.size(), 6u);
    EXPECT_EQ(row[0], "done");
    EXPECT_EQ(row[1] + "x" + row[2], "384x288");
    EXPECT_EQ(row[3], t.rotation);
    EXPECT_EQ(row[4], t.mirrored);
    EXPECT_EQ(row[5], "8");
    const auto got = person_boxes(t.name);
    std::size_t got_total = 0, unmatched = 0;
    for (const auto& [frame, boxes] : got) got_total += boxes.size();
    for (const auto& [frame, boxes] : upright) {
      const auto it = got.find(frame);
      for (const auto& b : boxes) {
        double best = 0;
        if (it != got.end())
          for (const auto& g : it->second) best = std::max(best, iou(b, g));
        if (best < 0.6) ++unmatched;
      }
    }
    EXPECT_LE(unmatched, 2u) << "of " << total << " upright person boxes";
    EXPECT_NEAR(static_cast<double>(got_total), static_cast<double>(total), 2.0);
  }
  const auto up = video_row("upright.mp4", "rotation, mirrored");
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[0] + up[1], "00");
}

// A default-disposition 160x120 thumbnail track before the real video: the
// larger video is analysed, and its stream index recorded.
TEST(Hostile, TheVideoIsAnalysedNotTheThumbnailTrack) {
  const auto row = video_row("two_video_streams.mp4", "status, width, height, stream_index, frames_analysed");
  ASSERT_EQ(row.size(), 5u);
  EXPECT_EQ(row[0], "done");
  EXPECT_EQ(row[1] + "x" + row[2], "384x288");
  EXPECT_EQ(row[3], "1");
  EXPECT_EQ(row[4], "4");
  EXPECT_FALSE(person_boxes("two_video_streams.mp4").empty());
}

// Frames of another size than the recorded one: boxes are mapped with the
// frame's own size into the recorded size (never outside it), and the change
// is noted on the row.
TEST(Hostile, ResolutionChangeKeepsBoxesInsideTheRecordedFrame) {
  const auto row = video_row("size_change.ts", "status, width, height, frames_analysed, COALESCE(warning, '')");
  ASSERT_EQ(row.size(), 5u);
  EXPECT_EQ(row[0], "done");
  EXPECT_EQ(row[3], "8");
  const double w = std::stod(row[1]), h = std::stod(row[2]);
  EXPECT_NE(row[4].find("resolution changes"), std::string::npos) << row[4];
  const auto boxes = person_boxes("size_change.ts");
  std::size_t before = 0, after = 0;
  for (const auto& [frame, bs] : boxes) {
    (frame < 4 ? before : after) += bs.size();
    for (const auto& b : bs) {
      EXPECT_LE(b.x + b.w, w + 0.01) << "frame " << frame;
      EXPECT_LE(b.y + b.h, h + 0.01) << "frame " << frame;
    }
  }
  EXPECT_GT(before, 0u);
  EXPECT_GT(after, 0u);
}

// Audio with a cover picture (an attached_pic video stream) is not a
// one-frame video.
TEST(Hostile, CoverArtAudioHasNoVideoStream) {
  TempDir d("cover");
  const fs::path png = d / "cover.png";
  ASSERT_TRUE(make_clip(png, "-f lavfi -i testsrc2=size=320x240 -frames:v 1"));
  const std::string audio = "-f lavfi -i sine=frequency=440:duration=2 -i " + sh_quote(png.string()) +
                            " -map 0:a -map 1:v -c:v png -disposition:v attached_pic ";
  const fs::path mp3 = d / "song.mp3", m4a = d / "song.m4a";
  ASSERT_TRUE(make_clip(mp3, audio + "-c:a libmp3lame"));
  ASSERT_TRUE(make_clip(m4a, audio + "-c:a aac"));
  const fs::path db = d / "c.db";
  const auto r = run_command(sh_quote(vidsift_binary()) + " run " + sh_quote(mp3.string()) + " " +
                             sh_quote(m4a.string()) + " --db " + sh_quote(db.string()) + " --progress=false");
  EXPECT_EQ(r.status, 1) << r.output;
  const auto rows = query_db(db, "SELECT status, COALESCE(error, ''), frames_analysed FROM videos ORDER BY path");
  ASSERT_EQ(rows.size(), 2u) << r.output;
  for (const auto& row : rows) {
    EXPECT_EQ(row[0], "failed");
    EXPECT_NE(row[1].find("no video stream"), std::string::npos) << row[1];
    EXPECT_EQ(row[2], "0");
  }
}
