// sha256: SHA-256 digests (FIPS 180-4) of memory buffers and files.
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

#ifndef VIDSIFT_SHA256_H_
#define VIDSIFT_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace vidsift {

// Incremental SHA-256.  Copyable: copying a partially fed object and
// finalising the copy gives the digest of the prefix seen so far.
class Sha256 {
 public:
  // Starts a new, empty message.
  Sha256();

  // Appends len bytes at data to the message.  data may be null when len is
  // 0.  Throws std::logic_error if hex_digest() has already been called.
  void update(const void* data, std::size_t len);

  // Finalises the message (first call) and returns its digest as 64
  // lowercase hex characters.  Idempotent.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> block_{};
  std::size_t block_len_ = 0;     // bytes buffered in block_, always < 64
  std::uint64_t total_len_ = 0;   // message length in bytes so far
  std::string digest_;            // non-empty once finalised
};

// Returns the lowercase hex SHA-256 of data.
std::string sha256_hex(std::string_view data);

// Returns the lowercase hex SHA-256 of the file's contents, read in 1 MiB
// chunks.  Throws std::runtime_error("cannot read <path>: <strerror>") if the
// file cannot be opened or a read fails.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace vidsift

#endif  // VIDSIFT_SHA256_H_
