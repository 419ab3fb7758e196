#!/usr/bin/env bash
# Merge speed (issue 13): 4 shard databases of 250,000 detections each
# (250 done videos x 100 frames x 10 detections, synthesized with SQL in
# vidsift's own schema), merged with `vidsift merge`; then merged again (the
# idempotent no-op). Prints the seconds of each.
#   bench/merge_bench.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
VIDSIFT="$(cd "$BUILD" && pwd)/vidsift"
T="$(mktemp -d /tmp/vidsift-merge-bench.XXXXXX)"
trap 'rm -rf "$T"' EXIT
for s in 0 1 2 3; do
  db="$T/shard-$s.db"
  # An empty database in vidsift's schema: `merge` creates its destination.
  "$VIDSIFT" merge -q --db "$db" "$T/none.db" 2>/dev/null || true
  sqlite3 "$db" <<SQL
BEGIN;
INSERT INTO runs(id, status, pid, host, settings_key, shard, finished_at)
  VALUES(1, 'finished', 1000 + $s, 'node$s', 'bench', '$s/4', strftime('%Y-%m-%dT%H:%M:%fZ','now'));
WITH RECURSIVE v(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM v WHERE i < 250)
INSERT INTO videos(id, run_id, path, path_bytes, size, mtime, fingerprint, settings_key, status, frames_analysed,
                   finished_at)
  SELECT i, 1, '/archive/s$s/v' || i || '.mp4', CAST('/archive/s$s/v' || i || '.mp4' AS BLOB), 1000000, 0,
         'fp' || i, 'bench', 'done', 100, strftime('%Y-%m-%dT%H:%M:%fZ','now') FROM v;
WITH RECURSIVE f(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM f WHERE i < 99)
INSERT INTO frames(video_id, frame_index, ts, detections) SELECT v.id, f.i, f.i / 25.0, 10 FROM videos v, f;
WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 9)
INSERT INTO detections(video_id, frame_index, ts, class_id, label, confidence, x, y, w, h)
  SELECT fr.video_id, fr.frame_index, fr.ts, k.j, 'person', 0.5 + k.j / 20.0, 10 * k.j, 20, 30, 60
  FROM frames fr, k;
COMMIT;
SQL
done
echo "shards: $(for s in 0 1 2 3; do sqlite3 "$T/shard-$s.db" 'SELECT COUNT(*) FROM detections'; done | paste -sd+) detections" >&2
t0=$(date +%s.%N)
"$VIDSIFT" merge --db "$T/all.db" "$T"/shard-?.db
t1=$(date +%s.%N)
"$VIDSIFT" merge --db "$T/all.db" "$T"/shard-?.db
t2=$(date +%s.%N)
echo "merged: $(sqlite3 "$T/all.db" 'SELECT COUNT(*) FROM detections') detections, $(du -k "$T/all.db" | cut -f1) KiB"
printf 'merge 4 x 250k detections: %.2f s; again (no-op): %.2f s\n' "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
