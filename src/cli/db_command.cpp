#include "db_command.h"

#include <cmath>

namespace po = boost::program_options;

namespace vidsift::cli {

std::optional<std::string> parse_db_command(int argc, const char* const argv[], po::options_description& opts,
                                            DbCommandArgs& args) {
  std::string db, db_pos;
  opts.add_options()("help,h", "show this help")("db", po::value(&db), "database to read")(
      "db-timeout", po::value(&args.db_timeout)->default_value(args.db_timeout, "10"),
      "seconds to wait for a locked database");
  po::options_description hidden;
  hidden.add_options()("db-pos", po::value(&db_pos));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("db-pos", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return e.what();
  }
  if (vm.count("help")) {
    args.help = true;
    return std::nullopt;
  }
  if (!db_pos.empty() && !db.empty() && db_pos != db) return "two databases given: " + db_pos + " and " + db;
  args.db = db.empty() ? db_pos : db;
  if (args.db.empty()) return "give the database (--db FILE)";
  if (args.db == ":memory:" || args.db.rfind("file:", 0) == 0) return "--db must be a plain file path";
  if (!std::isfinite(args.db_timeout) || args.db_timeout < 0 || args.db_timeout > 1e6)
    return "--db-timeout must be within 0..1e6 seconds";
  return std::nullopt;
}

}  // namespace vidsift::cli
