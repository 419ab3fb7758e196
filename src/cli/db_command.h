// Command-line parsing shared by the subcommands that only read a database
// (`export`, `events`):
//  * the database is given positionally or with --db (not both, unless they
//    name the same file); it must be a plain file path (no ":memory:" or
//    "file:" URI);
//  * --db-timeout S (0..1e6 seconds, default 10) and --help are added to the
//    subcommand's own options, so its help lists them.
//  * parse_db_command() returns an error message for the subcommand to print
//    as a usage error (exit 2), or std::nullopt when the arguments are good
//    (or --help was asked: then `args.help` is set and nothing else is checked).
#pragma once

#include <optional>
#include <string>

#include <boost/program_options.hpp>

namespace vidsift::cli {

struct DbCommandArgs {
  std::string db;
  double db_timeout = 10;  // seconds
  bool help = false;
};

std::optional<std::string> parse_db_command(int argc, const char* const argv[],
                                            boost::program_options::options_description& opts, DbCommandArgs& args);

}  // namespace vidsift::cli
