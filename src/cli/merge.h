// merge.h — the scale-out parts of the command line: `vidsift merge`,
// `vidsift run --dry-run`, and keeping one shard of the discovered inputs.
#pragma once

#include <string>

#include "options.h"
#include "vidsift/discover.h"

namespace vidsift::cli {

// `vidsift merge --db ALL.db SHARD.db...`: merges each input in its own
// transaction (see vidsift/merge.h), prints one line per input. Exit status:
// 0 all merged, 1 some refused or failed, 3 the destination cannot be opened.
int merge_command(const CliOptions& o);

// `vidsift run --dry-run`: prints the files this run (its shard) would take,
// with their sizes, on stdout; opens no model and no database. Exit 0.
int dry_run_command(const CliOptions& o);

// Keeps only o.shard's files (and missing inputs) in `found`; returns the
// line to log ("shard 1/4 (from ...): 3 of 10 file(s), ... bytes").
std::string keep_shard(const CliOptions& o, Discovery& found);

}  // namespace vidsift::cli
