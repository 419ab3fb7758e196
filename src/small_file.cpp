#include "vidsift/small_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace vidsift {

namespace {
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

std::string read_small_file(const std::filesystem::path& path, std::size_t max_bytes, const std::string& what) {
  const std::string name = what + " " + path.string();
  // Check the type before opening: opening a FIFO for reading would block.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw SmallFileError("cannot read " + name + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    throw SmallFileError(name + " is not a regular file (a device, FIFO or directory); give a file");
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    throw SmallFileError(name + " is too large (" + std::to_string(st.st_size) + " bytes; at most " +
                         std::to_string(max_bytes) + ")");
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f.fd < 0) throw SmallFileError("cannot read " + name + ": " + std::strerror(errno));
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode))  // replaced since stat()
    throw SmallFileError(name + " is not a regular file (a device, FIFO or directory); give a file");
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SmallFileError("cannot read " + name + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes)
      throw SmallFileError(name + " is too large (more than " + std::to_string(max_bytes) + " bytes)");
  }
  return out;
}

}  // namespace vidsift
