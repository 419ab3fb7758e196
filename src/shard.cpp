#include "vidsift/shard.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <numeric>

namespace fs = std::filesystem;

namespace vidsift {
namespace {

constexpr int kMaxShards = 1'000'000;

// A whole decimal number (no sign, no spaces), or std::nullopt.
std::optional<long long> parse_number(std::string_view s) {
  long long v = 0;
  if (s.empty() || s.size() > 12) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

long long env_number(const EnvLookup& env, const std::string& name) {
  const auto v = env(name);
  const auto n = v ? parse_number(*v) : std::nullopt;
  if (!n) throw ShardError(name + "='" + v.value_or("") + "' is not a whole number >= 0");
  return *n;
}

void check_shard(const Shard& s) {
  if (s.count < 1 || s.count > kMaxShards)
    throw ShardError("the shard count must be within 1.." + std::to_string(kMaxShards) + " (from " + s.source + ")");
  if (s.index < 0 || s.index >= s.count)
    throw ShardError("shard index " + std::to_string(s.index) + " is outside 0.." + std::to_string(s.count - 1) +
                     " (from " + s.source + ")");
}

// The shard the scheduler's variables name, if any.
std::optional<Shard> env_shard(int shards, const EnvLookup& env) {
  Shard s;
  if (env("SLURM_ARRAY_TASK_ID")) {
    const long long id = env_number(env, "SLURM_ARRAY_TASK_ID");
    const bool has_min = env("SLURM_ARRAY_TASK_MIN").has_value();
    const long long min = has_min ? env_number(env, "SLURM_ARRAY_TASK_MIN") : 0;
    long long count = 0;
    s.source = "SLURM_ARRAY_TASK_ID=" + std::to_string(id);
    if (env("SLURM_ARRAY_TASK_COUNT")) {
      count = env_number(env, "SLURM_ARRAY_TASK_COUNT");
      s.source += ", SLURM_ARRAY_TASK_COUNT=" + std::to_string(count);
    } else if (has_min && env("SLURM_ARRAY_TASK_MAX")) {
      count = env_number(env, "SLURM_ARRAY_TASK_MAX") - min + 1;
      s.source += ", SLURM_ARRAY_TASK_MAX=" + *env("SLURM_ARRAY_TASK_MAX");
    } else {
      throw ShardError(
          "SLURM_ARRAY_TASK_ID is set but the shard count is not: neither SLURM_ARRAY_TASK_COUNT nor "
          "SLURM_ARRAY_TASK_MIN/MAX (give --shard I/N)");
    }
    if (has_min) s.source += ", SLURM_ARRAY_TASK_MIN=" + std::to_string(min);
    if (id < min) throw ShardError("SLURM_ARRAY_TASK_ID is below SLURM_ARRAY_TASK_MIN (" + s.source + ")");
    s.index = static_cast<int>(std::min<long long>(id - min, kMaxShards));
    s.count = static_cast<int>(std::min<long long>(count, kMaxShards + 1LL));
    if (shards > 0 && shards != s.count)
      throw ShardError("--shards " + std::to_string(shards) + " disagrees with " + s.source);
    return s;
  }
  if (env("JOB_COMPLETION_INDEX")) {
    const long long id = env_number(env, "JOB_COMPLETION_INDEX");
    s.index = static_cast<int>(std::min<long long>(id, kMaxShards));
    s.source = "JOB_COMPLETION_INDEX=" + std::to_string(id);
    if (shards > 0) {
      s.count = shards;
      s.source += ", --shards " + std::to_string(shards);
      if (env("VIDSIFT_SHARDS") && env_number(env, "VIDSIFT_SHARDS") != shards)
        throw ShardError("--shards " + std::to_string(shards) +
                         " disagrees with VIDSIFT_SHARDS=" + *env("VIDSIFT_SHARDS"));
    } else if (env("VIDSIFT_SHARDS")) {
      s.count = static_cast<int>(std::min<long long>(env_number(env, "VIDSIFT_SHARDS"), kMaxShards + 1LL));
      s.source += ", VIDSIFT_SHARDS=" + std::to_string(s.count);
    } else {
      throw ShardError(
          "JOB_COMPLETION_INDEX is set but the shard count is not: give --shards N (the Job's completions) or set "
          "VIDSIFT_SHARDS");
    }
    return s;
  }
  return std::nullopt;
}

std::uint64_t mix64(std::uint64_t x) {
  // splitmix64's finaliser: spreads FNV's low-entropy high bits.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::string normal(const fs::path& p) { return fs::absolute(p).lexically_normal().string(); }

}  // namespace

ShardBy parse_shard_by(const std::string& text) {
  if (text == "path") return ShardBy::Path;
  if (text == "size") return ShardBy::Size;
  throw ShardError("--shard-by must be path or size (got '" + text + "')");
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  const auto i = slash == std::string::npos ? std::nullopt : parse_number(std::string_view(text).substr(0, slash));
  const auto n = slash == std::string::npos ? std::nullopt : parse_number(std::string_view(text).substr(slash + 1));
  if (!i || !n) throw ShardError("--shard must be I/N, e.g. --shard 0/4 (got '" + text + "')");
  Shard s;
  s.index = static_cast<int>(std::min<long long>(*i, kMaxShards));
  s.count = static_cast<int>(std::min<long long>(*n, kMaxShards + 1LL));
  s.source = "--shard " + text;
  check_shard(s);
  return s;
}

std::optional<Shard> resolve_shard(const std::string& flag, int shards, const EnvLookup& env) {
  if (shards < 0 || shards > kMaxShards) throw ShardError("--shards must be within 1.." + std::to_string(kMaxShards));
  std::optional<Shard> from_env = env_shard(shards, env);
  if (from_env) check_shard(*from_env);
  if (!flag.empty()) {
    Shard s = parse_shard(flag);
    if (shards > 0 && shards != s.count)
      throw ShardError("--shards " + std::to_string(shards) + " disagrees with --shard " + flag);
    if (from_env) {
      if (from_env->index != s.index || from_env->count != s.count)
        throw ShardError("--shard " + flag + " disagrees with the scheduler's " + from_env->source + " (shard " +
                         from_env->label() + "); drop one of them");
      s.source += " (agrees with " + from_env->source + ")";
    }
    return s;
  }
  if (!from_env && shards > 0)
    throw ShardError("--shards " + std::to_string(shards) +
                     " needs a shard index: --shard I/N, or JOB_COMPLETION_INDEX / SLURM_ARRAY_TASK_ID");
  return from_env;
}

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

int jump_hash(std::uint64_t key, int buckets) {
  std::int64_t b = -1;
  std::int64_t j = 0;
  while (j < buckets) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = static_cast<std::int64_t>(static_cast<double>(b + 1) *
                                  (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<int>(b);
}

std::vector<std::string> input_roots(const std::vector<std::string>& inputs) {
  std::vector<std::string> roots;
  for (const auto& in : inputs) {
    if (in.empty() || in == "-") continue;
    std::error_code ec;
    if (in[0] == '@') {
      roots.push_back(
          normal(fs::path(in.substr(1)).parent_path().empty() ? fs::path(".") : fs::path(in.substr(1)).parent_path()));
    } else if (fs::is_directory(in, ec)) {
      roots.push_back(normal(in));
    } else {
      const fs::path parent = fs::path(in).parent_path();
      roots.push_back(normal(parent.empty() ? fs::path(".") : parent));
    }
  }
  for (auto& r : roots)
    while (r.size() > 1 && r.back() == '/') r.pop_back();
  return roots;
}

std::string relative_key(const std::string& path, const std::vector<std::string>& roots) {
  std::size_t best = 0;
  bool found = false;
  for (const auto& r : roots) {
    const std::size_t len = r == "/" ? 1 : r.size() + 1;  // the root and its separator
    if (path.size() > len && path.compare(0, r.size(), r) == 0 && path[len - 1] == '/' && (!found || len > best)) {
      best = len;
      found = true;
    }
  }
  return found ? path.substr(best) : path;
}

int shard_of(const std::string& path, const std::vector<std::string>& roots, int count) {
  return jump_hash(mix64(fnv1a64(relative_key(path, roots))), count);
}

std::vector<VideoFile> select_shard(const std::vector<VideoFile>& files, const std::vector<std::string>& roots,
                                    const Shard& shard, ShardBy by) {
  std::vector<VideoFile> out;
  if (by == ShardBy::Path) {
    for (const auto& f : files)
      if (shard_of(f.path, roots, shard.count) == shard.index) out.push_back(f);
    return out;
  }
  std::vector<std::size_t> order(files.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (files[a].size != files[b].size) return files[a].size > files[b].size;
    return relative_key(files[a].path, roots) < relative_key(files[b].path, roots);
  });
  std::vector<std::int64_t> load(static_cast<std::size_t>(shard.count), 0);
  std::vector<bool> mine(files.size(), false);
  for (std::size_t i : order) {
    const auto lightest = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[lightest] += std::max<std::int64_t>(files[i].size, 1);
    mine[i] = static_cast<int>(lightest) == shard.index;
  }
  for (std::size_t i = 0; i < files.size(); ++i)
    if (mine[i]) out.push_back(files[i]);
  return out;
}

std::string expand_db_name(const std::string& db, const std::optional<Shard>& shard) {
  static constexpr std::string_view kTag = "{shard}";
  if (db.find(kTag) == std::string::npos) return db;
  if (!shard)
    throw ShardError("--db " + db +
                     " names {shard} but no shard is given (--shard I/N, SLURM_ARRAY_TASK_ID or "
                     "JOB_COMPLETION_INDEX)");
  std::string out;
  std::size_t at = 0;
  for (std::size_t p; (p = db.find(kTag, at)) != std::string::npos; at = p + kTag.size())
    out.append(db, at, p - at).append(std::to_string(shard->index));
  out.append(db, at, std::string::npos);
  return out;
}

}  // namespace vidsift
