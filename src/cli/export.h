// export.h (cli) — `vidsift export`: writes current detections as CSV, JSON
// lines, COCO or YOLO txt (see include/vidsift/export.h for the formats).
//
// Contract:
//  * export_command(argc, argv) takes the arguments after "export":
//    [DB] [--db FILE] --format csv|jsonl|coco|yolo [--where SQL] [--out PATH]
//    [--db-timeout S]. The database is opened read-only and never created.
//    csv/jsonl/coco go to --out (written to PATH.part, renamed when complete)
//    or stdout; yolo needs --out DIR.
//  * Prints one summary line on stderr; returns the exit status: 0 written,
//    2 usage error (also an SQL error in --where), 3 the database cannot be
//    read or the output cannot be written.
#pragma once

namespace vidsift::cli {

int export_command(int argc, const char* const argv[]);

}  // namespace vidsift::cli
