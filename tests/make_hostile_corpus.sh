#!/usr/bin/env bash
# Builds a corpus of hostile inputs for vidsift in DIR (ffmpeg CLI plus byte
# surgery). Each file is something a real archive contains sooner or later.
#   tests/make_hostile_corpus.sh DIR [VTEST]   (VTEST: vtest.avi, for the people clips)
# Prints one line per file: "<name>\t<what it is>".
set -euo pipefail
OUT="${1:?usage: make_hostile_corpus.sh DIR}"
mkdir -p "$OUT"
cd "$OUT"
ff() { ffmpeg -nostdin -y -loglevel error "$@"; }
SRC="-f lavfi -i testsrc2=size=320x240:rate=25"

# A good clip to prove the rest of the batch still finishes.
ff $SRC -frames:v 50 -c:v libx264 -g 25 -pix_fmt yuv420p good.mp4
echo -e "good.mp4\ta healthy H.264 clip"

: > zero_bytes.mp4
echo -e "zero_bytes.mp4\ta zero-byte file"

head -c 200000 /dev/urandom > random_bytes.mp4
echo -e "random_bytes.mp4\trandom bytes named .mp4"

# moov atom at the end (no faststart), cut in half: no moov at all.
ff $SRC -frames:v 100 -c:v libx264 -g 25 -pix_fmt yuv420p full_moov_at_end.tmp.mp4
head -c $(( $(stat -c %s full_moov_at_end.tmp.mp4) / 2 )) full_moov_at_end.tmp.mp4 > truncated_no_moov.mp4
rm -f full_moov_at_end.tmp.mp4
echo -e "truncated_no_moov.mp4\tan MP4 cut before its moov atom"

ff $SRC -frames:v 100 -c:v libx264 -g 25 -pix_fmt yuv420p -f mpegts full.tmp.ts
head -c $(( $(stat -c %s full.tmp.ts) / 2 + 77 )) full.tmp.ts > truncated.ts
rm -f full.tmp.ts
echo -e "truncated.ts\tan MPEG-TS cut mid-packet"

# Corrupt bytes mid-stream (moov at the front so the file still opens).
ff $SRC -frames:v 100 -c:v libx264 -g 25 -pix_fmt yuv420p -movflags +faststart corrupt.mp4
size=$(stat -c %s corrupt.mp4)
for off in $(( size / 2 )) $(( size / 2 + 3000 )) $(( size * 3 / 4 )); do
  head -c 2000 /dev/urandom | dd of=corrupt.mp4 bs=1 seek="$off" conv=notrunc status=none
done
echo -e "corrupt.mp4\tan MP4 with random bytes mid-stream"

ff -f lavfi -i sine=frequency=440:duration=2 -c:a aac audio_only.mp4
echo -e "audio_only.mp4\tan audio-only file"

ff -f lavfi -i testsrc2=size=320x240 -frames:v 1 still_image.png
mv still_image.png still_image.mp4
echo -e "still_image.mp4\ta PNG still image renamed .mp4"

# An AVI whose video FOURCC names a codec nobody decodes.
ff $SRC -frames:v 25 -c:v mpeg4 -vtag XVID unknown_codec.avi
LC_ALL=C sed -i 's/XVID/QQQQ/g; s/FMP4/QQQQ/g' unknown_codec.avi
echo -e "unknown_codec.avi\ta stream whose codec cannot be decoded"

# Declared dimensions no decoder should accept.
{ printf 'YUV4MPEG2 W100000 H100000 F25:1 Ip A1:1 C420jpeg\nFRAME\n'; head -c 1000 /dev/zero; } > absurd_dimensions.y4m
echo -e "absurd_dimensions.y4m\tdeclares 100000x100000 pixels"

ff $SRC -frames:v 25 -c:v libx264 -pix_fmt yuv420p zero_frames.tmp.mp4
ff -i zero_frames.tmp.mp4 -c copy -frames:v 0 zero_frames.mkv 2>/dev/null || ff -i zero_frames.tmp.mp4 -t 0 -c copy zero_frames.mkv
rm -f zero_frames.tmp.mp4
echo -e "zero_frames.mkv\ta video stream with no frames"

# Not readable by the user running vidsift (root ignores this).
cp good.mp4 unreadable.mp4
chmod 000 unreadable.mp4
echo -e "unreadable.mp4\tpermissions 000"

# Names that are not UTF-8, or contain spaces.
cp good.mp4 "name with spaces.mp4"
cp good.mp4 "$(printf 'latin1_\xe9t\xe9.mp4')"
echo -e "name with spaces.mp4\ta file name with spaces"
echo -e "latin1_?t?.mp4\ta file name that is not UTF-8"

# A directory symlink loop.
mkdir -p loop_dir
ln -sfn .. loop_dir/back_to_parent
echo -e "loop_dir/\ta directory symlink loop"

# Timestamps that jump backwards and repeat (MPEG-TS keeps what it is given).
ff $SRC -frames:v 75 -c:v libx264 -g 25 -bf 0 -pix_fmt yuv420p -bsf:v "setts=pts=if(eq(mod(N\,25)\,10)\,PTS-200000\,PTS):dts=if(eq(mod(N\,25)\,10)\,DTS-200000\,DTS)" -f mpegts bad_timestamps.ts 2>/dev/null \
  || ff $SRC -frames:v 75 -c:v libx264 -g 25 -bf 0 -pix_fmt yuv420p -output_ts_offset -100 -f mpegts bad_timestamps.ts
echo -e "bad_timestamps.ts\ttimestamps that jump backwards"

# Text files that make libavformat read other files: an HLS playlist and an
# ffconcat script, both named .mp4 and pointing at good.mp4.
printf '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2.0,\ngood.mp4\n#EXT-X-ENDLIST\n' > hls_playlist.mp4
echo -e "hls_playlist.mp4\tan HLS playlist named .mp4"
printf "ffconcat version 1.0\nfile 'good.mp4'\n" > ffconcat.mp4
echo -e "ffconcat.mp4\tan ffconcat script named .mp4"

# H.264 in MPEG-TS with its parameter sets (SPS/PPS) stripped.
ff $SRC -frames:v 25 -c:v libx264 -pix_fmt yuv420p -bsf:v "filter_units=remove_types=7|8" -f mpegts no_sps.ts
echo -e "no_sps.ts\tH.264 without SPS/PPS"

# Named pipes are skipped by the walk (they are no video files to list).
mkfifo walked_fifo.mp4
echo -e "walked_fifo.mp4\ta FIFO inside the walked directory"
# --- Streams: orientation, cover art, several video streams, size changes ---
# (needs people to detect: pass vtest.avi as the second argument)
VTEST="${2:-}"
# Writes the display matrix (a b / c d, translation x y; 16.16 fixed point)
# into the first track header of an MP4 (byte surgery: the ffmpeg CLI of
# FFmpeg 5.1 can only set rotations, not flips).
set_display_matrix() {
  local f=$1 off hex="" v
  off=$(grep -obUaP 'tkhd' "$f" | head -1 | cut -d: -f1)
  for v in "$2" "$3" 0 "$4" "$5" 0 "$6" "$7" 1073741824; do hex+=$(printf '%08x' $(( v & 0xffffffff ))); done
  printf "$(echo "$hex" | sed 's/../\\x&/g')" | dd of="$f" bs=1 seek=$((off + 44)) conv=notrunc status=none
}
if [ -n "$VTEST" ]; then
  X264="-c:v libx264 -pix_fmt yuv420p -g 4"
  ff -i "$VTEST" -vf "fps=2,scale=384:288" -frames:v 8 $X264 upright.mp4
  echo -e "upright.mp4\tpeople, upright (the reference for the turned copies)"
  # Stored sideways/upside down/mirrored, with the display matrix that shows
  # it upright (ffmpeg's own autorotate shows each like upright.mp4).
  # Rotations are counterclockwise: 90 turns 90 degrees left. FFmpeg >= 6's
  # CLI sets the display matrix with -display_rotation and ignores the
  # `rotate` tag; 5.1's (Debian 12) knows only the tag.
  turn() {
    ff -display_rotation:v "$2" -i "$1" -c copy "$3" 2>/dev/null || ff -i "$1" -c copy -metadata:s:v rotate="$2" "$3"
  }
  ff -i upright.mp4 -vf transpose=cclock $X264 turned.tmp.mp4
  turn turned.tmp.mp4 270 turned_cw90.mp4
  ff -i upright.mp4 -vf hflip,vflip $X264 turned.tmp.mp4
  turn turned.tmp.mp4 180 turned_180.mp4
  ff -i upright.mp4 -vf transpose=clock $X264 turned.tmp.mp4
  turn turned.tmp.mp4 90 turned_cw270.mp4
  rm -f turned.tmp.mp4
  ff -i upright.mp4 -vf hflip $X264 mirrored.mp4
  set_display_matrix mirrored.mp4 -65536 0 0 65536 $((384 << 16)) 0
  ff -i upright.mp4 -vf transpose=cclock_flip $X264 transposed.mp4
  set_display_matrix transposed.mp4 0 65536 65536 0 0 0
  echo -e "turned_cw90.mp4\tstored sideways, shown turned 90 degrees clockwise (a phone clip)"
  echo -e "turned_180.mp4\tstored upside down, display matrix 180 degrees"
  echo -e "turned_cw270.mp4\tstored sideways, shown turned 270 degrees clockwise"
  echo -e "mirrored.mp4\tstored mirrored, display matrix flips it back"
  echo -e "transposed.mp4\tstored transposed, display matrix turns and flips it back"

  # A thumbnail track first (marked default), the real video second.
  ff -f lavfi -i testsrc2=size=160x120:rate=5 -i upright.mp4 -map 0:v -map 1:v -t 1.6 -c:v libx264 -pix_fmt yuv420p \
    -disposition:v:0 default -disposition:v:1 0 two_video_streams.mp4
  echo -e "two_video_streams.mp4\ta 160x120 default thumbnail track and the 384x288 video"

  # 768x576 for 4 frames, then 384x288 (timestamps continue): FFmpeg reports
  # the last size it probed, so the first frames are larger than the video.
  ff -i "$VTEST" -vf "fps=2,scale=768:576" -frames:v 4 $X264 -bf 0 -f mpegts size_a.tmp.ts
  ff -ss 2 -i "$VTEST" -vf "fps=2,scale=384:288" -frames:v 4 $X264 -bf 0 -output_ts_offset 2 -f mpegts size_b.tmp.ts
  cat size_a.tmp.ts size_b.tmp.ts > size_change.ts
  rm -f size_a.tmp.ts size_b.tmp.ts
  echo -e "size_change.ts\tresolution changes mid-stream (768x576, then 384x288)"
fi

