// `vidsift merge`, `vidsift run --dry-run` and shard selection for `run`.
#include "merge.h"

#include <iostream>

#include "vidsift/format.h"
#include "vidsift/limits.h"
#include "vidsift/merge.h"
#include "vidsift/shard.h"
#include "vidsift/store.h"

namespace vidsift::cli {

int merge_command(const CliOptions& o) {
  auto say = [&](const std::string& s) {
    if (!o.quiet) std::cerr << s << "\n";
  };
  std::unique_ptr<Store> dest;
  try {
    dest = std::make_unique<Store>(o.db, seconds_to_ms(o.db_timeout));
  } catch (const std::exception& e) {
    std::cerr << "vidsift: " << e.what() << "\n";
    return 3;
  }
  int refused = 0;
  for (const auto& input : o.inputs) {
    MergeResult r;
    try {
      r = merge_database(*dest, input, seconds_to_ms(o.db_timeout));
    } catch (const std::exception& e) {
      r.input = input;
      r.refused = true;
      r.reason = std::string("merge failed, ") + o.db + " is as before this input: " + e.what();
    }
    for (const auto& n : r.notes) say("vidsift: note: " + input + ": " + n);
    if (r.refused) {
      ++refused;
      std::cerr << "vidsift: refused " << input << ": " << r.reason << "\n";
      continue;
    }
    say("vidsift: merged " + input + ": " + std::to_string(r.runs) + " run(s), " + std::to_string(r.videos) +
        " video(s), " + std::to_string(r.detections) + " detection(s)" +
        (r.replaced > 0 ? ", replaced " + std::to_string(r.replaced) + " older result(s)" : std::string()) + " in " +
        human_number(r.seconds, 3) + " s");
  }
  try {
    const auto rows = dest->query(
        "SELECT (SELECT COUNT(*) FROM videos WHERE status IN ('done','partial')), (SELECT COUNT(*) FROM videos "
        "WHERE status='failed'), (SELECT COUNT(*) FROM detections)");
    say("vidsift: " + o.db + " holds " + rows[0][0] + " analysed video(s), " + rows[0][1] + " failed, " + rows[0][2] +
        " detection(s)" +
        (refused > 0 ? "; " + std::to_string(refused) + " input(s) NOT merged (see above)" : std::string()));
  } catch (const std::exception& e) {
    std::cerr << "vidsift: " << e.what() << "\n";
    return 3;
  }
  return refused > 0 ? 1 : 0;
}

std::string keep_shard(const CliOptions& o, Discovery& found) {
  if (!o.shard) return {};
  const auto roots = input_roots(o.inputs);
  const std::size_t all = found.files.size();
  found.files = select_shard(found.files, roots, *o.shard, o.shard_by);
  std::vector<MissingInput> missing;
  for (auto& m : found.missing)
    if (shard_of(m.path, roots, o.shard->count) == o.shard->index) missing.push_back(std::move(m));
  found.missing = std::move(missing);
  std::int64_t bytes = 0;
  for (const auto& f : found.files) bytes += f.size;
  return "shard " + o.shard->label() + " (from " + o.shard->source + ", by " +
         (o.shard_by == ShardBy::Size ? "size" : "path") + "): " + std::to_string(found.files.size()) + " of " +
         std::to_string(all) + " file(s), " + std::to_string(bytes) + " bytes";
}

int dry_run_command(const CliOptions& o) {
  Discovery found = discover(o.inputs);
  for (const auto& w : found.warnings) std::cerr << "vidsift: warning: " << w << "\n";
  const std::string line =
      o.shard ? keep_shard(o, found) : "all inputs: " + std::to_string(found.files.size()) + " file(s)";
  std::cout << "# " << line << "; --db " << o.db << "\n";
  for (const auto& f : found.files) std::cout << f.size << "\t" << f.path << "\n";
  for (const auto& m : found.missing) std::cout << "-\t" << m.path << "\t(" << m.error << ")\n";
  return 0;
}

}  // namespace vidsift::cli
