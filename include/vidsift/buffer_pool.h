// buffer_pool.h — a fixed number of equally sized float buffers (network input
// slots). The pool is vidsift's memory bound and its backpressure: when every
// slot is in use, acquire() waits.
//
// Contract:
//  * BufferPool(slots, floats) allocates everything up front; nothing is
//    allocated afterwards, so peak memory does not depend on how many videos
//    or frames pass through.
//  * acquire(should_stop) blocks until a slot is free and returns a shared
//    handle; the slot goes back to the pool when the last copy of the handle
//    is destroyed. It returns nullptr if should_stop() becomes true while
//    waiting (polled every 50 ms). try_acquire() never blocks.
//  * Only threads outside the TBB arena may block in acquire(); graph bodies
//    use try_acquire() or never acquire at all.
//  * The pool must outlive every handle it gave out.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace vidsift {

class BufferPool {
 public:
  class Slot {
    struct Key {};  // only BufferPool can construct slots

   public:
    Slot(Key, BufferPool* pool, std::size_t index, float* data, std::size_t size)
        : pool_(pool), index_(index), data_(data), size_(size) {}
    ~Slot() { pool_->release(index_); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    float* data() { return data_; }
    const float* data() const { return data_; }
    std::size_t size() const { return size_; }

   private:
    friend class BufferPool;
    BufferPool* pool_;
    std::size_t index_;
    float* data_;
    std::size_t size_;
  };
  using Handle = std::shared_ptr<Slot>;

  BufferPool(std::size_t slots, std::size_t floats_per_slot);
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  Handle acquire(const std::function<bool()>& should_stop = {});
  Handle try_acquire();

  std::size_t capacity() const { return storage_.size(); }
  std::size_t available() const;
  std::size_t floats_per_slot() const { return floats_; }
  // Highest number of slots ever in use at once.
  std::size_t high_water() const;

 private:
  Handle make_handle(std::size_t index);
  void release(std::size_t index);

  std::size_t floats_;
  std::vector<std::vector<float>> storage_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::size_t> free_;
  std::size_t high_water_ = 0;
};

}  // namespace vidsift
