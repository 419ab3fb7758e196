// exit_status.h — the exit statuses of every vidsift command (README,
// "Exit status"), defined once for main.cpp and the subcommands.
//
// Contract: 0 everything asked for was done; 1 some inputs failed (the
// rest is stored); 2 usage error (nothing was done); 3 cannot start or
// cannot read/write what the command needs (database, model, output);
// 4 nothing to do: no inputs found, no frame analysed in any input, or (for
// report/render) nothing matches.
#pragma once

namespace vidsift::cli {

constexpr int kExitOk = 0;
constexpr int kExitSomeFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitCannot = 3;
constexpr int kExitNothing = 4;

}  // namespace vidsift::cli
