// Tests for shard.h: --shard I/N, the scheduler's variables, the stable
// assignment, {shard} in --db, and `vidsift run --dry-run`.
#include "vidsift/shard.h"

#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace vidsift;
using namespace vidsift::test;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::vector<VideoFile> files_under(const std::string& root, int n, int first = 0) {
  std::vector<VideoFile> out;
  for (int i = first; i < first + n; ++i) {
    VideoFile f;
    f.path = root + "/cam" + std::to_string(i % 7) + "/day" + std::to_string(i) + ".mp4";
    f.size = 1000 + i;
    out.push_back(f);
  }
  return out;
}

std::set<std::string> paths(const std::vector<VideoFile>& v, const std::string& strip = "") {
  std::set<std::string> out;
  for (const auto& f : v) out.insert(f.path.substr(strip.size()));
  return out;
}

}  // namespace

TEST(Shard, ParsesIOverN) {
  const Shard s = parse_shard("2/5");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 5);
  EXPECT_EQ(s.label(), "2/5");
  for (const char* bad : {"5/5", "-1/4", "1/0", "1", "a/b", "1/4x", "/4", "1/", ""})
    EXPECT_THROW(parse_shard(bad), ShardError) << bad;
}

TEST(Shard, NoFlagNoSchedulerMeansEveryFile) {
  EXPECT_FALSE(resolve_shard("", 0, env_of({})).has_value());
  EXPECT_FALSE(resolve_shard("", 0, env_of({{"VIDSIFT_SHARDS", "4"}})).has_value());
}

TEST(Shard, SlurmCountOrMinMax) {
  auto s = resolve_shard("", 0, env_of({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->label(), "3/4");
  EXPECT_NE(s->source.find("SLURM_ARRAY_TASK_ID=3"), std::string::npos) << s->source;
  // --array=4-7: MIN/MAX give index ID-MIN and count MAX-MIN+1.
  s = resolve_shard(
      "", 0, env_of({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_MIN", "4"}, {"SLURM_ARRAY_TASK_MAX", "7"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->label(), "1/4");
  // With COUNT and MIN both: index relative to MIN.
  s = resolve_shard(
      "", 0, env_of({{"SLURM_ARRAY_TASK_ID", "9"}, {"SLURM_ARRAY_TASK_MIN", "8"}, {"SLURM_ARRAY_TASK_COUNT", "2"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->label(), "1/2");
}

TEST(Shard, SlurmErrors) {
  EXPECT_THROW(resolve_shard("", 0, env_of({{"SLURM_ARRAY_TASK_ID", "1"}})), ShardError);  // no count
  EXPECT_THROW(resolve_shard("", 0, env_of({{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})),
               ShardError);  // outside 0..3
  EXPECT_THROW(resolve_shard("", 0, env_of({{"SLURM_ARRAY_TASK_ID", "x"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})),
               ShardError);
  EXPECT_THROW(
      resolve_shard(
          "", 0, env_of({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_MIN", "3"}, {"SLURM_ARRAY_TASK_MAX", "5"}})),
      ShardError);  // below MIN
  EXPECT_THROW(resolve_shard("", 3, env_of({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})),
               ShardError);  // --shards disagrees
}

TEST(Shard, KubernetesIndexWithShardsOrVariable) {
  auto s = resolve_shard("", 6, env_of({{"JOB_COMPLETION_INDEX", "5"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->label(), "5/6");
  EXPECT_NE(s->source.find("JOB_COMPLETION_INDEX=5"), std::string::npos);
  s = resolve_shard("", 0, env_of({{"JOB_COMPLETION_INDEX", "0"}, {"VIDSIFT_SHARDS", "3"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->label(), "0/3");
  EXPECT_THROW(resolve_shard("", 0, env_of({{"JOB_COMPLETION_INDEX", "0"}})), ShardError);  // no count
  EXPECT_THROW(resolve_shard("", 3, env_of({{"JOB_COMPLETION_INDEX", "3"}})), ShardError);  // outside
  EXPECT_THROW(resolve_shard("", 3, env_of({{"JOB_COMPLETION_INDEX", "1"}, {"VIDSIFT_SHARDS", "4"}})), ShardError);
}

TEST(Shard, FlagMustAgreeWithTheScheduler) {
  auto s = resolve_shard("1/4", 0, env_of({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->label(), "1/4");
  EXPECT_THROW(resolve_shard("2/4", 0, env_of({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})),
               ShardError);
  EXPECT_THROW(resolve_shard("1/4", 4, env_of({{"JOB_COMPLETION_INDEX", "2"}})), ShardError);
  EXPECT_THROW(resolve_shard("1/4", 5, env_of({})), ShardError);  // --shards disagrees with N
  EXPECT_THROW(resolve_shard("", 4, env_of({})), ShardError);     // --shards without an index
}

TEST(Shard, EveryFileInExactlyOneShardAndTheSameOnEveryMachine) {
  const auto files = files_under("/mnt/a/archive", 500);
  const auto moved = files_under("/data/archive", 500);  // another machine mounts it elsewhere
  std::set<std::string> seen;
  std::size_t total = 0;
  for (int i = 0; i < 4; ++i) {
    Shard s{i, 4, "test"};
    const auto mine = select_shard(files, {"/mnt/a/archive"}, s, ShardBy::Path);
    const auto theirs = select_shard(moved, {"/data/archive"}, s, ShardBy::Path);
    EXPECT_EQ(paths(mine, "/mnt/a/archive"), paths(theirs, "/data/archive")) << "shard " << i;
    EXPECT_GT(mine.size(), 80u) << "shard " << i;  // 125 expected
    EXPECT_LT(mine.size(), 170u) << "shard " << i;
    total += mine.size();
    for (const auto& p : paths(mine)) EXPECT_TRUE(seen.insert(p).second) << p << " in two shards";
  }
  EXPECT_EQ(total, files.size());
}

TEST(Shard, AddingAFileMovesNoOtherAndOneMoreShardMovesFew) {
  const auto files = files_under("/a", 400);
  auto more = files;
  more.push_back(files_under("/a", 1, 1000)[0]);
  int moved_by_n = 0;
  for (const auto& f : files) {
    EXPECT_EQ(shard_of(f.path, {"/a"}, 8), shard_of(f.path, {"/a"}, 8));
    moved_by_n += shard_of(f.path, {"/a"}, 8) != shard_of(f.path, {"/a"}, 9);
  }
  for (int i = 0; i < 8; ++i) {
    Shard s{i, 8, "test"};
    auto before = paths(select_shard(files, {"/a"}, s, ShardBy::Path));
    auto after = paths(select_shard(more, {"/a"}, s, ShardBy::Path));
    after.erase("/a/cam6/day1000.mp4");
    EXPECT_EQ(before, after) << "shard " << i;
  }
  EXPECT_LT(moved_by_n, 400 / 9 * 2) << "8 -> 9 shards should move about 1/9 of the files";
}

TEST(Shard, RelativeKeyUsesTheLongestRoot) {
  EXPECT_EQ(relative_key("/a/b/c.mp4", {"/a", "/a/b"}), "c.mp4");
  EXPECT_EQ(relative_key("/a/bb/c.mp4", {"/a/b"}), "/a/bb/c.mp4");
  EXPECT_EQ(relative_key("/x.mp4", {"/"}), "x.mp4");
}

TEST(Shard, SizeBalancesBytes) {
  std::vector<VideoFile> files;
  for (int i = 0; i < 40; ++i) {
    VideoFile f;
    f.path = "/a/v" + std::to_string(i) + ".mp4";
    f.size = (i % 10 == 0) ? 100000 : 1000 + i;  // a few long videos among short ones
    files.push_back(f);
  }
  std::int64_t max_bytes = 0;
  std::int64_t total = 0;
  std::size_t count = 0;
  for (int i = 0; i < 4; ++i) {
    std::int64_t bytes = 0;
    for (const auto& f : select_shard(files, {"/a"}, Shard{i, 4, "t"}, ShardBy::Size)) bytes += f.size;
    max_bytes = std::max(max_bytes, bytes);
    total += bytes;
    count += select_shard(files, {"/a"}, Shard{i, 4, "t"}, ShardBy::Size).size();
  }
  EXPECT_EQ(count, files.size());
  EXPECT_LE(static_cast<double>(max_bytes), 1.05 * static_cast<double>(total) / 4);
  EXPECT_EQ(parse_shard_by("size"), ShardBy::Size);
  EXPECT_THROW(parse_shard_by("bytes"), ShardError);
}

TEST(Shard, DbNameCarriesTheShard) {
  EXPECT_EQ(expand_db_name("out/archive-{shard}.db", Shard{3, 8, "t"}), "out/archive-3.db");
  EXPECT_EQ(expand_db_name("plain.db", std::nullopt), "plain.db");
  EXPECT_THROW(expand_db_name("out/{shard}.db", std::nullopt), ShardError);
}

// The binary: --dry-run lists each shard's files; the shards of the
// scheduler's variables are the same as --shard's; usage errors exit 2.
class ShardCli : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 12; ++i) {
      fs::create_directories(dir_ / ("cam" + std::to_string(i % 3)));
      std::ofstream(dir_ / ("cam" + std::to_string(i % 3)) / ("clip" + std::to_string(i) + ".mp4")) << "x";
    }
  }
  CommandResult dry(const std::string& env, const std::string& args) {
    return run_command(env + " " + sh_quote(vidsift_binary()) + " run " + sh_quote(dir_.path().string()) +
                       " --dry-run " + args + " 2>&1");
  }
  static std::set<std::string> listed(const std::string& out) {
    std::set<std::string> s;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
      if (line.find(".mp4") != std::string::npos && line[0] != '#') s.insert(line);
    return s;
  }
  TempDir dir_{"shard_cli"};
};

TEST_F(ShardCli, DryRunShardsPartitionTheInputs) {
  std::set<std::string> all;
  std::size_t total = 0;
  for (int i = 0; i < 3; ++i) {
    const auto r = dry("", "--shard " + std::to_string(i) + "/3 --db 'out-{shard}.db'");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("shard " + std::to_string(i) + "/3 (from --shard"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--db out-" + std::to_string(i) + ".db"), std::string::npos) << r.output;
    const auto mine = listed(r.output);
    total += mine.size();
    all.insert(mine.begin(), mine.end());
    // The scheduler's variables pick the same files.
    const auto slurm = dry("SLURM_ARRAY_TASK_ID=" + std::to_string(i) + " SLURM_ARRAY_TASK_COUNT=3", "");
    ASSERT_EQ(slurm.status, 0) << slurm.output;
    EXPECT_NE(slurm.output.find("SLURM_ARRAY_TASK_ID=" + std::to_string(i)), std::string::npos) << slurm.output;
    EXPECT_EQ(listed(slurm.output), mine);
    const auto k8s = dry("JOB_COMPLETION_INDEX=" + std::to_string(i), "--shards 3");
    ASSERT_EQ(k8s.status, 0) << k8s.output;
    EXPECT_NE(k8s.output.find("JOB_COMPLETION_INDEX=" + std::to_string(i)), std::string::npos) << k8s.output;
    EXPECT_EQ(listed(k8s.output), mine);
    const auto k8s_env = dry("JOB_COMPLETION_INDEX=" + std::to_string(i) + " VIDSIFT_SHARDS=3", "");
    EXPECT_EQ(listed(k8s_env.output), mine);
  }
  EXPECT_EQ(total, 12u);
  EXPECT_EQ(all.size(), 12u);
  EXPECT_EQ(listed(dry("", "").output).size(), 12u);
}

TEST_F(ShardCli, UsageErrorsExit2) {
  struct Case {
    std::string env, args, says;
  };
  for (const Case& c : std::vector<Case>{
           {"", "--shard 3/3", "outside 0..2"},
           {"JOB_COMPLETION_INDEX=1", "", "--shards N"},
           {"SLURM_ARRAY_TASK_ID=1", "", "SLURM_ARRAY_TASK_COUNT"},
           {"SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=4", "--shard 2/4", "disagrees"},
           {"", "--db 'x-{shard}.db'", "{shard}"},
       }) {
    const auto r = dry(c.env, c.args);
    EXPECT_EQ(r.status, 2) << c.env << " " << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.says), std::string::npos) << c.env << " " << c.args << "\n" << r.output;
  }
}

// A shard whose share of a non-empty listing is empty did its part: exit 0,
// so that a Slurm `--dependency=afterok` merge still runs (exit 4 is for an
// empty listing, e.g. a share that is not mounted: still so with --shard).
TEST_F(ShardCli, EmptyShareOfAListingExits0AndAnEmptyListingExits4) {
  int empty = -1;
  for (int i = 0; i < 64 && empty < 0; ++i)
    if (listed(dry("", "--shard " + std::to_string(i) + "/64").output).empty()) empty = i;
  ASSERT_GE(empty, 0) << "12 files cannot fill 64 shards";
  const auto run = [&](const fs::path& input, const std::string& shard) {
    return run_command(sh_quote(vidsift_binary()) + " run " + sh_quote(input.string()) + " --shard " + shard +
                       " --db " + sh_quote((dir_ / ("s" + std::to_string(empty) + ".db")).string()) + " --model " +
                       sh_quote(model_path("yolox_nano.onnx").string()) + " --progress false 2>&1");
  };
  const auto r = run(dir_.path(), std::to_string(empty) + "/64");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("not mounted"), std::string::npos) << r.output;
  const fs::path nothing = dir_ / "nothing";
  fs::create_directories(nothing);
  const auto e = run(nothing, "0/2");
  EXPECT_EQ(e.status, 4) << e.output;
  EXPECT_NE(e.output.find("not mounted"), std::string::npos) << e.output;
}
