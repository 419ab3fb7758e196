#!/usr/bin/env bash
# Set up (deps + build), then analyse the sample video into demo.db and show
# what the database answers.
#   scripts/demo.sh [extra vidsift options...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

SHARED="${VIDSIFT_SHARED_DIR:-$(cd .. && pwd)/shared}"
VIDEO="$SHARED/videos/vtest.avi"
DB="${VIDSIFT_DEMO_DB:-demo.db}"
export VIDSIFT_MODEL_DIR="${VIDSIFT_MODEL_DIR:-$SHARED/models}"

rm -f "$DB" "$DB-wal" "$DB-shm"
set +e
build/vidsift run "$VIDEO" --db "$DB" --every 5 "$@"
status=$?
set -e

echo
echo "== persons per minute (sqlite3 $DB 'SELECT minute, detections, frames_analysed, mean_per_frame FROM per_minute_label_counts WHERE label=\"person\"')"
sqlite3 -header -column "$DB" \
  "SELECT minute, detections, frames_analysed, mean_per_frame FROM per_minute_label_counts WHERE label='person' ORDER BY video_id, minute;"
echo
echo "== labels per video"
sqlite3 -header -column "$DB" \
  "SELECT label, detections, frames_with_label, mean_per_frame FROM per_video_label_counts ORDER BY detections DESC LIMIT 8;"
exit $status
