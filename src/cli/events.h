// events.h (cli) — `vidsift events`: the time ranges in which a label is
// visible, per video (see include/vidsift/events.h for the definition).
//
// Contract:
//  * events_command(argc, argv) takes the arguments after "events":
//    [DB] [--db FILE] --label NAME [--min-count K] [--gap S] [--json]
//    [--db-timeout S]. The database is opened read-only and never created.
//  * Writes a table per video (or, with --json, one JSON object) to stdout.
//    A label that no current detection has is reported on stderr with the
//    labels there are.
//  * Returns the exit status: 0 done (also when there are no events), 2 usage
//    error, 3 the database cannot be read.
#pragma once

namespace vidsift::cli {

int events_command(int argc, const char* const argv[]);

}  // namespace vidsift::cli
