// events.h — when is a label visible? Time ranges ("events") per video,
// found in the stored detections with gaps-and-islands SQL.
//
// Contract:
//  * A frame "shows" label L when it holds at least `min_count` boxes of L.
//    An event of L in a video is a maximal run of such frames, in time order,
//    in which each frame is at most `gap` seconds (+1 µs for rounding) after
//    the previous one: shorter gaps (a missed detection, a person hidden for
//    a moment) are bridged, longer ones end the event.
//  * An event reports the timestamp of its first and last frame (`start`,
//    `end`; a one-frame event has start == end), `duration` = end - start,
//    its first and last frame_index, how many frames showed L (`frames`) and
//    the largest number of boxes of L in one of them (`max_count`).
//  * Only current results count: the videos of the `finished_videos` view
//    (done and partial), each video row (one file under one settings key)
//    on its own.
//  * label_events_view_sql() is the CREATE VIEW statement of the
//    `label_events` view (every label, min_count kDefaultEventMinCount, gap
//    kDefaultEventGap seconds); the Store creates it. find_events() runs the
//    same SQL with the caller's label, min_count and gap, so the view and the
//    `vidsift events` command always agree.
//  * find_events() reads only; throws StoreError (store.h) on SQL errors and
//    std::invalid_argument for min_count < 1 or a negative or non-finite gap.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vidsift/store.h"

namespace vidsift {

// Parameters of the `label_events` view (and defaults of `vidsift events`).
inline constexpr double kDefaultEventGap = 2.0;  // seconds
inline constexpr int kDefaultEventMinCount = 1;

struct EventQuery {
  std::string label;  // e.g. "person"
  int min_count = kDefaultEventMinCount;
  double gap = kDefaultEventGap;
};

struct Event {
  std::int64_t video_id = 0;
  std::string path;
  std::string settings_key;
  std::int64_t run_id = 0;
  std::string label;
  double start = 0;  // seconds (ts of the first frame)
  double end = 0;    // seconds (ts of the last frame)
  double duration = 0;
  std::int64_t first_frame = 0;
  std::int64_t last_frame = 0;
  std::int64_t frames = 0;
  std::int64_t max_count = 0;
};

// "DROP VIEW IF EXISTS label_events; CREATE VIEW label_events AS ...".
std::string label_events_view_sql();

// The events of q.label, ordered by path, settings key, video id and start.
std::vector<Event> find_events(Store& store, const EventQuery& q);

}  // namespace vidsift
