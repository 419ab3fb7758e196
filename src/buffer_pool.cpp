#include "vidsift/buffer_pool.h"

#include <chrono>

namespace vidsift {

BufferPool::BufferPool(std::size_t slots, std::size_t floats_per_slot) : floats_(floats_per_slot) {
  if (slots == 0) slots = 1;
  storage_.resize(slots);
  free_.reserve(slots);
  for (std::size_t i = 0; i < slots; ++i) {
    storage_[i].assign(floats_per_slot, 0.0f);
    free_.push_back(slots - 1 - i);
  }
}

BufferPool::Handle BufferPool::make_handle(std::size_t index) {
  const std::size_t in_use = storage_.size() - free_.size();
  if (in_use > high_water_) high_water_ = in_use;
  return std::make_shared<Slot>(Slot::Key{}, this, index, storage_[index].data(), floats_);
}

BufferPool::Handle BufferPool::acquire(const std::function<bool()>& should_stop) {
  std::unique_lock<std::mutex> lock(mu_);
  while (free_.empty()) {
    if (should_stop && should_stop()) return nullptr;
    cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
  const std::size_t index = free_.back();
  free_.pop_back();
  return make_handle(index);
}

BufferPool::Handle BufferPool::try_acquire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (free_.empty()) return nullptr;
  const std::size_t index = free_.back();
  free_.pop_back();
  return make_handle(index);
}

void BufferPool::release(std::size_t index) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(index);
  }
  cv_.notify_one();
}

std::size_t BufferPool::available() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_.size();
}

std::size_t BufferPool::high_water() const {
  std::lock_guard<std::mutex> lock(mu_);
  return high_water_;
}

}  // namespace vidsift
