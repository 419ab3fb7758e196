// small_file.h — reading files that must be small (label lists, INI configs).
//
// Contract:
//  * read_small_file(path, max_bytes, what) returns the whole content of
//    `path`. It refuses, with SmallFileError naming `what` (e.g. "labels
//    file"), the path and what to do: a file that cannot be opened, anything
//    that is not a regular file (or a symlink to one): a device such as
//    /dev/zero, a FIFO, a directory; and a file larger than `max_bytes`. It
//    never reads more than max_bytes + 1 bytes, even when the file grows.
//  * kMaxSmallFileBytes (1 MiB) is the bound used for labels and configs.
// Thread-safe.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace vidsift {

class SmallFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::size_t kMaxSmallFileBytes = 1 << 20;

std::string read_small_file(const std::filesystem::path& path, std::size_t max_bytes, const std::string& what);

}  // namespace vidsift
