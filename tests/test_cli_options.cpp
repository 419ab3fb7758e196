// End-to-end tests of the command line's options: the config/command-line
// precedence rule and yes/no options, the sparse-sampling note, the progress
// line as a terminal shows it (tmux), "did you mean", unknown class names
// and the rounding of stored coordinates. Real processes, real FFmpeg
// decoding, real models, real SQLite files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace vidsift::test;

namespace {

// 8 s of vtest.avi (people walking) as H.264 at 10 fps with one key frame
// (GOP 250): 80 frames, 1 key frame.
fs::path people_clip() {
  const fs::path p = clip_cache_dir() / "cli_options_people.mp4";
  EXPECT_TRUE(make_clip(
      p, "-i " + sh_quote(video_path("vtest.avi").string()) + " -t 8 -r 10 -c:v libx264 -g 250 -pix_fmt yuv420p -an"));
  return p;
}

CommandResult run_vidsift(const std::string& args) {
  return run_command(sh_quote(vidsift_binary()) + " " + args + " --progress=false");
}

std::string run_args(const fs::path& db, const std::string& extra) {
  return "run " + sh_quote(people_clip().string()) + " --db " + sh_quote(db.string()) + " " + extra;
}

void write_file(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

long long frames_analysed(const fs::path& db) { return query_int(db, "SELECT SUM(frames_analysed) FROM videos"); }

}  // namespace

// --- item 10: one precedence rule, yes/no options --------------------------

TEST(CliOptions, KeyframesFalseAfterTheOptionIsItsValueNotAnInput) {
  TempDir dir("cli-kf-false");
  write_file(dir / "kf.ini", "keyframes = true\n");
  const fs::path db = dir / "r.db";
  auto r = run_vidsift(run_args(db, "--config " + sh_quote((dir / "kf.ini").string()) + " --keyframes false"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos"), 1) << r.output;  // no video named "false"
  EXPECT_EQ(query_int(db, "SELECT json_extract(settings, '$.sampling.keyframes') FROM runs"), 0);
  EXPECT_EQ(frames_analysed(db), 80);
}

TEST(CliOptions, NoKeyframesAndEqualsFalseTurnTheConfigsKeyframesOff) {
  TempDir dir("cli-no-kf");
  write_file(dir / "kf.ini", "keyframes = true\n");
  for (const std::string off : {"--no-keyframes", "--keyframes=false", "--keyframes=no"}) {
    const fs::path db = dir / "r.db";
    fs::remove(db);
    auto r = run_vidsift(run_args(db, "--config " + sh_quote((dir / "kf.ini").string()) + " " + off));
    ASSERT_EQ(r.status, 0) << off << "\n" << r.output;
    EXPECT_EQ(frames_analysed(db), 80) << off;
  }
  // Without a command-line mode, the file's keyframes = true holds.
  const fs::path db = dir / "file.db";
  auto r = run_vidsift(run_args(db, "--config " + sh_quote((dir / "kf.ini").string())));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(frames_analysed(db), 1);
}

TEST(CliOptions, CommandLineSamplingReplacesTheConfigsKeyframes) {
  TempDir dir("cli-fps-vs-kf");
  write_file(dir / "kf.ini", "keyframes = true\n");
  const fs::path db = dir / "r.db";
  auto r = run_vidsift(run_args(db, "--config " + sh_quote((dir / "kf.ini").string()) + " --fps 2"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(frames_analysed(db), 16) << r.output;  // 2 per second of 8 s, not the 1 key frame
  EXPECT_EQ(query_int(db, "SELECT json_extract(settings, '$.sampling.keyframes') FROM runs"), 0);
  // Not silent: the note says what was replaced.
  EXPECT_NE(r.output.find("the command line's sampling (--fps=2) replaces the config file's (keyframes = true)"),
            std::string::npos)
      << r.output;
}

TEST(CliOptions, CommandLineEveryReplacesTheConfigsFps) {
  TempDir dir("cli-every-vs-fps");
  write_file(dir / "fps.ini", "fps = 2\nconf = 0.3\n");
  const fs::path db = dir / "r.db";
  auto r = run_vidsift(run_args(db, "--config " + sh_quote((dir / "fps.ini").string()) + " --every 20"));
  ASSERT_EQ(r.status, 0) << r.output;  // was a usage error (--fps and --every exclusive)
  EXPECT_EQ(frames_analysed(db), 4);   // frames 0, 20, 40, 60
  EXPECT_EQ(query_int(db, "SELECT json_extract(settings, '$.sampling.fps') FROM runs"), 0);
  // Other keys of the file still apply.
  EXPECT_EQ(query_db(db, "SELECT json_extract(settings, '$.conf') FROM runs").at(0).at(0), "0.3");
  // Both on the same command line stay a usage error.
  auto both = run_vidsift(run_args(dir / "x.db", "--every 20 --fps 2"));
  EXPECT_EQ(both.status, 2) << both.output;
}

TEST(CliOptions, ABareYesNoOptionNeverTakesTheNextInput) {
  TempDir dir("cli-bare-flag");
  const fs::path db = dir / "r.db";
  // The input right after --keyframes (and after its abbreviation, and -q)
  // is an input, not the option's value.
  auto r =
      run_command(sh_quote(vidsift_binary()) + " run --progress=false --keyframes " + sh_quote(people_clip().string()) +
                  " --db " + sh_quote(db.string()) + " -q " + sh_quote(people_clip().string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(frames_analysed(db), 1);
  EXPECT_EQ(query_int(db, "SELECT json_extract(settings, '$.sampling.keyframes') FROM runs"), 1);
  EXPECT_EQ(r.output, "");  // -q
  auto abbrev = run_command(sh_quote(vidsift_binary()) + " run --progress=false --keyf " +
                            sh_quote(people_clip().string()) + " --db " + sh_quote((dir / "a.db").string()));
  ASSERT_EQ(abbrev.status, 0) << abbrev.output;
  EXPECT_EQ(frames_analysed(dir / "a.db"), 1);
}

TEST(CliOptions, OtherYesNoOptionsTakeAValueToo) {
  TempDir dir("cli-bools");
  const fs::path db = dir / "r.db";
  auto r = run_vidsift(run_args(db, "--json false --force no --no-quiet --every 40"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("\"run_id\""), std::string::npos) << r.output;  // --json false: no JSON
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos"), 1);
  auto bad = run_vidsift(run_args(db, "--force=maybe"));
  EXPECT_EQ(bad.status, 2) << bad.output;
}

// --- item 11: sparse sampling is pointed out ------------------------------

TEST(CliOptions, SparseKeyFramesAreNotedInTheSummary) {
  TempDir dir("cli-sparse");
  const fs::path db = dir / "r.db";
  auto r = run_vidsift(run_args(db, "--keyframes"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(frames_analysed(db), 1);
  EXPECT_NE(r.output.find("note: 1 key frame in 8.0 s of video (one per 8.0 s): consider --fps 1"), std::string::npos)
      << r.output;
  // A mode that yields what it promises says nothing.
  auto fps = run_vidsift(run_args(dir / "fps.db", "--fps 2"));
  ASSERT_EQ(fps.status, 0) << fps.output;
  EXPECT_EQ(fps.output.find("note:"), std::string::npos) << fps.output;
}

// --- item 12: the progress line as a terminal shows it ---------------------

namespace {

// Runs vidsift with a progress line inside a detached tmux session of
// `columns` x 10 and returns the screen (wrapped lines joined) once it exits.
std::string progress_screen(int columns, const fs::path& db) {
  const std::string tmux = "tmux -L vidsift-test-" + std::to_string(getpid());  // a server of its own
  const std::string session = "c" + std::to_string(columns);
  // stderr is the terminal (the progress line and the summary go there).
  const std::string inner =
      sh_quote(vidsift_binary()) + " " + run_args(db, "--every 2 --progress=true") + "; echo VIDSIFT-EXIT=$?; sleep 60";
  auto started = run_command(tmux + " new-session -d -s " + session + " -x " + std::to_string(columns) + " -y 10 " +
                             sh_quote("sh -c " + sh_quote(inner)));
  EXPECT_EQ(started.status, 0) << started.output;
  std::string screen;
  for (int i = 0; i < 1200; ++i) {  // up to 120 s
    screen = run_command(tmux + " capture-pane -p -J -S -100 -t " + session).output;
    if (screen.find("VIDSIFT-EXIT=") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  run_command(tmux + " kill-session -t " + session);
  return screen;
}

std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

}  // namespace

TEST(CliOptions, ProgressLineFitsNarrowAndWideTerminals) {
  if (run_command("command -v tmux").status != 0) GTEST_SKIP() << "tmux is not installed";
  TempDir dir("cli-progress");
  for (int columns : {40, 80}) {
    const fs::path db = dir / ("r" + std::to_string(columns) + ".db");
    const std::string screen = progress_screen(columns, db);
    ASSERT_NE(screen.find("VIDSIFT-EXIT=0"), std::string::npos) << screen;
    // One progress line, redrawn in place: with -J a wrapped line would be
    // joined into one longer than the terminal.
    const auto progress = lines_with(screen, "videos 1/1");
    ASSERT_EQ(progress.size(), 1u) << screen;
    const std::string line = progress[0].substr(0, progress[0].find_last_not_of(' ') + 1);
    EXPECT_LT(line.size(), static_cast<std::size_t>(columns)) << columns << " columns:\n" << screen;
    EXPECT_NE(line.find("elapsed 0:"), std::string::npos) << line;
    if (columns == 80) {
      // The file, shortened in the middle to the room left.
      EXPECT_NE(line.find("  cli_op"), std::string::npos) << line;
      EXPECT_EQ(line.substr(line.size() - 4), ".mp4") << line;
    }
  }
}

// --- item 13: small inaccuracies ------------------------------------------

TEST(CliOptions, UnknownOptionsAndCommandsGetADidYouMean) {
  auto r = run_vidsift("run x.mp4 --keyfrmes");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("did you mean --keyframes?"), std::string::npos) << r.output;
  r = run_vidsift("run x.mp4 --no-keyfrmes");
  EXPECT_NE(r.output.find("did you mean --no-keyframes?"), std::string::npos) << r.output;
  r = run_vidsift("run x.mp4 --wrokers 2");
  EXPECT_NE(r.output.find("did you mean --workers?"), std::string::npos) << r.output;
  r = run_vidsift("rnu x.mp4");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("did you mean run?"), std::string::npos) << r.output;
  TempDir dir("cli-dym");
  write_file(dir / "bad.ini", "evrey = 10\n");
  r = run_vidsift("run x.mp4 --config " + sh_quote((dir / "bad.ini").string()));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("did you mean every?"), std::string::npos) << r.output;
}

TEST(CliOptions, UnknownClassListsTheValidNames) {
  TempDir dir("cli-classes");
  auto r = run_vidsift(run_args(dir / "r.db", "--classes preson"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("preson (did you mean person?)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("valid names are: person, bicycle, car,"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("toothbrush"), std::string::npos) << r.output;
}

TEST(CliOptions, CoordinatesAreStoredToAHundredthOfAPixel) {
  TempDir dir("cli-round");
  const fs::path db = dir / "r.db";
  auto r = run_vidsift(run_args(db, "--every 20"));
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_GT(query_int(db, "SELECT COUNT(*) FROM detections"), 10);
  EXPECT_EQ(query_int(db,
                      "SELECT COUNT(*) FROM detections WHERE abs(x*100 - round(x*100)) > 1e-6 OR "
                      "abs(y*100 - round(y*100)) > 1e-6 OR abs(w*100 - round(w*100)) > 1e-6 OR "
                      "abs(h*100 - round(h*100)) > 1e-6"),
            0);
  // The settings' sampling is a JSON object, not a string.
  EXPECT_EQ(query_db(db, "SELECT json_type(settings, '$.sampling') FROM runs").at(0).at(0), "object");
  EXPECT_EQ(query_int(db, "SELECT json_extract(settings, '$.sampling.every') FROM runs"), 20);
}

// Every sample config in sample_configs/ is one vidsift accepts: its keys
// are options, its values parse (zones, patterns, the --track sampling
// rule), checked by a dry run over a clip.
TEST(CliOptions, EverySampleConfigIsAccepted) {
  TempDir d("sample-configs");
  const fs::path in = d / "in";
  fs::create_directories(in);
  fs::copy_file(people_clip(), in / "cam1_20261125_221403.mp4");
  int seen = 0;
  for (const auto& e : fs::directory_iterator(fs::path(VIDSIFT_SOURCE_DIR) / "sample_configs")) {
    if (e.path().extension() != ".ini") continue;
    ++seen;
    const auto r = run_vidsift("run " + sh_quote(in.string()) + " --config " + sh_quote(e.path().string()) +
                               " --model " + sh_quote(model_path("yolox_nano.onnx").string()) + " --db " +
                               sh_quote((d / "x.db").string()) + " --dry-run");
    EXPECT_EQ(r.status, 0) << e.path() << "\n" << r.output;
    EXPECT_NE(r.output.find("cam1_20261125_221403.mp4"), std::string::npos) << e.path() << "\n" << r.output;
  }
  EXPECT_GE(seen, 3);
}
