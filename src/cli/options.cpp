#include "options.h"
#include "track_check.h"

#include <algorithm>
#include <sstream>
#include <thread>

#include <boost/program_options.hpp>

#include "vidsift/limits.h"
#include "vidsift/small_file.h"
#include "vidsift/suggest.h"
#include "vidsift/wallclock.h"

namespace po = boost::program_options;

namespace vidsift::cli {

namespace {

const char* kUsage =
    "usage: vidsift run INPUT... [options]     analyse videos into a SQLite database\n"
    "       vidsift report [DB | --db DB] [--run ID] [--video PATH] [--since T] [--until T] [--json]\n"
    "              [--html FILE [--html-top N] [--html-thumbs N]]\n"
    "                                          summarise what a database holds (read-only)\n"
    "       vidsift export DB --format csv|jsonl|coco|yolo [--where SQL] [--out PATH]\n"
    "       vidsift events DB --label NAME [--min-count K] [--gap S] [--json]\n"
    "       vidsift render DB [--label L ...] --out sheet.jpg | --clip --video PATH ... --out clip.mp4\n"
    "       vidsift merge --db ALL.db SHARD.db...  merge shard databases into one\n"
    "       vidsift --version | --help\n"
    "\n"
    "INPUT is a video file, a directory (walked recursively) or @list.txt (one path per line).\n"
    "Exit status: 0 all videos done, 1 some videos failed, 2 usage error, 3 cannot start\n"
    "(model or database), 4 nothing analysed (no inputs found, or no frame in any input's\n"
    "sampling window; report: nothing matches), 130/143 interrupted.\n"
    "Yes/no options take =yes/=no (or true/false, on/off, 1/0), e.g. --keyframes=no, or --no-OPTION.\n"
    "With --config FILE, the command line wins; a sampling mode (--every, --fps, --keyframes) on the\n"
    "command line replaces the file's sampling mode as a whole.\n";

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// --db must name a file: "" (an unset $DB in a cron job), ":memory:" and
// SQLite URIs ("file:...", e.g. mode=memory) would silently lose the results
// or open something else than a plain file.
void check_db_path(const std::string& db) {
  if (db.empty()) throw UsageError("--db is empty (an unset variable, as in --db \"$DB\"?); give the database file");
  if (db == ":memory:")
    throw UsageError("--db :memory: would keep the results in memory and lose them at exit; give a file");
  if (db.rfind("file:", 0) == 0)
    throw UsageError("--db " + db +
                     ": SQLite URIs are not accepted, give a plain file path (a file whose name starts with "
                     "'file:' can be given as ./" +
                     db + ")");
}

void check(const std::string& err) {
  if (!err.empty()) throw UsageError(err);
}

// The options that are yes/no. Each accepts --NAME, --NAME=false (any of
// true/false, yes/no, on/off, 1/0), --NAME false and --no-NAME.
const std::vector<std::string> kBooleans = {"force", "retry-failed", "progress",  "quiet", "verbose",
                                            "json",  "calibrate",    "keyframes", "track"};
// The options that choose which frames are analysed: the command line
// replaces all of the config file's, never combines with them.
const std::vector<std::string> kSamplingMode = {"every", "fps", "keyframes"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool is_bool_word(std::string w) {
  for (auto& c : w) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return w == "true" || w == "false" || w == "yes" || w == "no" || w == "on" || w == "off" || w == "1" || w == "0";
}

po::typed_value<bool>* flag(bool* target) {
  return po::value<bool>(target)->default_value(false, "no")->implicit_value(true, "yes");
}

// The yes/no option a command-line word names ("--keyframes", an
// abbreviation Boost would accept such as "--keyf", "-q", "-v"), or "".
std::string boolean_named(const std::string& word, const std::vector<std::string>& long_names) {
  if (word == "-q") return "quiet";
  if (word == "-v") return "verbose";
  if (word.rfind("--", 0) != 0 || word.find('=') != std::string::npos) return {};
  const std::string name = word.substr(2);
  if (contains(kBooleans, name)) return name;
  std::string match;
  int matches = 0;
  for (const auto& n : long_names) {
    if (n.rfind(name, 0) == 0) {
      match = n;
      ++matches;
    }
  }
  return matches == 1 && contains(kBooleans, match) ? match : std::string();
}

// argv without argv[0], with every yes/no option written as --NAME=VALUE:
// "--no-NAME" -> "--NAME=false", "--NAME VALUE" -> "--NAME=VALUE" (so that
// "--keyframes false" is not read as an input file named "false") and a bare
// "--NAME" or "-q" -> "--NAME=true" (so that Boost never takes the next word,
// an input file, as its value).
std::vector<std::string> normalise_booleans(int argc, const char* const argv[],
                                            const std::vector<std::string>& long_names) {
  std::vector<std::string> out;
  bool operands_only = false;  // after "--"
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (operands_only) {
      out.push_back(a);
      continue;
    }
    if (a == "--") {
      operands_only = true;
      out.push_back(a);
      continue;
    }
    if (a.rfind("--no-", 0) == 0 && contains(kBooleans, a.substr(5))) {
      out.push_back("--" + a.substr(5) + "=false");
      continue;
    }
    const std::string name = boolean_named(a, long_names);
    if (name.empty()) {
      out.push_back(a);
    } else if (i + 1 < argc && is_bool_word(argv[i + 1])) {
      out.push_back("--" + name + "=" + argv[i + 1]);
      ++i;
    } else {
      out.push_back("--" + name + "=true");
    }
  }
  return out;
}

// "unrecognised option '--keyframe'" + " (did you mean --keyframes?)".
std::string unknown_option_message(const po::unknown_option& e, const po::options_description& all,
                                   const std::string& prefix) {
  std::string typed = e.get_option_name();
  typed.erase(0, typed.find_first_not_of('-'));
  typed = typed.substr(0, typed.find('='));
  std::vector<std::string> names;
  for (const auto& d : all.options()) {
    if (d->long_name().empty()) continue;
    names.push_back(d->long_name());
    if (prefix == "--" && contains(kBooleans, d->long_name())) names.push_back("no-" + d->long_name());
  }
  std::string msg = e.what();
  if (const std::string near = closest_name(typed, names); !near.empty())
    msg += " (did you mean " + prefix + near + "?)";
  return msg;
}

}  // namespace

CliOptions parse_command_line(int argc, const char* const argv[]) {
  CliOptions o;
  for (int i = 0; i < argc; ++i) {
    if (i) o.command_line += " ";
    o.command_line += argv[i];
  }

  const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::string config;
  std::string family = "auto";
  std::string backend = "auto";
  std::string classes;
  int workers = hw;
  std::string shard;
  std::string shard_by = "path";
  int shards = 0;
  std::string time_from_name;
  std::string timezone;

  po::options_description general("General");
  general.add_options()("help,h", "show this help")("version", "print the version")(
      "config", po::value(&config), "INI file with any of the options below");

  po::options_description io("Input and output");
  io.add_options()("input", po::value<std::vector<std::string>>(&o.inputs)->composing(), "INPUT (also positional)")(
      "db", po::value(&o.db)->default_value(o.db), "SQLite database to write")(
      "db-timeout", po::value(&o.db_timeout)->default_value(10.0, "10"),
      "seconds to wait when another process holds the database's write lock")(
      "force", flag(&o.force), "analyse again even videos already done with the same settings")(
      "retry-failed", flag(&o.retry_failed), "analyse again videos that failed before")(
      "progress", po::value<bool>()->implicit_value(true, "yes"),
      "show a progress line (default: when stderr is a terminal)")(
      "quiet,q", flag(&o.quiet),
      "no progress, no summary table; failures and the summary line only when the exit status is not 0")(
      "verbose,v", flag(&o.verbose), "also show FFmpeg's and OpenCV's own warnings")(
      "json", flag(&o.json), "print the run summary as JSON on stdout")(
      "time-from-name", po::value(&time_from_name),
      "videos.recorded_at from the file name, e.g. cam1_%Y%m%d_%H%M%S.mp4 (overrides the container's "
      "creation_time; see README)")("timezone", po::value(&timezone),
                                    "zone of the times in file names: Europe/Berlin, +02:00, UTC (default UTC)");

  po::options_description model("Model");
  model.add_options()(
      "model,m", po::value(&o.model.model)->default_value(o.model.model),
      "ONNX model file, or a file name looked up in $VIDSIFT_MODEL_DIR, ../shared/models, the install dir")(
      "labels", po::value(&o.model.labels_file), "label file, one name per line (default: model metadata, else COCO)")(
      "family", po::value(&family)->default_value(family),
      ("auto | " + family_names(" | ") + " (also v7, v11)").c_str())(
      "input-size", po::value(&o.model.input_size)->default_value(0), "network input side (default: from the model)")(
      "backend", po::value(&backend)->default_value(backend),
      ort_built_in() ? "auto | ort | opencv: inference backend (auto: ONNX Runtime when it runs the model, else "
                       "OpenCV dnn)"
                     : "auto | ort | opencv: inference backend (this build has OpenCV dnn only)")(
      "conf", po::value(&o.pipeline.post.conf)->default_value(0.25f, "0.25"), "minimum confidence")(
      "nms", po::value(&o.pipeline.post.nms)->default_value(0.45f, "0.45"), "NMS IoU threshold")(
      "classes", po::value(&classes), "keep only these classes, e.g. person,car")(
      "max-det", po::value(&o.pipeline.post.max_det)->default_value(300), "maximum detections per frame");

  po::options_description sampling("Sampling");
  sampling.add_options()("every", po::value(&o.pipeline.sampling.every)->default_value(1), "analyse every Nth frame")(
      "fps", po::value(&o.pipeline.sampling.fps)->default_value(0.0, "off"),
      "analyse F frames per second (by timestamp)")("keyframes", flag(&o.pipeline.sampling.keyframes),
                                                    "decode and analyse key frames only")(
      "start", po::value(&o.pipeline.sampling.start)->default_value(0.0, "0"), "start time in seconds")(
      "end", po::value(&o.pipeline.sampling.end)->default_value(0.0, "end"), "end time in seconds")(
      "track", flag(&o.pipeline.track),
      "link detections across frames into tracks (ByteTrack); needs frames at most ~1 s apart");

  po::options_description perf("Performance");
  perf.add_options()("workers", po::value(&workers)->default_value(hw),
                     "inference nets running at once, one thread each")(
      "calibrate", flag(&o.calibrate),
      "time every backend's inference configurations first (~10 s), name the fastest, and run with the "
      "fastest one of the chosen backend")("net-threads", po::value(&o.pipeline.net_threads)->default_value(0, "auto"),
                                           "threads inside each net (auto: 1 when --workers > 1, else all cores)")(
      "batch", po::value(&o.pipeline.batch)->default_value(1), "frames per forward pass (1 is fastest on CPU)")(
      "decoders", po::value(&o.pipeline.decoders)->default_value(2), "videos decoded at once")(
      "decode-threads", po::value(&o.pipeline.decode_threads)->default_value(1),
      "libavcodec threads per video (0 = auto)")("pool", po::value(&o.pipeline.pool)->default_value(0, "auto"),
                                                 "input buffers in flight (memory bound)")(
      "video-timeout", po::value(&o.pipeline.video_timeout)->default_value(0.0, "none"),
      "give up on a video after S seconds");

  po::options_description report("Report (vidsift report only)");
  report.add_options()("run", po::value(&o.report_run), "report this run: its counts, timings and the rows it wrote")(
      "video", po::value(&o.report_video), "report the current results of this video file")(
      "since", po::value(&o.report_since),
      "results finished at or after this UTC time (2026-11-21, 2026-11-21T03:00, ...)")(
      "until", po::value(&o.report_until), "results finished before this UTC time")(
      "html", po::value(&o.report_html), "also write the report as one self-contained HTML page to FILE")(
      "html-top", po::value(&o.html_top)->default_value(o.html_top),
      "--html: timelines and thumbnails for the N videos with the most detections")(
      "html-thumbs", po::value(&o.html_thumbs)->default_value(o.html_thumbs),
      "--html: thumbnails per detailed video (0: none)");

  po::options_description scale("Many machines");
  scale.add_options()("shard", po::value(&shard),
                      "analyse only shard I/N of the inputs (default: from SLURM_ARRAY_TASK_ID or "
                      "JOB_COMPLETION_INDEX when set); {shard} in --db becomes I")(
      "shards", po::value(&shards), "shard count N with JOB_COMPLETION_INDEX (or set VIDSIFT_SHARDS)")(
      "shard-by", po::value(&shard_by)->default_value(shard_by),
      "path (stable: a file's shard never changes) | size (balances bytes; adding a file can move others)")(
      "dry-run", po::bool_switch(&o.dry_run), "print the files this run (shard) would take, with sizes; analyse none");

  po::options_description all;
  all.add(general).add(io).add(model).add(sampling).add(perf).add(report).add(scale);
  po::positional_options_description pos;
  pos.add("command", 1).add("input", -1);
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>());
  po::options_description cmdline;
  cmdline.add(all).add(hidden);

  std::ostringstream help;
  help << kUsage << "\n" << all;
  o.help_text = help.str();

  std::vector<std::string> long_names;
  for (const auto& d : all.options())
    if (!d->long_name().empty()) long_names.push_back(d->long_name());

  po::variables_map vm;
  try {
    const po::parsed_options cli =
        po::command_line_parser(normalise_booleans(argc, argv, long_names)).options(cmdline).positional(pos).run();
    std::string cli_mode;  // the sampling-mode options given on the command line
    for (const auto& opt : cli.options) {
      if (!contains(kSamplingMode, opt.string_key)) continue;
      cli_mode += (cli_mode.empty() ? "--" : ", --") + opt.string_key;
      if (!opt.value.empty()) cli_mode += "=" + opt.value.front();
    }
    po::store(cli, vm);
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::string text;
      try {
        text = read_small_file(path, kMaxSmallFileBytes, "config file");
      } catch (const SmallFileError& e) {
        throw UsageError(e.what());
      }
      if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // a UTF-8 byte order mark
      std::istringstream in(text);
      po::parsed_options file = [&] {
        try {
          return po::parse_config_file(in, all);
        } catch (const po::unknown_option& e) {
          throw UsageError(path + ": " + unknown_option_message(e, all, ""));
        }
      }();
      // One precedence rule: the command line wins over the file, and a
      // sampling mode on the command line replaces the file's whole mode
      // (--fps on the command line and keyframes = true in the file do not
      // combine).
      if (!cli_mode.empty()) {
        std::string dropped;
        std::erase_if(file.options, [&](const po::option& opt) {
          if (!contains(kSamplingMode, opt.string_key)) return false;
          dropped += (dropped.empty() ? "" : ", ") + opt.string_key +
                     (opt.value.empty() ? std::string() : " = " + opt.value.front());
          return true;
        });
        if (!dropped.empty())
          o.notes.push_back("the command line's sampling (" + cli_mode + ") replaces the config file's (" + dropped +
                            ")");
      }
      po::store(file, vm);
    }
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    throw UsageError(unknown_option_message(e, all, "--"));
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }

  if (vm.count("help")) {
    o.command = Command::Help;
    return o;
  }
  if (vm.count("version")) {
    o.command = Command::Version;
    return o;
  }
  if (!vm.count("command")) throw UsageError("no command given (try: vidsift run VIDEO)");
  const std::string cmd = vm["command"].as<std::string>();
  if (cmd == "run") {
    o.command = Command::Run;
  } else if (cmd == "report") {
    o.command = Command::Report;
    if (!o.inputs.empty()) {
      // `vidsift report e.db`: the database, positionally.
      if (o.inputs.size() > 1)
        throw UsageError("report takes one database (got " + std::to_string(o.inputs.size()) + ")");
      if (!vm["db"].defaulted())
        throw UsageError("report: give the database once, either as " + o.inputs[0] + " or with --db " + o.db);
      o.db = o.inputs[0];
      o.inputs.clear();
    }
    if (vm.count("run") && o.report_run < 1) throw UsageError("--run must be a run id (1 or more)");
    if (o.html_top > 100000 || o.html_thumbs > 100)
      throw UsageError("--html-top takes 0 to 100000 videos and --html-thumbs 0 to 100 pictures");
    check_db_path(o.db);
    check(check_range("--db-timeout", o.db_timeout, 0, kMaxDurationSeconds));
    return o;
  } else if (cmd == "merge") {
    o.command = Command::Merge;
    check_db_path(o.db);
    check(check_range("--db-timeout", o.db_timeout, 0, kMaxDurationSeconds));
    if (o.inputs.empty())
      throw UsageError("merge needs at least one shard database: vidsift merge --db ALL.db SHARD.db...");
    return o;
  } else if (cmd == "help") {
    o.command = Command::Help;
    return o;
  } else {
    const std::string near = closest_name(cmd, {"run", "report", "export", "events", "render", "merge", "help"});
    throw UsageError("unknown command '" + cmd + "'" + (near.empty() ? "" : " (did you mean " + near + "?)") +
                     " (commands: run, report, export, events, render, merge)");
  }

  for (const char* opt : {"run", "video", "since", "until", "html", "html-top", "html-thumbs"})
    if (vm.count(opt) && !vm[opt].defaulted())
      throw UsageError(std::string("--") + opt + " is an option of `vidsift report`, not of run");
  if (o.inputs.empty()) throw UsageError("run needs at least one INPUT (file, directory or @list.txt)");
  if (vm.count("progress")) o.progress = vm["progress"].as<bool>() ? 1 : 0;
  try {
    o.model.family = parse_family(family);
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
  try {
    o.model.backend = parse_backend(backend);
  } catch (const std::exception& e) {
    throw UsageError(std::string("--backend: ") + e.what());
  }
  if (o.model.backend == Backend::Ort && !ort_built_in())
    throw UsageError(
        "--backend ort: this vidsift was built without ONNX Runtime (scripts/setup.sh fetches it; or configure "
        "CMake with -DONNXRUNTIME_ROOT=DIR); use --backend opencv or auto");
  o.classes = split_list(classes);
  o.pipeline.workers = workers;
  if (auto err = o.pipeline.sampling.validate(); !err.empty()) throw UsageError(err);
  if (o.pipeline.sampling.fps > 0 && o.pipeline.sampling.every > 1)
    throw UsageError("--fps and --every are exclusive: choose frames by time or by count");
  if (o.pipeline.track) check(track_sampling_error(o.pipeline.sampling));
  // Every number is checked for finiteness and range (NaN passes every
  // comparison, so each check is written as "inside the range").
  try {
    o.shard = resolve_shard(shard, shards, process_env());
    o.shard_by = parse_shard_by(shard_by);
    o.db = expand_db_name(o.db, o.shard);
  } catch (const ShardError& e) {
    throw UsageError(e.what());
  }
  check_db_path(o.db);
  check(check_range("--conf", o.pipeline.post.conf, 0, 1));
  if (!(o.pipeline.post.nms > 0 && o.pipeline.post.nms <= 1))
    throw UsageError("--nms must be a number within (0, 1] (got " + std::to_string(o.pipeline.post.nms) + ")");
  if (o.pipeline.post.max_det < 1 || o.pipeline.post.max_det > 100000)
    throw UsageError("--max-det must be within 1..100000");
  if (workers < 1 || workers > 64) throw UsageError("--workers must be 1..64");
  if (o.pipeline.batch < 1 || o.pipeline.batch > 64) throw UsageError("--batch must be 1..64");
  if (o.pipeline.decoders < 1 || o.pipeline.decoders > 64) throw UsageError("--decoders must be 1..64");
  const int cores = machine_cores();
  check(check_threads("--net-threads", o.pipeline.net_threads, cores));
  check(check_threads("--decode-threads", o.pipeline.decode_threads, cores));
  if (o.pipeline.pool < 0) throw UsageError("--pool must be >= 0 (0 = automatic)");
  check(check_range("--db-timeout", o.db_timeout, 0, kMaxDurationSeconds));
  check(check_range("--video-timeout", o.pipeline.video_timeout, 0, kMaxDurationSeconds));
  if (o.model.input_size < 0 || o.model.input_size > 8192 || o.model.input_size % 32 != 0)
    throw UsageError("--input-size must be a multiple of 32 within 32..8192 (0 = from the model)");
  if (!timezone.empty() && time_from_name.empty())
    throw UsageError("--timezone " + timezone +
                     " applies to times in file names: give --time-from-name too (creation_time tags are UTC)");
  if (!time_from_name.empty()) {
    try {
      o.pipeline.name_time = std::make_shared<const NameTime>(
          time_from_name, timezone.empty() ? TimeZone::utc() : TimeZone::parse(timezone));
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  return o;
}

}  // namespace vidsift::cli
