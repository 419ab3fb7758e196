// shard.h — splitting one archive among N independent runs (a Slurm job
// array, a Kubernetes Indexed Job, or N hand-started machines).
//
// Contract:
//  * A shard is "I/N": index I in 0..N-1 of N. resolve_shard() takes it from
//    --shard I/N, or, when that is absent, from the scheduler's variables:
//    Slurm's SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT (or
//    SLURM_ARRAY_TASK_MIN/MAX: index = ID - MIN, N = MAX - MIN + 1), or a
//    Kubernetes Indexed Job's JOB_COMPLETION_INDEX with N from --shards N or
//    VIDSIFT_SHARDS. No flag and no variable: std::nullopt (every file).
//    Shard::source says where it came from, for the log. An index outside
//    0..N-1, a missing count, a malformed number, or --shard/--shards
//    disagreeing with each other or with the environment throws ShardError
//    (a usage error: exit status 2).
//  * ShardBy::Path (the default) puts a file in shard
//    jump_hash(fnv1a64(relative path), N), where the relative path is taken
//    from the INPUT root that holds it (a directory INPUT, an @list's
//    directory, a named file's directory), so every machine picks the same
//    files even when it mounts the archive elsewhere. A file's shard depends
//    on its own path and N only: adding or removing a file moves no other
//    file, and going from N to N+1 shards moves only ~1/(N+1) of them.
//  * ShardBy::Size balances bytes instead: files sorted by size (largest
//    first, then path) go one by one to the shard with the fewest bytes so far
//    (ties: lowest index). Every machine must see the same listing; adding or
//    removing one file can move many others (reruns then redo their work).
//  * expand_db_name() replaces every "{shard}" in a --db name by the index;
//    with no shard it throws ShardError.
// Thread-safety: free functions without shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vidsift/discover.h"

namespace vidsift {

class ShardError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Shard {
  int index = 0;
  int count = 1;
  std::string source;  // e.g. "--shard 1/4", "SLURM_ARRAY_TASK_ID=1, SLURM_ARRAY_TASK_COUNT=4"
  std::string label() const { return std::to_string(index) + "/" + std::to_string(count); }
};

enum class ShardBy { Path, Size };

// Parses "path" or "size". Throws ShardError.
ShardBy parse_shard_by(const std::string& text);

// Looks up an environment variable (std::nullopt when unset).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
// The process environment.
EnvLookup process_env();

// Parses "I/N". Throws ShardError.
Shard parse_shard(const std::string& text);

// See the contract. `flag` is --shard's text ("" when absent), `shards` is
// --shards (0 when absent). Throws ShardError.
std::optional<Shard> resolve_shard(const std::string& flag, int shards, const EnvLookup& env);

// 64-bit FNV-1a of the bytes: the same on every machine and every build.
std::uint64_t fnv1a64(std::string_view bytes);
// Lamping and Veach's jump consistent hash: a bucket in 0..buckets-1.
int jump_hash(std::uint64_t key, int buckets);

// The roots INPUTs give (absolute, lexically normal): a directory itself, an
// @list's directory, a named file's directory.
std::vector<std::string> input_roots(const std::vector<std::string>& inputs);
// `path` relative to the longest root holding it (the path itself if none).
std::string relative_key(const std::string& path, const std::vector<std::string>& roots);

// The shard (ShardBy::Path) of a path.
int shard_of(const std::string& path, const std::vector<std::string>& roots, int count);

// The files of `files` that belong to `shard`, in their order.
std::vector<VideoFile> select_shard(const std::vector<VideoFile>& files, const std::vector<std::string>& roots,
                                    const Shard& shard, ShardBy by);

// Replaces "{shard}" in `db`. Throws ShardError when `db` has it and there is
// no shard.
std::string expand_db_name(const std::string& db, const std::optional<Shard>& shard);

}  // namespace vidsift
