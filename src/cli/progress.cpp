#include "progress.h"

#include <sys/ioctl.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "vidsift/progress_line.h"
#include "vidsift/stage_stats.h"

namespace vidsift::cli {

namespace {

int terminal_width() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS")) {
    const int n = std::atoi(c);
    if (n > 0) return n;
  }
  return 80;
}

}  // namespace

ProgressPrinter::ProgressPrinter(const Progress& p, bool enabled) : p_(p) {
  if (!enabled) return;
  thread_ = std::thread([this] {
    StageTimer t;
    while (!quit_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      print(t.seconds());
    }
    print(t.seconds());
    std::fprintf(stderr, "\n");
  });
}

ProgressPrinter::~ProgressPrinter() {
  quit_ = true;
  if (thread_.joinable()) thread_.join();
}

void ProgressPrinter::print(double secs) {
  ProgressSnapshot s;
  s.elapsed = secs;
  s.videos_total = p_.videos_total.load();
  s.videos_finished = p_.videos_finished.load();
  s.videos_failed = p_.videos_failed.load();
  s.videos_opened = p_.videos_opened.load();
  s.videos_closed = p_.videos_closed.load();
  s.frames_analysed = p_.frames_analysed.load();
  s.frames_expected = p_.frames_expected.load();
  s.detections = p_.detections.load();
  s.current = p_.current();
  const int width = terminal_width();
  std::string line = progress_line(s, width);
  const std::size_t len = line.size();
  // Blank the rest of a longer previous line, within the width.
  const std::size_t blank_to = std::min(last_len_, static_cast<std::size_t>(std::max(width, 10) - 1));
  if (len < blank_to) line.append(blank_to - len, ' ');
  last_len_ = len;
  std::fprintf(stderr, "\r%s", line.c_str());
  std::fflush(stderr);
}

}  // namespace vidsift::cli
