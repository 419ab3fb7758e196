// report_thumbs.h — `vidsift report --html FILE` as a file, and its
// pictures: a stored detection's frame decoded again from its source video
// (frame_grab.h) with its box drawn (annotate.h).
//
// Contract:
//  * make_thumbnailer(store) returns a Thumbnailer (report_html.h) that, for
//    a request, decodes the frame (frame_index, ts) of the request's video,
//    crops it around the box (the box and as much context again, at least a
//    third of the frame, 4:3), scales it to at most kThumbWidth pixels wide,
//    draws the box and its label in the class colour and returns JPEG bytes.
//    A source that is missing, changed (fingerprint), unreadable, or holds no
//    such frame gives no picture and the reason instead; it never throws.
//    One decoder is kept open per video while requests come in time order.
//    The returned function uses `store` (read only) and must not outlive it.
//  * write_html_file(store, scope, options, path) writes the page
//    (write_html_report with make_thumbnailer) to PATH.part and renames it
//    over PATH, then says "vidsift: wrote PATH (SIZE)" on stderr. When the
//    file cannot be written it says why on stderr, leaves no .part file and
//    returns false. Throws StoreError (reading the database).
#pragma once

#include <string>

#include "report_html.h"
#include "vidsift/store.h"

namespace vidsift::cli {

inline constexpr int kThumbWidth = 256;

Thumbnailer make_thumbnailer(Store& store);

bool write_html_file(Store& store, const ReportScope& scope, const HtmlOptions& options, const std::string& path);

}  // namespace vidsift::cli
