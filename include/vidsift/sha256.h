// sha256: SHA-256 digests (FIPS 180-4) of memory buffers and files, computed
// by libavutil (av_sha_*); this unit only adds RAII, hex output and file reading.
//
// Contract:
//   - Sha256 hashes a byte stream fed in pieces of any size; the digest does
//     not depend on how the stream was split.  hex_digest() finalises the
//     object and returns 64 lowercase hex characters; calling it again returns
//     the same digest.  update() after finalisation is a logic error and
//     throws std::logic_error (start again with a fresh object).
//   - sha256_hex() hashes one buffer.  sha256_file() hashes a file's contents,
//     reading it in 1 MiB chunks, and throws std::runtime_error with the
//     message "cannot read <path>: <strerror text>" when the file cannot be
//     opened or read.
//
// Thread-safety: a Sha256 object is not synchronised; one object must not be
// used from several threads at once without external locking.  Distinct
// objects, and the free functions, may be used concurrently.

#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

struct AVSHA;  // libavutil/sha.h

namespace vidsift {

// Incremental SHA-256.  Copyable: copying a partially fed object and
// finalising the copy gives the digest of the prefix seen so far.  Movable: a
// moved-from object may only be assigned to or destroyed.
class Sha256 {
 public:
  // Starts a new, empty message.  Throws std::bad_alloc when libavutil cannot
  // allocate its context.
  Sha256();
  Sha256(const Sha256& other);
  Sha256& operator=(const Sha256& other);
  Sha256(Sha256&&) noexcept = default;
  Sha256& operator=(Sha256&&) noexcept = default;
  ~Sha256() = default;

  // Appends len bytes at data to the message.  data may be null when len is
  // 0.  Throws std::logic_error if hex_digest() has already been called.
  void update(const void* data, std::size_t len);

  // Finalises the message (first call) and returns its digest as 64
  // lowercase hex characters.  Idempotent.
  std::string hex_digest();

 private:
  struct AvFree {
    void operator()(AVSHA* ctx) const noexcept;
  };

  std::unique_ptr<AVSHA, AvFree> ctx_;  // never null, except in a moved-from object
  std::string digest_;                  // non-empty once finalised
};

// Returns the lowercase hex SHA-256 of data.
std::string sha256_hex(std::string_view data);

// Returns the lowercase hex SHA-256 of the file's contents, read in 1 MiB
// chunks.  Throws std::runtime_error("cannot read <path>: <strerror>") if the
// file cannot be opened or a read fails.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace vidsift
