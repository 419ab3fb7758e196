// test_buffer_pool.cpp — BufferPool (buffer_pool.h): capacity and slot sizes,
// slots returned when the last handle copy dies, try_acquire on an empty pool,
// acquire blocking until another thread releases (synchronised through the
// should_stop callback, no timing), acquire giving up when should_stop turns
// true, high_water, and a concurrent acquire/release run that never exceeds
// the capacity.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "vidsift/buffer_pool.h"

namespace vidsift {
namespace {

TEST(BufferPool, CapacityAndSlots) {
  BufferPool pool(3, 10);
  EXPECT_EQ(pool.capacity(), 3u);
  EXPECT_EQ(pool.available(), 3u);
  EXPECT_EQ(pool.floats_per_slot(), 10u);
  EXPECT_EQ(pool.high_water(), 0u);

  std::vector<BufferPool::Handle> hs;
  std::set<float*> ptrs;
  for (int i = 0; i < 3; ++i) {
    auto h = pool.try_acquire();
    ASSERT_TRUE(h);
    EXPECT_EQ(h->size(), 10u);
    ASSERT_NE(h->data(), nullptr);
    for (std::size_t k = 0; k < h->size(); ++k) h->data()[k] = static_cast<float>(i);  // writable, whole slot
    ptrs.insert(h->data());
    hs.push_back(std::move(h));
  }
  EXPECT_EQ(ptrs.size(), 3u);  // distinct buffers
  EXPECT_EQ(pool.available(), 0u);
  // Writing one slot did not touch another.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(hs[static_cast<std::size_t>(i)]->data()[9], static_cast<float>(i));
}

TEST(BufferPool, SlotReturnsWhenLastHandleDies) {
  BufferPool pool(2, 4);
  auto a = pool.acquire();
  auto b = pool.acquire();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(pool.available(), 0u);

  float* a_data = a->data();
  auto a_copy = a;
  a.reset();
  EXPECT_EQ(pool.available(), 0u) << "a copy still holds the slot";
  a_copy.reset();
  EXPECT_EQ(pool.available(), 1u);

  // The released slot is the one handed out next.
  auto c = pool.try_acquire();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->data(), a_data);
  c.reset();
  b.reset();
  EXPECT_EQ(pool.available(), 2u);
}

TEST(BufferPool, TryAcquireReturnsNullWhenEmpty) {
  BufferPool pool(1, 1);
  auto a = pool.try_acquire();
  ASSERT_TRUE(a);
  EXPECT_EQ(pool.try_acquire(), nullptr);
  EXPECT_EQ(pool.try_acquire(), nullptr);
  a.reset();
  EXPECT_NE(pool.try_acquire(), nullptr);
}

// Lets the test know when another thread is waiting inside acquire(): the
// pool calls should_stop only when it has no free slot.
struct WaitProbe {
  std::mutex mu;
  std::condition_variable cv;
  bool waiting = false;
  bool stop = false;
  int polls = 0;

  std::function<bool()> callback() {
    return [this] {
      std::lock_guard<std::mutex> lock(mu);
      waiting = true;
      ++polls;
      cv.notify_all();
      return stop;
    };
  }
  void wait_until_waiting() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return waiting; });
  }
};

TEST(BufferPool, AcquireBlocksUntilAnotherThreadReleases) {
  BufferPool pool(1, 8);
  auto held = pool.acquire();
  ASSERT_TRUE(held);
  float* held_data = held->data();

  WaitProbe probe;
  std::atomic<bool> got{false};
  BufferPool::Handle received;
  std::thread t([&] {
    received = pool.acquire(probe.callback());
    got = true;
  });
  probe.wait_until_waiting();
  // The other thread is inside acquire() with no free slot: it cannot have
  // returned yet.
  EXPECT_FALSE(got.load());
  held.reset();  // release -> wakes the waiter
  t.join();
  EXPECT_TRUE(got.load());
  ASSERT_TRUE(received);
  EXPECT_EQ(received->data(), held_data);
  EXPECT_EQ(pool.available(), 0u);
  received.reset();
  EXPECT_EQ(pool.available(), 1u);
}

TEST(BufferPool, AcquireWithoutStopCallbackBlocksToo) {
  BufferPool pool(1, 8);
  auto held = pool.acquire();
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  BufferPool::Handle received;
  std::thread t([&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      started = true;
    }
    cv.notify_all();
    received = pool.acquire();  // no should_stop: waits as long as needed
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return started; });
  }
  held.reset();
  t.join();
  EXPECT_TRUE(received);
}

TEST(BufferPool, AcquireReturnsNullWhenStopped) {
  BufferPool pool(1, 8);
  auto held = pool.acquire();

  // Already stopped: returns at once.
  EXPECT_EQ(pool.acquire([] { return true; }), nullptr);

  // Becomes stopped while waiting.
  WaitProbe probe;
  BufferPool::Handle received;
  bool returned = false;
  std::thread t([&] {
    received = pool.acquire(probe.callback());
    returned = true;
  });
  probe.wait_until_waiting();
  {
    std::lock_guard<std::mutex> lock(probe.mu);
    probe.stop = true;
  }
  t.join();
  EXPECT_TRUE(returned);
  EXPECT_EQ(received, nullptr);
  EXPECT_GE(probe.polls, 2);
  EXPECT_EQ(pool.available(), 0u);  // the held slot is still held
  held.reset();
  EXPECT_EQ(pool.available(), 1u);
}

TEST(BufferPool, StopIsOnlyConsultedWhenNoSlotIsFree) {
  BufferPool pool(2, 8);
  int calls = 0;
  auto h = pool.acquire([&] {
    ++calls;
    return true;
  });
  EXPECT_TRUE(h);
  EXPECT_EQ(calls, 0);
}

TEST(BufferPool, HighWater) {
  BufferPool pool(4, 2);
  EXPECT_EQ(pool.high_water(), 0u);
  {
    auto a = pool.acquire();
    EXPECT_EQ(pool.high_water(), 1u);
    auto b = pool.acquire();
    auto c = pool.try_acquire();
    EXPECT_EQ(pool.high_water(), 3u);
  }
  EXPECT_EQ(pool.available(), 4u);
  auto d = pool.acquire();
  auto e = pool.acquire();
  EXPECT_EQ(pool.high_water(), 3u) << "high water never goes down";
  auto f = pool.acquire();
  auto g = pool.acquire();
  EXPECT_EQ(pool.high_water(), 4u);
}

TEST(BufferPool, ConcurrentUseNeverExceedsCapacity) {
  constexpr std::size_t kSlots = 3;
  BufferPool pool(kSlots, 16);
  std::atomic<int> in_use{0};
  std::atomic<int> worst{0};
  std::atomic<int> overlaps{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 400; ++i) {
        auto h = (i % 2) ? pool.acquire() : pool.try_acquire();
        if (!h) continue;
        const int now = ++in_use;
        int w = worst.load();
        while (now > w && !worst.compare_exchange_weak(w, now)) {
        }
        // Nobody else writes this slot while we hold it.
        const float mark = static_cast<float>(t * 1000 + i);
        for (std::size_t k = 0; k < h->size(); ++k) h->data()[k] = mark;
        std::this_thread::yield();
        for (std::size_t k = 0; k < h->size(); ++k)
          if (h->data()[k] != mark) {
            ++overlaps;
            break;
          }
        --in_use;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(worst.load(), static_cast<int>(kSlots));
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(pool.available(), kSlots);
  EXPECT_LE(pool.high_water(), kSlots);
  EXPECT_GE(pool.high_water(), 1u);
}

}  // namespace
}  // namespace vidsift
