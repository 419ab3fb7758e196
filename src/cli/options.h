// options.h — the command line and INI config of `vidsift`.
//
// Contract:
//  * parse_command_line(argc, argv) returns the subcommand and its settings.
//    Every `run` option can also be given in an INI file (--config FILE, keys
//    are the long option names, e.g. "every = 10", "keyframes = true",
//    "input = /archive/today"); the command line wins over the file. The
//    sampling mode (every, fps, keyframes) is one setting: any of them on
//    the command line replaces all of the file's (recorded in `notes`).
//  * Yes/no options accept --NAME, --NAME=VALUE, --NAME VALUE (VALUE one of
//    true/false, yes/no, on/off, 1/0) and --no-NAME.
//  * Unknown options and commands get a "did you mean" when one is near.
//    "input = /archive/today"); the command line wins over the file.
//  * `report` takes the database positionally or with --db (not both), and
//    --run ID, --video PATH, --since/--until TIME, --json, --html FILE
//    (with --html-top N, --html-thumbs N); the report options are refused
//    by `run`.
//  * Throws UsageError (exit status 2) with a message naming the bad option;
//    `help`/`version` requests are returned, not thrown.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "vidsift/family.h"
#include "vidsift/inference.h"
#include "vidsift/pipeline.h"
#include "vidsift/shard.h"

namespace vidsift::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Command { Run, Report, Merge, Help, Version };

struct CliOptions {
  Command command = Command::Help;
  std::string help_text;
  std::vector<std::string> inputs;
  std::string db = "vidsift.db";
  double db_timeout = 10.0;  // seconds to wait for another writer's lock
  ModelOptions model;
  std::vector<std::string> classes;
  PipelineOptions pipeline;
  bool force = false;
  bool retry_failed = false;
  int progress = -1;  // -1 auto (when stderr is a terminal), 0 off, 1 on
  bool quiet = false;
  bool verbose = false;  // let FFmpeg and OpenCV print their own warnings
  bool json = false;
  bool calibrate = false;  // measure and pick workers/net-threads before running
  // `report` only: the run, video and time range to report (empty = all).
  std::int64_t report_run = 0;  // 0 = no run chosen
  std::string report_video;     // as given
  std::string report_since;     // as given; report normalises them
  std::string report_until;
  std::string report_html;    // --html FILE: write the HTML page there (report_html.h)
  std::size_t html_top = 20;  // videos with timelines and thumbnails
  std::size_t html_thumbs = 3;
  std::string command_line;
  std::vector<std::string> notes;  // how options were combined, for the user
  // Scale-out (see shard.h): the shard this run analyses (none: every file),
  // how files are assigned, and --dry-run (list the shard's files only).
  std::optional<Shard> shard;
  ShardBy shard_by = ShardBy::Path;
  bool dry_run = false;
};

CliOptions parse_command_line(int argc, const char* const argv[]);

}  // namespace vidsift::cli
