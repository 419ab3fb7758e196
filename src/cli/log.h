// log.h — stderr as a log: timestamps for cron, and the line formats an
// operator greps for.
//
// Contract:
//  * StampedStderr, while it lives, makes every line written to std::cerr
//    start with the UTC time, "2026-11-21T03:00:07Z " (only when `enabled`:
//    main enables it when stderr is not a terminal, i.e. in a log file or a
//    cron mail). Lines are stamped when their first character is written, so
//    partial lines are never split. Restores std::cerr's buffer when it goes.
//    Writes from several threads must each be whole lines (`line()` below).
//  * finished_video_line(f) is the one line logged per finished video:
//      vidsift: video <status> frames=<n> detections=<n> seconds=<s> <path>[: <error>]
//  * summary_line(facts) is the final one-line summary, always the last line
//    vidsift writes for a run (see README "Logs"):
//      vidsift: summary run=<id> status=<run status> exit=<n> inputs=<n>
//      done=<n> partial=<n> failed=<n> skipped=<n> unfinished=<n> frames=<n>
//      detections=<n> seconds=<s> db=<path>
//    (one line; the counts of done..unfinished add up to inputs).
// Pure functions except StampedStderr; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <streambuf>
#include <string>

#include "vidsift/assembler.h"

namespace vidsift::cli {

// "2026-11-21T03:00:07Z": now, UTC, to the second.
std::string utc_timestamp();

class StampedStderr {
 public:
  explicit StampedStderr(bool enabled);
  ~StampedStderr();
  StampedStderr(const StampedStderr&) = delete;
  StampedStderr& operator=(const StampedStderr&) = delete;

 private:
  std::unique_ptr<std::streambuf> buf_;
  std::streambuf* original_ = nullptr;
};

// Writes `text` and a newline to std::cerr in one call, under a lock shared
// by every caller, so lines from different threads never interleave.
void line(const std::string& text);

std::string finished_video_line(const FinishedVideo& f);

// The facts the final summary line reports.
struct SummaryFacts {
  std::int64_t run_id = 0;
  std::string status;  // the run's status: finished, interrupted, failed
  int exit_status = 0;
  std::int64_t inputs = 0;
  std::int64_t done = 0;
  std::int64_t partial = 0;
  std::int64_t failed = 0;
  std::int64_t skipped = 0;
  std::int64_t unfinished = 0;  // inputs with no final result from this run (it was stopped)
  std::int64_t frames = 0;      // analysed in this run
  std::int64_t detections = 0;  // found in this run
  double seconds = 0;
  std::string db;
};

std::string summary_line(const SummaryFacts& s);

}  // namespace vidsift::cli
