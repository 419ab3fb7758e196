#!/bin/sh
# Tracking quality and cost (issue 12, --track). Prints, per sampling rate,
# the ground-truth metrics of tests/track_clip.py on its clip, then vtest.avi
# with and without --track (wall time, track stage ms/frame).
#   bench/track_truth.sh [BUILD_DIR] [MODEL]
# Respects /tmp/bench.running (waits while another benchmark measures).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
model=${2:-yolox_nano.onnx}
shared=${VIDSIFT_SHARED_DIR:-$here/../shared}
[ -d "$shared/videos" ] || shared=/work/shared
vtest=$shared/videos/vtest.avi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while [ -e /tmp/bench.running ]; do sleep 20; done
/usr/bin/python3 "$here/tests/track_clip.py" make "$tmp/truth.mp4" "$vtest"
echo "ground truth: 5 appearances (tests/track_clip.py), model $model"
printf '%-12s %s\n' rate metrics
for rate in "--every 1" "--every 2" "--every 5" "--every 10" "--fps 5" "--fps 2"; do
  "$build/vidsift" run "$tmp/truth.mp4" --db "$tmp/t.db" --model "$model" --track $rate -q
  printf '%-12s %s\n' "$rate" "$(/usr/bin/python3 "$here/tests/track_clip.py" metrics "$tmp/t.db")"
  rm -f "$tmp"/t.db*
done
echo "cost: vtest.avi (795 frames), same settings, with and without --track"
for i in 1 2; do
  for mode in "" "--track"; do
    rm -f "$tmp"/c.db*
    s=$(date +%s.%N)
    "$build/vidsift" run "$vtest" --db "$tmp/c.db" --model "$model" $mode -q
    e=$(date +%s.%N)
    ms=$(sqlite3 "$tmp/c.db" "SELECT printf('%.4f', mean_ms) FROM timings WHERE stage='track' AND video_id IS NULL")
    tracks=$(sqlite3 "$tmp/c.db" "SELECT COUNT(*) || ' tracks, ' || COALESCE(SUM(frames >= 3), 0) || ' of >= 3 frames' FROM tracks")
    printf 'run %s %-8s wall %.2f s  track stage %s ms/frame  %s\n' "$i" "${mode:-plain}" "$(echo "$e - $s" | bc)" \
      "${ms:--}" "$tracks"
  done
done
