// test_discover.cpp — discover.h: video-extension filter, recursive directory
// walks (nested dirs, names with spaces and non-UTF-8 bytes), named files kept
// whatever their extension, @list files (relative paths, comments, blank
// lines, CRLF, nesting), missing inputs, duplicates, sorted output, directory
// symlink loops (terminate with a warning), unreadable directories (run as an
// unprivileged child when the test runs as root), and fingerprint(): format,
// same content -> same value, first/last MiB sensitivity, read errors.
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"
#include "vidsift/discover.h"

namespace fs = std::filesystem;

namespace vidsift {
namespace {

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
}

void set_mtime(const fs::path& p, std::int64_t secs) {
  struct timespec ts[2];
  ts[0].tv_sec = static_cast<time_t>(secs);
  ts[0].tv_nsec = 0;
  ts[1] = ts[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, 0), 0) << p << ": " << std::strerror(errno);
}

std::string norm(const fs::path& p) { return p.lexically_normal().string(); }

std::vector<std::string> paths_of(const Discovery& d) {
  std::vector<std::string> v;
  for (const auto& f : d.files) v.push_back(f.path);
  return v;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> missing_paths(const Discovery& d) {
  std::vector<std::string> v;
  for (const auto& m : d.missing) v.push_back(m.path);
  return v;
}

bool any_contains(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

const std::string kNonUtf8 = "\xff\xfe clip \xc3.mp4";

// A tree of videos and non-videos:
//   a.mp4  b.MKV  notes.txt  noext  "with space.mov"  <non-UTF-8>.mp4
//   sub/c.avi  sub/e.jpg  sub/deep/d.webm  sub/deep/f.HeVc  sub/deep/g.y4m.txt
class Tree {
 public:
  Tree() : tmp_("discover") {
    root_ = tmp_.path() / "root";
    for (const char* f : {"a.mp4", "b.MKV", "notes.txt", "noext", "with space.mov", "sub/c.avi", "sub/e.jpg",
                          "sub/deep/d.webm", "sub/deep/f.HeVc", "sub/deep/g.y4m.txt"})
      write_file(root_ / f, std::string("content of ") + f);
    write_file(root_ / kNonUtf8, "bytes");
  }
  const fs::path& root() const { return root_; }
  fs::path base() const { return tmp_.path(); }
  std::string p(const std::string& rel) const { return norm(root_ / rel); }
  std::vector<std::string> videos() const {
    return sorted({p("a.mp4"), p("b.MKV"), p("with space.mov"), p(kNonUtf8), p("sub/c.avi"), p("sub/deep/d.webm"),
                   p("sub/deep/f.HeVc")});
  }

 private:
  test::TempDir tmp_;
  fs::path root_;
};

TEST(Discover, VideoExtensions) {
  for (const char* f :
       {"a.mp4", "a.MKV",  "x/y.avi", "m.mov", "t.ts",  "t.m2ts", "t.mts",  "w.webm", "f.flv",  "w.wmv",
        "m.mpg", "m.mpeg", "m.m4v",   "p.3gp", "o.ogv", "m.mxf",  "r.h264", "r.hevc", "r.HEVC", "y.y4m"})
    EXPECT_TRUE(has_video_extension(f)) << f;
  for (const char* f : {"a.txt", "a.jpg", "noext", "mp4", "a.mp4.part", "a.mp", "dir.mp4/x", ".mp4"})
    EXPECT_FALSE(has_video_extension(f)) << f;
}

// Issue 10: DVD, DV, MPEG-2 elementary and QuickTime files were missed.
TEST(Discover, WalkFindsVobDvM2vQt) {
  test::TempDir tmp("disc-ext");
  for (const char* f : {"a.vob", "b.DV", "c.m2v", "d.qt"}) write_file(tmp / f, "x");
  const Discovery d = discover({tmp.path().string()});
  EXPECT_EQ(d.files.size(), 4u);
}

// Issue 10, defect 1: a FIFO named on the command line or in a list blocked
// the run in open(). It is a missing input with a clear reason, never opened;
// so is "-" (stdin); a symlink to a regular file is still a file.
TEST(Discover, FifosAndStdinAreMissingNotFiles) {
  test::TempDir tmp("disc-fifo");
  ASSERT_EQ(::mkfifo((tmp / "p.mp4").c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo((tmp / "q.mp4").c_str(), 0600), 0);
  write_file(tmp / "list.txt", "q.mp4\n");
  write_file(tmp / "real.mp4", "x");
  fs::create_symlink(tmp / "real.mp4", tmp / "link.mp4");
  const Discovery d =
      discover({(tmp / "p.mp4").string(), "@" + (tmp / "list.txt").string(), "-", (tmp / "link.mp4").string()});
  ASSERT_EQ(d.files.size(), 1u);
  EXPECT_EQ(fs::path(d.files[0].path).filename(), "link.mp4");
  ASSERT_EQ(d.missing.size(), 3u);
  std::map<std::string, std::string> why;
  for (const auto& m : d.missing) why[fs::path(m.path).filename().string()] = m.error;
  EXPECT_NE(why["p.mp4"].find("not a regular file (a named pipe (FIFO))"), std::string::npos) << why["p.mp4"];
  EXPECT_NE(why["q.mp4"].find("not a regular file"), std::string::npos) << why["q.mp4"];
  EXPECT_NE(why["-"].find("standard input"), std::string::npos) << why["-"];
}

// A FIFO swapped in after discovery: fingerprint() refuses it at once
// instead of blocking in open() (no writer) or read().
TEST(Fingerprint, FifoIsRefusedWithoutBlocking) {
  test::TempDir tmp("fp-fifo");
  ASSERT_EQ(::mkfifo((tmp / "p.mp4").c_str(), 0600), 0);
  VideoFile f;
  f.path = (tmp / "p.mp4").string();
  try {
    fingerprint(f);
    ADD_FAILURE() << "no exception";
  } catch (const DiscoverError& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}

TEST(Discover, WalksDirectoryRecursivelyKeepingVideos) {
  Tree t;
  const Discovery d = discover({t.root().string()});
  EXPECT_EQ(paths_of(d), t.videos());
  EXPECT_TRUE(d.missing.empty());
  EXPECT_TRUE(std::is_sorted(d.files.begin(), d.files.end(),
                             [](const VideoFile& a, const VideoFile& b) { return a.path < b.path; }));
  // Names with spaces and non-UTF-8 bytes come back byte for byte and exist.
  for (const auto& f : d.files) EXPECT_TRUE(fs::is_regular_file(f.path)) << f.path;
}

TEST(Discover, FilesCarryAbsolutePathSizeAndMtime) {
  Tree t;
  write_file(t.root() / "sized.mp4", std::string(1234, 'x'));
  set_mtime(t.root() / "sized.mp4", 1600000000);
  // A non-normal spelling of the path is recorded normalised.
  const Discovery d = discover({(t.root() / "sub" / ".." / "sized.mp4").string()});
  ASSERT_EQ(d.files.size(), 1u);
  EXPECT_EQ(d.files[0].path, t.p("sized.mp4"));
  EXPECT_TRUE(fs::path(d.files[0].path).is_absolute());
  EXPECT_EQ(d.files[0].size, 1234);
  EXPECT_EQ(d.files[0].mtime, 1600000000);
}

TEST(Discover, NamedFileKeptWhateverItsExtension) {
  Tree t;
  const Discovery d = discover({(t.root() / "notes.txt").string(), (t.root() / "noext").string()});
  EXPECT_EQ(paths_of(d), sorted({t.p("notes.txt"), t.p("noext")}));
}

TEST(Discover, MissingInputsAreReportedNotThrown) {
  Tree t;
  Discovery d;
  ASSERT_NO_THROW(d = discover({(t.root() / "nope.mp4").string(), (t.root() / "a.mp4").string(),
                                (t.root() / "no_dir" / "x.mkv").string(), "@" + (t.root() / "no_list.txt").string()}));
  EXPECT_EQ(paths_of(d), std::vector<std::string>{t.p("a.mp4")});
  ASSERT_EQ(d.missing.size(), 3u);
  EXPECT_TRUE(any_contains(missing_paths(d), t.p("nope.mp4")));
  EXPECT_TRUE(any_contains(missing_paths(d), t.p("no_dir/x.mkv")));
  EXPECT_TRUE(any_contains(missing_paths(d), "no_list.txt"));
  for (const auto& m : d.missing) EXPECT_EQ(m.error, "no such file or directory") << m.path;

  // A dangling symlink is missing too.
  fs::create_symlink(t.root() / "gone.mp4", t.root() / "dangling.mp4");
  d = discover({(t.root() / "dangling.mp4").string()});
  EXPECT_TRUE(d.files.empty());
  ASSERT_EQ(d.missing.size(), 1u);
  EXPECT_EQ(d.missing[0].error, "no such file or directory");
}

// The reason an input cannot be reached is the real one. These errors happen
// to root as well (unlike permission bits), so they always run.
TEST(Discover, MissingInputsCarryTheReason) {
  Tree t;
  const fs::path not_dir = t.root() / "a.mp4" / "x.mp4";                  // ENOTDIR
  const fs::path too_long = t.root() / (std::string(300, 'n') + ".mp4");  // ENAMETOOLONG
  fs::create_symlink(t.root() / "loop2.mp4", t.root() / "loop1.mp4");     // ELOOP
  fs::create_symlink(t.root() / "loop1.mp4", t.root() / "loop2.mp4");
  const Discovery d = discover({not_dir.string(), too_long.string(), (t.root() / "loop1.mp4").string(),
                                (t.root() / "gone.mp4").string(), "@" + (t.root() / "sub").string(),
                                "@" + (t.root() / "a.mp4" / "list.txt").string(), (t.root() / "a.mp4").string()});
  EXPECT_EQ(paths_of(d), std::vector<std::string>{t.p("a.mp4")});
  std::map<std::string, std::string> got;
  for (const auto& m : d.missing) got[m.path] = m.error;
  const std::map<std::string, std::string> want = {
      {norm(not_dir), "not a directory"},
      {norm(too_long), "file name too long"},
      {t.p("loop1.mp4"), "too many levels of symbolic links"},
      {t.p("gone.mp4"), "no such file or directory"},
      {"@" + t.p("sub"), "is a directory"},
      {"@" + t.p("a.mp4/list.txt"), "not a directory"},
  };
  EXPECT_EQ(got, want);
  // The walk's warnings name the list files that could not be read, with the reason.
  EXPECT_TRUE(any_contains(d.warnings, "is a directory")) << ::testing::PrintToString(d.warnings);
}

TEST(Discover, ListFileRelativePathsCommentsBlankLines) {
  Tree t;
  const fs::path lists = t.root() / "lists";
  write_file(lists / "nested.txt", "../b.MKV\n");
  write_file(lists / "list.txt",
             "# a comment\n"
             "\n"
             "   \n"
             "../sub/c.avi\n"
             "   ../a.mp4   \n"
             "\t# indented comment\n" +
                 (t.root() / "with space.mov").string() + "\n" +
                 "missing.mp4\n"
                 "../sub/deep\n"
                 "../notes.txt\r\n"
                 "@nested.txt\n"
                 "../" +
                 kNonUtf8 + "\n");
  const Discovery d = discover({"@" + (lists / "list.txt").string()});
  EXPECT_EQ(paths_of(d), sorted({t.p("a.mp4"), t.p("b.MKV"), t.p("notes.txt"), t.p("with space.mov"), t.p(kNonUtf8),
                                 t.p("sub/c.avi"), t.p("sub/deep/d.webm"), t.p("sub/deep/f.HeVc")}));
  EXPECT_EQ(missing_paths(d), std::vector<std::string>{t.p("lists/missing.mp4")});
}

TEST(Discover, DuplicatesRemoved) {
  Tree t;
  write_file(t.base() / "list.txt", "root/a.mp4\nroot/sub/c.avi\n");
  fs::create_directories(t.base() / "other");
  fs::create_symlink(t.root() / "a.mp4", t.base() / "other" / "link.mp4");
  fs::create_directory_symlink(t.root() / "sub", t.base() / "other" / "sublink");
  const Discovery d =
      discover({t.root().string(), (t.root() / "a.mp4").string(), (t.root() / "sub" / ".." / "a.mp4").string(),
                t.root().string() + "/", "@" + (t.base() / "list.txt").string(), (t.base() / "other").string(),
                (t.base() / "other" / "link.mp4").string()});
  EXPECT_EQ(paths_of(d), t.videos());
  EXPECT_TRUE(d.missing.empty());
}

TEST(Discover, DirectorySymlinkLoopTerminatesAndWarns) {
  Tree t;
  // sub/deep/up -> root: walking root would recurse forever without a guard.
  fs::create_directory_symlink(t.root(), t.root() / "sub" / "deep" / "up");
  // Two directories pointing at each other.
  write_file(t.root() / "m" / "a" / "ma.mp4", "x");
  write_file(t.root() / "m" / "b" / "mb.mp4", "y");
  fs::create_directory_symlink(t.root() / "m" / "b", t.root() / "m" / "a" / "to_b");
  fs::create_directory_symlink(t.root() / "m" / "a", t.root() / "m" / "b" / "to_a");
  // A symlink to itself.
  fs::create_symlink(t.root() / "self", t.root() / "self");

  const Discovery d = discover({t.root().string()});
  EXPECT_TRUE(any_contains(d.warnings, "loop")) << ::testing::PrintToString(d.warnings);
  // Every file once. Files under m/ are reachable through two spellings
  // (m/a/ma.mp4 and m/b/to_a/ma.mp4); which one is recorded depends on the
  // directory order, so compare canonical paths.
  auto want = t.videos();
  want.push_back(t.p("m/a/ma.mp4"));
  want.push_back(t.p("m/b/mb.mp4"));
  auto canonical_paths = [](const Discovery& x) {
    std::vector<std::string> v;
    for (const auto& f : x.files) v.push_back(fs::canonical(f.path).string());
    return sorted(v);
  };
  std::vector<std::string> want_canonical;
  for (const auto& w : want) want_canonical.push_back(fs::canonical(w).string());
  EXPECT_EQ(canonical_paths(d), sorted(want_canonical));
  EXPECT_EQ(d.files.size(), want.size());
  // Outside the looping part, the real paths are recorded.
  const auto got = paths_of(d);
  for (const auto& v : t.videos()) EXPECT_NE(std::find(got.begin(), got.end(), v), got.end()) << v;

  // Naming the looping link itself works too.
  const Discovery d2 = discover({(t.root() / "sub" / "deep" / "up").string()});
  EXPECT_EQ(canonical_paths(d2), sorted(want_canonical));
}

// Root ignores permission bits, so permission cases run in a child process
// that drops to an unprivileged uid/gid when the test runs as root. Returns
// nullopt when that is impossible (the test is then skipped).
std::optional<std::string> run_unprivileged(const fs::path& must_reach, const std::function<std::string()>& fn) {
  if (::geteuid() != 0) return fn();
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  const pid_t pid = ::fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
      out = "\x01";
    } else if (::access(must_reach.c_str(), R_OK | X_OK) != 0) {
      out = "\x01";
    } else {
      try {
        out = "+" + fn();
      } catch (const std::exception& e) {
        out = std::string("+uncaught: ") + e.what();
      }
    }
    std::size_t off = 0;
    while (off < out.size()) {
      const ssize_t n = ::write(fds[1], out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (out.empty() || out[0] != '+') return std::nullopt;
  return out.substr(1);
}

std::string describe(const Discovery& d) {
  std::string s;
  for (const auto& f : d.files) s += "F " + f.path + "\n";
  for (const auto& m : d.missing) s += "M " + m.path + ": " + m.error + "\n";
  for (const auto& w : d.warnings) s += "W " + w + "\n";
  return s;
}

TEST(Discover, UnreadableDirectories) {
  Tree t;
  write_file(t.root() / "locked" / "hidden.mp4", "x");
  write_file(t.base() / "closed" / "z.mp4", "x");
  fs::permissions(t.root() / "locked", fs::perms::none);
  fs::permissions(t.base() / "closed", fs::perms::none);

  const auto out = run_unprivileged(t.root(), [&] {
    return describe(discover({t.root().string()})) + "====\n" + describe(discover({(t.base() / "closed").string()}));
  });
  if (!out) GTEST_SKIP() << "cannot drop privileges to test permission errors";
  const std::string walk = out->substr(0, out->find("===="));
  const std::string named = out->substr(out->find("====") + 5);
  // The walk keeps going, skips the unreadable sub-directory and says so.
  for (const auto& v : t.videos()) EXPECT_NE(walk.find("F " + v + "\n"), std::string::npos) << v << "\n" << walk;
  EXPECT_EQ(walk.find("hidden.mp4"), std::string::npos) << walk;
  EXPECT_NE(walk.find("W "), std::string::npos) << walk;
  EXPECT_NE(walk.find("locked"), std::string::npos) << walk;
  // A named directory that cannot be listed is reported as missing.
  EXPECT_NE(named.find("M " + norm(t.base() / "closed") + ": permission denied\n"), std::string::npos) << named;
  EXPECT_EQ(named.find("F "), std::string::npos) << named;
}

// --- fingerprint ---------------------------------------------------------

constexpr std::size_t kMiB = 1 << 20;

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// Writes `content` to `p` with a fixed mtime and returns its discovered entry.
VideoFile put(const fs::path& p, const std::string& content, std::int64_t mtime = 1700000000) {
  write_file(p, content);
  set_mtime(p, mtime);
  const Discovery d = discover({p.string()});
  EXPECT_EQ(d.files.size(), 1u);
  return d.files.empty() ? VideoFile{} : d.files[0];
}

TEST(Fingerprint, FormatAndDeterminism) {
  test::TempDir tmp("fp-format");
  const VideoFile f = put(tmp / "a.mp4", random_bytes(5000, 1));
  const std::string fp = fingerprint(f);
  EXPECT_EQ(fp.rfind("5000-1700000000-", 0), 0u) << fp;
  const std::string hex = fp.substr(std::string("5000-1700000000-").size());
  EXPECT_GE(hex.size(), 32u) << fp;
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << fp;
  EXPECT_EQ(fingerprint(f), fp);
}

TEST(Fingerprint, SameContentSameFingerprint) {
  test::TempDir tmp("fp-same");
  const std::string content = random_bytes(3 * kMiB + 123, 2);
  const VideoFile a = put(tmp / "a.mp4", content);
  const VideoFile b = put(tmp / "dir" / "b.mkv", content);
  EXPECT_EQ(fingerprint(a), fingerprint(b));
}

TEST(Fingerprint, FirstAndLastMiBMatter) {
  test::TempDir tmp("fp-change");
  const std::string base = random_bytes(3 * kMiB + 123, 3);
  const std::string ref = fingerprint(put(tmp / "ref.mp4", base));

  std::string last = base;
  last[last.size() - 10] ^= 0x5a;  // in the last MiB
  EXPECT_NE(fingerprint(put(tmp / "last.mp4", last)), ref);

  std::string last_start = base;
  last_start[base.size() - kMiB] ^= 0x01;  // first byte of the last MiB
  EXPECT_NE(fingerprint(put(tmp / "last_start.mp4", last_start)), ref);

  std::string first = base;
  first[100] ^= 0x01;
  EXPECT_NE(fingerprint(put(tmp / "first.mp4", first)), ref);

  // The middle of a large file is not read (the fingerprint samples the ends).
  std::string middle = base;
  middle[kMiB + kMiB / 2] ^= 0x01;
  EXPECT_EQ(fingerprint(put(tmp / "middle.mp4", middle)), ref);

  // Same bytes, other mtime: different fingerprint.
  EXPECT_NE(fingerprint(put(tmp / "touched.mp4", base, 1700000001)), ref);
}

TEST(Fingerprint, SmallAndMidSizedFiles) {
  test::TempDir tmp("fp-small");
  const std::string small = random_bytes(1000, 4);
  std::string small2 = small;
  small2[999] ^= 1;
  EXPECT_NE(fingerprint(put(tmp / "s1.mp4", small)), fingerprint(put(tmp / "s2.mp4", small2)));

  // Between 1 and 2 MiB: a byte past the first MiB still counts.
  const std::string mid = random_bytes(kMiB + kMiB / 2, 5);
  std::string mid2 = mid;
  mid2[kMiB + 10] ^= 1;
  EXPECT_NE(fingerprint(put(tmp / "m1.mp4", mid)), fingerprint(put(tmp / "m2.mp4", mid2)));

  const VideoFile empty = put(tmp / "empty.mp4", "");
  EXPECT_EQ(fingerprint(empty).rfind("0-", 0), 0u);
}

TEST(Fingerprint, ReadErrorsThrowNamingThePath) {
  test::TempDir tmp("fp-errors");
  VideoFile gone;
  gone.path = (tmp / "gone.mp4").string();
  gone.size = 10;
  try {
    fingerprint(gone);
    FAIL() << "expected DiscoverError";
  } catch (const DiscoverError& e) {
    EXPECT_NE(std::string(e.what()).find(gone.path), std::string::npos) << e.what();
  }

  // A directory cannot be read as a file.
  VideoFile dir;
  dir.path = tmp.path().string();
  dir.size = 4096;
  EXPECT_THROW(fingerprint(dir), DiscoverError);
}

TEST(Fingerprint, UnreadableFileThrows) {
  test::TempDir tmp("fp-unreadable");
  const VideoFile f = put(tmp / "secret.mp4", random_bytes(100, 6));
  fs::permissions(tmp / "secret.mp4", fs::perms::none);
  const auto out = run_unprivileged(tmp.path(), [&]() -> std::string {
    try {
      return "fingerprint " + fingerprint(f);
    } catch (const DiscoverError& e) {
      return std::string("DiscoverError: ") + e.what();
    }
  });
  if (!out) GTEST_SKIP() << "cannot drop privileges to test permission errors";
  EXPECT_EQ(out->rfind("DiscoverError: ", 0), 0u) << *out;
  EXPECT_NE(out->find(f.path), std::string::npos) << *out;
}

}  // namespace
}  // namespace vidsift
