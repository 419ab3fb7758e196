#include "vidsift/discover.h"

#include <sys/stat.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <system_error>

#include "vidsift/sha256.h"

namespace fs = std::filesystem;

namespace vidsift {

bool has_video_extension(const fs::path& p) {
  static constexpr std::array<const char*, 18> kExt = {".mp4", ".mkv",  ".avi", ".mov", ".ts",   ".m2ts",
                                                       ".mts", ".webm", ".flv", ".wmv", ".mpg",  ".mpeg",
                                                       ".m4v", ".3gp",  ".ogv", ".mxf", ".h264", ".y4m"};
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".hevc") return true;
  return std::find(kExt.begin(), kExt.end(), ext) != kExt.end();
}

namespace {

// The system's text for an error, in lower case ("Permission denied" ->
// "permission denied"), the way vidsift records errors.
std::string reason(const std::error_code& ec) {
  std::string m = ec.message();
  if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
  return m;
}

std::string normal(const fs::path& p) { return fs::absolute(p).lexically_normal().string(); }

struct Walker {
  Discovery out;
  std::set<std::string> seen;

  static std::string key_for(const fs::path& p) {
    std::error_code ec;
    fs::path c = fs::weakly_canonical(p, ec);
    return ec ? fs::absolute(p).lexically_normal().string() : c.string();
  }

  void add_file(const fs::path& p) {
    std::string key = key_for(p);
    if (!seen.insert(key).second) return;
    VideoFile f;
    f.path = normal(p);
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      f.size = static_cast<std::int64_t>(st.st_size);
      f.mtime = static_cast<std::int64_t>(st.st_mtime);
    }
    out.files.push_back(std::move(f));
  }

  static bool can_list(const fs::path& dir, std::error_code& ec) {
    fs::directory_iterator probe(dir, ec);
    return !ec;
  }

  void walk_dir(const fs::path& dir) {
    std::error_code ec;
    // skip_permission_denied makes the iterator treat an unreadable directory
    // as empty without a word, so every directory is probed first: a named
    // one that cannot be listed is missing, an unreadable sub-directory is
    // skipped with a warning.
    if (!can_list(dir, ec)) {
      out.missing.push_back({normal(dir), reason(ec)});
      out.warnings.push_back("cannot list " + dir.string() + ": " + reason(ec));
      return;
    }
    auto opts = fs::directory_options::follow_directory_symlink | fs::directory_options::skip_permission_denied;
    fs::recursive_directory_iterator it(dir, opts, ec);
    if (ec) {
      out.missing.push_back({normal(dir), reason(ec)});
      out.warnings.push_back("cannot list " + dir.string() + ": " + reason(ec));
      return;
    }
    std::set<std::string> visited_dirs{key_for(dir)};
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) {
        out.warnings.push_back("while walking " + dir.string() + ": " + ec.message());
        ec.clear();
        continue;
      }
      const fs::path& p = it->path();
      std::error_code sec;
      if (it->is_directory(sec)) {
        // Symlink loops: never descend into a directory already visited.
        if (it->is_symlink(sec) && !visited_dirs.insert(key_for(p)).second) {
          out.warnings.push_back("skipping directory symlink loop at " + p.string());
          it.disable_recursion_pending();
          continue;
        }
        if (!it->is_symlink(sec)) visited_dirs.insert(key_for(p));
        if (std::error_code lec; !can_list(p, lec)) {
          out.warnings.push_back("skipping unreadable directory " + p.string() + ": " + lec.message());
          it.disable_recursion_pending();
        }
        continue;
      }
      if (it->is_regular_file(sec) && has_video_extension(p)) add_file(p);
    }
  }

  void add_list(const fs::path& list, int depth) {
    // A directory opens as a stream on Linux and then reads as empty: check
    // first, so that "@dir" is reported rather than silently expanding to
    // nothing.
    std::error_code err;
    const auto st = fs::status(list, err);
    if (!err && fs::is_directory(st)) err = std::make_error_code(std::errc::is_a_directory);
    std::ifstream in;
    if (!err) {
      errno = 0;
      in.open(list);
      if (!in) err = std::error_code(errno != 0 ? errno : EIO, std::generic_category());
    }
    if (err) {
      // (append, not "@" + ...: GCC 12 warns falsely about that, -Wrestrict)
      out.missing.push_back({std::string("@").append(normal(list)), reason(err)});
      out.warnings.push_back("cannot read list file " + list.string() + ": " + reason(err));
      return;
    }
    std::string line;
    while (std::getline(in, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
      std::size_t b = line.find_first_not_of(" \t");
      if (b == std::string::npos) continue;
      line = line.substr(b);
      if (line[0] == '#') continue;
      if (line[0] == '@') {
        if (depth > 8) {
          out.warnings.push_back("list files nested too deeply at " + line);
          continue;
        }
        fs::path inner = line.substr(1);
        if (inner.is_relative()) inner = list.parent_path() / inner;
        add_list(inner, depth + 1);
        continue;
      }
      fs::path p = line;
      if (p.is_relative()) p = list.parent_path() / p;
      add_input(p);
    }
  }

  void add_input(const fs::path& p) {
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      out.missing.push_back({normal(p), reason(ec ? ec : std::make_error_code(std::errc::no_such_file_or_directory))});
      return;
    }
    if (fs::is_directory(st)) {
      walk_dir(p);
    } else {
      add_file(p);
    }
  }
};

}  // namespace

Discovery discover(const std::vector<std::string>& inputs) {
  Walker w;
  for (const auto& in : inputs) {
    if (!in.empty() && in[0] == '@') {
      w.add_list(in.substr(1), 0);
    } else {
      w.add_input(in);
    }
  }
  std::sort(w.out.files.begin(), w.out.files.end(),
            [](const VideoFile& a, const VideoFile& b) { return a.path < b.path; });
  return std::move(w.out);
}

std::string fingerprint(const VideoFile& file) {
  constexpr std::int64_t kMiB = 1 << 20;
  std::ifstream in(file.path, std::ios::binary);
  if (!in) throw DiscoverError("cannot read " + file.path + ": " + std::strerror(errno));
  std::vector<char> buf(static_cast<std::size_t>(kMiB));
  Sha256 h;
  in.read(buf.data(), kMiB);
  h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  if (file.size > kMiB) {
    in.clear();
    in.seekg(std::max(kMiB, file.size - kMiB));
    in.read(buf.data(), kMiB);
    h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw DiscoverError("cannot read " + file.path);
  return std::to_string(file.size) + "-" + std::to_string(file.mtime) + "-" + h.hex_digest().substr(0, 32);
}

}  // namespace vidsift
