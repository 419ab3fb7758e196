#include "export.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <boost/program_options.hpp>

#include "db_command.h"
#include "exit_status.h"
#include "vidsift/export.h"
#include "vidsift/store.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace vidsift::cli {

namespace {

const char* kExportUsage =
    "usage: vidsift export [DB] [--db FILE] --format csv|jsonl|coco|yolo [--where SQL] [--out PATH]\n"
    "Writes the detections of current results (done and partial videos). The database is only read.\n"
    "  csv, jsonl, coco: to --out FILE, or stdout;  yolo: --out DIR (new or empty) gets classes.txt\n"
    "  and one <video-stem>_<frame>.txt per analysed frame.\n"
    "  --where: SQL over video_id, path, settings_key, run_id, frame_index, ts, class_id, label,\n"
    "  confidence, x, y, w, h, width, height, e.g. --where \"label = 'person' AND confidence >= 0.5\"\n";

int usage(const std::string& msg) {
  std::cerr << "vidsift export: " << msg << "\n(see vidsift export --help)\n";
  return kExitUsage;
}

}  // namespace

int export_command(int argc, const char* const argv[]) {
  std::string format, where, out;
  po::options_description opts("export options");
  opts.add_options()("format", po::value(&format), "csv | jsonl | coco | yolo")("where", po::value(&where),
                                                                                "SQL condition on the detections")(
      "out,o", po::value(&out), "output file (csv, jsonl, coco; default stdout) or directory (yolo)");
  DbCommandArgs args;
  if (const auto err = parse_db_command(argc, argv, opts, args)) return usage(*err);
  if (args.help) {
    std::cout << kExportUsage << "\n" << opts;
    return kExitOk;
  }
  if (format.empty()) return usage("give --format csv, jsonl, coco or yolo");
  const auto fmt = parse_export_format(format);
  if (!fmt) return usage("unknown --format '" + format + "' (csv, jsonl, coco, yolo)");
  if (*fmt == ExportFormat::Yolo && out.empty()) return usage("--format yolo writes a directory: give --out DIR");

  std::unique_ptr<Store> store;
  try {
    store = std::make_unique<Store>(args.db, static_cast<int>(args.db_timeout * 1000), OpenMode::ReadOnly);
  } catch (const std::exception& e) {
    std::cerr << "vidsift export: " << e.what() << "\n";
    return kExitCannot;
  }
  // An SQL error in --where is the user's to fix (usage), found before any
  // output exists.
  try {
    check_export_where(*store, where);
  } catch (const StoreError& e) {
    std::cerr << "vidsift export: --where: " << e.what() << "\n";
    return kExitUsage;
  }
  ExportCounts n;
  std::string dest = out.empty() ? "stdout" : out;
  try {
    if (*fmt == ExportFormat::Yolo) {
      n = export_yolo(*store, where, out);
    } else if (out.empty()) {
      n = export_to_stream(*store, *fmt, where, std::cout);
    } else {
      const fs::path part = out + ".part";
      try {
        std::ofstream f(part, std::ios::binary | std::ios::trunc);
        if (!f) throw ExportError("cannot write " + part.string());
        n = export_to_stream(*store, *fmt, where, f);
        f.close();
        if (!f) throw ExportError("cannot write " + part.string() + " (disk full?)");
        fs::rename(part, out);
      } catch (...) {
        std::error_code ec;
        fs::remove(part, ec);
        throw;
      }
    }
  } catch (const StoreError& e) {
    std::cerr << "vidsift export: " << e.what() << "\n";
    return kExitCannot;
  } catch (const std::exception& e) {
    std::cerr << "vidsift export: " << e.what() << "\n";
    return kExitCannot;
  }
  std::cerr << "vidsift export: " << n.detections << " detection(s) of " << n.videos << " video(s)";
  if (*fmt == ExportFormat::Coco || *fmt == ExportFormat::Yolo) std::cerr << ", " << n.images << " image(s)";
  std::cerr << " written as " << format << " to " << dest << "\n";
  return kExitOk;
}

}  // namespace vidsift::cli
