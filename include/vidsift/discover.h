// discover.h — turn command-line INPUTs into the list of video files to analyse.
//
// Contract:
//  * An INPUT is a regular file (kept whatever its extension: the user named
//    it), a directory (walked recursively, keeping files whose extension is a
//    known video extension, symlink loops and unreadable sub-directories are
//    skipped and reported), or "@list.txt" (one INPUT per line; blank lines and
//    lines starting with '#' ignored; relative paths are relative to the list
//    file's directory).
//  * The result is sorted by path and holds each file once (by canonical
//    path when one can be computed).
//  * A named INPUT that cannot be reached (does not exist, a path component
//    is not a directory, a symlink loop, a name too long, a directory that
//    cannot be listed, an unreadable list file) is not an exception: it is
//    returned in `missing` with the reason, the operating system's error text
//    in lower case ("no such file or directory", "permission denied", "not a
//    directory", ...), so the caller can record it as a failed video.
//    Problems met while walking inside a directory go to `warnings`.
//  * Only regular files (or symlinks to them) are videos: a named INPUT (or
//    @list entry) that is a FIFO, device, socket or "-" (stdin) is returned in
//    `missing` with a clear reason, never opened (a FIFO would block open()).
//  * Fingerprint: "<size>-<mtime>-<sha256 of first MiB + last MiB>"; reading
//    errors yield an exception of type DiscoverError naming the path. The
//    file is opened without blocking and must be a regular file.
// Thread-safety: free functions without shared state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace vidsift {

class DiscoverError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct VideoFile {
  std::string path;        // as it will be recorded (absolute, lexically normal)
  std::int64_t size = 0;   // bytes
  std::int64_t mtime = 0;  // seconds since the epoch
};

// A named input that could not be used, and why.
struct MissingInput {
  std::string path;   // absolute, lexically normal; list files keep their "@"
  std::string error;  // e.g. "no such file or directory", "permission denied"
};

struct Discovery {
  std::vector<VideoFile> files;
  std::vector<MissingInput> missing;  // named inputs that cannot be reached or listed
  std::vector<std::string> warnings;  // human-readable notes from the walk
};

// True when the extension (case-insensitive) is one vidsift treats as video
// while walking directories (.mp4 .mkv .avi .mov .ts .m2ts .mts .webm .flv
// .wmv .mpg .mpeg .m4v .3gp .ogv .mxf .h264 .hevc .y4m .vob .dv .m2v .qt).
bool has_video_extension(const std::filesystem::path& p);

// Empty when the stat() mode `mode` is a regular file; otherwise why vidsift
// refuses the file ("not a regular file (a named pipe (FIFO)): ...").
std::string irregular_file_reason(unsigned mode);

// Expands INPUTs as described above.
Discovery discover(const std::vector<std::string>& inputs);

// Content fingerprint of a file (see contract). Throws DiscoverError.
std::string fingerprint(const VideoFile& file);

}  // namespace vidsift
