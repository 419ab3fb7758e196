// export.h — current detections in formats other tools read: CSV, JSON
// lines, COCO detection JSON, YOLO txt.
//
// Contract:
//  * Exports the detections of current results (videos in the
//    `finished_videos` view: done and partial), ordered by path, video id,
//    frame, detection id. Box numbers are rounded to 0.01 px, confidence to
//    1e-4, ts to 1 µs.
//  * `where` (may be empty) is an SQL boolean expression over the columns of
//    one exported detection: video_id, path, settings_key, run_id,
//    frame_index, ts, class_id, label, confidence, x, y, w, h, width, height,
//    track_id (NULL unless the run tracked), recorded_at (the video's start)
//    and at (the detection's wall-clock time, as in the detections_at view;
//    NULL when the start is unknown)
//    (e.g. "label = 'person' AND at >= '2026-11-25T22:00'"). The database is read
//    only; an expression SQLite rejects throws StoreError with its message.
//  * csv: a header line, then one line per detection (RFC 4180 quoting):
//    video_id,path,settings_key,frame_index,ts,class_id,label,confidence,x,y,w,h,track_id,at
//    (track_id empty when the run did not track, --track; at empty when
//    unknown). jsonl: one JSON object per line with the same keys (track_id,
//    at null).
//  * coco and yolo describe images: an image is an analysed frame (a row in
//    `frames`, with or without detections) of a video that has at least one
//    exported detection. Its name is "<video stem>_<frame_index, 6 digits>"
//    (".jpg" in COCO, ".txt" in YOLO); when two exported videos share a stem
//    (two folders, or one file under two settings), theirs become
//    "<stem>_v<video id>_<frame>". width and height are the video's (upright).
//  * Classes come from the model's label list recorded with the run
//    (runs.labels; for runs made before it was recorded, from the class ids
//    and labels found in the detections, gaps named "class<id>"). Videos
//    analysed with different label lists cannot be exported together
//    (ExportError, naming a --where that picks one settings key).
//  * coco: one JSON object {info, licenses, categories, images, annotations};
//    category id = class id + 1; bbox [x, y, w, h] in pixels; area = w * h;
//    iscrowd 0; score = confidence; track_id when tracked. Images also carry video_id, video (path),
//    frame_index, ts and at (wall-clock time or null).
//  * yolo: into directory `dir` (created if missing; refused with ExportError
//    if it exists and is not empty): classes.txt (line i = class i) and one
//    "<image>.txt" per image, a line "class cx cy w h" per detection,
//    normalised to 0..1 by the video's width and height (6 decimals); empty
//    for a frame without exported detections.
//  * Text is valid UTF-8 (paths are stored so); JSON output is always valid.
//  * Throws StoreError on database errors, ExportError on anything else
//    (output not writable, conflicting label lists).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "vidsift/store.h"

namespace vidsift {

class ExportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ExportFormat { Csv, Jsonl, Coco, Yolo };

// "csv", "jsonl", "coco", "yolo"; std::nullopt for anything else.
std::optional<ExportFormat> parse_export_format(std::string_view name);

struct ExportCounts {
  std::int64_t videos = 0;      // videos with at least one exported detection
  std::int64_t images = 0;      // frames described (coco, yolo; 0 for csv/jsonl)
  std::int64_t detections = 0;  // detections written
};

// Throws StoreError with SQLite's message when `where` is not a valid
// condition over the exported columns (the export functions check it too,
// before writing anything).
void check_export_where(Store& store, const std::string& where);

// csv, jsonl or coco to `out`. Throws std::invalid_argument for yolo.
ExportCounts export_to_stream(Store& store, ExportFormat format, const std::string& where, std::ostream& out);

// yolo into directory `dir`.
ExportCounts export_yolo(Store& store, const std::string& where, const std::filesystem::path& dir);

}  // namespace vidsift
