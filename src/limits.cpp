#include "vidsift/limits.h"

#include <unistd.h>
#include <algorithm>
#include <climits>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "vidsift/format.h"

namespace vidsift {

std::string check_range(const std::string& option, double v, double lo, double hi) {
  if (std::isfinite(v) && v >= lo && v <= hi) return {};
  return option + " must be a number within " + human_number(lo, 6) + ".." + human_number(hi, 6) + " (got " +
         human_number(v, 6) + ")";
}

int seconds_to_ms(double s) {
  if (!(s > 0)) return 0;  // NaN and negatives
  const double ms = std::round(s * 1000.0);
  if (ms >= static_cast<double>(INT_MAX)) return INT_MAX;
  return static_cast<int>(ms);
}

std::chrono::steady_clock::duration seconds_to_duration(double s) {
  if (!(s > 0)) return std::chrono::steady_clock::duration::zero();
  s = std::min(s, kMaxDurationSeconds);
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

int machine_cores() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

std::uint64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return kb * 1024;
  }
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
  return 0;
}

int thread_limit(int cores) { return std::clamp(4 * std::max(1, cores), 4, kMaxThreads); }

std::string check_threads(const std::string& option, int v, int cores) {
  const int limit = thread_limit(cores);
  if (v >= 0 && v <= limit) return {};
  return option + " must be within 0.." + std::to_string(limit) + " (got " + std::to_string(v) + "; this machine has " +
         std::to_string(cores) + " core(s), and more than 4 threads per core only adds overhead)";
}

std::string human_bytes(double bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  while (bytes >= 1000 && u < 6) {
    bytes /= 1000;
    ++u;
  }
  return human_number(bytes, u == 0 ? 0 : 1) + " " + kUnits[u];
}

std::string check_pool(std::int64_t slots, std::size_t slot_bytes, std::uint64_t available) {
  if (slots < 0) return "--pool must be >= 0 (0 = automatic)";
  if (available == 0 || slot_bytes == 0) return {};
  const double budget = static_cast<double>(available) / 2;
  const double asked = static_cast<double>(slots) * static_cast<double>(slot_bytes);
  if (asked <= budget) return {};
  const auto fits = static_cast<std::int64_t>(budget / static_cast<double>(slot_bytes));
  return "--pool " + std::to_string(slots) + " needs " + human_bytes(asked) + " of input buffers (" +
         std::to_string(slots) + " x " + human_bytes(static_cast<double>(slot_bytes)) + "), more than half of the " +
         human_bytes(static_cast<double>(available)) + " of memory available on this machine; use at most " +
         std::to_string(fits) + " (or 0 = automatic)";
}

}  // namespace vidsift
