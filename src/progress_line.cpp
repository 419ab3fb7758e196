#include "vidsift/progress_line.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace vidsift {

namespace {

std::string printf_text(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// The file name for display: last path component, non-ASCII as '?', cut in
// the middle to `room` characters.
std::string file_text(const std::string& path, std::size_t room) {
  std::string name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  for (auto& c : name)
    if (static_cast<unsigned char>(c) >= 0x80 || static_cast<unsigned char>(c) < 0x20) c = '?';
  if (name.size() <= room) return name;
  const std::size_t keep = room - 2;
  const std::size_t head = keep / 2;
  return name.substr(0, head) + ".." + name.substr(name.size() - (keep - head));
}

}  // namespace

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(std::max(0.0, std::round(seconds)));
  char buf[48];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

std::optional<Eta> eta_seconds(const ProgressSnapshot& s) {
  if (s.elapsed < kEtaMinSeconds || s.frames_analysed < kEtaMinFrames || s.videos_opened <= 0 ||
      s.videos_finished >= s.videos_total)
    return std::nullopt;
  const double rate = static_cast<double>(s.frames_analysed) / s.elapsed;
  const std::int64_t in_flight = std::max<std::int64_t>(0, s.videos_opened - s.videos_closed);
  const std::int64_t unopened = std::max<std::int64_t>(0, s.videos_total - s.videos_finished - in_flight);
  const double mean = static_cast<double>(s.frames_expected) / static_cast<double>(s.videos_opened);
  const double left = std::max<double>(0.0, static_cast<double>(s.frames_expected - s.frames_analysed)) +
                      static_cast<double>(unopened) * mean;
  return Eta{left / rate, unopened > 0};
}

std::string progress_line(const ProgressSnapshot& s, int width) {
  const std::size_t max_len = static_cast<std::size_t>(std::max(width, 10) - 1);
  struct Part {
    std::string text;
    int keep;  // higher is kept longer
  };
  std::vector<Part> parts;
  parts.push_back({"videos " + std::to_string(s.videos_finished) + "/" + std::to_string(s.videos_total), 100});
  if (s.videos_failed > 0) parts.push_back({std::to_string(s.videos_failed).insert(0, 1, '(') + " failed)", 30});
  parts.push_back({"frames " + std::to_string(s.frames_analysed) +
                       (s.frames_expected > 0 ? "/~" + std::to_string(s.frames_expected) : std::string()),
                   40});
  const double rate = s.elapsed > 0 ? static_cast<double>(s.frames_analysed) / s.elapsed : 0.0;
  parts.push_back({printf_text("%.1f frames/s", rate), 20});
  parts.push_back({"det " + std::to_string(s.detections), 10});
  parts.push_back({"elapsed " + clock_text(s.elapsed), 60});
  if (const auto eta = eta_seconds(s))
    parts.push_back({"ETA " + std::string(eta->extrapolated ? "~" : "") + clock_text(eta->seconds), 50});
  // The current file: kept before the frame counts, after the ETA; it takes
  // the room left, at least kMinFileColumns.
  constexpr std::size_t kMinFileColumns = 8;
  constexpr int kFileKeep = 45;
  if (!s.current.empty()) parts.push_back({s.current, kFileKeep});
  auto is_file = [&](const Part& p) { return p.keep == kFileKeep; };
  auto fixed_length = [&] {
    std::size_t n = 0;
    bool first = true;
    for (const auto& p : parts) {
      if (is_file(p)) continue;
      n += (first ? 0 : 2) + p.text.size();
      first = false;
    }
    return n;
  };
  auto needed = [&] {
    std::size_t n = fixed_length();
    for (const auto& p : parts)
      if (is_file(p)) n += 2 + kMinFileColumns;
    return n;
  };
  while (needed() > max_len && parts.size() > 1) {
    parts.erase(
        std::min_element(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.keep < b.keep; }));
  }
  std::string line;
  for (const auto& p : parts) {
    if (!line.empty()) line += "  ";
    line += is_file(p) ? file_text(p.text, max_len - fixed_length() - 2) : p.text;
  }
  if (line.size() > max_len) line.resize(max_len);
  return line;
}

}  // namespace vidsift
