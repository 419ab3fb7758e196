// decoder.h — one video file in, sampled decoded frames out (libavformat +
// libavcodec, never cv::VideoCapture).
//
// Contract:
//  * Decoder(path, opts) opens the file, picks the video stream and opens
//    its decoder. Only a regular file is opened (a FIFO or device is refused
//    before open(), which would block); libavformat may read that file and
//    nothing else: the file protocol only, every other open a demuxer
//    attempts is refused, and playlist/script/manifest demuxers (hls,
//    concat, dash, imf, sdp, ...) are not allowed; a file whose first
//    bytes are such a text (#EXTM3U, "ffconcat version", an MPD or IMF
//    CPL, an SDP "v=0" line) is refused before FFmpeg probes it, so every
//    FFmpeg version refuses it the same way. Opening is bounded by
//    should_stop (the interrupt callback).
//  * Streams marked attached_pic (cover art of an audio file) are never
//    videos. Among the others: one that can be decoded, holds more than one
//    frame, is the largest (width x height), then default-disposition, then
//    the first. info().stream_index says which.
//  * info().width/height are the size as displayed: the display matrix of
//    the stream (a phone clip stored sideways) is read into
//    info().orientation, and width/height are swapped for a quarter turn.
//    Frames are returned as stored; the preprocessing turns them.
//  * Throws DecodeError with a user-readable message when the file is
//    refused or cannot be opened, holds no video stream, uses a codec this
//    FFmpeg cannot decode, declares absurd dimensions, has no decodable key
//    frame (size unknown: H.264 without SPS), or is a still image (a picture
//    renamed .mp4 opens as a one-frame "video"). Nothing is decoded yet.
//  * next(frame) fills `frame` with the next frame the Sampler accepts, in
//    presentation order, and returns true; returns false at the end of the
//    stream or of the time window. Frames the sampler rejects are unreferenced
//    immediately: never converted or copied. With `keyframes`, non-key
//    packets are not even sent to the decoder (AVDISCARD_NONKEY as well).
//  * --start seeks (only when the stream's start time and frame rate are
//    known) to the key frame at or before `start`. Frames decoded before the
//    first key frame after a seek are dropped (their references are missing).
//    If that key frame lies after `start`, the demuxer overshot (MPEG-TS and
//    AVI seek by timestamp, not by key frame): it seeks further back, and
//    finally decodes from the beginning (MPEG-TS/PS: by byte position, since
//    their timestamp seek goes by DTS and would land after a B-frame
//    stream's first key frame), so no frame of the window is lost.
//    A stream with no key frame after the seek point (none before the end of
//    the window or within 60 s, e.g. H.264 intra refresh) is also decoded
//    from the beginning.
//  * Frame index: the 0-based position of the frame in presentation order.
//    It is counted when every frame is decoded from the start; after a seek
//    (--start), with keyframes-only or when unsampled non-reference frames
//    are skipped (--fps) it is derived from the timestamp and the
//    stream's average frame rate (exact for constant-frame-rate video), and
//    forced to increase so garbage timestamps never give two frames one index.
//  * Timestamp: seconds from the stream's first timestamp, from the frame's
//    best-effort PTS; a frame without one is placed one frame duration after
//    its predecessor. With keyframes-only, a key packet without a PTS (AVI)
//    is timed by its own DTS (the best-effort guess would take the DTS of the
//    next key packet sent, a whole GOP late); with B-frames that can be a
//    few frames early.
//  * With --fps (or a --start before which frames are thrown away), in MP4,
//    Matroska and MPEG-TS (containers whose packets carry presentation
//    timestamps; not AVI or raw streams), a packet
//    whose timestamp the Sampler will certainly reject is sent with
//    AVDISCARD_NONREF: a non-reference frame (most B-frames) is then not
//    decoded at all; reference frames still are, so later frames stay
//    intact. Indices are then derived from timestamps (see below), since
//    skipped frames cannot be counted. frames_decoded() counts the frames
//    actually decoded.
//  * MPEG-TS/PS (AVFMT_TS_DISCONT): a packet whose DTS lies more than 0.5 s
//    before the previous packet's (byte-joined recordings, clock resets)
//    shifts every later timestamp so the timeline continues
//    (discontinuities()); a single packet off the timeline is undone when
//    the next one returns to it. In any format, a frame the sampler rejects
//    because its timestamp lies before an already analysed frame's makes
//    the video truncated() ("timestamps went backwards"): never complete.
//  * Corrupt packets are counted (decode_errors(), last_error()) and skipped;
//    after 500 errors in a row with no good frame between them, the stream
//    is treated as cut short (truncated()): the rest is garbage;
//    a read error other than end-of-file ends the stream early and is
//    reported by truncated()/last_error(), and so is an end of file before
//    data the container's index lists (an MP4 cut short), or an MPEG-TS file
//    that stops mid-packet. The caller decides
//    between `partial` and `failed`.
//  * Resume (opts.resume_after: the last frame an interrupted run analysed,
//    as (index, ts)): next() returns exactly the frames a decoder without it
//    would return after that one (the Sampler continues as if it had seen
//    the frames before, see sampler.h). It seeks to `ts` with the --start
//    machinery above (key frame at or before, overshoot retries), so the
//    frames before are not decoded, when that gives the same indices as a
//    run from the start: when such a run derives indices from timestamps
//    too (keyframes, --start, --fps in MP4/Matroska/MPEG-TS), or else the
//    timestamp maps to `index` at the stream's frame rate within 2 frames
//    (constant frame rate; B-frame delay makes an AVI's first frame one
//    tick late): the indices after the seek keep that offset. Otherwise it
//    decodes from the start, counting, and only skips the analysis of the
//    frames up to `index`. resumed_by_seek() says which.
//  * should_stop (optional) is polled on entry to next(), between packets and
//    during blocking I/O; once it returns true, next() returns false and
//    cancelled() is true.
// Not thread-safe: one Decoder per video, used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "vidsift/av_ptr.h"
#include "vidsift/orientation.h"
#include "vidsift/sampler.h"

namespace vidsift {

class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DecoderOptions {
  SamplingOptions sampling;
  int threads = 1;  // libavcodec threads for this decoder (0 = auto)
  // With --fps or a --start window: do not decode non-reference frames
  // (AVDISCARD_NONREF, per packet) that the sampler will certainly reject.
  bool skip_unsampled_nonref = true;
  std::function<bool()> should_stop;
  // Continue after this frame (index, timestamp in seconds) of an earlier,
  // interrupted run (see contract).
  struct ResumeAfter {
    std::int64_t index = -1;
    double ts = 0;
  };
  std::optional<ResumeAfter> resume_after;
};

struct VideoInfo {
  std::string codec;
  int width = 0;  // as displayed (upright), see the contract
  int height = 0;
  Orientation orientation;                // how stored frames are turned to show upright
  int stream_index = -1;                  // the container's stream that is analysed
  double fps = 0.0;                       // average frame rate, 0 if unknown
  double duration = 0.0;                  // seconds, 0 if unknown
  std::int64_t frame_count_estimate = 0;  // from the container, 0 if unknown
  std::string creation_time;              // the container's (else the stream's) creation_time tag, as is; "" if none
};

struct DecodedFrame {
  FramePtr frame;  // owned, holds the decoded picture
  std::int64_t index = 0;
  double timestamp = 0.0;
};

class Decoder {
 public:
  Decoder(const std::string& path, const DecoderOptions& opts);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  const VideoInfo& info() const { return info_; }

  // See contract. `out.frame` is allocated on first use and reused.
  bool next(DecodedFrame& out);

  std::int64_t frames_decoded() const { return frames_decoded_; }
  std::int64_t packets_read() const { return packets_read_; }
  std::int64_t decode_errors() const { return decode_errors_; }
  std::int64_t discontinuities() const { return discontinuities_; }
  bool truncated() const { return truncated_; }
  bool cancelled() const { return cancelled_; }
  bool resumed_by_seek() const { return resumed_by_seek_; }
  const std::string& last_error() const { return last_error_; }

 private:
  bool receive(DecodedFrame& out);              // drains the decoder; true when a frame was taken
  bool feed();                                  // reads and sends one packet; false at end
  bool send_pending();                          // sends packet_; keeps it on EAGAIN; false = give up
  bool count_error(const char* what, int err);  // true = too many in a row: truncated()
  bool seek_to(double seconds, bool verify);    // see the --start rule in the contract
  bool retry_seek(double key_ts);               // after an overshoot; true when it sought again
  void select_stream(const AVCodec*& codec);    // sets stream_index_ (see the contract)
  void check_cut_short();                       // at end of file: did the file end before its index?
  void open_input();                            // regular file, file protocol, no playlists
  void fix_discontinuity();                     // MPEG-TS/PS: keep packet times continuous
  void note_backward_drop(double ts);           // a frame dropped because time went backwards
  static int interrupt_cb(void* opaque);
  static int io_open_cb(AVFormatContext* s, AVIOContext** pb, const char* url, int flags, AVDictionary** options);

  std::string path_;
  std::string url_;          // what libavformat opens: the path, as a file: URL
  std::string foreign_url_;  // first other file or URL the demuxer tried to open (refused)
  int (*default_io_open_)(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) = nullptr;
  DecoderOptions opts_;
  Sampler sampler_;
  FormatContextPtr fmt_;
  CodecContextPtr codec_;
  PacketPtr packet_;
  FramePtr scratch_;
  VideoInfo info_;
  int stream_index_ = -1;
  AVRational time_base_{0, 1};
  AVRational frame_rate_{0, 1};
  std::int64_t start_pts_ = AV_NOPTS_VALUE;
  std::int64_t next_index_ = 0;
  std::int64_t last_index_ = -1;
  bool index_from_pts_ = false;
  bool skip_nonref_ = false;  // see skip_unsampled_nonref
  double last_ts_ = -1.0;
  bool seek_verify_ = false;  // after a seek: drop frames until a key frame, check it
  int seek_attempts_ = 0;
  bool eof_sent_ = false;
  bool finished_ = false;
  std::int64_t frames_decoded_ = 0;
  std::int64_t packets_read_ = 0;
  std::int64_t decode_errors_ = 0;
  std::int64_t consecutive_errors_ = 0;           // errors since the last good frame
  bool packet_pending_ = false;                   // packet_ holds data the decoder refused (EAGAIN)
  bool ts_discont_ = false;                       // AVFMT_TS_DISCONT container (MPEG-TS/PS)
  std::int64_t ts_offset_ = 0;                    // added to packet times after a discontinuity
  std::int64_t prev_offset_ = 0;                  // the offset before the last discontinuity
  std::int64_t last_packet_ts_ = AV_NOPTS_VALUE;  // corrected DTS of the last packet
  std::int64_t discontinuities_ = 0;
  double last_taken_ts_ = -1.0;  // latest timestamp the sampler took
  std::int64_t backward_drops_ = 0;
  bool truncated_ = false;
  bool cancelled_ = false;
  bool resumed_by_seek_ = false;
  std::int64_t index_offset_ = 0;  // resume: counted index minus the timestamp's
  double seek_target_ = 0;         // where the last verified seek aimed (--start or the resume point)
  std::string last_error_;
};

// FFmpeg error code to text.
std::string av_error_text(int err);

}  // namespace vidsift
