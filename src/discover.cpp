#include "vidsift/discover.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
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
  static constexpr std::array<const char*, 22> kExt = {
      ".mp4",  ".mkv", ".avi", ".mov", ".ts",  ".m2ts", ".mts", ".webm", ".flv", ".wmv", ".mpg",
      ".mpeg", ".m4v", ".3gp", ".ogv", ".mxf", ".h264", ".y4m", ".vob",  ".dv",  ".m2v", ".qt"};
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".hevc") return true;
  return std::find(kExt.begin(), kExt.end(), ext) != kExt.end();
}

std::string irregular_file_reason(unsigned mode) {
  if (S_ISREG(mode)) return {};
  std::string kind = S_ISFIFO(mode)   ? "a named pipe (FIFO)"
                     : S_ISCHR(mode)  ? "a character device"
                     : S_ISBLK(mode)  ? "a block device"
                     : S_ISSOCK(mode) ? "a socket"
                     : S_ISDIR(mode)  ? "a directory"
                                      : "a special file";
  return "not a regular file (" + kind + "): vidsift reads only regular files, never pipes, devices or stdin";
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
    if (p == "-") {  // stdin is a pipe at best: not seekable, would block
      out.missing.push_back({"-", "reading a video from standard input is not supported: give a file path"});
      return;
    }
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      out.missing.push_back({normal(p), reason(ec ? ec : std::make_error_code(std::errc::no_such_file_or_directory))});
      return;
    }
    if (fs::is_directory(st)) {
      walk_dir(p);
    } else if (!fs::is_regular_file(st)) {
      // A FIFO would block open() for ever, a device never ends: refused
      // before anything opens them (stat() follows symlinks, so a link to a
      // regular file is fine).
      struct stat sb {};
      const unsigned mode = ::stat(p.c_str(), &sb) == 0 ? sb.st_mode : 0u;
      out.missing.push_back({normal(p), irregular_file_reason(mode)});
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
  // O_NONBLOCK: a FIFO swapped in after discovery must not block open();
  // it is then refused as not a regular file.
  const int fd = ::open(file.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw DiscoverError("cannot read " + file.path + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat sb {};
  if (::fstat(fd, &sb) != 0) throw DiscoverError("cannot read " + file.path + ": " + std::strerror(errno));
  if (!S_ISREG(sb.st_mode)) throw DiscoverError(irregular_file_reason(sb.st_mode));
  std::vector<char> buf(static_cast<std::size_t>(kMiB));
  Sha256 h;
  auto read_at = [&](std::int64_t off) {
    std::size_t got = 0;
    while (got < buf.size()) {
      const ssize_t n =
          ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(off) + static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw DiscoverError("cannot read " + file.path + ": " + std::strerror(errno));
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    h.update(buf.data(), got);
  };
  read_at(0);
  if (file.size > kMiB) read_at(std::max(kMiB, file.size - kMiB));
  return std::to_string(file.size) + "-" + std::to_string(file.mtime) + "-" + h.hex_digest().substr(0, 32);
}

}  // namespace vidsift
