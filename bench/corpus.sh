#!/usr/bin/env bash
# bench/corpus.sh — build (once) the benchmark corpus from vtest.avi with the
# ffmpeg CLI. Everything is cached OUTSIDE the repository:
#   ${VIDSIFT_BENCH_CACHE:-$HOME/.cache/vidsift-bench}/corpus-<version>/
#
#   vtest.avi            the original (768x576, 10 fps, MS-MPEG4v3, 79.5 s)
#   h264_720p_60s.mp4    1280x720  H.264 30 fps 60 s
#   h264_1080p_60s.mp4   1920x1080 H.264 30 fps 60 s
#   archive/clip_NN.mp4  50 x 640x480 H.264 30 fps 10 s
#   long_360p_30min.mp4  640x360 H.264 30 fps 30 min (RSS vs length)
#   long_360p_1min.mp4   its first minute (stream copy, same encoding)
#
# vtest is looped (-stream_loop) and played 3x faster (setpts=N/30/TB) so
# every output frame is a distinct picture with real motion (duplicated
# frames from an fps filter would make H.264 decoding artificially cheap).
# GOP: a key frame every 60 frames (2 s), no scene-cut key frames, so
# --keyframes sees exactly duration/2 key frames.
#
# Usage: bench/corpus.sh            prints the corpus directory on stdout
# Env:   VIDSIFT_BENCH_CACHE, VIDSIFT_SHARED_DIR (default: <repo>/../shared)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
shared="${VIDSIFT_SHARED_DIR:-$repo/../shared}"
src="$shared/videos/vtest.avi"
cache="${VIDSIFT_BENCH_CACHE:-$HOME/.cache/vidsift-bench}"

# Bump when a recipe below changes: a new directory is built, old ones stay.
version=1
out="$cache/corpus-v$version"

log() { printf 'corpus: %s\n' "$*" >&2; }

[[ -f "$src" ]] || { log "missing $src (set VIDSIFT_SHARED_DIR)"; exit 1; }
command -v ffmpeg >/dev/null || { log "ffmpeg CLI not found (apt-get install ffmpeg)"; exit 1; }
case "$(cd "$(dirname "$out")" 2>/dev/null && pwd)/" in
  "$repo"/*) log "refusing to cache the corpus inside the repository ($out)"; exit 1 ;;
esac
mkdir -p "$out/archive"

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
x264=(-c:v libx264 -preset veryfast -crf 23 -g 60 -keyint_min 60 -sc_threshold 0 -pix_fmt yuv420p -an)
loop_in=(-stream_loop -1 -i "$src")
speed="setpts=N/(30*TB)"

# build_one NAME CMD... : runs CMD with the temporary output path appended, then
# renames it, so an interrupted build never leaves a truncated file behind.
build_one() {
  local name="$1"; shift
  [[ -s "$out/$name" ]] && return 0
  local tmp="$out/.tmp.$$.${name##*/}"
  log "building $name"
  local t0=$SECONDS
  "$@" "$tmp"
  mv -f "$tmp" "$out/$name"
  log "  $name done in $((SECONDS - t0)) s"
}

build_one vtest.avi cp "$src"
build_one h264_720p_60s.mp4 ff "${loop_in[@]}" -vf "$speed,scale=1280:720" -r 30 -t 60 "${x264[@]}" -f mp4
build_one h264_1080p_60s.mp4 ff "${loop_in[@]}" -vf "$speed,scale=1920:1080" -r 30 -t 60 "${x264[@]}" -f mp4

# Archive: one 500 s encode split on the 2 s key frames into 50 clips of 10 s,
# each starting at a different point of the looped source.
if [[ ! -s "$out/archive/clip_49.mp4" ]]; then
  log "building archive/ (50 clips)"
  t0=$SECONDS
  tmpdir="$out/.tmp.$$.archive"
  rm -rf "$tmpdir"; mkdir -p "$tmpdir"
  ff "${loop_in[@]}" -vf "$speed,scale=640:480" -r 30 -t 500 "${x264[@]}" \
     -f segment -segment_time 10 -reset_timestamps 1 -segment_format mp4 "$tmpdir/clip_%02d.mp4"
  n=$(find "$tmpdir" -name 'clip_*.mp4' | wc -l)
  [[ "$n" == 50 ]] || { log "archive: expected 50 clips, got $n"; exit 1; }
  rm -rf "$out/archive"; mv "$tmpdir" "$out/archive"
  log "  archive done in $((SECONDS - t0)) s"
fi

build_one long_360p_30min.mp4 ff "${loop_in[@]}" -vf "$speed,scale=640:360" -r 30 -t 1800 "${x264[@]}" -f mp4
# Same bitstream, first 60 s (cut on a key frame).
build_one long_360p_1min.mp4 ff -i "$out/long_360p_30min.mp4" -t 60 -c copy -f mp4

echo "$out"
