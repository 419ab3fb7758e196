#include "events.h"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "db_command.h"
#include "exit_status.h"
#include "vidsift/events.h"
#include "vidsift/store.h"

namespace po = boost::program_options;

namespace vidsift::cli {

namespace {

const char* kEventsUsage =
    "usage: vidsift events [DB] [--db FILE] --label NAME [--min-count K] [--gap S] [--json]\n"
    "Time ranges in which a label is visible (>= K boxes in a frame), per video; frames at most S\n"
    "seconds apart belong to the same range. The database is only read. The view label_events\n"
    "holds the same ranges for every label with K = 1 and S = 2.\n";

int usage(const std::string& msg) {
  std::cerr << "vidsift events: " << msg << "\n(see vidsift events --help)\n";
  return kExitUsage;
}

// 83.25 -> "0:01:23.25"
std::string clock(double s) {
  if (!(s >= 0)) s = 0;
  const auto total = static_cast<long long>(s);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%05.2f", total / 3600, (total / 60) % 60,
                s - static_cast<double>(total - total % 60));
  return buf;
}

void print_table(const std::vector<Event>& events, std::ostream& out) {
  std::int64_t video = -1;
  for (const auto& e : events) {
    if (e.video_id != video) {
      video = e.video_id;
      int count = 0;
      for (const auto& o : events) count += o.video_id == video ? 1 : 0;
      out << (video == events.front().video_id ? "" : "\n") << e.path << "  (video " << e.video_id << ", settings "
          << e.settings_key << "): " << count << " range(s) with " << e.label << "\n";
      out << "  start         end           duration   frames  max count\n";
    }
    char line[160];
    std::snprintf(line, sizeof line, "  %-12s  %-12s  %8.2f s  %6lld  %9lld\n", clock(e.start).c_str(),
                  clock(e.end).c_str(), e.duration, static_cast<long long>(e.frames),
                  static_cast<long long>(e.max_count));
    out << line;
  }
}

}  // namespace

int events_command(int argc, const char* const argv[]) {
  EventQuery q;
  bool json = false;
  po::options_description opts("events options");
  opts.add_options()("label", po::value(&q.label), "label, e.g. person")(
      "min-count", po::value(&q.min_count)->default_value(kDefaultEventMinCount), "boxes of the label a frame needs")(
      "gap", po::value(&q.gap)->default_value(kDefaultEventGap, "2"),
      "seconds between frames that still belong to one range")("json", po::bool_switch(&json), "print JSON on stdout");
  DbCommandArgs args;
  if (const auto err = parse_db_command(argc, argv, opts, args)) return usage(*err);
  if (args.help) {
    std::cout << kEventsUsage << "\n" << opts;
    return kExitOk;
  }
  if (q.label.empty()) return usage("give --label NAME, e.g. --label person");
  if (q.min_count < 1 || q.min_count > 100000) return usage("--min-count must be within 1..100000");
  if (!std::isfinite(q.gap) || q.gap < 0 || q.gap > 1e8) return usage("--gap must be within 0..1e8 seconds");

  std::vector<Event> events;
  std::vector<std::vector<std::string>> labels;
  try {
    Store store(args.db, static_cast<int>(args.db_timeout * 1000), OpenMode::ReadOnly);
    events = find_events(store, q);
    if (events.empty())
      labels = store.query(
          "SELECT d.label, COUNT(*) FROM detections d JOIN finished_videos v ON v.id = d.video_id GROUP BY d.label "
          "ORDER BY COUNT(*) DESC");
  } catch (const std::exception& e) {
    std::cerr << "vidsift events: " << e.what() << "\n";
    return kExitCannot;
  }
  bool known = !events.empty();
  for (const auto& l : labels) known = known || l[0] == q.label;
  if (!known) {
    std::string list;
    for (std::size_t i = 0; i < labels.size() && i < 20; ++i) list += (i ? ", " : "") + labels[i][0];
    std::cerr << "vidsift events: no current detection is labelled '" << q.label << "'"
              << (list.empty() ? std::string(" (the database holds no detections)") : " (labels found: " + list + ")")
              << "\n";
  }
  // Sparse sampling (--fps 0.2, --keyframes with long GOPs) puts analysed
  // frames further apart than the gap: every range is then one frame.
  std::map<std::int64_t, std::pair<int, int>> per_video;  // ranges, one-frame ranges
  for (const auto& e : events) {
    auto& [ranges, single] = per_video[e.video_id];
    ++ranges;
    single += e.frames == 1 ? 1 : 0;
  }
  for (const auto& [video, counts] : per_video) {
    if (counts.first > 1 && counts.first == counts.second) {
      std::cerr << "vidsift events: hint: every range of video " << video
                << " is a single frame; its analysed frames may be more than --gap " << q.gap
                << " s apart (sparse sampling): raise --gap\n";
      break;
    }
  }
  if (json) {
    using Json = nlohmann::ordered_json;
    Json arr = Json::array();
    for (const auto& e : events)
      arr.push_back({{"video_id", e.video_id},
                     {"path", e.path},
                     {"settings_key", e.settings_key},
                     {"run_id", e.run_id},
                     {"label", e.label},
                     {"start", e.start},
                     {"end", e.end},
                     {"duration", e.duration},
                     {"first_frame", e.first_frame},
                     {"last_frame", e.last_frame},
                     {"frames", e.frames},
                     {"max_count", e.max_count}});
    const Json j = {{"database", args.db},
                    {"label", q.label},
                    {"min_count", q.min_count},
                    {"gap", q.gap},
                    {"events", std::move(arr)}};
    std::cout << j.dump(-1, ' ', false, Json::error_handler_t::replace) << std::endl;
  } else if (events.empty()) {
    std::cout << "no time ranges with " << q.min_count << " or more '" << q.label << "' in " << args.db << "\n";
  } else {
    print_table(events, std::cout);
  }
  if (!std::cout) {
    std::cerr << "vidsift events: cannot write to stdout\n";
    return kExitCannot;
  }
  return kExitOk;
}

}  // namespace vidsift::cli
