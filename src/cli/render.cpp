#include "render.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <opencv2/imgproc.hpp>

#include "db_command.h"
#include "exit_status.h"
#include "vidsift/annotate.h"
#include "vidsift/clip_writer.h"
#include "vidsift/decoder.h"
#include "vidsift/frame_grab.h"
#include "vidsift/store.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace vidsift::cli {

namespace {

constexpr int kDefaultLimit = 12;
constexpr int kMaxLimit = 400;
constexpr double kMaxClipSeconds = 600;
constexpr double kTrackMargin = 0.5;  // seconds added before and after a track's span in a clip
constexpr double kHoldSeconds = 1.0;  // boxes of an analysed frame are shown this long in a clip

const char* kRenderUsage =
    "usage: vidsift render [DB] [--db FILE] [filters] [--limit N] --out sheet.jpg\n"
    "       vidsift render [DB] [--db FILE] --clip --video PATH (--track ID | --from T --to T) --out clip.mp4\n"
    "Pictures of stored detections, decoded again from the source videos (which must still be where\n"
    "they were analysed, unchanged; others are skipped with a warning). The database is only read.\n"
    "  Contact sheet: a JPEG grid of up to N (default 12) analysed frames with their matching boxes\n"
    "  and a caption (file, time). With tracks (vidsift run --track): the best frame of each of the N\n"
    "  tracks with the most matching detections; otherwise N frames spread over the matching ones.\n"
    "  --clip: an H.264 MP4 of every frame of a track's span (0.5 s added on each side) or of\n"
    "  --from..--to; boxes of an analysed frame stay until the next one (at most 1 s).\n"
    "  Filters (ANDed): --label, --min-conf, --video, --from/--to (seconds or h:mm:ss.mmm), --track\n"
    "  (with --video), --where SQL over video_id, path, settings_key, run_id, frame_index, ts,\n"
    "  class_id, label, confidence, x, y, w, h, width, height, track_id.\n"
    "Exit status: 0 written, 2 usage error, 3 database or output error, 4 nothing to draw.\n";

int usage(const std::string& msg) {
  std::cerr << "vidsift render: " << msg << "\n(see vidsift render --help)\n";
  return kExitUsage;
}

void warn(const std::string& msg) { std::cerr << "vidsift render: warning: " << msg << "\n"; }

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// "83.5", "1:23.5" or "0:01:23.5" -> seconds; nullopt when unreadable.
std::optional<double> parse_time(const std::string& s) {
  if (s.empty()) return std::nullopt;
  double total = 0;
  std::size_t start = 0;
  int parts = 0;
  for (;;) {
    const std::size_t colon = s.find(':', start);
    const std::string part = s.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (part.empty()) return std::nullopt;
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(part, &used);
    } catch (...) {
      return std::nullopt;
    }
    if (used != part.size() || !std::isfinite(v) || v < 0) return std::nullopt;
    total = total * 60 + v;
    if (++parts > 3) return std::nullopt;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return total;
}

struct Args {
  std::string where, label, video, from_text, to_text, out;
  std::string video_abs;  // --video made absolute and lexically normal, as `run` records paths
  double min_conf = -1;
  long long track = -1;
  int limit = kDefaultLimit;
  int tile_width = 480;
  bool clip = false;
  std::optional<double> from, to;
};

// The matching detections: "SELECT ... FROM sel" where sel is this subquery.
struct Selection {
  std::string sql;  // a subquery (parenthesised) usable after FROM
  std::vector<std::string> params;
};

Selection make_selection(const Args& a, bool has_track) {
  std::string base =
      "SELECT d.id AS detection_id, d.video_id AS video_id, v.path AS path, v.settings_key AS settings_key, "
      "v.run_id AS run_id, d.frame_index AS frame_index, d.ts AS ts, d.class_id AS class_id, d.label AS label, "
      "d.confidence AS confidence, d.x AS x, d.y AS y, d.w AS w, d.h AS h, v.width AS width, v.height AS height, ";
  base += has_track ? "d.track_id AS track_id" : "NULL AS track_id";
  base += " FROM detections d JOIN finished_videos v ON v.id = d.video_id";
  std::vector<std::string> cond;
  Selection s;
  if (!a.where.empty()) cond.push_back("(" + a.where + "\n)");
  if (!a.label.empty()) {
    cond.push_back("label = ?");
    s.params.push_back(a.label);
  }
  if (a.min_conf >= 0) cond.push_back("confidence >= " + num(a.min_conf));
  if (!a.video.empty()) {
    // As recorded by `run`: absolute and lexically normal; or exactly as given.
    cond.push_back("path IN (?, ?)");
    s.params.push_back(a.video_abs);
    s.params.push_back(a.video);
  }
  if (a.from) cond.push_back("ts >= " + num(*a.from));
  if (a.to) cond.push_back("ts <= " + num(*a.to));
  if (a.track >= 0) cond.push_back("track_id = " + std::to_string(a.track));
  s.sql = "(SELECT * FROM (" + base + ")";
  for (std::size_t i = 0; i < cond.size(); ++i) s.sql += (i == 0 ? " WHERE " : " AND ") + cond[i];
  s.sql += ")";
  return s;
}

struct Tile {
  std::int64_t video_id = 0;
  std::int64_t frame_index = 0;
  double ts = 0;
  std::string path;
  std::int64_t track = -1;  // the track this tile shows (-1: a frame)
  cv::Mat picture;
};

std::vector<DrawBox> boxes_of(Store& store, const Selection& sel, std::int64_t video_id, std::int64_t frame_index,
                              double scale) {
  const auto rows = store.query("SELECT class_id, label, confidence, x, y, w, h, coalesce(track_id, -1) FROM " +
                                    sel.sql + " WHERE video_id = " + std::to_string(video_id) +
                                    " AND frame_index = " + std::to_string(frame_index) + " ORDER BY confidence",
                                sel.params);
  std::vector<DrawBox> out;
  for (const auto& r : rows) {
    DrawBox b;
    b.class_id = static_cast<int>(cell_int(r[0]));
    b.label = r[1];
    const std::int64_t track = cell_int(r[7]);
    if (track >= 0) b.label += " #" + std::to_string(track);
    b.confidence = cell_real(r[2]);
    b.x = cell_real(r[3]) * scale;
    b.y = cell_real(r[4]) * scale;
    b.w = cell_real(r[5]) * scale;
    b.h = cell_real(r[6]) * scale;
    out.push_back(std::move(b));
  }
  return out;
}

// Tiles in a grid, left to right, top to bottom.
cv::Mat compose(const std::vector<Tile>& tiles, int tile_width) {
  const int n = static_cast<int>(tiles.size());
  const int cols = n <= 3 ? n : (n == 4 ? 2 : (n <= 9 ? 3 : 4));
  const int rows = (n + cols - 1) / cols;
  int cell_h = 0;
  for (const auto& t : tiles) cell_h = std::max(cell_h, t.picture.rows);
  constexpr int kGap = 6;
  cv::Mat sheet(rows * cell_h + (rows + 1) * kGap, cols * tile_width + (cols + 1) * kGap, CV_8UC3,
                cv::Scalar(24, 24, 24));
  for (int i = 0; i < n; ++i) {
    const cv::Mat& p = tiles[static_cast<std::size_t>(i)].picture;
    const int x = kGap + (i % cols) * (tile_width + kGap);
    const int y = kGap + (i / cols) * (cell_h + kGap);
    p.copyTo(sheet(cv::Rect(x, y, p.cols, p.rows)));
  }
  return sheet;
}

int render_sheet(Store& store, const Args& a, const Selection& sel, bool has_track) {
  const bool has_recorded_at = store.has_column("videos", "recorded_at");
  std::vector<Tile> tiles;
  bool by_track = false;
  if (has_track && a.track < 0) {
    const auto n = store.query("SELECT count(*) FROM " + sel.sql + " WHERE track_id IS NOT NULL", sel.params);
    by_track = !n.empty() && cell_int(n[0][0]) > 0;
  }
  if (by_track) {
    const auto rows = store.query(
        "SELECT video_id, frame_index, quote(ts), path, track_id FROM (SELECT video_id, frame_index, ts, path, "
        "track_id, detection_id, ROW_NUMBER() OVER (PARTITION BY video_id, track_id ORDER BY confidence DESC, ts, "
        "detection_id) AS rn, COUNT(*) OVER (PARTITION BY video_id, track_id) AS n FROM " +
            sel.sql + " WHERE track_id IS NOT NULL) WHERE rn = 1 ORDER BY n DESC, video_id, track_id LIMIT " +
            std::to_string(a.limit),
        sel.params);
    for (const auto& r : rows)
      tiles.push_back({cell_int(r[0]), cell_int(r[1]), cell_real(r[2]), r[3], cell_int(r[4]), {}});
  } else {
    const std::string frames =
        "(SELECT video_id, frame_index, min(ts) AS ts, path FROM " + sel.sql + " GROUP BY video_id, frame_index)";
    const auto count = store.query("SELECT count(*) FROM " + frames, sel.params);
    const std::int64_t m = count.empty() ? 0 : cell_int(count[0][0]);
    // N picks spread evenly over the m matching frames (in file and time order).
    std::set<std::int64_t> picks;
    const std::int64_t n = std::min<std::int64_t>(a.limit, m);
    for (std::int64_t i = 0; i < n; ++i)
      picks.insert(n == 1 ? 0 : static_cast<std::int64_t>(std::llround(static_cast<double>(i) * (m - 1) / (n - 1))));
    std::string list;
    for (auto k : picks) {
      if (!list.empty()) list += ',';
      list += std::to_string(k);
    }
    if (!list.empty()) {
      const auto rows = store.query(
          "SELECT video_id, frame_index, quote(ts), path FROM (SELECT *, ROW_NUMBER() OVER (ORDER BY path, video_id, "
          "ts) - 1 AS k FROM " +
              frames + ") WHERE k IN (" + list + ")",
          sel.params);
      for (const auto& r : rows) tiles.push_back({cell_int(r[0]), cell_int(r[1]), cell_real(r[2]), r[3], -1, {}});
    }
  }
  if (tiles.empty()) {
    if (!a.video.empty() &&
        store.query("SELECT 1 FROM videos WHERE path IN (?, ?) LIMIT 1", {a.video_abs, a.video}).empty()) {
      std::cerr << "vidsift render: " << a.video
                << " is not in the database (paths are stored absolute, as analysed; see vidsift report): nothing "
                   "to draw\n";
      return kExitNothing;
    }
    std::cerr << "vidsift render: no matching detections: nothing to draw\n";
    return kExitNothing;
  }
  // Decode per video, in time order (one seek per video where frames are close).
  std::sort(tiles.begin(), tiles.end(), [](const Tile& x, const Tile& y) {
    return std::tie(x.path, x.video_id, x.ts) < std::tie(y.path, y.video_id, y.ts);
  });
  std::unique_ptr<FrameGrabber> grabber;  // of the current video (tiles are grouped by video)
  std::set<std::int64_t> bad_videos;
  std::set<std::int64_t> videos;
  int skipped = 0;
  for (auto& t : tiles) {
    if (bad_videos.count(t.video_id)) {
      ++skipped;
      continue;
    }
    try {
      if (!grabber || grabber->source().video_id != t.video_id) {
        grabber.reset();
        grabber = std::make_unique<FrameGrabber>(load_source_video(store, t.video_id));
      }
      FrameGrabber* g = grabber.get();
      cv::Mat frame = g->grab(t.frame_index, t.ts);
      const double scale = static_cast<double>(a.tile_width) / frame.cols;
      cv::Mat small;
      cv::resize(frame, small, cv::Size(a.tile_width, std::max(1, static_cast<int>(std::lround(frame.rows * scale)))),
                 0, 0, cv::INTER_AREA);
      draw_boxes(small, boxes_of(store, sel, t.video_id, t.frame_index, scale));
      std::string caption = caption_text(t.path, t.ts, has_recorded_at ? g->source().recorded_at : std::string());
      if (t.track >= 0) caption += "  #" + std::to_string(t.track);
      t.picture = with_caption(small, caption);
      videos.insert(t.video_id);
    } catch (const FrameGrabError& e) {
      ++skipped;
      if (e.kind() != GrabFailure::NoSuchFrame) {
        bad_videos.insert(t.video_id);
        warn(std::string(e.what()) + "; skipped");
      } else {
        warn(std::string(e.what()) + "; frame skipped");
      }
    }
  }
  std::vector<Tile> drawn;
  for (auto& t : tiles)
    if (!t.picture.empty()) drawn.push_back(std::move(t));
  if (drawn.empty()) {
    std::cerr << "vidsift render: none of the " << tiles.size()
              << " matching frame(s) could be decoded from their videos: nothing to draw\n";
    return kExitNothing;
  }
  const cv::Mat sheet = compose(drawn, a.tile_width);
  try {
    write_jpeg(a.out, sheet, 88);
  } catch (const std::exception& e) {
    std::cerr << "vidsift render: " << e.what() << "\n";
    return kExitCannot;
  }
  std::cerr << "vidsift render: " << drawn.size() << (by_track ? " track(s) (best frame each)" : " frame(s)") << " of "
            << videos.size() << " video(s) written to " << a.out << " (" << sheet.cols << "x" << sheet.rows << ")";
  if (skipped > 0) std::cerr << "; " << skipped << " skipped";
  std::cerr << "\n";
  return kExitOk;
}

int render_clip(Store& store, const Args& a, const Selection& sel) {
  // The one video: the latest current result for that path that has matches.
  const auto vids = store.query(
      "SELECT video_id, count(*) FROM " + sel.sql + " GROUP BY video_id ORDER BY video_id DESC", sel.params);
  if (vids.empty()) {
    std::cerr << "vidsift render: no matching detections for " << a.video
              << (a.track >= 0 ? " track " + std::to_string(a.track) : std::string()) << ": nothing to draw\n";
    return kExitNothing;
  }
  const std::int64_t video_id = cell_int(vids[0][0]);
  if (vids.size() > 1)
    warn(a.video + " has " + std::to_string(vids.size()) + " current results (other settings); using video id " +
         std::to_string(video_id) + " (choose with --where \"video_id = N\")");
  double from = 0, to = 0;
  if (a.track >= 0) {
    const auto span = store.query(
        "SELECT quote(min(ts)), quote(max(ts)) FROM " + sel.sql + " WHERE video_id = " + std::to_string(video_id),
        sel.params);
    from = std::max(0.0, cell_real(span[0][0]) - kTrackMargin);
    to = cell_real(span[0][1]) + kTrackMargin;
    if (a.from) from = std::max(from, *a.from);
    if (a.to) to = std::min(to, *a.to);
  } else {
    from = *a.from;
    to = *a.to;
  }
  if (to - from > kMaxClipSeconds)
    return usage("the clip would last " + std::to_string(static_cast<long long>(to - from)) + " s; at most " +
                 std::to_string(static_cast<int>(kMaxClipSeconds)) + " s (narrow --from/--to)");
  SourceVideo src;
  try {
    src = load_source_video(store, video_id);
  } catch (const std::exception& e) {
    std::cerr << "vidsift render: " << e.what() << "\n";
    return kExitCannot;
  }
  if (const auto err = check_source(src)) {
    warn(std::string(err->what()) + "; skipped");
    std::cerr << "vidsift render: nothing to draw\n";
    return kExitNothing;
  }
  // Matching boxes of the analysed frames in (and just before) the range.
  struct Analysed {
    double ts;
    std::vector<DrawBox> boxes;
  };
  std::vector<Analysed> analysed;
  {
    const auto frames =
        store.query("SELECT frame_index, quote(ts) FROM frames WHERE video_id = " + std::to_string(video_id) +
                    " AND ts >= " + num(from - kHoldSeconds) + " AND ts <= " + num(to) + " ORDER BY ts");
    for (const auto& f : frames)
      analysed.push_back({cell_real(f[1]), boxes_of(store, sel, video_id, cell_int(f[0]), 1.0)});
  }
  const bool has_recorded_at = store.has_column("videos", "recorded_at");
  DecoderOptions o;
  o.sampling.start = from;
  o.sampling.end = to + 1e-3;
  std::unique_ptr<Decoder> dec;
  try {
    dec = std::make_unique<Decoder>(src.path, o);
  } catch (const DecodeError& e) {
    warn(src.path + ": " + e.what() + "; skipped");
    std::cerr << "vidsift render: nothing to draw\n";
    return kExitNothing;
  }
  const double fps = dec->info().fps;
  const double tol = fps > 0 ? 0.25 / fps : 1e-3;
  BgrConverter conv;
  DecodedFrame f;
  std::unique_ptr<ClipWriter> writer;
  std::size_t next = 0;  // first analysed frame after the current one
  std::int64_t with_boxes = 0;
  try {
    while (dec->next(f)) {
      cv::Mat up = conv.convert(*f.frame, dec->info().orientation);
      if (src.width > 0 && src.height > 0 && (up.cols != src.width || up.rows != src.height)) {
        cv::Mat scaled;
        cv::resize(up, scaled, cv::Size(src.width, src.height));
        up = scaled;
      }
      while (next < analysed.size() && analysed[next].ts <= f.timestamp + tol) ++next;
      if (next > 0 && f.timestamp - analysed[next - 1].ts <= kHoldSeconds + tol) {
        draw_boxes(up, analysed[next - 1].boxes);
        if (!analysed[next - 1].boxes.empty()) ++with_boxes;
      }
      const cv::Mat pic =
          with_caption(up, caption_text(src.path, f.timestamp, has_recorded_at ? src.recorded_at : std::string()));
      if (!writer) {
        writer = std::make_unique<ClipWriter>(a.out, pic.cols, pic.rows, fps);
        if (!writer->warning().empty()) warn(writer->warning());
      }
      writer->write(pic, f.timestamp);
    }
    if (!writer) {
      std::cerr << "vidsift render: " << src.path << " has no frames between " << video_time_text(from) << " and "
                << video_time_text(to) << ": nothing to draw\n";
      return kExitNothing;
    }
    writer->finish();
  } catch (const ClipError& e) {
    std::cerr << "vidsift render: " << e.what() << "\n";
    return kExitCannot;
  } catch (const FrameGrabError& e) {
    std::cerr << "vidsift render: " << src.path << ": " << e.what() << "\n";
    return kExitCannot;
  }
  std::cerr << "vidsift render: clip of " << writer->frames() << " frame(s) (" << video_time_text(from) << " to "
            << video_time_text(to) << ", " << with_boxes << " with boxes) written to " << a.out << " ("
            << writer->encoder() << ", " << writer->width() << "x" << writer->height() << ")\n";
  return kExitOk;
}

}  // namespace

int render_command(int argc, const char* const argv[]) {
  Args a;
  po::options_description opts("render options");
  opts.add_options()("out,o", po::value(&a.out), "output: a .jpg contact sheet, or an .mp4 with --clip")(
      "where", po::value(&a.where), "SQL condition on the detections (see above)")(
      "label", po::value(&a.label), "only this label")("min-conf", po::value(&a.min_conf),
                                                       "only detections with at least this confidence")(
      "video", po::value(&a.video), "only this video (its path as analysed)")(
      "from", po::value(&a.from_text), "from this video time (seconds or h:mm:ss.mmm)")(
      "to", po::value(&a.to_text), "up to this video time")("track", po::value(&a.track),
                                                            "only this track (with --video)")(
      "limit", po::value(&a.limit)->default_value(kDefaultLimit), "contact sheet: at most N tiles")(
      "tile-width", po::value(&a.tile_width)->default_value(480), "contact sheet: tile width in pixels")(
      "clip", po::bool_switch(&a.clip), "write an annotated MP4 instead of a contact sheet");
  DbCommandArgs db;
  if (const auto err = parse_db_command(argc, argv, opts, db)) return usage(*err);
  if (db.help) {
    std::cout << kRenderUsage << "\n" << opts;
    return kExitOk;
  }
  if (a.out.empty()) return usage(a.clip ? "give --out clip.mp4" : "give --out sheet.jpg");
  if (!a.from_text.empty() && !(a.from = parse_time(a.from_text)))
    return usage("--from '" + a.from_text + "' is not a time (seconds or h:mm:ss.mmm)");
  if (!a.to_text.empty() && !(a.to = parse_time(a.to_text)))
    return usage("--to '" + a.to_text + "' is not a time (seconds or h:mm:ss.mmm)");
  if (a.from && a.to && *a.to <= *a.from) return usage("--to must be after --from");
  if (a.min_conf != -1 && !(a.min_conf >= 0 && a.min_conf <= 1)) return usage("--min-conf must be within 0..1");
  if (a.limit < 1 || a.limit > kMaxLimit) return usage("--limit must be within 1.." + std::to_string(kMaxLimit));
  if (a.tile_width < 120 || a.tile_width > 1920) return usage("--tile-width must be within 120..1920");
  if (a.track != -1 && a.track < 0) return usage("--track must be a track id (>= 0)");
  if (a.track >= 0 && a.video.empty()) return usage("--track ID needs --video PATH (track ids are per video)");
  if (!a.video.empty()) {
    std::error_code ec;
    a.video_abs = fs::absolute(a.video, ec).lexically_normal().string();
    if (ec) a.video_abs = a.video;
  }
  if (a.clip) {
    if (a.video.empty()) return usage("--clip needs --video PATH");
    if (a.track < 0 && !(a.from && a.to)) return usage("--clip needs --track ID or --from T --to T");
  }

  std::unique_ptr<Store> store;
  try {
    store = std::make_unique<Store>(db.db, static_cast<int>(db.db_timeout * 1000), OpenMode::ReadOnly);
  } catch (const std::exception& e) {
    std::cerr << "vidsift render: " << e.what() << "\n";
    return kExitCannot;
  }
  try {
    const bool has_track = store->has_column("detections", "track_id");
    if (a.track >= 0 && !has_track)
      return usage("--track: this database holds no tracks (analyse with vidsift run --track)");
    const Selection sel = make_selection(a, has_track);
    try {
      store->query("SELECT 1 FROM " + sel.sql + " LIMIT 0", sel.params);
    } catch (const StoreError& e) {
      std::cerr << "vidsift render: --where: " << e.what() << "\n";
      return kExitUsage;
    }
    return a.clip ? render_clip(*store, a, sel) : render_sheet(*store, a, sel, has_track);
  } catch (const StoreError& e) {
    std::cerr << "vidsift render: " << e.what() << "\n";
    return kExitCannot;
  } catch (const std::exception& e) {  // out of memory, OpenCV errors
    std::cerr << "vidsift render: " << e.what() << "\n";
    return kExitCannot;
  }
}

}  // namespace vidsift::cli
