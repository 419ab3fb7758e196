// limits.h — the bounds vidsift puts on its numeric options, and what the
// machine can hold.
//
// Contract:
//  * check_range(option, v, lo, hi) returns "" when v is finite and within
//    [lo, hi], else a message for the user naming the option, the value and
//    the valid range ("--conf must be a number within 0..1 (got nan)"). NaN
//    and infinities are always out of range.
//  * seconds_to_ms(s) converts seconds to whole milliseconds for APIs that
//    take an int: NaN and negatives give 0, anything beyond INT_MAX ms gives
//    INT_MAX. seconds_to_duration(s) is the same for steady_clock, clamped to
//    kMaxDurationSeconds, so `now() + d` cannot overflow.
//  * machine_cores() is the number of hardware threads (>= 1);
//    available_memory_bytes() is MemAvailable from /proc/meminfo, else the
//    physical memory, else 0 when unknown.
//  * thread_limit(cores) is the most threads one thread option may ask for:
//    4 x the cores, at least 4, at most kMaxThreads. check_threads(option, v,
//    cores) returns "" when 0 <= v <= thread_limit(cores), else a message
//    saying the limit and why.
//  * check_pool(slots, slot_bytes, available) returns "" when `slots` input
//    buffers of `slot_bytes` each fit in half of `available` bytes (always ""
//    when available is 0: unknown), else a message giving the memory asked
//    for, the memory available and the largest pool that fits.
// Pure functions, except the two that read the machine; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace vidsift {

// The longest duration (seconds) any timeout option accepts: 1e6 s, 11.6 days.
inline constexpr double kMaxDurationSeconds = 1e6;
// The most threads any one thread option accepts, whatever the machine.
inline constexpr int kMaxThreads = 256;

std::string check_range(const std::string& option, double v, double lo, double hi);

int seconds_to_ms(double s);
std::chrono::steady_clock::duration seconds_to_duration(double s);

int machine_cores();
std::uint64_t available_memory_bytes();

int thread_limit(int cores);
std::string check_threads(const std::string& option, int v, int cores);

std::string check_pool(std::int64_t slots, std::size_t slot_bytes, std::uint64_t available);

// "1.5 GB", "2.1 MB", "512 B": bytes for people (powers of 1000).
std::string human_bytes(double bytes);

}  // namespace vidsift
