// progress.h — the live progress line on stderr.
//
// Contract:
//  * A ProgressPrinter constructed with enabled = true redraws one line on
//    stderr every 250 ms from a thread of its own (see progress_line.h for
//    its content), fitted to the terminal's current width (TIOCGWINSZ on
//    stderr, else $COLUMNS, else 80) so that it never wraps; each redraw
//    starts with '\r' and blanks what is left of a longer previous line.
//    The destructor draws the final state and ends the line.
//  * With enabled = false it does nothing.
#pragma once

#include <atomic>
#include <thread>

#include "vidsift/assembler.h"

namespace vidsift::cli {

class ProgressPrinter {
 public:
  ProgressPrinter(const Progress& p, bool enabled);
  ~ProgressPrinter();
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

 private:
  void print(double secs);
  const Progress& p_;
  std::atomic<bool> quit_{false};
  std::size_t last_len_ = 0;  // only the printer thread touches it
  std::thread thread_;
};

}  // namespace vidsift::cli
