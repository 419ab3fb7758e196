// report_html.h — `vidsift report --html FILE`: one self-contained HTML page
// of what a database holds (the same scope and numbers as `vidsift report`).
//
// Contract:
//  * write_html_report(store, scope, options, thumbnailer, out) writes one
//    page that needs nothing else: inline CSS, inline SVG, thumbnails as
//    data: URIs, no script, and a Content-Security-Policy meta tag
//    (default-src 'none'; img-src data:; style-src 'unsafe-inline') so a
//    browser never fetches anything for it. It holds:
//      - the summary of results_in_scope(store, scope) (summary.h): videos
//        per status, frames analysed, detections, detections per label, and
//        the runs concerned (report.h runs_in_scope);
//      - the stage-timing table of each of those runs (the latest 10) and a
//        bar of where the time went (total seconds per stage);
//      - one row per video (at most kHtmlMaxRows; those not done first,
//        then by path): status,
//        recorded_at (when the database has that column), frames, detections,
//        top labels, error and warning;
//      - for the `options.top` videos with the most detections (then by
//        path), a timeline of detections per minute per label (the SQL of
//        the per_minute_label_counts view, for that video) as an inline SVG
//        stacked-bar chart with a legend, minutes grouped into at most
//        kTimelineBins bars, the video's 6 most frequent labels apart and
//        the rest as "other"; and up to `options.thumbs` thumbnails: the
//        best detection of its longest tracks when the database has a
//        `tracks` table with rows for it, else of its most frequent labels
//        (the highest-confidence detection of each); thumbnails stop at
//        kMaxThumbnails per page (whole videos). The page says how many
//        videos got details and by which rule.
//    Every text from the database (paths, errors, labels) is HTML-escaped.
//    The numbers carry data- attributes (and ids) that tests read:
//    #total-videos/#total-frames/#total-detections [data-value],
//    tr.label-row[data-label][data-count], tr.video-row[data-video-id]
//    [data-status][data-frames][data-detections], svg.timeline
//    [data-video-id][data-bin-minutes] > rect.bar[data-label][data-minute]
//    [data-count] (one per non-zero bin and label; data-minute is the bin's
//    first minute), tr.timing-row[data-run][data-stage][data-total-s],
//    img.thumb (image/jpeg data URI), .thumb-missing (with the reason).
//    Returns false when the scope matches nothing (as print_report).
//  * The thumbnailer decodes and draws one picture; it returns the JPEG
//    bytes, or a reason the picture is not available (the page then shows
//    "source not available: REASON"). It must not throw; an exception is
//    caught and shown the same way.
//  * html_escape(text) escapes & < > " ' and replaces bytes that are not
//    valid UTF-8 (and control characters other than tab/newline) so the
//    page is always valid UTF-8.
//  * label_colour(class_id) is the colour of a class in charts: a hex
//    "#rrggbb" string, the same palette the drawn boxes use.
// Reads only. Throws StoreError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "summary.h"
#include "vidsift/store.h"

namespace vidsift::cli {

inline constexpr std::size_t kHtmlMaxRows = 5000;  // video rows in the table
inline constexpr std::size_t kTimelineBins = 120;  // bars per timeline at most
inline constexpr std::size_t kMaxThumbnails = 60;  // pictures per page at most (page size)

struct HtmlOptions {
  std::size_t top = 20;    // videos with timelines and thumbnails
  std::size_t thumbs = 3;  // thumbnails per detailed video
};

// One detection to picture, in the source frame's pixel coordinates.
struct ThumbRequest {
  std::int64_t video_id = 0;
  std::string path;  // the file's exact bytes
  std::int64_t frame_index = 0;
  double ts = 0;
  double x = 0, y = 0, w = 0, h = 0;
  int class_id = 0;
  std::string label;
  double confidence = 0;
};

struct ThumbResult {
  std::string jpeg;         // the picture, or empty
  std::string unavailable;  // why there is none (when jpeg is empty)
};

using Thumbnailer = std::function<ThumbResult(const ThumbRequest&)>;

bool write_html_report(Store& store, const ReportScope& scope, const HtmlOptions& options,
                       const Thumbnailer& thumbnailer, std::ostream& out);

std::string html_escape(std::string_view text);

std::string label_colour(int class_id);

}  // namespace vidsift::cli
