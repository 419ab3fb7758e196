#include "vidsift/sha256.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

extern "C" {
#include <libavutil/mem.h>
#include <libavutil/sha.h>
}

namespace vidsift {

namespace {

constexpr int kBits = 256;
constexpr std::size_t kDigestBytes = kBits / 8;
constexpr std::size_t kFileChunk = std::size_t{1} << 20;  // 1 MiB

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

[[noreturn]] void throw_read_error(const std::filesystem::path& path, int err) {
  throw std::runtime_error("cannot read " + path.string() + ": " + std::generic_category().message(err));
}

AVSHA* alloc_context() {
  AVSHA* ctx = av_sha_alloc();
  if (ctx == nullptr) throw std::bad_alloc();
  return ctx;
}

}  // namespace

void Sha256::AvFree::operator()(AVSHA* ctx) const noexcept { av_free(ctx); }

Sha256::Sha256() : ctx_(alloc_context()) {
  if (av_sha_init(ctx_.get(), kBits) < 0) throw std::logic_error("av_sha_init rejected 256 bits");
}

// AVSHA is a plain struct of av_sha_size bytes (counters, buffer, state and a
// function pointer, no owned memory); libavutil exports av_sha_size so that
// callers may allocate and copy it themselves.
Sha256::Sha256(const Sha256& other) : ctx_(alloc_context()), digest_(other.digest_) {
  std::memcpy(ctx_.get(), other.ctx_.get(), static_cast<std::size_t>(av_sha_size));
}

Sha256& Sha256::operator=(const Sha256& other) {
  if (this != &other) {
    Sha256 copy(other);
    *this = std::move(copy);
  }
  return *this;
}

void Sha256::update(const void* data, std::size_t len) {
  if (!digest_.empty()) throw std::logic_error("Sha256::update called after hex_digest");
  if (len == 0) return;
  av_sha_update(ctx_.get(), static_cast<const std::uint8_t*>(data), len);
}

std::string Sha256::hex_digest() {
  if (!digest_.empty()) return digest_;
  std::uint8_t raw[kDigestBytes];
  av_sha_final(ctx_.get(), raw);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * kDigestBytes);
  for (const std::uint8_t b : raw) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  digest_ = out;
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.hex_digest();
}

std::string sha256_file(const std::filesystem::path& path) {
  errno = 0;
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw_read_error(path, errno != 0 ? errno : EIO);

  std::vector<std::uint8_t> buf(kFileChunk);
  Sha256 h;
  for (;;) {
    errno = 0;
    const std::size_t n = std::fread(buf.data(), 1, buf.size(), file.get());
    h.update(buf.data(), n);
    if (n < buf.size()) {
      if (std::ferror(file.get())) throw_read_error(path, errno != 0 ? errno : EIO);
      break;  // end of file
    }
  }
  return h.hex_digest();
}

}  // namespace vidsift
