// merge.h — merging shard databases into one (vidsift merge).
//
// Contract:
//  * merge_database(dest, input) copies the input's runs, final videos
//    (done, partial, failed; never `running` ones), frames, detections,
//    tracks (same track ids, remapped video ids) and timings into `dest` with SQL (ATTACH + INSERT ... SELECT), in ONE
//    transaction: a kill or an error leaves `dest` as it was before this
//    input. Video and run ids are remapped, so nothing collides.
//  * Idempotent: a run is known by its origin (host|pid|started_at of the
//    process that made it, kept in runs.origin), and an input video is
//    skipped when `dest` already holds a row for the same path (exact bytes)
//    and settings key that is at least as new and that wins over it (a
//    done/partial row, or any row when the input's is failed). Merging the
//    same input twice adds nothing.
//  * The rerun rule: an input video that is done or partial replaces the
//    older rows of `dest` for the same path and settings key, as if it had
//    been analysed there last; the newest done result wins whatever the
//    order of the inputs.
//  * Provenance: each copied run keeps its host and shard ("I/N") and
//    records the file it came from in runs.merged_from (a run that was
//    itself merged keeps its first merged_from); the view video_provenance
//    gives them per video.
//  * Refused inputs (MergeResult::refused with the reason, `dest` untouched
//    by them): not a vidsift database, another schema version than this
//    vidsift writes, a run still `running` whose process is alive on this
//    host (a shard still being written), the destination file itself.
//    A `running` run of a dead process (or of another host) is copied as
//    `interrupted` without its unfinished videos (a note says so).
//  * Throws StoreError only for failures of `dest` itself (cannot write).
// Thread-safety: one call at a time per destination Store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vidsift/store.h"

namespace vidsift {

struct MergeResult {
  std::string input;
  bool refused = false;
  std::string reason;              // why it was refused (empty when merged)
  std::vector<std::string> notes;  // worth knowing even when merged
  std::int64_t runs = 0;           // runs added
  std::int64_t videos = 0;         // videos added
  std::int64_t replaced = 0;       // older videos of dest replaced by newer ones
  std::int64_t detections = 0;     // detections added
  double seconds = 0;
};

// Merges the database file `input` into `dest` (opened ReadWrite), as the
// contract says. `busy_timeout_ms` is for opening the input.
MergeResult merge_database(Store& dest, const std::string& input, int busy_timeout_ms);

}  // namespace vidsift
