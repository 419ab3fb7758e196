// Crash safety of real `vidsift run` processes: SIGKILL at random moments
// (seed printed; set VIDSIFT_CRASH_SEED to replay) followed by a rerun must
// leave exactly the detections of an uninterrupted run; SIGTERM/SIGINT stop
// cleanly with 143/130, record the end of the run and keep what was analysed
// as `interrupted`. Resume (Resume.*): on a long clip, a rerun after SIGINT,
// SIGKILL or --video-timeout continues after the last stored frame (it
// analyses only the rest, and the decoder seeks) and ends identical to an
// uninterrupted run; the summary printed at the interruption matches the
// database.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <regex>
#include <thread>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace vidsift::test;

namespace {

// Four 10-second pieces of vtest.avi (pedestrians throughout), cached.
std::vector<fs::path> corpus() {
  std::vector<fs::path> out;
  for (int i = 0; i < 4; ++i) {
    const fs::path p = clip_cache_dir() / ("crash_part" + std::to_string(i) + ".avi");
    EXPECT_TRUE(make_clip(p, "-ss " + std::to_string(i * 15) + " -t 10 -i " +
                                 sh_quote(video_path("vtest.avi").string()) + " -c:v mpeg4 -q:v 4 -g 25"));
    out.push_back(p);
  }
  return out;
}

std::vector<std::string> run_args(const fs::path& dir, const fs::path& db) {
  // Every 4th frame (25 a clip): the kill test alone makes 19 runs.
  return {vidsift_binary(), "run", dir.string(), "--db", db.string(), "--every", "4", "--progress=false"};
}

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int wait_status(pid_t pid) {
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

int run_to_end(const std::vector<std::string>& args) { return wait_status(spawn(args)); }

// Everything a user would read, in a canonical order (video ids differ).
std::vector<std::vector<std::string>> results(const fs::path& db) {
  return query_db(db,
                  "SELECT v.path, d.frame_index, d.class_id, printf('%.4f', d.confidence), "
                  "printf('%.1f %.1f %.1f %.1f', d.x, d.y, d.w, d.h) FROM detections d JOIN videos v ON "
                  "v.id=d.video_id ORDER BY 1, 2, 3, 4, 5");
}

struct Reference {
  fs::path dir;
  std::vector<std::vector<std::string>> rows;
  long long frames = 0;
  double wall = 0;
};

const Reference& reference(const TempDir& tmp) {
  static Reference ref = [&] {
    Reference r;
    r.dir = tmp / "videos";
    fs::create_directories(r.dir);
    for (const auto& p : corpus()) fs::copy_file(p, r.dir / p.filename(), fs::copy_options::overwrite_existing);
    const fs::path db = tmp / "clean.db";
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(run_to_end(run_args(r.dir, db)), 0);
    r.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.rows = results(db);
    r.frames = query_int(db, "SELECT COUNT(*) FROM frames");
    return r;
  }();
  return ref;
}

void expect_same_as_reference(const fs::path& db, const Reference& ref, const std::string& what) {
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos WHERE status NOT IN ('done')"), 0) << what;
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos"), 4) << what;
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM frames"), ref.frames) << what;
  const auto rows = results(db);
  EXPECT_EQ(rows.size(), ref.rows.size()) << what;
  EXPECT_TRUE(rows == ref.rows) << what << ": detections differ from the clean run";
}

TempDir& shared_tmp() {
  static TempDir t("crash");
  return t;
}

}  // namespace

TEST(Crash, KillNineAtRandomMomentsThenRerun) {
  const Reference& ref = reference(shared_tmp());
  ASSERT_EQ(ref.frames, 100);  // 4 clips x 100 frames, every 4th
  ASSERT_GT(ref.rows.size(), 100u);

  unsigned seed = std::random_device{}();
  if (const char* s = std::getenv("VIDSIFT_CRASH_SEED")) seed = static_cast<unsigned>(std::stoul(s));
  std::printf("crash test seed: %u (replay with VIDSIFT_CRASH_SEED=%u)\n", seed, seed);
  std::mt19937 rng(seed);
  // Kill points spread over start-up, decoding and the last commits.
  std::uniform_real_distribution<double> when(0.05, std::max(0.5, ref.wall * 1.05));

  constexpr int kKills = 6;
  for (int k = 0; k < kKills; ++k) {
    const double at = when(rng);
    const fs::path db = shared_tmp() / ("kill" + std::to_string(k) + ".db");
    const pid_t pid = spawn(run_args(ref.dir, db));
    std::this_thread::sleep_for(std::chrono::duration<double>(at));
    kill(pid, SIGKILL);
    const int st = wait_status(pid);
    const std::string what =
        "kill #" + std::to_string(k) + " at " + std::to_string(at) + " s (status " + std::to_string(st) + ")";
    // Rerun to completion (twice: the second must be a no-op).
    EXPECT_EQ(run_to_end(run_args(ref.dir, db)), 0) << what;
    expect_same_as_reference(db, ref, what);
    EXPECT_EQ(run_to_end(run_args(ref.dir, db)), 0) << what;
    expect_same_as_reference(db, ref, what + ", second rerun");
  }
}

TEST(Crash, SigtermStopsCleanlyAndRerunCompletes) {
  const Reference& ref = reference(shared_tmp());
  for (int sig : {SIGTERM, SIGINT}) {
    const fs::path db = shared_tmp() / ("term" + std::to_string(sig) + ".db");
    const pid_t pid = spawn(run_args(ref.dir, db));
    std::this_thread::sleep_for(std::chrono::duration<double>(ref.wall * 0.4));
    const auto t0 = std::chrono::steady_clock::now();
    kill(pid, sig);
    const int st = wait_status(pid);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(st, 128 + sig);
    EXPECT_LT(took, 5.0) << "stopping took too long";
    EXPECT_EQ(query_db(db, "SELECT status FROM runs")[0][0], "interrupted");
    EXPECT_NE(query_db(db, "SELECT finished_at FROM runs")[0][0], "");
    // Videos in flight are kept as `interrupted`; the others are done.
    EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos WHERE status NOT IN ('done','interrupted')"), 0);
    // Every video row holds exactly the frames it says.
    EXPECT_EQ(query_int(db,
                        "SELECT COUNT(*) FROM videos v WHERE frames_analysed <> (SELECT COUNT(*) FROM frames f "
                        "WHERE f.video_id=v.id)"),
              0);
    EXPECT_EQ(run_to_end(run_args(ref.dir, db)), 0);
    expect_same_as_reference(db, ref, "after signal " + std::to_string(sig));
  }
}

// --- resume -------------------------------------------------------------------

namespace {

// 40 s of vtest.avi at 10 fps, MPEG-4 in AVI with a key frame every 25
// frames: a resume point's key frame is at most 2.5 s back.
fs::path long_clip() {
  const fs::path p = clip_cache_dir() / "resume_long_40s.avi";
  EXPECT_TRUE(make_clip(p, "-t 40 -i " + sh_quote(video_path("vtest.avi").string()) + " -c:v mpeg4 -q:v 4 -g 25"));
  return p;
}

std::vector<std::string> resume_args(const fs::path& video, const fs::path& db,
                                     const std::vector<std::string>& extra = {}) {
  std::vector<std::string> a = {vidsift_binary(),
                                "run",
                                video.string(),
                                "--db",
                                db.string(),
                                "--every",
                                "5",
                                "--model",
                                model_path("yolox_nano.onnx").string(),
                                "--progress=false"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// Like spawn(), with stderr kept in `err`.
pid_t spawn_logged(const std::vector<std::string>& args, const fs::path& err) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    const int log = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(devnull, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct LongReference {
  fs::path video;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::vector<std::string>> frames;  // frame_index, ts
  long long frame_count = 0;                     // frames decoded by the clean run
  double wall = 0;
};

std::vector<std::vector<std::string>> frame_rows(const fs::path& db) {
  return query_db(db, "SELECT frame_index, printf('%.4f', ts) FROM frames ORDER BY frame_index");
}

const LongReference& long_reference() {
  static LongReference ref = [] {
    LongReference r;
    r.video = shared_tmp() / "long.avi";
    fs::copy_file(long_clip(), r.video, fs::copy_options::overwrite_existing);
    const fs::path db = shared_tmp() / "long-clean.db";
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(run_to_end(resume_args(r.video, db)), 0);
    r.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.rows = results(db);
    r.frames = frame_rows(db);
    r.frame_count = query_int(db, "SELECT frame_count FROM videos");
    return r;
  }();
  return ref;
}

// The interrupted row holds a prefix of the clean run's frames, in order,
// with no hole, and its counts agree with the tables.
long long expect_clean_prefix(const fs::path& db, const LongReference& ref, const std::string& what) {
  const auto got = frame_rows(db);
  EXPECT_LT(got.size(), ref.frames.size()) << what;
  EXPECT_TRUE(std::equal(got.begin(), got.end(), ref.frames.begin())) << what << ": not a prefix of the clean run";
  EXPECT_EQ(query_int(db,
                      "SELECT COUNT(*) FROM videos v WHERE frames_analysed <> (SELECT COUNT(*) FROM frames f "
                      "WHERE f.video_id=v.id)"),
            0)
      << what;
  return static_cast<long long>(got.size());
}

// The rerun analysed only the frames after the resume point, decoded less
// than a run from the start would have, and the result is the clean run's.
void expect_resumed_to_clean(const fs::path& db, const LongReference& ref, long long kept, const std::string& what) {
  EXPECT_EQ(query_db(db, "SELECT status FROM videos")[0][0], "done") << what;
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos"), 1) << what;
  EXPECT_TRUE(frame_rows(db) == ref.frames) << what << ": frames differ from the clean run";
  EXPECT_TRUE(results(db) == ref.rows) << what << ": detections differ from the clean run";
  const long long last_run = query_int(db, "SELECT MAX(id) FROM runs");
  EXPECT_EQ(query_int(db, "SELECT frames_analysed FROM runs WHERE id=" + std::to_string(last_run)),
            static_cast<long long>(ref.frames.size()) - kept)
      << what << ": the rerun did not resume after the stored frames";
  EXPECT_EQ(query_int(db, "SELECT frames_analysed FROM videos"), static_cast<long long>(ref.frames.size())) << what;
}

// The rerun's decoder sought to the key frame before the resume point (one
// every 25 frames) instead of decoding from the start: videos.frame_count sums
// the frames decoded by every run that worked on the video.
void expect_sought(const fs::path& db, const LongReference& ref, long long decoded_before, long long last_index,
                   const std::string& what) {
  if (last_index < 25) return;  // the key frame before it is the first one
  const long long decoded_by_rerun = query_int(db, "SELECT frame_count FROM videos") - decoded_before;
  EXPECT_LE(decoded_by_rerun, ref.frame_count - last_index + 25) << what << ": the rerun did not seek";
}

unsigned test_seed() {
  unsigned seed = std::random_device{}();
  if (const char* s = std::getenv("VIDSIFT_CRASH_SEED")) seed = static_cast<unsigned>(std::stoul(s));
  std::printf("resume test seed: %u (replay with VIDSIFT_CRASH_SEED=%u)\n", seed, seed);
  return seed;
}

// Waits until the run writing `db` has committed at least `frames` frames
// (or 60 s pass). Killing at a point of progress rather than of time: a
// later run is faster than the first (warm caches), so a moment drawn from
// the first run's wall time may come after the run has finished.
void wait_for_frames(const fs::path& db, long long frames) {
  for (int i = 0; i < 6000; ++i) {
    if (fs::exists(db) &&
        query_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='frames'") == 1 &&
        query_int(db, "SELECT COUNT(*) FROM frames") >= frames)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

TEST(Resume, SigintKeepsWhatWasAnalysedAndTheRerunResumesFromThere) {
  const LongReference& ref = long_reference();
  ASSERT_EQ(ref.frames.size(), 80u);  // 400 frames, every 5th
  std::mt19937 rng(test_seed());
  // Somewhere in the analysis, never at its very start or end.
  const long long at = std::uniform_int_distribution<long long>(8, 48)(rng);
  const fs::path db = shared_tmp() / "resume-int.db";
  const fs::path log = shared_tmp() / "resume-int.log";
  const pid_t pid = spawn_logged(resume_args(ref.video, db), log);
  wait_for_frames(db, at);
  kill(pid, SIGINT);
  ASSERT_EQ(wait_status(pid), 130) << read_text(log);
  const std::string what = "SIGINT after " + std::to_string(at) + " frames";

  ASSERT_EQ(query_db(db, "SELECT status FROM videos"), (std::vector<std::vector<std::string>>{{"interrupted"}}))
      << what << "\n"
      << read_text(log);
  const long long kept = expect_clean_prefix(db, ref, what);
  ASSERT_GT(kept, 0) << what;
  // The summary printed says what the database holds.
  const long long dets = query_int(db, "SELECT COUNT(*) FROM detections");
  const std::string out = read_text(log);
  EXPECT_NE(out.find("this run analysed " + std::to_string(kept) + " frame(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("detections " + std::to_string(dets) + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("1 interrupted"), std::string::npos) << out;
  // A log line like any other: the signal's notice carries the UTC time, and
  // no empty (or time-only) line comes before it.
  {
    const std::regex notice(R"((^|\n)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ vidsift: SIGINT received: finishing videos in )"
                            R"(flight, then stopping\n)");
    EXPECT_TRUE(std::regex_search(out, notice)) << out;
    EXPECT_FALSE(std::regex_search(out, std::regex(R"((^|\n)(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ?)?\n)"))) << out;
  }
  EXPECT_EQ(query_int(db, "SELECT frames_analysed FROM runs"), kept);
  EXPECT_EQ(query_int(db, "SELECT detections FROM runs"), dets);
  // Only finished results are in the views.
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM per_video_label_counts"), 0);

  const long long decoded_before = query_int(db, "SELECT frame_count FROM videos");
  const long long last_index = query_int(db, "SELECT MAX(frame_index) FROM frames");
  EXPECT_EQ(run_to_end(resume_args(ref.video, db)), 0) << what;
  expect_resumed_to_clean(db, ref, kept, what);
  expect_sought(db, ref, decoded_before, last_index, what);
  // A third run has nothing to do.
  EXPECT_EQ(run_to_end(resume_args(ref.video, db)), 0) << what;
  EXPECT_TRUE(results(db) == ref.rows) << what;
}

TEST(Resume, KillNineAtRandomMomentsThenTheRerunResumes) {
  const LongReference& ref = long_reference();
  std::mt19937 rng(test_seed());
  for (int k = 0; k < 2; ++k) {
    const long long at = std::uniform_int_distribution<long long>(8, 56)(rng);
    const fs::path db = shared_tmp() / ("resume-kill" + std::to_string(k) + ".db");
    const pid_t pid = spawn(resume_args(ref.video, db));
    wait_for_frames(db, at);
    kill(pid, SIGKILL);
    wait_status(pid);
    const std::string what = "kill -9 #" + std::to_string(k) + " after " + std::to_string(at) + " frames";
    // What the killed run committed is a clean prefix (the row is `running`
    // until the rerun finds its process gone).
    const long long kept = expect_clean_prefix(db, ref, what);
    const long long last_index = kept > 0 ? query_int(db, "SELECT MAX(frame_index) FROM frames") : -1;
    EXPECT_EQ(run_to_end(resume_args(ref.video, db)), 0) << what;
    expect_resumed_to_clean(db, ref, kept, what);
    // videos.frame_count was not recorded by the killed run: all of it is the rerun's.
    expect_sought(db, ref, 0, last_index, what);
  }
}

// --video-timeout stops a video as `interrupted` (exit 1); each rerun goes on
// where the last stopped, and the last one completes it.
TEST(Resume, VideoTimeoutResumesAcrossReruns) {
  const LongReference& ref = long_reference();
  const fs::path db = shared_tmp() / "resume-timeout.db";
  const double budget = std::max(1.0, ref.wall / 3);
  const std::vector<std::string> extra = {"--video-timeout", std::to_string(budget)};
  int runs = 0;
  long long before = 0;
  for (; runs < 10; ++runs) {
    const int st = run_to_end(resume_args(ref.video, db, extra));
    const std::string status = query_db(db, "SELECT status FROM videos")[0][0];
    const long long now = query_int(db, "SELECT COUNT(*) FROM frames");
    if (status == "done") {
      EXPECT_EQ(st, 0);
      break;
    }
    EXPECT_EQ(st, 1) << "run " << runs;
    EXPECT_EQ(status, "interrupted") << "run " << runs;
    EXPECT_GT(now, before) << "run " << runs << " made no progress";
    expect_clean_prefix(db, ref, "timeout run " + std::to_string(runs));
    before = now;
  }
  EXPECT_GE(runs, 1) << "the budget never ran out: the test proves nothing";
  EXPECT_TRUE(frame_rows(db) == ref.frames);
  EXPECT_TRUE(results(db) == ref.rows);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos"), 1);
  // No run analysed a frame twice.
  EXPECT_EQ(query_int(db, "SELECT SUM(frames_analysed) FROM runs"), static_cast<long long>(ref.frames.size()));
}
