// render.h (cli) — `vidsift render`: pictures of stored detections, decoded
// again from the source videos (frame_grab.h) and drawn (annotate.h).
//
// Contract:
//  * render_command(argc, argv) takes the arguments after "render":
//    [DB] [--db FILE] [--where SQL] [--label L] [--min-conf C] [--video PATH]
//    [--from T] [--to T] [--track ID] [--limit N] [--tile-width W]
//    [--clip] --out PATH [--db-timeout S]. The filters are ANDed; --where is
//    an SQL expression over the columns of one detection (those of `export
//    --where`, plus track_id when the database has tracks). The database is
//    opened read-only.
//  * Contact sheet (default): a JPEG grid of up to N (default 12) tiles, each
//    one analysed frame with all its matching boxes and a caption (file,
//    wall-clock time when videos.recorded_at is known, else video time).
//    When matching detections carry track ids (a --track run) and --track is
//    not given: one tile per track, the track's highest-confidence matching
//    detection (= tracks.best_frame when the filter keeps it), for the N
//    tracks with the most matching detections. Otherwise (and with --track
//    ID): N frames spread evenly over the matching frames. Tiles are ordered
//    by file and time.
//  * --clip: an MP4 (H.264, clip_writer.h) of one video: --video PATH with
//    --track ID (the track's time span, 0.5 s added on each side, limited by
//    --from/--to) or with --from and --to. Every decoded frame of the range is
//    written; analysed frames get their matching boxes; a frame between
//    analysed frames gets the boxes of the latest analysed frame at or
//    before it, for at most 1 s (none before the first). At most 600 s.
//  * A video that moved or changed (frame_grab.h's check) is named in a
//    warning and skipped; so is a frame that cannot be decoded.
//  * Exit status: 0 written; 2 usage error (also an SQL error in --where);
//    3 the database cannot be read or the output cannot be written; 4
//    nothing to draw (no matching detections, or none of their videos could
//    be read).
#pragma once

namespace vidsift::cli {

int render_command(int argc, const char* const argv[]);

}  // namespace vidsift::cli
